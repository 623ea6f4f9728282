//! KQL in ES|QL: [`translate`] compiles a Kibana query (`KQL("...")`) into a typed boolean
//! expression over the current columns, and [`match_function`] does the same for `MATCH(field,
//! "query")` and `field : "query"`.
//!
//! The result has Elasticsearch's *query* semantics, not ES|QL's: a multi-valued field matches
//! when any of its values matches, and a row without a value simply does not match (the
//! expression is never null, so `not field:x` keeps rows without `field`). Leaves become the
//! internal predicates of [`crate::functions::kql_ops`]; `and`/`or`/`not` become ES|QL's.
//!
//! How a value is matched depends on the field's type, as in Kibana + Elasticsearch:
//!
//! | field | `field:value` | `field:"a phrase"` | `field:val*` |
//! |---|---|---|---|
//! | keyword | the whole value, case-sensitive | same | wildcard over the whole value |
//! | text | any token of the value (analyzed like the standard analyzer) | consecutive tokens | wildcard over each token, lower-cased |
//! | numbers, boolean, version | equality with the value parsed to the field's type | same | error |
//! | ip | equality, or inside a CIDR block (`10.0.0.0/8`) | same | error |
//! | date | the value's span: `2024-01-15` is the whole day | same | error |
//!
//! An unquoted value with a wildcard is handed to Elasticsearch as a `query_string`, which splits
//! it on whitespace into OR-ed terms (`* curl*` means "has a value, or a token starting with
//! curl"); a lone `*` term tests existence. A field that is not a column matches nothing; a
//! wildcard field name (`source.*`) matches any of the columns it names. A value without a field
//! searches every column, skipping those whose type cannot hold it.
//!
//! Kibana: `@kbn/es-query` `kuery/functions/{is,range,exists,nested}.ts`; Elasticsearch: the
//! `match`, `match_phrase`, `range`, `exists` and `query_string` queries.

use crate::functions::kql_ops::{self, date_math};
use crate::ir::{Column, Literal, TExpr, TExprKind};
use crate::types::EsType;
use ::kql::{Keyword, Literal as KqlLiteral, Part, Query, QueryKind, RangeOp, ValueQuery, ValueQueryKind};
use esql_syntax::Span;
use esql_syntax::ast::BinaryOp;

/// Translates a KQL query into a boolean expression over `scope`, every node at `span`.
///
/// # Errors
/// Kibana's syntax error (message, query and a caret under the position), or Elasticsearch's
/// error for a value the field cannot hold (`failed to create query: For input string: "abc"`).
pub fn translate(query: &str, scope: &[Column], span: Span) -> Result<TExpr, String> {
    let ast = ::kql::parse(query).map_err(|e| e.render(query))?;
    Translator { scope, span, field_expr: None }.query(&ast, "")
}

/// `KQL(query)`: checks the argument as Elastic does, then [`translate`]s it against `scope`.
/// `call` is the call's source text; `source` the whole query (for argument texts).
///
/// # Errors
/// Elastic's verification messages, or the translation error.
pub fn kql_function(call: &str, args: &[TExpr], source: &str, scope: &[Column], span: Span) -> Result<TExpr, String> {
    if args.is_empty() || args.len() > 2 {
        return Err("error building [kql]: expects one or two arguments".to_string());
    }
    if args.len() == 2 {
        return Err(format!("options of [{call}] are not supported by Saker"));
    }
    let q = &args[0];
    let text = q.span.text(source);
    if q.ty == EsType::Null || matches!(q.kind, TExprKind::Literal(Literal::Null)) {
        return Err(format!("first argument of [{call}] cannot be null, received [{text}]"));
    }
    if !q.ty.is_string() {
        return Err(format!(
            "first argument of [{call}] must be [keyword, text], found value [{text}] type [{}]",
            q.ty
        ));
    }
    match &q.kind {
        TExprKind::Literal(Literal::String(s)) => translate(s, scope, span),
        _ => Err(format!("Query must be a constant string in [{call}], found [{text}]")),
    }
}

/// Field types `MATCH` accepts, as Elastic lists them.
const MATCH_FIELD_TYPES: &str =
    "keyword, text, boolean, date, date_nanos, double, integer, ip, long, unsigned_long, version";
/// Query types `MATCH` accepts.
const MATCH_QUERY_TYPES: &str = "keyword, boolean, date, date_nanos, double, integer, ip, long, unsigned_long, version";

/// `MATCH(field, query)` (`operator: false`) or `field : query` (`operator: true`): a lenient
/// `match` query — a query the field's type cannot hold matches nothing.
///
/// # Errors
/// Elastic's verification messages.
pub fn match_function(call: &str, args: &[TExpr], source: &str, span: Span, operator: bool) -> Result<TExpr, String> {
    match_function_with(call, args, source, span, operator, None)
}

