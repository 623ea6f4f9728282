//! `LOG([base,] number)`: the logarithm of the number to the base, or the natural logarithm
//! without a base; always a double. Zero and negative numbers or bases, and base 1, give null
//! with a warning.

use super::{Pos, arith, arity, numeric_param};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef};
use crate::types::EsType;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;

/// `LOG`.
pub static DEF: ScalarDef = ScalarDef { name: "log", mv_args: false, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> std::result::Result<Resolved, String> {
    arity("log", args, 1, 2)?;
    // Elastic names the positions even when there is only the number.
    let mut casts = Vec::with_capacity(args.len());
    for i in 0..args.len() {
        casts.push(numeric_param(call, args, i, Pos::Nth(i))?);
    }
    Ok(Resolved { ty: EsType::Double, multi: false, casts })
}

fn plan(p: PlanArgs) -> Result<Expr> {
    if p.args.len() == 1 { super::plan_unary_double("log", p, ln) } else { super::plan_binary_double("log", p, log) }
}

fn ln(x: f64) -> std::result::Result<f64, String> {
    if x <= 0.0 {
        return Err(arith("Log of non-positive number"));
    }
    Ok(libm::log(x))
}

fn log(base: f64, x: f64) -> std::result::Result<f64, String> {
    if base <= 0.0 || x <= 0.0 {
        return Err(arith("Log of non-positive number"));
    }
    if base == 1.0 {
        return Err(arith("Log of base 1"));
    }
    Ok(libm::log10(x) / libm::log10(base))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural() {
        assert_eq!(ln(100.0), Ok(4.605170185988092));
        assert_eq!(ln(1e12), Ok(27.631021115928547));
        assert_eq!(ln(0.0), Err(arith("Log of non-positive number")));
    }

    #[test]
    fn with_base() {
        assert_eq!(log(2.0, 8.0), Ok(3.0));
        assert_eq!(log(5.0, 56371.0), Ok(6.797224072039991));
        assert_eq!(log(1e12, 10.0), Ok(0.08333333333333333));
        assert_eq!(log(10.0, 1e18), Ok(18.0));
        assert_eq!(log(1.0, 2.0), Err(arith("Log of base 1")));
        assert_eq!(log(-2.0, 2.0), Err(arith("Log of non-positive number")));
        assert_eq!(log(1.0, -2.0), Err(arith("Log of non-positive number")));
    }

    #[test]
    fn positions_are_named() {
        let k = ArgInfo { ty: EsType::Keyword, multi: false, literal: None, text: "k" };
        assert_eq!(
            resolve("log(k)", std::slice::from_ref(&k)).unwrap_err(),
            "first argument of [log(k)] must be [numeric], found value [k] type [keyword]"
        );
        let i = ArgInfo { ty: EsType::Integer, multi: false, literal: None, text: "2" };
        assert_eq!(
            resolve("log(2, k)", &[i, k]).unwrap_err(),
            "second argument of [log(2, k)] must be [numeric], found value [k] type [keyword]"
        );
    }
}
