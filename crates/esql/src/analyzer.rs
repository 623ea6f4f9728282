//! The analyzer: resolves names, types and functions of a parsed query against a [`Catalog`],
//! and reports every problem at once, each with its position.

use crate::catalog::{Catalog, FieldInfo};
use crate::engine::{QueryOptions, Value};
use crate::functions::{self, ArgInfo, Resolved};
use crate::ir::{Column, Literal, Source, StatsOutput, Step, TAgg, TExpr, TExprKind, TSortKey, TypedQuery};
use crate::types::EsType;
use esql_syntax::ast::{self, BinaryOp, CommandKind, ExprKind, NullsOrder, SortOrder, UnaryOp};
use esql_syntax::{Diagnostic, Span};
use std::collections::BTreeMap;

/// Analyzes a parsed query.
///
/// # Errors
/// Every verification problem found, each with its span.
pub fn analyze_query(
    catalog: &dyn Catalog,
    query: &ast::Query,
    source: &str,
    options: &QueryOptions,
) -> Result<TypedQuery, Vec<Diagnostic>> {
    let mut a = Analyzer {
        catalog,
        source,
        options,
        diags: Vec::new(),
        scope: Vec::new(),
        steps: Vec::new(),
        warnings: Vec::new(),
        poisoned: Vec::new(),
        from_scope: false,
        unmapped: Vec::new(),
    };
    a.run(query);
    if a.diags.is_empty() {
        // Columns made up for unmapped fields are read (as nulls) by the source command.
        if let Some(Step::From { columns, .. }) = a.steps.first_mut() {
            for (name, _) in &a.unmapped {
                columns.push(Column { name: name.clone(), ty: EsType::Null, multi: false });
            }
        }
        Ok(TypedQuery { steps: a.steps, columns: a.scope, warnings: a.warnings, unmapped: a.unmapped })
    } else {
        a.diags.sort_by_key(|d| d.span.start);
        Err(a.diags)
    }
}

struct Analyzer<'a> {
    catalog: &'a dyn Catalog,
    source: &'a str,
    options: &'a QueryOptions,
    diags: Vec<Diagnostic>,
    scope: Vec<Column>,
    steps: Vec<Step>,
    warnings: Vec<String>,
    /// Names whose definition failed: references to them report nothing more.
    poisoned: Vec<String>,
    /// True while the columns are still those of the source indices (no projection yet).
    from_scope: bool,
    /// Unknown fields turned into null columns (`unmapped_fields = nullify`).
    unmapped: Vec<(String, Span)>,
}

/// Marker for "this node failed; its error is already recorded".
struct Failed;

type R<T> = Result<T, Failed>;

impl<'a> Analyzer<'a> {
    fn error(&mut self, span: Span, message: impl Into<String>) -> Failed {
        self.diags.push(Diagnostic::verification(span, message));
        Failed
    }

    fn warn(&mut self, span: Span, message: impl std::fmt::Display) {
        let (line, col) = span.line_col(self.source);
        let w = format!("Line {line}:{col}: {message}");
        if !self.warnings.contains(&w) {
            self.warnings.push(w);
        }
    }

    fn position(&self, span: Span) -> String {
        let (line, col) = span.line_col(self.source);
        format!("line {line}:{col}")
    }

