//! `ST_X(point)`: the x coordinate (longitude) of a geo_point, as a double. Like Elastic, every
//! value of a multi-valued point is converted.

use super::{Point, expect_point, point_of};
use crate::functions::values::map_values;
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity};
use crate::ir::Literal;
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::ArrayRef;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `ST_X`.
pub static DEF: ScalarDef = ScalarDef { name: "st_x", mv_args: true, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    resolve_coordinate("st_x", call, args)
}

fn plan(p: PlanArgs) -> Result<Expr> {
    plan_coordinate("st_x", |pt| pt.x, p)
}

/// Type check shared with `ST_Y`.
pub(super) fn resolve_coordinate(name: &str, call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity(name, args, 1, 1)?;
    expect_point(call, args, 0)?;
    Ok(Resolved { ty: EsType::Double, multi: args[0].multi, casts: Vec::new() })
}

/// Planning shared with `ST_Y`: `pick` chooses the coordinate.
pub(super) fn plan_coordinate(name: &'static str, pick: fn(&Point) -> f64, p: PlanArgs) -> Result<Expr> {
    let from = p.types[0];
    let kernel: Kernel = Arc::new(move |a: &[ArrayRef], _ctx: &EvalCtx| coordinates(&a[0], from, pick));
    Ok(udf::call(name, p.resolved.ty.arrow_column(p.resolved.multi), p.sink, p.args, kernel))
}

/// The chosen coordinate of every point (single- or multi-valued).
pub(super) fn coordinates(a: &ArrayRef, from: EsType, pick: fn(&Point) -> f64) -> Result<ArrayRef> {
    map_values(a, from, EsType::Double, |v| match v {
        Literal::String(s) => point_of(&s).map_or(Literal::Null, |p| Literal::Double(pick(&p))),
        _ => Literal::Null,
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_util::check;
    use super::*;
    use datafusion::arrow::array::{Array, AsArray, ListBuilder, StringArray, StringBuilder};
    use datafusion::arrow::datatypes::Float64Type;

    #[test]
    fn resolves_points_only() {
        let r = check(&DEF, "st_x(p)", &[(EsType::GeoPoint, true, "p")]).unwrap();
        assert_eq!((r.ty, r.multi), (EsType::Double, true));
        assert_eq!(check(&DEF, "st_x(null)", &[(EsType::Null, false, "null")]).unwrap().ty, EsType::Double);
        assert_eq!(
            check(&DEF, "st_x(s)", &[(EsType::Keyword, false, "s")]).unwrap_err(),
            "argument of [st_x(s)] must be [geo_point or cartesian_point], found value [s] type [keyword]"
        );
    }

    #[test]
    fn extracts_longitude() {
        let a: ArrayRef = Arc::new(StringArray::from(vec![Some("POINT (42.97109629958868 14.7552534006536)"), None]));
        let out = coordinates(&a, EsType::GeoPoint, |p| p.x).unwrap();
        let out = out.as_primitive::<Float64Type>();
        assert_eq!(out.value(0), 42.97109629958868);
        assert!(out.is_null(1));
    }

    #[test]
    fn extracts_from_every_value() {
        let mut b = ListBuilder::new(StringBuilder::new());
        b.values().append_value("POINT (1.0 2.0)");
        b.values().append_value("POINT (3.0 4.0)");
        b.append(true);
        b.append(false);
        let a: ArrayRef = Arc::new(b.finish());
        let out = coordinates(&a, EsType::GeoPoint, |p| p.x).unwrap();
        let list = out.as_list::<i32>();
        let first = list.value(0);
        assert_eq!(first.as_primitive::<Float64Type>().values().to_vec(), vec![1.0, 3.0]);
        assert!(list.is_null(1));
    }
}