/// `MATCH` with its `fuzziness` option: the query's terms may be this many edits away
/// (keyword and text fields; `AUTO` is 0, 1 or 2 by term length, as Elasticsearch picks).
///
/// # Errors
/// Elastic's verification messages.
pub fn match_function_with(
    call: &str,
    args: &[TExpr],
    source: &str,
    span: Span,
    operator: bool,
    fuzziness: Option<Fuzziness>,
) -> Result<TExpr, String> {
    if !operator && (args.len() < 2 || args.len() > 3) {
        return Err("error building [match]: expects two or three arguments".to_string());
    }
    let (field, query) = (&args[0], &args[1]);
    if args.len() == 3 {
        let ftext = field.span.text(source);
        return Err(format!("Options are not supported for [MATCH] function call on non-index-mapped field [{ftext}]"));
    }
    let (ftext, qtext) = (field.span.text(source), query.span.text(source));
    let field_ok = matches!(
        field.ty,
        EsType::Null
            | EsType::Keyword
            | EsType::Text
            | EsType::Boolean
            | EsType::Date
            | EsType::DateNanos
            | EsType::Double
            | EsType::Integer
            | EsType::Ip
            | EsType::Long
            | EsType::UnsignedLong
            | EsType::Version
    );
    if !field_ok {
        return Err(format!(
            "first argument of [{call}] must be [{MATCH_FIELD_TYPES}], found value [{ftext}] type [{}]",
            field.ty
        ));
    }
    let query_ok = query.ty == EsType::Null || (query.ty != EsType::Text && field_ok_query(query.ty));
    if !query_ok {
        return Err(format!(
            "second argument of [{call}] must be [{MATCH_QUERY_TYPES}], found value [{qtext}] type [{}]",
            query.ty
        ));
    }
    if query.ty == EsType::Null || matches!(query.kind, TExprKind::Literal(Literal::Null)) {
        return Err(format!("second argument of [{call}] cannot be null, received [{qtext}]"));
    }
    let compatible = field.ty == query.ty
        || query.ty == EsType::Keyword
        || field.ty == EsType::Null
        || (field.ty.is_numeric()
            && query.ty.is_numeric()
            && !(query.ty == EsType::UnsignedLong && field.ty != EsType::UnsignedLong));
    if !compatible {
        let family = |t: EsType| if t.is_numeric() { "numeric".to_string() } else { t.name().to_string() };
        return Err(if field.ty == EsType::UnsignedLong || query.ty == EsType::UnsignedLong {
            format!(
                "first argument of [{call}] is [{}] and second is [{}]. [unsigned_long] can only be operated on together with another [unsigned_long]",
                field.ty, query.ty
            )
        } else {
            format!(
                "first argument of [{call}] is [{}] so second argument must also be [{}] but was [{}]",
                family(field.ty),
                family(field.ty),
                query.ty
            )
        });
    }
    let TExprKind::Literal(value) = &query.kind else {
        return Err(format!("Query must be a constant string in [{call}], found [{qtext}]"));
    };
    // A computed expression is matched at run time, as Elastic does since its runtime lexical
    // search (9.x).
    let (col_name, field_expr) = match &field.kind {
        TExprKind::Column(c) => (c.clone(), None),
        _ => (ftext.to_string(), Some(field.clone())),
    };
    let t = Translator { scope: &[], span, field_expr };
    if field.ty == EsType::Null {
        return Ok(TExpr { kind: TExprKind::Literal(Literal::Null), ty: EsType::Boolean, multi: false, span });
    }
    let col = Column { name: col_name, ty: field.ty, multi: field.multi };
    let values = match value {
        Literal::List(items) => items.iter().map(literal_text).collect::<Vec<_>>(),
        v => vec![literal_text(v)],
    };
    let mut out = Vec::new();
    for v in values.into_iter().flatten() {
        match (fuzziness, col.ty) {
            (Some(f), EsType::Keyword | EsType::Text) => {
                let terms = if col.ty == EsType::Text { kql_ops::tokens(&v) } else { vec![v.clone()] };
                for term in terms {
                    let edits = f.edits(&term);
                    let max = t.constant(Literal::Integer(edits), EsType::Integer);
                    out.push(t.call(&kql_ops::FUZZY, &col, vec![max, t.string(term)]));
                }
            }
            _ => out.push(t.term(&col, &v, false, true)?),
        }
    }
    Ok(t.or(out))
}

/// The `fuzziness` option of `MATCH`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fuzziness {
    /// A fixed number of edits (0, 1 or 2).
    Edits(i32),
    /// `AUTO`: 0 edits for terms of 1–2 characters, 1 for 3–5, 2 beyond.
    Auto,
}

impl Fuzziness {
    fn edits(self, term: &str) -> i32 {
        match self {
            Fuzziness::Edits(n) => n,
            Fuzziness::Auto => match term.chars().count() {
                0..=2 => 0,
                3..=5 => 1,
                _ => 2,
            },
        }
    }
}

fn field_ok_query(t: EsType) -> bool {
    matches!(
        t,
        EsType::Keyword
            | EsType::Boolean
            | EsType::Date
            | EsType::DateNanos
            | EsType::Double
            | EsType::Integer
            | EsType::Ip
            | EsType::Long
            | EsType::UnsignedLong
            | EsType::Version
    )
}

/// A `MATCH` query constant as the text Elasticsearch would be handed.
fn literal_text(l: &Literal) -> Option<String> {
    Some(match l {
        Literal::String(s) => s.clone(),
        Literal::Boolean(b) => b.to_string(),
        Literal::Integer(i) => i.to_string(),
        Literal::Long(i) => i.to_string(),
        Literal::UnsignedLong(u) => u.to_string(),
        Literal::Double(d) => format!("{d:?}"),
        Literal::Ip(b) => crate::convert::format_ip(b),
        Literal::Version(v) => crate::version::decode(v),
        Literal::Date(ms) => crate::convert::format_date_millis(*ms),
        Literal::DateNanos(ns) => crate::convert::format_date_nanos(*ns),
        _ => return None,
    })
}

/// Columns a value without a field searches: every column but metadata and unusable ones.
fn is_default_field(c: &Column) -> bool {
    !matches!(c.name.as_str(), "_id" | "_index" | "_version" | "_score" | "_ignored" | "_source")
        && c.ty != EsType::Unsupported
        && c.ty != EsType::Null
}

fn query_error(msg: impl std::fmt::Display) -> String {
    format!("failed to create query: {msg}")
}

/// Where a value condition applies.
enum Target<'c> {
    /// These columns (a field name, or every column a wildcard field name matched).
    Fields {
        /// The columns.
        columns: Vec<&'c Column>,
        /// The field was the lone wildcard `*`.
        all: bool,
    },
    /// No field: every default column, leniently.
    AllFields,
}

