//! `JSON_EXTRACT(json, path)`: the value at a JSONPath-like path (`a.b[0]['c.d']`, optional
//! `$` root) as a keyword: strings unquoted, numbers as written, objects and arrays as their
//! JSON text; null for a JSON null. A malformed input, a missing path or a bad index is null
//! with a warning. Like Elastic's streaming parser, the input is only read as far as the value.

use super::util::{Fail, const_str, expect, expect_string, per_row, string_array, strs};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::Expr;
use std::borrow::Cow;
use std::sync::Arc;

/// `JSON_EXTRACT`.
pub static DEF: ScalarDef = ScalarDef { name: "json_extract", mv_args: false, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("json_extract", args, 2, 2)?;
    expect(call, args, 0, true, |t| t.is_string(), "keyword, text or _source")?;
    expect_string(call, args, 1, true)?;
    Ok(Resolved::of(EsType::Keyword))
}

fn plan(p: PlanArgs) -> Result<Expr> {
    // A constant path is parsed once; Elastic fails the query when it is malformed.
    let constant = const_str(&p.literals, 1).map(JsonPath::parse);
    let kernel: Kernel = Arc::new(move |a: &[ArrayRef], ctx: &EvalCtx| {
        if let Some(Err(e)) = &constant {
            return Err(DataFusionError::Execution(e.clone()));
        }
        let fixed = constant.as_ref().and_then(|c| c.as_ref().ok());
        let (json, path) = (strs(&a[0])?, strs(&a[1])?);
        let out = per_row(ctx.rows, ctx.sink, |row| {
            let (Some(j), Some(p)) = (json[row], path[row]) else { return Ok(None) };
            let parsed;
            let path = match fixed {
                Some(f) => f,
                None => {
                    parsed = JsonPath::parse(p).map_err(Fail::illegal_argument)?;
                    &parsed
                }
            };
            extract(j, path).map_err(Fail::illegal_argument)
        })?;
        Ok(string_array(&out))
    });
    Ok(udf::call("json_extract", DataType::Utf8, p.sink, p.args, kernel))
}

/// One step of a path.
#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Key(String),
    Index(usize),
}

/// A parsed path.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPath {
    original: String,
    segments: Vec<Segment>,
}

fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

