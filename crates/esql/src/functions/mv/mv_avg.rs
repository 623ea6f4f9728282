//! `MV_AVG(number)`: the average of the values, as a double (Kahan-summed like Elastic).

use super::mv_sum::resolve_numeric;
use super::{CompensatedSum, MvArray, f64_values, is_null_type, null_result};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, kernels};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `MV_AVG`.
pub static DEF: ScalarDef = ScalarDef { name: "mv_avg", mv_args: true, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    resolve_numeric("mv_avg", call, args)?;
    Ok(Resolved::of(EsType::Double))
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let ty = p.types[0];
    let kernel: Kernel = Arc::new(move |a: &[ArrayRef], ctx: &EvalCtx| {
        if is_null_type(&a[0]) {
            return Ok(null_result(ctx));
        }
        avg(&a[0], ty)
    });
    Ok(udf::call("mv_avg", DataType::Float64, p.sink, p.args, kernel))
}

/// The kernel.
pub fn avg(a: &ArrayRef, ty: EsType) -> Result<ArrayRef> {
    let mv = MvArray::new(a);
    let values = f64_values(&mv, ty)?;
    let out = (0..mv.len())
        .map(|r| {
            let mut s = CompensatedSum::default();
            let mut n = 0usize;
            for j in mv.positions(r) {
                s.add(values[j]);
                n += 1;
            }
            (n > 0).then(|| s.value() / n as f64)
        })
        .collect();
    Ok(kernels::f64_array(out))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::*;
    use datafusion::arrow::array::{Array, AsArray, ListArray};
    use datafusion::arrow::datatypes::{Float64Type, Int64Type, UInt64Type};

    fn first(a: &ArrayRef, ty: EsType) -> f64 {
        avg(a, ty).unwrap().as_primitive::<Float64Type>().value(0)
    }

    #[test]
    fn averages() {
        let a = int_lists(vec![Some(vec![Some(3), Some(5), Some(1), Some(6)]), None]);
        let out = avg(&a, EsType::Integer).unwrap();
        assert_eq!(out.as_primitive::<Float64Type>().value(0), 3.75);
        assert!(out.is_null(1));
        assert_eq!(
            first(&int_lists(vec![Some(vec![Some(0), Some(1), Some(i32::MAX)])]), EsType::Integer),
            7.158278826666666E8
        );
    }

    #[test]
    fn kahan_sums_doubles() {
        let a: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Float64Type, _, _>(vec![Some(vec![
            Some(-6.77),
            Some(4.69),
            Some(5.05),
            Some(12.15),
        ])]));
        assert_eq!(first(&a, EsType::Double), 3.7800000000000002);
    }

    #[test]
    fn longs_and_unsigned_longs_do_not_overflow() {
        let a: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Int64Type, _, _>(vec![Some(vec![
            Some(0),
            Some(1),
            Some(i64::MAX),
        ])]));
        assert_eq!(first(&a, EsType::Long), 3.0744573456182584E18);
        let a: ArrayRef = Arc::new(ListArray::from_iter_primitive::<UInt64Type, _, _>(vec![Some(vec![
            Some(0),
            Some(1),
            Some(u64::MAX),
        ])]));
        assert_eq!(first(&a, EsType::UnsignedLong), 6.148914691236517E18);
        let a: ArrayRef = Arc::new(ListArray::from_iter_primitive::<UInt64Type, _, _>(vec![Some(vec![
            Some(1),
            Some(9223372036854775806),
            Some(9223372036854775808),
        ])]));
        assert_eq!(first(&a, EsType::UnsignedLong), 6.148914691236517E18);
    }

    #[test]
    fn resolves_to_double() {
        assert_eq!(check(&DEF, "mv_avg(i)", &[(EsType::Integer, true, "i")]).unwrap().ty, EsType::Double);
        assert!(check(&DEF, "mv_avg(b)", &[(EsType::Boolean, true, "b")]).is_err());
    }
}
