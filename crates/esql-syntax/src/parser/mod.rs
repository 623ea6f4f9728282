//! The ES|QL parser: a hand-written recursive-descent parser that follows Elasticsearch's ANTLR
//! grammar (`EsqlBaseParser.g4`), including its lexer modes, operator precedence and the checks
//! Elasticsearch's AST builder performs while parsing.
//!
//! The query is processed one command at a time: the command keyword is read in the lexer's
//! default mode, the command's tokens up to the next `|` are lexed in the mode that command uses,
//! and the command is parsed from those tokens. After an error in one command the parser resumes
//! at the next `|`, so several diagnostics can be reported; the first one is the one Elasticsearch
//! would report.

mod commands;
mod expr;

use crate::ast::{Command, CommandKind, Query};
use crate::diagnostic::Diagnostic;
use crate::lexer::{Lexer, Tok, Token, error_display};
use crate::span::Span;

/// The maximum expression nesting depth, as in Elasticsearch (`MAX_EXPRESSION_DEPTH`). Every
/// operator, function call, cast, predicate and pair of parentheses adds a level, so a chain of
/// more than about 400 `OR`s, or more than 400 nested parentheses, is rejected with
/// `ESQL statement exceeded the maximum expression depth allowed (400)`. Elasticsearch counts a
/// few extra internal levels per parenthesis, so its effective limit for nested parentheses is
/// lower; binary chains are limited at about the same length. The limit also keeps every consumer
/// of the AST (which walk it recursively) safe from stack overflows.
pub(crate) const MAX_EXPRESSION_DEPTH: u32 = 400;

/// The maximum number of processing commands, as in Elasticsearch (`MAX_QUERY_DEPTH`).
pub(crate) const MAX_QUERY_DEPTH: usize = 500;

/// At most this many diagnostics are returned (the first ones by position).
pub(crate) const MAX_DIAGNOSTICS: usize = 100;

/// Parser results. Diagnostics are boxed to keep the recursive parsing functions' stack frames
/// small.
pub(crate) type PResult<T> = Result<T, Box<Diagnostic>>;

/// Parses an ES|QL query.
///
/// Returns the query, or the diagnostics found, sorted by position (the first is the one
/// Elasticsearch reports; at most 100 are returned). Never panics, whatever the input.
///
/// Notes on what is accepted:
/// * `SET name = value;` statements before the query become `Unsupported { name: "SET" }`
///   commands at the start of [`Query::commands`].
/// * Commands that parse but that Saker does not run (`COMPLETION`, `FORK`, `RERANK`, `SAMPLE`,
///   `CHANGE_POINT`, `FUSE`, `INSIST`, `TS`, `PROMQL`, `EXPLAIN`, `METRICS`, ...) are skipped up
///   to the next top-level `|` and come out as [`CommandKind::Unsupported`]; so do constructs the
///   AST cannot represent: `GROK` with several patterns and `LOOKUP JOIN` on expressions.
/// * Query parameters (`?`, `?1`, `?name`) are accepted where Elasticsearch takes a value;
///   parameters in identifier positions (`??name`, `EVAL ?x = 1`, `KEEP ?p`) are errors, since
///   Saker has no parameter values to resolve them with.
pub fn parse(text: &str) -> Result<Query, Vec<Diagnostic>> {
    let mut lexer = Lexer::new(text);
    let mut parser = Parser::new(text);
    let mut commands: Vec<Command> = Vec::new();
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    let mut first = true;
    let mut processing = 0usize;
    loop {
        lexer.skip_trivia();
        let before = lexer.pos();
        if lexer.at_end() {
            let at = Span::new(text.len(), text.len());
            diagnostics.push(Diagnostic::parsing(
                at,
                format!(
                    "mismatched input '<EOF>' expecting {}",
                    command_list(if first { SOURCE_COMMANDS } else { PROCESSING_COMMANDS })
                ),
            ));
            break;
        }
        let word = lexer.command_word();
        if word.start == word.end {
            // `[`, `]` or a lone `/`: no command can start here.
            lexer.skip_bad_char();
            lexer.skip_command(lexer.pos(), false);
        } else {
            match parser.command(&mut lexer, word, first) {
                Outcome::Command(command) => {
                    if !first {
                        processing += 1;
                        if processing == MAX_QUERY_DEPTH + 1 {
                            diagnostics.push(Diagnostic::parsing(
                                command.span,
                                format!("ESQL statement exceeded the maximum query depth allowed ({MAX_QUERY_DEPTH})"),
                            ));
                        }
                    }
                    commands.push(command);
                }
                Outcome::Setting(command) => {
                    commands.push(command);
                    continue;
                }
                Outcome::Error(diagnostic) => diagnostics.push(*diagnostic),
            }
        }
        if lexer.eat_pipe() {
            first = false;
        } else if lexer.at_end() || lexer.pos() == before {
            break;
        }
        // Otherwise a skipped command stopped early; the loop reads what follows as a command.
    }
    diagnostics.append(&mut lexer.errors);
    if diagnostics.is_empty() {
        Ok(Query { commands, span: Span::new(0, text.len()) })
    } else {
        diagnostics.sort_by_key(|d| (d.span.start, d.span.end));
        diagnostics.dedup();
        diagnostics.truncate(MAX_DIAGNOSTICS);
        Err(diagnostics)
    }
}