    fn text(&self, span: Span) -> &'a str {
        span.text(self.source)
    }

    fn run(&mut self, query: &ast::Query) {
        let mut has_limit = false;
        for (i, cmd) in query.commands.iter().enumerate() {
            if i == 0 && !matches!(cmd.kind, CommandKind::From(_) | CommandKind::Row(_) | CommandKind::ShowInfo) {
                self.error(cmd.span, "a query must start with a source command (FROM, ROW or SHOW)");
                return;
            }
            if matches!(cmd.kind, CommandKind::Limit(_)) {
                has_limit = true;
            }
            // A failed command leaves the scope as it was and later commands still get checked;
            // after a failed source command or a command Saker does not run, the columns are
            // unknown, so checking stops there.
            if self.command(cmd).is_err() && (i == 0 || matches!(cmd.kind, CommandKind::Unsupported { .. })) {
                return;
            }
        }
        let limit = if has_limit { self.options.max_limit } else { self.options.default_limit };
        self.steps.push(Step::Limit(limit));
    }

    fn command(&mut self, cmd: &ast::Command) -> R<()> {
        match &cmd.kind {
            CommandKind::From(from) => self.from(from),
            CommandKind::Row(fields) => self.row(fields),
            CommandKind::ShowInfo => self.show_info(),
            CommandKind::Where(e) => {
                let t = self.expr(e)?;
                if t.ty != EsType::Boolean && t.ty != EsType::Null {
                    return Err(self.error(
                        e.span,
                        format!("Condition expression needs to be boolean, found [{}]", t.ty.name().to_uppercase()),
                    ));
                }
                self.steps.push(Step::Where(t));
                Ok(())
            }
            CommandKind::Eval(fields) => self.eval(fields),
            CommandKind::Stats(stats) => self.stats(stats),
            CommandKind::Keep(patterns) => self.keep(patterns),
            CommandKind::Drop(patterns) => self.drop(patterns),
            CommandKind::Rename(renames) => self.rename(renames),
            CommandKind::Sort(keys) => self.sort(keys),
            CommandKind::Limit(e) => self.limit(e),
            CommandKind::MvExpand(ident) => self.mv_expand(ident),
            CommandKind::Dissect(d) => self.dissect(d),
            CommandKind::Grok(g) => self.grok(g),
            CommandKind::Enrich(e) => self.enrich(e, cmd.span),
            CommandKind::LookupJoin(j) => self.lookup_join(j),
            CommandKind::Unsupported { name } => Err(self.error(cmd.span, format!("{name} is not supported by Saker"))),
        }
    }

    // ---- source commands -------------------------------------------------------------------

    fn from(&mut self, from: &ast::From) -> R<()> {
        let names = self.catalog.index_names();
        let mut selected: Vec<String> = Vec::new();
        let mut failed = false;
        for pat in &from.indices {
            let (exclude, p) = match pat.pattern.strip_prefix('-') {
                Some(rest) if !selected.is_empty() || from.indices.len() > 1 => (true, rest),
                _ => (false, pat.pattern.as_str()),
            };
            if p.contains(':') {
                self.error(pat.span, format!("remote cluster indices are not supported: [{}]", pat.pattern));
                failed = true;
                continue;
            }
            let matches: Vec<&String> = names.iter().filter(|n| index_matches(p, n)).collect();
            if exclude {
                selected.retain(|s| !matches.contains(&s));
                continue;
            }
            if matches.is_empty() && !p.contains('*') {
                self.error(pat.span, format!("Unknown index [{}]", pat.pattern));
                failed = true;
                continue;
            }
            for m in matches {
                if !selected.contains(m) {
                    selected.push(m.clone());
                }
            }
        }
        if failed {
            return Err(Failed);
        }
        if selected.is_empty() {
            let all = from.indices.iter().map(|p| p.pattern.as_str()).collect::<Vec<_>>().join(",");
            let span = from.indices.first().map(|p| p.span).unwrap_or_default();
            return Err(self.error(span, format!("Unknown index [{all}]")));
        }
        selected.sort();
        let mut sources = Vec::new();
        let mut merged: BTreeMap<String, Option<FieldInfo>> = BTreeMap::new();
        for name in &selected {
            let Some(index) = self.catalog.index(name) else { continue };
            for f in index.fields() {
                if is_metadata(&f.name) {
                    continue;
                }
                match merged.get_mut(&f.name) {
                    None => {
                        merged.insert(f.name.clone(), Some(f.clone()));
                    }
                    Some(Some(existing)) => {
                        if existing.es_type != f.es_type {
                            merged.insert(f.name.clone(), None);
                        } else {
                            existing.multi |= f.multi;
                        }
                    }
                    Some(None) => {}
                }
            }
            sources.push(Source { index });
        }
        let mut columns: Vec<Column> = merged
            .into_iter()
            .map(|(name, f)| match f {
                Some(f) => Column { name, ty: f.es_type, multi: f.multi },
                None => Column { name, ty: EsType::Unsupported, multi: false },
            })
            .collect();
        for m in &from.metadata {
            let ty = match m.name.as_str() {
                "_index" | "_id" => EsType::Keyword,
                "_version" => EsType::Long,
                "_score" => EsType::Double,
                // The document as JSON text, for JSON_EXTRACT.
                "_source" => EsType::Keyword,
                "_ignored" => EsType::Keyword,
                other => {
                    self.error(m.span, format!("unsupported metadata field [{other}]"));
                    continue;
                }
            };
            columns.retain(|c| c.name != m.name);
            columns.push(Column { name: m.name.clone(), ty, multi: m.name == "_ignored" });
        }
        self.scope = columns.clone();
        self.steps.push(Step::From { sources, columns });
        self.from_scope = true;
        Ok(())
    }

    fn row(&mut self, fields: &[ast::Field]) -> R<()> {
        let mut out: Vec<(String, TExpr)> = Vec::new();
        let mut ok = true;
        for f in fields {
            let name = self.field_name(f);
            match self.expr(&f.expr) {
                Ok(t) => {
                    out.retain(|(n, _)| *n != name);
                    out.push((name, t));
                }
                Err(_) => {
                    self.poisoned.push(name);
                    ok = false;
                }
            }
        }
        if !ok {
            return Err(Failed);
        }
        self.scope = out.iter().map(|(n, t)| Column { name: n.clone(), ty: t.ty, multi: t.multi }).collect();
        self.steps.push(Step::Row(out));
        Ok(())
    }

    fn show_info(&mut self) -> R<()> {
        let fields = vec![
            ("version".to_string(), lit_str(env!("CARGO_PKG_VERSION"))),
            ("date".to_string(), lit_str("2026-11-28")),
            ("hash".to_string(), lit_str("saker")),
        ];
        self.scope = fields.iter().map(|(n, t)| Column { name: n.clone(), ty: t.ty, multi: false }).collect();
        self.steps.push(Step::Row(fields));
        Ok(())
    }

    // ---- processing commands ---------------------------------------------------------------

    fn field_name(&self, f: &ast::Field) -> String {
        match (&f.name, &f.expr.kind) {
            (Some(n), _) => n.name.clone(),
            // A bare field keeps its name (without backticks).
            (None, ExprKind::Field(id)) => id.name.clone(),
            (None, _) => self.text(f.expr.span).to_string(),
        }
    }

    fn eval(&mut self, fields: &[ast::Field]) -> R<()> {
        let mut out = Vec::new();
        let mut ok = true;
        for f in fields {
            let name = self.field_name(f);
            match self.expr(&f.expr) {
                Ok(t) => {
                    self.define(Column { name: name.clone(), ty: t.ty, multi: t.multi });
                    out.push((name, t));
                }
                Err(_) => {
                    // Later references to a column whose definition failed add no noise.
                    self.scope.retain(|c| c.name != name);
                    self.poisoned.push(name);
                    ok = false;
                }
            }
        }
        if !ok {
            return Err(Failed);
        }
        self.steps.push(Step::Eval(out));
        Ok(())
    }

    /// Adds or replaces a column at the end of the scope.
    fn define(&mut self, c: Column) {
        self.scope.retain(|x| x.name != c.name);
        self.scope.push(c);
    }

    fn stats(&mut self, stats: &ast::Stats) -> R<()> {
        let mut ok = true;
        let mut groups: Vec<(String, TExpr)> = Vec::new();
        for g in &stats.groups {
            let name = self.field_name(g);
            match self.expr(&g.expr) {
                Ok(t) => {
                    if !is_groupable(t.ty) {
                        self.error(
                            g.expr.span,
                            format!("cannot group by [{}] of type [{}]", self.text(g.expr.span), t.ty),
                        );
                        ok = false;
                        continue;
                    }
                    groups.retain(|(n, _)| *n != name);
                    groups.push((name, t));
                }
                Err(_) => {
                    self.poisoned.push(name);
                    ok = false;
                }
            }
        }
        let mut aggs: Vec<TAgg> = Vec::new();
        let mut outputs: Vec<StatsOutput> = Vec::new();
        for af in &stats.aggregates {
            let name = self.field_name(&af.field);
            let filter = match &af.filter {
                Some(f) => match self.expr(f) {
                    Ok(t) => Some(t),
                    Err(_) => {
                        ok = false;
                        None
                    }
                },
                None => None,
            };
            match self.agg_expr(&af.field.expr, &filter, &mut aggs, &groups) {
                Ok(t) => {
                    outputs.retain(|o| o.name != name);
                    outputs.push(StatsOutput { name, expr: t });
                }
                Err(_) => {
                    self.poisoned.push(name);
                    ok = false;
                }
            }
        }
        if !ok {
            if !stats.inline {
                self.scope.clear();
                for o in &outputs {
                    self.scope.push(Column { name: o.name.clone(), ty: o.expr.ty, multi: o.expr.multi });
                }
                for (n, t) in &groups {
                    self.scope.push(Column { name: n.clone(), ty: t.ty, multi: false });
                }
                self.from_scope = false;
            }
            return Err(Failed);
        }
        self.stats_shadowing_warnings(stats);
        // A name used both as an aggregate and a group: the group wins (it comes last).
        outputs.retain(|o| !groups.iter().any(|(n, _)| *n == o.name));
        let mut columns: Vec<Column> =
            outputs.iter().map(|o| Column { name: o.name.clone(), ty: o.expr.ty, multi: o.expr.multi }).collect();
        for (n, t) in &groups {
            // Grouping by a multi-valued expression groups by each value.
            columns.push(Column { name: n.clone(), ty: t.ty, multi: false });
        }
        if stats.inline {
            for c in columns {
                self.define(c);
            }
        } else {
            self.scope = columns;
            self.from_scope = false;
        }
        self.steps.push(Step::Stats { inline: stats.inline, aggs, groups, outputs });
        Ok(())
    }

    /// Elastic's warnings for names defined more than once in one STATS: each definition that
    /// loses points at the one that wins, the last grouping of that name, else its last aggregate.
    fn stats_shadowing_warnings(&mut self, stats: &ast::Stats) {
        let mut defs: Vec<(String, Span, bool)> = Vec::new();
        for af in &stats.aggregates {
            defs.push((self.field_name(&af.field), af.field.span, false));
        }
        for g in &stats.groups {
            defs.push((self.field_name(g), g.span, true));
        }
        for (i, (name, span, _)) in defs.iter().enumerate() {
            let same: Vec<usize> = (0..defs.len()).filter(|&j| defs[j].0 == *name).collect();
            let winner = same.iter().rev().find(|&&j| defs[j].2).or(same.last()).copied().unwrap_or(i);
            if winner != i {
                let at = self.position(defs[winner].1);
                self.warn(*span, format!("Field '{name}' shadowed by field at {at}"));
            }
        }
    }

    /// Analyzes an expression of a STATS aggregate position: aggregate calls become references
    /// to `__agg{i}` columns, group keys may be referenced by name.
    fn agg_expr(
        &mut self,
        e: &ast::Expr,
        filter: &Option<TExpr>,
        aggs: &mut Vec<TAgg>,
        groups: &[(String, TExpr)],
    ) -> R<TExpr> {
        match &e.kind {
            ExprKind::Call { name, args, star, .. } if functions::aggregate(name).is_some() => {
                let def = functions::aggregate(name).expect("invariant: checked above");
                let mut targs = Vec::new();
                for a in args {
                    targs.push(self.expr(a)?);
                }
                if *star {
                    if name != "count" {
                        return Err(self
                            .error(e.span, format!("[*] is only allowed in [count], found [{}]", self.text(e.span))));
                    }
                    targs.clear();
                }
                let infos: Vec<ArgInfo> = targs.iter().map(|t| arg_info(t, self.source)).collect();
                let call = self.text(e.span);
                let resolved = (def.resolve)(call, &infos).map_err(|m| self.error(e.span, m))?;
                let targs = self.apply_casts(targs, &resolved)?;
                let i = aggs.len();
                aggs.push(TAgg {
                    func: def,
                    args: targs,
                    ty: resolved.ty,
                    multi: resolved.multi,
                    filter: filter.clone(),
                    span: e.span,
                });
                Ok(TExpr {
                    kind: TExprKind::Column(format!("__agg{i}")),
                    ty: resolved.ty,
                    multi: resolved.multi,
                    span: e.span,
                })
            }
            ExprKind::Field(id) => {
                if let Some((_, g)) = groups.iter().find(|(n, _)| *n == id.name) {
                    return Ok(TExpr {
                        kind: TExprKind::Column(id.name.clone()),
                        ty: g.ty,
                        multi: false,
                        span: e.span,
                    });
                }
                Err(self.error(
                    e.span,
                    format!(
                        "column [{}] must appear in the STATS BY clause or be used in an aggregate function",
                        id.name
                    ),
                ))
            }
            ExprKind::Literal(_) | ExprKind::Param(_) => self.expr(e),
            ExprKind::Call { name, args, .. } => {
                let Some(def) = functions::scalar(name) else {
                    return Err(self.error(e.span, format!("Unknown function [{name}]")));
                };
                let mut targs = Vec::new();
                for a in args {
                    targs.push(self.agg_expr(a, filter, aggs, groups)?);
                }
                self.call(def, targs, e.span)
            }
            ExprKind::Binary { op, left, right } => {
                let l = self.agg_expr(left, filter, aggs, groups)?;
                let r = self.agg_expr(right, filter, aggs, groups)?;
                self.binary(*op, l, r, e.span)
            }
            ExprKind::Unary { op, expr } => {
                let t = self.agg_expr(expr, filter, aggs, groups)?;
                self.unary(*op, t, e.span)
            }
            ExprKind::Cast { expr, to, to_span } => {
                let t = self.agg_expr(expr, filter, aggs, groups)?;
                self.cast(t, to, *to_span, e.span)
            }
            _ => Err(self.error(e.span, format!("expected an aggregate function but found [{}]", self.text(e.span)))),
        }
    }

    fn keep(&mut self, patterns: &[ast::NamePattern]) -> R<()> {
        // Later patterns take precedence in ordering: each column goes where its most specific
        // (last exact name, otherwise last wildcard) match is. Elastic: a column matched by
        // several patterns takes the position of the exact match, or the last wildcard match.
        let mut picked: Vec<(usize, String)> = Vec::new();
        let mut ok = true;
        for p in patterns {
            let matches: Vec<String> =
                self.scope.iter().filter(|c| name_matches(&p.pattern, &c.name)).map(|c| c.name.clone()).collect();
            let matches = if matches.is_empty() && !p.is_wildcard() {
                match self.resolve_column(p.span, &p.pattern) {
                    Ok(c) => vec![c.name],
                    Err(_) => {
                        ok = false;
                        continue;
                    }
                }
            } else {
                matches
            };
            // A column goes where its last exact mention is; without one, where its last
            // wildcard match is.
            let kind = usize::from(!p.is_wildcard());
            for m in matches {
                if let Some(pos) = picked.iter().position(|(_, n)| *n == m) {
                    if kind >= picked[pos].0 {
                        picked.remove(pos);
                        picked.push((kind, m));
                    }
                } else {
                    picked.push((kind, m));
                }
            }
        }
        if !ok {
            return Err(Failed);
        }
        let cols: Vec<Column> =
            picked.iter().filter_map(|(_, n)| self.scope.iter().find(|c| c.name == *n).cloned()).collect();
        self.from_scope = false;
        self.steps.push(Step::Project(cols.iter().map(|c| (c.name.clone(), c.name.clone())).collect()));
        self.scope = cols;
        Ok(())
    }

    fn drop(&mut self, patterns: &[ast::NamePattern]) -> R<()> {
        let mut ok = true;
        let mut dropped: Vec<String> = Vec::new();
        for p in patterns {
            let matches: Vec<String> =
                self.scope.iter().filter(|c| name_matches(&p.pattern, &c.name)).map(|c| c.name.clone()).collect();
            if matches.is_empty() && !p.is_wildcard() && !self.poisoned.contains(&p.pattern) {
                self.unknown_column(p.span, &p.pattern);
                ok = false;
            }
            dropped.extend(matches);
        }
        if !ok {
            return Err(Failed);
        }
        self.scope.retain(|c| !dropped.contains(&c.name));
        self.steps.push(Step::Project(self.scope.iter().map(|c| (c.name.clone(), c.name.clone())).collect()));
        Ok(())
    }

    fn rename(&mut self, renames: &[ast::Rename]) -> R<()> {
        let mut ok = true;
        // (output name, input name) for every current column
        let mut mapping: Vec<(String, String)> = self.scope.iter().map(|c| (c.name.clone(), c.name.clone())).collect();
        for r in renames {
            let Some(pos) = mapping.iter().position(|(out, _)| *out == r.old.pattern) else {
                if !self.poisoned.contains(&r.old.pattern) {
                    self.unknown_column(r.old.span, &r.old.pattern);
                }
                self.poisoned.push(r.new.pattern.clone());
                ok = false;
                continue;
            };
            let new = r.new.pattern.clone();
            // The renamed column replaces any existing column of the new name.
            let input = mapping[pos].1.clone();
            mapping[pos].0 = new.clone();
            let mut seen = false;
            mapping.retain(|(out, inp)| {
                if *out == new {
                    if *inp == input && !seen {
                        seen = true;
                        return true;
                    }
                    return false;
                }
                true
            });
        }
        if !ok {
            return Err(Failed);
        }
        let old_scope = self.scope.clone();
        self.scope = mapping
            .iter()
            .map(|(out, inp)| {
                let c = old_scope.iter().find(|c| c.name == *inp).expect("invariant: mapping built from scope");
                Column { name: out.clone(), ty: c.ty, multi: c.multi }
            })
            .collect();
        self.steps.push(Step::Project(mapping));
        Ok(())
    }

    fn sort(&mut self, keys: &[ast::SortKey]) -> R<()> {
        let mut out = Vec::new();
        let mut ok = true;
        for k in keys {
            match self.expr(&k.expr) {
                Ok(t) => {
                    if !is_sortable(t.ty) {
                        self.error(k.expr.span, format!("cannot sort on {}", t.ty));
                        ok = false;
                        continue;
                    }
                    let nulls = k.nulls.unwrap_or(match k.order {
                        SortOrder::Asc => NullsOrder::Last,
                        SortOrder::Desc => NullsOrder::First,
                    });
                    out.push(TSortKey { expr: t, order: k.order, nulls });
                }
                Err(_) => ok = false,
            }
        }
        if !ok {
            return Err(Failed);
        }
        self.steps.push(Step::Sort(out));
        Ok(())
    }

    fn limit(&mut self, e: &ast::Expr) -> R<()> {
        let t = self.expr(e)?;
        let n = match &t.kind {
            TExprKind::Literal(Literal::Integer(i)) if *i >= 0 => *i as usize,
            TExprKind::Literal(Literal::Long(i)) if *i >= 0 => *i as usize,
            _ => {
                return Err(self.error(
                    e.span,
                    format!("Invalid value for LIMIT [{}], expecting a non negative integer", self.text(e.span)),
                ));
            }
        };
        self.steps.push(Step::Limit(n.min(self.options.max_limit)));
        Ok(())
    }

    fn mv_expand(&mut self, ident: &ast::Ident) -> R<()> {
        self.resolve_column(ident.span, &ident.name)?;
        let c = self.scope.iter_mut().find(|c| c.name == ident.name).expect("invariant: just resolved");
        c.multi = false;
        self.steps.push(Step::MvExpand(ident.name.clone()));
        Ok(())
    }

    fn enrich(&mut self, e: &ast::Enrich, span: Span) -> R<()> {
        let Some(policy) = self.catalog.enrich_policy(&e.policy.name) else {
            return Err(self.error(e.policy.span, format!("unresolved enrich policy [{}]", e.policy.name)));
        };
        if policy.kind != crate::catalog::EnrichKind::Match {
            return Err(
                self.error(span, format!("ENRICH with the range policy [{}] is not supported yet", policy.name))
            );
        }
        let Some(index) = self.catalog.index(&policy.index) else {
            return Err(self.error(
                e.policy.span,
                format!("enrich policy [{}] has no source index [{}]", policy.name, policy.index),
            ));
        };
        let on_name = e.on.as_ref().map(|i| (i.name.clone(), i.span)).unwrap_or((policy.match_field.clone(), span));
        let c = self.resolve_column(on_name.1, &on_name.0)?;
        let on = TExpr { kind: TExprKind::Column(c.name.clone()), ty: c.ty, multi: c.multi, span: on_name.1 };
        let wanted: Vec<(Option<ast::Ident>, ast::Ident)> = if e.with.is_empty() {
            policy.enrich_fields.iter().map(|f| (None, ast::Ident { name: f.clone(), span })).collect()
        } else {
            e.with.clone()
        };
        let mut fields = Vec::new();
        for (new, src) in wanted {
            if !policy.enrich_fields.contains(&src.name) {
                return Err(self.error(
                    src.span,
                    format!("Enrich field [{}] not found in enrich policy [{}]", src.name, policy.name),
                ));
            }
            let Some(f) = index.fields().iter().find(|f| f.name == src.name) else {
                return Err(self.error(src.span, format!("Enrich field [{}] is not in the source index", src.name)));
            };
            let out = new.map(|n| n.name).unwrap_or_else(|| src.name.clone());
            // Several matching source documents merge into a multi-value.
            fields.push((src.name.clone(), Column { name: out, ty: f.es_type, multi: true }));
        }
        for (_, c) in &fields {
            self.define(c.clone());
        }
        self.steps.push(Step::Enrich { index, match_field: policy.match_field.clone(), on, fields });
        Ok(())
    }

    fn lookup_join(&mut self, j: &ast::LookupJoin) -> R<()> {
        let Some(index) = self.catalog.index(&j.index.pattern) else {
            return Err(self.error(j.index.span, format!("Unknown index [{}]", j.index.pattern)));
        };
        if !index.is_lookup() {
            return Err(self.error(
                j.index.span,
                format!("invalid [{}] resolution in lookup mode to an index in [standard] mode", j.index.pattern),
            ));
        }
        let mut on = Vec::new();
        for k in &j.on {
            let left = self.resolve_column(k.span, &k.name)?;
            let Some(right) = index.fields().iter().find(|f| f.name == k.name) else {
                return Err(self.error(k.span, format!("Unknown column [{}] in right side of join", k.name)));
            };
            let compatible = left.ty == right.es_type
                || (left.ty.is_string() && right.es_type.is_string())
                || (left.ty.is_numeric() && right.es_type.is_numeric())
                || left.ty == EsType::Null;
            if !compatible {
                return Err(self.error(
                    k.span,
                    format!(
                        "JOIN left field [{}] of type [{}] is incompatible with right field [{}] of type [{}]",
                        k.name,
                        left.ty.name().to_uppercase(),
                        k.name,
                        right.es_type.name().to_uppercase()
                    ),
                ));
            }
            on.push(k.name.clone());
        }
        let added: Vec<Column> = index
            .fields()
            .iter()
            .filter(|f| !on.contains(&f.name) && !is_metadata(&f.name))
            .map(|f| Column { name: f.name.clone(), ty: f.es_type, multi: f.multi })
            .collect();
        for c in &added {
            self.define(c.clone());
        }
        self.steps.push(Step::LookupJoin { index, on, added });
        Ok(())
    }

    fn dissect(&mut self, d: &ast::Dissect) -> R<()> {
        let input = self.string_input(&d.input, "DISSECT")?;
        let mut separator = String::new();
        for (name, value) in &d.options {
            if !name.name.eq_ignore_ascii_case("append_separator") {
                return Err(self.error(name.span, format!("Invalid option for dissect: [{}]", name.name)));
            }
            match &value.kind {
                ExprKind::Literal(ast::Literal::String(s)) => separator = s.clone(),
                _ => {
                    return Err(self.error(
                        value.span,
                        format!(
                            "Invalid value for dissect append_separator: expected a string, but was [{}]",
                            self.text(value.span)
                        ),
                    ));
                }
            }
        }
        let pattern =
            crate::extract::dissect::Dissect::new(&d.pattern, &separator).map_err(|m| self.error(d.pattern_span, m))?;
        self.extraction(input, crate::extract::Pattern::Dissect(pattern))
    }

    fn grok(&mut self, g: &ast::Grok) -> R<()> {
        let input = self.string_input(&g.input, "GROK")?;
        let pattern = crate::extract::grok::Grok::new(&g.pattern).map_err(|m| self.error(g.pattern_span, m))?;
        self.extraction(input, crate::extract::Pattern::Grok(pattern))
    }

    fn string_input(&mut self, e: &ast::Expr, command: &str) -> R<TExpr> {
        let t = self.expr(e)?;
        if !t.ty.is_string() && t.ty != EsType::Null {
            return Err(self.error(
                e.span,
                format!(
                    "{command} only supports KEYWORD or TEXT values, found expression [{}] type [{}]",
                    self.text(e.span),
                    t.ty.name().to_uppercase()
                ),
            ));
        }
        Ok(t)
    }

    fn extraction(&mut self, input: TExpr, pattern: crate::extract::Pattern) -> R<()> {
        for (name, ty, multi) in pattern.outputs() {
            self.define(Column { name, ty, multi });
        }
        self.steps.push(Step::Extract { input, pattern: std::sync::Arc::new(pattern) });
        Ok(())
    }

    /// The column `name`, or an error (nothing is reported for names whose definition already
    /// failed). With `unmapped_fields = nullify`, an unknown field of the source indices becomes
    /// a null column.
    fn resolve_column(&mut self, span: Span, name: &str) -> R<Column> {
        if let Some(c) = self.scope.iter().find(|c| c.name == name) {
            return Ok(c.clone());
        }
        if self.poisoned.iter().any(|p| p == name) {
            return Err(Failed);
        }
        // A name close to a known column is a typo, not an unmapped field.
        let unmapped = &self.unmapped;
        let mapped = self.scope.iter().filter(|c| !unmapped.iter().any(|(u, _)| *u == c.name)).map(|c| c.name.as_str());
        // Only a close name with the same parent path counts (`source.ipp` for `source.ip`).
        let parent = |n: &str| n.rsplit_once('.').map(|(p, _)| p.to_string()).unwrap_or_default();
        let near = suggest(name, mapped).is_some_and(|s| parent(&s) == parent(name) && edit_distance(&s, name) <= 2);
        if self.from_scope && !near && self.options.unmapped_fields == crate::engine::UnmappedFields::Nullify {
            let c = Column { name: name.to_string(), ty: EsType::Null, multi: false };
            self.scope.push(c.clone());
            self.unmapped.push((name.to_string(), span));
            return Ok(c);
        }
        self.unknown_column(span, name);
        Err(Failed)
    }

    fn unknown_column(&mut self, span: Span, name: &str) {
        let mut msg = format!("Unknown column [{name}]");
        if let Some(s) = suggest(name, self.scope.iter().map(|c| c.name.as_str())) {
            msg.push_str(&format!(", did you mean [{s}]?"));
        }
        self.error(span, msg);
    }

    // ---- expressions -----------------------------------------------------------------------

    fn expr(&mut self, e: &ast::Expr) -> R<TExpr> {
        // Long AND/OR chains are left-deep: walk them with an explicit stack.
        if let ExprKind::Binary { op: op @ (BinaryOp::And | BinaryOp::Or), .. } = &e.kind {
            let mut chain = Vec::new();
            let mut cur = e;
            while let ExprKind::Binary { op: o, left, right } = &cur.kind {
                if o != op {
                    break;
                }
                chain.push((right.as_ref(), cur.span));
                cur = left;
            }
            let mut acc = self.expr(cur);
            while let Some((right, span)) = chain.pop() {
                let r = self.expr(right);
                acc = match (acc, r) {
                    (Ok(l), Ok(r)) => self.binary(*op, l, r, span),
                    _ => Err(Failed),
                };
            }
            return acc;
        }
        let span = e.span;
        match &e.kind {
            ExprKind::Literal(l) => self.literal(l, span),
            ExprKind::Field(id) => {
                let c = self.resolve_column(span, &id.name)?;
                if c.ty == EsType::Unsupported {
                    return Err(self
                        .error(span, format!("Cannot use field [{}] with unsupported or conflicting types", c.name)));
                }
                Ok(TExpr { kind: TExprKind::Column(c.name.clone()), ty: c.ty, multi: c.multi, span })
            }
            ExprKind::Param(p) => self.param(p, span),
            ExprKind::Binary { op, left, right } => {
                let l = self.expr(left);
                let r = self.expr(right);
                let (l, r) = (l?, r?);
                self.binary(*op, l, r, span)
            }
            ExprKind::Unary { op, expr } => {
                let t = self.expr(expr)?;
                self.unary(*op, t, span)
            }
            ExprKind::Call { name, args, star, name_span } => {
                if functions::aggregate(name).is_some() {
                    return Err(self.error(
                        span,
                        format!("aggregate function [{}] not allowed outside STATS command", self.text(span)),
                    ));
                }
                if *star {
                    return Err(
                        self.error(span, format!("[*] is only allowed in [count], found [{}]", self.text(span)))
                    );
                }
                if name == "kql" || name == "match" {
                    // Full-text functions, with Lucene's semantics: see `crate::kql`.
                    let options = args.iter().find_map(|a| match &a.kind {
                        ExprKind::Map(entries) => Some((entries, a.span)),
                        _ => None,
                    });
                    let field_is_column = args.first().is_some_and(|a| matches!(a.kind, ExprKind::Field(_)));
                    let mut fuzziness = None;
                    if let Some((entries, options_span)) = options {
                        let call = self.text(span);
                        if name == "kql" {
                            return Err(self.error(span, format!("options of [{call}] are not supported by Saker")));
                        }
                        if !field_is_column {
                            let field = args.first().map(|a| self.text(a.span)).unwrap_or_default();
                            return Err(self.error(
                                span,
                                format!(
                                    "Options are not supported for [MATCH] function call on non-index-mapped field [{field}]"
                                ),
                            ));
                        }
                        fuzziness = self.match_options(entries, options_span, call)?;
                    }
                    let targs: Vec<TExpr> = args
                        .iter()
                        .filter(|a| !matches!(a.kind, ExprKind::Map(_)))
                        .map(|a| self.expr(a))
                        .collect::<R<Vec<_>>>()?;
                    let (call, source) = (self.text(span), self.source);
                    let r = if name == "kql" {
                        crate::kql::kql_function(call, &targs, source, &self.scope, span)
                    } else {
                        crate::kql::match_function_with(call, &targs, source, span, false, fuzziness)
                    };
                    return r.map_err(|m| self.error(span, m));
                }
                let Some(def) = functions::scalar(name) else {
                    let mut msg = format!("Unknown function [{name}]");
                    if let Some(s) = suggest(name, functions::names().into_iter()) {
                        msg.push_str(&format!(", did you mean [{s}]?"));
                    }
                    return Err(self.error(*name_span, msg));
                };
                let mut targs = Vec::new();
                let mut ok = true;
                for a in args {
                    match self.expr(a) {
                        Ok(t) => targs.push(t),
                        Err(_) => ok = false,
                    }
                }
                if !ok {
                    return Err(Failed);
                }
                self.call(def, targs, span)
            }
            ExprKind::In { expr, list, negated } => {
                let t = self.expr(expr)?;
                let mut items = Vec::new();
                for i in list {
                    items.push(self.expr(i)?);
                }
                self.in_list(t, items, *negated, span)
            }
            ExprKind::Like { expr, patterns, negated, regex } => {
                let t = self.expr(expr)?;
                if !t.ty.is_string() && t.ty != EsType::Null {
                    return Err(self.error(
                        expr.span,
                        format!(
                            "argument of [{}] must be [string], found value [{}] type [{}]",
                            self.text(span),
                            self.text(expr.span),
                            t.ty
                        ),
                    ));
                }
                let mut pats = Vec::new();
                for p in patterns {
                    let tp = self.expr(p)?;
                    if !tp.ty.is_string() && tp.ty != EsType::Null {
                        return Err(self.error(
                            p.span,
                            format!("pattern [{}] must be a string, found type [{}]", self.text(p.span), tp.ty),
                        ));
                    }
                    if let (true, TExprKind::Literal(Literal::String(s))) = (*regex, &tp.kind)
                        && let Err(err) = crate::functions::string::like::compile_rlike(s)
                    {
                        return Err(self.error(span, format!("Invalid regex pattern [{s}]: {err}")));
                    }
                    pats.push(tp);
                }
                Ok(TExpr {
                    kind: TExprKind::Like { expr: Box::new(t), patterns: pats, negated: *negated, regex: *regex },
                    ty: EsType::Boolean,
                    multi: false,
                    span,
                })
            }
            ExprKind::IsNull { expr, negated } => {
                let t = self.expr(expr)?;
                Ok(TExpr {
                    kind: TExprKind::IsNull { expr: Box::new(t), negated: *negated },
                    ty: EsType::Boolean,
                    multi: false,
                    span,
                })
            }
            ExprKind::Cast { expr, to, to_span } => {
                let t = self.expr(expr)?;
                self.cast(t, to, *to_span, span)
            }
            ExprKind::Match { field, query } => {
                let (f, q) = (self.expr(field), self.expr(query));
                let targs = [f?, q?];
                crate::kql::match_function(self.text(span), &targs, self.source, span, true)
                    .map_err(|m| self.error(span, m))
            }
            ExprKind::Map(_) => Err(self.error(span, "a map literal is only allowed as a function option")),
        }
    }

    /// The options of `MATCH` Saker applies: `fuzziness` (a number of edits or `AUTO`) and
    /// `max_expansions` (which only bounds Elasticsearch's term expansion, so has no effect on
    /// which rows match). Any other option is refused by name.
    fn match_options(
        &mut self,
        entries: &[(String, ast::Expr)],
        span: Span,
        call: &str,
    ) -> R<Option<crate::kql::Fuzziness>> {
        let mut fuzziness = None;
        for (key, value) in entries {
            match (key.as_str(), &value.kind) {
                ("fuzziness", ExprKind::Literal(ast::Literal::Integer(n))) if (0..=2).contains(n) => {
                    fuzziness = Some(crate::kql::Fuzziness::Edits(*n as i32));
                }
                ("fuzziness", ExprKind::Literal(ast::Literal::String(s))) if s.eq_ignore_ascii_case("auto") => {
                    fuzziness = Some(crate::kql::Fuzziness::Auto);
                }
                ("max_expansions", ExprKind::Literal(ast::Literal::Integer(_))) => {}
                (other, _) => {
                    return Err(self.error(span, format!("option [{other}] of [{call}] is not supported by Saker")));
                }
            }
        }
        Ok(fuzziness)
    }

    fn literal(&mut self, l: &ast::Literal, span: Span) -> R<TExpr> {
        let (lit, ty) = match l {
            ast::Literal::Null => (Literal::Null, EsType::Null),
            ast::Literal::Boolean(b) => (Literal::Boolean(*b), EsType::Boolean),
            ast::Literal::Integer(i) => match i32::try_from(*i) {
                Ok(v) => (Literal::Integer(v), EsType::Integer),
                Err(_) => (Literal::Long(*i), EsType::Long),
            },
            ast::Literal::BigInteger(s) => match s.parse::<u64>() {
                Ok(v) => (Literal::UnsignedLong(v), EsType::UnsignedLong),
                Err(_) => match s.parse::<f64>() {
                    Ok(v) => (Literal::Double(v), EsType::Double),
                    Err(_) => return Err(self.error(span, format!("Number [{s}] is too large"))),
                },
            },
            ast::Literal::Decimal(d) => (Literal::Double(*d), EsType::Double),
            ast::Literal::String(s) => (Literal::String(s.clone()), EsType::Keyword),
            ast::Literal::TimeSpan { value, unit } => match span_literal(*value, unit) {
                Some((lit, ty)) => (lit, ty),
                None => return Err(self.error(span, format!("Unexpected temporal unit: '{unit}'"))),
            },
            ast::Literal::List(items) => {
                let mut vals = Vec::new();
                let mut ty = EsType::Null;
                for i in items {
                    let t = self.expr(i)?;
                    let TExprKind::Literal(v) = t.kind else {
                        return Err(self.error(i.span, "list elements must be constants"));
                    };
                    if ty == EsType::Null {
                        ty = t.ty;
                    } else if t.ty != ty
                        && t.ty.is_whole()
                        && ty.is_whole()
                        && (t.ty == EsType::UnsignedLong || ty == EsType::UnsignedLong)
                    {
                        // Whole numbers beside an unsigned_long literal are unsigned_long when
                        // none is negative.
                        ty = EsType::UnsignedLong;
                    } else if t.ty != ty && t.ty != EsType::Null {
                        // Numeric lists widen like Elastic does.
                        match widen_numeric(ty, t.ty) {
                            Some(w) => ty = w,
                            None => {
                                return Err(self.error(
                                    span,
                                    format!(
                                        "multi-valued literal [{}] mixes types [{}] and [{}]",
                                        self.text(span),
                                        ty,
                                        t.ty
                                    ),
                                ));
                            }
                        }
                    }
                    vals.push(v);
                }
                let vals = vals
                    .into_iter()
                    .map(|v| crate::convert::literal_to(&v, ty).unwrap_or(Literal::Null))
                    .collect::<Vec<_>>();
                let multi = vals.len() > 1;
                let lit = match vals.len() {
                    0 => Literal::Null,
                    1 => vals.into_iter().next().expect("invariant: one element"),
                    _ => Literal::List(vals),
                };
                return Ok(TExpr { kind: TExprKind::Literal(lit), ty, multi, span });
            }
        };
        Ok(TExpr { kind: TExprKind::Literal(lit), ty, multi: false, span })
    }

    fn param(&mut self, p: &ast::Param, span: Span) -> R<TExpr> {
        let v = match p {
            ast::Param::Anonymous(i) => self.options.positional_params.get(*i),
            ast::Param::Positional(i) => i.checked_sub(1).and_then(|i| self.options.positional_params.get(i)),
            ast::Param::Named(n) => self.options.named_params.iter().find(|(k, _)| k == n).map(|(_, v)| v),
        };
        let Some(v) = v else {
            let what = match p {
                ast::Param::Named(n) => format!("?{n}"),
                ast::Param::Positional(i) => format!("?{i}"),
                ast::Param::Anonymous(i) => format!("? (position {})", i + 1),
            };
            return Err(self.error(span, format!("Unknown query parameter [{what}]")));
        };
        let (lit, ty) = match v {
            Value::Null => (Literal::Null, EsType::Null),
            Value::Boolean(b) => (Literal::Boolean(*b), EsType::Boolean),
            Value::Integer(i) => match i32::try_from(*i) {
                Ok(x) => (Literal::Integer(x), EsType::Integer),
                Err(_) => (Literal::Long(*i), EsType::Long),
            },
            Value::Double(d) => (Literal::Double(*d), EsType::Double),
            Value::String(s) => (Literal::String(s.clone()), EsType::Keyword),
        };
        Ok(TExpr { kind: TExprKind::Literal(lit), ty, multi: false, span })
    }

    fn call(&mut self, def: &'static functions::ScalarDef, args: Vec<TExpr>, span: Span) -> R<TExpr> {
        let infos: Vec<ArgInfo> = args.iter().map(|t| arg_info(t, self.source)).collect();
        let call = self.text(span);
        let resolved: Resolved = (def.resolve)(call, &infos).map_err(|m| self.error(span, m))?;
        let args = self.apply_casts(args, &resolved)?;
        Ok(TExpr { kind: TExprKind::Call { func: def, args }, ty: resolved.ty, multi: resolved.multi, span })
    }

    fn apply_casts(&mut self, args: Vec<TExpr>, resolved: &Resolved) -> R<Vec<TExpr>> {
        let mut out = Vec::with_capacity(args.len());
        for (i, a) in args.into_iter().enumerate() {
            match resolved.casts.get(i).copied().flatten() {
                Some(to) if to != a.ty => out.push(self.convert(a, to)?),
                _ => out.push(a),
            }
        }
        Ok(out)
    }

    /// Converts an expression to `to` with the matching `to_*` function (constants fold here).
    fn convert(&mut self, t: TExpr, to: EsType) -> R<TExpr> {
        if t.ty == to {
            return Ok(t);
        }
        if let TExprKind::Literal(l) = &t.kind {
            if let Some(v) = crate::convert::literal_to(l, to) {
                return Ok(TExpr { kind: TExprKind::Literal(v), ty: to, multi: t.multi, span: t.span });
            }
            if t.ty == EsType::Keyword {
                let s = match l {
                    Literal::String(s) => s.clone(),
                    _ => String::new(),
                };
                return Err(self.error(
                    t.span,
                    format!(
                        "Cannot convert string [{s}] to [{}], error [{}]",
                        to.name().to_uppercase(),
                        crate::convert::parse_error(&s, to)
                    ),
                ));
            }
        }
        let Some(name) = crate::convert::function_for(to) else {
            return Err(self.error(t.span, format!("cannot convert [{}] to [{}]", t.ty, to)));
        };
        let def = functions::scalar(name).expect("invariant: every conversion function is registered");
        let span = t.span;
        self.call(def, vec![t], span)
    }

    fn cast(&mut self, t: TExpr, to: &str, to_span: Span, span: Span) -> R<TExpr> {
        let target = match to {
            "int" | "integer" => EsType::Integer,
            "long" => EsType::Long,
            "unsigned_long" => EsType::UnsignedLong,
            "double" | "float" => EsType::Double,
            "string" | "keyword" => EsType::Keyword,
            "text" => EsType::Text,
            "bool" | "boolean" => EsType::Boolean,
            "ip" => EsType::Ip,
            "version" => EsType::Version,
            "datetime" | "date" => EsType::Date,
            "date_nanos" => EsType::DateNanos,
            "geo_point" => EsType::GeoPoint,
            "date_period" => EsType::DatePeriod,
            "time_duration" => EsType::TimeDuration,
            other => {
                return Err(self.error(to_span, format!("Unsupported conversion to type [{}]", other.to_uppercase())));
            }
        };
        let mut out = self.convert(t, target)?;
        out.span = span;
        Ok(out)
    }

    fn unary(&mut self, op: UnaryOp, t: TExpr, span: Span) -> R<TExpr> {
        match op {
            UnaryOp::Not => {
                if t.ty != EsType::Boolean && t.ty != EsType::Null {
                    return Err(self.error(
                        span,
                        format!(
                            "argument of [{}] must be [boolean], found value [{}] type [{}]",
                            self.text(span),
                            self.text(t.span),
                            t.ty
                        ),
                    ));
                }
                Ok(TExpr { kind: TExprKind::Not(Box::new(t)), ty: EsType::Boolean, multi: false, span })
            }
            UnaryOp::Neg => {
                // Fold negative constants so that `-2147483648` is an integer, as Elastic does.
                if let TExprKind::Literal(l) = &t.kind {
                    let folded = match l {
                        Literal::Integer(i) => i
                            .checked_neg()
                            .map(|v| (Literal::Integer(v), EsType::Integer))
                            .or(Some((Literal::Long(-(*i as i64)), EsType::Long))),
                        Literal::Long(i) => i.checked_neg().map(|v| match i32::try_from(v) {
                            Ok(x) => (Literal::Integer(x), EsType::Integer),
                            Err(_) => (Literal::Long(v), EsType::Long),
                        }),
                        Literal::UnsignedLong(u) if *u == 1u64 << 63 => Some((Literal::Long(i64::MIN), EsType::Long)),
                        Literal::Double(d) => Some((Literal::Double(-d), EsType::Double)),
                        Literal::Period { months, days } => {
                            Some((Literal::Period { months: -months, days: -days }, EsType::DatePeriod))
                        }
                        Literal::Duration(ms) => Some((Literal::Duration(-ms), EsType::TimeDuration)),
                        _ => None,
                    };
                    if let Some((lit, ty)) = folded {
                        return Ok(TExpr { kind: TExprKind::Literal(lit), ty, multi: false, span });
                    }
                }
                let def = functions::scalar("neg").expect("invariant: neg is registered");
                self.call(def, vec![t], span)
            }
        }
    }

    fn binary(&mut self, op: BinaryOp, l: TExpr, r: TExpr, span: Span) -> R<TExpr> {
        match op {
            BinaryOp::And | BinaryOp::Or => {
                for side in [&l, &r] {
                    if side.ty != EsType::Boolean && side.ty != EsType::Null {
                        return Err(self.error(
                            span,
                            format!(
                                "{} argument of [{}] must be [boolean], found value [{}] type [{}]",
                                if std::ptr::eq(side, &l) { "first" } else { "second" },
                                self.text(span),
                                self.text(side.span),
                                side.ty
                            ),
                        ));
                    }
                }
                Ok(TExpr {
                    kind: TExprKind::Binary { op, left: Box::new(l), right: Box::new(r) },
                    ty: EsType::Boolean,
                    multi: false,
                    span,
                })
            }
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => {
                let name = match op {
                    BinaryOp::Add => "add",
                    BinaryOp::Sub => "sub",
                    BinaryOp::Mul => "mul",
                    BinaryOp::Div => "div",
                    _ => "mod",
                };
                let def = functions::scalar(name).expect("invariant: arithmetic is registered");
                // Constant spans fold, so that `dt + (1 year + 1 day)` is one calendar step.
                if let (TExprKind::Literal(a), TExprKind::Literal(b)) = (&l.kind, &r.kind)
                    && let Some((lit, ty)) = fold_spans(op, a, b)
                {
                    return Ok(TExpr { kind: TExprKind::Literal(lit), ty, multi: false, span });
                }
                self.call(def, vec![l, r], span)
            }
            BinaryOp::Eq | BinaryOp::NotEq | BinaryOp::Lt | BinaryOp::LtEq | BinaryOp::Gt | BinaryOp::GtEq => {
                let (l, r) = self.comparable(op, l, r, span)?;
                Ok(TExpr {
                    kind: TExprKind::Binary { op, left: Box::new(l), right: Box::new(r) },
                    ty: EsType::Boolean,
                    multi: false,
                    span,
                })
            }
        }
    }

    /// Brings both sides of a comparison to one type, converting string constants to the
    /// other side's type where Elastic does (dates, ips, versions, booleans, numbers).
    fn comparable(&mut self, op: BinaryOp, l: TExpr, r: TExpr, span: Span) -> R<(TExpr, TExpr)> {
        if l.ty == EsType::Null || r.ty == EsType::Null {
            return Ok((l, r));
        }
        if l.ty == r.ty || (l.ty.is_string() && r.ty.is_string()) {
            if matches!(op, BinaryOp::Lt | BinaryOp::LtEq | BinaryOp::Gt | BinaryOp::GtEq)
                && matches!(l.ty, EsType::Boolean | EsType::GeoPoint)
            {
                return Err(self.error(span, format!(
                    "first argument of [{}] must be [date, date_nanos, double, integer, ip, keyword, long, text, unsigned_long or version], found value [{}] type [{}]",
                    self.text(span), self.text(l.span), l.ty
                )));
            }
            return Ok((l, r));
        }
        if l.ty.is_numeric() && r.ty.is_numeric() {
            let w = widen_numeric(l.ty, r.ty).unwrap_or(EsType::Double);
            let l = self.convert(l, w)?;
            let r = self.convert(r, w)?;
            return Ok((l, r));
        }
        if l.ty.is_date() && r.ty.is_date() {
            // date vs date_nanos: compare as nanos.
            let l = self.convert(l, EsType::DateNanos)?;
            let r = self.convert(r, EsType::DateNanos)?;
            return Ok((l, r));
        }
        let is_const_str = |t: &TExpr| t.ty.is_string() && matches!(t.kind, TExprKind::Literal(_));
        if is_const_str(&r)
            && matches!(l.ty, EsType::Date | EsType::DateNanos | EsType::Ip | EsType::Version | EsType::Boolean)
            || is_const_str(&r) && l.ty.is_numeric()
        {
            let to = l.ty;
            let r = self.convert(r, to)?;
            return Ok((l, r));
        }
        if is_const_str(&l)
            && matches!(r.ty, EsType::Date | EsType::DateNanos | EsType::Ip | EsType::Version | EsType::Boolean)
            || is_const_str(&l) && r.ty.is_numeric()
        {
            let to = r.ty;
            let l = self.convert(l, to)?;
            return Ok((l, r));
        }
        Err(self.error(
            span,
            format!(
                "first argument of [{}] is [{}] so second argument must also be [{}] but was [{}]",
                self.text(span),
                type_family(l.ty),
                type_family(l.ty),
                type_family(r.ty)
            ),
        ))
    }

    fn in_list(&mut self, t: TExpr, items: Vec<TExpr>, negated: bool, span: Span) -> R<TExpr> {
        let mut list = Vec::new();
        let mut target = t.ty;
        if target == EsType::Null {
            // A null operand: the list decides the type, and the result is null anyway.
            target = items.iter().map(|i| i.ty).find(|ty| *ty != EsType::Null).unwrap_or(EsType::Null);
            if target == EsType::Null || items.iter().any(|i| i.ty != target && i.ty != EsType::Null) {
                return Ok(TExpr { kind: TExprKind::Literal(Literal::Null), ty: EsType::Boolean, multi: false, span });
            }
        }
        for i in &items {
            if target.is_numeric() && i.ty.is_numeric() {
                target = widen_numeric(target, i.ty).unwrap_or(EsType::Double);
            }
        }
        let t = if target != t.ty && t.ty != EsType::Null { self.convert(t, target)? } else { t };
        for i in items {
            if i.ty == EsType::Null || i.ty == target || (i.ty.is_string() && target.is_string()) {
                list.push(i);
                continue;
            }
            if matches!(i.kind, TExprKind::Literal(_))
                || (i.ty.is_numeric() && target.is_numeric())
                || (i.ty.is_date() && target.is_date())
            {
                list.push(self.convert(i, target)?);
                continue;
            }
            return Err(self.error(
                i.span,
                format!(
                    "{} argument of [{}] must be [{}], found value [{}] type [{}]",
                    "second",
                    self.text(span),
                    type_family(target),
                    self.text(i.span),
                    i.ty
                ),
            ));
        }
        Ok(TExpr { kind: TExprKind::In { expr: Box::new(t), list, negated }, ty: EsType::Boolean, multi: false, span })
    }
}

