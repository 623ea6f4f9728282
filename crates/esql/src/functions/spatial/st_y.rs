//! `ST_Y(point)`: the y coordinate (latitude) of a geo_point, as a double. Like Elastic, every
//! value of a multi-valued point is converted.

use super::st_x::{plan_coordinate, resolve_coordinate};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef};
use datafusion::common::Result;
use datafusion::logical_expr::Expr;

/// `ST_Y`.
pub static DEF: ScalarDef = ScalarDef { name: "st_y", mv_args: true, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    resolve_coordinate("st_y", call, args)
}

fn plan(p: PlanArgs) -> Result<Expr> {
    plan_coordinate("st_y", |pt| pt.y, p)
}

#[cfg(test)]
mod tests {
    use super::super::st_x::coordinates;
    use super::super::test_util::check;
    use super::*;
    use crate::types::EsType;
    use datafusion::arrow::array::{ArrayRef, AsArray, StringArray};
    use datafusion::arrow::datatypes::Float64Type;
    use std::sync::Arc;

    #[test]
    fn resolves_points_only() {
        assert_eq!(check(&DEF, "st_y(p)", &[(EsType::GeoPoint, false, "p")]).unwrap().ty, EsType::Double);
        assert_eq!(
            check(&DEF, "st_y(1)", &[(EsType::Integer, false, "1")]).unwrap_err(),
            "argument of [st_y(1)] must be [geo_point or cartesian_point], found value [1] type [integer]"
        );
    }

    #[test]
    fn extracts_latitude() {
        let a: ArrayRef = Arc::new(StringArray::from(vec!["POINT (42.97109629958868 14.7552534006536)"]));
        let out = coordinates(&a, EsType::GeoPoint, |p| p.y).unwrap();
        assert_eq!(out.as_primitive::<Float64Type>().value(0), 14.7552534006536);
    }
}
