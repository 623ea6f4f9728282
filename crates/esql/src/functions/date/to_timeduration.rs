//! `TO_TIMEDURATION(v)`: a `time_duration` from a constant string such as `"15 minutes"`,
//! converted when the query is analyzed (as `"15 minutes"::time_duration` is).

use super::span_text;
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef};
use crate::ir::Literal;
use crate::types::EsType;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;

/// `TO_TIMEDURATION`.
pub static DEF: ScalarDef = ScalarDef { name: "to_timeduration", mv_args: false, resolve, plan };

/// The units a time_duration string may use, as Elastic lists them.
pub const UNITS: &[&str] = &[
    "millisecond",
    "milliseconds",
    "ms",
    "second",
    "seconds",
    "sec",
    "s",
    "minute",
    "minutes",
    "min",
    "hour",
    "hours",
    "h",
];

/// Parses `"<integer> <unit>"` to a time_duration constant.
pub fn parse(s: &str) -> Option<Literal> {
    span_text::parse(s, EsType::TimeDuration)
}

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    span_text::resolve("to_timeduration", EsType::TimeDuration, UNITS, "string or time_duration", call, args)
}

fn plan(p: PlanArgs) -> Result<Expr> {
    span_text::plan(EsType::TimeDuration, p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        assert_eq!(parse("1 hour"), Some(Literal::Duration(3_600_000)));
        assert_eq!(parse("15 MIN"), Some(Literal::Duration(900_000)));
        assert_eq!(parse("+2 s"), Some(Literal::Duration(2_000)));
        assert_eq!(parse("7 ms"), Some(Literal::Duration(7)));
        assert_eq!(parse("1 day"), None);
        assert_eq!(parse("1 m"), None);
        let s = Literal::String("1 hour".into());
        let args = [ArgInfo { ty: EsType::Text, multi: false, literal: Some(&s), text: "\"1 hour\"" }];
        assert_eq!(resolve("x", &args).unwrap().ty, EsType::TimeDuration);
        let d = [ArgInfo { ty: EsType::TimeDuration, multi: false, literal: None, text: "x" }];
        assert_eq!(resolve("x", &d).unwrap().ty, EsType::TimeDuration);
    }
}
