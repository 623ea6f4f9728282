//! `WEIGHTED_AVG(number, weight)`: `SUM(number * weight) / SUM(weight)`, as Elastic rewrites it.
//! A constant weight makes it `SUM(number) / COUNT(number)` and a constant number
//! `MV_AVG(number)`. The product is a single-value operation: a multi-valued row makes it null
//! with a warning; a zero total weight is `/ by zero`; a long sum that does not fit is
//! `long overflow`.

use super::avg::{Avg, finite};
use super::sum::{LONG_OVERFLOW, NUMBERS, NUMBERS_DESCRIBED};
use super::{AccFactory, EsAgg, Flat, Kahan, const_arg, constant, f64_values, fold, i64_values, internal};
use crate::functions::{AggDef, AggPlanArgs, ArgInfo, Resolved, expect_arity, expect_type, ordinal};
use crate::ir::Literal;
use crate::types::EsType;
use crate::warnings::WarningSink;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray};
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{Accumulator, Expr};
use std::sync::Arc;

/// `WEIGHTED_AVG`.
pub static DEF: AggDef = AggDef { name: "weighted_avg", resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("weighted_avg", args, 2, 2)?;
    expect_type(call, args, 0, NUMBERS, NUMBERS_DESCRIBED)?;
    expect_type(call, args, 1, NUMBERS, NUMBERS_DESCRIBED)?;
    let invalid = |v: &str| format!("{} argument of [{call}] cannot be null or 0, received [{v}]", ordinal(1));
    if args[1].ty == EsType::Null {
        return Err(invalid("null"));
    }
    match args[1].literal {
        Some(Literal::Null) => return Err(invalid("null")),
        Some(Literal::Integer(0)) | Some(Literal::Long(0)) => return Err(invalid("0")),
        Some(Literal::Double(d)) if *d == 0.0 && d.is_sign_positive() => return Err(invalid("0.0")),
        _ => {}
    }
    Ok(Resolved::of(EsType::Double))
}

fn plan(p: AggPlanArgs) -> Result<Expr> {
    let sink = p.sink.clone();
    if let Some(c) = const_arg(&p, 0)? {
        let v = fold(Box::new(Avg::new(sink)), &[c])?;
        return constant("weighted_avg", v, p.filter);
    }
    let field = p.types[0];
    let weight = p.types[1];
    let const_weight = const_arg(&p, 1)?.is_some();
    let factory: AccFactory = Arc::new(move || Box::new(WeightedAvg::new(field, weight, const_weight, sink.clone())));
    let args = if const_weight { vec![p.args[0].clone()] } else { vec![p.args[0].clone(), p.args[1].clone()] };
    let state = vec![DataType::Int64, DataType::Float64, DataType::Float64, DataType::Boolean, DataType::Boolean];
    let mut state_types = state.clone();
    state_types.extend(state);
    EsAgg::new("weighted_avg", DataType::Float64, state_types, factory).call(args, p.filter)
}

/// A running sum, exact in longs for whole numbers, compensated for doubles.
#[derive(Debug, Default, Clone, Copy)]
struct Total {
    whole: bool,
    long: i64,
    double: Kahan,
    seen: bool,
    failed: bool,
}

impl Total {
    fn new(whole: bool) -> Total {
        Total { whole, ..Total::default() }
    }

    fn add_long(&mut self, v: i64) {
        self.seen = true;
        if !self.failed {
            match self.long.checked_add(v) {
                Some(s) => self.long = s,
                None => self.failed = true,
            }
        }
    }

    fn add_double(&mut self, v: f64) {
        self.seen = true;
        self.double.add(v);
    }

    fn value(&self) -> f64 {
        if self.whole { self.long as f64 } else { self.double.value }
    }

    fn state(&self) -> [ScalarValue; 5] {
        [
            ScalarValue::Int64(Some(self.long)),
            ScalarValue::Float64(Some(self.double.value)),
            ScalarValue::Float64(Some(self.double.delta)),
            ScalarValue::Boolean(Some(self.seen)),
            ScalarValue::Boolean(Some(self.failed)),
        ]
    }