impl JsonPath {
    /// Parses a path with Elastic's rules and messages.
    ///
    /// # Errors
    /// `Invalid JSON path [...]: ...` (or the index error) for a malformed path.
    pub fn parse(original: &str) -> Result<JsonPath, String> {
        let invalid = |reason: &str, at: usize| format!("Invalid JSON path [{original}]: {reason} at position {at}");
        let chars: Vec<char> = original.chars().collect();
        // Strip the optional `$` root: `$.` entirely, `$[` keeping the bracket.
        let skip = match chars.as_slice() {
            [] | ['$'] => return Ok(JsonPath { original: original.to_string(), segments: Vec::new() }),
            ['$', '.', ..] => 2,
            ['$', '[', ..] => 1,
            ['$', ..] => return Err(invalid("expected [.] or [[] after [$]", 1)),
            _ => 0,
        };
        let path = &chars[skip..];
        let base = skip;
        let mut segments = Vec::new();
        let mut pos = 0;
        let mut read_any = false;
        let read_key = |pos: usize, segments: &mut Vec<Segment>| -> Result<usize, String> {
            let mut end = pos;
            while end < path.len() && !matches!(path[end], '.' | '[' | ']') {
                end += 1;
            }
            if end == pos {
                return Err(invalid("empty key name", base + pos));
            }
            segments.push(Segment::Key(path[pos..end].iter().collect()));
            Ok(end)
        };
        while pos < path.len() {
            match path[pos] {
                '.' => {
                    if !read_any {
                        return Err(invalid("path cannot start with a dot", base + pos));
                    }
                    pos += 1;
                    if pos >= path.len() {
                        return Err(invalid("path cannot end with a dot", base + pos - 1));
                    }
                    if path[pos] == '.' {
                        return Err(invalid("consecutive dots", base + pos - 1));
                    }
                    pos = read_key(pos, &mut segments)?;
                }
                '[' => {
                    let bracket = base + pos;
                    pos += 1;
                    while pos < path.len() && is_blank(path[pos]) {
                        pos += 1;
                    }
                    match path.get(pos) {
                        None => return Err(invalid("unterminated bracket", bracket)),
                        Some(']') => return Err(invalid("empty brackets", bracket)),
                        Some(&q @ ('\'' | '"')) => {
                            pos += 1;
                            let mut key = String::new();
                            loop {
                                match path.get(pos) {
                                    None => return Err(invalid("unterminated quoted key", bracket)),
                                    Some('\\') if pos + 1 < path.len() => {
                                        key.push(path[pos + 1]);
                                        pos += 2;
                                    }
                                    Some(&c) if c == q => {
                                        pos += 1;
                                        while pos < path.len() && is_blank(path[pos]) {
                                            pos += 1;
                                        }
                                        if path.get(pos) != Some(&']') {
                                            return Err(invalid("expected closing bracket after quoted key", bracket));
                                        }
                                        pos += 1;
                                        segments.push(Segment::Key(key));
                                        break;
                                    }
                                    Some(&c) => {
                                        key.push(c);
                                        pos += 1;
                                    }
                                }
                            }
                        }
                        Some(_) => {
                            let Some(close) = path[pos..].iter().position(|&c| c == ']').map(|i| pos + i) else {
                                return Err(invalid("missing closing bracket for array index", bracket));
                            };
                            let mut end = close;
                            while end > pos && is_blank(path[end - 1]) {
                                end -= 1;
                            }
                            let content: String = path[pos..end].iter().collect();
                            if content.is_empty() {
                                return Err(invalid("empty array index", bracket));
                            }
                            // Java's Integer.parseInt: optional sign, decimal digits, int range.
                            let Ok(index) = content.parse::<i32>() else {
                                return Err(invalid(
                                    &format!("expected integer array index, got [{content}]"),
                                    bracket,
                                ));
                            };
                            if content.len() > 1 && content.starts_with('0') {
                                return Err(invalid(
                                    &format!("leading zeros are not allowed in array index [{content}]"),
                                    bracket,
                                ));
                            }
                            let Ok(index) = usize::try_from(index) else {
                                return Err("array index out of bounds".into());
                            };
                            segments.push(Segment::Index(index));
                            pos = close + 1;
                        }
                    }
                }
                c => {
                    if read_any {
                        return Err(invalid(&format!("expected [.] or [[] before [{c}]"), base + pos));
                    }
                    pos = read_key(pos, &mut segments)?;
                }
            }
            read_any = true;
        }
        Ok(JsonPath { original: original.to_string(), segments })
    }
}

/// A JSON reader over the input bytes that validates only what it reads (Jackson's rules, with
/// comments allowed as Elasticsearch configures it).
struct Reader<'a> {
    b: &'a [u8],
    i: usize,
}

