//! `MV_CONTAINS(superset, subset)`: whether every value of `subset` is among the values of
//! `superset`. Never null: a null subset is contained in anything, a null superset contains only
//! a null subset. (Like Elastic, empty strings in the subset count as null.)

use super::mv_append::resolve_pair;
use super::{MvArray, is_null_type, sort_keys2};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity, kernels};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::{ArrayRef, AsArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;
use std::collections::HashSet;
use std::sync::Arc;

/// `MV_CONTAINS`.
pub static DEF: ScalarDef = ScalarDef { name: "mv_contains", mv_args: true, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("mv_contains", args, 2, 2)?;
    resolve_pair(call, args)?;
    Ok(Resolved::of(EsType::Boolean))
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let kernel: Kernel = Arc::new(|a: &[ArrayRef], _ctx: &EvalCtx| contains(&a[0], &a[1]));
    Ok(udf::call("mv_contains", DataType::Boolean, p.sink, p.args, kernel))
}

/// Whether position `j` of `values` holds an empty string or binary (Elastic reads it as null).
fn is_empty_bytes(values: &ArrayRef, j: usize) -> bool {
    if let Some(s) = values.as_string_opt::<i32>() {
        return s.value(j).is_empty();
    }
    if let Some(b) = values.as_binary_opt::<i32>() {
        return b.value(j).is_empty();
    }
    false
}

/// The kernel.
pub fn contains(superset: &ArrayRef, subset: &ArrayRef) -> Result<ArrayRef> {
    let (sup, sub) = (MvArray::new(superset), MvArray::new(subset));
    if is_null_type(subset) {
        return Ok(kernels::bool_array(vec![Some(true); sub.len()]));
    }
    if is_null_type(superset) {
        return Ok(kernels::bool_array((0..sub.len()).map(|r| Some(sub.count(r) == 0)).collect()));
    }
    let (ksup, ksub) = sort_keys2(&sup.values, &sub.values)?;
    let out = (0..sub.len())
        .map(|r| {
            let set: HashSet<&[u8]> = sup.positions(r).map(|j| ksup.row(j).data()).collect();
            Some(sub.positions(r).all(|j| is_empty_bytes(&sub.values, j) || set.contains(ksub.row(j).data())))
        })
        .collect();
    Ok(kernels::bool_array(out))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::*;
    use datafusion::arrow::array::{ListBuilder, StringArray, StringBuilder};

    #[test]
    fn subset_checks() {
        let sup = int_lists(vec![
            Some(vec![Some(1), Some(2), Some(3)]),
            Some(vec![Some(1)]),
            None,
            None,
            Some(vec![Some(1)]),
        ]);
        let sub = int_lists(vec![
            Some(vec![Some(3), Some(1)]),
            Some(vec![Some(1), Some(2)]),
            Some(vec![Some(1)]),
            None,
            None,
        ]);
        let out = contains(&sup, &sub).unwrap();
        let v: Vec<Option<bool>> = out.as_boolean().iter().collect();
        assert_eq!(v, vec![Some(true), Some(false), Some(false), Some(true), Some(true)]);
    }

    #[test]
    fn strings_and_empty_strings() {
        let mut b = ListBuilder::new(StringBuilder::new());
        for s in ["a", "b", "c"] {
            b.values().append_value(s);
        }
        b.append(true);
        b.values().append_value("a");
        b.append(true);
        let sup: ArrayRef = Arc::new(b.finish());
        let sub: ArrayRef = Arc::new(StringArray::from(vec!["a", ""]));
        let out = contains(&sup, &sub).unwrap();
        let v: Vec<Option<bool>> = out.as_boolean().iter().collect();
        assert_eq!(v, vec![Some(true), Some(true)]);
    }

    #[test]
    fn null_arguments() {
        let n = kernels::nulls(&DataType::Null, 2);
        let a = ints(vec![Some(1), None]);
        let v: Vec<Option<bool>> = contains(&n, &a).unwrap().as_boolean().iter().collect();
        assert_eq!(v, vec![Some(false), Some(true)]);
        let v: Vec<Option<bool>> = contains(&a, &n).unwrap().as_boolean().iter().collect();
        assert_eq!(v, vec![Some(true), Some(true)]);
    }

    #[test]
    fn resolves() {
        let e = check(&DEF, "mv_contains(a, b)", &[(EsType::Keyword, true, "a"), (EsType::Integer, false, "b")])
            .unwrap_err();
        assert_eq!(e, "second argument of [mv_contains(a, b)] must be [keyword], found value [b] type [integer]");
        assert_eq!(
            check(&DEF, "mv_contains(a, b)", &[(EsType::Text, true, "a"), (EsType::Keyword, false, "b")]).unwrap().ty,
            EsType::Boolean
        );
    }
}
