//! The KQL syntax tree. Every node carries the [`Span`] of the query text it was parsed from.
//!
//! A query is a tree of [`Query`] nodes (`and`, `or`, `not`, field expressions, bare values);
//! the value side of `field: ...` is a tree of [`ValueQuery`] nodes, because KQL allows boolean
//! value lists there (`field:(a or (b and not c))`). Leaves are [`Literal`]s: quoted phrases or
//! unquoted text with `*` wildcards.
//!
//! [`Query`] implements `Display` as a compact S-expression, for tests and debugging:
//! `(and (field host.name web*) (not (range bytes >= 10)))`.

use std::fmt;

/// A byte range `start..end` into the query text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// The span `start..end`.
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span { start: self.start.min(other.start), end: self.end.max(other.end) }
    }

    /// The text this span covers (empty when out of range).
    pub fn text(self, source: &str) -> &str {
        source.get(self.start..self.end).unwrap_or("")
    }
}

/// A query node.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// What it is.
    pub kind: QueryKind,
    /// Where it was written (parenthesised queries include their parentheses).
    pub span: Span,
}

/// The query node variants.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryKind {
    /// The empty (or all-whitespace) query, which matches every document.
    MatchAll,
    /// `a or b or ...`: two or more alternatives.
    Or(Vec<Query>),
    /// `a and b and ...`: two or more conditions.
    And(Vec<Query>),
    /// `not a`
    Not(Box<Query>),
    /// `path:{ query }`: `query` with field names relative to the nested object `path`.
    Nested {
        /// The nested object's field name.
        path: Literal,
        /// The condition on the nested objects.
        query: Box<Query>,
    },
    /// `field < value`, `field <= value`, `field > value`, `field >= value`.
    Range {
        /// The field (may contain `*` wildcards).
        field: Literal,
        /// The comparison.
        op: RangeOp,
        /// The bound (a `*` in it is literal text, as in Kibana).
        value: Literal,
    },
    /// `field: value`, `field: (a or b)`, `field: *` (the field has a value).
    Field {
        /// The field (may contain `*` wildcards: every matching field is queried).
        field: Literal,
        /// The value condition.
        value: ValueQuery,
    },
    /// A value without a field: a full-text search across the default fields.
    Value(Literal),
}

/// A range operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RangeOp {
    /// `<`
    Lt,
    /// `<=`
    Lte,
    /// `>`
    Gt,
    /// `>=`
    Gte,
}

impl RangeOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            RangeOp::Lt => "<",
            RangeOp::Lte => "<=",
            RangeOp::Gt => ">",
            RangeOp::Gte => ">=",
        }
    }
}

impl fmt::Display for RangeOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

/// A condition on the values of one field: the right-hand side of `field: ...`.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueQuery {
    /// What it is.
    pub kind: ValueQueryKind,
    /// Where it was written.
    pub span: Span,
}

/// The value condition variants.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueQueryKind {
    /// `(a or b or ...)`
    Or(Vec<ValueQuery>),
    /// `(a and b and ...)`: every value must match (each against any of the field's values).
    And(Vec<ValueQuery>),
    /// `not a`
    Not(Box<ValueQuery>),
    /// One value.
    Value(Literal),
}

/// A literal: a field name, a value or a range bound.
#[derive(Debug, Clone, PartialEq)]
pub struct Literal {
    /// Quoted or unquoted.
    pub kind: LiteralKind,
    /// Where it was written (for unquoted text, without surrounding whitespace).
    pub span: Span,
}

/// The two kinds of literal.
#[derive(Debug, Clone, PartialEq)]
pub enum LiteralKind {
    /// `"..."` with escapes resolved: a phrase, in which `*` is an ordinary character.
    Quoted(String),
    /// Unquoted text with escapes resolved and surrounding whitespace trimmed, as pieces of text
    /// and `*` wildcards (an escaped `\*` is text). Empty when the text was only whitespace
    /// escapes (`a:\t`), which Kibana reads as the empty string.
    Unquoted(Vec<Part>),
}

/// A piece of an unquoted literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Literal text.
    Text(String),
    /// An unescaped `*`: any sequence of characters.
    Wildcard,
}

/// Kibana's special unquoted literals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    /// `null`
    Null,
    /// `true`
    True,
    /// `false`
    False,
}

