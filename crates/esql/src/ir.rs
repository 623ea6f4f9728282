//! The analyzer's output: a query after names, types and functions are resolved. The planner
//! turns it into a DataFusion plan without resolving anything again.

use crate::catalog::Index;
use crate::functions::{AggDef, ScalarDef};
use crate::types::EsType;
use esql_syntax::Span;
use esql_syntax::ast::{BinaryOp, NullsOrder, SortOrder};
use std::sync::Arc;

/// A column of a command's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Its name as the user sees it.
    pub name: String,
    /// Its ES|QL type.
    pub ty: EsType,
    /// Whether it may hold several values per row.
    pub multi: bool,
}

/// A constant value.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// `null`
    Null,
    /// boolean
    Boolean(bool),
    /// integer
    Integer(i32),
    /// long
    Long(i64),
    /// unsigned_long
    UnsignedLong(u64),
    /// double
    Double(f64),
    /// keyword or text
    String(String),
    /// ip, 16 bytes
    Ip([u8; 16]),
    /// version, encoded
    Version(Vec<u8>),
    /// date in epoch milliseconds
    Date(i64),
    /// date_nanos in epoch nanoseconds
    DateNanos(i64),
    /// A calendar span.
    Period {
        /// Months.
        months: i32,
        /// Days.
        days: i32,
    },
    /// A fixed span in milliseconds.
    Duration(i64),
    /// A multi-valued constant (all elements of the expression's type).
    List(Vec<Literal>),
}

/// A typed expression.
#[derive(Debug, Clone)]
pub struct TExpr {
    /// What it computes.
    pub kind: TExprKind,
    /// Result type.
    pub ty: EsType,
    /// Whether the result may be multi-valued.
    pub multi: bool,
    /// Where it was written.
    pub span: Span,
}

/// Typed expression variants.
#[derive(Debug, Clone)]
pub enum TExprKind {
    /// A constant.
    Literal(Literal),
    /// A column of the input.
    Column(String),
    /// A scalar function call (operators that need ES|QL semantics are calls too).
    Call {
        /// The function.
        func: &'static ScalarDef,
        /// Its arguments (already converted to the types the function asked for).
        args: Vec<TExpr>,
    },
    /// `a op b` where DataFusion's operator has exactly ES|QL's semantics (comparisons of equal
    /// types, AND, OR).
    Binary {
        /// The operator.
        op: BinaryOp,
        /// Left operand.
        left: Box<TExpr>,
        /// Right operand.
        right: Box<TExpr>,
    },
    /// `NOT a`
    Not(Box<TExpr>),
    /// `a IS [NOT] NULL`
    IsNull {
        /// The operand.
        expr: Box<TExpr>,
        /// IS NOT NULL.
        negated: bool,
    },
    /// `a [NOT] IN (list)`
    In {
        /// The operand.
        expr: Box<TExpr>,
        /// The candidates, same type as `expr`.
        list: Vec<TExpr>,
        /// NOT IN.
        negated: bool,
    },
    /// `a [NOT] LIKE/RLIKE patterns`
    Like {
        /// The operand.
        expr: Box<TExpr>,
        /// Patterns: string expressions, usually constants.
        patterns: Vec<TExpr>,
        /// NOT LIKE.
        negated: bool,
        /// RLIKE.
        regex: bool,
    },
}

/// A typed aggregate of `STATS`.
#[derive(Debug, Clone)]
pub struct TAgg {
    /// The aggregate function.
    pub func: &'static AggDef,
    /// Its arguments; `COUNT(*)` has none.
    pub args: Vec<TExpr>,
    /// Result type.
    pub ty: EsType,
    /// Whether the result is multi-valued (e.g. `VALUES`).
    pub multi: bool,
    /// `WHERE` filter.
    pub filter: Option<TExpr>,
    /// Where it was written.
    pub span: Span,
}

/// An aggregate output of `STATS`: an aggregate, or an expression over aggregates
/// (`avg = sum(x) / count(x)`), where `AggRef(i)` columns refer to `aggs[i]`.
#[derive(Debug, Clone)]
pub struct StatsOutput {
    /// Output column name.
    pub name: String,
    /// The expression over the aggregate results (columns named `__agg{i}`) and group keys.
    pub expr: TExpr,
}

/// One source index of `FROM`.
#[derive(Clone)]
pub struct Source {
    /// The index.
    pub index: Arc<dyn Index>,
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Source({})", self.index.name())
    }
}

/// A sort key.
#[derive(Debug, Clone)]
pub struct TSortKey {
    /// The key.
    pub expr: TExpr,
    /// Direction.
    pub order: SortOrder,
    /// Null placement (resolved to Elastic's default when not written).
    pub nulls: NullsOrder,
}

/// One processing step.
#[derive(Debug, Clone)]
pub enum Step {
    /// Read indices; the output columns are the merged fields (and metadata fields).
    From {
        /// The indices, in name order.
        sources: Vec<Source>,
        /// Columns to read: merged fields, then requested metadata fields.
        columns: Vec<Column>,
    },
    /// One row of constants.
    Row(Vec<(String, TExpr)>),
    /// Keep rows where the predicate is true.
    Where(TExpr),
    /// Add or replace columns, one after another.
    Eval(Vec<(String, TExpr)>),
    /// Aggregate.
    Stats {
        /// `INLINE STATS`: keep the input rows and add the aggregates to each.
        inline: bool,
        /// The aggregates.
        aggs: Vec<TAgg>,
        /// Group keys (name, expression).
        groups: Vec<(String, TExpr)>,
        /// The output columns after the aggregates, in order (aggregates, then groups).
        outputs: Vec<StatsOutput>,
    },
    /// Select and rename columns: (output name, input name).
    Project(Vec<(String, String)>),
    /// Sort.
    Sort(Vec<TSortKey>),
    /// At most this many rows.
    Limit(usize),
    /// One row per value of a multi-valued column.
    MvExpand(String),
    /// ENRICH with a match policy: adds the policy's fields of the source document whose match
    /// field equals `on`.
    Enrich {
        /// The policy's source index.
        index: Arc<dyn Index>,
        /// The match field in the source index.
        match_field: String,
        /// The input value.
        on: TExpr,
        /// (output name, source field), with the output column.
        fields: Vec<(String, Column)>,
    },
    /// LOOKUP JOIN: adds every non-key field of the lookup index rows matching on the keys.
    LookupJoin {
        /// The lookup index.
        index: Arc<dyn Index>,
        /// Join keys (same name on both sides).
        on: Vec<String>,
        /// The columns the lookup index adds.
        added: Vec<Column>,
    },
    /// DISSECT or GROK: adds (or replaces) the pattern's output columns.
    Extract {
        /// The input string.
        input: TExpr,
        /// The compiled pattern.
        pattern: Arc<crate::extract::Pattern>,
    },
}

/// An analyzed query.
#[derive(Debug, Clone)]
pub struct TypedQuery {
    /// The steps in order.
    pub steps: Vec<Step>,
    /// The output columns.
    pub columns: Vec<Column>,
    /// Warnings found by analysis (e.g. shadowed names), as Elastic words them.
    pub warnings: Vec<String>,
    /// Fields no index maps that `unmapped_fields = nullify` turned into null columns, with
    /// where each was first referenced.
    pub unmapped: Vec<(String, esql_syntax::Span)>,
}
