//! `TO_GEOPOINT(field)`: a keyword or text holding a WKT point, as a geo_point. Every value of a
//! multi-valued input is converted; a value that is not a valid point becomes null with Elastic's
//! warning (`Failed to parse WKT: ...`).

use super::parse_geo_point;
use crate::functions::values::map_values;
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity};
use crate::ir::Literal;
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::ArrayRef;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `TO_GEOPOINT`.
pub static DEF: ScalarDef = ScalarDef { name: "to_geopoint", mv_args: true, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("to_geopoint", args, 1, 1)?;
    let a = &args[0];
    if !matches!(a.ty, EsType::Null | EsType::GeoPoint | EsType::Keyword | EsType::Text) {
        return Err(format!(
            "argument of [{call}] must be [geo_point or string], found value [{}] type [{}]",
            a.text, a.ty
        ));
    }
    Ok(Resolved { ty: EsType::GeoPoint, multi: a.multi, casts: Vec::new() })
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let mut args = p.args;
    if p.types[0] == EsType::GeoPoint {
        return Ok(args.remove(0));
    }
    let from = p.types[0];
    let kernel: Kernel = Arc::new(move |a: &[ArrayRef], ctx: &EvalCtx| convert(&a[0], from, ctx));
    Ok(udf::call("to_geopoint", p.resolved.ty.arrow_column(p.resolved.multi), p.sink, args, kernel))
}

/// Converts every string value to the canonical text of its point.
fn convert(a: &ArrayRef, from: EsType, ctx: &EvalCtx) -> Result<ArrayRef> {
    map_values(a, from, EsType::GeoPoint, |v| match v {
        Literal::String(s) => match parse_geo_point(&s) {
            Ok(p) => Literal::String(p.to_wkt()),
            Err(e) => {
                ctx.sink.null_because(&e);
                Literal::Null
            }
        },
        _ => Literal::Null,
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{check, with_ctx};
    use super::*;
    use datafusion::arrow::array::{Array, AsArray, ListBuilder, StringArray, StringBuilder};
    use datafusion::arrow::datatypes::DataType;

    #[test]
    fn resolves_strings_and_points() {
        let r = check(&DEF, "to_geopoint(s)", &[(EsType::Keyword, true, "s")]).unwrap();
        assert_eq!((r.ty, r.multi), (EsType::GeoPoint, true));
        assert_eq!(check(&DEF, "to_geopoint(p)", &[(EsType::GeoPoint, false, "p")]).unwrap().ty, EsType::GeoPoint);
        assert_eq!(check(&DEF, "to_geopoint(null)", &[(EsType::Null, false, "null")]).unwrap().ty, EsType::GeoPoint);
        assert_eq!(
            check(&DEF, "to_geopoint(1)", &[(EsType::Integer, false, "1")]).unwrap_err(),
            "argument of [to_geopoint(1)] must be [geo_point or string], found value [1] type [integer]"
        );
        assert_eq!(
            check(&DEF, "to_geopoint(a, b)", &[(EsType::Keyword, false, "a"), (EsType::Keyword, false, "b")])
                .unwrap_err(),
            "error building [to_geopoint]: expects exactly one argument"
        );
    }

    #[test]
    fn converts_and_warns() {
        let input: ArrayRef = Arc::new(StringArray::from(vec![
            Some("POINTX(42.97109630194 14.7552534413725)"),
            Some("POINT(75.8092915005895 22.727749187571)"),
            Some("POINT(111)"),
            None,
        ]));
        let (out, warnings) = with_ctx(DataType::Utf8, 4, |ctx| convert(&input, EsType::Keyword, ctx).unwrap());
        let out = out.as_string::<i32>();
        assert!(out.is_null(0) && out.is_null(2) && out.is_null(3));
        assert_eq!(out.value(1), "POINT (75.8092915005895 22.727749187571)");
        assert_eq!(warnings.len(), 3, "{warnings:?}");
        assert!(warnings[1].ends_with("Failed to parse WKT: Unknown geometry type: pointx"), "{warnings:?}");
        assert!(warnings[2].ends_with("Failed to parse WKT: expected number but found: ')'"), "{warnings:?}");
    }

    #[test]
    fn converts_every_value_of_a_multi_value() {
        let mut b = ListBuilder::new(StringBuilder::new());
        b.values().append_value("POINT(1 2)");
        b.values().append_value("POINT(3 4)");
        b.append(true);
        let input: ArrayRef = Arc::new(b.finish());
        let (out, _) = with_ctx(DataType::Utf8, 1, |ctx| convert(&input, EsType::Keyword, ctx).unwrap());
        let values = out.as_list::<i32>().value(0);
        let values: Vec<&str> = values.as_string::<i32>().iter().flatten().collect();
        assert_eq!(values, vec!["POINT (1.0 2.0)", "POINT (3.0 4.0)"]);
    }
}
