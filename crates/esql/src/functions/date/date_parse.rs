//! `DATE_PARSE([format,] string)`: a date parsed from text with a Java `DateTimeFormatter`
//! pattern (or an Elasticsearch named format); without a format, as `strict_date_optional_time`.
//! Text that does not match becomes null with Elastic's warning.

use super::pattern::Formatter;
use super::{check_string_arg, const_str, date_array, str_values};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use crate::warnings::WarningSink;
use datafusion::arrow::array::ArrayRef;
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// `DATE_PARSE`.
pub static DEF: ScalarDef = ScalarDef { name: "date_parse", mv_args: false, resolve, plan };

/// The name of the format used when none is given.
const DEFAULT_FORMAT: &str = "strict_date_optional_time";

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("date_parse", args, 1, 2)?;
    for i in 0..args.len() {
        check_string_arg(call, args, i)?;
    }
    Ok(Resolved::of(EsType::Date))
}

/// Parses one value, warning when it does not match.
fn parse_one(f: &Formatter, pattern: &str, s: &str, sink: &WarningSink) -> Option<i64> {
    let v = f.parse_millis(s);
    if v.is_none() {
        sink.null_because(&format!(
            "java.lang.IllegalArgumentException: failed to parse date field [{s}] with format [{pattern}]"
        ));
    }
    v
}

fn plan(p: PlanArgs) -> Result<Expr> {
    let with_format = p.args.len() == 2;
    let text = p.sink.key().1.to_string();
    let constant: Option<Option<(String, std::result::Result<Formatter, String>)>> = if with_format {
        const_str(p.literals[0]).map(|f| f.map(|f| (f.clone(), Formatter::new(&f))))
    } else {
        Some(Some((DEFAULT_FORMAT.to_string(), Ok(Formatter::default_format()))))
    };
    let kernel: Kernel = Arc::new(move |a: &[ArrayRef], ctx: &EvalCtx| {
        let values = str_values(&a[a.len() - 1])?;
        let mut out = Vec::with_capacity(values.len());
        match &constant {
            Some(None) => out.resize(values.len(), None),
            Some(Some((_, Err(e)))) => {
                return Err(DataFusionError::Execution(format!("invalid date pattern for [{text}]: {e}")));
            }
            Some(Some((pattern, Ok(f)))) => {
                out.extend(values.iter().map(|s| s.and_then(|s| parse_one(f, pattern, s, ctx.sink))));
            }
            None => {
                let patterns = str_values(&a[0])?;
                let mut cache: Option<(String, std::result::Result<Formatter, String>)> = None;
                for (pattern, s) in patterns.into_iter().zip(values) {
                    let (Some(pattern), Some(s)) = (pattern, s) else {
                        out.push(None);
                        continue;
                    };
                    if cache.as_ref().is_none_or(|(p, _)| p != pattern) {
                        cache = Some((pattern.to_string(), Formatter::new(pattern)));
                    }
                    match cache.as_ref().map(|(_, f)| f) {
                        Some(Ok(f)) => out.push(parse_one(f, pattern, s, ctx.sink)),
                        Some(Err(e)) => {
                            ctx.sink.null_because(&format!("java.lang.IllegalArgumentException: {e}"));
                            out.push(None);
                        }
                        None => out.push(None),
                    }
                }
            }
        }
        Ok(date_array(EsType::Date, out))
    });
    Ok(udf::call("date_parse", EsType::Date.arrow(), p.sink, p.args, kernel))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warns_on_mismatch() {
        let f = Formatter::new("yyyy-MM-dd").unwrap();
        let sink = WarningSink::discard();
        assert_eq!(parse_one(&f, "yyyy-MM-dd", "2023-02-01", &sink), Some(1_675_209_600_000));
        assert_eq!(parse_one(&f, "yyyy-MM-dd", "2023-02-01 foo", &sink), None);
        assert_eq!(
            sink.collector().messages()[1],
            "Line 1:1: java.lang.IllegalArgumentException: failed to parse date field [2023-02-01 foo] with format [yyyy-MM-dd]"
        );
    }

    #[test]
    fn resolves() {
        let args = [ArgInfo { ty: EsType::Integer, multi: false, literal: None, text: "1" }];
        assert_eq!(
            resolve("date_parse(1)", &args).unwrap_err(),
            "first argument of [date_parse(1)] must be [string], found value [1] type [integer]"
        );
    }
}
