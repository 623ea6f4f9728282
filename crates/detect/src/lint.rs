//! `saker rules lint`: defects that make a rule's conditions wrong or impossible, found on the
//! ES|QL syntax tree ([`esql::syntax::ast`]).
//!
//! - **`case-variant-literals`**: one field compared with string literals that differ only in
//!   case in different conditions (`kibana.alert.rule.name == "External Alerts"` here,
//!   `== "external alerts"` there). ES|QL's `==` on keywords is case-sensitive, so at most one
//!   spelling can match a given value. Both spellings in one condition (`IN ("Success",
//!   "success")`, or an `OR` of both) is the usual way to cover variants and is not reported.
//! - **`field-not-in-indices`**: a field the `FROM` indices cannot have: `kibana.*` (and legacy
//!   `signal.*`) fields when no alerts index is read. (Integration fields are not checked: which
//!   package writes which namespace is not knowable from names — `system.security` writes
//!   `winlog.*`, `azure_openai` writes `azure.open_ai.*` — and Saker's field tables cover a few
//!   packages only.)
//! - **`never-true`**: a condition that no row can satisfy, given the `WHERE` commands before it
//!   and what the indices can hold (`data_stream.dataset` and `event.dataset` are constants per
//!   Fleet data stream). This
//!   follows through `EVAL`/`CASE` columns that are therefore always null and the `STATS`
//!   counts of them that are therefore always 0, down to a final `WHERE` that rejects every row.
//!
//! The `never-true` check evaluates conditions in ES|QL's three-valued logic over every
//! combination of the values they compare fields with (plus "another value", null and
//! multi-valued); sub-expressions it does not model are free true/false/null variables, so it
//! reports only what is impossible whatever those are.

use crate::rule::{Rule, RuleType};
use esql::analyzer::index_matches;
use esql::syntax::Span;
use esql::syntax::ast::{BinaryOp, CommandKind, Expr, ExprKind, Literal, Query, UnaryOp};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

/// What kind of defect a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// One field compared with literals differing only in case.
    CaseVariantLiterals,
    /// A field the rule's indices cannot have.
    FieldNotInIndices,
    /// A condition that can never be true.
    NeverTrue,
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Check::CaseVariantLiterals => "case-variant-literals",
            Check::FieldNotInIndices => "field-not-in-indices",
            Check::NeverTrue => "never-true",
        })
    }
}

/// One defect, with its position in the query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The check that found it.
    pub check: Check,
    /// What is wrong (names in backticks).
    pub message: String,
    /// Where (a byte range of the query).
    pub span: Span,
    /// Related positions.
    pub notes: Vec<(String, Span)>,
}

