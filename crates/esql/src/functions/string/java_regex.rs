//! Java (`java.util.regex`) regular expressions on top of `fancy-regex`, for `REPLACE`.
//!
//! A Java pattern is translated into fancy-regex syntax with Java's meaning: `\d \w \s \b` and
//! the POSIX classes are ASCII-only, `.` stops at every Java line terminator, `$` also matches
//! before a final line terminator, `\Q...\E` quotes, `\h \v \R` are Java's, octal and `\uXXXX`
//! escapes, possessive quantifiers, atomic groups and look-around work. Matching and
//! replacement follow `Matcher.replaceAll` (including where empty matches are found, and the
//! `$n`, `${name}` and `\x` replacement syntax).
//!
//! Known differences: case-insensitive matching folds Unicode (Java folds ASCII unless `u` is
//! set), and multiline anchors treat `\r` like Rust does.

use fancy_regex::Regex;
use std::collections::HashMap;

/// Java's line terminators, as a class body (for `.`, `$`, `^`).
const TERMINATORS: &str = r"\n\r\x{85}\x{2028}\x{2029}";

/// A compiled Java pattern.
#[derive(Debug)]
pub struct JavaRegex {
    /// The translation for inputs that do not end with a line terminator (`$` is `\z` there).
    plain: Regex,
    /// The exact translation of end anchors, when the pattern has any and it differs.
    exact: Option<Regex>,
    /// Number of capturing groups.
    groups: usize,
    /// Named groups → number.
    names: HashMap<String, usize>,
}

/// Inline flags in force.
#[derive(Debug, Clone, Copy, Default)]
struct Flags {
    case_insensitive: bool,
    dotall: bool,
    multiline: bool,
    unix_lines: bool,
    comments: bool,
    unicode_classes: bool,
}

struct Translator<'a> {
    chars: Vec<char>,
    pos: usize,
    out: String,
    flags: Flags,
    stack: Vec<Flags>,
    groups: usize,
    names: HashMap<String, usize>,
    /// Whether the pattern has a non-multiline end anchor (`$`, `\Z`).
    end_anchor: bool,
    /// Translate end anchors exactly (the input ends with a line terminator).
    exact_end: bool,
    pattern: &'a str,
}

impl JavaRegex {
    /// Compiles a Java pattern.
    ///
    /// # Errors
    /// A description of why the pattern is invalid (Java's wording where known).
    pub fn new(pattern: &str) -> Result<JavaRegex, String> {
        let plain = Translator::run(pattern, false)?;
        let compile = |s: &str| Regex::new(s).map_err(|e| format!("{e} in pattern [{pattern}]"));
        let exact = if plain.end_anchor { Some(compile(&Translator::run(pattern, true)?.out)?) } else { None };
        Ok(JavaRegex { plain: compile(&plain.out)?, exact, groups: plain.groups, names: plain.names })
    }

    /// The regex to run on `s`.
    fn for_input(&self, s: &str) -> &Regex {
        match &self.exact {
            Some(r) if s.ends_with(['\n', '\r', '\u{85}', '\u{2028}', '\u{2029}']) => r,
            _ => &self.plain,
        }
    }

    /// Number of capturing groups.
    pub fn groups(&self) -> usize {
        self.groups
    }

    /// Whether the pattern matches somewhere in `s`.
    ///
    /// # Errors
    /// When matching gives up (too much backtracking).
    pub fn is_match(&self, s: &str) -> Result<bool, String> {
        self.for_input(s).is_match(s).map_err(|e| e.to_string())
    }

    /// `Matcher.replaceAll(replacement)`: `Ok(None)` when nothing matched.
    ///
    /// # Errors
    /// [`ReplaceError`] with Java's exception.
    pub fn replace_all(
        &self,
        s: &str,
        replacement: &Replacement,
        max_len: usize,
    ) -> Result<Option<String>, ReplaceError> {
        let re = self.for_input(s);
        let mut out = String::new();
        let mut last = 0usize;
        let mut search = 0usize;
        let mut found = false;
        while search <= s.len() {
            let (start, end, groups) = if replacement.uses_groups() {
                let Some(c) = re.captures_from_pos(s, search).map_err(|e| ReplaceError::Match(e.to_string()))? else {
                    break;
                };
                let Some(m) = c.get(0) else { break };
                let groups: Vec<Option<(usize, usize)>> =
                    (0..c.len()).map(|i| c.get(i).map(|g| (g.start(), g.end()))).collect();
                (m.start(), m.end(), groups)
            } else {
                let Some(m) = re.find_from_pos(s, search).map_err(|e| ReplaceError::Match(e.to_string()))? else {
                    break;
                };
                (m.start(), m.end(), Vec::new())
            };
            if !found {
                found = true;
                // Java parses the replacement at the first match.
                if let Some(e) = &replacement.error {
                    return Err(e.clone());
                }
            }
            out.push_str(&s[last..start]);
            replacement.expand(s, &groups, self, &mut out)?;
            if out.len() + (s.len() - end) > max_len {
                return Err(ReplaceError::TooLong);
            }
            last = end;
            // After an empty match, Java searches again one character further on.
            search = if start == end {
                match s[end..].chars().next() {
                    Some(c) => end + c.len_utf8(),
                    None => break,
                }
            } else {
                end
            };
        }
        if !found {
            return Ok(None);
        }
        out.push_str(&s[last..]);
        Ok(Some(out))
    }
}

