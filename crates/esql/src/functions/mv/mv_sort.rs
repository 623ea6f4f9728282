//! `MV_SORT(field[, order])`: the values sorted, ascending unless `order` is the constant
//! `"DESC"` (byte-wise for strings, ips and versions; false before true).

use super::{MvArray, expect_representable, is_null_type, mismatch, no_text, null_result, pick, sort_keys};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity};
use crate::ir::Literal;
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::ArrayRef;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `MV_SORT`.
pub static DEF: ScalarDef = ScalarDef { name: "mv_sort", mv_args: true, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("mv_sort", args, 1, 2)?;
    expect_representable(call, args, 0)?;
    if let Some(order) = args.get(1) {
        if order.ty != EsType::Null && !order.ty.is_string() {
            return Err(mismatch(call, order, 1, "string"));
        }
        match order.literal {
            None => return Err(format!("second argument of [{call}] must be a constant, received [{}]", order.text)),
            Some(l) => {
                if descending(l).is_none() {
                    let got = match l {
                        Literal::String(s) => s.clone(),
                        _ => "null".to_string(),
                    };
                    return Err(format!(
                        "Invalid order value in [{call}], expected one of [ASC, DESC] but got [{got}]"
                    ));
                }
            }
        }
    }
    Ok(Resolved { ty: no_text(args[0].ty), multi: args[0].multi, casts: Vec::new() })
}

/// Whether an order constant asks for descending order (`None`: not a valid order).
fn descending(l: &Literal) -> Option<bool> {
    match l {
        Literal::String(s) if s.eq_ignore_ascii_case("desc") => Some(true),
        Literal::String(s) if s.eq_ignore_ascii_case("asc") => Some(false),
        _ => None,
    }
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let ty = p.resolved.ty;
    let multi = p.resolved.multi;
    let desc = p.literals.get(1).copied().flatten().and_then(descending).unwrap_or(false);
    // The order is a constant: the kernel only needs the field.
    let field = p
        .args
        .into_iter()
        .next()
        .ok_or_else(|| datafusion::common::DataFusionError::Internal("mv_sort without arguments".into()))?;
    let kernel: Kernel = Arc::new(move |a: &[ArrayRef], ctx: &EvalCtx| {
        if is_null_type(&a[0]) {
            return Ok(null_result(ctx));
        }
        sort(&a[0], desc, ty, multi)
    });
    Ok(udf::call("mv_sort", ty.arrow_column(multi), p.sink, vec![field], kernel))
}

/// The kernel.
pub fn sort(a: &ArrayRef, desc: bool, ty: EsType, multi: bool) -> Result<ArrayRef> {
    let mv = MvArray::new(a);
    let keys = sort_keys(&mv.values)?;
    let rows: Vec<Vec<u32>> = (0..mv.len())
        .map(|r| {
            let mut idx = mv.indices(r);
            if idx.len() > 1 {
                idx.sort_by(|&x, &y| keys.row(x as usize).cmp(&keys.row(y as usize)));
                if desc {
                    idx.reverse();
                }
            }
            idx
        })
        .collect();
    pick(&mv.values, &rows, ty, multi)
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::*;
    use datafusion::arrow::array::{Array, AsArray, BooleanArray, ListArray};
    use datafusion::arrow::buffer::OffsetBuffer;
    use datafusion::arrow::datatypes::{Field, Int32Type};

    fn lists(out: &ArrayRef) -> Vec<Option<Vec<Option<i32>>>> {
        let l: &ListArray = out.as_list::<i32>();
        (0..l.len()).map(|i| l.is_valid(i).then(|| l.value(i).as_primitive::<Int32Type>().iter().collect())).collect()
    }

    #[test]
    fn sorts_both_ways() {
        let a = int_lists(vec![Some(vec![Some(4), Some(2), Some(-3), Some(2)]), None]);
        assert_eq!(
            lists(&sort(&a, false, EsType::Integer, true).unwrap()),
            vec![Some(vec![Some(-3), Some(2), Some(2), Some(4)]), None]
        );
        assert_eq!(
            lists(&sort(&a, true, EsType::Integer, true).unwrap()),
            vec![Some(vec![Some(4), Some(2), Some(2), Some(-3)]), None]
        );
    }

    #[test]
    fn sorts_booleans() {
        let values = BooleanArray::from(vec![true, false, true, false]);
        let l: ArrayRef = Arc::new(ListArray::new(
            Arc::new(Field::new("item", datafusion::arrow::datatypes::DataType::Boolean, true)),
            OffsetBuffer::from_lengths([4]),
            Arc::new(values),
            None,
        ));
        let out = sort(&l, true, EsType::Boolean, true).unwrap();
        let v = out.as_list::<i32>().value(0);
        let v: Vec<Option<bool>> = v.as_boolean().iter().collect();
        assert_eq!(v, vec![Some(true), Some(true), Some(false), Some(false)]);
    }

    #[test]
    fn order_must_be_a_valid_constant() {
        let args = [(EsType::Integer, true, "a"), (EsType::Keyword, false, "\"x\"")];
        let e = check_lit(&DEF, "mv_sort(a, \"x\")", &args, &[(1, Literal::String("x".into()))]).unwrap_err();
        assert_eq!(e, "Invalid order value in [mv_sort(a, \"x\")], expected one of [ASC, DESC] but got [x]");
        let e =
            check(&DEF, "mv_sort(a, o)", &[(EsType::Integer, true, "a"), (EsType::Keyword, false, "o")]).unwrap_err();
        assert_eq!(e, "second argument of [mv_sort(a, o)] must be a constant, received [o]");
        let args = [(EsType::Text, true, "a"), (EsType::Keyword, false, "\"desc\"")];
        let r = check_lit(&DEF, "mv_sort(a, \"desc\")", &args, &[(1, Literal::String("desc".into()))]).unwrap();
        assert_eq!((r.ty, r.multi), (EsType::Keyword, true));
    }
}
