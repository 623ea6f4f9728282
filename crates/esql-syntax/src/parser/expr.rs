//! Expressions: precedence climbing over Elasticsearch's `booleanExpression` grammar.
//!
//! Precedence, lowest to highest (as in `EsqlBaseParser.g4`):
//!
//! | level | constructs |
//! |---|---|
//! | `OR` | `a OR b` (left-associative) |
//! | `AND` | `a AND b` (left-associative) |
//! | `NOT` | prefix `NOT x` |
//! | predicates | `x [NOT] IN (...)`, `x [NOT] LIKE/RLIKE ...`, `x IS [NOT] NULL`, `name : query` |
//! | comparison | `== != < <= > >=` (not associative) |
//! | additive | `+ -` (left-associative) |
//! | multiplicative | `* / %` (left-associative) |
//! | unary | prefix `-x`, `+x` |
//! | postfix | `x::type` on a primary expression |
//!
//! Predicates take a "value expression" (an arithmetic expression or a comparison) on their left
//! and cannot be chained; comparisons take arithmetic expressions on both sides. A sign directly
//! before a number is part of the number literal (`-1` is the literal -1, `-1::long` casts -1),
//! as ANTLR resolves that ambiguity.
//!
//! Binary chains are built in loops; recursion only happens for nesting (parentheses, function
//! arguments, prefix operators, right operands), and both the recursion and the resulting tree
//! depth are capped at [`MAX_EXPRESSION_DEPTH`].

use super::{MAX_EXPRESSION_DEPTH, PResult, Parser};
use crate::ast::{BinaryOp, Expr, ExprKind, Field, Ident, Literal, Param, UnaryOp};
use crate::diagnostic::Diagnostic;
use crate::lexer::{Tok, Token, unquote_ident, unquote_string};
use crate::span::Span;

/// An expression with its tree depth.
pub(super) struct Node {
    pub(super) expr: Expr,
    pub(super) depth: u32,
}

// Binding levels, lowest first.
const OR: u8 = 1;
const AND: u8 = 2;
const NOT: u8 = 3;
const PRED: u8 = 4;
const CMP: u8 = 5;
const ADD: u8 = 6;
const MUL: u8 = 7;
const UNARY: u8 = 8;

/// What the expression parsed so far is, which decides what may follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// A bare (possibly dotted) field name, optionally with one cast: may take `: query`.
    Name,
    /// An arithmetic ("operator") expression.
    Operand,
    /// `a == b`: may take a predicate, but no further comparison.
    Comparison,
    /// `IN`, `LIKE`, `IS NULL`, `:` results: only `AND`/`OR` may follow.
    Predicate,
    /// `NOT x`.
    Not,
    /// `a AND b`, `a OR b`.
    Logical,
}

/// Time span units (`1 day`, `5m`), lower case.
const TIME_UNITS: &[&str] = &[
    "millisecond",
    "milliseconds",
    "ms",
    "second",
    "seconds",
    "sec",
    "s",
    "minute",
    "minutes",
    "min",
    "m",
    "hour",
    "hours",
    "h",
    "day",
    "days",
    "d",
    "week",
    "weeks",
    "w",
    "month",
    "months",
    "mo",
    "quarter",
    "quarters",
    "q",
    "year",
    "years",
    "yr",
    "y",
];

/// Tokens that can start a primary expression (for `expecting` lists).
const PRIMARY_START: &[Tok] = &[
    Tok::QuotedString,
    Tok::Integer,
    Tok::Decimal,
    Tok::False,
    Tok::Null,
    Tok::Param,
    Tok::True,
    Tok::Plus,
    Tok::Minus,
    Tok::NamedParam,
    Tok::LBracket,
    Tok::LParen,
    Tok::UnquotedIdent,
    Tok::QuotedIdent,
];

/// Tokens that can start a constant.
const CONSTANT_START: &[Tok] = &[
    Tok::QuotedString,
    Tok::Integer,
    Tok::Decimal,
    Tok::False,
    Tok::Null,
    Tok::Param,
    Tok::True,
    Tok::Plus,
    Tok::Minus,
    Tok::NamedParam,
    Tok::LBracket,
];

