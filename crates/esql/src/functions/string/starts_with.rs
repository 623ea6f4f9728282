//! `STARTS_WITH(s, prefix)`: whether the string starts with the prefix (null when either is null).

use super::util::{expect_string, test_pair};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `STARTS_WITH`.
pub static DEF: ScalarDef = ScalarDef { name: "starts_with", mv_args: false, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("starts_with", args, 2, 2)?;
    expect_string(call, args, 0, true)?;
    expect_string(call, args, 1, true)?;
    Ok(Resolved::of(EsType::Boolean))
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let kernel: Kernel = Arc::new(|a: &[ArrayRef], _ctx: &EvalCtx| test_pair(&a[0], &a[1], |s, x| s.starts_with(x)));
    Ok(udf::call("starts_with", DataType::Boolean, p.sink, p.args, kernel))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::string::test_util::{arg, bool_rows, keyword_arg, str_col};

    #[test]
    fn tests_pairs() {
        let out = test_pair(
            &str_col(&[Some("Saniya"), Some("Saniya"), Some(""), None, Some("x")]),
            &str_col(&[Some("S"), Some("ya"), Some(""), Some("S"), None]),
            |s, x| s.starts_with(x),
        )
        .unwrap();
        let rows = bool_rows(&out);
        assert_eq!(rows[2], Some(true));
        assert_eq!(rows[3], None);
        assert_eq!(rows[4], None);
    }

    #[test]
    fn resolve_checks() {
        assert_eq!(
            resolve("starts_with(s, 1)", &[keyword_arg("s"), arg("1", EsType::Integer)]).unwrap_err(),
            "second argument of [starts_with(s, 1)] must be [string], found value [1] type [integer]"
        );
    }
}

#[cfg(test)]
mod more_tests {
    use super::*;
    use crate::functions::string::test_util::{bool_rows, str_col};

    #[test]
    fn prefixes() {
        let out = test_pair(&str_col(&[Some("Saniya"), Some("Saniya")]), &str_col(&[Some("S"), Some("ya")]), |s, x| {
            s.starts_with(x)
        })
        .unwrap();
        assert_eq!(bool_rows(&out), vec![Some(true), Some(false)]);
    }
}
