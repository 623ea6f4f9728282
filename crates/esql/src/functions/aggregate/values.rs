//! `VALUES(field)`: every distinct value of the group as a multi-value, in the order they were
//! first seen (Elastic's order; its documentation does not guarantee one).

use super::{AccFactory, EsAgg, Flat, constant, internal, multi_result, scalar_list};
use crate::functions::{AggDef, AggPlanArgs, ArgInfo, Resolved, expect_arity, type_error};
use crate::types::EsType;
use datafusion::arrow::array::ArrayRef;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{Accumulator, Expr};
use std::collections::HashSet;
use std::sync::Arc;

/// `VALUES`.
pub static DEF: AggDef = AggDef { name: "values", resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("values", args, 1, 1)?;
    let ty = args[0].ty;
    if matches!(ty, EsType::UnsignedLong | EsType::Unsupported | EsType::DatePeriod | EsType::TimeDuration) {
        return Err(type_error(call, args, 0, "any type except unsigned_long and spatial types"));
    }
    Ok(match ty {
        EsType::Null => Resolved::of(EsType::Null),
        EsType::Text => Resolved { ty: EsType::Keyword, multi: true, casts: Vec::new() },
        _ => Resolved { ty, multi: true, casts: Vec::new() },
    })
}

fn plan(p: AggPlanArgs) -> Result<Expr> {
    let ty = p.resolved.ty;
    if ty == EsType::Null {
        return constant("values", ScalarValue::Null, p.filter);
    }
    let factory: AccFactory = Arc::new(move || Box::new(Values::new(ty)));
    EsAgg::new("values", ty.arrow_column(true), vec![ty.arrow_column(true)], factory)
        .call(vec![p.args[0].clone()], p.filter)
}

/// Distinct values in first-seen order.
#[derive(Debug)]
pub(crate) struct Values {
    ty: EsType,
    order: Vec<ScalarValue>,
    seen: HashSet<ScalarValue>,
}

impl Values {
    pub(crate) fn new(ty: EsType) -> Values {
        Values { ty, order: Vec::new(), seen: HashSet::new() }
    }

    fn add(&mut self, a: &ArrayRef) -> Result<()> {
        let flat = Flat::new(a);
        for j in flat.all() {
            let v = ScalarValue::try_from_array(flat.values(), j)?;
            if !self.seen.contains(&v) {
                self.seen.insert(v.clone());
                self.order.push(v);
            }
        }
        Ok(())
    }
}

impl Accumulator for Values {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        match values.first() {
            Some(a) => self.add(a),
            None => Err(internal("values input")),
        }
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        multi_result(&self.order, self.ty)
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + 2 * self.order.iter().map(|v| v.size()).sum::<usize>()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![scalar_list(&self.order, &self.ty.arrow())])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        match states.first() {
            Some(a) => self.add(a),
            None => Err(internal("values state")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::int_lists;
    use super::*;

    #[test]
    fn first_seen_order_without_duplicates() {
        let mut v = Values::new(EsType::Integer);
        assert_eq!(v.evaluate().unwrap(), ScalarValue::try_from(&EsType::Integer.arrow_column(true)).unwrap());
        v.update_batch(&[int_lists(&[Some(&[3, 1]), None, Some(&[1, 2])])]).unwrap();
        let expected = scalar_list(
            &[ScalarValue::Int32(Some(3)), ScalarValue::Int32(Some(1)), ScalarValue::Int32(Some(2))],
            &EsType::Integer.arrow(),
        );
        assert_eq!(v.evaluate().unwrap(), expected);
    }

    #[test]
    fn text_values_are_keywords() {
        let a = ArgInfo { ty: EsType::Text, multi: false, literal: None, text: "x" };
        let r = resolve("values(x)", &[a]).unwrap();
        assert_eq!((r.ty, r.multi), (EsType::Keyword, true));
    }
}
