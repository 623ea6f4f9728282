//! Array building blocks shared by the functions: multi-value handling (lists), typed
//! iteration, and small constructors.

use crate::types::EsType;
use crate::udf::{self, EvalCtx, Kernel};
use crate::warnings::WarningSink;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int32Array, Int64Array, ListArray, StringArray, UInt32Array,
    UInt64Array, new_null_array,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::compute::{filter, take};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::Expr;
use std::sync::Arc;

/// The list array behind a multi-valued argument, or `None` when the argument is single-valued.
pub fn as_list(a: &ArrayRef) -> Option<&ListArray> {
    a.as_list_opt::<i32>()
}

/// A multi-valued array from per-row value ranges into `values`: row `i` holds
/// `values[offsets[i]..offsets[i+1]]`; a row with no values is null.
pub fn list_from_offsets(values: ArrayRef, offsets: Vec<i32>, ty: EsType) -> Result<ArrayRef> {
    let nulls: Vec<bool> = offsets.windows(2).map(|w| w[1] > w[0]).collect();
    let field = Arc::new(Field::new("item", ty.arrow(), true));
    let list = ListArray::try_new(field, OffsetBuffer::new(offsets.into()), values, Some(nulls.into()))?;
    Ok(Arc::new(list))
}

/// Builds a multi-valued result from per-row index lists into `values` (indices taken in order).
pub fn list_from_indices(values: &ArrayRef, rows: &[Vec<u32>], ty: EsType) -> Result<ArrayRef> {
    let mut offsets = Vec::with_capacity(rows.len() + 1);
    offsets.push(0i32);
    let mut idx = Vec::new();
    for r in rows {
        idx.extend_from_slice(r);
        offsets.push(i32::try_from(idx.len()).map_err(|_| DataFusionError::Execution("multi-value too large".into()))?);
    }
    let taken = take(values.as_ref(), &UInt32Array::from(idx), None)?;
    let taken = cast_values(taken, ty)?;
    list_from_offsets(taken, offsets, ty)
}

fn cast_values(a: ArrayRef, ty: EsType) -> Result<ArrayRef> {
    if a.data_type() == &ty.arrow() {
        return Ok(a);
    }
    Ok(datafusion::arrow::compute::cast(&a, &ty.arrow())?)
}

/// `mv_single`: one value → that value; none → null; several → null plus Elastic's
/// "single-value function encountered multi-value" warning.
pub fn mv_single(a: &ArrayRef, sink: &WarningSink) -> Result<ArrayRef> {
    let Some(list) = as_list(a) else { return Ok(a.clone()) };
    let offsets = list.value_offsets();
    let mut idx: Vec<Option<u32>> = Vec::with_capacity(list.len());
    for i in 0..list.len() {
        let (s, e) = (offsets[i], offsets[i + 1]);
        if list.is_null(i) || e == s {
            idx.push(None);
        } else if e - s == 1 {
            idx.push(Some(s as u32));
        } else {
            sink.multi_value();
            idx.push(None);
        }
    }
    Ok(take(list.values().as_ref(), &UInt32Array::from(idx), None)?)
}

/// The DataFusion expression for [`mv_single`].
pub fn mv_single_expr(e: Expr, ty: EsType, sink: &WarningSink) -> Expr {
    let kernel: Kernel = Arc::new(|args: &[ArrayRef], ctx: &EvalCtx| mv_single(&args[0], ctx.sink));
    udf::call("mv_single", ty.arrow(), sink, vec![e], kernel)
}