/// Source command keywords, in the order Elasticsearch lists them.
const SOURCE_COMMANDS: &[&str] = &["row", "from", "ts", "show"];

/// Processing command keywords, in the order Elasticsearch lists them.
const PROCESSING_COMMANDS: &[&str] = &[
    "change_point",
    "enrich",
    "completion",
    "dissect",
    "eval",
    "grok",
    "limit",
    "rerank",
    "sample",
    "sort",
    "stats",
    "where",
    "fork",
    "fuse",
    "inline",
    "inlinestats",
    "lookup",
    "mv_expand",
    "drop",
    "keep",
    "rename",
];

fn command_list(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
    format!("{{{}}}", quoted.join(", "))
}

/// The result of reading one command.
enum Outcome {
    /// A command of the pipeline.
    Command(Command),
    /// A `SET ...;` statement (not followed by `|`).
    Setting(Command),
    /// The command did not parse; the lexer is at the next `|` or the end.
    Error(Box<Diagnostic>),
}

/// Parser state for one command's tokens.
pub(crate) struct Parser<'a> {
    src: &'a str,
    /// The current command's tokens; always ends with a `Pipe` or `Eof` token.
    toks: Vec<Token>,
    idx: usize,
    /// Tokens that would have been accepted at the current position (a bit per [`Tok`]).
    expected: u128,
    /// End of the last consumed token.
    prev_end: usize,
    /// Next index for anonymous `?` parameters.
    anon_params: usize,
    /// Current expression recursion depth.
    nesting: u32,
}

impl<'a> Parser<'a> {
    fn new(src: &'a str) -> Parser<'a> {
        Parser { src, toks: Vec::new(), idx: 0, expected: 0, prev_end: 0, anon_params: 0, nesting: 0 }
    }

    /// Starts parsing a new command's tokens.
    fn begin(&mut self, toks: Vec<Token>, keyword: Span) {
        self.toks = toks;
        self.idx = 0;
        self.expected = 0;
        self.prev_end = keyword.end;
        self.nesting = 0;
    }

    /// The text of a span.
    pub(crate) fn text(&self, span: Span) -> &'a str {
        span.text(self.src)
    }

    /// The current token (the final `Pipe`/`Eof` token once everything is consumed).
    pub(crate) fn peek(&self) -> Token {
        self.nth(0)
    }

    /// The token `n` positions ahead.
    pub(crate) fn nth(&self, n: usize) -> Token {
        let end = Token { kind: Tok::Eof, span: Span::new(self.src.len(), self.src.len()) };
        let last = self.toks.last().copied().unwrap_or(end);
        self.toks.get(self.idx + n).copied().unwrap_or(last)
    }

    /// Consumes the current token.
    pub(crate) fn bump(&mut self) -> Token {
        let token = self.peek();
        if self.idx + 1 < self.toks.len() {
            self.idx += 1;
            self.prev_end = token.span.end;
        }
        self.expected = 0;
        token
    }