/// Lints a rule's query. Only ES|QL rules are checked; a query that does not parse gives no
/// findings (`saker check` and `rules validate` report parse errors).
pub fn lint_rule(rule: &Rule) -> Vec<Finding> {
    match (rule.rule_type, rule.query.as_deref()) {
        (RuleType::Esql, Some(q)) => match esql::syntax::parse(q) {
            Ok(ast) => lint_esql(q, &ast),
            Err(_) => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// Lints an ES|QL query.
pub fn lint_esql(text: &str, ast: &Query) -> Vec<Finding> {
    let mut findings = case_variants(ast);
    findings.extend(fields_not_in_indices(ast));
    findings.extend(NeverTrue::new(text, ast).run());
    findings.sort_by_key(|f| (f.span.start, f.check as u8));
    findings
}

/// `line:column` (1-based) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    Span::new(offset, offset).line_col(text)
}

// ---- expressions ------------------------------------------------------------------------------

/// Every expression of a command, in order.
fn command_exprs(kind: &CommandKind) -> Vec<&Expr> {
    match kind {
        CommandKind::Where(e) | CommandKind::Limit(e) => vec![e],
        CommandKind::Eval(fields) | CommandKind::Row(fields) => fields.iter().map(|f| &f.expr).collect(),
        CommandKind::Stats(s) => {
            let mut out: Vec<&Expr> = Vec::new();
            for a in &s.aggregates {
                out.push(&a.field.expr);
                if let Some(f) = &a.filter {
                    out.push(f);
                }
            }
            out.extend(s.groups.iter().map(|g| &g.expr));
            out
        }
        CommandKind::Sort(keys) => keys.iter().map(|k| &k.expr).collect(),
        CommandKind::Dissect(d) => vec![&d.input],
        CommandKind::Grok(g) => vec![&g.input],
        _ => Vec::new(),
    }
}

/// Calls `f` on `e` and every sub-expression (explicit stack: no recursion on query depth).
fn walk<'a>(e: &'a Expr, mut f: impl FnMut(&'a Expr)) {
    let mut stack = vec![e];
    while let Some(e) = stack.pop() {
        f(e);
        match &e.kind {
            ExprKind::Binary { left, right, .. } => {
                stack.push(right);
                stack.push(left);
            }
            ExprKind::Unary { expr, .. } | ExprKind::IsNull { expr, .. } | ExprKind::Cast { expr, .. } => {
                stack.push(expr)
            }
            ExprKind::Call { args, .. } => stack.extend(args.iter().rev()),
            ExprKind::In { expr, list, .. } => {
                stack.extend(list.iter().rev());
                stack.push(expr);
            }
            ExprKind::Like { expr, patterns, .. } => {
                stack.extend(patterns.iter().rev());
                stack.push(expr);
            }
            ExprKind::Match { field, query } => {
                stack.push(query);
                stack.push(field);
            }
            ExprKind::Map(entries) => stack.extend(entries.iter().map(|(_, v)| v)),
            ExprKind::Literal(Literal::List(items)) => stack.extend(items.iter()),
            ExprKind::Literal(_) | ExprKind::Field(_) | ExprKind::Param(_) => {}
        }
    }
}

fn field_name(e: &Expr) -> Option<&str> {
    match &e.kind {
        ExprKind::Field(id) => Some(&id.name),
        _ => None,
    }
}

fn string_literal(e: &Expr) -> Option<&str> {
    match &e.kind {
        ExprKind::Literal(Literal::String(s)) => Some(s),
        _ => None,
    }
}

// ---- case-variant literals --------------------------------------------------------------------

/// One comparison of a field with a string literal.
struct Comparison<'a> {
    field: &'a str,
    literal: &'a str,
    span: Span,
    /// The disjunction (`OR` tree, `IN` list) it belongs to.
    site: usize,
}

fn case_variants(ast: &Query) -> Vec<Finding> {
    let mut comparisons: Vec<Comparison<'_>> = Vec::new();
    let mut site = 0usize;
    for cmd in &ast.commands {
        for root in command_exprs(&cmd.kind) {
            // Every OR tree (and every comparison outside one) is a site; walk from the root,
            // giving a new site to each maximal OR tree.
            let mut stack: Vec<(&Expr, Option<usize>)> = vec![(root, None)];
            while let Some((e, in_or)) = stack.pop() {
                match &e.kind {
                    ExprKind::Binary { op: BinaryOp::Or, left, right } => {
                        let s = in_or.unwrap_or_else(|| {
                            site += 1;
                            site
                        });
                        stack.push((right, Some(s)));
                        stack.push((left, Some(s)));
                    }
                    ExprKind::Binary { op: BinaryOp::Eq | BinaryOp::NotEq, left, right } => {
                        let s = in_or.unwrap_or_else(|| {
                            site += 1;
                            site
                        });
                        let pair =
                            match (field_name(left), string_literal(right), field_name(right), string_literal(left)) {
                                (Some(f), Some(l), _, _) => Some((f, l, right.span)),
                                (_, _, Some(f), Some(l)) => Some((f, l, left.span)),
                                _ => None,
                            };
                        match pair {
                            Some((field, literal, span)) => {
                                comparisons.push(Comparison { field, literal, span, site: s })
                            }
                            None => {
                                stack.push((right, None));
                                stack.push((left, None));
                            }
                        }
                    }
                    ExprKind::In { expr, list, .. } => {
                        let s = in_or.unwrap_or_else(|| {
                            site += 1;
                            site
                        });
                        match field_name(expr) {
                            Some(field) => {
                                for item in list {
                                    if let Some(literal) = string_literal(item) {
                                        comparisons.push(Comparison { field, literal, span: item.span, site: s });
                                    }
                                }
                            }
                            None => stack.push((expr, None)),
                        }
                    }
                    _ => {
                        for child in direct_children(e) {
                            stack.push((child, None));
                        }
                    }
                }
            }
        }
    }
    let mut findings = Vec::new();
    let mut reported: BTreeSet<(String, String, String)> = BTreeSet::new();
    for (i, a) in comparisons.iter().enumerate() {
        for b in &comparisons[i + 1..] {
            if a.field != b.field || a.literal == b.literal || a.literal.to_lowercase() != b.literal.to_lowercase() {
                continue;
            }
            let together = comparisons.iter().any(|c| {
                c.field == a.field
                    && c.literal == a.literal
                    && comparisons.iter().any(|d| d.site == c.site && d.field == a.field && d.literal == b.literal)
            });
            if together {
                continue;
            }
            let (x, y) = if a.literal < b.literal { (a.literal, b.literal) } else { (b.literal, a.literal) };
            if !reported.insert((a.field.to_string(), x.to_string(), y.to_string())) {
                continue;
            }
            findings.push(Finding {
                check: Check::CaseVariantLiterals,
                message: format!(
                    "`{}` is compared with \"{}\" here and with \"{}\" elsewhere; ES|QL compares strings case-sensitively, so no value equals both",
                    a.field, b.literal, a.literal
                ),
                span: b.span,
                notes: vec![(format!("`{}` is compared with \"{}\" here", a.field, a.literal), a.span)],
            });
        }
    }
    findings
}

fn direct_children(e: &Expr) -> Vec<&Expr> {
    match &e.kind {
        ExprKind::Binary { left, right, .. } => vec![left, right],
        ExprKind::Unary { expr, .. } | ExprKind::IsNull { expr, .. } | ExprKind::Cast { expr, .. } => vec![expr],
        ExprKind::Call { args, .. } => args.iter().collect(),
        ExprKind::In { expr, list, .. } => std::iter::once(expr.as_ref()).chain(list.iter()).collect(),
        ExprKind::Like { expr, patterns, .. } => std::iter::once(expr.as_ref()).chain(patterns.iter()).collect(),
        ExprKind::Match { field, query } => vec![field, query],
        ExprKind::Map(entries) => entries.iter().map(|(_, v)| v).collect(),
        ExprKind::Literal(Literal::List(items)) => items.iter().collect(),
        _ => Vec::new(),
    }
}

// ---- fields the indices cannot have ----------------------------------------------------------

/// What the FROM patterns can hold.
struct Sources {
    /// An alerts index is read (alerts copy any event's fields).
    alerts: bool,
    /// Some pattern may match any data (`logs-*`, `filebeat-*`).
    generic: bool,
    /// Datasets of `logs-<dataset>-*` patterns.
    datasets: Vec<String>,
}

fn sources(ast: &Query) -> Option<Sources> {
    let CommandKind::From(from) = &ast.commands.first()?.kind else {
        return None;
    };
    let mut s = Sources { alerts: false, generic: false, datasets: Vec::new() };
    for p in &from.indices {
        let pattern = p.pattern.as_str();
        if pattern.starts_with('-') {
            continue;
        }
        if index_matches(pattern, crate::alert::ALERTS_INDEX) {
            s.alerts = true;
            continue;
        }
        match pattern.strip_prefix("logs-").and_then(|rest| rest.split_once('-')) {
            Some((dataset, _)) if dataset.contains('.') && !dataset.contains('*') => {
                s.datasets.push(dataset.to_string())
            }
            _ => s.generic = true,
        }
    }
    Some(s)
}

fn fields_not_in_indices(ast: &Query) -> Vec<Finding> {
    let Some(src) = sources(ast) else {
        return Vec::new();
    };
    let mut defined: BTreeSet<String> = BTreeSet::new();
    let mut findings = Vec::new();
    let mut reported: BTreeSet<String> = BTreeSet::new();
    let mut after_stats = false;
    for cmd in &ast.commands {
        for e in command_exprs(&cmd.kind) {
            walk(e, |sub| {
                let Some(name) = field_name(sub) else { return };
                if after_stats || defined.contains(name) || reported.contains(name) {
                    return;
                }
                if let Some(message) = field_problem(name, &src) {
                    reported.insert(name.to_string());
                    findings.push(Finding {
                        check: Check::FieldNotInIndices,
                        message,
                        span: sub.span,
                        notes: Vec::new(),
                    });
                }
            });
        }
        match &cmd.kind {
            CommandKind::Eval(fields) => {
                defined.extend(fields.iter().filter_map(|f| f.name.as_ref().map(|n| n.name.clone())))
            }
            CommandKind::Stats(s) if !s.inline => after_stats = true,
            CommandKind::Stats(s) => {
                defined.extend(s.aggregates.iter().filter_map(|a| a.field.name.as_ref().map(|n| n.name.clone())));
            }
            CommandKind::Rename(r) => defined.extend(r.iter().map(|x| x.new.pattern.clone())),
            // new fields we do not know the names of: stop checking
            CommandKind::Dissect(_) | CommandKind::Grok(_) | CommandKind::Enrich(_) | CommandKind::LookupJoin(_) => {
                after_stats = true
            }
            _ => {}
        }
    }
    findings
}

fn field_problem(name: &str, src: &Sources) -> Option<String> {
    let first = name.split('.').next().unwrap_or(name);
    (matches!(first, "kibana" | "signal") && !src.alerts).then(|| {
        format!("`{name}` exists only in alerts (`.alerts-security.*`), and the FROM reads no alerts index, so it is always null")
    })
}

// ---- conditions that can never be true -------------------------------------------------------

/// Three-valued truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tri {
    True,
    False,
    Null,
}