/// A multi-valued boolean condition read as one value: several values count as false, with
/// Elastic's "treating result as false" warning (as `CASE` does).
pub fn mv_single_condition_expr(e: Expr, sink: &WarningSink) -> Expr {
    let kernel: Kernel = Arc::new(|args: &[ArrayRef], ctx: &EvalCtx| {
        let a = &args[0];
        let Some(list) = as_list(a) else { return Ok(a.clone()) };
        let values = list.values().as_boolean();
        let offsets = list.value_offsets();
        let mut out = Vec::with_capacity(list.len());
        for i in 0..list.len() {
            let (s, e) = (offsets[i] as usize, offsets[i + 1] as usize);
            out.push(if list.is_null(i) || e == s {
                None
            } else if e - s == 1 {
                values.is_valid(s).then(|| values.value(s))
            } else {
                ctx.sink
                    .false_because("java.lang.IllegalArgumentException: single-value function encountered multi-value");
                Some(false)
            });
        }
        Ok(Arc::new(BooleanArray::from(out)) as ArrayRef)
    });
    udf::call("mv_single_condition", DataType::Boolean, sink, vec![e], kernel)
}

/// Wraps a single-valued array as a multi-valued one (each non-null value a list of one).
pub fn to_list(a: &ArrayRef, ty: EsType) -> Result<ArrayRef> {
    let mut offsets = Vec::with_capacity(a.len() + 1);
    offsets.push(0i32);
    let mut n = 0i32;
    for i in 0..a.len() {
        if a.is_valid(i) {
            n += 1;
        }
        offsets.push(n);
    }
    let mask = BooleanArray::from((0..a.len()).map(|i| a.is_valid(i)).collect::<Vec<_>>());
    let values = filter(a.as_ref(), &mask)?;
    let values = if values.data_type() == &DataType::Null { cast_values(values, ty)? } else { values };
    list_from_offsets(values, offsets, ty)
}

/// The DataFusion expression for [`to_list`].
pub fn to_list_expr(e: Expr, ty: EsType) -> Expr {
    let kernel: Kernel = Arc::new(move |args: &[ArrayRef], _ctx: &EvalCtx| to_list(&args[0], ty));
    udf::call("to_multi", ty.arrow_column(true), &WarningSink::discard(), vec![e], kernel)
}

/// Per row, the index (into the list's values) of the smallest or largest value.
fn mv_extreme(a: &ArrayRef, max: bool) -> Result<ArrayRef> {
    let Some(list) = as_list(a) else { return Ok(a.clone()) };
    let values = list.values();
    let conv = RowConverter::new(vec![SortField::new(values.data_type().clone())])?;
    let rows = conv.convert_columns(std::slice::from_ref(values))?;
    let offsets = list.value_offsets();
    let mut idx: Vec<Option<u32>> = Vec::with_capacity(list.len());
    for i in 0..list.len() {
        let (s, e) = (offsets[i] as usize, offsets[i + 1] as usize);
        let mut best: Option<usize> = None;
        if list.is_valid(i) {
            for j in s..e {
                if values.is_null(j) {
                    continue;
                }
                best = match best {
                    None => Some(j),
                    Some(b) => {
                        let better = if max { rows.row(j) > rows.row(b) } else { rows.row(j) < rows.row(b) };
                        Some(if better { j } else { b })
                    }
                };
            }
        }
        idx.push(best.map(|b| b as u32));
    }
    Ok(take(values.as_ref(), &UInt32Array::from(idx), None)?)
}

/// Smallest value of each row (byte-wise for strings, numeric for numbers).
pub fn mv_min(a: &ArrayRef) -> Result<ArrayRef> {
    mv_extreme(a, false)
}

/// Largest value of each row.
pub fn mv_max(a: &ArrayRef) -> Result<ArrayRef> {
    mv_extreme(a, true)
}

/// Expression for [`mv_min`].
pub fn mv_min_expr(e: Expr, ty: EsType) -> Expr {
    let kernel: Kernel = Arc::new(|args: &[ArrayRef], _ctx: &EvalCtx| mv_min(&args[0]));
    udf::call("mv_min", ty.arrow(), &WarningSink::discard(), vec![e], kernel)
}

