//! `COUNT_DISTINCT(field[, precision])`: the number of distinct values. Elastic estimates it with
//! HyperLogLog++, which is exact below the precision threshold (3000 by default, at most 40000);
//! this count is always exact. Every value of a multi-value counts.

use super::values::{Distinct, DistinctGroups, distinct_agg};
use super::{OneGroup, const_arg, constant, fold};
use crate::functions::{AggDef, AggPlanArgs, ArgInfo, Resolved, expect_arity, type_error};
use crate::types::EsType;
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::Expr;

/// `COUNT_DISTINCT`.
pub static DEF: AggDef = AggDef { name: "count_distinct", resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("count_distinct", args, 1, 2)?;
    if matches!(args[0].ty, EsType::UnsignedLong | EsType::Unsupported | EsType::DatePeriod | EsType::TimeDuration) {
        return Err(type_error(call, args, 0, "any exact type except unsigned_long, _source, or counter types"));
    }
    if let Some(p) = args.get(1)
        && !(p.ty.is_whole() || p.ty == EsType::Null)
    {
        return Err(type_error(call, args, 1, "integer"));
    }
    Ok(Resolved::of(EsType::Long))
}

fn plan(p: AggPlanArgs) -> Result<Expr> {
    if p.args.len() > 1 && const_arg(&p, 1)?.is_none() {
        return Err(DataFusionError::Plan(format!(
            "second argument of [{}] must be a constant, received [{}]",
            p.sink.key().1,
            p.args[1]
        )));
    }
    let ty = p.types[0];
    if ty == EsType::Null {
        return constant("count_distinct", ScalarValue::Int64(Some(0)), p.filter);
    }
    if let Some(c) = const_arg(&p, 0)? {
        let v = fold(Box::new(OneGroup::new(DistinctGroups::new(ty, Distinct::Count)?)), &[c])?;
        return constant("count_distinct", v, p.filter);
    }
    distinct_agg("count_distinct", ty, Distinct::Count, p.args[0].clone(), p.filter)
}

#[cfg(test)]
mod tests {
    use super::super::tests::int_lists;
    use super::*;
    use datafusion::arrow::array::ArrayRef;
    use datafusion::logical_expr::Accumulator;

    #[test]
    fn counts_distinct_values_of_multi_values() {
        let mut d = OneGroup::new(DistinctGroups::new(EsType::Integer, Distinct::Count).unwrap());
        assert_eq!(d.evaluate().unwrap(), ScalarValue::Int64(Some(0)));
        d.update_batch(&[int_lists(&[Some(&[-1, 0, 3]), Some(&[1, -1, 3]), None])]).unwrap();
        assert_eq!(d.evaluate().unwrap(), ScalarValue::Int64(Some(4)));
        d.update_batch(&[int_lists(&[Some(&[-1, 0, 3]), Some(&[1, -1, 3]), None])]).unwrap();
        let s: Vec<ArrayRef> = d.state().unwrap().into_iter().map(|v| v.to_array().unwrap()).collect();
        let mut e = OneGroup::new(DistinctGroups::new(EsType::Integer, Distinct::Count).unwrap());
        e.merge_batch(&s).unwrap();
        assert_eq!(e.evaluate().unwrap(), ScalarValue::Int64(Some(4)));
    }

    #[test]
    fn precision_must_be_whole() {
        let a = ArgInfo { ty: EsType::Keyword, multi: false, literal: None, text: "x" };
        let p = ArgInfo { ty: EsType::Double, multi: false, literal: None, text: "1.5" };
        assert_eq!(
            resolve("count_distinct(x, 1.5)", &[a.clone(), p]).unwrap_err(),
            "second argument of [count_distinct(x, 1.5)] must be [integer], found value [1.5] type [double]"
        );
        let u = ArgInfo { ty: EsType::UnsignedLong, ..a };
        assert!(resolve("count_distinct(x)", &[u]).is_err());
    }
}
