//! The ES|QL abstract syntax tree: every node carries the [`Span`] of the text it came from.

use crate::span::Span;

/// A whole query: one source command followed by processing commands.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// The commands in pipeline order; the first one is a source command.
    pub commands: Vec<Command>,
    /// The span of the whole query text.
    pub span: Span,
}

/// An identifier as written, possibly dotted (`source.ip`) and possibly quoted with backticks.
/// `name` is the resolved field name: backticks removed, doubled backticks unescaped, parts joined
/// with `.`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ident {
    /// The field name with backticks removed.
    pub name: String,
    /// Where it was written.
    pub span: Span,
}

/// A field name pattern as used by `KEEP`, `DROP`, `RENAME`: may contain `*`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NamePattern {
    /// The pattern with backticks removed; `*` matches any run of characters.
    pub pattern: String,
    /// Where it was written.
    pub span: Span,
}

impl NamePattern {
    /// True when the pattern contains a `*` wildcard.
    pub fn is_wildcard(&self) -> bool {
        self.pattern.contains('*')
    }
}

/// One ES|QL command with its span (from the command keyword to its last token).
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    /// What the command does.
    pub kind: CommandKind,
    /// The command's text.
    pub span: Span,
}

/// The commands of ES|QL.
#[derive(Debug, Clone, PartialEq)]
pub enum CommandKind {
    /// `FROM idx, pat*, -excl [METADATA _id, _index]`
    From(From),
    /// `ROW a = 1, b = "x"`
    Row(Vec<Field>),
    /// `SHOW INFO`
    ShowInfo,
    /// `WHERE expr`
    Where(Expr),
    /// `EVAL a = expr, expr`
    Eval(Vec<Field>),
    /// `STATS aggs BY groups` (also `INLINE STATS` / `INLINESTATS` when `inline`).
    Stats(Stats),
    /// `KEEP a, b*`
    Keep(Vec<NamePattern>),
    /// `DROP a, b*`
    Drop(Vec<NamePattern>),
    /// `RENAME old AS new, ...` (also `new = old`).
    Rename(Vec<Rename>),
    /// `SORT a DESC NULLS LAST, b`
    Sort(Vec<SortKey>),
    /// `LIMIT n`
    Limit(Expr),
    /// `DISSECT input "pattern" APPEND_SEPARATOR="sep"`
    Dissect(Dissect),
    /// `GROK input "pattern"`
    Grok(Grok),
    /// `MV_EXPAND field`
    MvExpand(Ident),
    /// `ENRICH policy ON field WITH a = b, c`
    Enrich(Enrich),
    /// `LOOKUP JOIN index ON a, b`
    LookupJoin(LookupJoin),
    /// A command that parses but that Saker does not run (e.g. `COMPLETION`, `FORK`); the analyzer
    /// refuses it by name.
    Unsupported {
        /// The command keyword as written, upper-cased.
        name: String,
    },
}

/// The `FROM` source command.
#[derive(Debug, Clone, PartialEq)]
pub struct From {
    /// Index patterns in order, e.g. `logs-*`, `-logs-debug*`, `cluster:idx`.
    pub indices: Vec<IndexPattern>,
    /// `METADATA` fields, e.g. `_id`, `_index`.
    pub metadata: Vec<Ident>,
}

/// One comma-separated index pattern of `FROM`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexPattern {
    /// The pattern text with quotes removed (`logs-*`, `-excluded`, `remote:idx`).
    pub pattern: String,
    /// Where it was written.
    pub span: Span,
}

/// `name = expr`, or an unnamed `expr` whose column name is its source text.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The assigned name, if any.
    pub name: Option<Ident>,
    /// The value.
    pub expr: Expr,
    /// The span of the whole field (name and expression).
    pub span: Span,
}

/// `STATS` and `INLINE STATS`.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    /// `INLINE STATS` (or the older `INLINESTATS`) rather than `STATS`.
    pub inline: bool,
    /// The aggregates, each optionally filtered by `WHERE`.
    pub aggregates: Vec<AggField>,
    /// The `BY` groupings (may be assignments such as `b = BUCKET(...)`).
    pub groups: Vec<Field>,
}

/// One aggregate of `STATS`: `name = agg(...) WHERE cond`.
#[derive(Debug, Clone, PartialEq)]
pub struct AggField {
    /// The aggregate expression with its optional name.
    pub field: Field,
    /// The per-aggregate filter.
    pub filter: Option<Expr>,
}

/// `RENAME old AS new`.
#[derive(Debug, Clone, PartialEq)]
pub struct Rename {
    /// The existing column (may be a wildcard pattern in newer ES|QL; parsed as a pattern).
    pub old: NamePattern,
    /// The new name.
    pub new: NamePattern,
    /// The whole clause.
    pub span: Span,
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    /// `ASC` (the default).
    Asc,
    /// `DESC`.
    Desc,
}

/// Null placement in `SORT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NullsOrder {
    /// `NULLS FIRST`.
    First,
    /// `NULLS LAST`.
    Last,
}

/// One key of `SORT`.
#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    /// The sort expression.
    pub expr: Expr,
    /// `ASC` unless `DESC` was written.
    pub order: SortOrder,
    /// Explicit `NULLS FIRST`/`NULLS LAST`, if written. Elastic's default is nulls last for `ASC`
    /// and nulls first for `DESC`.
    pub nulls: Option<NullsOrder>,
    /// The whole key.
    pub span: Span,
}

