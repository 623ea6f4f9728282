//! `STD_DEV(number)`: the population standard deviation of every value (Welford's algorithm, as
//! Elastic), 0 for a single value, null without values.

use super::sum::{NUMBERS, NUMBERS_DESCRIBED};
use super::{AccFactory, EsAgg, Welford, internal};
use crate::functions::{AggDef, AggPlanArgs, ArgInfo, Resolved, expect_arity, expect_type};
use crate::types::EsType;
use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{Accumulator, Expr};
use std::sync::Arc;

/// `STD_DEV`.
pub static DEF: AggDef = AggDef {
    name: "std_dev",
    resolve: |call, args| resolve_spread("std_dev", call, args),
    plan: |p| plan_spread(p, true),
};

/// Type check of `STD_DEV` and `VARIANCE`.
pub(crate) fn resolve_spread(name: &str, call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity(name, args, 1, 1)?;
    expect_type(call, args, 0, NUMBERS, NUMBERS_DESCRIBED)?;
    Ok(Resolved::of(EsType::Double))
}

/// Plans `STD_DEV` (`std_dev: true`) or `VARIANCE`.
pub(crate) fn plan_spread(p: AggPlanArgs, std_dev: bool) -> Result<Expr> {
    let factory: AccFactory = Arc::new(move || Box::new(Spread { w: Welford::default(), std_dev }));
    let name = if std_dev { "std_dev" } else { "variance" };
    EsAgg::new(name, DataType::Float64, Welford::state_types(), factory).call(vec![p.args[0].clone()], p.filter)
}

/// Population variance or standard deviation.
#[derive(Debug)]
pub(crate) struct Spread {
    w: Welford,
    std_dev: bool,
}

impl Accumulator for Spread {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        match values.first() {
            Some(a) => self.w.update(a),
            None => Err(internal("std_dev input")),
        }
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Float64(self.w.variance().map(|v| if self.std_dev { v.sqrt() } else { v })))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self)
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(self.w.state())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.w.merge_batch(states)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::int_lists;
    use super::*;

    #[test]
    fn population_std_dev_of_multi_values() {
        let mut s = Spread { w: Welford::default(), std_dev: true };
        assert_eq!(s.evaluate().unwrap(), ScalarValue::Float64(None));
        s.update_batch(&[int_lists(&[Some(&[1, 2, 3])])]).unwrap();
        let ScalarValue::Float64(Some(v)) = s.evaluate().unwrap() else { panic!("no value") };
        assert!((v - 0.816496580927726).abs() < 1e-12);
        let st: Vec<ArrayRef> = s.state().unwrap().into_iter().map(|v| v.to_array().unwrap()).collect();
        let mut t = Spread { w: Welford::default(), std_dev: false };
        t.merge_batch(&st).unwrap();
        let ScalarValue::Float64(Some(v)) = t.evaluate().unwrap() else { panic!("no value") };
        assert!((v - 2.0 / 3.0).abs() < 1e-12);
    }
}
