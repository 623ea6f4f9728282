//! `AVG(number)`: the mean of every value (each value of a multi-value counts), a double.
//! Elastic computes it as a compensated sum over a count, so long inputs cannot overflow;
//! `AVG(constant)` is `MV_AVG(constant)`.

use super::sum::{KahanGroups, KahanResult, NUMBERS, NUMBERS_DESCRIBED};
use super::{AccFactory, EsAgg, Flat, GroupsFactory, Kahan, const_arg, constant, f64_values, fold, internal};
use crate::functions::{AggDef, AggPlanArgs, ArgInfo, Resolved, expect_arity, expect_type};
use crate::types::EsType;
use crate::warnings::WarningSink;
use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{Accumulator, Expr};
use std::sync::Arc;

/// `AVG`.
pub static DEF: AggDef = AggDef { name: "avg", resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("avg", args, 1, 1)?;
    expect_type(call, args, 0, NUMBERS, NUMBERS_DESCRIBED)?;
    Ok(Resolved::of(EsType::Double))
}

fn plan(p: AggPlanArgs) -> Result<Expr> {
    let sink = p.sink.clone();
    if let Some(c) = const_arg(&p, 0)? {
        let v = fold(Box::new(Avg::new(sink)), &[c])?;
        return constant("avg", v, p.filter);
    }
    let s2 = sink.clone();
    let factory: AccFactory = Arc::new(move || Box::new(Avg::new(sink.clone())));
    let groups: GroupsFactory = Arc::new(move || Box::new(KahanGroups::new(KahanResult::Avg, s2.clone())));
    EsAgg::new("avg", DataType::Float64, vec![DataType::Float64, DataType::Float64, DataType::Int64], factory)
        .with_groups(groups)
        .call(vec![p.args[0].clone()], p.filter)
}

/// Java's rendering of a non-finite double in `not a finite double number: ...`.
pub(crate) fn non_finite_text(v: f64) -> &'static str {
    if v.is_nan() {
        "NaN"
    } else if v > 0.0 {
        "Infinity"
    } else {
        "-Infinity"
    }
}

/// A double result: null with Elastic's warning when it is not finite.
pub(crate) fn finite(v: f64, sink: &WarningSink) -> ScalarValue {
    if v.is_finite() {
        ScalarValue::Float64(Some(v))
    } else {
        sink.null_because(&format!(
            "java.lang.ArithmeticException: not a finite double number: {}",
            non_finite_text(v)
        ));
        ScalarValue::Float64(None)
    }
}

/// Compensated sum and count.
#[derive(Debug)]
pub(crate) struct Avg {
    sum: Kahan,
    count: i64,
    sink: WarningSink,
}

impl Avg {
    pub(crate) fn new(sink: WarningSink) -> Avg {
        Avg { sum: Kahan::default(), count: 0, sink }
    }
}

impl Accumulator for Avg {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let Some(a) = values.first() else { return Ok(()) };
        let flat = Flat::new(a);
        let v = f64_values(flat.values())?;
        for j in flat.all() {
            self.sum.add(v[j]);
            self.count += 1;
        }
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        if self.count == 0 {
            return Ok(ScalarValue::Float64(None));
        }
        Ok(finite(self.sum.value / self.count as f64, &self.sink))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self)
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![
            ScalarValue::Float64(Some(self.sum.value)),
            ScalarValue::Float64(Some(self.sum.delta)),
            ScalarValue::Int64(Some(self.count)),
        ])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let (Some(v), Some(d), Some(c)) = (states.first(), states.get(1), states.get(2)) else {
            return Err(internal("avg state"));
        };
        let (v, d, c) =
            (v.as_primitive::<Float64Type>(), d.as_primitive::<Float64Type>(), c.as_primitive::<Int64Type>());
        for i in 0..v.len() {
            if c.is_valid(i) && c.value(i) > 0 {
                self.sum.add_with_delta(v.value(i), d.value(i));
                self.count += c.value(i);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::int_lists;
    use super::*;
    use datafusion::arrow::array::Int64Array;

    #[test]
    fn mean_of_every_value() {
        let mut a = Avg::new(WarningSink::discard());
        assert_eq!(a.evaluate().unwrap(), ScalarValue::Float64(None));
        a.update_batch(&[int_lists(&[Some(&[-1, 0, 3]), None])]).unwrap();
        assert_eq!(a.evaluate().unwrap(), ScalarValue::Float64(Some(2.0 / 3.0)));
    }

    #[test]
    fn huge_longs_do_not_overflow() {
        let mut a = Avg::new(WarningSink::discard());
        a.update_batch(&[Arc::new(Int64Array::from(vec![i64::MAX, i64::MAX])) as ArrayRef]).unwrap();
        assert_eq!(a.evaluate().unwrap(), ScalarValue::Float64(Some(9.223372036854776E18)));
    }
}