/// Expression for [`mv_max`].
pub fn mv_max_expr(e: Expr, ty: EsType) -> Expr {
    let kernel: Kernel = Arc::new(|args: &[ArrayRef], _ctx: &EvalCtx| mv_max(&args[0]));
    udf::call("mv_max", ty.arrow(), &WarningSink::discard(), vec![e], kernel)
}

/// Number of values per row (0 for null).
pub fn value_counts(a: &ArrayRef) -> Vec<usize> {
    match as_list(a) {
        Some(l) => (0..l.len()).map(|i| if l.is_null(i) { 0 } else { l.value_length(i) as usize }).collect(),
        None => (0..a.len()).map(|i| usize::from(a.is_valid(i))).collect(),
    }
}

/// An all-null array of a type.
pub fn nulls(dt: &DataType, n: usize) -> ArrayRef {
    new_null_array(dt, n)
}

/// Maps a string array row by row; `None` results are null.
pub fn map_str(a: &ArrayRef, mut f: impl FnMut(&str) -> Option<String>) -> Result<ArrayRef> {
    if a.data_type() == &DataType::Null {
        return Ok(new_null_array(&DataType::Utf8, a.len()));
    }
    let s = a.as_string::<i32>();
    let out: StringArray = s.iter().map(|v| v.and_then(&mut f)).collect();
    Ok(Arc::new(out))
}

/// Reads a numeric array as f64 values (null where null).
pub fn to_f64s(a: &ArrayRef) -> Result<Vec<Option<f64>>> {
    use datafusion::arrow::datatypes as t;
    Ok(match a.data_type() {
        DataType::Null => vec![None; a.len()],
        DataType::Int32 => a.as_primitive::<t::Int32Type>().iter().map(|v| v.map(f64::from)).collect(),
        DataType::Int64 => a.as_primitive::<t::Int64Type>().iter().map(|v| v.map(|x| x as f64)).collect(),
        DataType::UInt64 => a.as_primitive::<t::UInt64Type>().iter().map(|v| v.map(|x| x as f64)).collect(),
        DataType::Float64 => a.as_primitive::<t::Float64Type>().iter().collect(),
        other => return Err(DataFusionError::Internal(format!("expected a numeric array, found {other}"))),
    })
}

/// Reads an integer/long array as i64 values.
pub fn to_i64s(a: &ArrayRef) -> Result<Vec<Option<i64>>> {
    use datafusion::arrow::datatypes as t;
    Ok(match a.data_type() {
        DataType::Null => vec![None; a.len()],
        DataType::Int32 => a.as_primitive::<t::Int32Type>().iter().map(|v| v.map(i64::from)).collect(),
        DataType::Int64 => a.as_primitive::<t::Int64Type>().iter().collect(),
        DataType::Timestamp(_, _) => {
            let c = datafusion::arrow::compute::cast(a, &DataType::Int64)?;
            c.as_primitive::<t::Int64Type>().iter().collect()
        }
        other => return Err(DataFusionError::Internal(format!("expected an integer array, found {other}"))),
    })
}

/// Builds an array of ES|QL type `ty` from f64 values (only for double).
pub fn f64_array(v: Vec<Option<f64>>) -> ArrayRef {
    Arc::new(Float64Array::from(v))
}

/// Builds a long array.
pub fn i64_array(v: Vec<Option<i64>>) -> ArrayRef {
    Arc::new(Int64Array::from(v))
}

/// Builds an integer array.
pub fn i32_array(v: Vec<Option<i32>>) -> ArrayRef {
    Arc::new(Int32Array::from(v))
}

/// Builds an unsigned_long array.
pub fn u64_array(v: Vec<Option<u64>>) -> ArrayRef {
    Arc::new(UInt64Array::from(v))
}

/// Builds a boolean array.
pub fn bool_array(v: Vec<Option<bool>>) -> ArrayRef {
    Arc::new(BooleanArray::from(v))
}

/// Builds a keyword array.
pub fn str_array(v: Vec<Option<String>>) -> ArrayRef {
    Arc::new(StringArray::from(v))
}
