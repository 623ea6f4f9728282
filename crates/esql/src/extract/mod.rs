//! `DISSECT` and `GROK`: pulling fields out of a string, one struct of outputs per row.

pub mod dissect;
pub mod grok;

use crate::functions::values::build;
use crate::ir::Literal;
use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use crate::warnings::WarningSink;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, StructArray};
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use datafusion::common::Result;
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// A compiled extraction pattern.
#[derive(Debug, Clone)]
pub enum Pattern {
    /// `DISSECT`
    Dissect(dissect::Dissect),
    /// `GROK`
    Grok(grok::Grok),
}

impl Pattern {
    /// The output columns: names, types and whether multi-valued.
    pub fn outputs(&self) -> Vec<(String, EsType, bool)> {
        match self {
            Pattern::Dissect(d) => d.outputs().iter().map(|n| (n.clone(), EsType::Keyword, false)).collect(),
            Pattern::Grok(g) => g.outputs().iter().map(|(n, t)| (n.clone(), *t, false)).collect(),
        }
    }

    /// The values of one input, or `None` when it does not match.
    fn apply(&self, input: &str) -> Option<Vec<Literal>> {
        match self {
            Pattern::Dissect(d) => Some(d.apply(input)?.into_iter().map(Literal::String).collect()),
            Pattern::Grok(g) => {
                let values = g.apply(input)?;
                Some(
                    values
                        .into_iter()
                        .zip(g.outputs())
                        .map(|(vs, (_, ty))| match vs.into_iter().next() {
                            None => Literal::Null,
                            Some(v) => typed(&v, *ty),
                        })
                        .collect(),
                )
            }
        }
    }
}

fn typed(v: &str, ty: EsType) -> Literal {
    match ty {
        EsType::Integer => v.parse().map(Literal::Integer).unwrap_or(Literal::Null),
        EsType::Long => v.parse().map(Literal::Long).unwrap_or(Literal::Null),
        EsType::Double => v.parse().map(Literal::Double).unwrap_or(Literal::Null),
        EsType::Boolean => Literal::Boolean(v.eq_ignore_ascii_case("true")),
        _ => Literal::String(v.to_string()),
    }
}

/// The struct type the extraction UDF returns: one field per output.
fn struct_fields(pattern: &Pattern) -> Fields {
    pattern.outputs().iter().map(|(n, t, _)| Field::new(n, t.arrow(), true)).collect::<Vec<_>>().into()
}

/// The expression computing all outputs of `pattern` over `input` as one struct column.
pub fn extract_expr(pattern: Arc<Pattern>, input: Expr, sink: &WarningSink) -> Expr {
    let fields = struct_fields(&pattern);
    let ret = DataType::Struct(fields.clone());
    let kernel: Kernel = Arc::new(move |args: &[ArrayRef], ctx: &EvalCtx| {
        let a = &args[0];
        let outs = pattern.outputs();
        let mut cols: Vec<Vec<Literal>> = vec![Vec::with_capacity(ctx.rows); outs.len()];
        let strings = a.as_string_opt::<i32>();
        for row in 0..a.len() {
            let vals = match strings {
                Some(s) if s.is_valid(row) => pattern.apply(s.value(row)),
                _ => None,
            };
            match vals {
                Some(vs) => vs.into_iter().enumerate().for_each(|(i, v)| cols[i].push(v)),
                None => cols.iter_mut().for_each(|c| c.push(Literal::Null)),
            }
        }
        let arrays = cols.into_iter().zip(&outs).map(|(c, (_, t, _))| build(*t, c)).collect::<Result<Vec<_>>>()?;
        Ok(Arc::new(StructArray::try_new(fields.clone(), arrays, None)?) as ArrayRef)
    });
    udf::call("extract", ret, sink, vec![input], kernel)
}