fn lit_str(s: &str) -> TExpr {
    TExpr {
        kind: TExprKind::Literal(Literal::String(s.to_string())),
        ty: EsType::Keyword,
        multi: false,
        span: Span::default(),
    }
}

/// How Elastic names a type family in comparison errors.
fn type_family(t: EsType) -> &'static str {
    if t.is_numeric() {
        "numeric"
    } else if t.is_string() {
        "keyword"
    } else if t.is_date() {
        "datetime"
    } else {
        t.name()
    }
}

/// `span ± span` of two constants of one kind.
fn fold_spans(op: BinaryOp, a: &Literal, b: &Literal) -> Option<(Literal, EsType)> {
    let sign = match op {
        BinaryOp::Add => 1,
        BinaryOp::Sub => -1,
        _ => return None,
    };
    match (a, b) {
        (Literal::Period { months: m1, days: d1 }, Literal::Period { months: m2, days: d2 }) => Some((
            Literal::Period { months: m1.checked_add(sign * m2)?, days: d1.checked_add(sign * d2)? },
            EsType::DatePeriod,
        )),
        (Literal::Duration(x), Literal::Duration(y)) => {
            Some((Literal::Duration(x.checked_add(i64::from(sign) * y)?), EsType::TimeDuration))
        }
        _ => None,
    }
}

