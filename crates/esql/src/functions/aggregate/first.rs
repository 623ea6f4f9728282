//! `FIRST(field, sortField)`: the value of `field` on the row with the smallest `sortField`
//! (a long, date or date_nanos); rows without a sort value come last. The row's value is taken
//! as it is: null, single- or multi-valued. A multi-valued sort field sorts by its smallest value.

use super::{AccFactory, EsAgg, Flat, bools, i64_values, internal, multi_result, scalar_list};
use crate::functions::{AggDef, AggPlanArgs, ArgInfo, Resolved, expect_arity, expect_type};
use crate::types::EsType;
use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{Accumulator, Expr};
use std::sync::Arc;

/// `FIRST`.
pub static DEF: AggDef = AggDef {
    name: "first",
    resolve: |call, args| resolve_occurrence("first", call, args),
    plan: |p| plan_occurrence(p, false),
};

const FIELD_TYPES: &[EsType] = &[
    EsType::Boolean,
    EsType::Date,
    EsType::DateNanos,
    EsType::Ip,
    EsType::Keyword,
    EsType::Text,
    EsType::Integer,
    EsType::Long,
    EsType::Double,
];

/// Type check of `FIRST` and `LAST`.
pub(crate) fn resolve_occurrence(name: &str, call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity(name, args, 2, 2)?;
    expect_type(
        call,
        args,
        0,
        FIELD_TYPES,
        "boolean, date, ip, string or numeric except unsigned_long or counter types",
    )?;
    expect_type(
        call,
        args,
        1,
        &[EsType::Integer, EsType::Long, EsType::Date, EsType::DateNanos],
        "long or date_nanos or datetime",
    )?;
    let ty = if args[0].ty == EsType::Text { EsType::Keyword } else { args[0].ty };
    Ok(Resolved { ty, multi: args[0].multi, casts: Vec::new() })
}

/// Plans `FIRST` (`last: false`) or `LAST` (`last: true`).
pub(crate) fn plan_occurrence(p: AggPlanArgs, last: bool) -> Result<Expr> {
    let ty = p.resolved.ty;
    let multi = p.resolved.multi;
    let factory: AccFactory = Arc::new(move || Box::new(Occurrence { last, ty, multi, best: None }));
    let name = if last { "last" } else { "first" };
    let state = vec![DataType::Int64, DataType::Boolean, ty.arrow_column(true)];
    EsAgg::new(name, ty.arrow_column(multi), state, factory).call(vec![p.args[0].clone(), p.args[1].clone()], p.filter)
}

/// The values of the earliest (or latest) row so far, with its sort key.
#[derive(Debug)]
pub(crate) struct Occurrence {
    last: bool,
    ty: EsType,
    multi: bool,
    best: Option<(Option<i64>, Vec<ScalarValue>)>,
}

impl Occurrence {
    fn better(&self, key: Option<i64>) -> bool {
        match (&self.best, key) {
            (None, _) => true,
            (Some((None, _)), Some(_)) => true,
            (Some((Some(cur), _)), Some(k)) => {
                if self.last {
                    k > *cur
                } else {
                    k < *cur
                }
            }
            (Some(_), None) => false,
        }
    }

    fn offer(&mut self, key: Option<i64>, values: &Flat, row: usize) -> Result<()> {
        if self.better(key) {
            let v =
                values.row(row).map(|j| ScalarValue::try_from_array(values.values(), j)).collect::<Result<Vec<_>>>()?;
            self.best = Some((key, v));
        }
        Ok(())
    }
}

impl Accumulator for Occurrence {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let (Some(field), Some(sort)) = (values.first(), values.get(1)) else { return Err(internal("first input")) };
        let (field, sort) = (Flat::new(field), Flat::new(sort));
        let keys = i64_values(sort.values())?;
        for i in 0..field.rows() {
            let row_keys = sort.row(i).map(|j| keys[j]);
            let key = if self.last { row_keys.max() } else { row_keys.min() };
            self.offer(key, &field, i)?;
        }
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let values = self.best.as_ref().map(|(_, v)| v.as_slice()).unwrap_or(&[]);
        if self.multi {
            return multi_result(values, self.ty);
        }
        match values.first() {
            Some(v) => Ok(v.clone()),
            None => ScalarValue::try_from(&self.ty.arrow()),
        }
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.best.as_ref().map_or(0, |(_, v)| v.iter().map(|x| x.size()).sum())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let (key, values) = match &self.best {
            Some((k, v)) => (*k, v.as_slice()),
            None => (None, &[][..]),
        };
        Ok(vec![
            ScalarValue::Int64(key),
            ScalarValue::Boolean(Some(self.best.is_some())),
            scalar_list(values, &self.ty.arrow()),
        ])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let (Some(keys), Some(has), Some(values)) = (states.first(), states.get(1), states.get(2)) else {
            return Err(internal("first state"));
        };
        let keys = keys.as_primitive_opt::<Int64Type>().ok_or_else(|| internal("first keys"))?;
        let has = bools(has)?;
        let values = Flat::new(values);
        for i in 0..keys.len() {
            if has.is_valid(i) && has.value(i) {
                let key = keys.is_valid(i).then(|| keys.value(i));
                self.offer(key, &values, i)?;
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

    fn run(last: bool) -> ScalarValue {
        let mut o = Occurrence { last, ty: EsType::Integer, multi: true, best: None };
        let field = int_lists(&[Some(&[1]), Some(&[2, 3]), None, Some(&[4])]);
        let sort: ArrayRef = Arc::new(Int64Array::from(vec![Some(5), Some(1), Some(9), None]));
        o.update_batch(&[field, sort]).unwrap();
        let st: Vec<ArrayRef> = o.state().unwrap().into_iter().map(|v| v.to_array().unwrap()).collect();
        let mut m = Occurrence { last, ty: EsType::Integer, multi: true, best: None };
        m.merge_batch(&st).unwrap();
        m.evaluate().unwrap()
    }

    #[test]
    fn earliest_and_latest_rows() {
        let two_three = scalar_list(&[ScalarValue::Int32(Some(2)), ScalarValue::Int32(Some(3))], &DataType::Int32);
        assert_eq!(run(false), two_three);
        assert_eq!(run(true), ScalarValue::try_from(&EsType::Integer.arrow_column(true)).unwrap());
    }

    #[test]
    fn sort_field_types() {
        let f = ArgInfo { ty: EsType::Keyword, multi: false, literal: None, text: "x" };
        let s = ArgInfo { ty: EsType::Keyword, multi: false, literal: None, text: "y" };
        assert_eq!(
            resolve_occurrence("first", "first(x, y)", &[f, s]).unwrap_err(),
            "second argument of [first(x, y)] must be [long or date_nanos or datetime], found value [y] type [keyword]"
        );
    }
}
