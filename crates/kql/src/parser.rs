//! A hand-written parser for Kibana's kuery grammar (`@kbn/es-query`, `grammar.peggy`).
//!
//! Kibana generates its parser with Peggy (a PEG parser generator). This parser follows the
//! grammar rule by rule, in the same order of alternatives, so that it accepts exactly the same
//! queries, and it reproduces Peggy's error reporting so that messages match Kibana's: the parser
//! remembers the furthest position at which a grammar element failed and what was expected
//! there; inside a *named* rule (`value`, `field name`, `literal`, `whitespace`, `AND`, `OR`,
//! `NOT`) only the rule's name is reported.
//!
//! The grammar, in short (`Space` is one of ` \t\r\n\u00A0`):
//!
//! ```text
//! start        = Space* OrQuery? Space*
//! OrQuery      = AndQuery (Or AndQuery)*            Or  = Space+ 'or'i Space+
//! AndQuery     = NotQuery (And NotQuery)*           And = Space+ 'and'i Space+
//! NotQuery     = Not SubQuery / SubQuery            Not = 'not'i Space+
//! SubQuery     = '(' Space* OrQuery Space* ')' / NestedQuery
//! NestedQuery  = Field Space* ':' Space* '{' Space* OrQuery Space* '}' / Expression
//! Expression   = Field Space* RangeOperator Space* Literal     (range)
//!              / Field Space* ':' Space* ListOfValues          (field value)
//!              / Value                                         (full text)
//! ListOfValues = '(' Space* OrListOfValues Space* ')' / Value
//! OrListOfValues, AndListOfValues, NotListOfValues: as for queries, over ListOfValues
//! Field = Literal;  Value = Literal = QuotedString / UnquotedLiteral
//! ```
//!
//! Unquoted literals may contain whitespace (trimmed at both ends) but stop before a special
//! character `\():<>"*{}` (a `*` is a wildcard) or a keyword (` or `, ` and `, `not `); escapes
//! are `\` + special character, `\t \r \n`, `\uXXXX` and `\or \and \not`. In quoted strings only
//! `\\`, `\"`, `\t \r \n` and `\uXXXX` are escapes.
//!
//! Like Peggy's, the parser backtracks; to keep it linear it parses `a (op b)*` lists once
//! instead of re-parsing the head when no operator follows (which reports the same
//! expectations). Nesting of parentheses and braces is capped at [`MAX_DEPTH`].

use crate::ast::{Literal, LiteralKind, Part, Query, QueryKind, RangeOp, Span, ValueQuery, ValueQueryKind};
use crate::error::ParseError;

/// The deepest nesting of parentheses and braces accepted (the parser and everything that walks
/// the tree recurse once per level).
pub const MAX_DEPTH: usize = 100;

/// Parses a KQL query.
///
/// The empty query (or whitespace only) is [`QueryKind::MatchAll`].
///
/// # Errors
/// A [`ParseError`] worded as Kibana's, e.g. `Expected "(", "{", value, whitespace but end of
/// input found.` for `response:`, or an error when nesting exceeds [`MAX_DEPTH`].
///
/// # Examples
/// ```
/// let q = kql::parse("a:1 or b:2 and not c:3").unwrap();
/// assert_eq!(q.to_string(), "(or (field a 1) (and (field b 2) (not (field c 3))))");
/// let e = kql::parse("foo:ba:r").unwrap_err();
/// assert_eq!(e.to_string(), "Expected AND, OR, end of input, whitespace but \":\" found.");
/// ```
pub fn parse(query: &str) -> Result<Query, ParseError> {
    let mut p = Parser {
        src: query,
        pos: 0,
        silent: 0,
        max_fail: 0,
        expected: Vec::new(),
        depth: 0,
        too_deep: None,
        keyword_free_until: 0,
    };
    p.spaces0();
    let q = p.or_query();
    p.spaces0();
    if let Some(at) = p.too_deep {
        return Err(ParseError {
            message: format!("KQL query is nested too deeply: more than {MAX_DEPTH} levels of parentheses or braces"),
            offset: at,
            expected: Vec::new(),
            found: query.get(at..).and_then(|s| s.chars().next()),
        });
    }
    if p.pos == query.len() {
        return Ok(q.unwrap_or(Query { kind: QueryKind::MatchAll, span: Span::new(0, query.len()) }));
    }
    p.fail(END);
    Err(p.error())
}

/// Peggy's description of the end of the input.
const END: &str = "end of input";