type Step<T> = Result<T, ()>;

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) -> Step<()> {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\n' | b'\r') => self.i += 1,
                Some(b'/') => match self.b.get(self.i + 1) {
                    Some(b'/') => {
                        while let Some(c) = self.peek() {
                            self.i += 1;
                            if c == b'\n' || c == b'\r' {
                                break;
                            }
                        }
                    }
                    Some(b'*') => {
                        self.i += 2;
                        loop {
                            match self.peek() {
                                None => return Err(()),
                                Some(b'*') if self.b.get(self.i + 1) == Some(&b'/') => {
                                    self.i += 2;
                                    break;
                                }
                                Some(_) => self.i += 1,
                            }
                        }
                    }
                    _ => return Err(()),
                },
                _ => return Ok(()),
            }
        }
    }

    fn expect(&mut self, c: u8) -> Step<()> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(())
        }
    }

    fn hex4(&mut self) -> Step<u32> {
        let mut v = 0;
        for _ in 0..4 {
            let d = self.peek().and_then(|c| char::from(c).to_digit(16)).ok_or(())?;
            v = v * 16 + d;
            self.i += 1;
        }
        Ok(v)
    }

    /// A string (at its opening quote), unescaped.
    fn string(&mut self) -> Step<Cow<'a, str>> {
        self.expect(b'"')?;
        let start = self.i;
        // Fast path: no escapes.
        while let Some(c) = self.peek() {
            match c {
                b'"' => {
                    let s = std::str::from_utf8(&self.b[start..self.i]).map_err(|_| ())?;
                    self.i += 1;
                    return Ok(Cow::Borrowed(s));
                }
                b'\\' => break,
                c if c < 0x20 => return Err(()),
                _ => self.i += 1,
            }
        }
        let mut out: Vec<u8> = self.b[start..self.i].to_vec();
        loop {
            match self.peek().ok_or(())? {
                b'"' => {
                    self.i += 1;
                    return String::from_utf8(out).map(Cow::Owned).map_err(|_| ());
                }
                b'\\' => {
                    self.i += 1;
                    let e = self.peek().ok_or(())?;
                    self.i += 1;
                    let c = match e {
                        b'u' => {
                            let hi = self.hex4()?;
                            if (0xD800..0xDC00).contains(&hi) && self.b.get(self.i..self.i + 2) == Some(b"\\u") {
                                let save = self.i;
                                self.i += 2;
                                let lo = self.hex4()?;
                                if (0xDC00..0xE000).contains(&lo) {
                                    char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                                        .unwrap_or('\u{fffd}')
                                } else {
                                    self.i = save;
                                    '\u{fffd}'
                                }
                            } else {
                                char::from_u32(hi).unwrap_or('\u{fffd}')
                            }
                        }
                        _ => json_escape(e).ok_or(())?,
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                c if c < 0x20 => return Err(()),
                c => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
    }

    fn digits(&mut self) -> usize {
        let s = self.i;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        self.i - s
    }

    /// A number (JSON grammar: no leading zeros, `+`, bare `.`), returned as written.
    fn number(&mut self) -> Step<&'a str> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => {
                self.i += 1;
                if matches!(self.peek(), Some(b'0'..=b'9')) {
                    return Err(());
                }
            }
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(()),
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return Err(());
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return Err(());
            }
        }
        if matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || c == b'_' || c == b'.') {
            return Err(());
        }
        std::str::from_utf8(&self.b[start..self.i]).map_err(|_| ())
    }

    fn literal(&mut self, word: &[u8]) -> Step<()> {
        if self.b.get(self.i..self.i + word.len()) != Some(word) {
            return Err(());
        }
        self.i += word.len();
        if matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80) {
            return Err(());
        }
        Ok(())
    }

    /// Skips one value (at its first byte), validating it.
    fn skip_value(&mut self, depth: usize) -> Step<()> {
        if depth > 1000 {
            return Err(());
        }
        match self.peek().ok_or(())? {
            b'{' => {
                self.i += 1;
                self.ws()?;
                if self.peek() == Some(b'}') {
                    self.i += 1;
                    return Ok(());
                }
                loop {
                    self.string()?;
                    self.ws()?;
                    self.expect(b':')?;
                    self.ws()?;
                    self.skip_value(depth + 1)?;
                    self.ws()?;
                    match self.peek() {
                        Some(b',') => {
                            self.i += 1;
                            self.ws()?;
                        }
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(());
                        }
                        _ => return Err(()),
                    }
                }
            }
            b'[' => {
                self.i += 1;
                self.ws()?;
                if self.peek() == Some(b']') {
                    self.i += 1;
                    return Ok(());
                }
                loop {
                    self.skip_value(depth + 1)?;
                    self.ws()?;
                    match self.peek() {
                        Some(b',') => {
                            self.i += 1;
                            self.ws()?;
                        }
                        Some(b']') => {
                            self.i += 1;
                            return Ok(());
                        }
                        _ => return Err(()),
                    }
                }
            }
            _ => self.scalar().map(|_| ()),
        }
    }

    /// A scalar value: `Some(text)`, or `None` for null.
    fn scalar(&mut self) -> Step<Option<Cow<'a, str>>> {
        match self.peek().ok_or(())? {
            b'"' => self.string().map(Some),
            b't' => self.literal(b"true").map(|()| Some(Cow::Borrowed("true"))),
            b'f' => self.literal(b"false").map(|()| Some(Cow::Borrowed("false"))),
            b'n' => self.literal(b"null").map(|()| None),
            _ => self.number().map(|n| Some(Cow::Borrowed(n))),
        }
    }
}

enum Miss {
    Invalid,
    Missing,
    OutOfBounds,
}

impl From<()> for Miss {
    fn from((): ()) -> Miss {
        Miss::Invalid
    }
}