/// `DISSECT input "pattern" [APPEND_SEPARATOR = "sep"]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dissect {
    /// The input expression (usually a field).
    pub input: Expr,
    /// The dissect pattern, unescaped.
    pub pattern: String,
    /// Where the pattern string was written.
    pub pattern_span: Span,
    /// Options such as `APPEND_SEPARATOR`, name as written (case preserved) and value.
    pub options: Vec<(Ident, Expr)>,
}

/// `GROK input "pattern"`.
#[derive(Debug, Clone, PartialEq)]
pub struct Grok {
    /// The input expression (usually a field).
    pub input: Expr,
    /// The grok pattern, unescaped.
    pub pattern: String,
    /// Where the pattern string was written.
    pub pattern_span: Span,
}

/// `ENRICH [mode:]policy [ON field] [WITH [new =] field, ...]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Enrich {
    /// The policy name, without the `_mode:` prefix.
    pub policy: Ident,
    /// The `_any`, `_coordinator` or `_remote` prefix, if written.
    pub mode: Option<String>,
    /// The match field, `ON field`.
    pub on: Option<Ident>,
    /// `WITH` clauses: `(new name, enrich field)`; `new` is `None` for a bare field.
    pub with: Vec<(Option<Ident>, Ident)>,
}

/// `LOOKUP JOIN index ON field, ...`.
#[derive(Debug, Clone, PartialEq)]
pub struct LookupJoin {
    /// The lookup index.
    pub index: IndexPattern,
    /// The join keys.
    pub on: Vec<Ident>,
}

/// An expression with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// What the expression is.
    pub kind: ExprKind,
    /// The text it came from.
    pub span: Span,
}

/// Expression variants.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// A literal value.
    Literal(Literal),
    /// A field reference.
    Field(Ident),
    /// A query parameter: `?`, `?name`, `?1`.
    Param(Param),
    /// `a op b`.
    Binary {
        /// The operator.
        op: BinaryOp,
        /// Left operand.
        left: Box<Expr>,
        /// Right operand.
        right: Box<Expr>,
    },
    /// `-a`, `NOT a`.
    Unary {
        /// The operator.
        op: UnaryOp,
        /// The operand.
        expr: Box<Expr>,
    },
    /// `f(args)`, `COUNT(*)`; `name` is lower-cased.
    Call {
        /// Function name, lower-cased.
        name: String,
        /// Where the name was written.
        name_span: Span,
        /// Arguments in order.
        args: Vec<Expr>,
        /// `COUNT(*)`.
        star: bool,
    },
    /// `expr [NOT] IN (a, b, ...)`.
    In {
        /// The tested value.
        expr: Box<Expr>,
        /// The candidates.
        list: Vec<Expr>,
        /// `NOT IN`.
        negated: bool,
    },
    /// `expr [NOT] LIKE pattern` or `expr [NOT] LIKE (p1, p2)`; also `RLIKE`.
    Like {
        /// The tested value.
        expr: Box<Expr>,
        /// The patterns (string literals or parameters).
        patterns: Vec<Expr>,
        /// `NOT LIKE`.
        negated: bool,
        /// `RLIKE` (regular expression) rather than `LIKE` (wildcards).
        regex: bool,
    },
    /// `expr IS [NOT] NULL`.
    IsNull {
        /// The tested value.
        expr: Box<Expr>,
        /// `IS NOT NULL`.
        negated: bool,
    },
    /// `expr::type`.
    Cast {
        /// The value.
        expr: Box<Expr>,
        /// The target type name, lower-cased as written (`ip`, `datetime`, `long`, ...).
        to: String,
        /// Where the type name was written.
        to_span: Span,
    },
    /// `field : "query"` full-text match.
    Match {
        /// The matched field.
        field: Box<Expr>,
        /// The query value.
        query: Box<Expr>,
    },
    /// A map literal `{"key": value, ...}` (function options).
    Map(Vec<(String, Expr)>),
}

/// A query parameter reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Param {
    /// `?`: the next positional parameter (0-based index assigned by the parser, in order).
    Anonymous(usize),
    /// `?1`: 1-based position.
    Positional(usize),
    /// `?name`.
    Named(String),
}

/// Literal values.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// `null`.
    Null,
    /// `true` / `false`.
    Boolean(bool),
    /// An integer literal that fits in a signed 64-bit integer.
    Integer(i64),
    /// An integer literal above `i64::MAX` (unsigned_long range), or its decimal text if it does
    /// not fit there either (then it is a double).
    BigInteger(String),
    /// A decimal literal (`1.5`, `1e3`, `.5`).
    Decimal(f64),
    /// A string literal, unescaped.
    String(String),
    /// A time span: `1 day`, `8 hours`, `5m`. `value` may be negative only via unary minus.
    TimeSpan {
        /// The count.
        value: i64,
        /// The unit as written, lower-cased (`day`, `hours`, `m`, `min`, ...).
        unit: String,
    },
    /// A list literal `[1, 2, 3]` (only in `ROW` and function arguments).
    List(Vec<Expr>),
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// `==`
    Eq,
    /// `!=`
    NotEq,
    /// `<`
    Lt,
    /// `<=`
    LtEq,
    /// `>`
    Gt,
    /// `>=`
    GtEq,
    /// `AND`
    And,
    /// `OR`
    Or,
}

impl BinaryOp {
    /// The operator as ES|QL writes it.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
            BinaryOp::Eq => "==",
            BinaryOp::NotEq => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::LtEq => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::GtEq => ">=",
            BinaryOp::And => "AND",
            BinaryOp::Or => "OR",
        }
    }
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// `-x`
    Neg,
    /// `NOT x`
    Not,
}
