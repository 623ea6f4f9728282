//! Conditional functions: `CASE`, `COALESCE`, `GREATEST`, `LEAST`.

use super::{ArgInfo, PlanArgs, Resolved, ScalarDef};
use crate::analyzer::widen_numeric;
use crate::planner::typed_null;
use crate::types::EsType;
use datafusion::common::Result;
use datafusion::logical_expr::{Expr, when};

/// The conditional functions.
pub static ALL: &[&ScalarDef] = &[&CASE, &COALESCE];

/// The common type of value arguments: equal types, keyword/text mixing to keyword, numeric
/// widening; `None` when incompatible.
pub fn common_type(args: &[&ArgInfo]) -> Option<EsType> {
    let mut ty = EsType::Null;
    for a in args {
        if a.ty == EsType::Null {
            continue;
        }
        ty = if ty == EsType::Null || ty == a.ty {
            a.ty
        } else if ty.is_string() && a.ty.is_string() {
            EsType::Keyword
        } else {
            widen_numeric(ty, a.ty)?
        };
    }
    Some(ty)
}

/// `CASE(cond1, value1, cond2, value2, ..., [else])`.
pub static CASE: ScalarDef = ScalarDef { name: "case", mv_args: true, resolve: resolve_case, plan: plan_case };

fn resolve_case(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    if args.len() < 2 {
        return Err("error building [case]: expects at least two arguments".to_string());
    }
    let mut values: Vec<&ArgInfo> = Vec::new();
    for (i, a) in args.iter().enumerate() {
        let is_cond = i % 2 == 0 && i + 1 < args.len();
        if is_cond {
            if a.ty != EsType::Boolean && a.ty != EsType::Null {
                return Err(format!(
                    "{} argument of [{call}] must be [boolean], found value [{}] type [{}]",
                    super::ordinal(i),
                    a.text,
                    a.ty
                ));
            }
        } else {
            values.push(a);
        }
    }
    let Some(ty) = common_type(&values) else {
        let first = values[0];
        let bad = values.iter().position(|v| v.ty != EsType::Null && v.ty != first.ty).unwrap_or(0);
        let idx = args.iter().position(|a| std::ptr::eq(a, values[bad])).unwrap_or(0);
        return Err(format!(
            "{} argument of [{call}] must be [{}], found value [{}] type [{}]",
            super::ordinal(idx),
            first.ty,
            values[bad].text,
            values[bad].ty
        ));
    };
    let multi = values.iter().any(|v| v.multi);
    let casts = args
        .iter()
        .enumerate()
        .map(|(i, a)| {
            if i % 2 == 0 && i + 1 < args.len() {
                None
            } else if a.ty != ty && !(a.ty.is_string() && ty.is_string()) {
                Some(ty)
            } else {
                None
            }
        })
        .collect();
    Ok(Resolved { ty, multi, casts })
}

fn plan_case(p: PlanArgs) -> Result<Expr> {
    let ty = p.resolved.ty;
    let multi = p.resolved.multi;
    let mut args = p.args.into_iter();
    let n = p.types.len();
    let mut pairs = Vec::new();
    let mut otherwise = typed_null(ty, multi);
    let mut i = 0;
    while i < n {
        let a = args.next().expect("invariant: n args");
        if i + 1 < n {
            let a = if p.multi[i] { super::kernels::mv_single_condition_expr(a, p.sink) } else { a };
            let v = args.next().expect("invariant: n args");
            let v = if multi && !p.multi[i + 1] { super::kernels::to_list_expr(v, ty) } else { v };
            pairs.push((a, v));
            i += 2;
        } else {
            otherwise = if multi && !p.multi[i] { super::kernels::to_list_expr(a, ty) } else { a };
            i += 1;
        }
    }
    let mut it = pairs.into_iter();
    let (c0, v0) = it.next().expect("invariant: at least one condition");
    let mut b = when(c0, v0);
    for (c, v) in it {
        b = b.when(c, v);
    }
    b.otherwise(otherwise)
}

/// `COALESCE(a, b, ...)`: the first non-null argument.
pub static COALESCE: ScalarDef = ScalarDef {
    name: "coalesce",
    mv_args: true,
    resolve: |call, args| {
        super::expect_arity("coalesce", args, 1, usize::MAX)?;
        let refs: Vec<&ArgInfo> = args.iter().collect();
        let Some(ty) = common_type(&refs) else {
            let first = args[0].ty;
            let i = args.iter().position(|a| a.ty != first && a.ty != EsType::Null).unwrap_or(0);
            return Err(format!(
                "{} argument of [{call}] must be [{}], found value [{}] type [{}]",
                super::ordinal(i),
                first,
                args[i].text,
                args[i].ty
            ));
        };
        let multi = args.iter().any(|a| a.multi);
        let casts = args
            .iter()
            .map(|a| if a.ty != ty && !(a.ty.is_string() && ty.is_string()) { Some(ty) } else { None })
            .collect();
        Ok(Resolved { ty, multi, casts })
    },
    plan: |p| {
        let ty = p.resolved.ty;
        let args = if p.resolved.multi {
            p.args
                .into_iter()
                .zip(&p.multi)
                .map(|(a, m)| if *m { a } else { super::kernels::to_list_expr(a, ty) })
                .collect()
        } else {
            p.args
        };
        Ok(datafusion::functions::expr_fn::coalesce(args))
    },
};
