//! From parsed documents to an Arrow batch: each value coerced to its field's mapping type and
//! appended to its column, with no per-value allocation for the common types (keyword, ip, date,
//! numbers, booleans). Values that do not fit their type are dropped and their field named in the
//! document's `_ignored`, as Elasticsearch's `ignore_malformed` does.
//!
//! The rarer conversions (numeric strings, `version`, `geo_point`, `unsigned_long`, `float`
//! rounding, …) go through [`ecs::ndjson::coerce_value`], the one definition of how a JSON value
//! becomes a value of a mapping type; the fast paths here give the same results for the cases
//! they take.

use crate::doc::{Doc, FieldId, Leaf, Names};
use crate::index::NewDoc;
use crate::mapping::{FieldMapping, ID_FIELD, IGNORED_FIELD, Mapping};
use ecs::ndjson::{Cell, coerce_value};
use esql::datafusion::arrow::array::{
    ArrayRef, BinaryArray, BooleanArray, FixedSizeBinaryArray, Float64Array, Int32Array, Int64Array, ListArray,
    StringArray, TimestampMillisecondArray, TimestampNanosecondArray, UInt32Array, UInt64Array,
};
use esql::datafusion::arrow::buffer::{Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use esql::datafusion::arrow::datatypes::Field;
use esql::datafusion::arrow::error::ArrowError;
use esql::datafusion::arrow::record_batch::{RecordBatch, RecordBatchOptions};
use esql::types::EsType;
use std::collections::HashMap;
use std::sync::Arc;

/// Builds the buffer batch of `docs` (whose field names are numbered in `names`). Marks fields
/// multi-valued, and adds `_ignored`, in `mapping` as the documents require.
pub(crate) fn build_batch(mapping: &mut Mapping, names: &Names, docs: Vec<NewDoc>) -> Result<RecordBatch, ArrowError> {
    let rows = docs.len();
    let mut slots: Vec<Slot> = vec![Slot::Unknown; names.len()];
    let mut columns: Vec<(FieldId, ColumnBuf)> = Vec::new();
    // (row, field) of every value dropped: malformed, or of a field the mapping lacks
    let mut ignored: Vec<(u32, FieldId)> = Vec::new();
    let mut scratch = String::new();
    // each field's number of values and bytes of text, so that its buffers are allocated once
    let mut sizes: Vec<(usize, usize)> = vec![(0, 0); names.len()];
    for new in &docs {
        for (id, values) in new.doc.fields() {
            let size = &mut sizes[id as usize];
            for leaf in values.iter() {
                size.0 += 1;
                size.1 += new.doc.text_len(leaf);
            }
        }
    }
    for (row, new) in docs.iter().enumerate() {
        let row = u32::try_from(row).map_err(|_| ArrowError::InvalidArgumentError("too many documents".into()))?;
        for (id, values) in new.doc.fields() {
            let slot = &mut slots[id as usize];
            if let Slot::Unknown = slot {
                *slot = match mapping.fields.get(names.name(id)) {
                    None => Slot::Unmapped,
                    Some(f) if !f.is_stored() => Slot::Skip,
                    Some(f) => {
                        columns.push((id, ColumnBuf::new(f, sizes[id as usize])));
                        Slot::Column(columns.len() - 1)
                    }
                };
            }
            match *slot {
                Slot::Unknown | Slot::Skip => {}
                Slot::Unmapped => ignored.push((row, id)),
                Slot::Column(c) => {
                    let column = &mut columns[c].1;
                    let mut stored = 0;
                    let mut malformed = false;
                    for leaf in values.iter() {
                        if column.push(&new.doc, leaf, row, &mut scratch) {
                            stored += 1;
                        } else {
                            malformed = true;
                        }
                    }
                    column.multi_seen |= stored > 1;
                    if malformed {
                        ignored.push((row, id));
                    }
                }
            }
        }
    }
    for (id, column) in &columns {
        if column.multi_seen
            && let Some(f) = mapping.fields.get_mut(names.name(*id))
        {
            f.multi = true;
        }
    }
    if !ignored.is_empty() && !mapping.fields.contains_key(IGNORED_FIELD) {
        mapping.fields.insert(IGNORED_FIELD.to_string(), FieldMapping { multi: true, ..FieldMapping::new("keyword") });
    }
    let schema = mapping.stored_schema();
    let mut by_name: HashMap<&str, ColumnBuf> =
        columns.into_iter().map(|(id, column)| (names.name(id), column)).collect();
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        let name = field.name().as_str();
        let array: ArrayRef = if name == ID_FIELD {
            Arc::new(StringArray::from_iter_values(docs.iter().map(|d| d.id.as_str())))
        } else if name == IGNORED_FIELD {
            ignored.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| names.name(a.1).cmp(names.name(b.1))));
            let mut column = ColumnBuf::of(EsType::Keyword, "keyword", (ignored.len(), 0));
            for &(row, id) in &ignored {
                column.push_str(names.name(id), row);
            }
            column.finish(rows, true)?
        } else if let Some(column) = by_name.remove(name) {
            let multi = mapping.fields.get(name).is_some_and(|f| f.multi);
            column.finish(rows, multi)?
        } else {
            crate::segment::null_column(field.data_type(), rows)
        };
        arrays.push(array);
    }
    RecordBatch::try_new_with_options(schema, arrays, &RecordBatchOptions::new().with_row_count(Some(rows)))
}

