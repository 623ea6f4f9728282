//! A mode-aware ES|QL lexer.
//!
//! Elasticsearch's ANTLR lexer switches modes depending on the command keyword: `FROM` lexes
//! index patterns ("unquoted sources"), `KEEP`/`DROP`/`RENAME` lex name patterns that may contain
//! `*`, `ENRICH` lexes policy names, and most other commands lex expressions. This lexer offers
//! the same modes; the parser picks the mode for each command and asks for that command's tokens
//! up to the next `|`.
//!
//! Lexing errors are recorded as `token recognition error at: '...'` diagnostics (ANTLR's wording)
//! and the offending character is skipped, so lexing always makes progress and never panics.

use crate::diagnostic::Diagnostic;
use crate::span::Span;

/// Token kinds. The declaration order follows Elasticsearch's token numbering, which is the order
/// ANTLR lists expected tokens in error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub(crate) enum Tok {
    /// End of input.
    Eof,
    /// `|`
    Pipe,
    /// `"..."` or `"""..."""` (the token text keeps the quotes).
    QuotedString,
    /// `123`
    Integer,
    /// `1.5`, `.5`, `1e3`
    Decimal,
    And,
    As,
    Asc,
    /// `=`
    Assign,
    By,
    /// `::`
    CastOp,
    /// `:`
    Colon,
    /// `;`
    Semicolon,
    /// `,`
    Comma,
    Desc,
    /// `.`
    Dot,
    False,
    First,
    In,
    Is,
    Last,
    Like,
    Not,
    Null,
    Nulls,
    On,
    Or,
    /// `?`
    Param,
    Rlike,
    True,
    With,
    Where,
    /// `==`
    Eq,
    /// `=~`
    CiEq,
    /// `!=`
    Neq,
    /// `<`
    Lt,
    /// `<=`
    Lte,
    /// `>`
    Gt,
    /// `>=`
    Gte,
    /// `+`
    Plus,
    /// `-`
    Minus,
    /// `*`
    Asterisk,
    /// `/`
    Slash,
    /// `%`
    Percent,
    /// `{`
    LBrace,
    /// `}`
    RBrace,
    /// `??`
    DoubleParams,
    /// `?name`, `?1`
    NamedParam,
    /// `??name`, `??1`
    NamedDoubleParams,
    /// `[`
    LBracket,
    /// `]`
    RBracket,
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `abc`, `_x`, `@timestamp`
    UnquotedIdent,
    /// `` `a b` ``
    QuotedIdent,
    /// `join` (in `LOOKUP JOIN`)
    Join,
    /// `metadata` (in `FROM`)
    Metadata,
    /// An index pattern in `FROM` / `LOOKUP JOIN`.
    UnquotedSource,
    /// A name pattern in `KEEP`, `DROP`, `RENAME`, `ENRICH ... ON/WITH`.
    IdPattern,
    /// An `ENRICH` policy name, possibly with a `_mode:` prefix.
    PolicyName,
}

impl Tok {
    /// The name ANTLR shows for this token in `expecting ...` lists.
    pub(crate) fn display(self) -> &'static str {
        match self {
            Tok::Eof => "<EOF>",
            Tok::Pipe => "'|'",
            Tok::QuotedString => "QUOTED_STRING",
            Tok::Integer => "INTEGER_LITERAL",
            Tok::Decimal => "DECIMAL_LITERAL",
            Tok::And => "'and'",
            Tok::As => "'as'",
            Tok::Asc => "'asc'",
            Tok::Assign => "'='",
            Tok::By => "'by'",
            Tok::CastOp => "'::'",
            Tok::Colon => "':'",
            Tok::Semicolon => "';'",
            Tok::Comma => "','",
            Tok::Desc => "'desc'",
            Tok::Dot => "'.'",
            Tok::False => "'false'",
            Tok::First => "'first'",
            Tok::In => "'in'",
            Tok::Is => "'is'",
            Tok::Last => "'last'",
            Tok::Like => "'like'",
            Tok::Not => "'not'",
            Tok::Null => "'null'",
            Tok::Nulls => "'nulls'",
            Tok::On => "'on'",
            Tok::Or => "'or'",
            Tok::Param => "'?'",
            Tok::Rlike => "'rlike'",
            Tok::True => "'true'",
            Tok::With => "'with'",
            Tok::Where => "'where'",
            Tok::Eq => "'=='",
            Tok::CiEq => "'=~'",
            Tok::Neq => "'!='",
            Tok::Lt => "'<'",
            Tok::Lte => "'<='",
            Tok::Gt => "'>'",
            Tok::Gte => "'>='",
            Tok::Plus => "'+'",
            Tok::Minus => "'-'",
            Tok::Asterisk => "'*'",
            Tok::Slash => "'/'",
            Tok::Percent => "'%'",
            Tok::LBrace => "'{'",
            Tok::RBrace => "'}'",
            Tok::DoubleParams => "'??'",
            Tok::NamedParam => "NAMED_OR_POSITIONAL_PARAM",
            Tok::NamedDoubleParams => "NAMED_OR_POSITIONAL_DOUBLE_PARAMS",
            Tok::LBracket => "'['",
            Tok::RBracket => "']'",
            Tok::LParen => "'('",
            Tok::RParen => "')'",
            Tok::UnquotedIdent => "UNQUOTED_IDENTIFIER",
            Tok::QuotedIdent => "QUOTED_IDENTIFIER",
            Tok::Join => "'join'",
            Tok::Metadata => "'metadata'",
            Tok::UnquotedSource => "UNQUOTED_SOURCE",
            Tok::IdPattern => "ID_PATTERN",
            Tok::PolicyName => "ENRICH_POLICY_NAME",
        }
    }

    /// True for the keyword tokens of expression mode (words that are not identifiers there).
    pub(crate) fn is_keyword(self) -> bool {
        matches!(
            self,
            Tok::And
                | Tok::As
                | Tok::Asc
                | Tok::By
                | Tok::Desc
                | Tok::False
                | Tok::First
                | Tok::In
                | Tok::Is
                | Tok::Last
                | Tok::Like
                | Tok::Not
                | Tok::Null
                | Tok::Nulls
                | Tok::On
                | Tok::Or
                | Tok::Rlike
                | Tok::True
                | Tok::With
                | Tok::Where
                | Tok::Join
                | Tok::Metadata
        )
    }
}