fn comparison_op(kind: Tok) -> Option<BinaryOp> {
    Some(match kind {
        Tok::Eq => BinaryOp::Eq,
        Tok::Neq => BinaryOp::NotEq,
        Tok::Lt => BinaryOp::Lt,
        Tok::Lte => BinaryOp::LtEq,
        Tok::Gt => BinaryOp::Gt,
        Tok::Gte => BinaryOp::GtEq,
        _ => return None,
    })
}

/// True for tokens that may start an identifier (a name part).
fn is_name_start(kind: Tok) -> bool {
    matches!(
        kind,
        Tok::UnquotedIdent
            | Tok::QuotedIdent
            | Tok::Param
            | Tok::NamedParam
            | Tok::DoubleParams
            | Tok::NamedDoubleParams
    )
}

/// True for tokens accepted as a name part after a `.` (identifiers, and leniently keywords).
fn is_name_part_after_dot(kind: Tok) -> bool {
    is_name_start(kind) || kind.is_keyword()
}

fn is_param(kind: Tok) -> bool {
    matches!(
        kind,
        Tok::Param | Tok::NamedParam | Tok::DoubleParams | Tok::NamedDoubleParams
    )
}

/// True if `expr` contains a function call.
fn contains_call(expr: &Expr) -> bool {
    let mut stack = vec![expr];
    while let Some(e) = stack.pop() {
        match &e.kind {
            ExprKind::Call { .. } => return true,
            ExprKind::Literal(Literal::List(items)) => stack.extend(items),
            ExprKind::Literal(_) | ExprKind::Field(_) | ExprKind::Param(_) => {}
            ExprKind::Binary { left, right, .. } => {
                stack.push(left);
                stack.push(right);
            }
            ExprKind::Unary { expr, .. }
            | ExprKind::IsNull { expr, .. }
            | ExprKind::Cast { expr, .. } => stack.push(expr),
            ExprKind::In { expr, list, .. } => {
                stack.push(expr);
                stack.extend(list);
            }
            ExprKind::Like { expr, patterns, .. } => {
                stack.push(expr);
                stack.extend(patterns);
            }
            ExprKind::Match { field, query } => {
                stack.push(field);
                stack.push(query);
            }
            ExprKind::Map(entries) => stack.extend(entries.iter().map(|(_, v)| v)),
        }
    }
    false
}

/// The ES|QL type name of a literal, for error messages.
fn literal_type(literal: &Literal) -> &'static str {
    match literal {
        Literal::Null => "null",
        Literal::Boolean(_) => "boolean",
        Literal::Integer(v) if i32::try_from(*v).is_ok() => "integer",
        Literal::Integer(_) => "long",
        Literal::BigInteger(_) => "unsigned_long",
        Literal::Decimal(_) => "double",
        Literal::String(_) => "keyword",
        Literal::TimeSpan { unit, .. } => match unit.as_str() {
            "millisecond" | "milliseconds" | "ms" | "second" | "seconds" | "sec" | "s"
            | "minute" | "minutes" | "min" | "m" | "hour" | "hours" | "h" => "time_duration",
            _ => "date_period",
        },
        Literal::List(_) => "list",
    }
}

impl<'a> Parser<'a> {
    // ----- entry points -----

    /// `booleanExpression`: a full expression.
    pub(super) fn boolean_expression(&mut self) -> PResult<Expr> {
        Ok(self.expr_bp(OR)?.expr)
    }

    /// `primaryExpression`: a literal, name, call or parenthesised expression, with casts.
    pub(super) fn primary_expression(&mut self) -> PResult<Expr> {
        Ok(self.postfix()?.0.expr)
    }

    /// `constant`: a literal or a parameter.
    pub(super) fn constant_expression(&mut self) -> PResult<Expr> {
        Ok(self.constant()?.expr)
    }

    /// `fields`: `field (, field)*`.
    pub(super) fn fields(&mut self) -> PResult<Vec<Field>> {
        let mut fields = vec![self.field()?];
        while self.eat(Tok::Comma).is_some() {
            fields.push(self.field()?);
        }
        Ok(fields)
    }

