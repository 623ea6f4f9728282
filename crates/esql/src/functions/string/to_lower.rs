//! `TO_LOWER(str)`: the string in lower case (Unicode-aware, locale-independent).

use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity, expect_type, kernels, sets};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::ArrayRef;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `TO_LOWER`.
pub static DEF: ScalarDef = ScalarDef { name: "to_lower", mv_args: false, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("to_lower", args, 1, 1)?;
    expect_type(call, args, 0, sets::STRING, "keyword or text")?;
    let ty = if args[0].ty == EsType::Text { EsType::Text } else { EsType::Keyword };
    Ok(Resolved::of(ty))
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let kernel: Kernel = Arc::new(|a: &[ArrayRef], _ctx: &EvalCtx| kernels::map_str(&a[0], |s| Some(s.to_lowercase())));
    Ok(udf::call("to_lower", p.resolved.ty.arrow(), p.sink, p.args, kernel))
}