    fn merge(&mut self, s: &[ArrayRef], i: usize) -> Result<()> {
        let [l, v, d, seen, failed] = s else { return Err(internal("weighted_avg state")) };
        let flag = |a: &ArrayRef| -> Result<bool> {
            let b: &BooleanArray = a.as_boolean_opt().ok_or_else(|| internal("weighted_avg flag"))?;
            Ok(b.is_valid(i) && b.value(i))
        };
        if flag(failed)? {
            self.seen = true;
            self.failed = true;
        } else if flag(seen)? {
            if self.whole {
                self.add_long(l.as_primitive::<Int64Type>().value(i));
            } else {
                self.seen = true;
                self.double
                    .add_with_delta(v.as_primitive::<Float64Type>().value(i), d.as_primitive::<Float64Type>().value(i));
            }
        }
        Ok(())
    }
}

/// Numerator and denominator sums.
#[derive(Debug)]
struct WeightedAvg {
    field: EsType,
    weight: EsType,
    const_weight: bool,
    num: Total,
    den: Total,
    sink: WarningSink,
}

impl WeightedAvg {
    fn new(field: EsType, weight: EsType, const_weight: bool, sink: WarningSink) -> WeightedAvg {
        let product_whole = field.is_whole() && (const_weight || weight.is_whole());
        let den_whole = const_weight || weight.is_whole();
        WeightedAvg { field, weight, const_weight, num: Total::new(product_whole), den: Total::new(den_whole), sink }
    }

    /// `SUM(number) / COUNT(number)`.
    fn update_const_weight(&mut self, field: &Flat) -> Result<()> {
        if self.num.whole {
            let v = i64_values(field.values())?;
            for j in field.all() {
                self.num.add_long(v[j]);
                self.den.add_long(1);
            }
        } else {
            let v = f64_values(field.values())?;
            for j in field.all() {
                self.num.add_double(v[j]);
                self.den.add_long(1);
            }
        }
        Ok(())
    }