/// What Kibana's error messages call the named rules.
fn translate(description: &str) -> &str {
    match description {
        "fieldName" => "field name",
        other => other,
    }
}

/// The characters Kibana's grammar treats as whitespace between tokens.
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n' | '\u{a0}')
}

/// The characters JavaScript's `String.prototype.trim` removes.
fn is_js_whitespace(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}' | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}' | '\u{feff}'
    )
}

/// Characters that end an unquoted literal unless escaped.
fn is_special(c: char) -> bool {
    matches!(c, '\\' | '(' | ')' | ':' | '<' | '>' | '"' | '*' | '{' | '}')
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
    /// Inside a named rule or a lookahead: failures are not recorded.
    silent: u32,
    /// The furthest position where a failure was recorded.
    max_fail: usize,
    /// Raw descriptions of what was expected at `max_fail`.
    expected: Vec<&'static str>,
    depth: usize,
    /// Where nesting first exceeded [`MAX_DEPTH`]; from then on everything fails.
    too_deep: Option<usize>,
    /// Positions below this, in a run of whitespace, are known not to start a keyword.
    keyword_free_until: usize,
}

/// One character (or wildcard) of an unquoted literal, with where it was written.
struct Piece {
    /// `None` for a wildcard.
    ch: Option<char>,
    span: Span,
}

impl<'a> Parser<'a> {
    // ---- primitives ------------------------------------------------------------------------

