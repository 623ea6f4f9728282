//! The ES|QL commands.

use super::{CommandName, PResult, Parser};
use crate::ast::{
    AggField, Command, CommandKind, Dissect, Enrich, Expr, ExprKind, Grok, Ident, IndexPattern, Literal, LookupJoin,
    NamePattern, NullsOrder, Rename, SortKey, SortOrder, Stats,
};
use crate::lexer::{Lexer, Mode, Tok, unquote_id_pattern, unquote_ident, unquote_string};
use crate::span::Span;

impl<'a> Parser<'a> {
    /// Lexes and parses the command whose keyword is at `keyword`. Leaves the lexer at the next
    /// `|` or the end of input (after the `;` for `SET`).
    pub(super) fn command_body(
        &mut self,
        lexer: &mut Lexer<'_>,
        kind: CommandName,
        keyword: Span,
    ) -> PResult<Option<Command>> {
        let upper = self.text(keyword).to_ascii_uppercase();
        let mode = match kind {
            CommandName::From => Mode::From,
            CommandName::Keep | CommandName::Drop => Mode::Project,
            CommandName::Rename => Mode::Rename,
            CommandName::Enrich => Mode::EnrichPolicy,
            CommandName::MvExpand => Mode::MvExpand,
            CommandName::Lookup => Mode::Join,
            CommandName::Ts
            | CommandName::Promql
            | CommandName::Explain
            | CommandName::Metrics
            | CommandName::OtherProcessing => {
                return Ok(Some(self.unsupported(lexer, &upper, keyword, false)));
            }
            CommandName::Set => return Ok(Some(self.unsupported(lexer, &upper, keyword, true))),
            CommandName::Inline => {
                // `INLINE STATS`: the only token of Elasticsearch's INLINE mode is `stats`.
                lexer.skip_trivia();
                let at = lexer.pos();
                if lexer.eat_keyword("stats").is_none() {
                    let word = lexer.command_word();
                    let word = if word.start == word.end { Span::new(at, at) } else { word };
                    lexer.skip_command(word.end, false);
                    let shown = if word.start == word.end {
                        "<EOF>".to_string()
                    } else {
                        crate::lexer::error_display(self.text(word))
                    };
                    return Err(self.error(word, format!("mismatched input '{shown}' expecting 'stats'")));
                }
                Mode::Expression
            }
            _ => Mode::Expression,
        };
        let tokens = lexer.command_tokens(mode);
        self.begin(tokens, keyword);
        let parsed = match kind {
            CommandName::From => self.parse_from()?,
            CommandName::Row => CommandKind::Row(self.fields()?),
            CommandName::Show => self.show_command()?,
            CommandName::Where => CommandKind::Where(self.boolean_expression()?),
            CommandName::Eval => CommandKind::Eval(self.fields()?),
            CommandName::Stats => self.stats_command(false, keyword)?,
            CommandName::Inline | CommandName::InlineStats => self.stats_command(true, keyword)?,
            CommandName::Keep => self.keep_command()?,
            CommandName::Drop => self.drop_command()?,
            CommandName::Rename => self.rename_command()?,
            CommandName::Sort => self.sort_command()?,
            CommandName::Limit => self.limit_command(keyword)?,
            CommandName::Dissect => self.dissect_command()?,
            CommandName::Grok => self.grok_command()?,
            CommandName::MvExpand => CommandKind::MvExpand(self.qualified_name()?),
            CommandName::Enrich => self.enrich_command()?,
            CommandName::Lookup => self.lookup_join_command()?,
            _ => return Ok(None),
        };
        self.expect_end()?;
        Ok(Some(Command { kind: parsed, span: self.command_span(keyword) }))
    }

    // ----- source commands -----

    /// `FROM pattern, ... [METADATA field, ...]`.
    fn parse_from(&mut self) -> PResult<CommandKind> {
        let mut indices = vec![self.index_pattern(true)?];
        while self.eat(Tok::Comma).is_some() {
            indices.push(self.index_pattern(true)?);
        }
        let mut metadata = Vec::new();
        if self.eat(Tok::Metadata).is_some() {
            loop {
                let token = self.expect(Tok::UnquotedSource)?;
                metadata.push(Ident { name: self.text(token.span).to_string(), span: token.span });
                if self.eat(Tok::Comma).is_none() {
                    break;
                }
            }
        }
        Ok(CommandKind::From(crate::ast::From { indices, metadata }))
    }

