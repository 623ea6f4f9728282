//! `REPLACE(s, regex, replacement)`: every match of the Java regular expression replaced
//! (`Matcher.replaceAll` semantics, `$1` group references). A constant pattern is compiled once;
//! an invalid constant pattern fails the query, an invalid pattern from data is null with a
//! warning.

use super::java_regex::{JavaRegex, ReplaceError, Replacement};
use super::util::{Fail, MAX_RESULT_BYTES, const_str, expect_string, per_row, string_array, strs};
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef, expect_arity};
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::Expr;
use std::borrow::Cow;
use std::sync::Arc;

/// `REPLACE`.
pub static DEF: ScalarDef = ScalarDef { name: "replace", mv_args: false, resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("replace", args, 3, 3)?;
    for i in 0..3 {
        expect_string(call, args, i, true)?;
    }
    Ok(Resolved::of(EsType::Keyword))
}

fn plan(p: PlanArgs) -> Result<Expr> {
    // A constant pattern is compiled once; Elastic fails the query when it is invalid.
    let constant = const_str(&p.literals, 1).map(|r| JavaRegex::new(r).map(Arc::new));
    let kernel: Kernel = Arc::new(move |a: &[ArrayRef], ctx: &EvalCtx| {
        let fixed = match &constant {
            Some(Ok(r)) => Some(r.clone()),
            Some(Err(e)) => return Err(DataFusionError::Execution(e.clone())),
            None => None,
        };
        replace(a, fixed, ctx)
    });
    Ok(udf::call("replace", DataType::Utf8, p.sink, p.args, kernel))
}

fn replace(args: &[ArrayRef], fixed: Option<Arc<JavaRegex>>, ctx: &EvalCtx) -> Result<ArrayRef> {
    let (s, pat, rep) = (strs(&args[0])?, strs(&args[1])?, strs(&args[2])?);
    // The last pattern and replacement compiled, reused while rows repeat them.
    let mut cache: Option<(String, Result<Arc<JavaRegex>, String>)> = None;
    let mut parsed: Option<(String, usize, Replacement)> = None;
    let out = per_row(ctx.rows, ctx.sink, |row| {
        let (Some(s), Some(p), Some(r)) = (s[row], pat[row], rep[row]) else { return Ok(None) };
        let re = match &fixed {
            Some(re) => re.clone(),
            None => {
                if cache.as_ref().is_none_or(|(k, _)| k != p) {
                    cache = Some((p.to_string(), JavaRegex::new(p).map(Arc::new)));
                }
                match cache.as_ref().map(|(_, r)| r) {
                    Some(Ok(re)) => re.clone(),
                    Some(Err(e)) => return Err(Fail::Warn(format!("java.util.regex.PatternSyntaxException: {e}"))),
                    None => return Ok(None),
                }
            }
        };
        let key = Arc::as_ptr(&re) as usize;
        if parsed.as_ref().is_none_or(|(k, id, _)| k != r || *id != key) {
            parsed = Some((r.to_string(), key, Replacement::parse(r, &re)));
        }
        let Some((_, _, replacement)) = &parsed else { return Ok(None) };
        match re.replace_all(s, replacement, MAX_RESULT_BYTES) {
            Ok(Some(v)) => Ok(Some(Cow::Owned(v))),
            Ok(None) => Ok(Some(Cow::Borrowed(s))),
            Err(ReplaceError::Illegal(m)) => Err(Fail::illegal_argument(m)),
            Err(ReplaceError::TooLong) => Err(Fail::illegal_argument(format_args!(
                "Creating strings with more than [{MAX_RESULT_BYTES}] bytes is not supported"
            ))),
            Err(ReplaceError::Match(m)) => Err(Fail::illegal_argument(m)),
            Err(ReplaceError::NoGroup(n)) => Err(Fail::Fatal(format!("No group {n}"))),
        }
    })?;
    Ok(string_array(&out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::string::test_util::{ctx, str_col, string_rows};

    fn run(
        s: &[Option<&str>],
        p: &[Option<&str>],
        r: &[Option<&str>],
        fixed: Option<&str>,
    ) -> (Vec<Option<String>>, Vec<String>) {
        let sink = ctx();
        let fixed = fixed.map(|f| Arc::new(JavaRegex::new(f).unwrap()));
        let out = replace(&[str_col(s), str_col(p), str_col(r)], fixed, &sink.ctx(s.len())).unwrap();
        (string_rows(&out), sink.warnings())
    }

    #[test]
    fn replaces_rows() {
        let (out, w) = run(
            &[Some("Hello World"), Some("a.b"), None, Some("x(y")],
            &[Some("World"), Some(r"\."), Some("a"), Some("(")],
            &[Some("Universe"), Some(""), Some("b"), Some("z")],
            None,
        );
        assert_eq!(out, vec![Some("Hello Universe".into()), Some("ab".into()), None, None]);
        assert_eq!(w.len(), 2);
        assert!(w[1].contains("java.util.regex.PatternSyntaxException: Unclosed group near index 1"), "{w:?}");
    }

    #[test]
    fn constant_pattern() {
        let (out, _) =
            run(&[Some("a1b22"), Some("x")], &[Some(r"\d+"), Some(r"\d+")], &[Some("#"), Some("#")], Some(r"\d+"));
        assert_eq!(out, vec![Some("a#b#".into()), Some("x".into())]);
    }

    #[test]
    fn bad_replacement_warns() {
        let (out, w) = run(&[Some("abc")], &[Some("b")], &[Some("$x")], None);
        assert_eq!(out, vec![None]);
        assert!(w[1].ends_with("java.lang.IllegalArgumentException: Illegal group reference"), "{w:?}");
    }

    #[test]
    fn missing_group_fails_the_query() {
        let sink = ctx();
        let err =
            replace(&[str_col(&[Some("abc")]), str_col(&[Some("b")]), str_col(&[Some("$2")])], None, &sink.ctx(1))
                .unwrap_err();
        assert!(err.to_string().contains("No group 2"));
    }
}