/// Fields that only `METADATA` makes visible.
fn is_metadata(name: &str) -> bool {
    matches!(name, "_id" | "_index" | "_version" | "_ignored" | "_score" | "_source")
}

/// The common type of two numeric types, as ES|QL widens them.
pub fn widen_numeric(a: EsType, b: EsType) -> Option<EsType> {
    use EsType::*;
    if !a.is_numeric() || !b.is_numeric() {
        return None;
    }
    Some(match (a, b) {
        (Double, _) | (_, Double) => Double,
        (UnsignedLong, UnsignedLong) => UnsignedLong,
        (UnsignedLong, _) | (_, UnsignedLong) => Double,
        (Long, _) | (_, Long) => Long,
        _ => Integer,
    })
}

fn is_groupable(t: EsType) -> bool {
    !matches!(t, EsType::Unsupported | EsType::DatePeriod | EsType::TimeDuration)
}

fn is_sortable(t: EsType) -> bool {
    !matches!(t, EsType::Unsupported | EsType::DatePeriod | EsType::TimeDuration | EsType::GeoPoint)
}

pub(crate) fn arg_info<'a>(t: &'a TExpr, source: &'a str) -> ArgInfo<'a> {
    ArgInfo {
        ty: t.ty,
        multi: t.multi,
        literal: match &t.kind {
            TExprKind::Literal(l) => Some(l),
            _ => None,
        },
        text: t.span.text(source),
    }
}