    /// `"quoted"` or `[cluster:]index[::selector]`.
    fn index_pattern(&mut self, selectors: bool) -> PResult<IndexPattern> {
        if let Some(token) = self.eat(Tok::QuotedString) {
            return Ok(IndexPattern { pattern: unquote_string(self.text(token.span)), span: token.span });
        }
        let first = self.expect(Tok::UnquotedSource)?;
        let mut pattern = self.text(first.span).to_string();
        let mut span = first.span;
        if self.eat(Tok::Colon).is_some() {
            let index = self.expect(Tok::UnquotedSource)?;
            pattern.push(':');
            pattern.push_str(self.text(index.span));
            span = span.to(index.span);
        }
        if selectors && self.eat(Tok::CastOp).is_some() {
            let selector = self.expect(Tok::UnquotedSource)?;
            pattern.push_str("::");
            pattern.push_str(self.text(selector.span));
            span = span.to(selector.span);
        }
        Ok(IndexPattern { pattern, span })
    }

    /// `SHOW INFO`.
    fn show_command(&mut self) -> PResult<CommandKind> {
        let token = self.peek();
        if token.kind == Tok::UnquotedIdent && self.text(token.span).eq_ignore_ascii_case("info") {
            self.bump();
            return Ok(CommandKind::ShowInfo);
        }
        let shown = match token.kind {
            Tok::Eof => "<EOF>".to_string(),
            _ => crate::lexer::error_display(self.text(token.span)),
        };
        Err(self.error(token.span, format!("mismatched input '{shown}' expecting 'info'")))
    }

    // ----- processing commands -----

    /// `STATS [agg [WHERE cond], ...] [BY group, ...]`; for `INLINE STATS` the aggregates are
    /// required.
    fn stats_command(&mut self, inline: bool, keyword: Span) -> PResult<CommandKind> {
        let mut aggregates = Vec::new();
        let has_aggregates = if inline {
            true
        } else {
            let by = self.at(Tok::By);
            !(by || self.at_command_end())
        };
        if has_aggregates {
            loop {
                aggregates.push(self.agg_field()?);
                if self.eat(Tok::Comma).is_none() {
                    break;
                }
            }
        }
        let groups = if self.eat(Tok::By).is_some() { self.fields()? } else { Vec::new() };
        if aggregates.is_empty() && groups.is_empty() {
            let span = self.command_span(keyword);
            return Err(self.error(
                span,
                format!("At least one aggregation or grouping expression required in [{}]", self.text(span)),
            ));
        }
        Ok(CommandKind::Stats(Stats { inline, aggregates, groups }))
    }

    /// `[name =] expr [WHERE cond]`. With a filter, the field's span covers the filter too:
    /// Elasticsearch names an unnamed filtered aggregate by that whole text.
    fn agg_field(&mut self) -> PResult<AggField> {
        let mut field = self.field()?;
        let filter = if self.eat(Tok::Where).is_some() {
            let condition = self.boolean_expression()?;
            if !Self::has_call(&field.expr) {
                return Err(self.error(
                    condition.span,
                    format!("WHERE clause allowed only for aggregate functions [{}]", self.text(field.span)),
                ));
            }
            field.span = field.span.to(condition.span);
            Some(condition)
        } else {
            None
        };
        Ok(AggField { field, filter })
    }

    /// `KEEP pattern, ...`.
    fn keep_command(&mut self) -> PResult<CommandKind> {
        let patterns = self.name_patterns()?;
        let mut stars = patterns.iter().filter(|p| p.pattern == "*");
        if let (Some(_), Some(second)) = (stars.next(), stars.next()) {
            return Err(self.error(second.span, "Cannot specify [*] more than once"));
        }
        Ok(CommandKind::Keep(patterns))
    }