/// Why a replacement failed, as Java reports it.
#[derive(Debug, Clone, PartialEq)]
pub enum ReplaceError {
    /// A `java.lang.IllegalArgumentException` (Elastic: warning, null).
    Illegal(String),
    /// `IndexOutOfBoundsException: No group N` (Elastic: the query fails).
    NoGroup(usize),
    /// The result would exceed Elastic's string size limit.
    TooLong,
    /// The matcher gave up.
    Match(String),
}

/// A parsed replacement string (`Matcher.appendReplacement` syntax).
#[derive(Debug, Clone)]
pub struct Replacement {
    parts: Vec<Part>,
    /// The error Java raises when it reaches the bad part (only when something matched).
    error: Option<ReplaceError>,
}

#[derive(Debug, Clone)]
enum Part {
    Text(String),
    Group(usize),
    Named(String),
}

impl Replacement {
    /// Parses `r` for a pattern with `groups` capturing groups and the given names.
    pub fn parse(r: &str, regex: &JavaRegex) -> Replacement {
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut error = None;
        let chars: Vec<char> = r.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            match chars[i] {
                '\\' => {
                    i += 1;
                    match chars.get(i) {
                        Some(c) => text.push(*c),
                        None => {
                            error = Some(ReplaceError::Illegal("character to be escaped is missing".into()));
                            break;
                        }
                    }
                    i += 1;
                }
                '$' => {
                    i += 1;
                    let Some(&next) = chars.get(i) else {
                        error = Some(ReplaceError::Illegal("Illegal group reference: group index is missing".into()));
                        break;
                    };
                    if !text.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut text)));
                    }
                    if next == '{' {
                        i += 1;
                        let start = i;
                        while i < chars.len() && chars[i].is_ascii_alphanumeric() {
                            i += 1;
                        }
                        let name: String = chars[start..i].iter().collect();
                        if name.is_empty() {
                            error = Some(ReplaceError::Illegal("named capturing group has 0 length name".into()));
                            break;
                        }
                        if chars.get(i) != Some(&'}') {
                            error = Some(ReplaceError::Illegal("named capturing group is missing trailing '}'".into()));
                            break;
                        }
                        if name.starts_with(|c: char| c.is_ascii_digit()) {
                            error = Some(ReplaceError::Illegal(format!(
                                "capturing group name {{{name}}} starts with digit character"
                            )));
                            break;
                        }
                        if !regex.names.contains_key(&name) {
                            error = Some(ReplaceError::Illegal(format!("No group with name {{{name}}}")));
                            break;
                        }
                        i += 1;
                        parts.push(Part::Named(name));
                    } else {
                        let Some(d) = next.to_digit(10) else {
                            error = Some(ReplaceError::Illegal("Illegal group reference".into()));
                            break;
                        };
                        let mut n = d as usize;
                        i += 1;
                        // Take more digits while they still name an existing group.
                        while let Some(d) = chars.get(i).and_then(|c| c.to_digit(10)) {
                            let m = n * 10 + d as usize;
                            if m > regex.groups {
                                break;
                            }
                            n = m;
                            i += 1;
                        }
                        if n > regex.groups {
                            error = Some(ReplaceError::NoGroup(n));
                            break;
                        }
                        parts.push(Part::Group(n));
                    }
                }
                c => {
                    text.push(c);
                    i += 1;
                }
            }
        }
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Replacement { parts, error }
    }

    fn uses_groups(&self) -> bool {
        self.parts.iter().any(|p| !matches!(p, Part::Text(_)))
    }

    fn expand(
        &self,
        s: &str,
        groups: &[Option<(usize, usize)>],
        regex: &JavaRegex,
        out: &mut String,
    ) -> Result<(), ReplaceError> {
        for p in &self.parts {
            let n = match p {
                Part::Text(t) => {
                    out.push_str(t);
                    continue;
                }
                Part::Group(n) => *n,
                Part::Named(name) => *regex
                    .names
                    .get(name)
                    .ok_or_else(|| ReplaceError::Illegal(format!("No group with name {{{name}}}")))?,
            };
            if let Some(Some((a, b))) = groups.get(n) {
                out.push_str(&s[*a..*b]);
            }
        }
        Ok(())
    }
}

