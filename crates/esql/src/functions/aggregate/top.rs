//! `TOP(field, limit[, order[, outputField]])`: the `limit` smallest (`"asc"`, the default) or
//! largest (`"desc"`) values of `field`, repeated values included, as a multi-value in that
//! order. With `outputField`, the values of `outputField` on the rows holding those top values.
//! `limit` and `order` must be constants.

use super::{AccFactory, EsAgg, Flat, const_arg, constant, fold, internal, multi_result, scalar_i64, scalar_list};
use crate::functions::{AggDef, AggPlanArgs, ArgInfo, Resolved, expect_arity, expect_type, ordinal};
use crate::ir::Literal;
use crate::types::EsType;
use datafusion::arrow::array::ArrayRef;
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::{Accumulator, Expr};
use std::cmp::Ordering;
use std::sync::Arc;

/// `TOP`.
pub static DEF: AggDef = AggDef { name: "top", resolve, plan };

const FIELD_TYPES: &[EsType] = &[
    EsType::Boolean,
    EsType::Date,
    EsType::DateNanos,
    EsType::Ip,
    EsType::Keyword,
    EsType::Text,
    EsType::Integer,
    EsType::Long,
    EsType::Double,
];

const FIELD_DESCRIBED: &str = "boolean, date, ip, string or numeric except unsigned_long or counter types";

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("top", args, 2, 4)?;
    expect_type(call, args, 0, FIELD_TYPES, FIELD_DESCRIBED)?;
    not_null(call, args, 1)?;
    expect_type(call, args, 1, &[EsType::Integer], "integer")?;
    if args.len() > 2 {
        not_null(call, args, 2)?;
        expect_type(call, args, 2, &[EsType::Keyword, EsType::Text], "string")?;
    }
    if let Some(o) = args.get(3) {
        expect_type(call, args, 3, FIELD_TYPES, FIELD_DESCRIBED)?;
        let _ = o;
    }
    if let Some(Literal::Integer(limit)) = args[1].literal
        && *limit <= 0
    {
        return Err(format!("Limit must be greater than 0 in [{call}], found [{limit}]"));
    }
    if let Some(Literal::String(order)) = args.get(2).and_then(|a| a.literal) {
        check_order(call, order)?;
    }
    let out = args.get(3).map_or(args[0].ty, |a| a.ty);
    let ty = if out == EsType::Text { EsType::Keyword } else { out };
    Ok(Resolved { ty, multi: true, casts: Vec::new() })
}

fn not_null(call: &str, args: &[ArgInfo], i: usize) -> Result<(), String> {
    let a = &args[i];
    if a.ty == EsType::Null || matches!(a.literal, Some(Literal::Null)) {
        return Err(format!("{} argument of [{call}] cannot be null, received [{}]", ordinal(i), a.text));
    }
    Ok(())
}

fn check_order(call: &str, order: &str) -> Result<bool, String> {
    if order.eq_ignore_ascii_case("asc") {
        Ok(true)
    } else if order.eq_ignore_ascii_case("desc") {
        Ok(false)
    } else {
        Err(format!("Invalid order value in [{call}], expected [ASC, DESC] but got [{order}]"))
    }
}

fn plan(p: AggPlanArgs) -> Result<Expr> {
    let call = p.sink.key().1.to_string();
    let not_constant = |i: usize| {
        DataFusionError::Plan(format!(
            "{} argument of [{call}] must be a constant, received [{}]",
            ordinal(i),
            p.args[i]
        ))
    };
    let limit = const_arg(&p, 1)?.ok_or_else(|| not_constant(1))?;
    let limit = scalar_i64(&limit)
        .filter(|l| *l > 0)
        .ok_or_else(|| DataFusionError::Plan(format!("Limit must be greater than 0 in [{call}], found [{limit}]")))?;
    let asc = match p.args.len() {
        2 => true,
        _ => match const_arg(&p, 2)?.ok_or_else(|| not_constant(2))? {
            ScalarValue::Utf8(Some(s)) => check_order(&call, &s).map_err(DataFusionError::Plan)?,
            other => return Err(DataFusionError::Plan(format!("Invalid order value in [{call}], found [{other}]"))),
        },
    };
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let key_ty = p.types[0];
    let out_ty = p.resolved.ty;
    let with_output = p.args.len() > 3;
    let make = move || Top { limit, asc, key_ty, out_ty, with_output, items: Vec::new() };
    let mut args = vec![p.args[0].clone()];
    if with_output {
        args.push(p.args[3].clone());
    }
    if key_ty == EsType::Null {
        return constant("top", ScalarValue::try_from(&out_ty.arrow_column(true))?, p.filter);
    }
    if !with_output && let Some(c) = const_arg(&p, 0)? {
        return constant("top", fold(Box::new(make()), &[c])?, p.filter);
    }
    let factory: AccFactory = Arc::new(move || Box::new(make()));
    let state = vec![key_ty.arrow_column(true), out_ty.arrow_column(true)];
    EsAgg::new("top", out_ty.arrow_column(true), state, factory).call(args, p.filter)
}

/// The best `limit` values (with their output values) seen so far.
#[derive(Debug)]
struct Top {
    limit: usize,
    asc: bool,
    key_ty: EsType,
    out_ty: EsType,
    with_output: bool,
    items: Vec<(ScalarValue, ScalarValue)>,
}

impl Top {
    fn order(&self, a: &ScalarValue, b: &ScalarValue) -> Ordering {
        let o = a.partial_cmp(b).unwrap_or(Ordering::Equal);
        if self.asc { o } else { o.reverse() }
    }

