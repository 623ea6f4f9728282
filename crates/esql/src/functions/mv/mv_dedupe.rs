//! `MV_DEDUPE(field)`: the values without duplicates. Like Elastic, short lists keep the order
//! of first occurrence and long ones come out sorted (the switch depends on the value type);
//! booleans come out as `false, true`.

use super::{MvArray, expect_representable, is_null_type, no_text, null_result, pick, sort_keys};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::{ArrayRef, AsArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `MV_DEDUPE`.
pub static DEF: ScalarDef = ScalarDef { name: "mv_dedupe", mv_args: true, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("mv_dedupe", args, 1, 1)?;
    expect_representable(call, args, 0)?;
    Ok(Resolved { ty: no_text(args[0].ty), multi: args[0].multi, casts: Vec::new() })
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let ty = p.resolved.ty;
    let multi = p.resolved.multi;
    let kernel: Kernel = Arc::new(move |a: &[ArrayRef], ctx: &EvalCtx| {
        if is_null_type(&a[0]) {
            return Ok(null_result(ctx));
        }
        dedupe(&a[0], ty, multi)
    });
    Ok(udf::call("mv_dedupe", ty.arrow_column(multi), p.sink, p.args, kernel))
}

/// From how many values Elastic dedupes by sorting rather than by scanning, per value layout.
fn sort_threshold(dt: &DataType) -> usize {
    match dt {
        DataType::Int32 => 300,
        DataType::Float64 => 110,
        DataType::Utf8 | DataType::Binary | DataType::FixedSizeBinary(_) => 20,
        _ => 300,
    }
}

/// The kernel.
pub fn dedupe(a: &ArrayRef, ty: EsType, multi: bool) -> Result<ArrayRef> {
    let mv = MvArray::new(a);
    let keys = sort_keys(&mv.values)?;
    let threshold = sort_threshold(mv.values.data_type());
    let booleans = mv.values.as_boolean_opt();
    let rows: Vec<Vec<u32>> = (0..mv.len())
        .map(|r| {
            let idx = mv.indices(r);
            if idx.len() < 2 {
                return idx;
            }
            if let Some(b) = booleans {
                // false first, then true, each once.
                let f = idx.iter().copied().find(|&j| !b.value(j as usize));
                let t = idx.iter().copied().find(|&j| b.value(j as usize));
                return f.into_iter().chain(t).collect();
            }
            let key = |j: u32| keys.row(j as usize);
            if idx.len() < threshold {
                let mut out: Vec<u32> = Vec::with_capacity(idx.len());
                for j in idx {
                    if !out.iter().any(|&k| key(k) == key(j)) {
                        out.push(j);
                    }
                }
                out
            } else {
                let mut sorted = idx;
                sorted.sort_by(|&x, &y| key(x).cmp(&key(y)));
                sorted.dedup_by(|x, y| key(*x) == key(*y));
                sorted
            }
        })
        .collect();
    pick(&mv.values, &rows, ty, multi)
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::*;
    use datafusion::arrow::array::{Array, ListArray, ListBuilder, StringBuilder};
    use datafusion::arrow::datatypes::Int32Type;

    #[test]
    fn keeps_first_occurrences_in_order() {
        let mut b = ListBuilder::new(StringBuilder::new());
        for s in ["foo", "foo", "bar", "foo"] {
            b.values().append_value(s);
        }
        b.append(true);
        b.append(false);
        let a: ArrayRef = Arc::new(b.finish());
        let out = dedupe(&a, EsType::Keyword, true).unwrap();
        let l = out.as_list::<i32>();
        let first = l.value(0);
        assert_eq!(first.len(), 2);
        let s = first.as_string::<i32>();
        assert_eq!((s.value(0), s.value(1)), ("foo", "bar"));
        assert!(l.is_null(1));
    }

    #[test]
    fn long_lists_come_out_sorted() {
        let mut row: Vec<Option<i32>> = (0..400).rev().map(Some).collect();
        row.push(Some(5));
        let a = int_lists(vec![Some(row), Some(vec![Some(3), Some(1), Some(3)])]);
        let out = dedupe(&a, EsType::Integer, true).unwrap();
        let l: &ListArray = out.as_list::<i32>();
        let first = l.value(0);
        let v = first.as_primitive::<Int32Type>();
        assert_eq!(v.len(), 400);
        assert_eq!((v.value(0), v.value(399)), (0, 399));
        let second = l.value(1);
        let v: Vec<i32> = second.as_primitive::<Int32Type>().values().to_vec();
        assert_eq!(v, vec![3, 1]);
    }
}