impl Tri {
    fn not(self) -> Tri {
        match self {
            Tri::True => Tri::False,
            Tri::False => Tri::True,
            Tri::Null => Tri::Null,
        }
    }
}

/// A field's value in one assignment.
#[derive(Debug, Clone, PartialEq)]
enum FieldValue {
    /// One of the literals it is compared with.
    Str(String),
    /// Some other single value.
    Other,
    Null,
    /// Several values (comparisons give null, `IS NULL` false).
    Multi,
    /// A known number (a count that is always 0).
    Number(f64),
}

/// A condition in the logic the check evaluates.
#[derive(Debug, Clone)]
enum Cond {
    Const(Tri),
    /// A string field equals one of these literals (`==` is the one-literal case).
    In(String, Vec<String>),
    IsNull(String),
    /// `field <op> number` on a field with a known value; otherwise opaque.
    Cmp(String, BinaryOp, f64),
    /// Something not modelled: a free variable, identified by its text.
    Opaque(String),
    Not(Box<Cond>),
    And(Vec<Cond>),
    Or(Vec<Cond>),
}

impl Cond {
    fn fields(&self, out: &mut BTreeSet<String>) {
        match self {
            Cond::In(f, _) | Cond::IsNull(f) | Cond::Cmp(f, _, _) => {
                out.insert(f.clone());
            }
            Cond::Not(c) => c.fields(out),
            Cond::And(cs) | Cond::Or(cs) => cs.iter().for_each(|c| c.fields(out)),
            Cond::Const(_) | Cond::Opaque(_) => {}
        }
    }

