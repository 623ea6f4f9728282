//! `TO_DATEPERIOD(v)`: a `date_period` from a constant string such as `"3 months"`, converted
//! when the query is analyzed (as `"3 months"::date_period` is).

use super::span_text;
use crate::functions::{ArgInfo, PlanArgs, Resolved, ScalarDef};
use crate::ir::Literal;
use crate::types::EsType;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;

/// `TO_DATEPERIOD`.
pub static DEF: ScalarDef = ScalarDef { name: "to_dateperiod", mv_args: false, resolve, plan };

/// The units a date_period string may use, as Elastic lists them.
pub const UNITS: &[&str] = &[
    "day", "days", "d", "week", "weeks", "w", "month", "months", "mo", "quarter", "quarters", "q", "year", "years",
    "yr", "y",
];

/// Parses `"<integer> <unit>"` to a date_period constant.
pub fn parse(s: &str) -> Option<Literal> {
    span_text::parse(s, EsType::DatePeriod)
}

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    span_text::resolve("to_dateperiod", EsType::DatePeriod, UNITS, "date_period or string", call, args)
}

fn plan(p: PlanArgs) -> Result<Expr> {
    span_text::plan(EsType::DatePeriod, p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        assert_eq!(parse("1 day"), Some(Literal::Period { months: 0, days: 1 }));
        assert_eq!(parse(" 2  WEEKS "), Some(Literal::Period { months: 0, days: 14 }));
        assert_eq!(parse("3 quarters"), Some(Literal::Period { months: 9, days: 0 }));
        assert_eq!(parse("-1 year"), Some(Literal::Period { months: -12, days: 0 }));
        assert_eq!(parse("1 hour"), None);
        assert_eq!(parse("1day"), None);
        assert_eq!(parse("one day"), None);
        let s = Literal::String("1 hour".into());
        let args = [ArgInfo { ty: EsType::Keyword, multi: false, literal: Some(&s), text: "\"1 hour\"" }];
        assert_eq!(
            resolve("to_dateperiod(\"1 hour\")", &args).unwrap_err(),
            "Invalid interval value in [to_dateperiod(\"1 hour\")], expected integer followed by one of [day, days, d, week, weeks, w, month, months, mo, quarter, quarters, q, year, years, yr, y] but got [1 hour]"
        );
        let col = [ArgInfo { ty: EsType::Keyword, multi: false, literal: None, text: "x" }];
        assert_eq!(
            resolve("to_dateperiod(x)", &col).unwrap_err(),
            "first argument of [to_dateperiod(x)] must be a constant, received [x]"
        );
        let int = [ArgInfo { ty: EsType::Integer, multi: false, literal: None, text: "1" }];
        assert_eq!(
            resolve("to_dateperiod(1)", &int).unwrap_err(),
            "first argument of [to_dateperiod(1)] must be [date_period or string], found value [1] type [integer]"
        );
    }
}
