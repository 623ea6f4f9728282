//! Date and time functions: `NOW`.

use super::{PlanArgs, Resolved, ScalarDef};
use crate::types::EsType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{Expr, lit};

/// The date functions.
pub static ALL: &[&ScalarDef] = &[&NOW];

/// `NOW()`: the query's start time (fixed for the whole query, as in Elastic).
pub static NOW: ScalarDef = ScalarDef {
    name: "now",
    mv_args: false,
    resolve: |_call, args| {
        super::expect_arity("now", args, 0, 0)?;
        Ok(Resolved::of(EsType::Date))
    },
    plan: |p: PlanArgs| -> Result<Expr> { Ok(lit(ScalarValue::TimestampMillisecond(Some(p.now_ms), None))) },
};
