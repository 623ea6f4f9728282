//! [`ParseError`]: a KQL syntax error, worded as Kibana words it.

use thiserror::Error;

/// A KQL syntax error.
///
/// The message is Kibana's (`Expected AND, OR, end of input, whitespace but ")" found.`): the
/// grammar elements that could have continued the query at the furthest point the parser
/// reached, sorted, then what was found there. [`ParseError::render`] adds Kibana's two extra
/// lines: the query, and a caret under the error position.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message}")]
pub struct ParseError {
    /// The one-line message.
    pub message: String,
    /// Byte offset of the error in the query.
    pub offset: usize,
    /// What could have come next, as Kibana names it (`"("`, `AND`, `field name`, `value`,
    /// `whitespace`, `end of input`...). Empty for errors that are not about the grammar (a
    /// query nested too deeply).
    pub expected: Vec<String>,
    /// The character found at `offset` (`None` at the end of the query).
    pub found: Option<char>,
}

impl ParseError {
    /// Kibana's full error text: the message, the query, and a caret under the error position.
    pub fn render(&self, query: &str) -> String {
        let column = query.get(..self.offset).map_or(0, |s| s.chars().count());
        format!("{}\n{}\n{}^", self.message, query, "-".repeat(column))
    }
}