struct Translator<'a> {
    scope: &'a [Column],
    span: Span,
    /// For `MATCH` on a computed expression: the expression tested in place of the column.
    field_expr: Option<TExpr>,
}

impl<'a> Translator<'a> {
    // ---- expression building ---------------------------------------------------------------

    fn boolean(&self, b: bool) -> TExpr {
        TExpr { kind: TExprKind::Literal(Literal::Boolean(b)), ty: EsType::Boolean, multi: false, span: self.span }
    }

    fn constant(&self, l: Literal, ty: EsType) -> TExpr {
        TExpr { kind: TExprKind::Literal(l), ty, multi: false, span: self.span }
    }

    fn string(&self, s: impl Into<String>) -> TExpr {
        self.constant(Literal::String(s.into()), EsType::Keyword)
    }

    fn null(&self) -> TExpr {
        self.constant(Literal::Null, EsType::Null)
    }

    /// `func(column, constants...)`
    fn call(&self, func: &'static crate::functions::ScalarDef, col: &Column, constants: Vec<TExpr>) -> TExpr {
        let mut args = Vec::with_capacity(constants.len() + 1);
        args.push(match &self.field_expr {
            Some(e) => e.clone(),
            None => TExpr { kind: TExprKind::Column(col.name.clone()), ty: col.ty, multi: col.multi, span: self.span },
        });
        args.extend(constants);
        TExpr { kind: TExprKind::Call { func, args }, ty: EsType::Boolean, multi: false, span: self.span }
    }

    fn exists(&self, col: &Column) -> TExpr {
        self.call(&kql_ops::EXISTS, col, Vec::new())
    }

    fn as_bool(e: &TExpr) -> Option<bool> {
        match e.kind {
            TExprKind::Literal(Literal::Boolean(b)) => Some(b),
            _ => None,
        }
    }

    /// `a or b or ...`, folding constants and merging value lists of the same predicate on the
    /// same column into one call.
    fn or(&self, items: Vec<TExpr>) -> TExpr {
        let mut out: Vec<TExpr> = Vec::new();
        for e in items {
            match Self::as_bool(&e) {
                Some(true) => return self.boolean(true),
                Some(false) => continue,
                None => {}
            }
            if let TExprKind::Call { func, args } = &e.kind
                && kql_ops::is_mergeable(func)
            {
                let merged = out.iter_mut().find_map(|o| match &mut o.kind {
                    TExprKind::Call { func: f, args: a } if std::ptr::eq(*f, *func) && same_column(a, args) => Some(a),
                    _ => None,
                });
                if let Some(a) = merged {
                    a.extend(args.iter().skip(1).cloned());
                    continue;
                }
            }
            out.push(e);
        }
        self.chain(BinaryOp::Or, out, false)
    }

    /// `a and b and ...`, folding constants.
    fn and(&self, items: Vec<TExpr>) -> TExpr {
        let mut out = Vec::new();
        for e in items {
            match Self::as_bool(&e) {
                Some(false) => return self.boolean(false),
                Some(true) => continue,
                None => out.push(e),
            }
        }
        self.chain(BinaryOp::And, out, true)
    }

    /// Combines items with `op` into a balanced tree (depth log2 of the count, so that long
    /// lists never make deep trees); `empty` when there are no items.
    fn chain(&self, op: BinaryOp, items: Vec<TExpr>, empty: bool) -> TExpr {
        let mut level = items;
        while level.len() > 1 {
            let mut next = Vec::with_capacity(level.len().div_ceil(2));
            let mut it = level.into_iter();
            while let Some(left) = it.next() {
                next.push(match it.next() {
                    Some(right) => TExpr {
                        kind: TExprKind::Binary { op, left: Box::new(left), right: Box::new(right) },
                        ty: EsType::Boolean,
                        multi: false,
                        span: self.span,
                    },
                    None => left,
                });
            }
            level = next;
        }
        level.pop().unwrap_or_else(|| self.boolean(empty))
    }

    fn not(&self, e: TExpr) -> TExpr {
        match Self::as_bool(&e) {
            Some(b) => self.boolean(!b),
            None => TExpr { kind: TExprKind::Not(Box::new(e)), ty: EsType::Boolean, multi: false, span: self.span },
        }
    }

    // ---- queries ---------------------------------------------------------------------------

    /// Translates a query node; `prefix` is the nested path (`path.`) of field names.
    fn query(&self, q: &Query, prefix: &str) -> Result<TExpr, String> {
        Ok(match &q.kind {
            QueryKind::MatchAll => self.boolean(true),
            QueryKind::Or(items) => {
                let items = items.iter().map(|i| self.query(i, prefix)).collect::<Result<Vec<_>, _>>()?;
                self.or(items)
            }
            QueryKind::And(items) => {
                let items = items.iter().map(|i| self.query(i, prefix)).collect::<Result<Vec<_>, _>>()?;
                self.and(items)
            }
            QueryKind::Not(inner) => self.not(self.query(inner, prefix)?),
            // Deviation: columns are flat, so the conditions need not hold on the same nested
            // object (Elasticsearch's `nested` query requires that).
            QueryKind::Nested { path, query } => self.query(query, &format!("{prefix}{}.", path.text()))?,
            QueryKind::Range { field, op, value } => {
                let columns = self.columns(field, prefix);
                let mut out = Vec::new();
                for c in columns {
                    out.push(self.range(c, *op, &value.text())?);
                }
                self.or(out)
            }
            QueryKind::Field { field, value } => {
                let target = if field.keyword() == Some(Keyword::Null) {
                    // Kibana reads the unquoted word `null` as "no field".
                    Target::AllFields
                } else {
                    Target::Fields { columns: self.columns(field, prefix), all: field.is_lone_wildcard() }
                };
                self.value_query(&target, value)?
            }
            QueryKind::Value(l) => self.is(&Target::AllFields, l)?,
        })
    }

