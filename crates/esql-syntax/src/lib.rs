//! ES|QL syntax: a lexer and recursive-descent parser producing an [`ast::Query`] in which every
//! node carries its [`Span`], and the [`Diagnostic`] type shared with the analyzer.
//!
//! Nothing here knows about Arrow or DataFusion.
#![warn(missing_docs)]

pub mod ast;
pub mod diagnostic;
mod lexer;
mod parser;
pub mod span;

pub use diagnostic::{Diagnostic, ErrorKind};
pub use parser::parse;
pub use span::Span;