    fn literals(&self, out: &mut BTreeMap<String, BTreeSet<String>>) {
        match self {
            Cond::In(f, lits) => out.entry(f.clone()).or_default().extend(lits.iter().cloned()),
            Cond::IsNull(f) => {
                out.entry(f.clone()).or_default();
            }
            Cond::Not(c) => c.literals(out),
            Cond::And(cs) | Cond::Or(cs) => cs.iter().for_each(|c| c.literals(out)),
            _ => {}
        }
    }

    fn opaques(&self, out: &mut BTreeSet<String>, constants: &HashMap<String, Constant>) {
        match self {
            Cond::Opaque(t) => {
                out.insert(t.clone());
            }
            Cond::Cmp(f, op, n) if !constants.contains_key(f) => {
                out.insert(format!("{f} {} {n}", op.symbol()));
            }
            Cond::Not(c) => c.opaques(out, constants),
            Cond::And(cs) | Cond::Or(cs) => cs.iter().for_each(|c| c.opaques(out, constants)),
            _ => {}
        }
    }
}

/// A column whose value is known whatever the data, and why.
#[derive(Debug, Clone)]
struct Constant {
    value: FieldValue,
    why: String,
    span: Span,
}

/// A `WHERE` that rows passed, as a constraint on later conditions.
#[derive(Debug, Clone)]
struct Constraint {
    cond: Cond,
    span: Span,
}

/// The most assignments evaluated for one check.
const MAX_ASSIGNMENTS: usize = 200_000;

struct NeverTrue<'a> {
    text: &'a str,
    ast: &'a Query,
    constraints: Vec<Constraint>,
    constants: HashMap<String, Constant>,
    /// Values `data_stream.dataset` can have (constant per data stream), when known.
    datasets: Option<Vec<String>>,
    findings: Vec<Finding>,
}