    /// The columns a field name refers to: one (or none), or every column matching a wildcard.
    fn columns(&self, field: &KqlLiteral, prefix: &str) -> Vec<&'a Column> {
        if !field.has_wildcard() {
            let name = format!("{prefix}{}", field.text());
            return self.scope.iter().filter(|c| c.name == name).collect();
        }
        let ::kql::LiteralKind::Unquoted(parts) = &field.kind else { return Vec::new() };
        let mut pattern = kql_ops::escape_wildcard_text(prefix);
        for p in parts {
            match p {
                Part::Text(t) => pattern.push_str(&kql_ops::escape_wildcard_text(t)),
                Part::Wildcard => pattern.push('*'),
            }
        }
        let Ok(re) = kql_ops::compile_wildcards(&[pattern]) else { return Vec::new() };
        self.scope.iter().filter(|c| is_default_field(c) && re.is_match(&c.name)).collect()
    }

    fn value_query(&self, target: &Target, v: &ValueQuery) -> Result<TExpr, String> {
        Ok(match &v.kind {
            ValueQueryKind::Or(items) => {
                let items = items.iter().map(|i| self.value_query(target, i)).collect::<Result<Vec<_>, _>>()?;
                self.or(items)
            }
            ValueQueryKind::And(items) => {
                let items = items.iter().map(|i| self.value_query(target, i)).collect::<Result<Vec<_>, _>>()?;
                self.and(items)
            }
            ValueQueryKind::Not(inner) => self.not(self.value_query(target, inner)?),
            ValueQueryKind::Value(l) => self.is(target, l)?,
        })
    }

    /// Kibana's `is(field, value)`.
    fn is(&self, target: &Target, l: &KqlLiteral) -> Result<TExpr, String> {
        if l.keyword() == Some(Keyword::Null) {
            // Kibana sends a JSON null: Elasticsearch refuses a `match` without a value, and reads
            // a date field's `range` with null bounds as "has a value".
            return match target {
                Target::AllFields => Err("[multi_match] requires query value".to_string()),
                Target::Fields { columns, .. } => {
                    let mut out = Vec::new();
                    for c in columns {
                        if !c.ty.is_date() {
                            return Err("[match] requires query value".to_string());
                        }
                        out.push(self.exists(c));
                    }
                    if columns.is_empty() {
                        return Err("[match] requires query value".to_string());
                    }
                    Ok(self.or(out))
                }
            };
        }
        match target {
            Target::AllFields => {
                if l.is_lone_wildcard() {
                    return Ok(self.boolean(true));
                }
                let mut out = Vec::new();
                for c in self.scope.iter().filter(|c| is_default_field(c)) {
                    out.push(self.is_column(c, l, true)?);
                }
                Ok(self.or(out))
            }
            Target::Fields { columns, all } => {
                if l.is_lone_wildcard() {
                    if *all {
                        return Ok(self.boolean(true));
                    }
                    return Ok(self.or(columns.iter().map(|c| self.exists(c)).collect()));
                }
                let mut out = Vec::new();
                for c in columns {
                    out.push(self.is_column(c, l, false)?);
                }
                Ok(self.or(out))
            }
        }
    }

    /// `is` on one column; `lenient` skips values the column cannot hold instead of failing.
    fn is_column(&self, col: &Column, l: &KqlLiteral, lenient: bool) -> Result<TExpr, String> {
        if l.has_wildcard() {
            return self.query_string(col, l, lenient);
        }
        self.term(col, &l.text(), l.is_quoted(), lenient)
    }

    /// A `match` (or, quoted, `match_phrase`) of `text` on one column.
    fn term(&self, col: &Column, text: &str, phrase: bool, lenient: bool) -> Result<TExpr, String> {
        let failed = |e: String| if lenient { Ok(self.boolean(false)) } else { Err(query_error(e)) };
        Ok(match col.ty {
            EsType::Keyword => self.call(&kql_ops::TERMS, col, vec![self.string(text)]),
            EsType::Text => {
                let toks = kql_ops::tokens(text);
                if toks.is_empty() {
                    self.boolean(false)
                } else if phrase && toks.len() > 1 {
                    self.call(&kql_ops::PHRASE, col, vec![self.string(text)])
                } else {
                    self.call(&kql_ops::TOKENS, col, toks.into_iter().map(|t| self.string(t)).collect())
                }
            }
            EsType::Date | EsType::DateNanos => {
                // A date term is the range [value rounded down, value rounded up].
                if let Err(e) = date_math::parse_nanos(text, 0, false).and(date_math::parse_nanos(text, 0, true)) {
                    return failed(e);
                }
                self.call(
                    &kql_ops::RANGE,
                    col,
                    vec![self.string("gte"), self.string(text), self.string("lte"), self.string(text)],
                )
            }
            EsType::Integer | EsType::Long | EsType::UnsignedLong | EsType::Double => {
                match numeric_term(col.ty, text) {
                    Ok(Some(v)) => self.call(&kql_ops::TERMS, col, vec![self.constant(v, col.ty)]),
                    Ok(None) => self.boolean(false),
                    Err(e) => return failed(e),
                }
            }
            EsType::Ip => match kql_ops::parse_ip_or_cidr(text) {
                Ok(_) => self.call(&kql_ops::CIDR, col, vec![self.string(text)]),
                Err(e) => return failed(e),
            },
            EsType::Boolean => match parse_boolean(text) {
                Ok(b) => self.call(&kql_ops::TERMS, col, vec![self.constant(Literal::Boolean(b), EsType::Boolean)]),
                Err(e) => return failed(e),
            },
            EsType::Version => self.call(
                &kql_ops::TERMS,
                col,
                vec![self.constant(Literal::Version(crate::version::encode(text)), EsType::Version)],
            ),
            _ => self.boolean(false),
        })
    }

    /// Kibana hands an unquoted value with wildcards to Elasticsearch as a `query_string` on the
    /// field. Lucene's query parser makes each whitespace-separated term with a `*` its own
    /// clause (a lone `*` tests existence; others are wildcard queries) and analyzes each run of
    /// plain words as one `match`; the clauses are OR-ed.
    fn query_string(&self, col: &Column, l: &KqlLiteral, lenient: bool) -> Result<TExpr, String> {
        let mut out = Vec::new();
        for chunk in query_string_chunks(l) {
            match chunk {
                Chunk::Plain(text) => out.push(self.term(col, &text, false, lenient)?),
                Chunk::Wildcard(term) if term.as_slice() == [Part::Wildcard] => {
                    out.push(if lenient { self.boolean(true) } else { self.exists(col) });
                }
                Chunk::Wildcard(term) => {
                    let mut pattern = String::new();
                    for p in &term {
                        match p {
                            Part::Text(t) => pattern.push_str(&kql_ops::escape_wildcard_text(t)),
                            Part::Wildcard => pattern.push('*'),
                        }
                    }
                    match col.ty {
                        EsType::Keyword => out.push(self.call(&kql_ops::WILDCARD, col, vec![self.string(pattern)])),
                        EsType::Text => out.push(self.call(
                            &kql_ops::TOKEN_WILDCARD,
                            col,
                            vec![self.string(kql_ops::normalize(&pattern))],
                        )),
                        _ if lenient => {}
                        other => {
                            return Err(query_error(format!(
                                "Can only use wildcard queries on keyword, text and wildcard fields - not on [{}] which is of type [{other}]",
                                col.name
                            )));
                        }
                    }
                }
            }
        }
        Ok(self.or(out))
    }

    /// `field op value` on one column.
    fn range(&self, col: &Column, op: RangeOp, text: &str) -> Result<TExpr, String> {
        let op_name = match op {
            RangeOp::Gt => "gt",
            RangeOp::Gte => "gte",
            RangeOp::Lt => "lt",
            RangeOp::Lte => "lte",
        };
        let lower = matches!(op, RangeOp::Gt | RangeOp::Gte);
        let bound: (String, TExpr) = match col.ty {
            EsType::Integer | EsType::Long | EsType::UnsignedLong => {
                let Some((op, v)) = whole_bound(col.ty, op, text).map_err(query_error)? else {
                    return Ok(self.boolean(false));
                };
                let lit = match i64::try_from(v) {
                    Ok(x) => self.constant(Literal::Long(x), EsType::Long),
                    Err(_) => match u64::try_from(v) {
                        Ok(u) => self.constant(Literal::UnsignedLong(u), EsType::UnsignedLong),
                        Err(_) => return Ok(self.boolean(false)),
                    },
                };
                (op.to_string(), lit)
            }
            EsType::Double => {
                let d = java_double(text).map_err(query_error)?;
                if !d.is_finite() {
                    return Err(query_error(format!(
                        "[double] supports only finite values, but got [{}]",
                        java_double_text(d)
                    )));
                }
                (op_name.to_string(), self.constant(Literal::Double(d), EsType::Double))
            }
            EsType::Date | EsType::DateNanos => {
                date_math::parse_nanos(text, 0, matches!(op, RangeOp::Gt | RangeOp::Lte)).map_err(query_error)?;
                (op_name.to_string(), self.string(text))
            }
            EsType::Keyword | EsType::Text => (op_name.to_string(), self.string(text)),
            EsType::Ip => {
                let ip = crate::convert::parse_ip(text)
                    .ok_or_else(|| query_error(format!("'{text}' is not an IP string literal.")))?;
                (op_name.to_string(), self.constant(Literal::Ip(ip), EsType::Ip))
            }
            EsType::Boolean => {
                let b = parse_boolean(text).map_err(query_error)?;
                (op_name.to_string(), self.constant(Literal::Boolean(b), EsType::Boolean))
            }
            EsType::Version => {
                (op_name.to_string(), self.constant(Literal::Version(crate::version::encode(text)), EsType::Version))
            }
            _ => return Ok(self.boolean(false)),
        };
        let (op_text, value) = bound;
        let args = if lower {
            vec![self.string(op_text), value, self.null(), self.null()]
        } else {
            vec![self.null(), self.null(), self.string(op_text), value]
        };
        Ok(self.call(&kql_ops::RANGE, col, args))
    }
}

