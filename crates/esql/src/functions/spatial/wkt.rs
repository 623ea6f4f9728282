//! Reading and writing points as Well-Known Text, the way Elasticsearch does.
//!
//! Reading follows Elasticsearch's WKT reader token by token, so that a malformed string fails
//! with the same message: words are runs of letters, digits, `-`, `+` and `.`; spaces, tabs and
//! line breaks separate tokens; `#` starts a comment that runs to the end of the line; every other
//! character is a token of its own. Text after the geometry is ignored, as Elasticsearch does.
//! Writing prints `POINT (x y)` with Java's double formatting (`POINT (1.0 2.0)`).

use crate::convert::format_double;

/// A point: `x` is the longitude and `y` the latitude of a geo_point; `z` is kept when given.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// x (longitude)
    pub x: f64,
    /// y (latitude)
    pub y: f64,
    /// Optional third coordinate.
    pub z: Option<f64>,
}

impl Point {
    /// A two-dimensional point.
    pub fn new(x: f64, y: f64) -> Point {
        Point { x, y, z: None }
    }

    /// The point as Elasticsearch prints it: `POINT (x y)` or `POINT (x y z)`.
    pub fn to_wkt(&self) -> String {
        match self.z {
            Some(z) => format!("POINT ({} {} {})", format_double(self.x), format_double(self.y), format_double(z)),
            None => format!("POINT ({} {})", format_double(self.x), format_double(self.y)),
        }
    }
}

/// The geometry types Elasticsearch's WKT reader knows besides `point`.
const OTHER_TYPES: [&str; 8] =
    ["multipoint", "linestring", "multilinestring", "polygon", "multipolygon", "bbox", "geometrycollection", "circle"];

/// Why a string is not a point, as the message of Elasticsearch's exception (without the
/// `Failed to parse WKT: ` prefix, which [`parse_point`]'s callers add).
#[derive(Debug, Clone, PartialEq)]
pub enum WktError {
    /// Not WKT, or malformed: Elasticsearch's parser message.
    Syntax(String),
    /// Valid WKT of another geometry type (upper-case type name).
    NotAPoint(String),
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Char(char),
    Eof,
}

struct Tokens<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    pushed: Option<Token>,
    last: Token,
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '+' | '.') || u32::from(c) >= 160
}

impl<'a> Tokens<'a> {
    fn new(s: &'a str) -> Tokens<'a> {
        Tokens { chars: s.chars().peekable(), pushed: None, last: Token::Eof }
    }

    fn next(&mut self) -> Token {
        if let Some(t) = self.pushed.take() {
            self.last = t.clone();
            return t;
        }
        let t = loop {
            match self.chars.next() {
                None => break Token::Eof,
                Some(' ' | '\t' | '\r' | '\n') => {}
                Some('#') => {
                    for c in self.chars.by_ref() {
                        if c == '\n' || c == '\r' {
                            break;
                        }
                    }
                }
                Some(c) if is_word_char(c) => {
                    let mut w = String::from(c);
                    while let Some(&c) = self.chars.peek() {
                        if !is_word_char(c) {
                            break;
                        }
                        w.push(c);
                        self.chars.next();
                    }
                    break Token::Word(w);
                }
                Some(c) => break Token::Char(c),
            }
        };
        self.last = t.clone();
        t
    }

    fn push_back(&mut self) {
        self.pushed = Some(self.last.clone());
    }

    /// How Elasticsearch names the current token in messages.
    fn describe(&self) -> String {
        match &self.last {
            Token::Word(w) => w.clone(),
            Token::Eof => "END-OF-STREAM".to_string(),
            Token::Char(c) => format!("'{c}'"),
        }
    }

    /// A word, `EMPTY` (any case), or one of `(`, `)`, `,`.
    fn word(&mut self) -> Result<String, String> {
        match self.next() {
            Token::Word(w) if w.eq_ignore_ascii_case("EMPTY") => Ok("EMPTY".to_string()),
            Token::Word(w) => Ok(w),
            Token::Char(c @ ('(' | ')' | ',')) => Ok(c.to_string()),
            _ => Err(format!("expected word but found: {}", self.describe())),
        }
    }

    fn number(&mut self) -> Result<f64, String> {
        match self.next() {
            Token::Word(w) if w.eq_ignore_ascii_case("NaN") => Ok(f64::NAN),
            Token::Word(w) => java_parse_double(&w).ok_or_else(|| format!("invalid number found: {w}")),
            _ => Err(format!("expected number but found: {}", self.describe())),
        }
    }

    fn number_next(&mut self) -> bool {
        let t = self.next();
        self.push_back();
        matches!(t, Token::Word(_))
    }
}

/// Java's `Double.parseDouble` for the decimal forms (an optional trailing `d`/`f` type suffix,
/// `Infinity`); hexadecimal forms are not read.
pub fn java_parse_double(s: &str) -> Option<f64> {
    let t = s.trim();
    let body = t.strip_suffix(['d', 'D', 'f', 'F']).unwrap_or(t);
    let unsigned = body.strip_prefix(['+', '-']).unwrap_or(body);
    if unsigned == "Infinity" {
        return Some(if body.starts_with('-') { f64::NEG_INFINITY } else { f64::INFINITY });
    }
    // Rust also reads `inf`, `nan` and `infinity` in any case, which Java does not.
    if !unsigned.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return None;
    }
    body.parse::<f64>().ok()
}