    /// `DROP pattern, ...`.
    fn drop_command(&mut self) -> PResult<CommandKind> {
        let patterns = self.name_patterns()?;
        if let Some(star) = patterns.iter().find(|p| p.pattern == "*") {
            return Err(self.error(star.span, format!("Removing all fields is not allowed [{}]", self.text(star.span))));
        }
        Ok(CommandKind::Drop(patterns))
    }

    /// `RENAME old AS new, new = old, ...`.
    fn rename_command(&mut self) -> PResult<CommandKind> {
        let mut renames = Vec::new();
        loop {
            let first = self.name_pattern()?;
            let (old, new) = if self.eat(Tok::As).is_some() {
                let new = self.name_pattern()?;
                (first, new)
            } else if self.eat(Tok::Assign).is_some() {
                let old = self.name_pattern()?;
                (old, first)
            } else {
                return Err(self.unexpected());
            };
            let span = old.span.to(new.span);
            if old.is_wildcard() || new.is_wildcard() {
                return Err(
                    self.error(span, format!("Using wildcards [*] in RENAME is not allowed [{}]", self.text(span)))
                );
            }
            renames.push(Rename { old, new, span });
            if self.eat(Tok::Comma).is_none() {
                break;
            }
        }
        Ok(CommandKind::Rename(renames))
    }

    /// `SORT expr [ASC|DESC] [NULLS FIRST|LAST], ...`.
    fn sort_command(&mut self) -> PResult<CommandKind> {
        let mut keys = Vec::new();
        loop {
            let expr = self.boolean_expression()?;
            let order = if self.eat(Tok::Desc).is_some() {
                SortOrder::Desc
            } else {
                let _ = self.eat(Tok::Asc);
                SortOrder::Asc
            };
            let nulls = if self.eat(Tok::Nulls).is_some() {
                if self.eat(Tok::First).is_some() {
                    Some(NullsOrder::First)
                } else {
                    self.expect(Tok::Last)?;
                    Some(NullsOrder::Last)
                }
            } else {
                None
            };
            let span = Span::new(expr.span.start, self.prev_end.max(expr.span.end));
            keys.push(SortKey { expr, order, nulls, span });
            if self.eat(Tok::Comma).is_none() {
                break;
            }
        }
        Ok(CommandKind::Sort(keys))
    }

    /// `LIMIT n`: a non-negative integer (32-bit, as in Elasticsearch) or a parameter.
    fn limit_command(&mut self, keyword: Span) -> PResult<CommandKind> {
        let value = self.constant_expression()?;
        match &value.kind {
            ExprKind::Literal(Literal::Integer(v)) if (0..=i64::from(i32::MAX)).contains(v) => {}
            ExprKind::Param(_) => {}
            ExprKind::Literal(literal) => {
                let span = self.command_span(keyword);
                return Err(self.error(
                    span,
                    format!(
                        "value of [{}] must be a non negative integer, found value [{}] type [{}]",
                        self.text(span),
                        self.text(value.span),
                        Self::literal_type_name(literal)
                    ),
                ));
            }
            _ => return Err(self.error(value.span, "invalid LIMIT value")),
        }
        Ok(CommandKind::Limit(value))
    }

    /// `DISSECT input "pattern" [APPEND_SEPARATOR = "sep"]`.
    fn dissect_command(&mut self) -> PResult<CommandKind> {
        let input = self.primary_expression()?;
        let pattern_token = self.expect(Tok::QuotedString)?;
        let pattern = unquote_string(self.text(pattern_token.span));
        let mut options: Vec<(Ident, Expr)> = Vec::new();
        if self.at(Tok::UnquotedIdent) | self.at(Tok::QuotedIdent) {
            loop {
                let token = self.peek();
                let name = match token.kind {
                    Tok::UnquotedIdent => self.text(token.span).to_string(),
                    Tok::QuotedIdent => unquote_ident(self.text(token.span)),
                    _ => {
                        self.expect_any(&[Tok::UnquotedIdent, Tok::QuotedIdent]);
                        return Err(self.unexpected());
                    }
                };
                self.bump();
                self.expect(Tok::Assign)?;
                let value = self.constant_expression()?;
                if !name.eq_ignore_ascii_case("append_separator") {
                    return Err(self.error(token.span, format!("Invalid option for dissect: [{name}]")));
                }
                if !matches!(value.kind, ExprKind::Literal(Literal::String(_))) {
                    return Err(self.error(
                        value.span,
                        format!(
                            "Invalid value for dissect append_separator: expected a string, but was [{}]",
                            self.text(value.span)
                        ),
                    ));
                }
                options.push((Ident { name, span: token.span }, value));
                if self.eat(Tok::Comma).is_none() {
                    break;
                }
            }
        }
        Ok(CommandKind::Dissect(Dissect { input, pattern, pattern_span: pattern_token.span, options }))
    }