/// Whether two predicate calls test the same column (their first argument).
fn same_column(a: &[TExpr], b: &[TExpr]) -> bool {
    match (a.first().map(|t| &t.kind), b.first().map(|t| &t.kind)) {
        (Some(TExprKind::Column(x)), Some(TExprKind::Column(y))) => x == y,
        _ => false,
    }
}

/// A clause of a `query_string`.
enum Chunk {
    /// Consecutive words without wildcards, analyzed together (whitespace kept).
    Plain(String),
    /// One whitespace-free term containing a wildcard.
    Wildcard(Vec<Part>),
}

/// Splits an unquoted literal into `query_string` clauses: Lucene's query parser separates
/// terms at whitespace, keeps wildcard terms apart and (as Elasticsearch configures it, without
/// splitting on whitespace) analyzes each run of plain words as one text.
fn query_string_chunks(l: &KqlLiteral) -> Vec<Chunk> {
    let ::kql::LiteralKind::Unquoted(parts) = &l.kind else { return Vec::new() };
    let is_ws = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{3000}');
    // Terms, each with the whitespace before it.
    let mut terms: Vec<(String, Vec<Part>)> = vec![(String::new(), Vec::new())];
    let mut pending_ws = String::new();
    let push_text = |terms: &mut Vec<(String, Vec<Part>)>, text: String| {
        if let Some((_, term)) = terms.last_mut() {
            match term.last_mut() {
                Some(Part::Text(t)) => t.push_str(&text),
                _ => term.push(Part::Text(text)),
            }
        }
    };
    for p in parts {
        match p {
            Part::Wildcard => {
                if !pending_ws.is_empty() {
                    terms.push((std::mem::take(&mut pending_ws), Vec::new()));
                }
                if let Some((_, term)) = terms.last_mut() {
                    term.push(Part::Wildcard);
                }
            }
            Part::Text(t) => {
                let mut cur = String::new();
                for c in t.chars() {
                    if is_ws(c) {
                        if !cur.is_empty() {
                            push_text(&mut terms, std::mem::take(&mut cur));
                        }
                        pending_ws.push(c);
                    } else {
                        if !pending_ws.is_empty() {
                            terms.push((std::mem::take(&mut pending_ws), Vec::new()));
                        }
                        cur.push(c);
                    }
                }
                if !cur.is_empty() {
                    push_text(&mut terms, cur);
                }
            }
        }
    }
    let mut chunks: Vec<Chunk> = Vec::new();
    for (ws, term) in terms.into_iter().filter(|(_, t)| !t.is_empty()) {
        if term.contains(&Part::Wildcard) {
            chunks.push(Chunk::Wildcard(term));
            continue;
        }
        let text: String = term
            .iter()
            .map(|p| match p {
                Part::Text(t) => t.as_str(),
                Part::Wildcard => "*",
            })
            .collect();
        match chunks.last_mut() {
            Some(Chunk::Plain(prev)) => {
                prev.push_str(&ws);
                prev.push_str(&text);
            }
            _ => chunks.push(Chunk::Plain(text)),
        }
    }
    chunks
}