    fn compact(&mut self) {
        let mut items = std::mem::take(&mut self.items);
        items.sort_by(|a, b| self.order(&a.0, &b.0));
        items.truncate(self.limit);
        self.items = items;
    }

    fn push(&mut self, key: ScalarValue, out: ScalarValue) {
        self.items.push((key, out));
        if self.items.len() > self.limit.saturating_mul(4).saturating_add(64) {
            self.compact();
        }
    }

    fn add(&mut self, keys: &ArrayRef, outs: Option<&ArrayRef>) -> Result<()> {
        let keys = Flat::new(keys);
        let outs = outs.map(Flat::new);
        for i in 0..keys.rows() {
            for k in keys.row(i) {
                let key = ScalarValue::try_from_array(keys.values(), k)?;
                match &outs {
                    None => self.push(key.clone(), key),
                    Some(o) => {
                        for j in o.row(i) {
                            self.push(key.clone(), ScalarValue::try_from_array(o.values(), j)?);
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

impl Accumulator for Top {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let Some(keys) = values.first() else { return Err(internal("top input")) };
        let outs = if self.with_output { Some(values.get(1).ok_or_else(|| internal("top output"))?) } else { None };
        self.add(keys, outs)
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        self.compact();
        let out: Vec<ScalarValue> = self.items.iter().map(|(_, o)| o.clone()).collect();
        multi_result(&out, self.out_ty)
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.items.iter().map(|(k, o)| k.size() + o.size()).sum::<usize>()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        self.compact();
        let keys: Vec<ScalarValue> = self.items.iter().map(|(k, _)| k.clone()).collect();
        let outs: Vec<ScalarValue> = self.items.iter().map(|(_, o)| o.clone()).collect();
        Ok(vec![scalar_list(&keys, &self.key_ty.arrow()), scalar_list(&outs, &self.out_ty.arrow())])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let (Some(keys), Some(outs)) = (states.first(), states.get(1)) else { return Err(internal("top state")) };
        let (keys, outs) = (Flat::new(keys), Flat::new(outs));
        for i in 0..keys.rows() {
            let ks: Vec<usize> = keys.row(i).collect();
            let os: Vec<usize> = outs.row(i).collect();
            if ks.len() != os.len() {
                return Err(internal("top state lengths"));
            }
            for (k, o) in ks.into_iter().zip(os) {
                let key = ScalarValue::try_from_array(keys.values(), k)?;
                let out = ScalarValue::try_from_array(outs.values(), o)?;
                self.push(key, out);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::int_lists;
    use super::*;
    use datafusion::arrow::array::Int32Array;

    fn top(limit: usize, asc: bool) -> Top {
        Top { limit, asc, key_ty: EsType::Integer, out_ty: EsType::Integer, with_output: false, items: Vec::new() }
    }

    fn ints(v: &[i32]) -> ScalarValue {
        let s: Vec<ScalarValue> = v.iter().map(|x| ScalarValue::Int32(Some(*x))).collect();
        scalar_list(&s, &EsType::Integer.arrow())
    }

    #[test]
    fn keeps_the_best_values_with_repeats() {
        let mut t = top(2, false);
        t.update_batch(&[int_lists(&[Some(&[5, 1]), Some(&[5]), None, Some(&[3])])]).unwrap();
        assert_eq!(t.evaluate().unwrap(), ints(&[5, 5]));
        let mut t = top(3, true);
        t.update_batch(&[int_lists(&[Some(&[5, 1]), Some(&[5]), None, Some(&[3])])]).unwrap();
        let st: Vec<ArrayRef> = t.state().unwrap().into_iter().map(|v| v.to_array().unwrap()).collect();
        let mut m = top(3, true);
        m.merge_batch(&st).unwrap();
        m.merge_batch(&st).unwrap();
        assert_eq!(m.evaluate().unwrap(), ints(&[1, 1, 3]));
    }

    #[test]
    fn output_field() {
        let mut t = Top {
            limit: 1,
            asc: true,
            key_ty: EsType::Integer,
            out_ty: EsType::Integer,
            with_output: true,
            items: Vec::new(),
        };
        let keys: ArrayRef = Arc::new(Int32Array::from(vec![3, 1, 2]));
        let outs: ArrayRef = Arc::new(Int32Array::from(vec![30, 10, 20]));
        t.update_batch(&[keys, outs]).unwrap();
        assert_eq!(t.evaluate().unwrap(), ints(&[10]));
    }

    #[test]
    fn resolve_checks() {
        let f = ArgInfo { ty: EsType::Integer, multi: false, literal: None, text: "salary" };
        let zero = Literal::Integer(0);
        let l = ArgInfo { ty: EsType::Integer, multi: false, literal: Some(&zero), text: "0" };
        assert_eq!(
            resolve("top(salary, 0)", &[f.clone(), l]).unwrap_err(),
            "Limit must be greater than 0 in [top(salary, 0)], found [0]"
        );
        let three = Literal::Integer(3);
        let l = ArgInfo { ty: EsType::Integer, multi: false, literal: Some(&three), text: "3" };
        let bad = Literal::String("up".into());
        let o = ArgInfo { ty: EsType::Keyword, multi: false, literal: Some(&bad), text: "\"up\"" };
        assert_eq!(
            resolve("top(salary, 3, \"up\")", &[f.clone(), l.clone(), o]).unwrap_err(),
            "Invalid order value in [top(salary, 3, \"up\")], expected [ASC, DESC] but got [up]"
        );
        let r = resolve("top(salary, 3)", &[f, l]).unwrap();
        assert_eq!((r.ty, r.multi), (EsType::Integer, true));
    }
}