/// Reads WKT as Elasticsearch does and returns the point it describes (no range checks).
pub fn parse_point(s: &str) -> Result<Point, WktError> {
    let mut t = Tokens::new(s);
    let kind = t.word().map_err(WktError::Syntax)?.to_lowercase();
    // `Z` or `M` may follow the type name; a token that is not a word is consumed silently.
    let explicit_zm = match t.word() {
        Ok(w) if w == "Z" || w == "M" => true,
        Ok(_) => {
            t.push_back();
            false
        }
        Err(_) => false,
    };
    if kind != "point" {
        if OTHER_TYPES.contains(&kind.as_str()) {
            return Err(WktError::NotAPoint(kind.to_uppercase()));
        }
        return Err(WktError::Syntax(format!("Unknown geometry type: {kind}")));
    }
    let open = t.word().map_err(WktError::Syntax)?;
    if open == "EMPTY" {
        return Err(WktError::NotAPoint("POINT EMPTY".to_string()));
    }
    if open != "(" {
        return Err(WktError::Syntax(format!("expected EMPTY or ( but found: {}", t.describe())));
    }
    let x = t.number().map_err(WktError::Syntax)?;
    let y = t.number().map_err(WktError::Syntax)?;
    let z = if t.number_next() { Some(t.number().map_err(WktError::Syntax)?) } else { None };
    match t.word() {
        Ok(w) if w == ")" => {}
        Ok(_) => return Err(WktError::Syntax(format!("expected ) but found: {}", t.describe()))),
        Err(e) => return Err(WktError::Syntax(e)),
    }
    if explicit_zm && z.is_none() {
        return Err(WktError::Syntax(
            "When specifying 'Z' or 'M', coordinates must include three values. Only two coordinates were provided"
                .to_string(),
        ));
    }
    Ok(Point { x, y, z })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn syntax(s: &str) -> String {
        match parse_point(s) {
            Err(WktError::Syntax(m)) => m,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn reads_points() {
        assert_eq!(parse_point("POINT(1 2)"), Ok(Point::new(1.0, 2.0)));
        assert_eq!(parse_point("point ( -71.34  41.12 )"), Ok(Point::new(-71.34, 41.12)));
        assert_eq!(parse_point("POINT (1 2 3)"), Ok(Point { x: 1.0, y: 2.0, z: Some(3.0) }));
        assert_eq!(parse_point("POINT Z (1 2 3)"), Ok(Point { x: 1.0, y: 2.0, z: Some(3.0) }));
        assert_eq!(parse_point("POINT(1e1 .5) trailing"), Ok(Point::new(10.0, 0.5)));
        assert_eq!(parse_point("POINT(1 2) # comment"), Ok(Point::new(1.0, 2.0)));
        assert!(parse_point("POINT(NaN nan)").is_ok_and(|p| p.x.is_nan() && p.y.is_nan()));
    }

    #[test]
    fn errors_like_elastic() {
        assert_eq!(syntax("POINTX(42.97109630194 14.7552534413725)"), "Unknown geometry type: pointx");
        assert_eq!(syntax("POINT(111)"), "expected number but found: ')'");
        assert_eq!(syntax(""), "expected word but found: END-OF-STREAM");
        assert_eq!(syntax("POINT"), "expected word but found: END-OF-STREAM");
        assert_eq!(syntax("POINT 1 2"), "expected EMPTY or ( but found: 1");
        assert_eq!(syntax("POINT(1 2"), "expected word but found: END-OF-STREAM");
        assert_eq!(syntax("POINT(1 2,"), "expected ) but found: ','");
        assert_eq!(syntax("POINT(a 2)"), "invalid number found: a");
        assert_eq!(syntax("POINT(inf 2)"), "invalid number found: inf");
        assert_eq!(syntax("Invalid Geometry"), "Unknown geometry type: invalid");
        assert!(syntax("POINT Z (1 2)").starts_with("When specifying 'Z' or 'M'"));
        assert_eq!(parse_point("LINESTRING(1 2, 3 4)"), Err(WktError::NotAPoint("LINESTRING".into())));
        assert_eq!(parse_point("POINT EMPTY"), Err(WktError::NotAPoint("POINT EMPTY".into())));
    }

    #[test]
    fn writes_java_doubles() {
        assert_eq!(Point::new(1.0, 2.0).to_wkt(), "POINT (1.0 2.0)");
        assert_eq!(Point::new(-71.34, 41.12).to_wkt(), "POINT (-71.34 41.12)");
        assert_eq!(Point::new(42.97109630194, 14.7552534413725).to_wkt(), "POINT (42.97109630194 14.7552534413725)");
        assert_eq!(Point::new(1e-4, 0.0).to_wkt(), "POINT (1.0E-4 0.0)");
        assert_eq!(Point { x: 1.0, y: 2.0, z: Some(3.5) }.to_wkt(), "POINT (1.0 2.0 3.5)");
    }

    #[test]
    fn java_doubles() {
        assert_eq!(java_parse_double("1.5d"), Some(1.5));
        assert_eq!(java_parse_double("-Infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(java_parse_double("+1"), Some(1.0));
        assert_eq!(java_parse_double("1."), Some(1.0));
        assert_eq!(java_parse_double("inf"), None);
        assert_eq!(java_parse_double("infinity"), None);
        assert_eq!(java_parse_double("1e"), None);
    }
}