/// A time span literal: calendar units are date_period, fixed units time_duration.
fn span_literal(value: i64, unit: &str) -> Option<(Literal, EsType)> {
    let v = value;
    let dur = |ms: i64| Some((Literal::Duration(v.checked_mul(ms)?), EsType::TimeDuration));
    let per = |months: i64, days: i64| {
        Some((
            Literal::Period {
                months: i32::try_from(v.checked_mul(months)?).ok()?,
                days: i32::try_from(v.checked_mul(days)?).ok()?,
            },
            EsType::DatePeriod,
        ))
    };
    match unit {
        "millisecond" | "milliseconds" | "ms" => dur(1),
        "second" | "seconds" | "sec" | "s" => dur(1000),
        "minute" | "minutes" | "min" | "m" => dur(60_000),
        "hour" | "hours" | "h" => dur(3_600_000),
        "day" | "days" | "d" => per(0, 1),
        "week" | "weeks" | "w" => per(0, 7),
        "month" | "months" | "mo" => per(1, 0),
        "quarter" | "quarters" | "q" => per(3, 0),
        "year" | "years" | "yr" | "y" => per(12, 0),
        _ => None,
    }
}

/// Elasticsearch index pattern matching: `*` wildcards; hidden (`.`-prefixed) indices only when
/// the pattern itself starts with `.`.
pub fn index_matches(pattern: &str, name: &str) -> bool {
    if name.starts_with('.') && !pattern.starts_with('.') {
        return false;
    }
    name_matches(pattern, name)
}