/// What a field number is in the index being built.
#[derive(Debug, Clone, Copy)]
enum Slot {
    /// Not looked up yet.
    Unknown,
    /// Not in the mapping (beyond the field limit): its values are dropped, its name ignored.
    Unmapped,
    /// Mapped but not stored per document (constants, types ES|QL cannot read).
    Skip,
    /// Stored in this column.
    Column(usize),
}

/// The values of one column so far, each with its row.
struct ColumnBuf {
    es_type: EsType,
    mapping: String,
    rows: Vec<u32>,
    values: Values,
    /// Some row has several values.
    multi_seen: bool,
}

enum Values {
    Bool(Vec<bool>),
    /// `integer`, `long`, `date` (ms), `date_nanos` (ns).
    Int(Vec<i64>),
    UInt(Vec<u64>),
    Double(Vec<f64>),
    /// `keyword`, `text`, `geo_point` (its WKT): the bytes, and where each value ends.
    Str(Vec<u8>, Vec<i32>),
    Ip(Vec<u8>),
    /// `version` (its sortable encoding).
    Bin(Vec<u8>, Vec<i32>),
    /// A type ES|QL cannot hold a value of: every value is malformed.
    None,
}

impl ColumnBuf {
    /// A column for `field`, with room for `size`: a number of values and bytes of their text.
    fn new(field: &FieldMapping, size: (usize, usize)) -> ColumnBuf {
        ColumnBuf::of(field.es_type(), &field.mapping, size)
    }

    fn of(es_type: EsType, mapping: &str, (count, bytes): (usize, usize)) -> ColumnBuf {
        let values = match es_type {
            EsType::Boolean => Values::Bool(Vec::with_capacity(count)),
            EsType::Integer | EsType::Long | EsType::Date | EsType::DateNanos => Values::Int(Vec::with_capacity(count)),
            EsType::UnsignedLong => Values::UInt(Vec::with_capacity(count)),
            EsType::Double => Values::Double(Vec::with_capacity(count)),
            EsType::Keyword | EsType::Text | EsType::GeoPoint => {
                Values::Str(Vec::with_capacity(bytes), Vec::with_capacity(count))
            }
            EsType::Ip => Values::Ip(Vec::with_capacity(16 * count)),
            EsType::Version => Values::Bin(Vec::with_capacity(bytes), Vec::with_capacity(count)),
            EsType::Null | EsType::DatePeriod | EsType::TimeDuration | EsType::Unsupported => Values::None,
        };
        ColumnBuf { es_type, mapping: mapping.to_string(), rows: Vec::with_capacity(count), values, multi_seen: false }
    }

    fn push_str(&mut self, s: &str, row: u32) {
        if let Values::Str(data, ends) = &mut self.values {
            data.extend_from_slice(s.as_bytes());
            ends.push(end(data.len()));
            self.rows.push(row);
        }
    }

