//! Byte ranges into the query text, and their line:column rendering.

/// A byte range `[start, end)` into the query text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end`.
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span { start: self.start.min(other.start), end: self.end.max(other.end) }
    }

    /// The text this span covers (empty if out of range).
    pub fn text(self, source: &str) -> &str {
        source.get(self.start..self.end).unwrap_or("")
    }

    /// 1-based line and column of the span's start, as Elastic reports them (`line 1:23`).
    /// Columns count characters, not bytes.
    pub fn line_col(self, source: &str) -> (usize, usize) {
        let upto = source.get(..self.start.min(source.len())).unwrap_or(source);
        let line = upto.matches('\n').count() + 1;
        let line_start = upto.rfind('\n').map(|i| i + 1).unwrap_or(0);
        let col = upto[line_start..].chars().count() + 1;
        (line, col)
    }
}
