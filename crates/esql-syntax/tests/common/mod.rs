//! Helpers shared by the integration tests.
#![allow(dead_code)]

use esql_syntax::ast::{BinaryOp, Command, CommandKind, Expr, ExprKind, Literal, Param, Query, UnaryOp};
use esql_syntax::diagnostic::elastic_message;
use esql_syntax::{Diagnostic, parse};

/// Parses `text`, panicking with Elastic-style messages on failure.
pub fn ok(text: &str) -> Query {
    match parse(text) {
        Ok(query) => query,
        Err(diagnostics) => panic!("unexpected parse failure for {text:?}:\n{}", elastic_message(&diagnostics, text)),
    }
}

/// Parses `text`, expecting failure; returns the diagnostics.
pub fn err(text: &str) -> Vec<Diagnostic> {
    match parse(text) {
        Ok(query) => panic!("expected a parse error for {text:?}, got {query:#?}"),
        Err(diagnostics) => diagnostics,
    }
}

/// The first diagnostic of a failing query, rendered as Elastic does (`line L:C: message`).
pub fn first_error(text: &str) -> String {
    err(text)[0].to_elastic_string(text)
}

/// The commands of `FROM i | <text>` after the `FROM`.
pub fn processing(text: &str) -> Vec<Command> {
    let query = ok(&format!("FROM i | {text}"));
    query.commands.into_iter().skip(1).collect()
}

/// The single processing command of `FROM i | <text>`.
pub fn command(text: &str) -> CommandKind {
    let mut commands = processing(text);
    assert_eq!(commands.len(), 1, "{text}");
    commands.remove(0).kind
}

/// The condition of `FROM i | WHERE <text>`.
pub fn where_expr(text: &str) -> Expr {
    match command(&format!("WHERE {text}")) {
        CommandKind::Where(expr) => expr,
        other => panic!("not a WHERE: {other:?}"),
    }
}

/// The expression of `ROW x = <text>` in s-expression form.
pub fn row_sexpr(text: &str) -> String {
    let query = ok(&format!("ROW x = {text}"));
    match &query.commands[0].kind {
        CommandKind::Row(fields) => sexpr(&fields[0].expr),
        other => panic!("not a ROW: {other:?}"),
    }
}

/// `FROM i | WHERE <text>` condition in s-expression form.
pub fn where_sexpr(text: &str) -> String {
    sexpr(&where_expr(text))
}

/// A compact s-expression rendering of an expression, for precedence tests.
pub fn sexpr(expr: &Expr) -> String {
    match &expr.kind {
        ExprKind::Literal(literal) => literal_sexpr(literal),
        ExprKind::Field(ident) => ident.name.clone(),
        ExprKind::Param(Param::Anonymous(n)) => format!("?#{n}"),
        ExprKind::Param(Param::Positional(n)) => format!("?{n}"),
        ExprKind::Param(Param::Named(n)) => format!("?{n}"),
        ExprKind::Binary { op, left, right } => {
            let op = match op {
                BinaryOp::And => "and",
                BinaryOp::Or => "or",
                other => other.symbol(),
            };
            format!("({op} {} {})", sexpr(left), sexpr(right))
        }
        ExprKind::Unary { op, expr } => {
            let op = match op {
                UnaryOp::Neg => "neg",
                UnaryOp::Not => "not",
            };
            format!("({op} {})", sexpr(expr))
        }
        ExprKind::Call { name, args, star, .. } => {
            if *star {
                format!("{name}(*)")
            } else {
                let args: Vec<String> = args.iter().map(sexpr).collect();
                format!("{name}({})", args.join(", "))
            }
        }
        ExprKind::In { expr, list, negated } => {
            let list: Vec<String> = list.iter().map(sexpr).collect();
            let op = if *negated { "not-in" } else { "in" };
            format!("({op} {} [{}])", sexpr(expr), list.join(" "))
        }
        ExprKind::Like { expr, patterns, negated, regex } => {
            let op = match (negated, regex) {
                (false, false) => "like",
                (true, false) => "not-like",
                (false, true) => "rlike",
                (true, true) => "not-rlike",
            };
            let patterns: Vec<String> = patterns.iter().map(sexpr).collect();
            format!("({op} {} {})", sexpr(expr), patterns.join(" "))
        }
        ExprKind::IsNull { expr, negated } => {
            let op = if *negated { "is-not-null" } else { "is-null" };
            format!("({op} {})", sexpr(expr))
        }
        ExprKind::Cast { expr, to, .. } => format!("(:: {} {to})", sexpr(expr)),
        ExprKind::Match { field, query } => format!("(: {} {})", sexpr(field), sexpr(query)),
        ExprKind::Map(entries) => {
            let entries: Vec<String> = entries.iter().map(|(k, v)| format!("{k:?}: {}", sexpr(v))).collect();
            format!("{{{}}}", entries.join(", "))
        }
    }
}

fn literal_sexpr(literal: &Literal) -> String {
    match literal {
        Literal::Null => "null".to_string(),
        Literal::Boolean(b) => b.to_string(),
        Literal::Integer(i) => i.to_string(),
        Literal::BigInteger(s) => format!("big:{s}"),
        Literal::Decimal(d) => format!("{d:?}"),
        Literal::String(s) => format!("{s:?}"),
        Literal::TimeSpan { value, unit } => format!("<{value} {unit}>"),
        Literal::List(items) => {
            let items: Vec<String> = items.iter().map(sexpr).collect();
            format!("[{}]", items.join(" "))
        }
    }
}