/// `*` wildcard matching on whole names.
pub fn name_matches(pattern: &str, name: &str) -> bool {
    if !pattern.contains('*') {
        return pattern == name;
    }
    let parts: Vec<&str> = pattern.split('*').collect();
    let mut rest = name;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(pos) => rest = &rest[pos + part.len()..],
                None => return false,
            }
        }
    }
    true
}

/// The closest name by edit distance, if close enough to be a likely typo.
fn suggest<'x>(name: &str, candidates: impl Iterator<Item = &'x str>) -> Option<String> {
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        if c.starts_with("__") {
            continue;
        }
        let limit = 2.max(name.len() / 5);
        if c.len().abs_diff(name.len()) > limit {
            continue;
        }
        let d = edit_distance(name, c);
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c.to_string())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_matching() {
        assert!(name_matches("logs-*", "logs-azure.signinlogs-default"));
        assert!(name_matches("*", "x"));
        assert!(name_matches("a*c", "abc"));
        assert!(!name_matches("a*c", "abd"));
        assert!(name_matches("source.*", "source.ip"));
        assert!(!index_matches("*", ".alerts-security.alerts-default"));
        assert!(index_matches(".alerts-security.*", ".alerts-security.alerts-default"));
    }

    #[test]
    fn numeric_widening() {
        assert_eq!(widen_numeric(EsType::Integer, EsType::Long), Some(EsType::Long));
        assert_eq!(widen_numeric(EsType::Integer, EsType::Double), Some(EsType::Double));
        assert_eq!(widen_numeric(EsType::Keyword, EsType::Double), None);
    }
}
