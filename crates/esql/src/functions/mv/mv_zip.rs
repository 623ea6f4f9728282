//! `MV_ZIP(string1, string2[, delim])`: pairs up the values of two multi-valued strings, joining
//! each pair with `delim` (default `,`); values without a partner are kept as they are.

use super::mv_concat::{expect_strings, strings};
use super::{MvArray, null_result, single};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity, kernels};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `MV_ZIP`.
pub static DEF: ScalarDef = ScalarDef { name: "mv_zip", mv_args: true, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("mv_zip", args, 2, 3)?;
    expect_strings(call, args)?;
    Ok(Resolved { ty: EsType::Keyword, multi: args[0].multi || args[1].multi, casts: Vec::new() })
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let multi = p.resolved.multi;
    let mut args = p.args;
    if args.len() > 2 {
        args[2] = single(args[2].clone(), p.types[2], p.multi[2], p.sink);
    }
    let kernel: Kernel = Arc::new(move |a: &[ArrayRef], ctx: &EvalCtx| {
        let default: ArrayRef = Arc::new(StringArray::from(vec![","; ctx.rows]));
        let delim = a.get(2).unwrap_or(&default);
        if delim.data_type() == &DataType::Null {
            return Ok(null_result(ctx));
        }
        zip(&a[0], &a[1], delim, multi)
    });
    Ok(udf::call("mv_zip", EsType::Keyword.arrow_column(multi), p.sink, args, kernel))
}

/// The kernel; `delim` is a single-valued string array.
pub fn zip(left: &ArrayRef, right: &ArrayRef, delim: &ArrayRef, multi: bool) -> Result<ArrayRef> {
    let (l, r) = (MvArray::new(left), MvArray::new(right));
    let empty = StringArray::from(Vec::<Option<&str>>::new());
    let lv = if l.values.data_type() == &DataType::Null { &empty } else { strings(&l)? };
    let rv = if r.values.data_type() == &DataType::Null { &empty } else { strings(&r)? };
    let d = delim.as_string::<i32>();
    let mut values: Vec<String> = Vec::new();
    let mut offsets = vec![0i32];
    for row in 0..l.len() {
        if d.is_valid(row) {
            let delim = d.value(row);
            let (mut li, mut ri) = (l.positions(row), r.positions(row));
            loop {
                match (li.next(), ri.next()) {
                    (Some(a), Some(b)) => values.push(format!("{}{delim}{}", lv.value(a), rv.value(b))),
                    (Some(a), None) => values.push(lv.value(a).to_string()),
                    (None, Some(b)) => values.push(rv.value(b).to_string()),
                    (None, None) => break,
                }
            }
        }
        offsets.push(
            i32::try_from(values.len())
                .map_err(|_| datafusion::common::DataFusionError::Execution("multi-value too large".into()))?,
        );
    }
    let strings: ArrayRef = Arc::new(StringArray::from(values));
    if multi {
        return kernels::list_from_offsets(strings, offsets, EsType::Keyword);
    }
    let rows: Vec<Vec<u32>> = offsets.windows(2).map(|w| (w[0]..w[1]).map(|i| i as u32).take(1).collect()).collect();
    super::pick(&strings, &rows, EsType::Keyword, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{ListArray, ListBuilder, StringBuilder};

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

    fn rows(out: &ArrayRef) -> Vec<Option<Vec<String>>> {
        let l: &ListArray = out.as_list::<i32>();
        (0..l.len())
            .map(|i| {
                l.is_valid(i)
                    .then(|| l.value(i).as_string::<i32>().iter().map(|s| s.unwrap_or("").to_string()).collect())
            })
            .collect()
    }

    #[test]
    fn zips_pairs_and_leftovers() {
        let a = list(&[Some(&["x", "y", "z"]), Some(&["a", "b"]), None, None]);
        let b = list(&[Some(&["1"]), Some(&["1", "2"]), Some(&["q", "r"]), None]);
        let d: ArrayRef = Arc::new(StringArray::from(vec!["@@"; 4]));
        let out = zip(&a, &b, &d, true).unwrap();
        let s = |v: &[&str]| Some(v.iter().map(|x| x.to_string()).collect::<Vec<_>>());
        assert_eq!(rows(&out), vec![s(&["x@@1", "y", "z"]), s(&["a@@1", "b@@2"]), s(&["q", "r"]), None]);
    }

    #[test]
    fn null_delimiter_gives_null() {
        let a = list(&[Some(&["x"])]);
        let d: ArrayRef = Arc::new(StringArray::from(vec![None::<&str>]));
        assert!(zip(&a, &a, &d, true).unwrap().is_null(0));
    }

    #[test]
    fn single_values_zip_to_one_string() {
        let a: ArrayRef = Arc::new(StringArray::from(vec![Some("a"), None]));
        let b: ArrayRef = Arc::new(StringArray::from(vec![Some("b"), Some("c")]));
        let d: ArrayRef = Arc::new(StringArray::from(vec![","; 2]));
        let out = zip(&a, &b, &d, false).unwrap();
        let s = out.as_string::<i32>();
        assert_eq!((s.value(0), s.value(1)), ("a,b", "c"));
    }
}
