//! `ST_DISTANCE(a, b)`: the great-circle distance in meters between two geo_points, computed as
//! Elastic does (points snapped to the index grid, Lucene's haversine; see [`super::sloppy`]).
//! With multi-valued points the result is the smallest distance over all pairs of values, as in
//! current Elastic; a null or empty side gives null.

use super::{Point, point_of, sloppy};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity, type_error};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `ST_DISTANCE`.
pub static DEF: ScalarDef = ScalarDef { name: "st_distance", mv_args: true, resolve, plan };

fn is_point(t: EsType) -> bool {
    matches!(t, EsType::GeoPoint | EsType::Null)
}

/// Elastic's order of checks: the non-constant side (or, when the first is null, the second)
/// decides the coordinate system, and the other side must match it.
fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("st_distance", args, 2, 2)?;
    let swap = (args[0].literal.is_some() && args[1].literal.is_none()) || args[0].ty == EsType::Null;
    let (a, b) = if swap { (1, 0) } else { (0, 1) };
    let (spatial, other) = if is_point(args[a].ty) {
        (a, b)
    } else if is_point(args[b].ty) {
        (b, a)
    } else {
        return Err(type_error(call, args, a, "geo_point or cartesian_point"));
    };
    if args[spatial].ty == EsType::Null {
        if !is_point(args[other].ty) {
            return Err(type_error(call, args, other, "geo_point or cartesian_point"));
        }
    } else if !is_point(args[other].ty) {
        return Err(type_error(call, args, other, "geo_point or geo_shape"));
    }
    Ok(Resolved::of(EsType::Double))
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let kernel: Kernel = Arc::new(|a: &[ArrayRef], ctx: &EvalCtx| distances(&a[0], &a[1], ctx.rows));
    Ok(udf::call("st_distance", DataType::Float64, p.sink, p.args, kernel))
}

/// The points of row `row` of a single- or multi-valued geo_point array.
fn points_at(a: &ArrayRef, row: usize) -> Vec<Point> {
    if a.is_null(row) || a.data_type() == &DataType::Null {
        return Vec::new();
    }
    let strings = |values: &ArrayRef, from: usize, to: usize| -> Vec<Point> {
        values
            .as_string_opt::<i32>()
            .map(|s| (from..to).filter(|&j| s.is_valid(j)).filter_map(|j| point_of(s.value(j))).collect())
            .unwrap_or_default()
    };
    match a.as_list_opt::<i32>() {
        Some(list) => {
            let offsets = list.value_offsets();
            strings(list.values(), offsets[row] as usize, offsets[row + 1] as usize)
        }
        None => strings(a, row, row + 1),
    }
}

/// The smallest distance between the points of each row.
fn distances(a: &ArrayRef, b: &ArrayRef, rows: usize) -> Result<ArrayRef> {
    let out: Float64Array = (0..rows)
        .map(|row| {
            let (left, right) = (points_at(a, row), points_at(b, row));
            let mut best: Option<f64> = None;
            for l in &left {
                for r in &right {
                    let d = sloppy::geo_distance(l.x, l.y, r.x, r.y);
                    if best.is_none_or(|m| d < m) {
                        best = Some(d);
                    }
                }
            }
            best
        })
        .collect();
    Ok(Arc::new(out))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::check;
    use super::*;
    use crate::ir::Literal;
    use datafusion::arrow::array::{ListBuilder, StringArray, StringBuilder};
    use datafusion::arrow::datatypes::Float64Type;

    #[test]
    fn resolves_like_elastic() {
        let p = (EsType::GeoPoint, false, "p");
        let k = (EsType::Keyword, false, "k");
        let n = (EsType::Null, false, "null");
        assert_eq!(check(&DEF, "st_distance(p, p)", &[p, p]).unwrap().ty, EsType::Double);
        assert_eq!(check(&DEF, "st_distance(null, p)", &[n, p]).unwrap().ty, EsType::Double);
        assert_eq!(
            check(&DEF, "st_distance(p, k)", &[p, k]).unwrap_err(),
            "second argument of [st_distance(p, k)] must be [geo_point or geo_shape], found value [k] type [keyword]"
        );
        assert_eq!(
            check(&DEF, "st_distance(k, p)", &[k, p]).unwrap_err(),
            "first argument of [st_distance(k, p)] must be [geo_point or geo_shape], found value [k] type [keyword]"
        );
        assert_eq!(
            check(&DEF, "st_distance(k, k)", &[k, k]).unwrap_err(),
            "first argument of [st_distance(k, k)] must be [geo_point or cartesian_point], found value [k] type [keyword]"
        );
        assert_eq!(
            check(&DEF, "st_distance(null, k)", &[n, k]).unwrap_err(),
            "second argument of [st_distance(null, k)] must be [geo_point or cartesian_point], found value [k] type [keyword]"
        );
    }

    #[test]
    fn constant_first_argument_is_checked_against_the_second() {
        let lit = Literal::String("x".into());
        let infos = [
            ArgInfo { ty: EsType::Keyword, multi: false, literal: Some(&lit), text: "\"x\"" },
            ArgInfo { ty: EsType::Integer, multi: false, literal: None, text: "i" },
        ];
        assert_eq!(
            resolve("st_distance(\"x\", i)", &infos).unwrap_err(),
            "second argument of [st_distance(\"x\", i)] must be [geo_point or cartesian_point], found value [i] type [integer]"
        );
    }

    #[test]
    fn distances_and_nulls() {
        let a: ArrayRef = Arc::new(StringArray::from(vec![Some("POINT (1.0 1.0)"), None, Some("POINT (0.0 1.0)")]));
        let b: ArrayRef = Arc::new(StringArray::from(vec!["POINT (0.0 0.0)", "POINT (0.0 0.0)", "POINT (0.0 0.0)"]));
        let out = distances(&a, &b, 3).unwrap();
        let out = out.as_primitive::<Float64Type>();
        assert_eq!(out.value(0), 157249.5916907891);
        assert!(out.is_null(1));
        assert_eq!(out.value(2), 111195.07776676829);
    }

    #[test]
    fn multi_values_give_the_smallest_distance() {
        let mut l = ListBuilder::new(StringBuilder::new());
        l.values().append_value("POINT (1.0 1.0)");
        l.values().append_value("POINT (0.0 1.0)");
        l.append(true);
        l.append(true);
        let a: ArrayRef = Arc::new(l.finish());
        let b: ArrayRef = Arc::new(StringArray::from(vec!["POINT (0.0 0.0)", "POINT (0.0 0.0)"]));
        let out = distances(&a, &b, 2).unwrap();
        let out = out.as_primitive::<Float64Type>();
        assert_eq!(out.value(0), 111195.07776676829);
        assert!(out.is_null(1));
    }
}