/// Java's `Double.parseDouble`: trims control characters and spaces, accepts a trailing
/// `d`/`f`, `NaN` and `Infinity`.
fn java_double(s: &str) -> Result<f64, String> {
    let t = s.trim_matches(|c: char| c <= ' ');
    if t.is_empty() {
        return Err("empty String".to_string());
    }
    let bad = || format!("For input string: \"{t}\"");
    let body = t.strip_suffix(['d', 'D', 'f', 'F']).unwrap_or(t);
    let unsigned = body.strip_prefix(['+', '-']).unwrap_or(body);
    match unsigned {
        "NaN" | "Infinity" => {}
        u if u.is_empty() || u.bytes().any(|b| b.is_ascii_alphabetic() && !matches!(b, b'e' | b'E')) => {
            return Err(bad());
        }
        _ => {}
    }
    let parsed = match unsigned {
        "NaN" => Some(f64::NAN),
        "Infinity" => Some(if body.starts_with('-') { f64::NEG_INFINITY } else { f64::INFINITY }),
        _ => body.parse::<f64>().ok(),
    };
    parsed.ok_or_else(bad)
}

/// A double as Java prints it in these messages.
fn java_double_text(d: f64) -> String {
    crate::convert::format_double(d)
}

/// A term for a numeric field: `Ok(None)` when a whole-number field is given a decimal (which
/// matches nothing, as in Elasticsearch).
fn numeric_term(ty: EsType, text: &str) -> Result<Option<Literal>, String> {
    let d = java_double(text)?;
    if ty == EsType::Double {
        if !d.is_finite() {
            return Err(format!("[double] supports only finite values, but got [{}]", java_double_text(d)));
        }
        return Ok(Some(Literal::Double(d)));
    }
    // `hasDecimalPart`: NaN and infinities count as having one.
    if !d.is_finite() || d.fract() != 0.0 {
        return Ok(None);
    }
    let v = whole_value(ty, text, d)?;
    Ok(Some(match ty {
        EsType::Integer => Literal::Integer(i32::try_from(v).map_err(|_| out_of_range(ty, text))?),
        EsType::Long => Literal::Long(i64::try_from(v).map_err(|_| out_of_range(ty, text))?),
        _ => Literal::UnsignedLong(u64::try_from(v).map_err(|_| out_of_range(ty, text))?),
    }))
}

fn out_of_range(ty: EsType, text: &str) -> String {
    let t = text.trim_matches(|c: char| c <= ' ');
    match ty {
        EsType::Integer => format!("Value [{t}] is out of range for an integer"),
        EsType::Long => format!("Value [{t}] is out of range for a long"),
        _ => format!("Value [{t}] is out of range for an unsigned_long"),
    }
}

/// The exact whole value of `text` (already known to parse as the integral double `d`),
/// checked against the type's range.
fn whole_value(ty: EsType, text: &str, d: f64) -> Result<i128, String> {
    let (min, max) = match ty {
        EsType::Integer => (i128::from(i32::MIN), i128::from(i32::MAX)),
        EsType::Long => (i128::from(i64::MIN), i128::from(i64::MAX)),
        _ => (0, i128::from(u64::MAX)),
    };
    let t = text.trim_matches(|c: char| c <= ' ');
    let exact = t.strip_prefix('+').unwrap_or(t).parse::<i128>().ok();
    let v = match exact {
        Some(v) => v,
        None if d.abs() < 1.8e19 => d as i128,
        None => return Err(out_of_range(ty, text)),
    };
    if v < min || v > max {
        return Err(out_of_range(ty, text));
    }
    Ok(v)
}