    /// `field`: `[qualifiedName =] booleanExpression`. An unnamed field's span is its
    /// expression's span (Elasticsearch names such columns by their source text).
    pub(super) fn field(&mut self) -> PResult<Field> {
        if self.assignment_ahead() {
            let name = self.qualified_name()?;
            self.expect(Tok::Assign)?;
            let expr = self.boolean_expression()?;
            let span = name.span.to(expr.span);
            Ok(Field {
                name: Some(name),
                expr,
                span,
            })
        } else {
            let expr = self.boolean_expression()?;
            Ok(Field {
                name: None,
                span: expr.span,
                expr,
            })
        }
    }

    /// True if the tokens ahead are `name(.name)* =`.
    fn assignment_ahead(&self) -> bool {
        if !is_name_start(self.peek().kind) {
            return false;
        }
        let mut i = 1;
        while self.nth(i).kind == Tok::Dot && is_name_part_after_dot(self.nth(i + 1).kind) {
            i += 2;
        }
        self.nth(i).kind == Tok::Assign
    }

    /// True if `expr` contains a function call (the `WHERE` of a `STATS` aggregate needs one).
    pub(super) fn has_call(expr: &Expr) -> bool {
        contains_call(expr)
    }

    /// The type name Elasticsearch reports for a literal.
    pub(super) fn literal_type_name(literal: &Literal) -> &'static str {
        literal_type(literal)
    }

    // ----- depth -----

    pub(super) fn depth_error(&self, span: Span) -> Diagnostic {
        self.error(
            span,
            format!(
                "ESQL statement exceeded the maximum expression depth allowed ({MAX_EXPRESSION_DEPTH})"
            ),
        )
    }

    fn node(&self, kind: ExprKind, span: Span, depth: u32) -> PResult<Node> {
        if depth > MAX_EXPRESSION_DEPTH {
            return Err(self.depth_error(span));
        }
        Ok(Node {
            expr: Expr { kind, span },
            depth,
        })
    }

    fn leaf(kind: ExprKind, span: Span) -> Node {
        Node {
            expr: Expr { kind, span },
            depth: 1,
        }
    }

    fn binary(&self, op: BinaryOp, op_span: Span, left: Node, right: Node) -> PResult<Node> {
        let depth = left.depth.max(right.depth) + 1;
        if depth > MAX_EXPRESSION_DEPTH {
            return Err(self.depth_error(op_span));
        }
        let span = left.expr.span.to(right.expr.span);
        Ok(Node {
            expr: Expr {
                kind: ExprKind::Binary {
                    op,
                    left: Box::new(left.expr),
                    right: Box::new(right.expr),
                },
                span,
            },
            depth,
        })
    }

    /// Runs `f` one nesting level deeper, failing beyond [`MAX_EXPRESSION_DEPTH`].
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        if self.nesting >= MAX_EXPRESSION_DEPTH {
            return Err(self.depth_error(self.peek().span));
        }
        self.nesting += 1;
        let result = f(self);
        self.nesting -= 1;
        result
    }

    // ----- precedence climbing -----

    /// Parses an expression whose operators all bind at least as tightly as `min`.
    fn expr_bp(&mut self, min: u8) -> PResult<Node> {
        self.nested(|p| p.expr_bp_inner(min))
    }

    fn expr_bp_inner(&mut self, min: u8) -> PResult<Node> {
        let (mut lhs, mut shape) = self.prefix(min)?;
        loop {
            if min <= OR && self.at(Tok::Or) {
                let op = self.bump();
                let rhs = self.expr_bp(AND)?;
                lhs = self.binary(BinaryOp::Or, op.span, lhs, rhs)?;
                shape = Shape::Logical;
                continue;
            }
            if min <= AND && self.at(Tok::And) {
                let op = self.bump();
                let rhs = self.expr_bp(NOT)?;
                lhs = self.binary(BinaryOp::And, op.span, lhs, rhs)?;
                shape = Shape::Logical;
                continue;
            }
            if min <= PRED && matches!(shape, Shape::Name | Shape::Operand | Shape::Comparison) {
                if self.at(Tok::Not) {
                    if matches!(self.nth(1).kind, Tok::In | Tok::Like | Tok::Rlike) {
                        lhs = self.in_or_like(lhs)?;
                        shape = Shape::Predicate;
                        continue;
                    }
                    self.bump();
                    self.expect_any(&[Tok::In, Tok::Like, Tok::Rlike]);
                    return Err(self.unexpected());
                }
                if self.at(Tok::In) | self.at(Tok::Like) | self.at(Tok::Rlike) {
                    lhs = self.in_or_like(lhs)?;
                    shape = Shape::Predicate;
                    continue;
                }
                if self.at(Tok::Is) {
                    lhs = self.is_null(lhs)?;
                    shape = Shape::Predicate;
                    continue;
                }
                if shape == Shape::Name && self.at(Tok::Colon) {
                    lhs = self.match_operator(lhs)?;
                    shape = Shape::Predicate;
                    continue;
                }
            }
            if !matches!(shape, Shape::Name | Shape::Operand) {
                break;
            }
            if min <= CMP {
                let kind = self.peek().kind;
                if kind == Tok::CiEq {
                    let token = self.peek();
                    return Err(self.error(
                        token.span,
                        "the case-insensitive equality operator [=~] is not supported",
                    ));
                }
                if let Some(op) = comparison_op(kind) {
                    let op_token = self.bump();
                    let rhs = self.expr_bp(ADD)?;
                    lhs = self.binary(op, op_token.span, lhs, rhs)?;
                    shape = Shape::Comparison;
                    continue;
                }
                self.expect_any(&[Tok::Eq, Tok::Neq, Tok::Lt, Tok::Lte, Tok::Gt, Tok::Gte]);
            }
            if min <= ADD {
                let op = if self.at(Tok::Plus) {
                    Some(BinaryOp::Add)
                } else if self.at(Tok::Minus) {
                    Some(BinaryOp::Sub)
                } else {
                    None
                };
                if let Some(op) = op {
                    let op_token = self.bump();
                    let rhs = self.expr_bp(MUL)?;
                    lhs = self.binary(op, op_token.span, lhs, rhs)?;
                    shape = Shape::Operand;
                    continue;
                }
            }
            if min <= MUL {
                let op = if self.at(Tok::Asterisk) {
                    Some(BinaryOp::Mul)
                } else if self.at(Tok::Slash) {
                    Some(BinaryOp::Div)
                } else if self.at(Tok::Percent) {
                    Some(BinaryOp::Mod)
                } else {
                    None
                };
                if let Some(op) = op {
                    let op_token = self.bump();
                    let rhs = self.expr_bp(UNARY)?;
                    lhs = self.binary(op, op_token.span, lhs, rhs)?;
                    shape = Shape::Operand;
                    continue;
                }
            }
            break;
        }
        Ok(lhs)
    }

    /// Prefix operators (`NOT`, `-`, `+`) or a postfix expression.
    fn prefix(&mut self, min: u8) -> PResult<(Node, Shape)> {
        if min <= NOT && self.at(Tok::Not) {
            let not = self.bump();
            let operand = self.expr_bp(NOT)?;
            let span = not.span.to(operand.expr.span);
            let node = self.node(
                ExprKind::Unary {
                    op: UnaryOp::Not,
                    expr: Box::new(operand.expr),
                },
                span,
                operand.depth + 1,
            )?;
            return Ok((node, Shape::Not));
        }
        if self.at(Tok::Minus) | self.at(Tok::Plus) {
            let sign = self.peek();
            if matches!(self.nth(1).kind, Tok::Integer | Tok::Decimal) {
                // `-1`, `+1.5`, `-1 day`: a signed literal (ANTLR prefers the constant).
                let literal = self.number(true)?;
                let (node, _) = self.casts(literal, false)?;
                return Ok((node, Shape::Operand));
            }
            self.bump();
            let operand = self.expr_bp(UNARY)?;
            let span = sign.span.to(operand.expr.span);
            let node = if sign.kind == Tok::Minus {
                self.node(
                    ExprKind::Unary {
                        op: UnaryOp::Neg,
                        expr: Box::new(operand.expr),
                    },
                    span,
                    operand.depth + 1,
                )?
            } else {
                // Unary plus is the identity; the span still covers the sign.
                Node {
                    expr: Expr {
                        kind: operand.expr.kind,
                        span,
                    },
                    depth: operand.depth,
                }
            };
            return Ok((node, Shape::Operand));
        }
        let (node, is_name) = self.postfix()?;
        Ok((node, if is_name { Shape::Name } else { Shape::Operand }))
    }

    /// A primary expression followed by any `::type` casts. The flag tells whether the result is
    /// a bare name with at most one cast (the left side of the `:` match operator).
    fn postfix(&mut self) -> PResult<(Node, bool)> {
        let (node, is_name) = self.primary()?;
        self.casts(node, is_name)
    }

    fn casts(&mut self, mut node: Node, is_name: bool) -> PResult<(Node, bool)> {
        let mut count = 0;
        while self.at(Tok::CastOp) {
            self.bump();
            let token = self.peek();
            let to = match token.kind {
                Tok::UnquotedIdent => self.text(token.span).to_ascii_lowercase(),
                Tok::QuotedIdent => unquote_ident(self.text(token.span)).to_ascii_lowercase(),
                _ => {
                    self.expect_any(&[Tok::UnquotedIdent, Tok::QuotedIdent]);
                    return Err(self.unexpected());
                }
            };
            self.bump();
            let span = node.expr.span.to(token.span);
            node = self.node(
                ExprKind::Cast {
                    expr: Box::new(node.expr),
                    to,
                    to_span: token.span,
                },
                span,
                node.depth + 1,
            )?;
            count += 1;
        }
        Ok((node, is_name && count <= 1))
    }

    /// `constant | qualifiedName | functionCall | ( booleanExpression )`.
    fn primary(&mut self) -> PResult<(Node, bool)> {
        let token = self.peek();
        match token.kind {
            Tok::LParen => {
                self.bump();
                let inner = self.expr_bp(OR)?;
                let close = self.expect(Tok::RParen)?;
                // The parenthesised expression's text includes the parentheses.
                let span = token.span.to(close.span);
                let node = self.node(inner.expr.kind, span, inner.depth + 1)?;
                Ok((node, false))
            }
            Tok::Integer
            | Tok::Decimal
            | Tok::QuotedString
            | Tok::True
            | Tok::False
            | Tok::Null
            | Tok::Param
            | Tok::NamedParam
            | Tok::LBracket => Ok((self.constant()?, false)),
            Tok::UnquotedIdent | Tok::QuotedIdent | Tok::First | Tok::Last
                if self.nth(1).kind == Tok::LParen =>
            {
                Ok((self.call()?, false))
            }
            Tok::UnquotedIdent | Tok::QuotedIdent => {
                let ident = self.qualified_name()?;
                let span = ident.span;
                Ok((Self::leaf(ExprKind::Field(ident), span), true))
            }
            Tok::DoubleParams | Tok::NamedDoubleParams => Err(self.identifier_param_error(token)),
            _ => {
                self.expect_any(PRIMARY_START);
                Err(self.unexpected())
            }
        }
    }

    /// `Query parameter [??x] is null or undefined, cannot be used as an identifier`, as
    /// Elasticsearch reports for an identifier parameter without a value.
    pub(super) fn identifier_param_error(&self, token: Token) -> Diagnostic {
        self.error(
            token.span,
            format!(
                "Query parameter [{}] is null or undefined, cannot be used as an identifier",
                self.text(token.span)
            ),
        )
    }

    /// `name ( [* | args [, {map}]] )`.
    fn call(&mut self) -> PResult<Node> {
        let name_token = self.bump();
        let raw = self.text(name_token.span);
        let name = if name_token.kind == Tok::QuotedIdent {
            unquote_ident(raw)
        } else {
            raw.to_string()
        }
        .to_lowercase();
        self.expect(Tok::LParen)?;
        let mut args = Vec::new();
        let mut star = false;
        let mut depth = 0;
        if self.at(Tok::Asterisk) {
            self.bump();
            star = true;
        } else if !self.at(Tok::RParen) {
            loop {
                let arg = self.expr_bp(OR)?;
                depth = depth.max(arg.depth);
                args.push(arg.expr);
                if self.eat(Tok::Comma).is_none() {
                    break;
                }
                if self.at(Tok::LBrace) {
                    let map = self.nested(|p| p.map())?;
                    depth = depth.max(map.depth);
                    args.push(map.expr);
                    break;
                }
            }
        }
        let close = self.expect(Tok::RParen)?;
        let span = name_token.span.to(close.span);
        self.node(
            ExprKind::Call {
                name,
                name_span: name_token.span,
                args,
                star,
            },
            span,
            depth + 1,
        )
    }

    /// `{ "key": constant, ... }` (function options).
    fn map(&mut self) -> PResult<Node> {
        let open = self.expect(Tok::LBrace)?;
        let mut entries: Vec<(String, Expr)> = Vec::new();
        let mut depth = 1;
        loop {
            let key_token = self.expect(Tok::QuotedString)?;
            let key = unquote_string(self.text(key_token.span));
            self.expect(Tok::Colon)?;
            let value = if self.at(Tok::LBrace) {
                self.nested(|p| p.map())?
            } else {
                self.constant()?
            };
            let entry_text = format!(
                "{}:{}",
                self.text(key_token.span),
                self.text(value.expr.span)
            );
            if key.trim().is_empty() {
                return Err(self.error(
                    key_token.span,
                    format!(
                        "Invalid named function argument [{entry_text}], empty key is not supported"
                    ),
                ));
            }
            if entries.iter().any(|(k, _)| *k == key) {
                return Err(self.error(
                    key_token.span,
                    format!(
                        "Duplicated function arguments with the same name [{key}] is not supported"
                    ),
                ));
            }
            if matches!(value.expr.kind, ExprKind::Literal(Literal::Null)) {
                return Err(self.error(
                    value.expr.span,
                    format!("Invalid named function argument [{entry_text}], NULL is not supported"),
                ));
            }
            depth = depth.max(value.depth + 1);
            entries.push((key, value.expr));
            if self.eat(Tok::Comma).is_none() {
                break;
            }
        }
        let close = self.expect(Tok::RBrace)?;
        self.node(ExprKind::Map(entries), open.span.to(close.span), depth)
    }

    /// `x [NOT] IN (a, b)`, `x [NOT] LIKE p`, `x [NOT] LIKE (p1, p2)`, `x [NOT] RLIKE ...`.
    fn in_or_like(&mut self, lhs: Node) -> PResult<Node> {
        let negated = self.eat(Tok::Not).is_some();
        if self.eat(Tok::In).is_some() {
            self.expect(Tok::LParen)?;
            let mut list = Vec::new();
            let mut depth = lhs.depth;
            loop {
                let item = self.expr_bp(CMP)?;
                depth = depth.max(item.depth);
                list.push(item.expr);
                if self.eat(Tok::Comma).is_none() {
                    break;
                }
            }
            let close = self.expect(Tok::RParen)?;
            let span = lhs.expr.span.to(close.span);
            return self.node(
                ExprKind::In {
                    expr: Box::new(lhs.expr),
                    list,
                    negated,
                },
                span,
                depth + 1,
            );
        }
        let regex = if self.eat(Tok::Rlike).is_some() {
            true
        } else {
            self.expect(Tok::Like)?;
            false
        };
        let mut patterns = Vec::new();
        let mut depth = lhs.depth;
        let end = if self.eat(Tok::LParen).is_some() {
            // `LIKE ("a*", "b*")`; a single parenthesised pattern is the same thing.
            loop {
                let pattern = self.expr_bp(OR)?;
                depth = depth.max(pattern.depth);
                patterns.push(pattern.expr);
                if self.eat(Tok::Comma).is_none() {
                    break;
                }
            }
            self.expect(Tok::RParen)?.span
        } else {
            // A string, a parameter, or (newer Elasticsearch) a constant-foldable primary
            // expression such as `CONCAT("a", "*")`.
            let (pattern, _) = self.postfix()?;
            depth = depth.max(pattern.depth);
            let end = pattern.expr.span;
            patterns.push(pattern.expr);
            end
        };
        let span = lhs.expr.span.to(end);
        self.node(
            ExprKind::Like {
                expr: Box::new(lhs.expr),
                patterns,
                negated,
                regex,
            },
            span,
            depth + 1,
        )
    }

    /// `x IS [NOT] NULL`.
    fn is_null(&mut self, lhs: Node) -> PResult<Node> {
        self.expect(Tok::Is)?;
        let negated = self.eat(Tok::Not).is_some();
        let null = self.expect(Tok::Null)?;
        let span = lhs.expr.span.to(null.span);
        self.node(
            ExprKind::IsNull {
                expr: Box::new(lhs.expr),
                negated,
            },
            span,
            lhs.depth + 1,
        )
    }

    /// `name[::type] : constant`.
    fn match_operator(&mut self, lhs: Node) -> PResult<Node> {
        self.expect(Tok::Colon)?;
        let query = self.constant()?;
        let span = lhs.expr.span.to(query.expr.span);
        let depth = lhs.depth.max(query.depth) + 1;
        self.node(
            ExprKind::Match {
                field: Box::new(lhs.expr),
                query: Box::new(query.expr),
            },
            span,
            depth,
        )
    }

    // ----- constants -----

    /// `constant`: `null`, booleans, numbers (optionally signed), time spans, strings,
    /// parameters, and homogeneous lists of numbers, booleans or strings.
    fn constant(&mut self) -> PResult<Node> {
        let token = self.peek();
        match token.kind {
            Tok::Null => {
                self.bump();
                Ok(Self::leaf(ExprKind::Literal(Literal::Null), token.span))
            }
            Tok::True | Tok::False => {
                self.bump();
                let value = token.kind == Tok::True;
                Ok(Self::leaf(
                    ExprKind::Literal(Literal::Boolean(value)),
                    token.span,
                ))
            }
            Tok::QuotedString => {
                self.bump();
                let value = unquote_string(self.text(token.span));
                Ok(Self::leaf(
                    ExprKind::Literal(Literal::String(value)),
                    token.span,
                ))
            }
            Tok::Param | Tok::NamedParam => self.param(),
            Tok::DoubleParams | Tok::NamedDoubleParams => Err(self.identifier_param_error(token)),
            Tok::Plus | Tok::Minus | Tok::Integer | Tok::Decimal => self.number(true),
            Tok::LBracket => self.list(),
            _ => {
                self.expect_any(CONSTANT_START);
                Err(self.unexpected())
            }
        }
    }

    /// `?`, `?1`, `?name`.
    fn param(&mut self) -> PResult<Node> {
        let token = self.bump();
        let text = self.text(token.span);
        let param = match token.kind {
            Tok::Param => {
                let index = self.anon_params;
                self.anon_params += 1;
                Param::Anonymous(index)
            }
            _ => {
                let body = text.get(1..).unwrap_or("");
                if body.bytes().all(|b| b.is_ascii_digit()) {
                    match body.parse::<usize>() {
                        Ok(position) => Param::Positional(position),
                        Err(_) => {
                            return Err(self.error(
                                token.span,
                                format!("No parameter is defined for position {body}"),
                            ));
                        }
                    }
                } else {
                    Param::Named(body.to_string())
                }
            }
        };
        Ok(Self::leaf(ExprKind::Param(param), token.span))
    }

    /// An optionally signed integer or decimal; with `allow_unit`, an integer followed by a unit
    /// name is a time span (`1 day`, `-5m`).
    fn number(&mut self, allow_unit: bool) -> PResult<Node> {
        let start = self.peek().span;
        let negative = if self.at(Tok::Minus) {
            self.bump();
            true
        } else {
            if self.at(Tok::Plus) {
                self.bump();
            }
            false
        };
        let token = self.peek();
        match token.kind {
            Tok::Integer => {
                self.bump();
                let digits = self.text(token.span);
                let literal = integer_literal(negative, digits);
                if allow_unit && self.peek().kind == Tok::UnquotedIdent {
                    let unit_token = self.bump();
                    let unit = self.text(unit_token.span).to_ascii_lowercase();
                    let span = start.to(unit_token.span);
                    if !TIME_UNITS.contains(&unit.as_str()) {
                        return Err(self.error(
                            unit_token.span,
                            format!("Unexpected temporal unit: '{unit}'"),
                        ));
                    }
                    let value = match literal {
                        Literal::Integer(v) => v,
                        _ => {
                            let sign = if negative { "-" } else { "" };
                            return Err(self.error(
                                span,
                                format!("Number [{sign}{digits}] outside of [{unit}] range"),
                            ));
                        }
                    };
                    return Ok(Self::leaf(
                        ExprKind::Literal(Literal::TimeSpan { value, unit }),
                        span,
                    ));
                }
                Ok(Self::leaf(
                    ExprKind::Literal(literal),
                    start.to(token.span),
                ))
            }
            Tok::Decimal => {
                self.bump();
                let text = self.text(token.span);
                let span = start.to(token.span);
                match text.parse::<f64>() {
                    Ok(v) if v.is_finite() => {
                        let v = if negative { -v } else { v };
                        Ok(Self::leaf(ExprKind::Literal(Literal::Decimal(v)), span))
                    }
                    _ => Err(self.error(span, format!("Number [{text}] is too large"))),
                }
            }
            _ => {
                self.expect_any(&[Tok::Integer, Tok::Decimal]);
                Err(self.unexpected())
            }
        }
    }

    /// `[1, 2.5]`, `[true, false]`, `["a", "b"]`.
    fn list(&mut self) -> PResult<Node> {
        let open = self.expect(Tok::LBracket)?;
        #[derive(PartialEq)]
        enum Kind {
            Number,
            Boolean,
            String,
        }
        let kind = match self.peek().kind {
            Tok::Plus | Tok::Minus | Tok::Integer | Tok::Decimal => Kind::Number,
            Tok::True | Tok::False => Kind::Boolean,
            Tok::QuotedString => Kind::String,
            _ => {
                self.expect_any(&[
                    Tok::QuotedString,
                    Tok::Integer,
                    Tok::Decimal,
                    Tok::False,
                    Tok::True,
                    Tok::Plus,
                    Tok::Minus,
                ]);
                return Err(self.unexpected());
            }
        };
        let mut items = Vec::new();
        loop {
            let token = self.peek();
            let item = match kind {
                Kind::Number => self.number(false)?.expr,
                Kind::Boolean => {
                    if !(self.at(Tok::True) | self.at(Tok::False)) {
                        return Err(self.unexpected());
                    }
                    self.bump();
                    Expr {
                        kind: ExprKind::Literal(Literal::Boolean(token.kind == Tok::True)),
                        span: token.span,
                    }
                }
                Kind::String => {
                    let token = self.expect(Tok::QuotedString)?;
                    Expr {
                        kind: ExprKind::Literal(Literal::String(unquote_string(
                            self.text(token.span),
                        ))),
                        span: token.span,
                    }
                }
            };
            items.push(item);
            if self.eat(Tok::Comma).is_none() {
                break;
            }
        }
        let close = self.expect(Tok::RBracket)?;
        self.node(
            ExprKind::Literal(Literal::List(items)),
            open.span.to(close.span),
            2,
        )
    }

    // ----- names -----

    /// `identifier (. identifier)*` (backtick-quoted parts allowed; after a `.` any word is a
    /// name part).
    pub(super) fn qualified_name(&mut self) -> PResult<Ident> {
        let (mut name, first) = self.name_part(false)?;
        let mut span = first;
        while self.at(Tok::Dot) {
            self.bump();
            let (part, part_span) = self.name_part(true)?;
            name.push('.');
            name.push_str(&part);
            span = span.to(part_span);
        }
        Ok(Ident { name, span })
    }

    fn name_part(&mut self, after_dot: bool) -> PResult<(String, Span)> {
        let token = self.peek();
        let part = match token.kind {
            Tok::UnquotedIdent => self.text(token.span).to_string(),
            Tok::QuotedIdent => unquote_ident(self.text(token.span)),
            kind if is_param(kind) => return Err(self.identifier_param_error(token)),
            kind if after_dot && kind.is_keyword() => self.text(token.span).to_string(),
            _ => {
                self.expect_any(&[Tok::UnquotedIdent, Tok::QuotedIdent]);
                return Err(self.unexpected());
            }
        };
        self.bump();
        Ok((part, token.span))
    }
}

/// An integer literal's value: `i64` if it fits (with its sign), the digits as a big integer if
/// positive and larger, and a double if negative and smaller than `i64::MIN` (as Elasticsearch).
fn integer_literal(negative: bool, digits: &str) -> Literal {
    let signed = if negative {
        format!("-{digits}")
    } else {
        digits.to_string()
    };
    match signed.parse::<i64>() {
        Ok(v) => Literal::Integer(v),
        Err(_) if negative => Literal::Decimal(signed.parse::<f64>().unwrap_or(f64::MIN)),
        Err(_) => {
            let trimmed = digits.trim_start_matches('0');
            Literal::BigInteger(if trimmed.is_empty() { "0" } else { trimmed }.to_string())
        }
    }
}
