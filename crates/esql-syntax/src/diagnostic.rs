//! Compiler-style diagnostics shared by the parser and the analyzer.

use crate::span::Span;
use std::fmt;

/// The family of a diagnostic, matching the error types Elasticsearch reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The text does not parse (`parsing_exception`).
    Parsing,
    /// The query parses but is invalid (`verification_exception`).
    Verification,
}

impl ErrorKind {
    /// The Elasticsearch error type name.
    pub fn es_type(self) -> &'static str {
        match self {
            ErrorKind::Parsing => "parsing_exception",
            ErrorKind::Verification => "verification_exception",
        }
    }
}

/// One problem in a query, with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Parsing or verification.
    pub kind: ErrorKind,
    /// Lower-case message without position, names in brackets as Elastic writes them.
    pub message: String,
    /// Where in the query.
    pub span: Span,
    /// Extra notes.
    pub notes: Vec<String>,
    /// A suggestion, e.g. "did you mean `process.name`?".
    pub help: Option<String>,
}

impl Diagnostic {
    /// A parsing error.
    pub fn parsing(span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic { kind: ErrorKind::Parsing, message: message.into(), span, notes: Vec::new(), help: None }
    }

    /// A verification (analysis) error.
    pub fn verification(span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic { kind: ErrorKind::Verification, message: message.into(), span, notes: Vec::new(), help: None }
    }

    /// Adds a help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// `line L:C: message`, as Elastic prints it.
    pub fn to_elastic_string(&self, source: &str) -> String {
        let (line, col) = self.span.line_col(source);
        format!("line {line}:{col}: {}", self.message)
    }

    /// A rustc-style rendering: message, source line and caret, notes and help.
    pub fn render(&self, source: &str, origin: &str) -> String {
        let (line, col) = self.span.line_col(source);
        let mut out = format!("error[{}]: {}\n", self.kind.es_type(), self.message);
        out.push_str(&format!("  --> {origin}:{line}:{col}\n"));
        if let Some(text) = source.lines().nth(line - 1) {
            let gutter = line.to_string().len();
            let width = self.span.text(source).lines().next().map(|l| l.chars().count()).unwrap_or(0).max(1);
            out.push_str(&format!("{:gutter$} |\n", ""));
            out.push_str(&format!("{line} | {text}\n"));
            out.push_str(&format!("{:gutter$} | {}{}\n", "", " ".repeat(col - 1), "^".repeat(width)));
        }
        for note in &self.notes {
            out.push_str(&format!("  = note: {note}\n"));
        }
        if let Some(help) = &self.help {
            out.push_str(&format!("  = help: {help}\n"));
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)
    }
}

/// Several diagnostics, rendered Elastic-style as one message (`Found N problems`).
pub fn elastic_message(diagnostics: &[Diagnostic], source: &str) -> String {
    match diagnostics {
        [one] => one.to_elastic_string(source),
        many => {
            let mut s = format!("Found {} problems", many.len());
            for d in many {
                s.push('\n');
                s.push_str(&d.to_elastic_string(source));
            }
            s
        }
    }
}