impl Literal {
    /// True for an unquoted literal containing a `*` wildcard.
    pub fn has_wildcard(&self) -> bool {
        matches!(&self.kind, LiteralKind::Unquoted(parts) if parts.contains(&Part::Wildcard))
    }

    /// True for a lone unquoted `*` (an existence test in value position).
    pub fn is_lone_wildcard(&self) -> bool {
        matches!(&self.kind, LiteralKind::Unquoted(parts) if parts.as_slice() == [Part::Wildcard])
    }

    /// True for a quoted literal.
    pub fn is_quoted(&self) -> bool {
        matches!(self.kind, LiteralKind::Quoted(_))
    }

    /// The text with each wildcard written as `*` (so an escaped `\*` and a wildcard look the
    /// same): how Kibana hands a value to Elasticsearch when wildcards do not matter.
    pub fn text(&self) -> String {
        match &self.kind {
            LiteralKind::Quoted(s) => s.clone(),
            LiteralKind::Unquoted(parts) => parts
                .iter()
                .map(|p| match p {
                    Part::Text(t) => t.as_str(),
                    Part::Wildcard => "*",
                })
                .collect(),
        }
    }

    /// `null`, `true` or `false` when the literal is exactly that unquoted word (Kibana gives
    /// these words their JSON meaning; quoted, they are plain text).
    pub fn keyword(&self) -> Option<Keyword> {
        let LiteralKind::Unquoted(parts) = &self.kind else { return None };
        match parts.as_slice() {
            [Part::Text(t)] => match t.as_str() {
                "null" => Some(Keyword::Null),
                "true" => Some(Keyword::True),
                "false" => Some(Keyword::False),
                _ => None,
            },
            _ => None,
        }
    }
}

/// Characters that must be escaped in unquoted text.
const SPECIAL: &[char] = &['\\', '(', ')', ':', '<', '>', '"', '*', '{', '}'];

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            LiteralKind::Quoted(s) => {
                f.write_str("\"")?;
                for c in s.chars() {
                    match c {
                        '"' => f.write_str("\\\"")?,
                        '\\' => f.write_str("\\\\")?,
                        '\t' => f.write_str("\\t")?,
                        '\r' => f.write_str("\\r")?,
                        '\n' => f.write_str("\\n")?,
                        c => write!(f, "{c}")?,
                    }
                }
                f.write_str("\"")
            }
            LiteralKind::Unquoted(parts) => {
                for p in parts {
                    match p {
                        Part::Wildcard => f.write_str("*")?,
                        Part::Text(t) => {
                            for c in t.chars() {
                                match c {
                                    '\t' => f.write_str("\\t")?,
                                    '\r' => f.write_str("\\r")?,
                                    '\n' => f.write_str("\\n")?,
                                    c if SPECIAL.contains(&c) => write!(f, "\\{c}")?,
                                    c => write!(f, "{c}")?,
                                }
                            }
                        }
                    }
                }
                Ok(())
            }
        }
    }
}

fn write_list<T: fmt::Display>(f: &mut fmt::Formatter<'_>, head: &str, items: &[T]) -> fmt::Result {
    write!(f, "({head}")?;
    for i in items {
        write!(f, " {i}")?;
    }
    f.write_str(")")
}

impl fmt::Display for ValueQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ValueQueryKind::Or(items) => write_list(f, "or", items),
            ValueQueryKind::And(items) => write_list(f, "and", items),
            ValueQueryKind::Not(inner) => write!(f, "(not {inner})"),
            ValueQueryKind::Value(l) => write!(f, "{l}"),
        }
    }
}

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            QueryKind::MatchAll => f.write_str("(match_all)"),
            QueryKind::Or(items) => write_list(f, "or", items),
            QueryKind::And(items) => write_list(f, "and", items),
            QueryKind::Not(inner) => write!(f, "(not {inner})"),
            QueryKind::Nested { path, query } => write!(f, "(nested {path} {query})"),
            QueryKind::Range { field, op, value } => write!(f, "(range {field} {op} {value})"),
            QueryKind::Field { field, value } => write!(f, "(field {field} {value})"),
            QueryKind::Value(l) => write!(f, "(value {l})"),
        }
    }
}