    fn rest(&self) -> &'a str {
        self.src.get(self.pos..).unwrap_or("")
    }

    fn aborted(&self) -> bool {
        self.too_deep.is_some()
    }

    /// Records that `description` was expected at the current position (Peggy's `peg$fail`).
    fn fail(&mut self, description: &'static str) {
        if self.silent > 0 || self.pos < self.max_fail {
            return;
        }
        if self.pos > self.max_fail {
            self.max_fail = self.pos;
            self.expected.clear();
        }
        self.expected.push(description);
    }

    fn error(&self) -> ParseError {
        let mut raw = self.expected.clone();
        raw.sort_unstable();
        raw.dedup();
        let expected: Vec<String> = raw.iter().map(|d| translate(d).to_string()).collect();
        let found = self.src.get(self.max_fail..).and_then(|s| s.chars().next());
        let found_text = match found {
            Some(c) => format!("\"{c}\""),
            None => END.to_string(),
        };
        ParseError {
            message: format!("Expected {} but {found_text} found.", expected.join(", ")),
            offset: self.max_fail,
            expected,
            found,
        }
    }

    /// Matches the exact text `s` (`description` is how Peggy names it: `"\"(\""`).
    fn lit(&mut self, s: &str, description: &'static str) -> bool {
        if !self.aborted() && self.rest().starts_with(s) {
            self.pos += s.len();
            return true;
        }
        self.fail(description);
        false
    }

    /// Matches ASCII `s` case-insensitively (only used inside named rules, so never recorded),
    /// returning the text as written.
    fn lit_i(&mut self, s: &str) -> Option<&'a str> {
        let rest = self.rest();
        let head = rest.get(..s.len())?;
        if self.aborted() || !head.eq_ignore_ascii_case(s) {
            return None;
        }
        self.pos += s.len();
        Some(head)
    }

    /// Runs a named rule: failures inside are silent; a failure of the whole rule is recorded
    /// under its name, at its start.
    fn named<T>(&mut self, name: &'static str, body: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        let start = self.pos;
        self.silent += 1;
        let r = body(self);
        self.silent -= 1;
        if r.is_none() {
            self.pos = start;
            self.fail(name);
        }
        r
    }

    /// `Space` (named "whitespace").
    fn space(&mut self) -> bool {
        match self.rest().chars().next() {
            Some(c) if is_space(c) && !self.aborted() => {
                self.pos += c.len_utf8();
                true
            }
            _ => {
                self.fail("whitespace");
                false
            }
        }
    }

    /// `Space*`
    fn spaces0(&mut self) {
        while self.space() {}
    }

    /// `Space+`
    fn spaces1(&mut self) -> bool {
        if !self.space() {
            return false;
        }
        self.spaces0();
        true
    }

    /// `Or = Space+ 'or'i Space+` (named "OR").
    fn or_keyword(&mut self) -> bool {
        self.named("OR", |p| (p.spaces1() && p.lit_i("or").is_some() && p.spaces1()).then_some(())).is_some()
    }

    /// `And = Space+ 'and'i Space+` (named "AND").
    fn and_keyword(&mut self) -> bool {
        self.named("AND", |p| (p.spaces1() && p.lit_i("and").is_some() && p.spaces1()).then_some(())).is_some()
    }

    /// `Not = 'not'i Space+` (named "NOT").
    fn not_keyword(&mut self) -> bool {
        self.named("NOT", |p| (p.lit_i("not").is_some() && p.spaces1()).then_some(())).is_some()
    }

    /// The lookahead `&Keyword`: does `or`, `and` or `not` (with their whitespace) start here?
    fn at_keyword(&mut self) -> bool {
        let start = self.pos;
        let first = self.rest().chars().next();
        let in_known_free_run = first.is_some_and(is_space) && start < self.keyword_free_until;
        if in_known_free_run {
            return false;
        }
        self.silent += 1;
        let found = self.or_keyword()
            || {
                self.pos = start;
                self.and_keyword()
            }
            || {
                self.pos = start;
                self.not_keyword()
            };
        self.silent -= 1;
        self.pos = start;
        if !found && first.is_some_and(is_space) {
            // Every position of this whitespace run leads to the same text after it, so none
            // starts a keyword: remember that, to stay linear on long runs of spaces.
            let run = self.rest().find(|c: char| !is_space(c)).unwrap_or(self.rest().len());
            self.keyword_free_until = start + run;
        }
        found
    }

    /// Tracks nesting; false (and everything fails from then on) beyond [`MAX_DEPTH`].
    fn enter(&mut self, at: usize) -> bool {
        self.depth += 1;
        if self.depth > MAX_DEPTH && self.too_deep.is_none() {
            self.too_deep = Some(at);
        }
        !self.aborted()
    }

    /// `open Space* inner Space* close`, restoring the position on failure.
    fn group<T>(
        &mut self,
        open: (&str, &'static str),
        close: (&str, &'static str),
        inner: impl FnOnce(&mut Self) -> Option<T>,
    ) -> Option<(T, Span)> {
        let start = self.pos;
        if !self.lit(open.0, open.1) {
            return None;
        }
        let mut out = None;
        if self.enter(start) {
            self.spaces0();
            if let Some(v) = inner(self) {
                self.spaces0();
                if self.lit(close.0, close.1) {
                    out = Some((v, Span::new(start, self.pos)));
                }
            }
        }
        self.depth -= 1;
        if out.is_none() {
            self.pos = start;
        }
        out
    }

    // ---- queries ---------------------------------------------------------------------------

    /// `OrQuery = AndQuery (Or AndQuery)*`
    fn or_query(&mut self) -> Option<Query> {
        let items = self.separated(Self::and_query, Self::or_keyword)?;
        Some(combine(items, QueryKind::Or))
    }

    /// `AndQuery = NotQuery (And NotQuery)*`
    fn and_query(&mut self) -> Option<Query> {
        let items = self.separated(Self::not_query, Self::and_keyword)?;
        Some(combine(items, QueryKind::And))
    }

    /// `item (separator item)*`
    fn separated<T>(&mut self, item: fn(&mut Self) -> Option<T>, separator: fn(&mut Self) -> bool) -> Option<Vec<T>> {
        let mut items = vec![item(self)?];
        loop {
            let save = self.pos;
            if !separator(self) {
                break;
            }
            match item(self) {
                Some(q) => items.push(q),
                None => {
                    self.pos = save;
                    break;
                }
            }
        }
        Some(items)
    }

    /// `NotQuery = Not SubQuery / SubQuery`
    fn not_query(&mut self) -> Option<Query> {
        let start = self.pos;
        if self.not_keyword() {
            if let Some(q) = self.sub_query() {
                let span = Span::new(start, q.span.end);
                return Some(Query { kind: QueryKind::Not(Box::new(q)), span });
            }
            self.pos = start;
        }
        self.sub_query()
    }

    /// `SubQuery = '(' Space* OrQuery Space* ')' / NestedQuery`
    fn sub_query(&mut self) -> Option<Query> {
        if let Some((mut q, span)) = self.group(("(", "\"(\""), (")", "\")\""), Self::or_query) {
            q.span = span;
            return Some(q);
        }
        self.nested_query()
    }

    /// `NestedQuery = Field Space* ':' Space* '{' Space* OrQuery Space* '}' / Expression`
    fn nested_query(&mut self) -> Option<Query> {
        let start = self.pos;
        if let Some(path) = self.field() {
            self.spaces0();
            if self.lit(":", "\":\"") {
                self.spaces0();
                if let Some((q, span)) = self.group(("{", "\"{\""), ("}", "\"}\""), Self::or_query) {
                    let kind = QueryKind::Nested { path, query: Box::new(q) };
                    return Some(Query { kind, span: Span::new(start, span.end) });
                }
            }
        }
        self.pos = start;
        self.expression()
    }

    /// `Expression = FieldRangeExpression / FieldValueExpression / ValueExpression`
    fn expression(&mut self) -> Option<Query> {
        let start = self.pos;
        if let Some(field) = self.field() {
            self.spaces0();
            if let Some(op) = self.range_operator() {
                self.spaces0();
                if let Some(value) = self.literal() {
                    let span = Span::new(start, value.span.end.max(start));
                    return Some(Query { kind: QueryKind::Range { field, op, value }, span });
                }
            }
        }
        self.pos = start;
        if let Some(field) = self.field() {
            self.spaces0();
            if self.lit(":", "\":\"") {
                self.spaces0();
                if let Some(value) = self.list_of_values() {
                    let span = Span::new(start, value.span.end.max(start));
                    return Some(Query { kind: QueryKind::Field { field, value }, span });
                }
            }
        }
        self.pos = start;
        let value = self.value()?;
        let span = value.span;
        Some(Query { kind: QueryKind::Value(value), span })
    }

    /// `RangeOperator = '<=' / '>=' / '<' / '>'`
    fn range_operator(&mut self) -> Option<RangeOp> {
        if self.lit("<=", "\"<=\"") {
            return Some(RangeOp::Lte);
        }
        if self.lit(">=", "\">=\"") {
            return Some(RangeOp::Gte);
        }
        if self.lit("<", "\"<\"") {
            return Some(RangeOp::Lt);
        }
        if self.lit(">", "\">\"") {
            return Some(RangeOp::Gt);
        }
        None
    }

    // ---- value lists -----------------------------------------------------------------------

    /// `ListOfValues = '(' Space* OrListOfValues Space* ')' / Value`
    fn list_of_values(&mut self) -> Option<ValueQuery> {
        if let Some((mut v, span)) = self.group(("(", "\"(\""), (")", "\")\""), Self::or_list) {
            v.span = span;
            return Some(v);
        }
        let value = self.value()?;
        let span = value.span;
        Some(ValueQuery { kind: ValueQueryKind::Value(value), span })
    }

    /// `OrListOfValues = AndListOfValues (Or AndListOfValues)*`
    fn or_list(&mut self) -> Option<ValueQuery> {
        let items = self.separated(Self::and_list, Self::or_keyword)?;
        Some(combine_values(items, ValueQueryKind::Or))
    }

    /// `AndListOfValues = NotListOfValues (And NotListOfValues)*`
    fn and_list(&mut self) -> Option<ValueQuery> {
        let items = self.separated(Self::not_list, Self::and_keyword)?;
        Some(combine_values(items, ValueQueryKind::And))
    }

    /// `NotListOfValues = Not ListOfValues / ListOfValues`
    fn not_list(&mut self) -> Option<ValueQuery> {
        let start = self.pos;
        if self.not_keyword() {
            if let Some(v) = self.list_of_values() {
                let span = Span::new(start, v.span.end);
                return Some(ValueQuery { kind: ValueQueryKind::Not(Box::new(v)), span });
            }
            self.pos = start;
        }
        self.list_of_values()
    }

    // ---- literals --------------------------------------------------------------------------

    /// `Field "fieldName" = Literal`
    fn field(&mut self) -> Option<Literal> {
        self.named("fieldName", Self::literal)
    }

    /// `Literal "literal" = QuotedString / UnquotedLiteral`
    fn literal(&mut self) -> Option<Literal> {
        self.named("literal", |p| p.quoted_string().or_else(|| p.unquoted_literal()))
    }

    /// `Value "value" = QuotedString / UnquotedLiteral`
    fn value(&mut self) -> Option<Literal> {
        self.named("value", |p| p.quoted_string().or_else(|| p.unquoted_literal()))
    }

    /// `'"' QuotedCharacter* '"'`
    fn quoted_string(&mut self) -> Option<Literal> {
        let start = self.pos;
        if !self.lit("\"", "\"\\\"\"") {
            return None;
        }
        let mut text = String::new();
        while let Some(c) = self.quoted_character() {
            text.push(c);
        }
        if !self.lit("\"", "\"\\\"\"") {
            self.pos = start;
            return None;
        }
        Some(Literal { kind: LiteralKind::Quoted(text), span: Span::new(start, self.pos) })
    }

    /// `QuotedCharacter = EscapedWhitespace / EscapedUnicodeSequence / '\\' [\\"] / [^"]`
    fn quoted_character(&mut self) -> Option<char> {
        if self.aborted() {
            return None;
        }
        let rest = self.rest();
        if let Some(c) = escaped_whitespace(rest) {
            self.pos += 2;
            return Some(c);
        }
        if let Some((c, n)) = escaped_unicode(rest) {
            self.pos += n;
            return Some(c);
        }
        if let Some(c) = rest.strip_prefix('\\').and_then(|r| r.chars().next()).filter(|c| matches!(c, '\\' | '"')) {
            self.pos += 2;
            return Some(c);
        }
        let c = rest.chars().next().filter(|c| *c != '"')?;
        self.pos += c.len_utf8();
        Some(c)
    }

    /// `UnquotedCharacter+`, trimmed as JavaScript's `trim` does.
    fn unquoted_literal(&mut self) -> Option<Literal> {
        let start = self.pos;
        let mut pieces: Vec<Piece> = Vec::new();
        while self.unquoted_character(&mut pieces) {}
        if pieces.is_empty() {
            self.pos = start;
            return None;
        }
        let is_blank = |p: &Piece| p.ch.is_some_and(is_js_whitespace);
        let first = pieces.iter().position(|p| !is_blank(p));
        let last = pieces.iter().rposition(|p| !is_blank(p));
        let (parts, span) = match (first, last) {
            (Some(a), Some(b)) => {
                let kept = &pieces[a..=b];
                let span = Span::new(kept[0].span.start, kept[kept.len() - 1].span.end);
                (merge(kept), span)
            }
            _ => (Vec::new(), Span::new(start, start)),
        };
        Some(Literal { kind: LiteralKind::Unquoted(parts), span })
    }

    /// One `UnquotedCharacter`:
    /// `EscapedWhitespace / EscapedSpecialCharacter / EscapedUnicodeSequence / EscapedKeyword /
    /// Wildcard / !SpecialCharacter !Keyword .`
    fn unquoted_character(&mut self, out: &mut Vec<Piece>) -> bool {
        if self.aborted() {
            return false;
        }
        let start = self.pos;
        let rest = self.rest();
        let mut push = |p: &mut Self, ch: Option<char>, len: usize| {
            p.pos += len;
            out.push(Piece { ch, span: Span::new(start, p.pos) });
        };
        if let Some(c) = escaped_whitespace(rest) {
            push(self, Some(c), 2);
            return true;
        }
        if let Some(c) = rest.strip_prefix('\\').and_then(|r| r.chars().next()).filter(|c| is_special(*c)) {
            push(self, Some(c), 1 + c.len_utf8());
            return true;
        }
        if let Some((c, n)) = escaped_unicode(rest) {
            push(self, Some(c), n);
            return true;
        }
        if let Some(after) = rest.strip_prefix('\\') {
            for kw in ["or", "and", "not"] {
                if let Some(word) = after.get(..kw.len()).filter(|w| w.eq_ignore_ascii_case(kw)) {
                    self.pos += 1 + kw.len();
                    for c in word.chars() {
                        out.push(Piece { ch: Some(c), span: Span::new(start, self.pos) });
                    }
                    return true;
                }
            }
        }
        let Some(c) = rest.chars().next() else { return false };
        if c == '*' {
            push(self, None, 1);
            return true;
        }
        if is_special(c) || self.at_keyword() {
            return false;
        }
        push(self, Some(c), c.len_utf8());
        true
    }
}

/// `\t`, `\r`, `\n` escapes.
fn escaped_whitespace(s: &str) -> Option<char> {
    match s.get(..2)? {
        "\\t" => Some('\t'),
        "\\r" => Some('\r'),
        "\\n" => Some('\n'),
        _ => None,
    }
}

/// `\uXXXX` (a UTF-16 code unit, as JavaScript's `String.fromCharCode`): the character and the
/// number of bytes consumed. A surrogate pair written as two escapes is one character; a lone
/// surrogate, which Rust strings cannot hold, becomes U+FFFD.
fn escaped_unicode(s: &str) -> Option<(char, usize)> {
    let unit = |s: &str| -> Option<u32> {
        let hex = s.strip_prefix("\\u")?.get(..4)?;
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(hex, 16).ok()
    };
    let first = unit(s)?;
    if (0xd800..0xdc00).contains(&first)
        && let Some(second) = s.get(6..).and_then(unit).filter(|u| (0xdc00..0xe000).contains(u))
    {
        let c = 0x10000 + ((first - 0xd800) << 10) + (second - 0xdc00);
        return Some((char::from_u32(c).unwrap_or('\u{fffd}'), 12));
    }
    Some((char::from_u32(first).unwrap_or('\u{fffd}'), 6))
}

/// Joins pieces into text runs and wildcards.
fn merge(pieces: &[Piece]) -> Vec<Part> {
    let mut parts: Vec<Part> = Vec::new();
    for p in pieces {
        match p.ch {
            None => parts.push(Part::Wildcard),
            Some(c) => match parts.last_mut() {
                Some(Part::Text(t)) => t.push(c),
                _ => parts.push(Part::Text(c.to_string())),
            },
        }
    }
    parts
}

fn combine(mut items: Vec<Query>, make: fn(Vec<Query>) -> QueryKind) -> Query {
    if items.len() == 1 {
        return items.pop().expect("invariant: one item");
    }
    let span = items[0].span.to(items[items.len() - 1].span);
    Query { kind: make(items), span }
}

fn combine_values(mut items: Vec<ValueQuery>, make: fn(Vec<ValueQuery>) -> ValueQueryKind) -> ValueQuery {
    if items.len() == 1 {
        return items.pop().expect("invariant: one item");
    }
    let span = items[0].span.to(items[items.len() - 1].span);
    ValueQuery { kind: make(items), span }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::Keyword;

    fn p(q: &str) -> String {
        match parse(q) {
            Ok(t) => t.to_string(),
            Err(e) => panic!("{q}: {e}"),
        }
    }

    fn err(q: &str) -> String {
        match parse(q) {
            Ok(t) => panic!("{q} parsed as {t}"),
            Err(e) => e.render(q),
        }
    }

    #[test]
    fn field_value() {
        assert_eq!(p("host.name:web01"), "(field host.name web01)");
        assert_eq!(p("  host.name :  web01  "), "(field host.name web01)");
        assert_eq!(p("\"quoted.field\":x"), "(field \"quoted.field\" x)");
        assert_eq!(p("response:200"), "(field response 200)");
    }

    #[test]
    fn empty_query_matches_all() {
        assert_eq!(p(""), "(match_all)");
        assert_eq!(p("   "), "(match_all)");
    }

    #[test]
    fn value_lists() {
        assert_eq!(p("a:(x or y)"), "(field a (or x y))");
        assert_eq!(p("a:(x or y and z)"), "(field a (or x (and y z)))");
        assert_eq!(p("a:( x )"), "(field a x)");
        assert_eq!(p("a:(not x)"), "(field a (not x))");
        // `not` in value position needs parentheses, as in Kibana's grammar.
        assert!(parse("a:not x").is_err());
        assert_eq!(p("a:((x or y) and not (z))"), "(field a (and (or x y) (not z)))");
        assert_eq!(p("a:(\"x y\" or z*)"), "(field a (or \"x y\" z*))");
    }

    #[test]
    fn precedence_not_and_or() {
        assert_eq!(p("a:1 or b:2 and c:3"), "(or (field a 1) (and (field b 2) (field c 3)))");
        assert_eq!(p("a:1 and b:2 or c:3"), "(or (and (field a 1) (field b 2)) (field c 3))");
        assert_eq!(p("not a:1 and b:2"), "(and (not (field a 1)) (field b 2))");
        assert_eq!(p("not (a:1 or b:2)"), "(not (or (field a 1) (field b 2)))");
        assert_eq!(p("(a:1 or b:2) and c:3"), "(and (or (field a 1) (field b 2)) (field c 3))");
        assert_eq!(p("a:1 or b:2 or c:3"), "(or (field a 1) (field b 2) (field c 3))");
    }

    #[test]
    fn keywords_are_case_insensitive() {
        assert_eq!(p("a:1 OR b:2 AnD NOT c:3"), "(or (field a 1) (and (field b 2) (not (field c 3))))");
        assert_eq!(p("a:(x Or y)"), "(field a (or x y))");
    }

    #[test]
    fn quoted_phrases_keep_stars_and_resolve_escapes() {
        let q = parse("a:\"x * y\"").unwrap();
        let QueryKind::Field { value, .. } = q.kind else { panic!() };
        let ValueQueryKind::Value(l) = value.kind else { panic!() };
        assert_eq!(l.kind, LiteralKind::Quoted("x * y".into()));
        assert!(!l.has_wildcard());
        let q = parse(r#"a:"C:\Program Files\x \"q\" \\ \t \u0041""#).unwrap();
        assert_eq!(field_literal(&q).text(), "C:\\Program Files\\x \"q\" \\ \t A");
    }

    fn field_literal(q: &Query) -> &Literal {
        match &q.kind {
            QueryKind::Field { value: ValueQuery { kind: ValueQueryKind::Value(l), .. }, .. } => l,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unquoted_wildcards_and_escapes() {
        let q = parse(r"a:*foo\*bar*").unwrap();
        let l = field_literal(&q);
        assert_eq!(l.kind, LiteralKind::Unquoted(vec![Part::Wildcard, Part::Text("foo*bar".into()), Part::Wildcard]));
        let q = parse(r"a:C\:\\Windows\\\(x86\)").unwrap();
        assert_eq!(field_literal(&q).text(), r"C:\Windows\(x86)");
        let q = parse(r"a:\<\>\{\}\\\t\n").unwrap();
        assert_eq!(field_literal(&q).text(), "<>{}\\");
        let q = parse(r"a:x\and\OR\not").unwrap();
        // `\n` is a whitespace escape before it is an escaped keyword, as in Kibana's grammar.
        assert_eq!(field_literal(&q).text(), "xandOR\not");
        let q = parse(r"a:\NOT").unwrap();
        assert_eq!(field_literal(&q).text(), "NOT");
        let q = parse(r"a:\u00e9t\u00E9").unwrap();
        assert_eq!(field_literal(&q).text(), "été");
    }

    #[test]
    fn unquoted_values_may_hold_spaces() {
        let q = parse("a:  hello   world  ").unwrap();
        assert_eq!(field_literal(&q).text(), "hello   world");
        assert_eq!(field_literal(&q).span, Span::new(4, 17));
        assert_eq!(p("a:(* curl* or x)"), "(field a (or * curl* x))");
        // A keyword ends the value; `cannot x` stops before `not `.
        assert_eq!(p("a:x and y"), "(and (field a x) (value y))");
        assert!(parse("a:cannot x").is_err());
        assert_eq!(p("a:cannot"), "(field a cannot)");
        assert_eq!(p("a:order"), "(field a order)");
        assert_eq!(p("a:x orb"), "(field a x orb)");
    }

    #[test]
    fn special_words() {
        let q = parse("a:null").unwrap();
        assert_eq!(field_literal(&q).keyword(), Some(Keyword::Null));
        let q = parse("a:\"true\"").unwrap();
        assert_eq!(field_literal(&q).keyword(), None);
        let q = parse("a:false").unwrap();
        assert_eq!(field_literal(&q).keyword(), Some(Keyword::False));
    }

    #[test]
    fn ranges() {
        assert_eq!(p("bytes > 10"), "(range bytes > 10)");
        assert_eq!(p("bytes>=10"), "(range bytes >= 10)");
        assert_eq!(p("bytes <10"), "(range bytes < 10)");
        assert_eq!(p("bytes <= \"10\""), "(range bytes <= \"10\")");
        assert_eq!(p("@timestamp < now-1d/d"), "(range @timestamp < now-1d/d)");
        assert_eq!(p("a >= 1 and a < 5"), "(and (range a >= 1) (range a < 5))");
    }

    #[test]
    fn exists() {
        let q = parse("a:*").unwrap();
        assert!(field_literal(&q).is_lone_wildcard());
        assert_eq!(p("a: * and b:x"), "(and (field a *) (field b x))");
    }

    #[test]
    fn nested_queries() {
        assert_eq!(p("items:{ name:x and price > 5 }"), "(nested items (and (field name x) (range price > 5)))");
        assert_eq!(p("a:{b:{c:1}}"), "(nested a (nested b (field c 1)))");
    }

    #[test]
    fn bare_values_and_wildcard_fields() {
        assert_eq!(p("hello"), "(value hello)");
        assert_eq!(p("\"hello world\""), "(value \"hello world\")");
        assert_eq!(p("hello world"), "(value hello world)");
        assert_eq!(p("source.*:10.0.0.1"), "(field source.* 10.0.0.1)");
        let q = parse("source.*:x").unwrap();
        let QueryKind::Field { field, .. } = &q.kind else { panic!() };
        assert!(field.has_wildcard());
    }

    #[test]
    fn spans() {
        let src = "a:1 and not (b:x or c:y)";
        let q = parse(src).unwrap();
        assert_eq!(q.span, Span::new(0, src.len()));
        let QueryKind::And(items) = &q.kind else { panic!() };
        assert_eq!(items[0].span.text(src), "a:1");
        assert_eq!(items[1].span.text(src), "not (b:x or c:y)");
        let QueryKind::Not(inner) = &items[1].kind else { panic!() };
        assert_eq!(inner.span.text(src), "(b:x or c:y)");
        let src = "f : \"x y\"";
        let q = parse(src).unwrap();
        assert_eq!(field_literal(&q).span.text(src), "\"x y\"");
    }

    #[test]
    fn kibana_error_messages() {
        assert_eq!(
            err("response:"),
            "Expected \"(\", \"{\", value, whitespace but end of input found.\nresponse:\n---------^"
        );
        assert_eq!(
            err("response:200 or "),
            "Expected \"(\", NOT, field name, value but end of input found.\nresponse:200 or \n----------------^"
        );
        assert_eq!(
            err("response:(200 or )"),
            "Expected \"(\", NOT, value but \")\" found.\nresponse:(200 or )\n-----------------^"
        );
        assert_eq!(
            err("response:200 and not "),
            "Expected \"(\", field name, value but end of input found.\nresponse:200 and not \n---------------------^"
        );
        assert_eq!(
            err("response:(200 and not )"),
            "Expected \"(\", value but \")\" found.\nresponse:(200 and not )\n----------------------^"
        );
        assert_eq!(err("foo:\"ba "), "Expected \"(\", \"{\", value, whitespace but \"\"\" found.\nfoo:\"ba \n----^");
        assert_eq!(
            err("foo:\"ba \"r\""),
            "Expected AND, OR, end of input, whitespace but \"r\" found.\nfoo:\"ba \"r\"\n---------^"
        );
        assert_eq!(err("foo:ba:r"), "Expected AND, OR, end of input, whitespace but \":\" found.\nfoo:ba:r\n------^");
        assert_eq!(err("foo > "), "Expected literal, whitespace but end of input found.\nfoo > \n------^");
        assert_eq!(
            err("< 1000"),
            "Expected \"(\", NOT, end of input, field name, value, whitespace but \"<\" found.\n< 1000\n^"
        );
        assert_eq!(
            parse("response:200 )").unwrap_err().to_string(),
            "Expected AND, OR, end of input, whitespace but \")\" found."
        );
    }

    #[test]
    fn error_positions() {
        let e = parse("a:(x or y").unwrap_err();
        assert_eq!(e.offset, 9);
        assert_eq!(e.found, None);
        let e = parse("a:x)").unwrap_err();
        assert_eq!(e.offset, 3);
        assert_eq!(e.found, Some(')'));
        assert!(parse(r"a:C:\x").is_err());
        assert!(parse("not not a:1").is_err());
        assert!(parse("a:{b:1").is_err());
    }

    #[test]
    fn nesting_is_capped() {
        let ok = format!("{}a:1{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert!(parse(&ok).is_ok());
        let deep = format!("{}a:1{}", "(".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
        let e = parse(&deep).unwrap_err();
        assert!(e.message.contains("nested too deeply"), "{e}");
        let deep = format!("a:{}x{}", "(".repeat(100_000), ")".repeat(100_000));
        assert!(parse(&deep).is_err());
        let deep = "a:{".repeat(50_000);
        assert!(parse(&deep).is_err());
    }

    #[test]
    fn long_inputs_stay_fast() {
        let many = (0..20_000).map(|i| format!("f:v{i}")).collect::<Vec<_>>().join(" or ");
        let q = parse(&many).unwrap();
        let QueryKind::Or(items) = q.kind else { panic!() };
        assert_eq!(items.len(), 20_000);
        let spaces = format!("a:x{}y", " ".repeat(200_000));
        assert!(parse(&spaces).is_ok());
    }

    #[test]
    fn never_panics_on_odd_input() {
        for q in [
            "\\",
            "\"",
            "\\u",
            "\\u12",
            "a:\\uD83D\\uDE00",
            "a:\\uD800",
            "é:ü",
            "(",
            ")",
            "{",
            "}",
            "a:",
            ":",
            "a<",
            "a:(",
            "a:((",
            "*",
            "**:*",
            "\u{a0}a\u{a0}:\u{a0}b",
            "a:\u{2003}",
            "a:\\t",
            "not",
            "not ",
            "a: or",
            "or",
            "and b",
        ] {
            let _ = parse(q);
        }
        let q = parse("a:\\uD83D\\uDE00").unwrap();
        assert_eq!(field_literal(&q).text(), "😀");
        let q = parse("a:\\t").unwrap();
        assert_eq!(field_literal(&q).kind, LiteralKind::Unquoted(vec![]));
    }
}