fn navigate<'a>(r: &mut Reader<'a>, path: &JsonPath) -> Result<Option<Cow<'a, str>>, Miss> {
    r.ws()?;
    if r.peek().is_none() {
        return Err(Miss::Invalid);
    }
    for seg in &path.segments {
        match (r.peek(), seg) {
            (Some(b'{'), Segment::Key(k)) => {
                r.i += 1;
                r.ws()?;
                if r.peek() == Some(b'}') {
                    return Err(Miss::Missing);
                }
                loop {
                    let name = r.string()?;
                    r.ws()?;
                    r.expect(b':')?;
                    r.ws()?;
                    if name == k.as_str() {
                        break;
                    }
                    r.skip_value(0)?;
                    r.ws()?;
                    match r.peek() {
                        Some(b',') => {
                            r.i += 1;
                            r.ws()?;
                        }
                        Some(b'}') => return Err(Miss::Missing),
                        _ => return Err(Miss::Invalid),
                    }
                }
            }
            (Some(b'['), Segment::Index(n)) => {
                r.i += 1;
                r.ws()?;
                if r.peek() == Some(b']') {
                    return Err(Miss::OutOfBounds);
                }
                let mut idx = 0;
                while idx < *n {
                    r.skip_value(0)?;
                    r.ws()?;
                    match r.peek() {
                        Some(b',') => {
                            r.i += 1;
                            r.ws()?;
                        }
                        Some(b']') => return Err(Miss::OutOfBounds),
                        _ => return Err(Miss::Invalid),
                    }
                    idx += 1;
                }
            }
            (Some(b'{' | b'['), _) => return Err(Miss::Missing),
            _ => {
                // A scalar (which must itself be valid) has no children.
                r.scalar()?;
                return Err(Miss::Missing);
            }
        }
    }
    match r.peek() {
        Some(b'{' | b'[') => {
            let start = r.i;
            r.skip_value(0)?;
            let raw = std::str::from_utf8(&r.b[start..r.i]).map_err(|_| Miss::Invalid)?;
            Ok(Some(Cow::Borrowed(raw)))
        }
        _ => Ok(r.scalar()?),
    }
}

/// The value at `path` in `json`, or Elastic's reason why not.
///
/// # Errors
/// The `IllegalArgumentException` message Elastic reports.
pub fn extract<'a>(json: &'a str, path: &JsonPath) -> Result<Option<Cow<'a, str>>, String> {
    let mut r = Reader { b: json.as_bytes(), i: 0 };
    if r.ws().is_ok() && r.peek().is_none() {
        return Err("empty JSON input".into());
    }
    r.i = 0;
    navigate(&mut r, path).map_err(|m| match m {
        Miss::Invalid => "invalid JSON input".to_string(),
        Miss::Missing => format!("path [{}] does not exist", path.original),
        Miss::OutOfBounds => "array index out of bounds".to_string(),
    })
}

