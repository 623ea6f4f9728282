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

/// An expression under construction, with its tree depth. The expression is boxed so that the
/// recursive parsing functions pass around 16 bytes rather than a whole `Expr` (debug builds give
/// every temporary its own stack slot, and the recursion must fit in a 2 MiB thread stack).
pub(super) struct Node {
    pub(super) expr: Box<Expr>,
    pub(super) depth: u32,
}

impl Node {
    fn span(&self) -> Span {
        self.expr.span
    }
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
    matches!(kind, Tok::Param | Tok::NamedParam | Tok::DoubleParams | Tok::NamedDoubleParams)
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
            ExprKind::Unary { expr, .. } | ExprKind::IsNull { expr, .. } | ExprKind::Cast { expr, .. } => {
                stack.push(expr)
            }
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
            "millisecond" | "milliseconds" | "ms" | "second" | "seconds" | "sec" | "s" | "minute" | "minutes"
            | "min" | "m" | "hour" | "hours" | "h" => "time_duration",
            _ => "date_period",
        },
        Literal::List(_) => "list",
    }
}

impl<'a> Parser<'a> {
    // ----- entry points -----

    /// `booleanExpression`: a full expression.
    pub(super) fn boolean_expression(&mut self) -> PResult<Expr> {
        Ok(*self.expr_bp(OR)?.expr)
    }

    /// `primaryExpression`: a literal, name, call or parenthesised expression, with casts.
    pub(super) fn primary_expression(&mut self) -> PResult<Expr> {
        Ok(*self.postfix()?.0.expr)
    }