impl<'a> NeverTrue<'a> {
    fn new(text: &'a str, ast: &'a Query) -> NeverTrue<'a> {
        let datasets = sources(ast).filter(|s| !s.alerts && !s.generic && !s.datasets.is_empty()).map(|s| s.datasets);
        NeverTrue { text, ast, constraints: Vec::new(), constants: HashMap::new(), datasets, findings: Vec::new() }
    }

    fn run(mut self) -> Vec<Finding> {
        for cmd in &self.ast.commands {
            match &cmd.kind {
                CommandKind::Where(e) => {
                    let cond = self.cond(e);
                    if self.satisfiable(&cond) == Some(false) {
                        let mut notes = self.constraint_notes(&cond);
                        notes.extend(self.constant_notes(&cond));
                        self.findings.push(Finding {
                            check: Check::NeverTrue,
                            message: "this WHERE can never be true, so no row passes it and the rule can never create an alert"
                                .to_string(),
                            span: e.span,
                            notes,
                        });
                    }
                    self.constraints.push(Constraint { cond, span: e.span });
                }
                CommandKind::Eval(fields) => {
                    for f in fields {
                        let name =
                            f.name.as_ref().map_or_else(|| f.expr.span.text(self.text).to_string(), |n| n.name.clone());
                        let constant = self.eval_constant(&f.expr, &name);
                        self.redefine(&name);
                        if let Some(c) = constant {
                            self.constants.insert(name, c);
                        }
                    }
                }
                CommandKind::Stats(s) => {
                    let mut after: HashMap<String, Constant> = HashMap::new();
                    for agg in &s.aggregates {
                        let name = agg
                            .field
                            .name
                            .as_ref()
                            .map_or_else(|| agg.field.expr.span.text(self.text).to_string(), |n| n.name.clone());
                        let filter_never = agg.filter.as_ref().is_some_and(|f| {
                            let c = self.cond(f);
                            self.satisfiable(&c) == Some(false)
                        });
                        if let Some(c) = self.aggregate_constant(&agg.field.expr, filter_never) {
                            after.insert(name, c);
                        }
                    }
                    if s.inline {
                        for (k, v) in after {
                            self.redefine(&k);
                            self.constants.insert(k, v);
                        }
                    } else {
                        self.constraints.clear();
                        self.constants = after;
                    }
                }
                CommandKind::Rename(renames) => {
                    for r in renames {
                        let moved = self.constants.remove(&r.old.pattern);
                        self.redefine(&r.old.pattern);
                        self.redefine(&r.new.pattern);
                        if let Some(c) = moved {
                            self.constants.insert(r.new.pattern.clone(), c);
                        }
                    }
                }
                CommandKind::MvExpand(f) => self.redefine(&f.name),
                CommandKind::Dissect(_)
                | CommandKind::Grok(_)
                | CommandKind::Enrich(_)
                | CommandKind::LookupJoin(_) => {
                    self.constraints.clear();
                    self.constants.clear();
                }
                _ => {}
            }
        }
        self.findings
    }

    /// Forgets what is known about a field that a command (re)defines.
    fn redefine(&mut self, name: &str) {
        self.constants.remove(name);
        self.constraints.retain(|c| {
            let mut fields = BTreeSet::new();
            c.cond.fields(&mut fields);
            !fields.contains(name)
        });
    }

    /// The earlier `WHERE`s that constrain a field of `cond`.
    fn constraint_notes(&self, cond: &Cond) -> Vec<(String, Span)> {
        let mut fields = BTreeSet::new();
        cond.fields(&mut fields);
        self.constraints
            .iter()
            .filter(|c| {
                let mut theirs = BTreeSet::new();
                c.cond.fields(&mut theirs);
                !theirs.is_disjoint(&fields)
            })
            .map(|c| ("given this earlier WHERE".to_string(), c.span))
            .collect()
    }

    fn constant_notes(&self, cond: &Cond) -> Vec<(String, Span)> {
        let mut fields = BTreeSet::new();
        cond.fields(&mut fields);
        fields.iter().filter_map(|f| self.constants.get(f).map(|c| (format!("`{f}` {}", c.why), c.span))).collect()
    }

    /// `CASE(…)` whose conditions can never be true (and without a non-null default) is always
    /// null; reported per impossible condition.
    fn eval_constant(&mut self, e: &Expr, name: &str) -> Option<Constant> {
        match &e.kind {
            ExprKind::Literal(Literal::Null) => {
                Some(Constant { value: FieldValue::Null, why: "is always null".into(), span: e.span })
            }
            ExprKind::Call { name: fname, args, .. } if fname == "case" && args.len() >= 2 => {
                let mut all_never = true;
                let mut i = 0;
                while i + 1 < args.len() {
                    let cond = self.cond(&args[i]);
                    if self.satisfiable(&cond) == Some(false) {
                        let mut notes = self.constraint_notes(&cond);
                        notes.extend(self.constant_notes(&cond));
                        self.findings.push(Finding {
                            check: Check::NeverTrue,
                            message: format!(
                                "this CASE condition of `{name}` can never be true for the rows that reach it"
                            ),
                            span: args[i].span,
                            notes,
                        });
                    } else {
                        all_never = false;
                    }
                    i += 2;
                }
                let default_null =
                    args.len() % 2 == 0 || matches!(args[args.len() - 1].kind, ExprKind::Literal(Literal::Null));
                (all_never && default_null).then(|| Constant {
                    value: FieldValue::Null,
                    why: "is always null (its CASE conditions can never be true)".into(),
                    span: e.span,
                })
            }
            _ => None,
        }
    }

    fn aggregate_constant(&self, e: &Expr, filter_never: bool) -> Option<Constant> {
        let ExprKind::Call { name, args, star, .. } = &e.kind else {
            return None;
        };
        let input_null = || match args.first().map(|a| &a.kind) {
            Some(ExprKind::Field(id)) => {
                self.constants.get(&id.name).filter(|c| c.value == FieldValue::Null).map(|_| id.name.clone())
            }
            Some(ExprKind::Literal(Literal::Null)) => Some("null".to_string()),
            _ => None,
        };
        let counting = matches!(name.as_str(), "count" | "count_distinct");
        if filter_never {
            let value = if counting { FieldValue::Number(0.0) } else { FieldValue::Null };
            return Some(Constant {
                value,
                why: "counts nothing: its WHERE filter can never be true".into(),
                span: e.span,
            });
        }
        if *star {
            return None;
        }
        let column = input_null()?;
        if counting {
            Some(Constant {
                value: FieldValue::Number(0.0),
                why: format!("is always 0: it is {name}(`{column}`), and `{column}` is always null"),
                span: e.span,
            })
        } else if matches!(name.as_str(), "values" | "min" | "max" | "avg" | "sum" | "first" | "last" | "top") {
            Some(Constant {
                value: FieldValue::Null,
                why: format!("is always null: it aggregates `{column}`, which is always null"),
                span: e.span,
            })
        } else {
            None
        }
    }

    fn cond(&self, e: &Expr) -> Cond {
        match &e.kind {
            ExprKind::Literal(Literal::Boolean(b)) => Cond::Const(if *b { Tri::True } else { Tri::False }),
            ExprKind::Literal(Literal::Null) => Cond::Const(Tri::Null),
            ExprKind::Binary { op: BinaryOp::And, left, right } => Cond::And(vec![self.cond(left), self.cond(right)]),
            ExprKind::Binary { op: BinaryOp::Or, left, right } => Cond::Or(vec![self.cond(left), self.cond(right)]),
            ExprKind::Unary { op: UnaryOp::Not, expr } => Cond::Not(Box::new(self.cond(expr))),
            ExprKind::Binary { op: op @ (BinaryOp::Eq | BinaryOp::NotEq), left, right } => {
                let pair = match (field_name(left), string_literal(right), field_name(right), string_literal(left)) {
                    (Some(f), Some(l), _, _) | (_, _, Some(f), Some(l)) => Some((f, l)),
                    _ => None,
                };
                match pair {
                    Some((f, l)) => {
                        let c = Cond::In(f.to_string(), vec![l.to_string()]);
                        if *op == BinaryOp::NotEq { Cond::Not(Box::new(c)) } else { c }
                    }
                    None => self.numeric(e, *op, left, right),
                }
            }
            ExprKind::Binary {
                op: op @ (BinaryOp::Lt | BinaryOp::LtEq | BinaryOp::Gt | BinaryOp::GtEq),
                left,
                right,
            } => self.numeric(e, *op, left, right),
            ExprKind::In { expr, list, negated } => {
                let lits: Option<Vec<String>> = list.iter().map(|i| string_literal(i).map(str::to_string)).collect();
                match (field_name(expr), lits) {
                    (Some(f), Some(lits)) => {
                        let c = Cond::In(f.to_string(), lits);
                        if *negated { Cond::Not(Box::new(c)) } else { c }
                    }
                    _ => self.opaque(e),
                }
            }
            ExprKind::IsNull { expr, negated } => match field_name(expr) {
                Some(f) => {
                    let c = Cond::IsNull(f.to_string());
                    if *negated { Cond::Not(Box::new(c)) } else { c }
                }
                None => self.opaque(e),
            },
            _ => self.opaque(e),
        }
    }

    fn numeric(&self, e: &Expr, op: BinaryOp, left: &Expr, right: &Expr) -> Cond {
        let number = |x: &Expr| match &x.kind {
            ExprKind::Literal(Literal::Integer(n)) => Some(*n as f64),
            ExprKind::Literal(Literal::Decimal(d)) => Some(*d),
            _ => None,
        };
        match (field_name(left), number(right)) {
            (Some(f), Some(n)) if self.constants.contains_key(f) => Cond::Cmp(f.to_string(), op, n),
            _ => self.opaque(e),
        }
    }

    fn opaque(&self, e: &Expr) -> Cond {
        Cond::Opaque(e.span.text(self.text).split_whitespace().collect::<Vec<_>>().join(" "))
    }

    /// Whether some assignment makes every constraint and `cond` true; `None` when there are
    /// too many assignments to try.
    fn satisfiable(&self, cond: &Cond) -> Option<bool> {
        let all: Vec<&Cond> = self.constraints.iter().map(|c| &c.cond).chain(std::iter::once(cond)).collect();
        let mut literals: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut opaques: BTreeSet<String> = BTreeSet::new();
        let mut fields: BTreeSet<String> = BTreeSet::new();
        for c in &all {
            c.literals(&mut literals);
            c.opaques(&mut opaques, &self.constants);
            c.fields(&mut fields);
        }
        let mut domains: Vec<(String, Vec<FieldValue>)> = Vec::new();
        for f in &fields {
            if let Some(c) = self.constants.get(f) {
                domains.push((f.clone(), vec![c.value.clone()]));
                continue;
            }
            let mut values: Vec<FieldValue> =
                literals.get(f).into_iter().flatten().map(|l| FieldValue::Str(l.clone())).collect();
            if (f == "data_stream.dataset" || f == "event.dataset")
                && let Some(ds) = &self.datasets
            {
                values = ds.iter().map(|d| FieldValue::Str(d.clone())).collect();
            } else {
                values.extend([FieldValue::Other, FieldValue::Null, FieldValue::Multi]);
            }
            domains.push((f.clone(), values));
        }
        let opaques: Vec<String> = opaques.into_iter().collect();
        let mut total: usize = 1;
        for (_, d) in &domains {
            total = total.checked_mul(d.len().max(1))?;
        }
        for _ in &opaques {
            total = total.checked_mul(3)?;
        }
        if total > MAX_ASSIGNMENTS {
            return None;
        }
        let mut assignment: HashMap<&str, &FieldValue> = HashMap::new();
        let mut free: HashMap<&str, Tri> = HashMap::new();
        for n in 0..total {
            let mut k = n;
            for (f, d) in &domains {
                let len = d.len().max(1);
                if let Some(v) = d.get(k % len) {
                    assignment.insert(f.as_str(), v);
                }
                k /= len;
            }
            for o in &opaques {
                free.insert(o.as_str(), [Tri::True, Tri::False, Tri::Null][k % 3]);
                k /= 3;
            }
            if all.iter().all(|c| eval(c, &assignment, &free) == Tri::True) {
                return Some(true);
            }
        }
        Some(false)
    }
}