    /// `SUM(number * weight) / SUM(weight)`.
    fn update_pairs(&mut self, field: &Flat, weight: &Flat) -> Result<()> {
        let (fl, fd) = (whole_values(field, self.field)?, f64_values(field.values())?);
        let (wl, wd) = (whole_values(weight, self.weight)?, f64_values(weight.values())?);
        for i in 0..weight.rows().max(field.rows()) {
            let ws: Vec<usize> = weight.row(i).collect();
            for &j in &ws {
                if self.den.whole { self.den.add_long(wl[j]) } else { self.den.add_double(wd[j]) }
            }
            let fs: Vec<usize> = field.row(i).collect();
            if fs.is_empty() || ws.is_empty() {
                continue;
            }
            if fs.len() > 1 || ws.len() > 1 {
                self.sink.multi_value();
                continue;
            }
            let (f, w) = (fs[0], ws[0]);
            if self.num.whole {
                let product = if self.field == EsType::Integer && self.weight == EsType::Integer {
                    i32::try_from(fl[f])
                        .ok()
                        .and_then(|a| i32::try_from(wl[w]).ok().and_then(|b| a.checked_mul(b)))
                        .map(i64::from)
                } else {
                    fl[f].checked_mul(wl[w])
                };
                match product {
                    Some(v) => self.num.add_long(v),
                    None if self.field == EsType::Integer && self.weight == EsType::Integer => {
                        self.sink.null_because("java.lang.ArithmeticException: integer overflow")
                    }
                    None => self.sink.null_because(LONG_OVERFLOW),
                }
            } else {
                let v = fd[f] * wd[w];
                if v.is_finite() {
                    self.num.add_double(v);
                } else {
                    self.sink.null_because(&format!(
                        "java.lang.ArithmeticException: not a finite double number: {}",
                        super::avg::non_finite_text(v)
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Whole-number values of a flat argument (zeros for doubles, which are read as f64 instead).
fn whole_values(f: &Flat, ty: EsType) -> Result<Vec<i64>> {
    if ty.is_whole() { i64_values(f.values()) } else { Ok(Vec::new()) }
}

impl Accumulator for WeightedAvg {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let Some(field) = values.first() else { return Err(internal("weighted_avg input")) };
        let field = Flat::new(field);
        if self.const_weight {
            return self.update_const_weight(&field);
        }
        let Some(weight) = values.get(1) else { return Err(internal("weighted_avg weight")) };
        self.update_pairs(&field, &Flat::new(weight))
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        if self.num.failed || self.den.failed {
            self.sink.null_because(LONG_OVERFLOW);
            return Ok(ScalarValue::Float64(None));
        }
        if !self.num.seen || !self.den.seen {
            return Ok(ScalarValue::Float64(None));
        }
        let den = self.den.value();
        if den == 0.0 {
            self.sink.null_because("java.lang.ArithmeticException: / by zero");
            return Ok(ScalarValue::Float64(None));
        }
        Ok(finite(self.num.value() / den, &self.sink))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self)
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let mut s = self.num.state().to_vec();
        s.extend(self.den.state());
        Ok(s)
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        if states.len() != 10 {
            return Err(internal("weighted_avg state"));
        }
        for i in 0..states[0].len() {
            self.num.merge(&states[..5], i)?;
            self.den.merge(&states[5..], i)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::int_lists;
    use super::*;
    use crate::warnings::Warnings;
    use datafusion::arrow::array::{Float64Array, Int32Array, Int64Array};

    fn run(field: ArrayRef, weight: Option<ArrayRef>, fty: EsType, wty: EsType) -> (ScalarValue, Vec<String>) {
        let w = Warnings::new();
        let sink = WarningSink::new(w.clone(), 1, 1, "weighted_avg(x, w)");
        let mut acc = WeightedAvg::new(fty, wty, weight.is_none(), sink);
        let mut args = vec![field];
        args.extend(weight);
        acc.update_batch(&args).unwrap();
        let st: Vec<ArrayRef> = acc.state().unwrap().into_iter().map(|v| v.to_array().unwrap()).collect();
        let mut merged =
            WeightedAvg::new(fty, wty, args.len() == 1, WarningSink::new(w.clone(), 1, 1, "weighted_avg(x, w)"));
        merged.merge_batch(&st).unwrap();
        let v = merged.evaluate().unwrap();
        (v, w.messages())
    }

    #[test]
    fn weighted_mean() {
        let x: ArrayRef = Arc::new(Int32Array::from(vec![6, 7, 8, 9, 10]));
        let (v, m) = run(x.clone(), Some(x), EsType::Integer, EsType::Integer);
        assert_eq!(v, ScalarValue::Float64(Some(8.25)));
        assert!(m.is_empty());
    }

    #[test]
    fn zero_weight_divides_by_zero() {
        let x: ArrayRef = Arc::new(Int32Array::from(vec![6, 7]));
        let w: ArrayRef = Arc::new(Int32Array::from(vec![0, 0]));
        let (v, m) = run(x, Some(w), EsType::Integer, EsType::Integer);
        assert_eq!(v, ScalarValue::Float64(None));
        assert!(m[1].ends_with("java.lang.ArithmeticException: / by zero"), "{m:?}");
    }

    #[test]
    fn multi_values_warn() {
        let x: ArrayRef = Arc::new(Float64Array::from(vec![1.0]));
        let (v, m) = run(x, Some(int_lists(&[Some(&[1, 2])])), EsType::Double, EsType::Integer);
        assert_eq!(v, ScalarValue::Float64(None));
        assert!(m[1].ends_with("single-value function encountered multi-value"), "{m:?}");
    }

    #[test]
    fn constant_weight_sums_and_overflows() {
        let x: ArrayRef = Arc::new(Int64Array::from(vec![i64::MAX, i64::MAX]));
        let (v, m) = run(x, None, EsType::Long, EsType::Integer);
        assert_eq!(v, ScalarValue::Float64(None));
        assert!(m[1].ends_with("long overflow"), "{m:?}");
        let (v, _) = run(int_lists(&[Some(&[1, 2, 3])]), None, EsType::Integer, EsType::Integer);
        assert_eq!(v, ScalarValue::Float64(Some(2.0)));
    }

    #[test]
    fn rejects_zero_constant_weight() {
        let x = ArgInfo { ty: EsType::Integer, multi: false, literal: None, text: "salary" };
        let zero = Literal::Integer(0);
        let w = ArgInfo { ty: EsType::Integer, multi: false, literal: Some(&zero), text: "0" };
        assert_eq!(
            resolve("weighted_avg(salary, 0)", &[x, w]).unwrap_err(),
            "second argument of [weighted_avg(salary, 0)] cannot be null or 0, received [0]"
        );
    }
}