    /// `constant`: a literal or a parameter.
    pub(super) fn constant_expression(&mut self) -> PResult<Expr> {
        Ok(*self.constant()?.expr)
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
            Ok(Field { name: Some(name), expr, span })
        } else {
            let expr = self.boolean_expression()?;
            Ok(Field { name: None, span: expr.span, expr })
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

    // ----- node construction (kept out of the recursive functions' frames) -----

    #[cold]
    #[inline(never)]
    pub(super) fn depth_error(&self, span: Span) -> Box<Diagnostic> {
        self.error(
            span,
            format!("ESQL statement exceeded the maximum expression depth allowed ({MAX_EXPRESSION_DEPTH})"),
        )
    }

    #[inline(never)]
    fn node(&self, kind: ExprKind, span: Span, depth: u32) -> PResult<Node> {
        if depth > MAX_EXPRESSION_DEPTH {
            return Err(self.depth_error(span));
        }
        Ok(Node { expr: Box::new(Expr { kind, span }), depth })
    }

    #[inline(never)]
    fn leaf(kind: ExprKind, span: Span) -> Node {
        Node { expr: Box::new(Expr { kind, span }), depth: 1 }
    }

    #[inline(never)]
    fn binary(&self, op: BinaryOp, op_span: Span, left: Node, right: Node) -> PResult<Node> {
        let depth = left.depth.max(right.depth) + 1;
        if depth > MAX_EXPRESSION_DEPTH {
            return Err(self.depth_error(op_span));
        }
        let span = left.span().to(right.span());
        Ok(Node {
            expr: Box::new(Expr { kind: ExprKind::Binary { op, left: left.expr, right: right.expr }, span }),
            depth,
        })
    }

    #[inline(never)]
    fn unary(&self, op: UnaryOp, sign: Span, operand: Node) -> PResult<Node> {
        let span = sign.to(operand.span());
        let depth = operand.depth + 1;
        self.node(ExprKind::Unary { op, expr: operand.expr }, span, depth)
    }

    /// `+x`: the identity, with the span widened over the sign.
    #[inline(never)]
    fn unary_plus(sign: Span, mut operand: Node) -> Node {
        operand.expr.span = sign.to(operand.span());
        operand
    }

    /// `( x )`: the same expression, its span widened over the parentheses, one level deeper.
    #[inline(never)]
    fn parenthesized(&self, open: Span, close: Span, mut inner: Node) -> PResult<Node> {
        inner.expr.span = open.to(close);
        inner.depth += 1;
        if inner.depth > MAX_EXPRESSION_DEPTH {
            return Err(self.depth_error(open));
        }
        Ok(inner)
    }

    #[inline(never)]
    fn cast(&self, node: Node, type_token: Token) -> PResult<Node> {
        let raw = self.text(type_token.span);
        let to =
            if type_token.kind == Tok::QuotedIdent { unquote_ident(raw) } else { raw.to_string() }.to_ascii_lowercase();
        let span = node.span().to(type_token.span);
        let depth = node.depth + 1;
        self.node(ExprKind::Cast { expr: node.expr, to, to_span: type_token.span }, span, depth)
    }

    #[inline(never)]
    fn field_node(ident: Ident) -> Node {
        let span = ident.span;
        Self::leaf(ExprKind::Field(ident), span)
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
        if self.nesting >= MAX_EXPRESSION_DEPTH {
            return Err(self.depth_error(self.peek().span));
        }
        self.nesting += 1;
        let result = self.expr_bp_inner(min);
        self.nesting -= 1;
        result
    }

    fn expr_bp_inner(&mut self, min: u8) -> PResult<Node> {
        let (mut lhs, mut shape) = self.prefix(min)?;
        loop {
            if min <= OR && self.at(Tok::Or) {
                let op = self.bump().span;
                let rhs = self.expr_bp(AND)?;
                lhs = self.binary(BinaryOp::Or, op, lhs, rhs)?;
                shape = Shape::Logical;
                continue;
            }
            if min <= AND && self.at(Tok::And) {
                let op = self.bump().span;
                let rhs = self.expr_bp(NOT)?;
                lhs = self.binary(BinaryOp::And, op, lhs, rhs)?;
                shape = Shape::Logical;
                continue;
            }
            if min <= PRED && matches!(shape, Shape::Name | Shape::Operand | Shape::Comparison) {
                if let Some(predicate) = self.predicate_kind(shape) {
                    lhs = match predicate {
                        Tok::In | Tok::Like => self.in_or_like(lhs)?,
                        Tok::Is => self.is_null(lhs)?,
                        _ => self.match_operator(lhs)?,
                    };
                    shape = Shape::Predicate;
                    continue;
                }
                if self.peek().kind == Tok::Not {
                    return Err(self.dangling_not());
                }
            }
            if !matches!(shape, Shape::Name | Shape::Operand) {
                break;
            }
            match self.infix_op(min) {
                Some((op, level)) => {
                    let op_span = self.bump().span;
                    let rhs = self.expr_bp(level)?;
                    lhs = self.binary(op, op_span, lhs, rhs)?;
                    shape = if level == ADD { Shape::Comparison } else { Shape::Operand };
                }
                None => {
                    if min <= CMP && self.peek().kind == Tok::CiEq {
                        return Err(self.unsupported_ci_eq());
                    }
                    break;
                }
            }
        }
        Ok(lhs)
    }

    /// Which predicate starts at the current token, if any: `Tok::In` for `[NOT] IN`,
    /// `Tok::Like` for `[NOT] LIKE/RLIKE`, `Tok::Is`, or `Tok::Colon` for the match operator.
    #[inline(never)]
    fn predicate_kind(&mut self, shape: Shape) -> Option<Tok> {
        let not = self.at(Tok::Not);
        let next = if not { self.nth(1).kind } else { self.peek().kind };
        if not {
            return match next {
                Tok::In => Some(Tok::In),
                Tok::Like | Tok::Rlike => Some(Tok::Like),
                _ => None,
            };
        }
        if self.at(Tok::In) {
            return Some(Tok::In);
        }
        if self.at(Tok::Like) | self.at(Tok::Rlike) {
            return Some(Tok::Like);
        }
        if self.at(Tok::Is) {
            return Some(Tok::Is);
        }
        if shape == Shape::Name && self.at(Tok::Colon) {
            return Some(Tok::Colon);
        }
        None
    }

    /// `NOT` after an operand that does not start `NOT IN/LIKE/RLIKE`.
    #[cold]
    #[inline(never)]
    fn dangling_not(&mut self) -> Box<Diagnostic> {
        self.bump();
        self.expect_any(&[Tok::In, Tok::Like, Tok::Rlike]);
        self.unexpected()
    }

    #[cold]
    #[inline(never)]
    fn unsupported_ci_eq(&self) -> Box<Diagnostic> {
        self.error(self.peek().span, "the case-insensitive equality operator [=~] is not supported")
    }

    /// The binary arithmetic or comparison operator at the current token that may follow an
    /// operand at binding level `min`, with the binding level of its right operand.
    #[inline(never)]
    fn infix_op(&mut self, min: u8) -> Option<(BinaryOp, u8)> {
        if min <= CMP {
            if let Some(op) = comparison_op(self.peek().kind) {
                return Some((op, ADD));
            }
            self.expect_any(&[Tok::Eq, Tok::Neq, Tok::Lt, Tok::Lte, Tok::Gt, Tok::Gte]);
        }
        if min <= ADD {
            if self.at(Tok::Plus) {
                return Some((BinaryOp::Add, MUL));
            }
            if self.at(Tok::Minus) {
                return Some((BinaryOp::Sub, MUL));
            }
        }
        if min <= MUL {
            if self.at(Tok::Asterisk) {
                return Some((BinaryOp::Mul, UNARY));
            }
            if self.at(Tok::Slash) {
                return Some((BinaryOp::Div, UNARY));
            }
            if self.at(Tok::Percent) {
                return Some((BinaryOp::Mod, UNARY));
            }
        }
        None
    }

    /// Prefix operators (`NOT`, `-`, `+`) or a postfix expression.
    fn prefix(&mut self, min: u8) -> PResult<(Node, Shape)> {
        if min <= NOT && self.at(Tok::Not) {
            let not = self.bump().span;
            let operand = self.expr_bp(NOT)?;
            return Ok((self.unary(UnaryOp::Not, not, operand)?, Shape::Not));
        }
        if self.at(Tok::Minus) | self.at(Tok::Plus) {
            if matches!(self.nth(1).kind, Tok::Integer | Tok::Decimal) {
                // `-1`, `+1.5`, `-1 day`: a signed literal (ANTLR prefers the constant).
                let literal = self.number(true)?;
                let (node, _) = self.casts(literal, false)?;
                return Ok((node, Shape::Operand));
            }
            let sign = self.bump();
            let operand = self.expr_bp(UNARY)?;
            let node = if sign.kind == Tok::Minus {
                self.unary(UnaryOp::Neg, sign.span, operand)?
            } else {
                Self::unary_plus(sign.span, operand)
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

    #[inline(never)]
    fn casts(&mut self, mut node: Node, is_name: bool) -> PResult<(Node, bool)> {
        let mut count = 0;
        while self.at(Tok::CastOp) {
            self.bump();
            let token = self.peek();
            if !matches!(token.kind, Tok::UnquotedIdent | Tok::QuotedIdent) {
                self.expect_any(&[Tok::UnquotedIdent, Tok::QuotedIdent]);
                return Err(self.unexpected());
            }
            self.bump();
            node = self.cast(node, token)?;
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
                let close = self.expect(Tok::RParen)?.span;
                Ok((self.parenthesized(token.span, close, inner)?, false))
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
            Tok::UnquotedIdent | Tok::QuotedIdent | Tok::First | Tok::Last if self.nth(1).kind == Tok::LParen => {
                Ok((self.call()?, false))
            }
            Tok::UnquotedIdent | Tok::QuotedIdent => {
                let ident = self.qualified_name()?;
                Ok((Self::field_node(ident), true))
            }
            Tok::DoubleParams | Tok::NamedDoubleParams => Err(self.identifier_param_error(token)),
            _ => Err(self.primary_error()),
        }
    }

    #[cold]
    #[inline(never)]
    fn primary_error(&mut self) -> Box<Diagnostic> {
        self.expect_any(PRIMARY_START);
        self.unexpected()
    }

    /// `Query parameter [??x] is null or undefined, cannot be used as an identifier`, as
    /// Elasticsearch reports for an identifier parameter without a value.
    #[cold]
    #[inline(never)]
    pub(super) fn identifier_param_error(&self, token: Token) -> Box<Diagnostic> {
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
        self.expect(Tok::LParen)?;
        let mut args: Vec<Expr> = Vec::new();
        let mut star = false;
        let mut depth = 0;
        if self.at(Tok::Asterisk) {
            self.bump();
            star = true;
        } else if !self.at(Tok::RParen) {
            loop {
                let arg = self.expr_bp(OR)?;
                depth = depth.max(arg.depth);
                args.push(*arg.expr);
                if self.eat(Tok::Comma).is_none() {
                    break;
                }
                if self.at(Tok::LBrace) {
                    let map = self.nested(|p| p.map())?;
                    depth = depth.max(map.depth);
                    args.push(*map.expr);
                    break;
                }
            }
        }
        let close = self.expect(Tok::RParen)?.span;
        self.call_node(name_token, close, args, star, depth + 1)
    }

    #[inline(never)]
    fn call_node(&self, name_token: Token, close: Span, args: Vec<Expr>, star: bool, depth: u32) -> PResult<Node> {
        let raw = self.text(name_token.span);
        let name =
            if name_token.kind == Tok::QuotedIdent { unquote_ident(raw) } else { raw.to_string() }.to_lowercase();
        self.node(ExprKind::Call { name, name_span: name_token.span, args, star }, name_token.span.to(close), depth)
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
            let value = if self.at(Tok::LBrace) { self.nested(|p| p.map())? } else { self.constant()? };
            let entry_text = format!("{}:{}", self.text(key_token.span), self.text(value.span()));
            if key.trim().is_empty() {
                return Err(self.error(
                    key_token.span,
                    format!("Invalid named function argument [{entry_text}], empty key is not supported"),
                ));
            }
            if entries.iter().any(|(k, _)| *k == key) {
                return Err(self.error(
                    key_token.span,
                    format!("Duplicated function arguments with the same name [{key}] is not supported"),
                ));
            }
            if matches!(value.expr.kind, ExprKind::Literal(Literal::Null)) {
                return Err(self.error(
                    value.span(),
                    format!("Invalid named function argument [{entry_text}], NULL is not supported"),
                ));
            }
            depth = depth.max(value.depth + 1);
            entries.push((key, *value.expr));
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
            let (list, depth) = self.expression_list(CMP, lhs.depth)?;
            let close = self.expect(Tok::RParen)?.span;
            let span = lhs.span().to(close);
            return self.node(ExprKind::In { expr: lhs.expr, list, negated }, span, depth + 1);
        }
        let regex = if self.eat(Tok::Rlike).is_some() {
            true
        } else {
            self.expect(Tok::Like)?;
            false
        };
        let (patterns, depth, end) = if self.eat(Tok::LParen).is_some() {
            // `LIKE ("a*", "b*")`; a single parenthesised pattern is the same thing.
            let (patterns, depth) = self.expression_list(OR, lhs.depth)?;
            (patterns, depth, self.expect(Tok::RParen)?.span)
        } else {
            // A string, a parameter, or (newer Elasticsearch) a constant-foldable primary
            // expression such as `CONCAT("a", "*")`.
            let (pattern, _) = self.postfix()?;
            let end = pattern.span();
            (vec![*pattern.expr], lhs.depth.max(pattern.depth), end)
        };
        let span = lhs.span().to(end);
        self.node(ExprKind::Like { expr: lhs.expr, patterns, negated, regex }, span, depth + 1)
    }

    /// `expr (, expr)*` at binding level `min`, with the maximum depth (at least `depth`).
    fn expression_list(&mut self, min: u8, mut depth: u32) -> PResult<(Vec<Expr>, u32)> {
        let mut items = Vec::new();
        loop {
            let item = self.expr_bp(min)?;
            depth = depth.max(item.depth);
            items.push(*item.expr);
            if self.eat(Tok::Comma).is_none() {
                break;
            }
        }
        Ok((items, depth))
    }

    /// `x IS [NOT] NULL`.
    #[inline(never)]
    fn is_null(&mut self, lhs: Node) -> PResult<Node> {
        self.expect(Tok::Is)?;
        let negated = self.eat(Tok::Not).is_some();
        let null = self.expect(Tok::Null)?;
        let span = lhs.span().to(null.span);
        let depth = lhs.depth + 1;
        self.node(ExprKind::IsNull { expr: lhs.expr, negated }, span, depth)
    }

    /// `name[::type] : constant`.
    #[inline(never)]
    fn match_operator(&mut self, lhs: Node) -> PResult<Node> {
        self.expect(Tok::Colon)?;
        let query = self.constant()?;
        let span = lhs.span().to(query.span());
        let depth = lhs.depth.max(query.depth) + 1;
        self.node(ExprKind::Match { field: lhs.expr, query: query.expr }, span, depth)
    }

    // ----- constants -----

    /// `constant`: `null`, booleans, numbers (optionally signed), time spans, strings,
    /// parameters, and homogeneous lists of numbers, booleans or strings.
    #[inline(never)]
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
                Ok(Self::leaf(ExprKind::Literal(Literal::Boolean(value)), token.span))
            }
            Tok::QuotedString => {
                self.bump();
                let value = unquote_string(self.text(token.span));
                Ok(Self::leaf(ExprKind::Literal(Literal::String(value)), token.span))
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
                            return Err(self.error(token.span, format!("No parameter is defined for position {body}")));
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
    #[inline(never)]
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
                        return Err(self.error(unit_token.span, format!("Unexpected temporal unit: '{unit}'")));
                    }
                    let value = match literal {
                        Literal::Integer(v) => v,
                        _ => {
                            let sign = if negative { "-" } else { "" };
                            return Err(self.error(span, format!("Number [{sign}{digits}] outside of [{unit}] range")));
                        }
                    };
                    return Ok(Self::leaf(ExprKind::Literal(Literal::TimeSpan { value, unit }), span));
                }
                Ok(Self::leaf(ExprKind::Literal(literal), start.to(token.span)))
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
    #[inline(never)]
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
                Kind::Number => *self.number(false)?.expr,
                Kind::Boolean => {
                    if !(self.at(Tok::True) | self.at(Tok::False)) {
                        return Err(self.unexpected());
                    }
                    self.bump();
                    Expr { kind: ExprKind::Literal(Literal::Boolean(token.kind == Tok::True)), span: token.span }
                }
                Kind::String => {
                    let token = self.expect(Tok::QuotedString)?;
                    Expr {
                        kind: ExprKind::Literal(Literal::String(unquote_string(self.text(token.span)))),
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
        self.node(ExprKind::Literal(Literal::List(items)), open.span.to(close.span), 2)
    }

    // ----- names -----

    /// `identifier (. identifier)*` (backtick-quoted parts allowed; after a `.` any word is a
    /// name part).
    #[inline(never)]
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
    let signed = if negative { format!("-{digits}") } else { digits.to_string() };
    match signed.parse::<i64>() {
        Ok(v) => Literal::Integer(v),
        Err(_) if negative => Literal::Decimal(signed.parse::<f64>().unwrap_or(f64::MIN)),
        Err(_) => {
            let trimmed = digits.trim_start_matches('0');
            Literal::BigInteger(if trimmed.is_empty() { "0" } else { trimmed }.to_string())
        }
    }
}