    /// True if the current token is `kind`; otherwise records `kind` as expected.
    pub(crate) fn at(&mut self, kind: Tok) -> bool {
        if self.peek().kind == kind {
            true
        } else {
            self.expected |= 1u128 << (kind as u8);
            false
        }
    }

    /// Records tokens as expected at the current position.
    pub(crate) fn expect_any(&mut self, kinds: &[Tok]) {
        for kind in kinds {
            self.expected |= 1u128 << (*kind as u8);
        }
    }

    /// Consumes the current token if it is `kind`.
    pub(crate) fn eat(&mut self, kind: Tok) -> Option<Token> {
        if self.at(kind) { Some(self.bump()) } else { None }
    }

    /// Consumes a `kind` token or fails with `mismatched input`.
    pub(crate) fn expect(&mut self, kind: Tok) -> PResult<Token> {
        match self.eat(kind) {
            Some(token) => Ok(token),
            None => Err(self.unexpected()),
        }
    }

    /// True at the end of the command (`|` or end of input).
    pub(crate) fn at_command_end(&self) -> bool {
        matches!(self.peek().kind, Tok::Pipe | Tok::Eof)
    }

    /// Fails unless the whole command has been consumed.
    pub(crate) fn expect_end(&mut self) -> PResult<()> {
        if self.at_command_end() {
            Ok(())
        } else {
            self.expect_any(&[Tok::Eof, Tok::Pipe]);
            Err(self.unexpected())
        }
    }

    /// `mismatched input '<token>' expecting <expected set>` at the current token.
    #[cold]
    #[inline(never)]
    pub(crate) fn unexpected(&self) -> Box<Diagnostic> {
        let token = self.peek();
        let shown = match token.kind {
            Tok::Eof => "<EOF>".to_string(),
            _ => error_display(self.text(token.span)),
        };
        let names: Vec<&str> =
            ALL_TOKS.iter().filter(|t| self.expected & (1u128 << (**t as u8)) != 0).map(|t| t.display()).collect();
        let message = match names.as_slice() {
            [] => format!("mismatched input '{shown}'"),
            [one] => format!("mismatched input '{shown}' expecting {one}"),
            many => format!("mismatched input '{shown}' expecting {{{}}}", many.join(", ")),
        };
        Box::new(Diagnostic::parsing(token.span, message))
    }

    /// A parsing error at `span`.
    #[cold]
    #[inline(never)]
    pub(crate) fn error(&self, span: Span, message: impl Into<String>) -> Box<Diagnostic> {
        Box::new(Diagnostic::parsing(span, message))
    }

    /// Reads and parses one command whose keyword is `word`; leaves the lexer at the next `|` (or
    /// after the `;` of a `SET`) or at the end.
    fn command(&mut self, lexer: &mut Lexer<'_>, word: Span, first: bool) -> Outcome {
        let keyword = word.text(self.src).to_ascii_lowercase();
        let kind = CommandName::from_keyword(&keyword);
        let allowed = match kind {
            Some(CommandName::Set) => first,
            Some(k) => k.is_source() == first,
            None => false,
        };
        let Some(kind) = kind.filter(|_| allowed) else {
            lexer.skip_command(word.end, false);
            let shown = error_display(word.text(self.src));
            let list = command_list(if first { SOURCE_COMMANDS } else { PROCESSING_COMMANDS });
            return Outcome::Error(self.error(word, format!("mismatched input '{shown}' expecting {list}")));
        };
        match self.command_body(lexer, kind, word) {
            Ok(Some(command)) if kind == CommandName::Set => Outcome::Setting(command),
            Ok(Some(command)) => Outcome::Command(command),
            Ok(None) => Outcome::Error(self.error(word, "internal error: no command")),
            Err(diagnostic) => Outcome::Error(diagnostic),
        }
    }

    /// The command's span: from the keyword to the end of its last consumed token.
    pub(crate) fn command_span(&self, keyword: Span) -> Span {
        Span::new(keyword.start, self.prev_end.max(keyword.end))
    }

    fn unsupported(&self, lexer: &mut Lexer<'_>, name: &str, keyword: Span, set: bool) -> Command {
        let span = lexer.skip_command(keyword.end, set);
        Command {
            kind: CommandKind::Unsupported { name: name.to_string() },
            span: Span::new(keyword.start, span.end.max(keyword.end)),
        }
    }
}