/// The keywords of expression mode.
const EXPRESSION_KEYWORDS: &[(&str, Tok)] = &[
    ("and", Tok::And),
    ("as", Tok::As),
    ("asc", Tok::Asc),
    ("by", Tok::By),
    ("desc", Tok::Desc),
    ("false", Tok::False),
    ("first", Tok::First),
    ("in", Tok::In),
    ("is", Tok::Is),
    ("last", Tok::Last),
    ("like", Tok::Like),
    ("not", Tok::Not),
    ("null", Tok::Null),
    ("nulls", Tok::Nulls),
    ("on", Tok::On),
    ("or", Tok::Or),
    ("rlike", Tok::Rlike),
    ("true", Tok::True),
    ("with", Tok::With),
    ("where", Tok::Where),
];

/// One token: its kind and where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token {
    /// What it is.
    pub kind: Tok,
    /// Where it is.
    pub span: Span,
}

/// Lexer modes, after Elasticsearch's lexer modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Expressions (`WHERE`, `EVAL`, `STATS`, `ROW`, `SORT`, ...).
    Expression,
    /// `FROM` index patterns.
    From,
    /// `KEEP` / `DROP` name patterns.
    Project,
    /// `RENAME` name patterns with `AS` and `=`.
    Rename,
    /// `ENRICH` before `ON` / `WITH`: policy names.
    EnrichPolicy,
    /// `ENRICH` after `ON` / `WITH`: name patterns with `=` and `WITH`.
    EnrichField,
    /// `MV_EXPAND` field names (no keywords).
    MvExpand,
    /// `LOOKUP JOIN` before `ON`: index patterns and `join`.
    Join,
}

/// ANTLR's rendering of offending text: newlines, carriage returns and tabs escaped.
pub(crate) fn error_display(text: &str) -> String {
    text.replace('\n', "\\n").replace('\r', "\\r").replace('\t', "\\t")
}

fn is_letter(b: u8) -> bool {
    b.is_ascii_alphabetic()
}

fn is_id_body(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The lexer: a cursor over the query text plus the lexing errors found so far.
pub(crate) struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    /// Remaining work for nested block-comment scans (see [`Lexer::block_comment_end`]).
    nest_budget: usize,
    /// No `*/` occurs at or after this offset.
    no_close_from: Option<usize>,
    /// `token recognition error` diagnostics.
    pub errors: Vec<Diagnostic>,
}

impl<'a> Lexer<'a> {
    /// A lexer at the start of `src`.
    pub(crate) fn new(src: &'a str) -> Lexer<'a> {
        Lexer {
            src,
            bytes: src.as_bytes(),
            pos: 0,
            nest_budget: src.len().saturating_mul(8).saturating_add(4096),
            no_close_from: None,
            errors: Vec::new(),
        }
    }

    /// The current byte offset.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// True at the end of the input.
    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    fn byte(&self, at: usize) -> Option<u8> {
        self.bytes.get(at).copied()
    }

    fn starts_with(&self, at: usize, s: &str) -> bool {
        self.bytes.get(at..).is_some_and(|rest| rest.starts_with(s.as_bytes()))
    }

    /// The byte length of the character at `at` (1 for ASCII or out of range).
    fn char_len(&self, at: usize) -> usize {
        self.src.get(at..).and_then(|s| s.chars().next()).map(char::len_utf8).unwrap_or(1)
    }

    fn text(&self, start: usize, end: usize) -> &'a str {
        self.src.get(start..end).unwrap_or("")
    }

