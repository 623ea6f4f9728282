//! `MEDIAN(number)`: `PERCENTILE(number, 50)`.

use super::percentile::{Stat, plan_stat};
use super::sum::{NUMBERS, NUMBERS_DESCRIBED};
use crate::functions::{AggDef, ArgInfo, Resolved, expect_arity, expect_type};
use crate::types::EsType;

/// `MEDIAN`.
pub static DEF: AggDef = AggDef { name: "median", resolve, plan: |p| plan_stat(&p, Stat::Percentile(Some(50.0))) };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("median", args, 1, 1)?;
    expect_type(call, args, 0, NUMBERS, NUMBERS_DESCRIBED)?;
    Ok(Resolved::of(EsType::Double))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_only() {
        let a = ArgInfo { ty: EsType::Keyword, multi: false, literal: None, text: "k" };
        assert!(resolve("median(k)", &[a]).is_err());
        let a = ArgInfo { ty: EsType::Long, multi: false, literal: None, text: "k" };
        assert_eq!(resolve("median(k)", &[a]).unwrap().ty, EsType::Double);
    }
}