    /// Appends one value of `row`; false when it is malformed for the column's type.
    fn push(&mut self, doc: &Doc, leaf: &Leaf, row: u32, scratch: &mut String) -> bool {
        let stored = match (&mut self.values, self.es_type) {
            (Values::Str(data, ends), EsType::Keyword | EsType::Text) => match doc.text_of(leaf, scratch) {
                Some(text) => {
                    data.extend_from_slice(text.as_bytes());
                    ends.push(end(data.len()));
                    true
                }
                None => false,
            },
            (Values::Ip(data), _) => match doc.str(leaf).and_then(ecs::ndjson::parse_ip) {
                Some(ip) => {
                    data.extend_from_slice(&ip);
                    true
                }
                None => false,
            },
            (Values::Int(values), EsType::Date | EsType::DateNanos)
                if matches!(leaf, Leaf::Raw(..) | Leaf::Str(..)) =>
            {
                let nanos = doc.str(leaf).and_then(ecs::ndjson::parse_date_nanos);
                let value = match self.es_type {
                    EsType::Date => nanos.and_then(|n| i64::try_from(n.div_euclid(1_000_000)).ok()),
                    // date_nanos holds 1970-01-01 to 2262-04-11
                    _ => nanos.and_then(|n| i64::try_from(n).ok()).filter(|n| *n >= 0),
                };
                value.map(|v| values.push(v)).is_some()
            }
            (Values::Int(values), EsType::Integer | EsType::Long) if matches!(leaf, Leaf::Int(_) | Leaf::UInt(_)) => {
                let n = match *leaf {
                    Leaf::Int(i) => i128::from(i),
                    Leaf::UInt(u) => i128::from(u),
                    _ => unreachable!("matched above"),
                };
                let (min, max) = match self.mapping.as_str() {
                    "byte" => (i128::from(i8::MIN), i128::from(i8::MAX)),
                    "short" => (i128::from(i16::MIN), i128::from(i16::MAX)),
                    "integer" => (i128::from(i32::MIN), i128::from(i32::MAX)),
                    _ => (i128::from(i64::MIN), i128::from(i64::MAX)),
                };
                (min..=max).contains(&n) && {
                    values.push(n as i64);
                    true
                }
            }
            (Values::Double(values), _)
                if matches!(leaf, Leaf::Int(_) | Leaf::UInt(_) | Leaf::Float(_))
                    && !matches!(self.mapping.as_str(), "float" | "half_float") =>
            {
                let d = match *leaf {
                    Leaf::Int(i) => i as f64,
                    Leaf::UInt(u) => u as f64,
                    Leaf::Float(f) => f,
                    _ => unreachable!("matched above"),
                };
                d.is_finite() && {
                    values.push(d);
                    true
                }
            }
            (Values::Bool(values), _) if matches!(leaf, Leaf::Bool(_)) => {
                values.push(matches!(leaf, Leaf::Bool(true)));
                true
            }
            (Values::None, _) => false,
            (values, _) => match coerce_value(&doc.value(leaf), &self.mapping) {
                Some(cell) => push_cell(values, cell),
                None => false,
            },
        };
        if stored {
            self.rows.push(row);
        }
        stored
    }

    /// The column of `rows` rows: a list per row when `multi`, else the value or null.
    fn finish(self, rows: usize, multi: bool) -> Result<ArrayRef, ArrowError> {
        let ColumnBuf { es_type, rows: value_rows, values, .. } = self;
        let count = value_rows.len();
        let values = values_array(es_type, values, count)?;
        if multi {
            let mut counts = vec![0usize; rows];
            for &row in &value_rows {
                counts[row as usize] += 1;
            }
            let valid = NullBuffer::from(counts.iter().map(|&c| c > 0).collect::<Vec<bool>>());
            let item = Arc::new(Field::new("item", es_type.arrow(), true));
            return Ok(Arc::new(ListArray::try_new(item, OffsetBuffer::from_lengths(counts), values, Some(valid))?));
        }
        if count == rows {
            // every row has its one value
            return Ok(values);
        }
        let mut indices: Vec<Option<u32>> = vec![None; rows];
        for (i, &row) in value_rows.iter().enumerate() {
            indices[row as usize] = Some(u32::try_from(i).unwrap_or(u32::MAX));
        }
        esql::datafusion::arrow::compute::take(&values, &UInt32Array::from(indices), None)
    }
}

