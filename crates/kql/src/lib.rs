//! KQL, the Kibana Query Language: a parser producing a [`Query`] tree in which every node
//! carries its [`Span`], with Kibana's grammar and Kibana's syntax error messages
//! ([`ParseError`]).
//!
//! The grammar follows Kibana's `@kbn/es-query` kuery grammar: `and` binds tighter than `or`,
//! `not` tighter than both; values may be value lists (`field:(a or b)`), quoted phrases,
//! unquoted text with `*` wildcards, ranges (`field >= 10`), existence (`field:*`) and nested
//! queries (`path:{ query }`). What the query *means* against data is up to the caller (the ES|QL
//! engine compiles it to a filter expression).
//!
//! Nothing here knows about Arrow or DataFusion.
//!
//! ```
//! let q = kql::parse("process.name:(cmd.exe or powershell.exe) and not user.id:\"S-1-5-18\"").unwrap();
//! assert_eq!(
//!     q.to_string(),
//!     "(and (field process.name (or cmd.exe powershell.exe)) (not (field user.id \"S-1-5-18\")))"
//! );
//! ```
#![warn(missing_docs)]

pub mod ast;
mod error;
mod parser;

pub use ast::{Keyword, Literal, LiteralKind, Part, Query, QueryKind, RangeOp, Span, ValueQuery, ValueQueryKind};
pub use error::ParseError;
pub use parser::{MAX_DEPTH, parse};
