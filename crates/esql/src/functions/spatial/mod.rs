//! Spatial functions on `geo_point`: `TO_GEOPOINT`, `ST_X`, `ST_Y`, `ST_DISTANCE`.
//!
//! A geo_point value is held as its canonical WKT text, `POINT (lon lat)` with Java's double
//! formatting, which is exactly what Elasticsearch returns for it. Every producer (`TO_GEOPOINT`,
//! the data loaders through [`geo_point_text`]) writes that form, so equal points are equal
//! strings, and `==`, grouping and `VALUES` work on the text. Functions read the coordinates back
//! with [`point_of`].

use super::{ArgInfo, ScalarDef};
use crate::types::EsType;

pub mod sloppy;
pub mod st_distance;
pub mod st_x;
pub mod st_y;
pub mod to_geopoint;
pub mod wkt;

pub use wkt::Point;

/// The spatial functions.
pub static ALL: &[&ScalarDef] = &[&to_geopoint::DEF, &st_x::DEF, &st_y::DEF, &st_distance::DEF];

/// Parses a geo_point from WKT as `TO_GEOPOINT` does: the point, or the message of the Java
/// exception Elasticsearch reports (`java.lang.IllegalArgumentException: Failed to parse WKT: ...`).
pub fn parse_geo_point(s: &str) -> Result<Point, String> {
    let failed = |m: String| format!("java.lang.IllegalArgumentException: Failed to parse WKT: {m}");
    let p = match wkt::parse_point(s) {
        Ok(p) => p,
        Err(wkt::WktError::Syntax(m)) => return Err(failed(m)),
        Err(wkt::WktError::NotAPoint(kind)) => {
            return Err(format!("java.lang.IllegalArgumentException: Unsupported geometry: {kind}"));
        }
    };
    check_range(&p).map_err(failed)?;
    Ok(p)
}

/// Elasticsearch's geographic bounds check (the latitude first).
pub fn check_range(p: &Point) -> Result<(), String> {
    use crate::convert::format_double as f;
    if p.y.is_nan() || !(-90.0..=90.0).contains(&p.y) {
        return Err(format!("invalid latitude {}; must be between -90.0 and 90.0", f(p.y)));
    }
    if p.x.is_nan() || !(-180.0..=180.0).contains(&p.x) {
        return Err(format!("invalid longitude {}; must be between -180.0 and 180.0", f(p.x)));
    }
    Ok(())
}

/// The canonical text of a geo_point at longitude `lon`, latitude `lat`, when both are in range:
/// what the data loaders store for a geo_point field.
pub fn geo_point_text(lon: f64, lat: f64) -> Option<String> {
    let p = Point::new(lon, lat);
    check_range(&p).ok().map(|_| p.to_wkt())
}

/// The point held in a geo_point value (its WKT text).
pub fn point_of(value: &str) -> Option<Point> {
    wkt::parse_point(value).ok()
}

/// Checks that argument `i` is a point, with Elastic's message.
pub(crate) fn expect_point(call: &str, args: &[ArgInfo], i: usize) -> Result<(), String> {
    super::expect_type(call, args, i, &[EsType::GeoPoint], "geo_point or cartesian_point")
}

/// Shared helpers of the family's unit tests.
#[cfg(test)]
pub(crate) mod test_util {
    use super::super::{ArgInfo, Resolved, ScalarDef};
    use crate::types::EsType;
    use crate::udf::EvalCtx;
    use crate::warnings::{WarningSink, Warnings};
    use datafusion::arrow::datatypes::DataType;

    /// Resolves `def` on arguments described as (type, multi, text).
    pub fn check(def: &ScalarDef, call: &str, args: &[(EsType, bool, &str)]) -> Result<Resolved, String> {
        let infos: Vec<ArgInfo> =
            args.iter().map(|(ty, multi, text)| ArgInfo { ty: *ty, multi: *multi, literal: None, text }).collect();
        (def.resolve)(call, &infos)
    }

    /// Runs `f` with a fresh warnings collector; returns its result and the warnings raised.
    pub fn with_ctx<T>(ret: DataType, rows: usize, f: impl FnOnce(&EvalCtx) -> T) -> (T, Vec<String>) {
        let warnings = Warnings::new();
        let sink = WarningSink::new(warnings.clone(), 1, 1, "f(x)");
        let ctx = EvalCtx { sink: &sink, rows, return_type: &ret };
        let out = f(&ctx);
        (out, warnings.messages())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_with_elastic_messages() {
        assert_eq!(parse_geo_point("POINT(-71.34 41.12)").map(|p| p.to_wkt()), Ok("POINT (-71.34 41.12)".into()));
        assert_eq!(
            parse_geo_point("POINTX(1 2)"),
            Err("java.lang.IllegalArgumentException: Failed to parse WKT: Unknown geometry type: pointx".into())
        );
        assert_eq!(
            parse_geo_point("POINT(1 91)"),
            Err("java.lang.IllegalArgumentException: Failed to parse WKT: invalid latitude 91.0; must be between -90.0 and 90.0".into())
        );
        assert_eq!(
            parse_geo_point("POINT(-181 0)"),
            Err("java.lang.IllegalArgumentException: Failed to parse WKT: invalid longitude -181.0; must be between -180.0 and 180.0".into())
        );
        assert_eq!(
            parse_geo_point("LINESTRING(1 2, 3 4)"),
            Err("java.lang.IllegalArgumentException: Unsupported geometry: LINESTRING".into())
        );
    }

    #[test]
    fn canonical_text() {
        assert_eq!(geo_point_text(-71.34, 41.12).as_deref(), Some("POINT (-71.34 41.12)"));
        assert_eq!(geo_point_text(0.0, 90.5), None);
        assert_eq!(point_of("POINT (-71.34 41.12)"), Some(Point::new(-71.34, 41.12)));
        assert_eq!(point_of("garbage"), None);
    }
}