    /// Records `token recognition error at: '<text>'` for `start..end` and moves past it.
    fn recognition_error(&mut self, start: usize, end: usize) {
        let end = end.min(self.bytes.len()).max(start);
        let text = error_display(self.text(start, end));
        self.errors.push(Diagnostic::parsing(Span::new(start, end), format!("token recognition error at: '{text}'")));
        self.pos = end;
    }

    /// Records a recognition error for the single character at the cursor and skips it.
    fn bad_char(&mut self) {
        let start = self.pos;
        let end = start + self.char_len(start);
        self.recognition_error(start, end);
    }

    /// The end of a `/* ... */` comment starting at `start`, if it is closed. Comments nest; when
    /// the nesting is unbalanced, ANTLR falls back to the shortest match, up to the first `*/`.
    ///
    /// The nested scan can run to the end of the input, so its total work is bounded by a budget
    /// proportional to the input length (beyond it, only the first `*/` is looked for), and the
    /// absence of any later `*/` is remembered: lexing stays linear on adversarial input.
    fn block_comment_end(&mut self, start: usize) -> Option<usize> {
        let body = start + 2;
        if self.no_close_from.is_some_and(|from| body >= from) {
            return None;
        }
        let mut depth = 0usize;
        let mut i = start;
        while i < self.bytes.len() && self.nest_budget > 0 {
            self.nest_budget -= 1;
            if self.starts_with(i, "/*") {
                depth += 1;
                i += 2;
            } else if self.starts_with(i, "*/") {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return Some(i);
                }
            } else {
                i += 1;
            }
        }
        match self.src.get(body..).and_then(|rest| rest.find("*/")) {
            Some(at) => Some(body + at + 2),
            None => {
                self.no_close_from = Some(body);
                None
            }
        }
    }

    /// Skips whitespace (`[ \t\r\n]`), `//` line comments and `/* */` block comments.
    pub(crate) fn skip_trivia(&mut self) {
        loop {
            match self.byte(self.pos) {
                Some(b' ' | b'\t' | b'\r' | b'\n') => self.pos += 1,
                Some(b'/') if self.byte(self.pos + 1) == Some(b'/') => {
                    while let Some(b) = self.byte(self.pos) {
                        if b == b'\n' || b == b'\r' {
                            break;
                        }
                        self.pos += 1;
                    }
                    if self.byte(self.pos) == Some(b'\r') {
                        self.pos += 1;
                    }
                    if self.byte(self.pos) == Some(b'\n') {
                        self.pos += 1;
                    }
                }
                Some(b'/') if self.byte(self.pos + 1) == Some(b'*') => {
                    match self.block_comment_end(self.pos) {
                        Some(end) => self.pos = end,
                        // An unclosed comment is not a comment; the mode lexer deals with `/`.
                        None => return,
                    }
                }
                _ => return,
            }
        }
    }

    /// Reads a command keyword in the default mode: the run of characters up to whitespace,
    /// `[`, `]` or `/` (Elasticsearch's `UNKNOWN_CMD` token). Call after [`Lexer::skip_trivia`].
    pub(crate) fn command_word(&mut self) -> Span {
        let start = self.pos;
        while let Some(b) = self.byte(self.pos) {
            if matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'[' | b']' | b'/') {
                break;
            }
            self.pos += self.char_len(self.pos);
        }
        Span::new(start, self.pos)
    }

    /// Consumes `keyword` (ASCII, case-insensitive) at the cursor, if it is there.
    pub(crate) fn eat_keyword(&mut self, keyword: &str) -> Option<Span> {
        let end = self.pos + keyword.len();
        let text = self.src.get(self.pos..end)?;
        if text.eq_ignore_ascii_case(keyword) {
            let span = Span::new(self.pos, end);
            self.pos = end;
            Some(span)
        } else {
            None
        }
    }

    /// Skips one character that cannot start a command, recording a recognition error.
    pub(crate) fn skip_bad_char(&mut self) {
        self.bad_char();
    }

    /// Consumes a `|` at the cursor, if there is one.
    pub(crate) fn eat_pipe(&mut self) -> bool {
        if self.byte(self.pos) == Some(b'|') {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Lexes the tokens of one command in `mode`, up to (not including) the next `|` or the end
    /// of input. The returned list always ends with a `Pipe` or `Eof` token. `ENRICH` switches
    /// from policy to field mode after `ON`/`WITH`, and `LOOKUP JOIN` switches to expression mode
    /// after `ON`, as in Elasticsearch.
    pub(crate) fn command_tokens(&mut self, mut mode: Mode) -> Vec<Token> {
        let mut tokens = Vec::new();
        loop {
            self.skip_trivia();
            let start = self.pos;
            let Some(b) = self.byte(start) else {
                tokens.push(Token { kind: Tok::Eof, span: Span::new(start, start) });
                return tokens;
            };
            if b == b'|' {
                tokens.push(Token { kind: Tok::Pipe, span: Span::new(start, start + 1) });
                return tokens;
            }
            let token = match mode {
                Mode::Expression => self.expression_token(),
                Mode::From => self.source_token(false),
                Mode::Join => self.source_token(true),
                Mode::Project | Mode::Rename | Mode::EnrichField => self.pattern_token(mode),
                Mode::EnrichPolicy => self.policy_token(),
                Mode::MvExpand => self.mv_expand_token(),
            };
            if let Some(token) = token {
                match (mode, token.kind) {
                    (Mode::EnrichPolicy, Tok::On | Tok::With) => mode = Mode::EnrichField,
                    (Mode::Join, Tok::On) => mode = Mode::Expression,
                    _ => {}
                }
                tokens.push(token);
            }
        }
    }

    /// Skips an unsupported command's text up to the next `|` that is not inside parentheses,
    /// brackets, braces, strings or backtick-quoted names; or, when `stop_at_semicolon`, up to
    /// and including the next top-level `;`. Returns the span of the text (trimmed of trailing
    /// whitespace and comments).
    pub(crate) fn skip_command(&mut self, start: usize, stop_at_semicolon: bool) -> Span {
        let mut depth = 0usize;
        let mut end = start;
        loop {
            self.skip_trivia();
            let Some(b) = self.byte(self.pos) else { break };
            match b {
                b'|' if depth == 0 => break,
                b';' if depth == 0 && stop_at_semicolon => {
                    self.pos += 1;
                    end = self.pos;
                    break;
                }
                b'(' | b'[' | b'{' => {
                    depth += 1;
                    self.pos += 1;
                }
                b')' | b']' | b'}' => {
                    depth = depth.saturating_sub(1);
                    self.pos += 1;
                }
                b'"' => {
                    let errors = self.errors.len();
                    self.string_token();
                    // Unsupported commands are skipped leniently: no lexing errors from them.
                    self.errors.truncate(errors);
                }
                b'`' => {
                    let errors = self.errors.len();
                    self.quoted_ident_token(self.pos);
                    self.errors.truncate(errors);
                }
                _ => self.pos += self.char_len(self.pos),
            }
            end = self.pos;
        }
        Span::new(start, end.max(start))
    }

    fn token(&mut self, kind: Tok, start: usize, end: usize) -> Option<Token> {
        self.pos = end;
        Some(Token { kind, span: Span::new(start, end) })
    }

    /// `"..."` (escapes `\t \n \r \" \\`, no line breaks) or `"""..."""` (no escapes, no line
    /// breaks, up to two extra closing quotes belong to the value).
    fn string_token(&mut self) -> Option<Token> {
        let start = self.pos;
        if self.starts_with(start, "\"\"\"") {
            let mut i = start + 3;
            while i < self.bytes.len() {
                let b = self.bytes[i];
                if b == b'\r' || b == b'\n' {
                    break;
                }
                if self.starts_with(i, "\"\"\"") {
                    let mut end = i + 3;
                    let mut extra = 0;
                    while extra < 2 && self.byte(end) == Some(b'"') {
                        end += 1;
                        extra += 1;
                    }
                    return self.token(Tok::QuotedString, start, end);
                }
                i += 1;
            }
            // Not a triple-quoted string: ANTLR then matches `""`, an empty string.
            return self.token(Tok::QuotedString, start, start + 2);
        }
        let mut i = start + 1;
        loop {
            match self.byte(i) {
                None => {
                    self.recognition_error(start, i);
                    return None;
                }
                Some(b'"') => return self.token(Tok::QuotedString, start, i + 1),
                Some(b'\\') => match self.byte(i + 1) {
                    Some(b't' | b'n' | b'r' | b'"' | b'\\') => i += 2,
                    Some(_) => {
                        let end = i + 1 + self.char_len(i + 1);
                        self.recognition_error(start, end);
                        return None;
                    }
                    None => {
                        self.recognition_error(start, i + 1);
                        return None;
                    }
                },
                Some(b'\r' | b'\n') => {
                    self.recognition_error(start, i + 1);
                    return None;
                }
                Some(_) => i += self.char_len(i),
            }
        }
    }

    /// `` `...` `` with doubled backticks as escapes; at least one character inside.
    fn quoted_ident_token(&mut self, start: usize) -> Option<Token> {
        let end = self.quoted_ident_end(start);
        match end {
            Some(end) => self.token(Tok::QuotedIdent, start, end),
            None => {
                let end = self.src[start..].find('\n').map(|n| start + n).unwrap_or(self.bytes.len()).max(start + 1);
                self.recognition_error(start, end);
                None
            }
        }
    }

    /// The end of a backtick-quoted identifier starting at `start`, if well formed.
    fn quoted_ident_end(&self, start: usize) -> Option<usize> {
        let mut i = start + 1;
        let mut empty = true;
        loop {
            match self.byte(i)? {
                b'`' if self.byte(i + 1) == Some(b'`') => {
                    i += 2;
                    empty = false;
                }
                b'`' => return if empty { None } else { Some(i + 1) },
                _ => {
                    i += self.char_len(i);
                    empty = false;
                }
            }
        }
    }

    /// The end of an exponent `e[+-]?digits` at `at`, if there is a complete one.
    fn exponent_end(&self, at: usize) -> Option<usize> {
        if !matches!(self.byte(at), Some(b'e' | b'E')) {
            return None;
        }
        let mut i = at + 1;
        if matches!(self.byte(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let digits = i;
        while self.byte(i).is_some_and(|b| b.is_ascii_digit()) {
            i += 1;
        }
        (i > digits).then_some(i)
    }

    fn digits_end(&self, mut i: usize) -> usize {
        while self.byte(i).is_some_and(|b| b.is_ascii_digit()) {
            i += 1;
        }
        i
    }

    fn number_token(&mut self) -> Option<Token> {
        let start = self.pos;
        if self.byte(start) == Some(b'.') {
            // `.5`, `.5e3`
            let end = self.digits_end(start + 1);
            let end = self.exponent_end(end).unwrap_or(end);
            return self.token(Tok::Decimal, start, end);
        }
        let int_end = self.digits_end(start);
        if self.byte(int_end) == Some(b'.') {
            let frac_end = self.digits_end(int_end + 1);
            let end = self.exponent_end(frac_end).unwrap_or(frac_end);
            return self.token(Tok::Decimal, start, end);
        }
        if let Some(end) = self.exponent_end(int_end) {
            return self.token(Tok::Decimal, start, end);
        }
        self.token(Tok::Integer, start, int_end)
    }

    /// The end of an unquoted identifier (`[a-z][a-z0-9_]*` or `[_@][a-z0-9_]+`) at `start`.
    fn unquoted_ident_end(&self, start: usize) -> Option<usize> {
        let first = self.byte(start)?;
        let mut i = start + 1;
        while self.byte(i).is_some_and(is_id_body) {
            i += 1;
        }
        if is_letter(first) || ((first == b'_' || first == b'@') && i > start + 1) { Some(i) } else { None }
    }

    fn param_token(&mut self) -> Option<Token> {
        let start = self.pos;
        let (after, plain, named) = if self.starts_with(start, "??") {
            (start + 2, Tok::DoubleParams, Tok::NamedDoubleParams)
        } else {
            (start + 1, Tok::Param, Tok::NamedParam)
        };
        match self.byte(after) {
            Some(b) if is_letter(b) || b == b'_' => {
                let mut i = after + 1;
                while self.byte(i).is_some_and(is_id_body) {
                    i += 1;
                }
                self.token(named, start, i)
            }
            Some(b) if b.is_ascii_digit() => {
                let end = self.digits_end(after);
                self.token(named, start, end)
            }
            _ => self.token(plain, start, after),
        }
    }

    /// One token of expression mode (the cursor is on a non-trivia, non-`|` character).
    fn expression_token(&mut self) -> Option<Token> {
        let start = self.pos;
        let b = self.byte(start)?;
        let next = self.byte(start + 1);
        let one = |kind| (kind, 1usize);
        let two = |kind| (kind, 2usize);
        let (kind, len) = match b {
            b'"' => return self.string_token(),
            b'`' => return self.quoted_ident_token(start),
            b'0'..=b'9' => return self.number_token(),
            b'.' if next.is_some_and(|n| n.is_ascii_digit()) => return self.number_token(),
            b'?' => return self.param_token(),
            b'a'..=b'z' | b'A'..=b'Z' | b'_' | b'@' => {
                let Some(end) = self.unquoted_ident_end(start) else {
                    self.bad_char();
                    return None;
                };
                let word = self.text(start, end);
                let kind = EXPRESSION_KEYWORDS
                    .iter()
                    .find(|(kw, _)| kw.eq_ignore_ascii_case(word))
                    .map(|(_, kind)| *kind)
                    .unwrap_or(Tok::UnquotedIdent);
                return self.token(kind, start, end);
            }
            b'=' => match next {
                Some(b'=') => two(Tok::Eq),
                Some(b'~') => two(Tok::CiEq),
                _ => one(Tok::Assign),
            },
            b'!' if next == Some(b'=') => two(Tok::Neq),
            b'<' if next == Some(b'=') => two(Tok::Lte),
            b'<' => one(Tok::Lt),
            b'>' if next == Some(b'=') => two(Tok::Gte),
            b'>' => one(Tok::Gt),
            b':' if next == Some(b':') => two(Tok::CastOp),
            b':' => one(Tok::Colon),
            b';' => one(Tok::Semicolon),
            b',' => one(Tok::Comma),
            b'.' => one(Tok::Dot),
            b'+' => one(Tok::Plus),
            b'-' => one(Tok::Minus),
            b'*' => one(Tok::Asterisk),
            b'/' => one(Tok::Slash),
            b'%' => one(Tok::Percent),
            b'{' => one(Tok::LBrace),
            b'}' => one(Tok::RBrace),
            b'[' => one(Tok::LBracket),
            b']' => one(Tok::RBracket),
            b'(' => one(Tok::LParen),
            b')' => one(Tok::RParen),
            _ => {
                self.bad_char();
                return None;
            }
        };
        self.token(kind, start, start + len)
    }

    /// The end of an unquoted source (index pattern) at `start`: characters other than
    /// `: " = | , [ ] / space \t \r \n`, where `/` is allowed when not followed by `*` or `/`.
    fn unquoted_source_end(&self, start: usize) -> usize {
        let mut i = start;
        while let Some(b) = self.byte(i) {
            match b {
                b':' | b'"' | b'=' | b'|' | b',' | b'[' | b']' | b' ' | b'\t' | b'\r' | b'\n' => {
                    break;
                }
                b'/' => match self.byte(i + 1) {
                    Some(b'*' | b'/') | None => break,
                    Some(_) => i += 1 + self.char_len(i + 1),
                },
                _ => i += self.char_len(i),
            }
        }
        i
    }

    /// One token of `FROM` mode (or `LOOKUP JOIN` mode when `join`).
    fn source_token(&mut self, join: bool) -> Option<Token> {
        let start = self.pos;
        let b = self.byte(start)?;
        match b {
            b'"' => return self.string_token(),
            b':' if !join && self.byte(start + 1) == Some(b':') => {
                return self.token(Tok::CastOp, start, start + 2);
            }
            b':' => return self.token(Tok::Colon, start, start + 1),
            b',' if !join => return self.token(Tok::Comma, start, start + 1),
            b'=' if !join => return self.token(Tok::Assign, start, start + 1),
            b'[' if !join => return self.token(Tok::LBracket, start, start + 1),
            b']' if !join => return self.token(Tok::RBracket, start, start + 1),
            _ => {}
        }
        let end = self.unquoted_source_end(start);
        if end == start {
            self.bad_char();
            return None;
        }
        let word = self.text(start, end);
        let kind = if join {
            if word.eq_ignore_ascii_case("join") {
                Tok::Join
            } else if word.eq_ignore_ascii_case("as") {
                Tok::As
            } else if word.eq_ignore_ascii_case("on") {
                Tok::On
            } else {
                Tok::UnquotedSource
            }
        } else if word.eq_ignore_ascii_case("metadata") {
            Tok::Metadata
        } else {
            Tok::UnquotedSource
        };
        self.token(kind, start, end)
    }

    /// The end of an `ID_PATTERN` at `start`: one or more unquoted pattern parts
    /// (`[a-z*][a-z0-9_*]*` or `[_@][a-z0-9_*]+`) and backtick-quoted parts, concatenated.
    fn id_pattern_end(&self, start: usize) -> Option<usize> {
        let mut i = start;
        loop {
            match self.byte(i) {
                Some(b'`') => match self.quoted_ident_end(i) {
                    Some(end) => i = end,
                    None => break,
                },
                Some(b) if is_letter(b) || b == b'*' => {
                    i += 1;
                    while self.byte(i).is_some_and(|b| is_id_body(b) || b == b'*') {
                        i += 1;
                    }
                }
                Some(b'_' | b'@') => {
                    let body = i + 1;
                    let mut j = body;
                    while self.byte(j).is_some_and(|b| is_id_body(b) || b == b'*') {
                        j += 1;
                    }
                    if j == body {
                        break;
                    }
                    i = j;
                }
                _ => break,
            }
        }
        (i > start).then_some(i)
    }

    /// One token of `KEEP`/`DROP` (`Project`), `RENAME` or `ENRICH` field mode.
    fn pattern_token(&mut self, mode: Mode) -> Option<Token> {
        let start = self.pos;
        let b = self.byte(start)?;
        match b {
            b'.' => return self.token(Tok::Dot, start, start + 1),
            b',' => return self.token(Tok::Comma, start, start + 1),
            b'?' => return self.param_token(),
            b'=' if mode != Mode::Project => return self.token(Tok::Assign, start, start + 1),
            _ => {}
        }
        match self.id_pattern_end(start) {
            Some(end) => {
                let word = self.text(start, end);
                let kind = match mode {
                    Mode::Rename if word.eq_ignore_ascii_case("as") => Tok::As,
                    Mode::EnrichField if word.eq_ignore_ascii_case("with") => Tok::With,
                    _ => Tok::IdPattern,
                };
                self.token(kind, start, end)
            }
            None => {
                if b == b'`' {
                    return self.quoted_ident_token(start);
                }
                self.bad_char();
                None
            }
        }
    }

    /// One token of `ENRICH` policy mode: `on`, `with`, a quoted string or a policy name
    /// (`[_mode:]name`, characters other than `\ / ? " < > | space , # \t \r \n :`).
    fn policy_token(&mut self) -> Option<Token> {
        let start = self.pos;
        let b = self.byte(start)?;
        if b == b'"' {
            return self.string_token();
        }
        let body_end = |lexer: &Self, from: usize| {
            let mut i = from;
            while let Some(b) = lexer.byte(i) {
                if matches!(
                    b,
                    b'\\' | b'/' | b'?' | b'"' | b'<' | b'>' | b'|' | b' ' | b',' | b'#' | b'\t' | b'\r' | b'\n' | b':'
                ) {
                    break;
                }
                i += lexer.char_len(i);
            }
            i
        };
        let first_end = body_end(self, start);
        if first_end == start {
            self.bad_char();
            return None;
        }
        let mut end = first_end;
        if self.byte(first_end) == Some(b':') {
            let second_end = body_end(self, first_end + 1);
            if second_end > first_end + 1 {
                end = second_end;
            }
        }
        let word = self.text(start, end);
        let kind = if word.eq_ignore_ascii_case("on") {
            Tok::On
        } else if word.eq_ignore_ascii_case("with") {
            Tok::With
        } else {
            Tok::PolicyName
        };
        self.token(kind, start, end)
    }

    /// One token of `MV_EXPAND` mode: names (no keywords), `.`, parameters.
    fn mv_expand_token(&mut self) -> Option<Token> {
        let start = self.pos;
        let b = self.byte(start)?;
        match b {
            b'.' => self.token(Tok::Dot, start, start + 1),
            b'?' => self.param_token(),
            b'`' => self.quoted_ident_token(start),
            _ => match self.unquoted_ident_end(start) {
                Some(end) => self.token(Tok::UnquotedIdent, start, end),
                None => {
                    self.bad_char();
                    None
                }
            },
        }
    }
}

/// The value of a `QUOTED_STRING` token's text: quotes removed, escapes resolved.
pub(crate) fn unquote_string(text: &str) -> String {
    if text.len() >= 6 && text.starts_with("\"\"\"") && text.ends_with("\"\"\"") {
        return text[3..text.len() - 3].to_string();
    }
    let inner = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(text);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// The name of a `QUOTED_IDENTIFIER` token's text: backticks removed, doubled backticks unescaped.
pub(crate) fn unquote_ident(text: &str) -> String {
    let inner = text.strip_prefix('`').and_then(|t| t.strip_suffix('`')).unwrap_or(text);
    inner.replace("``", "`")
}

/// The pattern of an `ID_PATTERN` token's text: quoted fragments unquoted, unquoted fragments kept
/// as written (including `*`).
pub(crate) fn unquote_id_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('`') {
            // Find the closing backtick (doubled backticks are escapes).
            let bytes = after.as_bytes();
            let mut i = 0;
            let mut close = None;
            while i < bytes.len() {
                if bytes[i] == b'`' {
                    if bytes.get(i + 1) == Some(&b'`') {
                        i += 2;
                        continue;
                    }
                    close = Some(i);
                    break;
                }
                i += 1;
            }
            match close {
                Some(c) => {
                    out.push_str(&after[..c].replace("``", "`"));
                    rest = &after[c + 1..];
                }
                None => {
                    out.push_str(after);
                    rest = "";
                }
            }
        } else {
            let next = rest.find('`').unwrap_or(rest.len());
            out.push_str(&rest[..next]);
            rest = &rest[next..];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str, mode: Mode) -> Vec<(Tok, String)> {
        let mut lexer = Lexer::new(src);
        lexer.command_tokens(mode).into_iter().map(|t| (t.kind, t.span.text(src).to_string())).collect()
    }

    #[test]
    fn expression_tokens() {
        let toks = kinds("a.b == 1.5e3 AND `x``y` != .5 // c\n/* d /* nested */ */ ?p ?? ?1 ::", Mode::Expression);
        let expected = [
            (Tok::UnquotedIdent, "a"),
            (Tok::Dot, "."),
            (Tok::UnquotedIdent, "b"),
            (Tok::Eq, "=="),
            (Tok::Decimal, "1.5e3"),
            (Tok::And, "AND"),
            (Tok::QuotedIdent, "`x``y`"),
            (Tok::Neq, "!="),
            (Tok::Decimal, ".5"),
            (Tok::NamedParam, "?p"),
            (Tok::DoubleParams, "??"),
            (Tok::NamedParam, "?1"),
            (Tok::CastOp, "::"),
            (Tok::Eof, ""),
        ];
        let got: Vec<(Tok, &str)> = toks.iter().map(|(k, s)| (*k, s.as_str())).collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn numbers() {
        let toks = kinds("1 1. 1e 1e5 1.5E-3 5m", Mode::Expression);
        let got: Vec<(Tok, &str)> = toks.iter().map(|(k, s)| (*k, s.as_str())).collect();
        assert_eq!(
            got,
            [
                (Tok::Integer, "1"),
                (Tok::Decimal, "1."),
                (Tok::Integer, "1"),
                (Tok::UnquotedIdent, "e"),
                (Tok::Decimal, "1e5"),
                (Tok::Decimal, "1.5E-3"),
                (Tok::Integer, "5"),
                (Tok::UnquotedIdent, "m"),
                (Tok::Eof, ""),
            ]
        );
    }

    #[test]
    fn strings() {
        let toks = kinds(r#""a\"b" """x"y""""  "#, Mode::Expression);
        assert_eq!(toks[0], (Tok::QuotedString, r#""a\"b""#.to_string()));
        assert_eq!(toks[1], (Tok::QuotedString, r#""""x"y"""""#.to_string()));
        assert_eq!(unquote_string(r#""a\"b\\\t""#), "a\"b\\\t");
        assert_eq!(unquote_string(r#""""x"y"""""#), "x\"y\"");
    }

    #[test]
    fn bad_escape_is_an_error() {
        let mut lexer = Lexer::new(r#""a\qb""#);
        lexer.command_tokens(Mode::Expression);
        assert_eq!(lexer.errors[0].message, r#"token recognition error at: '"a\q'"#);
    }

    #[test]
    fn sources() {
        let toks = kinds("logs-*, -x*, \"q\", c:idx::failures METADATA _id /* c */ ,a/b", Mode::From);
        let got: Vec<(Tok, &str)> = toks.iter().map(|(k, s)| (*k, s.as_str())).collect();
        assert_eq!(
            got,
            [
                (Tok::UnquotedSource, "logs-*"),
                (Tok::Comma, ","),
                (Tok::UnquotedSource, "-x*"),
                (Tok::Comma, ","),
                (Tok::QuotedString, "\"q\""),
                (Tok::Comma, ","),
                (Tok::UnquotedSource, "c"),
                (Tok::Colon, ":"),
                (Tok::UnquotedSource, "idx"),
                (Tok::CastOp, "::"),
                (Tok::UnquotedSource, "failures"),
                (Tok::Metadata, "METADATA"),
                (Tok::UnquotedSource, "_id"),
                (Tok::Comma, ","),
                (Tok::UnquotedSource, "a/b"),
                (Tok::Eof, ""),
            ]
        );
    }

    #[test]
    fn patterns() {
        let toks = kinds("Esql.*, `a.b`*, _x, as", Mode::Rename);
        let got: Vec<(Tok, &str)> = toks.iter().map(|(k, s)| (*k, s.as_str())).collect();
        assert_eq!(
            got,
            [
                (Tok::IdPattern, "Esql"),
                (Tok::Dot, "."),
                (Tok::IdPattern, "*"),
                (Tok::Comma, ","),
                (Tok::IdPattern, "`a.b`*"),
                (Tok::Comma, ","),
                (Tok::IdPattern, "_x"),
                (Tok::Comma, ","),
                (Tok::As, "as"),
                (Tok::Eof, ""),
            ]
        );
        assert_eq!(unquote_id_pattern("`a.b`*"), "a.b*");
        assert_eq!(unquote_id_pattern("x`y``z`w"), "xy`zw");
    }

    #[test]
    fn enrich_modes() {
        let toks = kinds("_any:my-policy.v1 ON a.b WITH x = y", Mode::EnrichPolicy);
        let got: Vec<(Tok, &str)> = toks.iter().map(|(k, s)| (*k, s.as_str())).collect();
        assert_eq!(
            got,
            [
                (Tok::PolicyName, "_any:my-policy.v1"),
                (Tok::On, "ON"),
                (Tok::IdPattern, "a"),
                (Tok::Dot, "."),
                (Tok::IdPattern, "b"),
                (Tok::With, "WITH"),
                (Tok::IdPattern, "x"),
                (Tok::Assign, "="),
                (Tok::IdPattern, "y"),
                (Tok::Eof, ""),
            ]
        );
    }

    #[test]
    fn stops_at_pipe_and_never_panics_on_junk() {
        let toks = kinds("a | b", Mode::Expression);
        assert_eq!(toks.last().map(|t| t.0), Some(Tok::Pipe));
        for mode in [
            Mode::Expression,
            Mode::From,
            Mode::Project,
            Mode::Rename,
            Mode::EnrichPolicy,
            Mode::EnrichField,
            Mode::MvExpand,
            Mode::Join,
        ] {
            let mut lexer = Lexer::new("é # ` `` \"abc /* \\ _ @ ? ! ~ ^ &");
            let toks = lexer.command_tokens(mode);
            assert_eq!(toks.last().map(|t| t.kind), Some(Tok::Eof));
        }
    }
}
