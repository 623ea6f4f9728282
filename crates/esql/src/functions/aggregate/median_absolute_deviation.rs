//! `MEDIAN_ABSOLUTE_DEVIATION(number)`: the median of the absolute distances of the values to
//! their median (computed exactly, as Elastic's t-digest does below 20000 values).

use super::percentile::{Stat, plan_stat};
use super::sum::{NUMBERS, NUMBERS_DESCRIBED};
use crate::functions::{AggDef, ArgInfo, Resolved, expect_arity, expect_type};
use crate::types::EsType;

/// `MEDIAN_ABSOLUTE_DEVIATION`.
pub static DEF: AggDef = AggDef { name: "median_absolute_deviation", resolve, plan: |p| plan_stat(&p, Stat::Mad) };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("median_absolute_deviation", args, 1, 1)?;
    expect_type(call, args, 0, NUMBERS, NUMBERS_DESCRIBED)?;
    Ok(Resolved::of(EsType::Double))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_to_double() {
        let a = ArgInfo { ty: EsType::Integer, multi: true, literal: None, text: "k" };
        assert_eq!(resolve("median_absolute_deviation(k)", &[a]).unwrap().ty, EsType::Double);
    }
}