/// The character a JSON escape `\\<byte>` stands for, for the escapes of one character (all but
/// `\\u`, whose four hex digits follow); `None` for `u` and for bytes that start no escape.
pub fn json_escape(byte: u8) -> Option<char> {
    Some(match byte {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(json: &str, path: &str) -> Result<Option<String>, String> {
        extract(json, &JsonPath::parse(path)?).map(|v| v.map(Cow::into_owned))
    }

    #[test]
    fn extracts_values() {
        let doc = r#"{"name":"Alice","age":30,"ok":true,"n":null,"user":{"address":{"city":"London"}},
            "items":[{"id":1},{"id":2,"tags":["a","b"]}],"service.name":"svc","e":"a\"b\u00e9\ud83d\ude00"}"#;
        assert_eq!(get(doc, "name"), Ok(Some("Alice".into())));
        assert_eq!(get(doc, "$.name"), Ok(Some("Alice".into())));
        assert_eq!(get(doc, "age"), Ok(Some("30".into())));
        assert_eq!(get(doc, "ok"), Ok(Some("true".into())));
        assert_eq!(get(doc, "n"), Ok(None));
        assert_eq!(get(doc, "user.address.city"), Ok(Some("London".into())));
        assert_eq!(get(doc, "user['address'][\"city\"]"), Ok(Some("London".into())));
        assert_eq!(get(doc, "user.address"), Ok(Some(r#"{"city":"London"}"#.into())));
        assert_eq!(get(doc, "items[1].tags[0]"), Ok(Some("a".into())));
        assert_eq!(get(doc, "items[ 1 ].id"), Ok(Some("2".into())));
        assert_eq!(get(doc, "['service.name']"), Ok(Some("svc".into())));
        assert_eq!(get(doc, "e"), Ok(Some("a\"bé😀".into())));
        assert_eq!(get("[1, [2, 3]]", "[1]"), Ok(Some("[2, 3]".into())));
        assert_eq!(get("[1, [2, 3]]", "$[1][0]"), Ok(Some("2".into())));
        assert_eq!(get(" 42 ", ""), Ok(Some("42".into())));
        assert_eq!(get(r#"{"a":1.5e3}"#, "$"), Ok(Some(r#"{"a":1.5e3}"#.into())));
        assert_eq!(get(r#"{"a":1,"a":2}"#, "a"), Ok(Some("1".into())));
        assert_eq!(get("{/* c */\"a\": // x\n 7}", "a"), Ok(Some("7".into())));
        // Only what is read is validated.
        assert_eq!(get(r#"{"a":1, garbage"#, "a"), Ok(Some("1".into())));
    }

    #[test]
    fn warnings() {
        let doc = r#"{"a":{"b":[1,2]},"s":"x"}"#;
        assert_eq!(get(doc, "z"), Err("path [z] does not exist".into()));
        assert_eq!(get(doc, "a.b[5]"), Err("array index out of bounds".into()));
        assert_eq!(get(doc, "s.x"), Err("path [s.x] does not exist".into()));
        assert_eq!(get(doc, "a[0]"), Err("path [a[0]] does not exist".into()));
        assert_eq!(get("", "a"), Err("empty JSON input".into()));
        assert_eq!(get("  ", "a"), Err("empty JSON input".into()));
        assert_eq!(get("{\"a\":01}", "a"), Err("invalid JSON input".into()));
        assert_eq!(get("{'a':1}", "a"), Err("invalid JSON input".into()));
        assert_eq!(get("{\"x\":tru,\"a\":1}", "a"), Err("invalid JSON input".into()));
        assert_eq!(get("nope", "a"), Err("invalid JSON input".into()));
    }

    #[test]
    fn path_errors() {
        assert_eq!(
            JsonPath::parse("$name").unwrap_err(),
            "Invalid JSON path [$name]: expected [.] or [[] after [$] at position 1"
        );
        assert_eq!(
            JsonPath::parse(".a").unwrap_err(),
            "Invalid JSON path [.a]: path cannot start with a dot at position 0"
        );
        assert_eq!(
            JsonPath::parse("a.").unwrap_err(),
            "Invalid JSON path [a.]: path cannot end with a dot at position 1"
        );
        assert_eq!(JsonPath::parse("a..b").unwrap_err(), "Invalid JSON path [a..b]: consecutive dots at position 1");
        assert_eq!(JsonPath::parse("a[]").unwrap_err(), "Invalid JSON path [a[]]: empty brackets at position 1");
        assert_eq!(
            JsonPath::parse("a[01]").unwrap_err(),
            "Invalid JSON path [a[01]]: leading zeros are not allowed in array index [01] at position 1"
        );
        assert_eq!(
            JsonPath::parse("a[x]").unwrap_err(),
            "Invalid JSON path [a[x]]: expected integer array index, got [x] at position 1"
        );
        assert_eq!(JsonPath::parse("a[-1]").unwrap_err(), "array index out of bounds");
        assert_eq!(
            JsonPath::parse("$.a[0").unwrap_err(),
            "Invalid JSON path [$.a[0]: missing closing bracket for array index at position 3"
        );
        assert_eq!(
            JsonPath::parse("a['b'x]").unwrap_err(),
            "Invalid JSON path [a['b'x]]: expected closing bracket after quoted key at position 1"
        );
        assert_eq!(
            JsonPath::parse("a]").unwrap_err(),
            "Invalid JSON path [a]]: expected [.] or [[] before []] at position 1"
        );
        assert!(JsonPath::parse("$").unwrap().segments.is_empty());
        assert!(JsonPath::parse("$.").unwrap().segments.is_empty());
    }
}