fn syntax(desc: &str, index: usize, pattern: &str) -> String {
    format!("{desc} near index {index}\n{pattern}")
}

/// Appends `c` as a literal that means the same inside and outside a character class.
fn push_literal(out: &mut String, c: char) {
    if c.is_alphanumeric() && !c.is_ascii() || c.is_ascii_alphanumeric() || c == '_' {
        out.push(c);
    } else {
        out.push_str(&format!("\\x{{{:X}}}", u32::from(c)));
    }
}

/// A parsed escape sequence.
enum Escape {
    /// One character.
    Char(char),
    /// A character class (valid inside and outside classes).
    Class(String),
    /// Anything else (assertions, back references): only outside classes.
    Other(String),
    /// `\Q...\E`: literal text.
    Quoted(String),
}

impl<'a> Translator<'a> {
    fn run(pattern: &'a str, exact_end: bool) -> Result<Translator<'a>, String> {
        let mut t = Translator {
            chars: pattern.chars().collect(),
            pos: 0,
            out: String::with_capacity(pattern.len() + 16),
            flags: Flags::default(),
            stack: Vec::new(),
            groups: 0,
            names: HashMap::new(),
            end_anchor: false,
            exact_end,
            pattern,
        };
        t.sequence()?;
        Ok(t)
    }

    fn err(&self, desc: &str) -> String {
        syntax(desc, self.pos.saturating_sub(1), self.pattern)
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, k: usize) -> Option<char> {
        self.chars.get(self.pos + k).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        Some(c)
    }

    /// Skips whitespace and `#` comments in comments mode.
    fn skip_comments(&mut self) {
        if !self.flags.comments {
            return;
        }
        while let Some(c) = self.peek() {
            if matches!(c, ' ' | '\t' | '\n' | '\u{b}' | '\u{c}' | '\r') {
                self.pos += 1;
            } else if c == '#' {
                while let Some(c) = self.next() {
                    if matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}') {
                        break;
                    }
                }
            } else {
                break;
            }
        }
    }

    fn word_class(&self) -> &'static str {
        if self.flags.unicode_classes { r"[\w]" } else { "[a-zA-Z0-9_]" }
    }

    fn sequence(&mut self) -> Result<(), String> {
        loop {
            self.skip_comments();
            let Some(c) = self.next() else { break };
            match c {
                '\\' => match self.escape(false)? {
                    Escape::Char(c) => push_literal(&mut self.out, c),
                    Escape::Class(s) | Escape::Other(s) => self.out.push_str(&s),
                    Escape::Quoted(q) => q.chars().for_each(|c| push_literal(&mut self.out, c)),
                },
                '[' => {
                    let class = self.class()?;
                    self.out.push_str(&class);
                }
                '(' => self.open_group()?,
                ')' => {
                    let Some(f) = self.stack.pop() else { return Err(self.err("Unmatched closing ')'")) };
                    self.flags = f;
                    self.out.push(')');
                }
                '.' => {
                    if self.flags.dotall {
                        self.out.push_str("(?s:.)");
                    } else if self.flags.unix_lines {
                        self.out.push_str(r"[^\n]");
                    } else {
                        self.out.push_str(&format!("[^{TERMINATORS}]"));
                    }
                }
                '^' => self.caret(),
                '$' => self.dollar(),
                '|' => self.out.push('|'),
                '*' | '+' | '?' => {
                    self.out.push(c);
                    self.quantifier_suffix();
                }
                '{' => {
                    let start = self.pos;
                    let mut body = String::new();
                    while let Some(d) = self.peek() {
                        if d.is_ascii_digit() || d == ',' {
                            body.push(d);
                            self.pos += 1;
                        } else {
                            break;
                        }
                    }
                    let valid = self.peek() == Some('}')
                        && body.starts_with(|d: char| d.is_ascii_digit())
                        && body.matches(',').count() <= 1;
                    if !valid {
                        self.pos = start;
                        return Err(self.err("Illegal repetition"));
                    }
                    self.pos += 1;
                    self.out.push('{');
                    self.out.push_str(&body);
                    self.out.push('}');
                    self.quantifier_suffix();
                }
                c => push_literal(&mut self.out, c),
            }
        }
        if !self.stack.is_empty() {
            return Err(syntax("Unclosed group", self.chars.len(), self.pattern));
        }
        Ok(())
    }

    /// A lazy `?` or possessive `+` after a quantifier.
    fn quantifier_suffix(&mut self) {
        if let Some(s @ ('?' | '+')) = self.peek() {
            self.out.push(s);
            self.pos += 1;
        }
    }

    fn caret(&mut self) {
        if !self.flags.multiline {
            self.out.push_str(r"\A");
        } else if self.flags.unix_lines {
            self.out.push_str(r"(?:\A|(?<=\n)(?!\z))");
        } else {
            self.out.push_str(r"(?:\A|(?<=[\n\x{85}\x{2028}\x{2029}])(?!\z)|(?<=\r)(?!\n)(?!\z))");
        }
    }

    fn dollar(&mut self) {
        if self.flags.multiline {
            if self.flags.unix_lines {
                self.out.push_str(r"(?:\z|(?=\n))");
            } else {
                self.out.push_str(r"(?:\z|(?=\r\n)|(?<!\r)(?=\n)|(?=[\r\x{85}\x{2028}\x{2029}]))");
            }
        } else {
            self.end_of_input();
        }
    }

    /// `$` without multiline, `\Z`: at the end, or before a line terminator ending the input.
    fn end_of_input(&mut self) {
        self.end_anchor = true;
        if !self.exact_end {
            self.out.push_str(r"\z");
        } else if self.flags.unix_lines {
            self.out.push_str(r"(?:\z|(?=\n\z))");
        } else {
            self.out.push_str(r"(?:\z|(?=\r\n\z)|(?=[\r\x{85}\x{2028}\x{2029}]\z)|(?<!\r)(?=\n\z))");
        }
    }

    fn open_group(&mut self) -> Result<(), String> {
        self.stack.push(self.flags);
        if self.peek() != Some('?') {
            self.groups += 1;
            self.out.push('(');
            return Ok(());
        }
        self.pos += 1;
        match self.next() {
            Some(':') => self.out.push_str("(?:"),
            Some('=') => self.out.push_str("(?="),
            Some('!') => self.out.push_str("(?!"),
            Some('>') => self.out.push_str("(?>"),
            Some('<') => match self.next() {
                Some('=') => self.out.push_str("(?<="),
                Some('!') => self.out.push_str("(?<!"),
                Some(c) if c.is_ascii_alphabetic() => {
                    let mut name = String::from(c);
                    while let Some(c) = self.next() {
                        if c == '>' {
                            break;
                        }
                        if !c.is_ascii_alphanumeric() {
                            return Err(self.err("named capturing group is missing trailing '>'"));
                        }
                        name.push(c);
                    }
                    self.groups += 1;
                    if self.names.insert(name.clone(), self.groups).is_some() {
                        return Err(self.err(&format!("Named capturing group <{name}> is already defined")));
                    }
                    self.out.push_str(&format!("(?<{name}>"));
                }
                _ => return Err(self.err("Unknown look-behind group")),
            },
            Some(_) => {
                self.pos -= 1;
                self.inline_flags()?;
            }
            None => return Err(self.err("Unknown group type")),
        }
        Ok(())
    }

    /// `(?idmsuxU-idmsuxU)` or `(?idmsuxU-idmsuxU:`; the group was pushed already.
    fn inline_flags(&mut self) -> Result<(), String> {
        let mut on = true;
        let before = self.flags;
        loop {
            match self.next() {
                Some('-') => on = false,
                Some('i') => self.flags.case_insensitive = on,
                Some('s') => self.flags.dotall = on,
                Some('m') => self.flags.multiline = on,
                Some('d') => self.flags.unix_lines = on,
                Some('x') => self.flags.comments = on,
                Some('U') => self.flags.unicode_classes = on,
                Some('u') | Some('c') => {}
                Some(')') => {
                    // Applies to the rest of the enclosing group: undo the push.
                    let outer = self.stack.pop().unwrap_or(before);
                    let _ = outer;
                    if self.flags.case_insensitive != before.case_insensitive {
                        self.out.push_str(if self.flags.case_insensitive { "(?i)" } else { "(?-i)" });
                    }
                    return Ok(());
                }
                Some(':') => {
                    self.out.push_str(match (before.case_insensitive, self.flags.case_insensitive) {
                        (false, true) => "(?i:",
                        (true, false) => "(?-i:",
                        _ => "(?:",
                    });
                    return Ok(());
                }
                _ => return Err(self.err("Unknown inline modifier")),
            }
        }
    }

    /// A character class, `[` already consumed; returns its translation.
    fn class(&mut self) -> Result<String, String> {
        let mut out = String::from("[");
        if self.peek() == Some('^') {
            self.pos += 1;
            out.push('^');
        }
        let mut first = true;
        loop {
            self.skip_comments();
            let Some(c) = self.next() else {
                return Err(syntax("Unclosed character class", self.chars.len() - 1, self.pattern));
            };
            let lo = match c {
                ']' if !first => {
                    out.push(']');
                    return Ok(out);
                }
                '[' => {
                    let inner = self.class()?;
                    out.push_str(&inner);
                    first = false;
                    continue;
                }
                '&' if self.peek() == Some('&') => {
                    self.pos += 1;
                    out.push_str("&&");
                    first = false;
                    continue;
                }
                '\\' => match self.escape(true)? {
                    Escape::Char(c) => c,
                    Escape::Class(s) => {
                        out.push_str(&s);
                        first = false;
                        continue;
                    }
                    Escape::Quoted(q) => {
                        q.chars().for_each(|c| push_literal(&mut out, c));
                        first = false;
                        continue;
                    }
                    Escape::Other(_) => return Err(self.err("Illegal/unsupported escape sequence")),
                },
                c => c,
            };
            first = false;
            // A range `lo-hi` (a `-` before `]` or `[` is literal).
            if self.peek() == Some('-') && !matches!(self.peek_at(1), Some(']') | Some('[') | None) {
                self.pos += 1;
                let hi = match self.next() {
                    Some('\\') => match self.escape(true)? {
                        Escape::Char(c) => c,
                        _ => return Err(self.err("Illegal character range")),
                    },
                    Some(c) => c,
                    None => return Err(self.err("Illegal character range")),
                };
                if hi < lo {
                    return Err(self.err("Illegal character range"));
                }
                push_literal(&mut out, lo);
                out.push('-');
                push_literal(&mut out, hi);
            } else {
                push_literal(&mut out, lo);
            }
        }
    }

    fn hex_digits(&mut self, n: usize) -> Result<u32, String> {
        let mut v = 0u32;
        for _ in 0..n {
            let d = self
                .next()
                .and_then(|c| c.to_digit(16))
                .ok_or_else(|| self.err("Illegal hexadecimal escape sequence"))?;
            v = v * 16 + d;
        }
        Ok(v)
    }

    fn escape(&mut self, in_class: bool) -> Result<Escape, String> {
        let Some(c) = self.next() else { return Err(self.err("Unexpected internal error")) };
        let ch = |v: u32, t: &Self| {
            char::from_u32(v).map(Escape::Char).ok_or_else(|| t.err("Illegal Unicode escape sequence"))
        };
        Ok(match c {
            't' => Escape::Char('\t'),
            'n' => Escape::Char('\n'),
            'r' => Escape::Char('\r'),
            'f' => Escape::Char('\u{c}'),
            'a' => Escape::Char('\u{7}'),
            'e' => Escape::Char('\u{1b}'),
            '0' => {
                let mut v = 0u32;
                let mut n = 0;
                while n < 3 {
                    match self.peek().and_then(|c| c.to_digit(8)) {
                        Some(d) if v * 8 + d <= 0o377 => {
                            v = v * 8 + d;
                            self.pos += 1;
                            n += 1;
                        }
                        _ => break,
                    }
                }
                if n == 0 {
                    return Err(self.err("Illegal octal escape sequence"));
                }
                ch(v, self)?
            }
            'x' => {
                if self.peek() == Some('{') {
                    self.pos += 1;
                    let mut v = 0u32;
                    loop {
                        match self.next() {
                            Some('}') => break,
                            Some(d) if d.is_ascii_hexdigit() && v <= 0x10FFFF => {
                                v = v * 16 + d.to_digit(16).unwrap_or(0)
                            }
                            _ => return Err(self.err("Unclosed hexadecimal escape sequence")),
                        }
                    }
                    ch(v, self)?
                } else {
                    let v = self.hex_digits(2)?;
                    ch(v, self)?
                }
            }
            'u' => {
                let v = self.hex_digits(4)?;
                if (0xD800..0xDC00).contains(&v) && self.peek() == Some('\\') && self.peek_at(1) == Some('u') {
                    let save = self.pos;
                    self.pos += 2;
                    let lo = self.hex_digits(4)?;
                    if (0xDC00..0xE000).contains(&lo) {
                        ch(0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00), self)?
                    } else {
                        self.pos = save;
                        Escape::Char('\u{fffd}')
                    }
                } else {
                    char::from_u32(v).map_or(Escape::Char('\u{fffd}'), Escape::Char)
                }
            }
            'c' => {
                let x = self.next().ok_or_else(|| self.err("Illegal control escape sequence"))?;
                ch(u32::from(x) ^ 64, self)?
            }
            'd' | 'D' | 's' | 'S' | 'w' | 'W' => {
                let (pos, uni) = match c.to_ascii_lowercase() {
                    'd' => ("0-9", r"\d"),
                    's' => (r"\x{9}-\x{D}\x{20}", r"\s"),
                    _ => ("a-zA-Z0-9_", r"\w"),
                };
                let neg = if c.is_ascii_uppercase() { "^" } else { "" };
                if self.flags.unicode_classes {
                    Escape::Class(format!("[{neg}{uni}]"))
                } else {
                    Escape::Class(format!("[{neg}{pos}]"))
                }
            }
            'h' => {
                Escape::Class(r"[\x{20}\x{9}\x{A0}\x{1680}\x{180E}\x{2000}-\x{200A}\x{202F}\x{205F}\x{3000}]".into())
            }
            'H' => {
                Escape::Class(r"[^\x{20}\x{9}\x{A0}\x{1680}\x{180E}\x{2000}-\x{200A}\x{202F}\x{205F}\x{3000}]".into())
            }
            'v' => Escape::Class(r"[\x{A}-\x{D}\x{85}\x{2028}\x{2029}]".into()),
            'V' => Escape::Class(r"[^\x{A}-\x{D}\x{85}\x{2028}\x{2029}]".into()),
            'p' | 'P' => {
                let name = if self.peek() == Some('{') {
                    self.pos += 1;
                    let mut name = String::new();
                    loop {
                        match self.next() {
                            Some('}') => break,
                            Some(c) => name.push(c),
                            None => return Err(self.err("Unclosed character family")),
                        }
                    }
                    name
                } else {
                    self.next().map(String::from).ok_or_else(|| self.err("Illegal character family"))?
                };
                let class =
                    property(&name).ok_or_else(|| self.err(&format!("Unknown character property name {{{name}}}")))?;
                if c == 'P' {
                    Escape::Class(format!("[^{}]", &class[1..class.len() - 1]))
                } else {
                    Escape::Class(class)
                }
            }
            'Q' => {
                let mut q = String::new();
                while let Some(c) = self.next() {
                    if c == '\\' && self.peek() == Some('E') {
                        self.pos += 1;
                        break;
                    }
                    q.push(c);
                }
                Escape::Quoted(q)
            }
            _ if in_class && c.is_ascii_alphanumeric() => return Err(self.err("Illegal/unsupported escape sequence")),
            'b' | 'B' => {
                if self.peek() == Some('{') {
                    return Err(self.err("Unsupported \\b{...} boundary"));
                }
                let w = self.word_class();
                Escape::Other(if c == 'b' {
                    format!("(?:(?<={w})(?!{w})|(?<!{w})(?={w}))")
                } else {
                    format!("(?:(?<={w})(?={w})|(?<!{w})(?!{w}))")
                })
            }
            'A' => Escape::Other(r"\A".into()),
            'z' => Escape::Other(r"\z".into()),
            'G' => Escape::Other(r"\G".into()),
            'Z' => {
                let before = self.out.len();
                self.end_of_input();
                let s = self.out.split_off(before);
                Escape::Other(s)
            }
            'R' => Escape::Other(r"(?>\r\n|[\n\x{B}\x{C}\r\x{85}\x{2028}\x{2029}])".into()),
            'k' => {
                if self.next() != Some('<') {
                    return Err(self.err("\\k is not followed by '<' for named capturing group"));
                }
                let mut name = String::new();
                loop {
                    match self.next() {
                        Some('>') => break,
                        Some(c) if c.is_ascii_alphanumeric() => name.push(c),
                        _ => return Err(self.err("named capturing group is missing trailing '>'")),
                    }
                }
                match self.names.get(&name) {
                    Some(n) => Escape::Other(format!(r"(?:\{n})")),
                    None => return Err(self.err(&format!("named capturing group <{name}> does not exist"))),
                }
            }
            '1'..='9' => {
                // Java takes more digits while they name an existing group.
                let mut n = c.to_digit(10).unwrap_or(0) as usize;
                while let Some(d) = self.peek().and_then(|c| c.to_digit(10)) {
                    let m = n * 10 + d as usize;
                    if m > self.groups {
                        break;
                    }
                    n = m;
                    self.pos += 1;
                }
                if n > self.groups {
                    // A reference to a group that is not there (yet) never matches in Java.
                    Escape::Other(r"(?!)".into())
                } else {
                    Escape::Other(format!(r"(?:\{n})"))
                }
            }
            c if c.is_ascii_alphabetic() => return Err(self.err("Illegal/unsupported escape sequence")),
            c => Escape::Char(c),
        })
    }
}