/// Every value, in order, as one array without nulls.
fn values_array(es_type: EsType, values: Values, count: usize) -> Result<ArrayRef, ArrowError> {
    Ok(match values {
        Values::Bool(v) => Arc::new(BooleanArray::from(v)),
        Values::Int(v) => match es_type {
            EsType::Integer => Arc::new(Int32Array::from_iter_values(v.iter().map(|&i| i as i32))),
            EsType::Date => Arc::new(TimestampMillisecondArray::new(ScalarBuffer::from(v), None)),
            EsType::DateNanos => Arc::new(TimestampNanosecondArray::new(ScalarBuffer::from(v), None)),
            _ => Arc::new(Int64Array::new(ScalarBuffer::from(v), None)),
        },
        Values::UInt(v) => Arc::new(UInt64Array::new(ScalarBuffer::from(v), None)),
        Values::Double(v) => Arc::new(Float64Array::new(ScalarBuffer::from(v), None)),
        Values::Str(data, ends) => Arc::new(StringArray::try_new(offsets(&ends), Buffer::from_vec(data), None)?),
        Values::Bin(data, ends) => Arc::new(BinaryArray::try_new(offsets(&ends), Buffer::from_vec(data), None)?),
        Values::Ip(data) => Arc::new(FixedSizeBinaryArray::try_new(16, Buffer::from_vec(data), None)?),
        Values::None => esql::datafusion::arrow::array::new_null_array(&es_type.arrow(), count),
    })
}

fn end(len: usize) -> i32 {
    i32::try_from(len).expect("invariant: a buffer batch holds less than 2 GiB of one column's text")
}

fn offsets(ends: &[i32]) -> OffsetBuffer<i32> {
    let mut all = Vec::with_capacity(ends.len() + 1);
    all.push(0);
    all.extend_from_slice(ends);
    OffsetBuffer::new(ScalarBuffer::from(all))
}