    /// `GROK input "pattern"`; several patterns (`GROK x "p1", "p2"`) parse but come out as an
    /// unsupported command, since the AST holds one pattern.
    fn grok_command(&mut self) -> PResult<CommandKind> {
        let input = self.primary_expression()?;
        let pattern_token = self.expect(Tok::QuotedString)?;
        let mut more = false;
        while self.eat(Tok::Comma).is_some() {
            self.expect(Tok::QuotedString)?;
            more = true;
        }
        if more {
            return Ok(CommandKind::Unsupported { name: "GROK".to_string() });
        }
        Ok(CommandKind::Grok(Grok {
            input,
            pattern: unquote_string(self.text(pattern_token.span)),
            pattern_span: pattern_token.span,
        }))
    }

    /// `ENRICH [_mode:]policy [ON field] [WITH [new =] field, ...]`.
    fn enrich_command(&mut self) -> PResult<CommandKind> {
        let token = self.peek();
        let (raw, raw_start) = match token.kind {
            Tok::PolicyName => (self.text(token.span), token.span.start),
            Tok::QuotedString => {
                // Elasticsearch strips the quotes without unescaping.
                let text = self.text(token.span);
                let inner = text.get(1..text.len().saturating_sub(1)).unwrap_or("");
                (inner, token.span.start + 1)
            }
            _ => {
                self.expect_any(&[Tok::QuotedString, Tok::PolicyName]);
                return Err(self.unexpected());
            }
        };
        self.bump();
        let (mode, policy) = match raw.find(':') {
            Some(colon) => {
                let mode_value = &raw[..colon];
                let mode = mode_value.strip_prefix('_').and_then(|m| {
                    ["any", "coordinator", "remote"].into_iter().find(|known| known.eq_ignore_ascii_case(m))
                });
                let Some(mode) = mode else {
                    return Err(self.error(
                        token.span,
                        format!(
                            "Unrecognized value [{mode_value}], ENRICH policy qualifier needs to be one of [_ANY, _COORDINATOR, _REMOTE]"
                        ),
                    ));
                };
                let start = raw_start + colon + 1;
                (
                    Some(format!("_{mode}")),
                    Ident { name: raw[colon + 1..].to_string(), span: Span::new(start, raw_start + raw.len()) },
                )
            }
            None => (None, Ident { name: raw.to_string(), span: Span::new(raw_start, raw_start + raw.len()) }),
        };
        let on = if self.eat(Tok::On).is_some() {
            let pattern = self.name_pattern()?;
            if pattern.is_wildcard() {
                return Err(self.error(
                    pattern.span,
                    format!(
                        "Using wildcards [*] in ENRICH WITH projections is not allowed, found [{}]",
                        pattern.pattern
                    ),
                ));
            }
            Some(self.pattern_ident(pattern))
        } else {
            None
        };
        let mut with = Vec::new();
        if self.eat(Tok::With).is_some() {
            loop {
                let first = self.name_pattern()?;
                let (new, field) = if self.eat(Tok::Assign).is_some() {
                    let field = self.name_pattern()?;
                    (Some(first), field)
                } else {
                    (None, first)
                };
                for pattern in new.iter().chain(std::iter::once(&field)) {
                    if pattern.is_wildcard() {
                        return Err(self.error(
                            pattern.span,
                            format!(
                                "Using wildcards [*] in ENRICH WITH projections is not allowed, found [{}]",
                                self.text(pattern.span)
                            ),
                        ));
                    }
                }
                with.push((new.map(|p| self.pattern_ident(p)), self.pattern_ident(field)));
                if self.eat(Tok::Comma).is_none() {
                    break;
                }
            }
        }
        Ok(CommandKind::Enrich(Enrich { policy, mode, on, with }))
    }

