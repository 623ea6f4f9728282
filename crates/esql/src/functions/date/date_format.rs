//! `DATE_FORMAT([format,] date)`: a date as text, in a Java `DateTimeFormatter` pattern (or an
//! Elasticsearch named format); without a format, `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'`.

use super::pattern::Formatter;
use super::{DateTime, check_date_arg, check_string_arg, const_str, epoch_values, str_values};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity, kernels};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::ArrayRef;
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `DATE_FORMAT`.
pub static DEF: ScalarDef = ScalarDef { name: "date_format", mv_args: false, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("date_format", args, 1, 2)?;
    if args.len() == 1 {
        check_date_arg(call, args, 0, "datetime or date_nanos", false)?;
        return Ok(Resolved::of(EsType::Keyword));
    }
    check_string_arg(call, args, 0)?;
    let cast = check_date_arg(call, args, 1, "datetime or date_nanos", true)?;
    Ok(Resolved { ty: EsType::Keyword, multi: false, casts: vec![None, cast] })
}

/// The formatter of a pattern, or the failure Elastic reports for it.
fn formatter(pattern: &str) -> Result<Formatter> {
    Formatter::new(pattern).map_err(DataFusionError::Execution)
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let with_format = p.args.len() == 2;
    let date_ty = *p.types.last().unwrap_or(&EsType::Date);
    // A constant format is compiled once; an invalid one fails the query.
    let constant: Option<Option<std::result::Result<Formatter, String>>> = if with_format {
        const_str(p.literals[0]).map(|f| f.map(|f| Formatter::new(&f)))
    } else {
        Some(Some(Ok(Formatter::default_format())))
    };
    let kernel: Kernel = Arc::new(move |a: &[ArrayRef], _ctx: &EvalCtx| {
        let dates = epoch_values(&a[a.len() - 1])?;
        let mut out = Vec::with_capacity(dates.len());
        match &constant {
            Some(None) => out.resize(dates.len(), None),
            Some(Some(Err(e))) => return Err(DataFusionError::Execution(e.clone())),
            Some(Some(Ok(f))) => {
                out.extend(dates.iter().map(|d| d.map(|d| f.format(&DateTime::from_epoch(d, date_ty)))));
            }
            None => {
                let patterns = str_values(&a[0])?;
                let mut cache: Option<(String, Formatter)> = None;
                for (pattern, d) in patterns.into_iter().zip(dates) {
                    let (Some(pattern), Some(d)) = (pattern, d) else {
                        out.push(None);
                        continue;
                    };
                    let f = match &cache {
                        Some((p, f)) if p == pattern => f,
                        _ => &cache.insert((pattern.to_string(), formatter(pattern)?)).1,
                    };
                    out.push(Some(f.format(&DateTime::from_epoch(d, date_ty))));
                }
            }
        }
        Ok(kernels::str_array(out))
    });
    Ok(udf::call("date_format", EsType::Keyword.arrow(), p.sink, p.args, kernel))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::Literal;

    #[test]
    fn resolves() {
        let pattern = Literal::String("yyyy".into());
        let date = Literal::String("1989-06-02T00:00:00.000Z".into());
        let two = [
            ArgInfo { ty: EsType::Keyword, multi: false, literal: Some(&pattern), text: "\"yyyy\"" },
            ArgInfo { ty: EsType::Keyword, multi: false, literal: Some(&date), text: "\"1989\"" },
        ];
        assert_eq!(resolve("f", &two).unwrap().casts, vec![None, Some(EsType::Date)]);
        let one = [ArgInfo { ty: EsType::Keyword, multi: false, literal: Some(&date), text: "\"1989\"" }];
        assert_eq!(
            resolve("date_format(\"1989\")", &one).unwrap_err(),
            "first argument of [date_format(\"1989\")] must be [datetime or date_nanos], found value [\"1989\"] type [keyword]"
        );
        let nanos = [ArgInfo { ty: EsType::DateNanos, multi: false, literal: None, text: "n" }];
        assert_eq!(resolve("date_format(n)", &nanos).unwrap().ty, EsType::Keyword);
    }
}