/// Appends a value converted by [`coerce_value`]; false if it does not fit the column (never,
/// for the column's own type).
fn push_cell(values: &mut Values, cell: Cell) -> bool {
    match (values, cell) {
        (Values::Bool(v), Cell::Bool(b)) => v.push(b),
        (Values::Int(v), Cell::Int(i)) => v.push(i),
        (Values::UInt(v), Cell::UnsignedLong(u)) => v.push(u),
        (Values::Double(v), Cell::Double(d)) => v.push(d),
        (Values::Str(data, ends), Cell::Str(s)) => {
            data.extend_from_slice(s.as_bytes());
            ends.push(end(data.len()));
        }
        (Values::Ip(data), Cell::Bytes(b)) if b.len() == 16 => data.extend_from_slice(&b),
        (Values::Bin(data, ends), Cell::Bytes(b)) => {
            data.extend_from_slice(&b);
            ends.push(end(data.len()));
        }
        _ => return false,
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::{Duplicates, parse};
    use esql::datafusion::arrow::array::Array;
    use serde_json::{Value, json};

    /// The column as the JSON tree gives it: each value through [`coerce_value`], then
    /// [`ecs::ndjson::column`].
    fn oracle(mapping: &str, multi: bool, rows: &[Value]) -> ArrayRef {
        let es_type = EsType::from_mapping(mapping).expect("type");
        let cells: Vec<Vec<Cell>> = rows
            .iter()
            .map(|row| match row {
                Value::Null => Vec::new(),
                // a geo_point's `[lon, lat]` is one value
                Value::Array(items) if !(mapping == "geo_point" && items[0].is_number()) => {
                    items.iter().filter_map(|v| coerce_value(v, mapping)).collect()
                }
                v => coerce_value(v, mapping).into_iter().collect(),
            })
            .collect();
        ecs::ndjson::column(es_type, multi, &cells)
    }

    #[test]
    fn columns_match_the_json_tree_coercions() {
        let cases: Vec<(&str, Vec<Value>)> = vec![
            ("keyword", vec![json!("a"), json!(1), json!(-2), json!(1.5), json!(true), Value::Null, json!("é\"")]),
            ("keyword", vec![json!(["a", "b"]), json!("c"), Value::Null, json!([1, 2.25])]),
            ("long", vec![json!(1), json!(-5), json!("7"), json!("7.9"), json!(1.9), json!("x"), json!(u64::MAX)]),
            ("integer", vec![json!(2147483647), json!(2147483648_i64), json!(-3), Value::Null]),
            ("byte", vec![json!(127), json!(128), json!("-128")]),
            ("short", vec![json!(32767), json!(-32769)]),
            ("double", vec![json!(1), json!(2.5), json!("3.25"), json!(u64::MAX), json!("nan"), json!(true)]),
            ("float", vec![json!(0.1), json!(1), json!("2.5")]),
            ("half_float", vec![json!(0.1), json!(70000), json!(1)]),
            ("unsigned_long", vec![json!(u64::MAX), json!(-1), json!("5")]),
            ("boolean", vec![json!(true), json!("false"), json!(""), json!("yes"), json!(1)]),
            ("ip", vec![json!("10.0.0.1"), json!("::1"), json!("bad"), json!(1), json!(["1.1.1.1", "2.2.2.2"])]),
            (
                "date",
                vec![json!("2025-01-01T00:00:00Z"), json!("2025-01-01"), json!(1_700_000_000_000_i64), json!("x")],
            ),
            ("date", vec![json!("1969-12-31T23:59:59.9999Z"), json!("1700000000000"), json!(1.5)]),
            ("date_nanos", vec![json!("2025-01-01T00:00:00.123456789Z"), json!("1969-01-01T00:00:00Z")]),
            ("version", vec![json!("1.2.3"), json!("1.2.3-alpha"), json!(7)]),
            ("geo_point", vec![json!({"lat": 1.5, "lon": 2}), json!("1.5,2"), json!([2, 1.5]), json!("bad")]),
        ];
        for (mapping, rows) in cases {
            // a geo_point's object form is one value only for a field the table maps so
            let field = if mapping == "geo_point" { "source.geo.location" } else { "f" };
            let mut names = Names::default();
            let docs: Vec<NewDoc> = rows
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let source = serde_json::to_vec(&json!({ field: v })).expect("json");
                    NewDoc {
                        id: format!("d{i}"),
                        doc: parse(&source.into(), &mut names, Duplicates::Refuse).expect("parse"),
                    }
                })
                .collect();
            let mut m = Mapping::default();
            m.add(field, &FieldMapping::new(mapping));
            let batch = build_batch(&mut m, &names, docs).expect("batch");
            let multi = m.fields[field].multi;
            let expected = oracle(mapping, multi, &rows);
            let got = batch.column_by_name(field).expect("column");
            assert_eq!(got.to_data(), expected.to_data(), "{mapping}: {rows:?}");
            // malformed values name the field in `_ignored`
            let malformed = rows.iter().any(|row| match row {
                Value::Null => false,
                Value::Array(items) => items.iter().any(|v| coerce_value(v, mapping).is_none()),
                v => coerce_value(v, mapping).is_none(),
            });
            assert_eq!(
                batch.column_by_name(IGNORED_FIELD).is_some_and(|c| c.null_count() < c.len()),
                malformed,
                "{mapping}"
            );
        }
    }

    #[test]
    fn ignored_names_are_sorted_per_document() {
        let mut names = Names::default();
        let source = br#"{"z":1,"a":"x","n":"bad","k":"y"}"#;
        let docs = vec![NewDoc {
            id: "1".into(),
            doc: parse(&source[..].into(), &mut names, Duplicates::Refuse).expect("parse"),
        }];
        let mut m = Mapping::default();
        m.add("n", &FieldMapping::new("long"));
        m.add("k", &FieldMapping::new("keyword"));
        let batch = build_batch(&mut m, &names, docs).expect("batch");
        let ignored = batch.column_by_name(IGNORED_FIELD).expect("_ignored");
        let list = ignored.as_any().downcast_ref::<ListArray>().expect("list");
        let values = list.value(0);
        let values = values.as_any().downcast_ref::<StringArray>().expect("strings");
        assert_eq!(values.iter().flatten().collect::<Vec<_>>(), vec!["a", "n", "z"]);
    }
}