/// A `\p{name}` class, bracketed: Java's POSIX names are ASCII; `Is`/`java` forms map to Unicode
/// properties.
fn property(name: &str) -> Option<String> {
    let posix = match name {
        "Lower" => "a-z",
        "Upper" => "A-Z",
        "ASCII" => r"\x{0}-\x{7F}",
        "Alpha" => "a-zA-Z",
        "Digit" => "0-9",
        "Alnum" => "a-zA-Z0-9",
        "Punct" => r"\x{21}-\x{2F}\x{3A}-\x{40}\x{5B}-\x{60}\x{7B}-\x{7E}",
        "Graph" => r"\x{21}-\x{7E}",
        "Print" => r"\x{20}-\x{7E}",
        "Blank" => r"\x{20}\x{9}",
        "Cntrl" => r"\x{0}-\x{1F}\x{7F}",
        "XDigit" => "0-9a-fA-F",
        "Space" => r"\x{9}-\x{D}\x{20}",
        "javaLowerCase" => r"\p{Lowercase}",
        "javaUpperCase" => r"\p{Uppercase}",
        "javaWhitespace" => {
            r"\x{9}-\x{D}\x{1C}-\x{20}\x{1680}\x{2000}-\x{2006}\x{2008}-\x{200A}\x{2028}\x{2029}\x{205F}\x{3000}"
        }
        "javaLetter" => r"\p{L}",
        "javaDigit" => r"\p{Nd}",
        "javaLetterOrDigit" => r"\p{L}\p{Nd}",
        "javaAlphabetic" => r"\p{Alphabetic}",
        _ => "",
    };
    if !posix.is_empty() {
        return Some(format!("[{posix}]"));
    }
    let bare = name.strip_prefix("Is").unwrap_or(name);
    if bare.is_empty()
        || name.starts_with("In")
        || !bare.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '=' | ' ' | '-'))
    {
        return None;
    }
    // Let the regex engine validate the name.
    let class = format!(r"[\p{{{bare}}}]");
    regex::Regex::new(&class).ok().map(|_| class)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replace(s: &str, p: &str, r: &str) -> Result<String, ReplaceError> {
        let re = JavaRegex::new(p).unwrap();
        let rep = Replacement::parse(r, &re);
        Ok(re.replace_all(s, &rep, usize::MAX)?.unwrap_or_else(|| s.to_string()))
    }

    #[test]
    fn java_replace_all() {
        assert_eq!(replace("Hello World", "World", "Universe").unwrap(), "Hello Universe");
        assert_eq!(replace("Hello World", r"\s+", "").unwrap(), "HelloWorld");
        assert_eq!(replace("baaa", "a*", "X").unwrap(), "XbXX");
        assert_eq!(replace("abc", "", "-").unwrap(), "-a-b-c-");
        assert_eq!(replace("aé😀", "", "-").unwrap(), "-a-é-😀-");
        assert_eq!(replace("a.b.c", r"\.", "/").unwrap(), "a/b/c");
        assert_eq!(replace("host.example.com.", r"\.$", "").unwrap(), "host.example.com");
        assert_eq!(replace("host.example.com", r"\..*$", "").unwrap(), "host");
        assert_eq!(replace("10.0.0.1:8080", ":[0-9]+$", "").unwrap(), "10.0.0.1");
        assert_eq!(replace("John Smith", r"(\w+) (\w+)", "$2, $1").unwrap(), "Smith, John");
        assert_eq!(replace("ab", "(?<x>a)", "${x}${x}").unwrap(), "aab");
        assert_eq!(replace("ab", "a", r"\$1").unwrap(), "$1b");
        assert_eq!(replace("ab", "(a)", "$10").unwrap(), "a0b");
    }

    #[test]
    fn java_classes_are_ascii() {
        assert_eq!(replace("é1a_", r"\w", "x").unwrap(), "éxxx");
        assert_eq!(replace("١2", r"\d", "x").unwrap(), "١x");
        assert_eq!(replace("a\u{a0}b c", r"\s", "_").unwrap(), "a\u{a0}b_c");
        assert_eq!(replace("café x", r"\bcaf\b", "T").unwrap(), "Té x");
        assert_eq!(replace("ab<c>", r"\<c\>", "").unwrap(), "ab");
        assert_eq!(replace("a.b", r"\Q.\E", "!").unwrap(), "a!b");
        assert_eq!(replace("a]b", r"[]]", "!").unwrap(), "a!b");
        assert_eq!(replace("a-b", r"[\w&&[^a]]", "!").unwrap(), "a-!");
        assert_eq!(replace("AbC", r"\p{Upper}", "_").unwrap(), "_b_");
        assert_eq!(replace("A", r"\101", "x").unwrap_or_default(), "A");
        assert_eq!(replace("A", r"\0101", "x").unwrap(), "x");
        assert_eq!(replace("A", r"\u0041", "x").unwrap(), "x");
    }

    #[test]
    fn dot_and_dollar_follow_java() {
        assert_eq!(replace("a\r\nb", ".", "x").unwrap(), "x\r\nx");
        assert_eq!(replace("ab\n", "b$", "X").unwrap(), "aX\n");
        assert_eq!(replace("ab\r\n", "b$", "X").unwrap(), "aX\r\n");
        assert_eq!(replace("ab\n\n", "b$", "X").unwrap(), "ab\n\n");
        assert_eq!(replace("a\nb", "(?m)^", ">").unwrap(), ">a\n>b");
        assert_eq!(replace("a\nb", "(?s)a.b", "x").unwrap(), "x");
    }

    #[test]
    fn rule_patterns_compile() {
        for p in [
            r"[A-Za-z0-9_-]`(?![rntb]|\r|\n|\d)[A-Za-z0-9_-]",
            r"\$\{(\w++`){2,}\w++\}",
            r"[^0-9A-Za-z\s#=-]",
            r"^.*\\|\$$",
            r#"(?i)((x-api-key|api-key) *[:=] *)[^'" ]+"#,
            r"([0-9a-fA-F]{8}-[0-9a-fA-F]{4}|ns[a-z][A-Z0-9]{3,4}\.tmp|[0-9\.\-\_]{3,})",
            r"(?i)(authorization: *)[a-z0-9._~+/=-]{8,}",
            r"eyJ[A-Za-z0-9_-]+[.][A-Za-z0-9_-]+[.][A-Za-z0-9_-]+",
            r"\n\s+",
            "🔥",
        ] {
            JavaRegex::new(p).unwrap_or_else(|e| panic!("{p}: {e}"));
        }
        assert_eq!(
            replace("x-api-key: secret", r#"(?i)((x-api-key|api-key) *[:=] *)[^'" ]+"#, "$1<REDACTED>").unwrap(),
            "x-api-key: <REDACTED>"
        );
        assert_eq!(replace("${a`b`c}", r"\$\{(\w++`){2,}\w++\}", "🔥").unwrap(), "🔥");
        assert_eq!(replace("a`xb", r"[A-Za-z0-9_-]`(?![rntb]|\r|\n|\d)[A-Za-z0-9_-]", "🔥").unwrap(), "🔥b");
        assert_eq!(replace(r"DOMAIN\user$", r"^.*\\|\$$", "").unwrap(), "user");
    }

    #[test]
    fn errors() {
        assert!(JavaRegex::new("(ab").unwrap_err().starts_with("Unclosed group near index 3"));
        assert!(JavaRegex::new("[ab").unwrap_err().starts_with("Unclosed character class"));
        assert!(JavaRegex::new("a{x").unwrap_err().starts_with("Illegal repetition"));
        assert!(JavaRegex::new(r"\y").unwrap_err().starts_with("Illegal/unsupported escape sequence"));
        assert!(JavaRegex::new("*a").is_err());
        assert_eq!(
            replace("ab", "a", "$").unwrap_err(),
            ReplaceError::Illegal("Illegal group reference: group index is missing".into())
        );
        assert_eq!(replace("ab", "a", "$x").unwrap_err(), ReplaceError::Illegal("Illegal group reference".into()));
        assert_eq!(
            replace("ab", "a", "\\").unwrap_err(),
            ReplaceError::Illegal("character to be escaped is missing".into())
        );
        assert_eq!(replace("ab", "a", "$1").unwrap_err(), ReplaceError::NoGroup(1));
        assert_eq!(replace("ab", "a", "${n}").unwrap_err(), ReplaceError::Illegal("No group with name {n}".into()));
        // No match, no replacement parsing.
        assert_eq!(replace("b", "a", "$").unwrap(), "b");
    }
}
