//! The ES|QL engine: analysis against a [`catalog::Catalog`], Elastic's semantics for types,
//! multi-values, nulls and warnings, and execution on Apache DataFusion.
//!
//! The entry point is [`execute`]: query text in, [`QueryOutput`] (columns, Arrow batches,
//! warnings) out. [`analyze`] runs the parser and analyzer alone, for `saker check`.
#![warn(missing_docs)]

pub mod analyzer;
pub mod catalog;
pub mod convert;
pub mod extract;
pub mod functions;
pub mod ir;
pub mod kql;
pub mod optimizer;
pub mod planner;
pub mod render;
pub mod types;
pub mod udf;
pub mod version;
pub mod warnings;

pub use datafusion;
pub use esql_syntax as syntax;

mod engine;
pub use engine::{QueryError, QueryOptions, QueryOutput, UnmappedFields, Value, analyze, execute, explain, session};