fn eval(c: &Cond, values: &HashMap<&str, &FieldValue>, free: &HashMap<&str, Tri>) -> Tri {
    match c {
        Cond::Const(t) => *t,
        Cond::Opaque(t) => free.get(t.as_str()).copied().unwrap_or(Tri::Null),
        Cond::In(f, lits) => match values.get(f.as_str()) {
            Some(FieldValue::Str(s)) => {
                if lits.contains(s) {
                    Tri::True
                } else {
                    Tri::False
                }
            }
            Some(FieldValue::Other) | Some(FieldValue::Number(_)) => Tri::False,
            _ => Tri::Null,
        },
        Cond::IsNull(f) => match values.get(f.as_str()) {
            Some(FieldValue::Null) => Tri::True,
            _ => Tri::False,
        },
        Cond::Cmp(f, op, n) => match values.get(f.as_str()) {
            Some(FieldValue::Number(v)) => {
                let r = match op {
                    BinaryOp::Lt => v < n,
                    BinaryOp::LtEq => v <= n,
                    BinaryOp::Gt => v > n,
                    BinaryOp::GtEq => v >= n,
                    BinaryOp::Eq => v == n,
                    BinaryOp::NotEq => v != n,
                    _ => return Tri::Null,
                };
                if r { Tri::True } else { Tri::False }
            }
            Some(FieldValue::Null) | Some(FieldValue::Multi) => Tri::Null,
            _ => free.get(format!("{f} {} {n}", op.symbol()).as_str()).copied().unwrap_or(Tri::Null),
        },
        Cond::Not(inner) => eval(inner, values, free).not(),
        Cond::And(cs) => {
            let mut out = Tri::True;
            for c in cs {
                match eval(c, values, free) {
                    Tri::False => return Tri::False,
                    Tri::Null => out = Tri::Null,
                    Tri::True => {}
                }
            }
            out
        }
        Cond::Or(cs) => {
            let mut out = Tri::False;
            for c in cs {
                match eval(c, values, free) {
                    Tri::True => return Tri::True,
                    Tri::Null => out = Tri::Null,
                    Tri::False => {}
                }
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lint(q: &str) -> Vec<Finding> {
        lint_esql(q, &esql::syntax::parse(q).expect("parses"))
    }

    #[test]
    fn both_spellings_in_one_condition_are_fine() {
        assert!(lint(r#"FROM logs-* | WHERE event.outcome IN ("Success", "success")"#).is_empty());
        assert!(lint(r#"FROM logs-* | WHERE event.outcome == "Success" OR event.outcome == "success""#).is_empty());
    }

    #[test]
    fn spellings_in_different_conditions_are_reported_with_both_positions() {
        let q =
            "FROM logs-*, .alerts-security.*\n| WHERE a.b == \"X Y\" OR c == \"1\"\n| EVAL z = CASE(a.b == \"x y\", 1)";
        let f = lint(q);
        let cv: Vec<&Finding> = f.iter().filter(|f| f.check == Check::CaseVariantLiterals).collect();
        assert_eq!(cv.len(), 1, "{f:#?}");
        assert_eq!(cv[0].span.text(q), "\"x y\"");
        assert_eq!(cv[0].notes[0].1.text(q), "\"X Y\"");
        assert!(cv[0].message.contains("with \"X Y\" elsewhere"), "{}", cv[0].message);
    }

    #[test]
    fn impossible_case_conditions_propagate_to_the_final_where() {
        let q = r#"FROM logs-*, .alerts-security.*
| WHERE ds IN ("a", "b") OR name == "N"
| EVAL x = CASE(name == "n" AND NOT ds IN ("a", "b"), 1, null)
| STATS c = COUNT_DISTINCT(x), n = COUNT(*) BY k
| WHERE c > 0 AND n <= 100"#;
        let f: Vec<Finding> = lint(q).into_iter().filter(|f| f.check == Check::NeverTrue).collect();
        assert_eq!(f.len(), 2, "{f:#?}");
        assert!(f[0].message.contains("CASE condition of `x`"), "{}", f[0].message);
        assert!(f[1].message.starts_with("this WHERE can never be true"), "{}", f[1].message);
        assert!(
            f[1].notes.iter().any(|(n, _)| n.contains("is always 0: it is count_distinct(`x`)")),
            "{:?}",
            f[1].notes
        );
        // with the spelling fixed, nothing is impossible
        let fixed = q.replace("== \"n\"", "== \"N\"");
        assert!(lint(&fixed).iter().all(|f| f.check != Check::NeverTrue), "{:#?}", lint(&fixed));
    }

    #[test]
    fn constant_datasets() {
        let f = lint(r#"FROM logs-o365.audit-* | WHERE data_stream.dataset == "okta.system""#);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].check, Check::NeverTrue);
    }

    #[test]
    fn fields_the_indices_cannot_have() {
        let f = lint(
            r#"FROM logs-o365.audit-* | WHERE kibana.alert.rule.name == "x" AND azure.signinlogs.category == "y""#,
        );
        let messages: Vec<&str> =
            f.iter().filter(|f| f.check == Check::FieldNotInIndices).map(|f| f.message.as_str()).collect();
        assert_eq!(messages.len(), 1, "{messages:#?}");
        assert!(messages[0].starts_with("`kibana.alert.rule.name` exists only in alerts"));
        assert!(lint(r#"FROM logs-*, .alerts-* | WHERE kibana.alert.rule.name == "x""#).is_empty());
    }
}