/// Command keywords the parser knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CommandName {
    From,
    Row,
    Show,
    Ts,
    Promql,
    Explain,
    Metrics,
    Set,
    Where,
    Eval,
    Stats,
    Inline,
    InlineStats,
    Keep,
    Drop,
    Rename,
    Sort,
    Limit,
    Dissect,
    Grok,
    MvExpand,
    Enrich,
    Lookup,
    /// A processing command that is skipped and reported as unsupported.
    OtherProcessing,
}

impl CommandName {
    fn from_keyword(keyword: &str) -> Option<CommandName> {
        Some(match keyword {
            "from" => CommandName::From,
            "row" => CommandName::Row,
            "show" => CommandName::Show,
            "ts" => CommandName::Ts,
            "promql" => CommandName::Promql,
            "explain" => CommandName::Explain,
            "metrics" => CommandName::Metrics,
            "set" => CommandName::Set,
            "where" => CommandName::Where,
            "eval" => CommandName::Eval,
            "stats" => CommandName::Stats,
            "inline" => CommandName::Inline,
            "inlinestats" => CommandName::InlineStats,
            "keep" => CommandName::Keep,
            "drop" => CommandName::Drop,
            "rename" => CommandName::Rename,
            "sort" => CommandName::Sort,
            "limit" => CommandName::Limit,
            "dissect" => CommandName::Dissect,
            "grok" => CommandName::Grok,
            "mv_expand" => CommandName::MvExpand,
            "enrich" => CommandName::Enrich,
            "lookup" => CommandName::Lookup,
            "completion" | "fork" | "rerank" | "sample" | "change_point" | "fuse" | "insist" | "insist_🐔"
            | "lookup_🐔" | "mmr" | "workflow" | "left" | "right" | "full" => CommandName::OtherProcessing,
            _ => return None,
        })
    }

    fn is_source(self) -> bool {
        matches!(
            self,
            CommandName::From
                | CommandName::Row
                | CommandName::Show
                | CommandName::Ts
                | CommandName::Promql
                | CommandName::Explain
                | CommandName::Metrics
                | CommandName::Set
        )
    }
}

/// Every token kind, in declaration order (used to render expected sets).
pub(crate) const ALL_TOKS: &[Tok] = &[
    Tok::Eof,
    Tok::Pipe,
    Tok::QuotedString,
    Tok::Integer,
    Tok::Decimal,
    Tok::And,
    Tok::As,
    Tok::Asc,
    Tok::Assign,
    Tok::By,
    Tok::CastOp,
    Tok::Colon,
    Tok::Semicolon,
    Tok::Comma,
    Tok::Desc,
    Tok::Dot,
    Tok::False,
    Tok::First,
    Tok::In,
    Tok::Is,
    Tok::Last,
    Tok::Like,
    Tok::Not,
    Tok::Null,
    Tok::Nulls,
    Tok::On,
    Tok::Or,
    Tok::Param,
    Tok::Rlike,
    Tok::True,
    Tok::With,
    Tok::Where,
    Tok::Eq,
    Tok::CiEq,
    Tok::Neq,
    Tok::Lt,
    Tok::Lte,
    Tok::Gt,
    Tok::Gte,
    Tok::Plus,
    Tok::Minus,
    Tok::Asterisk,
    Tok::Slash,
    Tok::Percent,
    Tok::LBrace,
    Tok::RBrace,
    Tok::DoubleParams,
    Tok::NamedParam,
    Tok::NamedDoubleParams,
    Tok::LBracket,
    Tok::RBracket,
    Tok::LParen,
    Tok::RParen,
    Tok::UnquotedIdent,
    Tok::QuotedIdent,
    Tok::Join,
    Tok::Metadata,
    Tok::UnquotedSource,
    Tok::IdPattern,
    Tok::PolicyName,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_table_matches_enum() {
        for (i, tok) in ALL_TOKS.iter().enumerate() {
            assert_eq!(*tok as usize, i, "{tok:?}");
        }
        assert!(ALL_TOKS.len() <= 128);
    }
}
