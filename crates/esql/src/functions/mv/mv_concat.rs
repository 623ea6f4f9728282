//! `MV_CONCAT(string, delim)`: the values joined into one string with a delimiter. A null or
//! multi-valued delimiter gives null.

use super::{MvArray, is_null_type, mismatch, null_result};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity, kernels};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::{ArrayRef, AsArray, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `MV_CONCAT`.
pub static DEF: ScalarDef = ScalarDef { name: "mv_concat", mv_args: true, resolve, plan };

/// Checks that every argument is a string (`string` in Elastic's message).
pub fn expect_strings(call: &str, args: &[ArgInfo]) -> Result<(), String> {
    for (i, a) in args.iter().enumerate() {
        if a.ty != EsType::Null && !a.ty.is_string() {
            return Err(mismatch(call, a, i, "string"));
        }
    }
    Ok(())
}

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("mv_concat", args, 2, 2)?;
    expect_strings(call, args)?;
    Ok(Resolved::of(EsType::Keyword))
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let kernel: Kernel = Arc::new(|a: &[ArrayRef], ctx: &EvalCtx| {
        if is_null_type(&a[0]) || is_null_type(&a[1]) {
            return Ok(null_result(ctx));
        }
        concat(&a[0], &a[1])
    });
    Ok(udf::call("mv_concat", DataType::Utf8, p.sink, p.args, kernel))
}

/// The values of a string argument.
pub fn strings(mv: &MvArray) -> Result<&StringArray> {
    mv.values.as_string_opt::<i32>().ok_or_else(|| DataFusionError::Internal("expected string values".into()))
}

/// The kernel.
pub fn concat(field: &ArrayRef, delim: &ArrayRef) -> Result<ArrayRef> {
    let (field, delim) = (MvArray::new(field), MvArray::new(delim));
    let (fv, dv) = (strings(&field)?, strings(&delim)?);
    let out = (0..field.len())
        .map(|r| {
            let mut d = delim.positions(r);
            let (Some(dj), None) = (d.next(), d.next()) else { return None };
            let mut s: Option<String> = None;
            for j in field.positions(r) {
                match &mut s {
                    None => s = Some(fv.value(j).to_string()),
                    Some(s) => {
                        s.push_str(dv.value(dj));
                        s.push_str(fv.value(j));
                    }
                }
            }
            s
        })
        .collect();
    Ok(kernels::str_array(out))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::*;
    use datafusion::arrow::array::{Array, ListBuilder, StringBuilder};

    fn list(rows: &[Option<&[&str]>]) -> ArrayRef {
        let mut b = ListBuilder::new(StringBuilder::new());
        for r in rows {
            match r {
                Some(vs) => {
                    for v in *vs {
                        b.values().append_value(v);
                    }
                    b.append(true);
                }
                None => b.append(false),
            }
        }
        Arc::new(b.finish())
    }

    #[test]
    fn joins_values() {
        let f = list(&[Some(&["foo", "zoo", "bar"]), Some(&["one"]), None, Some(&["a", "b"])]);
        let d: ArrayRef = Arc::new(StringArray::from(vec![Some(", "), Some("-"), Some("-"), None]));
        let out = concat(&f, &d).unwrap();
        let s = out.as_string::<i32>();
        assert_eq!(s.value(0), "foo, zoo, bar");
        assert_eq!(s.value(1), "one");
        assert!(s.is_null(2));
        assert!(s.is_null(3));
        let d = list(&[Some(&[",", ";"]), Some(&[","]), Some(&[","]), Some(&[","])]);
        assert!(concat(&f, &d).unwrap().is_null(0));
    }

    #[test]
    fn resolves() {
        let r = check(&DEF, "mv_concat(t, \", \")", &[(EsType::Text, true, "t"), (EsType::Keyword, false, "\", \"")])
            .unwrap();
        assert_eq!(r.ty, EsType::Keyword);
        let e = check(&DEF, "mv_concat(i, \",\")", &[(EsType::Integer, true, "i"), (EsType::Keyword, false, "\",\"")])
            .unwrap_err();
        assert_eq!(e, "first argument of [mv_concat(i, \",\")] must be [string], found value [i] type [integer]");
    }
}