/// A range bound on a whole-number field, as the operator to use and an exact bound: a decimal
/// bound is rounded inwards (`> 1.5` is `>= 2`). `Ok(None)`: matches nothing (a NaN bound).
fn whole_bound(ty: EsType, op: RangeOp, text: &str) -> Result<Option<(&'static str, i128)>, String> {
    let d = java_double(text)?;
    if d.is_nan() {
        return Ok(None);
    }
    if !d.is_finite() {
        return Err(out_of_range(ty, text));
    }
    if d.fract() == 0.0 {
        let v = whole_value(ty, text, d)?;
        let op = match op {
            RangeOp::Gt => "gt",
            RangeOp::Gte => "gte",
            RangeOp::Lt => "lt",
            RangeOp::Lte => "lte",
        };
        return Ok(Some((op, v)));
    }
    // Reject bounds outside the type the way Elasticsearch's parse does.
    whole_value(ty, &format!("{}", d.trunc()), d.trunc())?;
    Ok(Some(match op {
        RangeOp::Gt | RangeOp::Gte => ("gte", d.ceil() as i128),
        RangeOp::Lt | RangeOp::Lte => ("lte", d.floor() as i128),
    }))
}

/// A boolean term, as Elasticsearch's boolean field parses it.
fn parse_boolean(text: &str) -> Result<bool, String> {
    match text {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(format!("Can't parse boolean value [{other}], expected [true] or [false]")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Vec<Column> {
        let c = |name: &str, ty: EsType, multi: bool| Column { name: name.into(), ty, multi };
        vec![
            c("host.name", EsType::Keyword, false),
            c("tags", EsType::Keyword, true),
            c("message", EsType::Text, false),
            c("bytes", EsType::Long, false),
            c("count", EsType::Integer, false),
            c("ratio", EsType::Double, false),
            c("source.ip", EsType::Ip, false),
            c("source.port", EsType::Long, false),
            c("@timestamp", EsType::Date, false),
            c("ok", EsType::Boolean, false),
            c("_index", EsType::Keyword, false),
        ]
    }

    /// A compact rendering of a translated expression.
    fn show(e: &TExpr) -> String {
        match &e.kind {
            TExprKind::Literal(Literal::Boolean(b)) => b.to_string(),
            TExprKind::Literal(Literal::Null) => "null".into(),
            TExprKind::Literal(Literal::String(s)) => format!("{s:?}"),
            TExprKind::Literal(l) => format!("{l:?}"),
            TExprKind::Column(c) => c.clone(),
            TExprKind::Call { func, args } => {
                format!("{}({})", func.name, args.iter().map(show).collect::<Vec<_>>().join(", "))
            }
            TExprKind::Binary { op, left, right } => format!("({} {op:?} {})", show(left), show(right)),
            TExprKind::Not(inner) => format!("NOT {}", show(inner)),
            other => format!("{other:?}"),
        }
    }

    fn tr(q: &str) -> String {
        match translate(q, &scope(), Span::default()) {
            Ok(e) => show(&e),
            Err(e) => panic!("{q}: {e}"),
        }
    }

    fn tr_err(q: &str) -> String {
        translate(q, &scope(), Span::default()).unwrap_err()
    }

    #[test]
    fn keyword_terms_and_lists() {
        assert_eq!(tr("host.name:web"), "kql_terms(host.name, \"web\")");
        assert_eq!(tr("host.name:\"web 1\""), "kql_terms(host.name, \"web 1\")");
        assert_eq!(tr("tags:(a or b or \"c\")"), "kql_terms(tags, \"a\", \"b\", \"c\")");
        assert_eq!(tr("tags:(a and b)"), "(kql_terms(tags, \"a\") And kql_terms(tags, \"b\"))");
        assert_eq!(tr("not tags:a"), "NOT kql_terms(tags, \"a\")");
    }

    #[test]
    fn precedence_is_kept() {
        assert_eq!(
            tr("host.name:a or bytes:1 and not ok:true"),
            "(kql_terms(host.name, \"a\") Or (kql_terms(bytes, Long(1)) And NOT kql_terms(ok, true)))"
        );
    }

    #[test]
    fn wildcards() {
        assert_eq!(tr("host.name:web*"), "kql_wildcard(host.name, \"web*\")");
        assert_eq!(tr("host.name:(*a* or b\\*)"), "(kql_wildcard(host.name, \"*a*\") Or kql_terms(host.name, \"b*\"))");
        assert_eq!(tr("message:*Hello*"), "kql_token_wildcard(message, \"*hello*\")");
        assert_eq!(tr("host.name:*"), "kql_exists(host.name)");
        // query_string splits on whitespace: `* curl*` is "exists or curl*".
        assert_eq!(tr("host.name:* curl*"), "(kql_exists(host.name) Or kql_wildcard(host.name, \"curl*\"))");
        // Runs of plain words are one clause: on a keyword field, one term.
        assert_eq!(
            tr("host.name:*cmd a  b x*"),
            "(kql_wildcard(host.name, \"*cmd\", \"x*\") Or kql_terms(host.name, \"a  b\"))"
        );
        assert_eq!(tr("host.name:null*"), "kql_wildcard(host.name, \"null*\")");
        assert_eq!(tr("@timestamp:null"), "kql_exists(@timestamp)");
        assert_eq!(tr_err("host.name:null"), "[match] requires query value");
        assert_eq!(tr_err("null"), "[multi_match] requires query value");
        assert_eq!(
            tr_err("source.ip:10.0.*"),
            "failed to create query: Can only use wildcard queries on keyword, text and wildcard fields - not on [source.ip] which is of type [ip]"
        );
    }

    #[test]
    fn text_fields_are_analyzed() {
        assert_eq!(tr("message:Hello World"), "kql_tokens(message, \"hello\", \"world\")");
        assert_eq!(tr("message:\"Hello World\""), "kql_phrase(message, \"Hello World\")");
        assert_eq!(tr("message:\"hello\""), "kql_tokens(message, \"hello\")");
        assert_eq!(tr("message:\"--\""), "false");
    }

    #[test]
    fn numbers() {
        assert_eq!(tr("bytes:10"), "kql_terms(bytes, Long(10))");
        assert_eq!(tr("count:1e3"), "kql_terms(count, Integer(1000))");
        assert_eq!(tr("bytes:1.5"), "false");
        assert_eq!(tr("ratio:1.5"), "kql_terms(ratio, Double(1.5))");
        assert_eq!(tr_err("bytes:abc"), "failed to create query: For input string: \"abc\"");
        assert_eq!(
            tr_err("count:3000000000"),
            "failed to create query: Value [3000000000] is out of range for an integer"
        );
        assert_eq!(tr("bytes > 10"), "kql_range(bytes, \"gt\", Long(10), null, null)");
        assert_eq!(tr("bytes > 1.5"), "kql_range(bytes, \"gte\", Long(2), null, null)");
        assert_eq!(tr("bytes <= 1.5"), "kql_range(bytes, null, null, \"lte\", Long(1))");
        assert_eq!(tr("ratio < 0.5"), "kql_range(ratio, null, null, \"lt\", Double(0.5))");
    }

    #[test]
    fn ips_and_booleans() {
        assert_eq!(tr("source.ip:10.0.0.0/8"), "kql_cidr(source.ip, \"10.0.0.0/8\")");
        assert_eq!(
            tr("source.ip:(10.0.0.1 or \"192.168.0.0/16\")"),
            "kql_cidr(source.ip, \"10.0.0.1\", \"192.168.0.0/16\")"
        );
        assert_eq!(tr_err("source.ip:nope"), "failed to create query: 'nope' is not an IP string literal.");
        assert_eq!(tr("ok:false"), "kql_terms(ok, false)");
        assert_eq!(
            tr_err("ok:yes"),
            "failed to create query: Can't parse boolean value [yes], expected [true] or [false]"
        );
    }

    #[test]
    fn dates() {
        assert_eq!(
            tr("@timestamp:2024-01-15"),
            "kql_range(@timestamp, \"gte\", \"2024-01-15\", \"lte\", \"2024-01-15\")"
        );
        assert_eq!(tr("@timestamp >= now-1d/d"), "kql_range(@timestamp, \"gte\", \"now-1d/d\", null, null)");
        assert_eq!(
            tr_err("@timestamp > yesterday"),
            "failed to create query: failed to parse date field [yesterday] with format [strict_date_optional_time||epoch_millis]"
        );
    }

    #[test]
    fn unknown_and_wildcard_fields() {
        assert_eq!(tr("nope:x"), "false");
        assert_eq!(tr("not nope:x"), "true");
        assert_eq!(tr("nope:*"), "false");
        assert_eq!(tr("nope > 5"), "false");
        assert_eq!(
            tr("source.*:* and source.port:22"),
            "((kql_exists(source.ip) Or kql_exists(source.port)) And kql_terms(source.port, Long(22)))"
        );
    }

    #[test]
    fn wildcard_field_errors_follow_each_field() {
        // `source.*` covers an ip field: Elasticsearch fails on the value it cannot parse.
        assert_eq!(tr_err("source.*:abc"), "failed to create query: 'abc' is not an IP string literal.");
        assert_eq!(tr("source.*:*"), "(kql_exists(source.ip) Or kql_exists(source.port))");
        assert_eq!(tr("*:*"), "true");
    }

    #[test]
    fn bare_values_search_every_column_leniently() {
        assert_eq!(
            tr("web"),
            "((kql_terms(host.name, \"web\") Or kql_terms(tags, \"web\")) Or kql_tokens(message, \"web\"))"
        );
        let ten = tr("10");
        assert!(ten.contains("kql_terms(bytes, Long(10))"), "{ten}");
        assert!(ten.contains("kql_terms(ratio, Double(10.0))"), "{ten}");
        assert!(!ten.contains("_index"), "{ten}");
        assert_eq!(tr("*"), "true");
        assert_eq!(tr(""), "true");
    }

    #[test]
    fn nested_paths_prefix_field_names() {
        assert_eq!(tr("source:{ port > 1 }"), "kql_range(source.port, \"gt\", Long(1), null, null)");
    }

    #[test]
    fn syntax_errors_are_kibanas() {
        assert_eq!(
            tr_err("host.name:"),
            "Expected \"(\", \"{\", value, whitespace but end of input found.\nhost.name:\n----------^"
        );
    }

    #[test]
    fn long_lists_make_shallow_trees() {
        fn depth(e: &TExpr) -> usize {
            match &e.kind {
                TExprKind::Binary { left, right, .. } => 1 + depth(left).max(depth(right)),
                TExprKind::Not(inner) => 1 + depth(inner),
                _ => 1,
            }
        }
        let q = (0..5000).map(|i| format!("bytes > {i}")).collect::<Vec<_>>().join(" or ");
        let e = translate(&q, &scope(), Span::default()).unwrap();
        assert!(depth(&e) <= 14, "{}", depth(&e));
        let q = (0..5000).map(|i| format!("tags:v{i}")).collect::<Vec<_>>().join(" or ");
        let e = translate(&q, &scope(), Span::default()).unwrap();
        let TExprKind::Call { args, .. } = &e.kind else { panic!("{}", show(&e)) };
        assert_eq!(args.len(), 5001);
    }

    #[test]
    fn java_doubles() {
        assert_eq!(java_double(" 1.5 "), Ok(1.5));
        assert_eq!(java_double("1d"), Ok(1.0));
        assert!(java_double("inf").is_err());
        assert_eq!(java_double("Infinity"), Ok(f64::INFINITY));
        assert_eq!(java_double(""), Err("empty String".into()));
        assert_eq!(java_double("0x10"), Err("For input string: \"0x10\"".into()));
    }
}
