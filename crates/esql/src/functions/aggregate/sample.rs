//! `SAMPLE(field, limit)`: up to `limit` values of `field` picked at random (each value of a
//! multi-value is a candidate), as a multi-value. Random by nature: two runs differ.

use super::{AccFactory, EsAgg, Flat, const_arg, internal, multi_result, scalar_i64, scalar_list};
use crate::functions::{AggDef, AggPlanArgs, ArgInfo, Resolved, expect_arity, expect_type, ordinal, type_error};
use crate::ir::Literal;
use crate::types::EsType;
use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::{Accumulator, Expr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// `SAMPLE`.
pub static DEF: AggDef = AggDef { name: "sample", resolve, plan };

fn resolve(call: &str, args: &[ArgInfo]) -> Result<Resolved, String> {
    expect_arity("sample", args, 2, 2)?;
    if matches!(args[0].ty, EsType::UnsignedLong | EsType::Unsupported | EsType::DatePeriod | EsType::TimeDuration) {
        return Err(type_error(call, args, 0, "any type except unsigned_long"));
    }
    if args[1].ty == EsType::Null || matches!(args[1].literal, Some(Literal::Null)) {
        return Err(format!("{} argument of [{call}] cannot be null, received [{}]", ordinal(1), args[1].text));
    }
    expect_type(call, args, 1, &[EsType::Integer], "integer")?;
    if let Some(Literal::Integer(l)) = args[1].literal
        && *l <= 0
    {
        return Err(format!("Limit must be greater than 0 in [{call}], found [{l}]"));
    }
    let ty = if args[0].ty == EsType::Text { EsType::Keyword } else { args[0].ty };
    Ok(Resolved { ty, multi: true, casts: Vec::new() })
}

fn plan(p: AggPlanArgs) -> Result<Expr> {
    let call = p.sink.key().1.to_string();
    let limit = const_arg(&p, 1)?.ok_or_else(|| {
        DataFusionError::Plan(format!("second argument of [{call}] must be a constant, received [{}]", p.args[1]))
    })?;
    let limit = scalar_i64(&limit)
        .filter(|l| *l > 0)
        .ok_or_else(|| DataFusionError::Plan(format!("Limit must be greater than 0 in [{call}], found [{limit}]")))?;
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let ty = p.resolved.ty;
    let factory: AccFactory = Arc::new(move || Box::new(Sample::new(ty, limit)));
    EsAgg::new("sample", ty.arrow_column(true), vec![ty.arrow_column(true), DataType::Int64], factory)
        .call(vec![p.args[0].clone()], p.filter)
}

static SEED: AtomicU64 = AtomicU64::new(0x9E37_79B9_7F4A_7C15);

/// A reservoir sample.
#[derive(Debug)]
struct Sample {
    ty: EsType,
    limit: usize,
    seen: u64,
    rng: u64,
    picked: Vec<ScalarValue>,
}

impl Sample {
    fn new(ty: EsType, limit: usize) -> Sample {
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
        let rng = SEED.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed) ^ nanos | 1;
        Sample { ty, limit, seen: 0, rng, picked: Vec::new() }
    }

    fn next(&mut self) -> u64 {
        // xorshift64*
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn offer(&mut self, v: ScalarValue) {
        self.seen += 1;
        if self.picked.len() < self.limit {
            self.picked.push(v);
        } else {
            let r = self.next() % self.seen;
            if let Ok(i) = usize::try_from(r)
                && i < self.limit
            {
                self.picked[i] = v;
            }
        }
    }

    fn add(&mut self, a: &ArrayRef) -> Result<()> {
        let flat = Flat::new(a);
        for j in flat.all() {
            self.offer(ScalarValue::try_from_array(flat.values(), j)?);
        }
        Ok(())
    }
}

impl Accumulator for Sample {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        match values.first() {
            Some(a) => self.add(a),
            None => Err(internal("sample input")),
        }
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        multi_result(&self.picked, self.ty)
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.picked.iter().map(|v| v.size()).sum::<usize>()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![scalar_list(&self.picked, &self.ty.arrow()), ScalarValue::Int64(Some(self.seen as i64))])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let (Some(values), Some(seen)) = (states.first(), states.get(1)) else { return Err(internal("sample state")) };
        let seen = seen.as_primitive_opt::<Int64Type>().ok_or_else(|| internal("sample count"))?;
        self.add(values)?;
        // The other partial samples stood for more values than they hold.
        for i in 0..seen.len() {
            if seen.is_valid(i) {
                let held = Flat::new(values).count(i) as u64;
                self.seen += (seen.value(i).max(0) as u64).saturating_sub(held);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::int_lists;
    use super::*;

    #[test]
    fn samples_at_most_limit_values() {
        let mut s = Sample::new(EsType::Integer, 2);
        assert_eq!(s.evaluate().unwrap(), ScalarValue::try_from(&EsType::Integer.arrow_column(true)).unwrap());
        s.update_batch(&[int_lists(&[Some(&[1, 2, 3]), Some(&[4, 5])])]).unwrap();
        let ScalarValue::List(l) = s.evaluate().unwrap() else { panic!("not a list") };
        assert_eq!(l.value(0).len(), 2);
        let mut one = Sample::new(EsType::Integer, 5);
        one.update_batch(&[int_lists(&[Some(&[7])])]).unwrap();
        assert_eq!(one.evaluate().unwrap(), scalar_list(&[ScalarValue::Int32(Some(7))], &DataType::Int32));
    }
}
