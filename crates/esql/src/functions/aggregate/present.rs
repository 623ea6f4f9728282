//! `PRESENT(field)`: true when the group holds at least one non-null value of `field`.

use super::{AccFactory, EsAgg, Flat, bools};
use crate::functions::{AggDef, AggPlanArgs, ArgInfo, Resolved, expect_arity};
use crate::types::EsType;
use datafusion::arrow::array::{Array, ArrayRef};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{Accumulator, Expr};
use std::sync::Arc;

/// `PRESENT`.
pub static DEF: AggDef = AggDef { name: "present", resolve, plan: |p| plan_presence(p, false) };

fn resolve(_call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("present", args, 1, 1)?;
    Ok(Resolved::of(EsType::Boolean))
}

/// Plans `PRESENT` (`absent: false`) or `ABSENT` (`absent: true`).
pub(crate) fn plan_presence(p: AggPlanArgs, absent: bool) -> Result<Expr> {
    let factory: AccFactory = Arc::new(move || Box::new(Presence { seen: false, absent }));
    let name = if absent { "absent" } else { "present" };
    EsAgg::new(name, DataType::Boolean, vec![DataType::Boolean], factory).call(p.args, p.filter)
}

/// Whether any value was seen.
#[derive(Debug)]
pub(crate) struct Presence {
    seen: bool,
    absent: bool,
}

impl Accumulator for Presence {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        if !self.seen
            && let Some(a) = values.first()
        {
            self.seen = Flat::new(a).all().next().is_some();
        }
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Boolean(Some(self.seen != self.absent)))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self)
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::Boolean(Some(self.seen))])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        if let Some(s) = states.first() {
            let s = bools(s)?;
            self.seen |= (0..s.len()).any(|i| s.is_valid(i) && s.value(i));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::int_lists;
    use super::*;

    #[test]
    fn present_and_absent() {
        let mut p = Presence { seen: false, absent: false };
        assert_eq!(p.evaluate().unwrap(), ScalarValue::Boolean(Some(false)));
        p.update_batch(&[int_lists(&[None, Some(&[])])]).unwrap();
        assert_eq!(p.evaluate().unwrap(), ScalarValue::Boolean(Some(false)));
        p.update_batch(&[int_lists(&[Some(&[1])])]).unwrap();
        assert_eq!(p.evaluate().unwrap(), ScalarValue::Boolean(Some(true)));
        let mut a = Presence { seen: false, absent: true };
        assert_eq!(a.evaluate().unwrap(), ScalarValue::Boolean(Some(true)));
    }
}
