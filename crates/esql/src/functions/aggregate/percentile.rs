//! `PERCENTILE(number, percentile)`: the value below which `percentile` percent of the values
//! fall. Elastic uses a t-digest that keeps every sample up to 20000 values per group and then
//! interpolates linearly between the two closest ranks (`rank = p / 100 * (n - 1)`); this is that
//! exact computation (for any number of values). A percentile outside `[0, 100]` gives null.

use super::sum::NUMBERS;
use super::{
    AccFactory, EsAgg, Flat, const_arg, constant, extend_f64s, f64_list, f64_values, fold, internal, scalar_f64,
};
use crate::functions::{AggDef, AggPlanArgs, ArgInfo, Resolved, expect_arity, expect_type};
use crate::types::EsType;
use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::{Accumulator, Expr};
use std::sync::Arc;

/// `PERCENTILE`.
pub static DEF: AggDef = AggDef { name: "percentile", resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("percentile", args, 2, 2)?;
    expect_type(call, args, 0, NUMBERS, "numeric except unsigned_long")?;
    expect_type(call, args, 1, NUMBERS, "numeric except unsigned_long")?;
    Ok(Resolved::of(EsType::Double))
}

fn plan(p: AggPlanArgs) -> Result<Expr> {
    let Some(pct) = const_arg(&p, 1)? else {
        return Err(DataFusionError::Plan(format!(
            "second argument of [{}] must be a constant, received [{}]",
            p.sink.key().1,
            p.args[1]
        )));
    };
    let pct = scalar_f64(&pct).filter(|v| (0.0..=100.0).contains(v));
    plan_stat(&p, Stat::Percentile(pct))
}

/// Plans a quantile statistic of argument 0.
pub(crate) fn plan_stat(p: &AggPlanArgs, stat: Stat) -> Result<Expr> {
    let name = match stat {
        Stat::Percentile(_) => "percentile",
        Stat::Mad => "median_absolute_deviation",
    };
    if let Some(c) = const_arg(p, 0)? {
        let v = fold(Box::new(Quantile::new(stat)), &[c])?;
        return constant(name, v, p.filter.clone());
    }
    let factory: AccFactory = Arc::new(move || Box::new(Quantile::new(stat)));
    let list = DataType::List(Arc::new(datafusion::arrow::datatypes::Field::new("item", DataType::Float64, true)));
    EsAgg::new(name, DataType::Float64, vec![list], factory).call(vec![p.args[0].clone()], p.filter.clone())
}

/// Which statistic of the values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Stat {
    /// A percentile in `[0, 100]` (`None`: out of range, the result is null).
    Percentile(Option<f64>),
    /// The median absolute deviation.
    Mad,
}

/// The value at quantile `q` (in `[0, 1]`) of sorted values: linear interpolation between the
/// ranks around `q * (n - 1)`, as Elastic's exact t-digest computes it.
pub(crate) fn quantile(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let index = q * (n - 1) as f64;
    let mut low = index.floor() as usize;
    let mut high = low + 1;
    let mut weight = index - low as f64;
    if index <= 0.0 {
        (low, high, weight) = (0, 0, 0.0);
    }
    if index >= (n - 1) as f64 {
        (low, high, weight) = (n - 1, n - 1, 0.0);
    }
    let (lo, hi) = (sorted[low.min(n - 1)], sorted[high.min(n - 1)]);
    lo + weight * (hi - lo)
}

/// The median absolute deviation of sorted values: the median of the distances to the median.
pub(crate) fn median_absolute_deviation(sorted: &[f64]) -> f64 {
    let median = quantile(sorted, 0.5);
    let mut dev: Vec<f64> = sorted.iter().map(|v| (median - v).abs()).collect();
    dev.sort_by(f64::total_cmp);
    quantile(&dev, 0.5)
}

/// Collects every value as a double.
#[derive(Debug)]
pub(crate) struct Quantile {
    stat: Stat,
    values: Vec<f64>,
}

impl Quantile {
    pub(crate) fn new(stat: Stat) -> Quantile {
        Quantile { stat, values: Vec::new() }
    }
}

impl Accumulator for Quantile {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let Some(a) = values.first() else { return Err(internal("quantile input")) };
        let flat = Flat::new(a);
        let v = f64_values(flat.values())?;
        self.values.extend(flat.all().map(|j| v[j]));
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        if self.values.is_empty() {
            return Ok(ScalarValue::Float64(None));
        }
        self.values.sort_by(f64::total_cmp);
        Ok(ScalarValue::Float64(match self.stat {
            Stat::Percentile(None) => None,
            Stat::Percentile(Some(p)) => Some(quantile(&self.values, p / 100.0)),
            Stat::Mad => Some(median_absolute_deviation(&self.values)),
        }))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.values.capacity() * 8
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![f64_list(&self.values)])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        match states.first() {
            Some(s) => extend_f64s(s, &mut self.values),
            None => Err(internal("quantile state")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::int_lists;
    use super::*;

    #[test]
    fn interpolates_between_ranks() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert_eq!(quantile(&v, 1.0), 100.0);
        assert_eq!(quantile(&v, 0.5), 50.5);
        assert!((quantile(&v, 0.99) - 99.01).abs() < 1e-9);
        assert_eq!(quantile(&[7.0], 0.3), 7.0);
    }

    #[test]
    fn median_absolute_deviation_of_values() {
        assert_eq!(median_absolute_deviation(&[1.0, 3.0, 4.0, 7.0, 11.0, 18.0]), 3.5);
        assert_eq!(median_absolute_deviation(&[3.0, 11.0, 14.0, 25.0]), 5.5);
    }

    #[test]
    fn accumulates_multi_values() {
        let mut q = Quantile::new(Stat::Percentile(Some(50.0)));
        assert_eq!(q.evaluate().unwrap(), ScalarValue::Float64(None));
        q.update_batch(&[int_lists(&[Some(&[-1, 0]), None, Some(&[1, 3])])]).unwrap();
        assert_eq!(q.evaluate().unwrap(), ScalarValue::Float64(Some(0.5)));
        let mut out = Quantile::new(Stat::Percentile(None));
        out.update_batch(&[int_lists(&[Some(&[1])])]).unwrap();
        assert_eq!(out.evaluate().unwrap(), ScalarValue::Float64(None));
    }
}