    /// `LOOKUP JOIN index ON field, ...`. A join on an expression (`ON a == b`) parses but comes
    /// out as an unsupported command.
    fn lookup_join_command(&mut self) -> PResult<CommandKind> {
        self.expect(Tok::Join)?;
        let index = self.index_pattern(false)?;
        self.expect(Tok::On)?;
        let mut conditions = vec![self.boolean_expression()?];
        while self.eat(Tok::Comma).is_some() {
            conditions.push(self.boolean_expression()?);
        }
        if index.pattern.contains('*') {
            return Err(self.error(
                index.span,
                format!("invalid index pattern [{}], * is not allowed in LOOKUP JOIN", index.pattern),
            ));
        }
        if index.pattern.contains(':') {
            return Err(self.error(
                index.span,
                format!(
                    "invalid index pattern [{}], remote clusters are not supported with LOOKUP JOIN",
                    index.pattern
                ),
            ));
        }
        let field_based =
            matches!(conditions.first().map(|c| &c.kind), Some(ExprKind::Field(_) | ExprKind::Literal(_)));
        if !field_based {
            if conditions.len() > 1 {
                return Err(
                    self.error(conditions[1].span, "JOIN ON clause with expressions only supports a single expression")
                );
            }
            return Ok(CommandKind::Unsupported { name: "LOOKUP JOIN".to_string() });
        }
        let mut on: Vec<Ident> = Vec::new();
        for condition in conditions {
            match condition.kind {
                ExprKind::Field(ident) => {
                    if on.iter().any(|o| o.name == ident.name) {
                        return Err(self.error(
                            ident.span,
                            format!(
                                "JOIN ON clause does not support multiple fields with the same name, found multiple instances of [{}]",
                                ident.name
                            ),
                        ));
                    }
                    on.push(ident);
                }
                _ => {
                    return Err(self.error(
                        condition.span,
                        format!(
                            "JOIN ON clause must be a comma separated list of fields or a single expression, found [{}]",
                            self.text(condition.span)
                        ),
                    ));
                }
            }
        }
        Ok(CommandKind::LookupJoin(LookupJoin { index, on }))
    }

    // ----- name patterns -----

    /// `pattern (, pattern)*`.
    fn name_patterns(&mut self) -> PResult<Vec<NamePattern>> {
        let mut patterns = vec![self.name_pattern()?];
        while self.eat(Tok::Comma).is_some() {
            patterns.push(self.name_pattern()?);
        }
        Ok(patterns)
    }

    /// `ID_PATTERN (. ID_PATTERN)*`: backticks removed, `*` kept as the wildcard.
    fn name_pattern(&mut self) -> PResult<NamePattern> {
        let (mut pattern, mut span) = self.pattern_part(false)?;
        while self.at(Tok::Dot) {
            self.bump();
            let (part, part_span) = self.pattern_part(true)?;
            pattern.push('.');
            pattern.push_str(&part);
            span = span.to(part_span);
        }
        Ok(NamePattern { pattern, span })
    }

    fn pattern_part(&mut self, after_dot: bool) -> PResult<(String, Span)> {
        let token = self.peek();
        let part = match token.kind {
            Tok::IdPattern => unquote_id_pattern(self.text(token.span)),
            Tok::Param | Tok::NamedParam | Tok::DoubleParams | Tok::NamedDoubleParams => {
                return Err(self.identifier_param_error(token));
            }
            Tok::As | Tok::With if after_dot => self.text(token.span).to_string(),
            _ => {
                self.expect_any(&[Tok::IdPattern]);
                return Err(self.unexpected());
            }
        };
        self.bump();
        Ok((part, token.span))
    }

    fn pattern_ident(&self, pattern: NamePattern) -> Ident {
        Ident { name: pattern.pattern, span: pattern.span }
    }
}
