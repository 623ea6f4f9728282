//! Row-at-a-time access to arrays as ES|QL constants ([`Literal`]), for functions whose work
//! per value outweighs the dispatch (conversions, parsing).

use crate::ir::Literal;
use crate::types::EsType;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BinaryBuilder, BooleanBuilder, FixedSizeBinaryBuilder, Float64Builder, Int32Builder,
    Int64Builder, StringBuilder, TimestampMillisecondBuilder, TimestampNanosecondBuilder, UInt64Builder,
};
use datafusion::arrow::datatypes::{self as t, DataType};
use datafusion::common::{DataFusionError, Result};
use std::sync::Arc;

/// The value at row `i` of a single-valued array of ES|QL type `ty` (`Literal::Null` if null).
pub fn value_at(a: &ArrayRef, i: usize, ty: EsType) -> Literal {
    if a.is_null(i) || a.data_type() == &DataType::Null {
        return Literal::Null;
    }
    match a.data_type() {
        DataType::Boolean => Literal::Boolean(a.as_boolean().value(i)),
        DataType::Int32 => Literal::Integer(a.as_primitive::<t::Int32Type>().value(i)),
        DataType::Int64 => Literal::Long(a.as_primitive::<t::Int64Type>().value(i)),
        DataType::UInt64 => Literal::UnsignedLong(a.as_primitive::<t::UInt64Type>().value(i)),
        DataType::Float64 => Literal::Double(a.as_primitive::<t::Float64Type>().value(i)),
        DataType::Utf8 => Literal::String(a.as_string::<i32>().value(i).to_string()),
        DataType::FixedSizeBinary(_) => {
            let mut b = [0u8; 16];
            let v = a.as_fixed_size_binary().value(i);
            b[..v.len().min(16)].copy_from_slice(&v[..v.len().min(16)]);
            Literal::Ip(b)
        }
        DataType::Binary => Literal::Version(a.as_binary::<i32>().value(i).to_vec()),
        DataType::Timestamp(t::TimeUnit::Nanosecond, _) => {
            Literal::DateNanos(a.as_primitive::<t::TimestampNanosecondType>().value(i))
        }
        DataType::Timestamp(t::TimeUnit::Millisecond, _) => {
            Literal::Date(a.as_primitive::<t::TimestampMillisecondType>().value(i))
        }
        DataType::Interval(_) => {
            let v = a.as_primitive::<t::IntervalMonthDayNanoType>().value(i);
            Literal::Period { months: v.months, days: v.days }
        }
        DataType::Duration(_) => Literal::Duration(a.as_primitive::<t::DurationMillisecondType>().value(i)),
        _ => {
            let _ = ty;
            Literal::Null
        }
    }
}

/// Builds a single-valued array of ES|QL type `ty` from values (`Literal::Null` is null; a
/// value of another type is an internal error).
pub fn build(ty: EsType, values: impl IntoIterator<Item = Literal>) -> Result<ArrayRef> {
    macro_rules! prim {
        ($B:ty, $pat:path) => {{
            let mut b = <$B>::new();
            for v in values {
                match v {
                    Literal::Null => b.append_null(),
                    $pat(x) => b.append_value(x),
                    other => return Err(mismatch(ty, &other)),
                }
            }
            Arc::new(b.finish()) as ArrayRef
        }};
    }
    Ok(match ty {
        EsType::Boolean => prim!(BooleanBuilder, Literal::Boolean),
        EsType::Integer => prim!(Int32Builder, Literal::Integer),
        EsType::Long => prim!(Int64Builder, Literal::Long),
        EsType::UnsignedLong => prim!(UInt64Builder, Literal::UnsignedLong),
        EsType::Double => prim!(Float64Builder, Literal::Double),
        EsType::Keyword | EsType::Text | EsType::GeoPoint => prim!(StringBuilder, Literal::String),
        EsType::Date => prim!(TimestampMillisecondBuilder, Literal::Date),
        EsType::DateNanos => prim!(TimestampNanosecondBuilder, Literal::DateNanos),
        EsType::Version => prim!(BinaryBuilder, Literal::Version),
        EsType::Ip => {
            let mut b = FixedSizeBinaryBuilder::new(16);
            for v in values {
                match v {
                    Literal::Null => b.append_null(),
                    Literal::Ip(x) => b.append_value(x)?,
                    other => return Err(mismatch(ty, &other)),
                }
            }
            Arc::new(b.finish())
        }
        other => return Err(DataFusionError::Internal(format!("cannot build an array of {other}"))),
    })
}

fn mismatch(ty: EsType, v: &Literal) -> DataFusionError {
    DataFusionError::Internal(format!("value {v:?} in an array of {ty}"))
}

/// Applies `f` to every value of a single- or multi-valued array, keeping the shape: for a
/// multi-valued input, values mapped to null are dropped and a row left without values is null.
pub fn map_values(
    a: &ArrayRef,
    in_ty: EsType,
    out_ty: EsType,
    mut f: impl FnMut(Literal) -> Literal,
) -> Result<ArrayRef> {
    if let Some(list) = a.as_list_opt::<i32>() {
        let values = list.values();
        let offsets = list.value_offsets();
        let mut out = Vec::new();
        let mut new_offsets = vec![0i32];
        for i in 0..list.len() {
            if list.is_valid(i) {
                for j in offsets[i] as usize..offsets[i + 1] as usize {
                    let v = f(value_at(values, j, in_ty));
                    if v != Literal::Null {
                        out.push(v);
                    }
                }
            }
            new_offsets.push(out.len() as i32);
        }
        let values = build(out_ty, out)?;
        return super::kernels::list_from_offsets(values, new_offsets, out_ty);
    }
    let mut out = Vec::with_capacity(a.len());
    for i in 0..a.len() {
        let v = value_at(a, i, in_ty);
        out.push(if v == Literal::Null { Literal::Null } else { f(v) });
    }
    build(out_ty, out)
}
