//! Loading a folder of NDJSON files into a [`MemCatalog`], one index per file, typing every field
//! as Elasticsearch would map it.
//!
//! - `logs-azure.signinlogs-default.ndjson` becomes index `logs-azure.signinlogs-default`
//!   (`.jsonl` and `.json` too; a `.json` file may also hold one JSON array or one object).
//! - Objects are flattened to dotted names; `{"source":{"ip":…}}` and `{"source.ip":…}` are the same.
//! - A field the table knows ([`crate::field_type`]) gets that type. Any other field is typed by the
//!   shape of its JSON values across the file: strings → keyword, integers → long, numbers with a
//!   fraction (or integers mixed with them) → double, booleans → boolean, any other mix → keyword of
//!   the JSON text. (Saker indices use `logs@mappings`' rules: strings are keywords and
//!   `date_detection` is off.)
//! - Arrays are multi-values; a one-element array is one value; `[]` and `null` are absent. Objects
//!   inside arrays are flattened one by one and their leaves collected as multi-values.
//! - A value that does not parse for its type (`"source.ip": "not-an-ip"`) is dropped for that
//!   document and the field name is recorded in the `_ignored` column (keyword, multi-valued), as
//!   Elasticsearch's `ignore_malformed` does; the document is kept. `_ignored` exists only in
//!   indices where something was ignored.
//! - A `geo_point` field reads Elasticsearch's input forms (`{"lat": …, "lon": …}`, GeoJSON,
//!   `"lat,lon"`, `[lon, lat]`, WKT `POINT`) into the WKT text ES|QL returns; an array whose first
//!   element is a number is one `[lon, lat]` point. Geohash strings are not read (malformed).
//! - A `constant_keyword` field (`data_stream.*`) that holds one value in the whole file is that
//!   value in every document, as in Elasticsearch.
//!
//! Deviations from Elasticsearch: every type ignores malformed values (Elasticsearch rejects the
//! document for `boolean`, `keyword` objects and a few others); `ignore_above` is not applied;
//! `scaled_float` keeps full precision (the scaling factor is not in the table); nested objects are
//! flattened like plain objects.

use esql::catalog::{FieldInfo, MemCatalog, MemIndex};
use esql::datafusion::arrow::array::{
    ArrayRef, BinaryArray, BooleanArray, FixedSizeBinaryArray, Float64Array, Int32Array, Int64Array, ListArray,
    NullArray, StringArray, TimestampMillisecondArray, TimestampNanosecondArray, UInt64Array,
};
use esql::datafusion::arrow::buffer::{NullBuffer, OffsetBuffer};
use esql::datafusion::arrow::datatypes::Field;
use esql::datafusion::arrow::record_batch::RecordBatch;
use esql::types::EsType;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The name of the column listing, per document, the fields whose values were malformed.
pub const IGNORED_FIELD: &str = "_ignored";

/// The file extensions read as documents.
pub const EXTENSIONS: [&str; 3] = ["ndjson", "jsonl", "json"];

/// A problem with one line (or one whole file) of input. The line's document is skipped; loading
/// goes on with the next line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line number, when the problem is on one line.
    pub line: Option<usize>,
    /// What is wrong (for JSON syntax errors, serde_json's message).
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.path.display(), self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for LoadError {}

/// The result of loading a folder.
#[derive(Clone)]
pub struct Loaded {
    /// One index per file.
    pub catalog: MemCatalog,
    /// Each index's name and number of documents, sorted by name.
    pub indices: Vec<(String, usize)>,
    /// Lines that could not be loaded.
    pub errors: Vec<LoadError>,
}

/// Loads every `*.ndjson`, `*.jsonl` and `*.json` file of `dir` (not recursively) into one index
/// per file. Files whose names differ only by extension go to the same index.
///
/// # Errors
/// Only when `dir` cannot be listed. Unreadable files and bad lines are reported in
/// [`Loaded::errors`] and skipped.
pub fn load_dir(dir: &Path) -> Result<Loaded, LoadError> {
    let listing = std::fs::read_dir(dir).map_err(|e| LoadError {
        path: dir.to_path_buf(),
        line: None,
        message: e.to_string(),
    })?;
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    for entry in listing {
        let entry = entry.map_err(|e| LoadError { path: dir.to_path_buf(), line: None, message: e.to_string() })?;
        let path = entry.path();
        if path.is_file()
            && let Some(name) = index_name(&path)
        {
            files.push((name, path));
        }
    }
    files.sort();
    let mut builders: BTreeMap<String, IndexBuilder> = BTreeMap::new();
    let mut errors = Vec::new();
    for (name, path) in files {
        let builder = builders.entry(name.clone()).or_insert_with(|| IndexBuilder::new(name));
        read_file(&path, builder, &mut errors);
    }
    let mut catalog = MemCatalog::new();
    let mut indices = Vec::new();
    for (name, builder) in builders {
        indices.push((name, builder.len()));
        catalog.add(Arc::new(builder.finish()));
    }
    Ok(Loaded { catalog, indices, errors })
}

/// The index a file loads into: its name without the extension, `None` for other extensions.
pub fn index_name(path: &Path) -> Option<String> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    if !EXTENSIONS.contains(&ext.as_str()) {
        return None;
    }
    let stem = path.file_stem()?.to_str()?;
    (!stem.is_empty()).then(|| stem.to_string())
}

/// Reads one file's documents into `builder`, appending problems to `errors`.
pub fn read_file(path: &Path, builder: &mut IndexBuilder, errors: &mut Vec<LoadError>) {
    let error = |line: Option<usize>, message: String| LoadError { path: path.to_path_buf(), line, message };
    let is_json = path.extension().and_then(|e| e.to_str()).is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if is_json {
        // A `.json` file may be one array of documents or one (pretty-printed) document.
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) => return errors.push(error(None, e.to_string())),
        };
        if let Ok(value) = serde_json::from_str::<Value>(&text) {
            let docs = match value {
                Value::Array(docs) => docs,
                other => vec![other],
            };
            for doc in docs {
                if let Err(message) = builder.add(doc) {
                    errors.push(error(None, message));
                }
            }
            return;
        }
        read_lines(path, text.as_bytes(), builder, errors);
        return;
    }
    match std::fs::File::open(path) {
        Ok(file) => read_lines(path, std::io::BufReader::new(file), builder, errors),
        Err(e) => errors.push(error(None, e.to_string())),
    }
}

fn read_lines(path: &Path, mut reader: impl BufRead, builder: &mut IndexBuilder, errors: &mut Vec<LoadError>) {
    let mut buf = Vec::new();
    let mut line_no = 0;
    loop {
        buf.clear();
        line_no += 1;
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) => {
                errors.push(LoadError { path: path.to_path_buf(), line: Some(line_no), message: e.to_string() });
                return;
            }
        }
        let error = |message: String| LoadError { path: path.to_path_buf(), line: Some(line_no), message };
        let Ok(text) = std::str::from_utf8(&buf) else {
            errors.push(error("invalid UTF-8".to_string()));
            continue;
        };
        if text.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(text) {
            Ok(doc) => {
                if let Err(message) = builder.add(doc) {
                    errors.push(error(message));
                }
            }
            Err(e) => errors.push(error(e.to_string())),
        }
    }
}

/// One document, flattened: dotted leaf name → its values in document order.
pub type FlatDoc = BTreeMap<String, Vec<Value>>;

/// Flattens one document to dotted leaf names, as [`IndexBuilder::add`] does. The embedded store
/// uses it to type documents one batch at a time.
///
/// # Errors
/// When `doc` is not a JSON object or has an empty field name.
pub fn flatten(doc: Value) -> Result<FlatDoc, String> {
    let Value::Object(map) = doc else {
        return Err(format!("expected a JSON object, found {}", json_kind(&doc)));
    };
    let mut flat = FlatDoc::new();
    flatten_object("", map, &mut flat)?;
    Ok(flat)
}

/// The Elasticsearch mapping type a field gets when it is first seen in `docs`: the table's type
/// when it has one (`ip`, `flattened`, …), else one inferred from the shape of its JSON values as
/// [`IndexBuilder::finish`] does (`keyword`, `long`, `double`, `boolean`; `keyword` for a mix).
pub fn mapping_of(name: &str, docs: &[FlatDoc]) -> &'static str {
    match typing_of(name, docs) {
        Typing::Mapped { mapping, .. } => mapping,
        Typing::Unsupported => crate::field_type(name).unwrap_or("object"),
        Typing::Inferred(es_type) => es_type.name(),
        Typing::JsonText => "keyword",
    }
}

/// Converts one (leaf) JSON value for a field of the Elasticsearch mapping type `mapping`;
/// `None` when the value is malformed for it, or when ES|QL cannot read the type at all.
pub fn coerce_value(value: &Value, mapping: &str) -> Option<Cell> {
    let es_type = EsType::from_mapping(mapping)?;
    coerce_to(value, es_type, mapping)
}

/// Collects documents for one index, then types them ([`IndexBuilder::finish`]).
#[derive(Debug, Clone)]
pub struct IndexBuilder {
    name: String,
    docs: Vec<FlatDoc>,
}

impl IndexBuilder {
    /// A builder for the index `name`.
    pub fn new(name: impl Into<String>) -> IndexBuilder {
        IndexBuilder { name: name.into(), docs: Vec::new() }
    }

    /// The number of documents added so far.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    /// True when no document was added.
    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// Adds one document.
    ///
    /// # Errors
    /// When `doc` is not a JSON object or has an empty field name; the document is skipped.
    pub fn add(&mut self, doc: Value) -> Result<(), String> {
        self.docs.push(flatten(doc)?);
        Ok(())
    }

    /// Types the fields and builds the index.
    pub fn finish(self) -> MemIndex {
        let rows = self.docs.len();
        let names: BTreeSet<&str> = self.docs.iter().flat_map(|d| d.keys().map(String::as_str)).collect();
        let mut ignored: Vec<Vec<String>> = vec![Vec::new(); rows];
        let mut columns: Vec<(FieldInfo, ArrayRef)> = Vec::new();
        let mut constants = Vec::new();
        for name in names {
            let typing = typing_of(name, &self.docs);
            let es_type = match typing {
                Typing::Mapped { es_type, .. } | Typing::Inferred(es_type) => es_type,
                Typing::JsonText => EsType::Keyword,
                Typing::Unsupported => {
                    let info = FieldInfo { name: name.to_string(), es_type: EsType::Unsupported, multi: false };
                    columns.push((info, Arc::new(NullArray::new(rows))));
                    continue;
                }
            };
            let mut cells: Vec<Vec<Cell>> = Vec::with_capacity(rows);
            for (row, doc) in self.docs.iter().enumerate() {
                let mut out = Vec::new();
                for value in doc.get(name).into_iter().flatten() {
                    match coerce(value, &typing) {
                        Some(cell) => out.push(cell),
                        None => {
                            if !ignored[row].iter().any(|n| n == name) {
                                ignored[row].push(name.to_string());
                            }
                        }
                    }
                }
                cells.push(out);
            }
            if let Typing::Mapped { mapping: "constant_keyword", .. } = typing
                && let Some(value) = single_value(&cells)
            {
                cells = vec![vec![Cell::Str(value.clone())]; rows];
                constants.push((name.to_string(), value));
            }
            let multi = cells.iter().any(|c| c.len() > 1);
            let info = FieldInfo { name: name.to_string(), es_type, multi };
            let array = column(es_type, multi, &cells);
            columns.push((info, array));
        }
        if ignored.iter().any(|i| !i.is_empty()) {
            let cells: Vec<Vec<Cell>> =
                ignored.into_iter().map(|names| names.into_iter().map(Cell::Str).collect()).collect();
            let info = FieldInfo { name: IGNORED_FIELD.to_string(), es_type: EsType::Keyword, multi: true };
            columns.push((info, column(EsType::Keyword, true, &cells)));
        }
        columns.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        let (fields, arrays): (Vec<FieldInfo>, Vec<ArrayRef>) = columns.into_iter().unzip();
        let batches = if rows == 0 {
            Vec::new()
        } else {
            let schema = MemIndex::schema_for(&fields);
            let options = esql::datafusion::arrow::record_batch::RecordBatchOptions::new().with_row_count(Some(rows));
            vec![
                RecordBatch::try_new_with_options(schema, arrays, &options)
                    .expect("invariant: columns are built from the fields' own types and have one row per document"),
            ]
        };
        let mut index = MemIndex::new(self.name, fields, batches).expect("invariant: batches use schema_for(fields)");
        for (field, value) in constants {
            index = index.with_constant(field, value);
        }
        index
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() { key.to_string() } else { format!("{prefix}.{key}") }
}

fn flatten_object(prefix: &str, map: Map<String, Value>, out: &mut FlatDoc) -> Result<(), String> {
    for (key, value) in map {
        if key.is_empty() {
            return Err("field name cannot be an empty string".to_string());
        }
        flatten_value(join(prefix, &key), value, out)?;
    }
    Ok(())
}

/// True when the table maps `name` to a type ES|QL cannot read (`flattened`), or to `geo_point`
/// (whose `{"lat": …, "lon": …}` form is one value): such a field's whole value, objects included,
/// is one field.
fn is_opaque(name: &str) -> bool {
    crate::field_type(name).is_some_and(|m| m == "geo_point" || EsType::from_mapping(m).is_none())
}

/// True for a geo_point field's `[lon, lat]` form: an array whose first element is a number is
/// one point, as Elasticsearch reads it (any other array holds several points).
fn is_point_array(name: &str, items: &[Value]) -> bool {
    matches!(items.first(), Some(Value::Number(_))) && crate::field_type(name) == Some("geo_point")
}

fn flatten_value(name: String, value: Value, out: &mut FlatDoc) -> Result<(), String> {
    match value {
        Value::Null => Ok(()),
        Value::Array(items) if is_point_array(&name, &items) => {
            out.entry(name).or_default().push(Value::Array(items));
            Ok(())
        }
        Value::Array(items) => {
            for item in items {
                flatten_value(name.clone(), item, out)?;
            }
            Ok(())
        }
        Value::Object(map) if !is_opaque(&name) => flatten_object(&name, map, out),
        leaf => {
            out.entry(name).or_default().push(leaf);
            Ok(())
        }
    }
}

/// How a field's JSON values become ES|QL values.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Typing {
    /// The table's mapping type.
    Mapped { es_type: EsType, mapping: &'static str },
    /// A mapping type ES|QL cannot read: the column is all null.
    Unsupported,
    /// Not in the table; typed by the JSON values' shape.
    Inferred(EsType),
    /// Not in the table, with values of several kinds: keyword of the JSON text.
    JsonText,
}

fn typing_of(name: &str, docs: &[FlatDoc]) -> Typing {
    if let Some(mapping) = crate::field_type(name) {
        return match EsType::from_mapping(mapping) {
            Some(es_type) => Typing::Mapped { es_type, mapping },
            None => Typing::Unsupported,
        };
    }
    let shapes = docs.iter().filter_map(|d| d.get(name)).flatten().map(|value| match value {
        Value::String(_) => Shape::String,
        Value::Bool(_) => Shape::Bool,
        Value::Number(n) if n.is_i64() => Shape::Integer,
        Value::Number(_) => Shape::Float,
        Value::Null | Value::Array(_) | Value::Object(_) => Shape::Composite,
    });
    inferred_type(shapes).map_or(Typing::JsonText, Typing::Inferred)
}

/// The shape of one JSON leaf value, for typing a field that no table maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A string.
    String,
    /// `true` or `false`.
    Bool,
    /// A number that fits an `i64`.
    Integer,
    /// Any other number.
    Float,
    /// An object or array kept whole.
    Composite,
}

/// The type a field no table maps gets from the shapes of its values: `keyword`, `boolean`,
/// `double` (any non-integer number) or `long`; `None` for a mix of kinds or a composite value,
/// which is kept as the keyword of its JSON text.
pub fn inferred_type(shapes: impl IntoIterator<Item = Shape>) -> Option<EsType> {
    let (mut strings, mut bools, mut ints, mut floats) = (false, false, false, false);
    for shape in shapes {
        match shape {
            Shape::String => strings = true,
            Shape::Bool => bools = true,
            Shape::Integer => ints = true,
            Shape::Float => floats = true,
            Shape::Composite => return None,
        }
    }
    match (strings, bools, ints || floats) {
        (true, false, false) => Some(EsType::Keyword),
        (false, true, false) => Some(EsType::Boolean),
        (false, false, true) if floats => Some(EsType::Double),
        (false, false, true) => Some(EsType::Long),
        _ => None,
    }
}

/// One value converted to its column's type.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// `boolean`
    Bool(bool),
    /// `integer`, `long`, and `date` (milliseconds) / `date_nanos` (nanoseconds) since the epoch.
    Int(i64),
    /// `unsigned_long`
    UnsignedLong(u64),
    /// `double` (already rounded to the mapping's precision).
    Double(f64),
    /// `keyword`, `text`, and `geo_point` (its WKT, `POINT (lon lat)`)
    Str(String),
    /// `ip` (16 bytes) and `version` (its sortable encoding).
    Bytes(Vec<u8>),
}

fn single_value(cells: &[Vec<Cell>]) -> Option<String> {
    let mut distinct = cells.iter().flatten();
    let Some(Cell::Str(first)) = distinct.next() else {
        return None;
    };
    distinct.all(|c| matches!(c, Cell::Str(s) if s == first)).then(|| first.clone())
}

/// Converts one JSON value for a field; `None` when it is malformed for the field's type.
fn coerce(value: &Value, typing: &Typing) -> Option<Cell> {
    match *typing {
        Typing::JsonText => Some(Cell::Str(json_text(value))),
        Typing::Unsupported => None,
        Typing::Inferred(es_type) => coerce_to(value, es_type, es_type.name()),
        Typing::Mapped { es_type, mapping } => coerce_to(value, es_type, mapping),
    }
}

fn json_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn coerce_to(value: &Value, es_type: EsType, mapping: &str) -> Option<Cell> {
    match es_type {
        EsType::Keyword | EsType::Text => match value {
            Value::String(_) | Value::Number(_) | Value::Bool(_) => Some(Cell::Str(json_text(value))),
            _ => None,
        },
        EsType::Boolean => match value {
            Value::Bool(b) => Some(Cell::Bool(*b)),
            Value::String(s) if s == "true" => Some(Cell::Bool(true)),
            Value::String(s) if s == "false" || s.is_empty() => Some(Cell::Bool(false)),
            _ => None,
        },
        EsType::Integer | EsType::Long => {
            let (min, max) = match mapping {
                "byte" => (i8::MIN as i64, i8::MAX as i64),
                "short" => (i16::MIN as i64, i16::MAX as i64),
                "integer" => (i32::MIN as i64, i32::MAX as i64),
                _ => (i64::MIN, i64::MAX),
            };
            let n = whole_number(value)?;
            (n >= min as i128 && n <= max as i128).then_some(Cell::Int(n as i64))
        }
        EsType::UnsignedLong => {
            let n = whole_number(value)?;
            u64::try_from(n).ok().map(Cell::UnsignedLong)
        }
        EsType::Double => {
            let d = match value {
                Value::Number(n) => n.as_f64()?,
                Value::String(s) => s.trim().parse::<f64>().ok()?,
                _ => return None,
            };
            if !d.is_finite() {
                return None;
            }
            let d = match mapping {
                "float" => d as f32 as f64,
                "half_float" => round_to_half(d)?,
                _ => d,
            };
            d.is_finite().then_some(Cell::Double(d))
        }
        EsType::Ip => match value {
            Value::String(s) => parse_ip(s).map(|b| Cell::Bytes(b.to_vec())),
            _ => None,
        },
        EsType::Version => match value {
            Value::String(_) | Value::Number(_) => version_encode(&json_text(value)).map(Cell::Bytes),
            _ => None,
        },
        EsType::Date | EsType::DateNanos => {
            let nanos = match value {
                Value::String(s) => parse_date_nanos(s)?,
                Value::Number(n) => epoch_millis_to_nanos(&n.to_string())?,
                _ => return None,
            };
            if es_type == EsType::Date {
                i64::try_from(nanos.div_euclid(1_000_000)).ok().map(Cell::Int)
            } else {
                // date_nanos holds 1970-01-01 to 2262-04-11
                i64::try_from(nanos).ok().filter(|n| *n >= 0).map(Cell::Int)
            }
        }
        EsType::GeoPoint => geo_point(value).map(Cell::Str),
        EsType::Null | EsType::DatePeriod | EsType::TimeDuration | EsType::Unsupported => None,
    }
}

/// A geo_point value in one of Elasticsearch's input forms, as the text ES|QL returns
/// (`POINT (lon lat)`): `{"lat": 41.12, "lon": -71.34}`, GeoJSON `{"type": "Point",
/// "coordinates": [-71.34, 41.12]}`, `"41.12,-71.34"` (lat,lon), `[-71.34, 41.12]` (lon,lat) or
/// WKT `"POINT (-71.34 41.12)"`. A third coordinate is dropped (`ignore_z_value`); coordinates out
/// of range and geohashes are malformed.
fn geo_point(value: &Value) -> Option<String> {
    use esql::functions::spatial::{geo_point_text, parse_geo_point};
    let number = |v: &Value| match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|d| d.is_finite()),
        _ => None,
    };
    let lon_lat = |items: &[Value]| match items {
        [Value::Number(lon), Value::Number(lat)] | [Value::Number(lon), Value::Number(lat), Value::Number(_)] => {
            geo_point_text(lon.as_f64()?, lat.as_f64()?)
        }
        _ => None,
    };
    match value {
        Value::Object(map) => {
            if let Some(Value::Array(coordinates)) = map.get("coordinates") {
                let is_point = map.get("type").and_then(Value::as_str).is_some_and(|t| t.eq_ignore_ascii_case("point"));
                return if is_point && map.len() == 2 { lon_lat(coordinates) } else { None };
            }
            let known = map.keys().all(|k| matches!(k.as_str(), "lat" | "lon" | "z"));
            if !known {
                return None;
            }
            geo_point_text(number(map.get("lon")?)?, number(map.get("lat")?)?)
        }
        Value::Array(items) => lon_lat(items),
        Value::String(s) if s.to_ascii_lowercase().contains("point") => {
            let p = parse_geo_point(s).ok()?;
            geo_point_text(p.x, p.y)
        }
        Value::String(s) if s.contains(',') => {
            let parts: Vec<&str> = s.split(',').collect();
            if parts.len() != 2 && parts.len() != 3 {
                return None;
            }
            let coordinate = |t: &str| t.trim().parse::<f64>().ok().filter(|d| d.is_finite());
            if parts.len() == 3 {
                coordinate(parts[2])?;
            }
            geo_point_text(coordinate(parts[1])?, coordinate(parts[0])?)
        }
        _ => None,
    }
}

/// A whole number from a JSON number or numeric string; fractions are truncated (Elasticsearch's
/// `coerce`).
fn whole_number(value: &Value) -> Option<i128> {
    let text = match value {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                return Some(i as i128);
            }
            if let Some(u) = n.as_u64() {
                return Some(u as i128);
            }
            n.to_string()
        }
        Value::String(s) => s.trim().to_string(),
        _ => return None,
    };
    if let Ok(i) = text.parse::<i128>() {
        return Some(i);
    }
    let d = text.parse::<f64>().ok().filter(|d| d.is_finite())?.trunc();
    (d.abs() < 1e38).then_some(d as i128)
}

/// Rounds to the nearest IEEE half-precision value (ties to even); `None` when out of range.
fn round_to_half(d: f64) -> Option<f64> {
    if d == 0.0 {
        return Some(d);
    }
    // smallest normal exponent is -14; 10 explicit mantissa bits
    let exponent = d.abs().log2().floor().max(-14.0);
    let quantum = (exponent - 10.0).exp2();
    let rounded = (d / quantum).round_ties_even() * quantum;
    (rounded.abs() <= 65504.0).then_some(rounded)
}

/// An IP address as 16 bytes, IPv4 as IPv4-mapped IPv6.
pub fn parse_ip(text: &str) -> Option<[u8; 16]> {
    esql::convert::parse_ip(text)
}

fn version_encode(text: &str) -> Option<Vec<u8>> {
    Some(esql::version::encode(text))
}

/// Nanoseconds since the epoch of a date string: `strict_date_optional_time` (ISO-8601 with
/// optional time, fraction of up to 9 digits, and `Z` or an offset; UTC when none) or
/// `epoch_millis`, as Elasticsearch's default date format.
pub fn parse_date_nanos(text: &str) -> Option<i128> {
    parse_iso8601(text).or_else(|| epoch_millis_to_nanos(text))
}

fn epoch_millis_to_nanos(text: &str) -> Option<i128> {
    let text = text.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if whole.len() > 20 {
        return None;
    }
    let millis: i128 = whole.parse().ok()?;
    let mut frac_nanos: i128 = 0;
    for (i, b) in fraction.bytes().take(6).enumerate() {
        frac_nanos += i128::from(b - b'0') * 10i128.pow(5 - i as u32);
    }
    let nanos = millis * 1_000_000 + frac_nanos;
    Some(if negative { -nanos } else { nanos })
}

fn parse_iso8601(text: &str) -> Option<i128> {
    let b = text.as_bytes();
    let mut pos = 0;
    let digits = |pos: &mut usize, n: usize| -> Option<u32> {
        let s = b.get(*pos..*pos + n)?;
        let mut value = 0u32;
        for &d in s {
            if !d.is_ascii_digit() {
                return None;
            }
            value = value * 10 + u32::from(d - b'0');
        }
        *pos += n;
        Some(value)
    };
    let year = digits(&mut pos, 4)? as i32;
    let (mut month, mut day, mut hour, mut minute, mut second, mut nanos) = (1, 1, 0, 0, 0, 0i128);
    let mut offset_secs: i64 = 0;
    if b.get(pos) == Some(&b'-') {
        pos += 1;
        month = digits(&mut pos, 2)?;
        if b.get(pos) == Some(&b'-') {
            pos += 1;
            day = digits(&mut pos, 2)?;
            if b.get(pos) == Some(&b'T') {
                pos += 1;
                hour = digits(&mut pos, 2)?;
                if b.get(pos) == Some(&b':') {
                    pos += 1;
                    minute = digits(&mut pos, 2)?;
                    if b.get(pos) == Some(&b':') {
                        pos += 1;
                        second = digits(&mut pos, 2)?;
                        if matches!(b.get(pos), Some(b'.' | b',')) {
                            pos += 1;
                            let start = pos;
                            while b.get(pos).is_some_and(u8::is_ascii_digit) {
                                pos += 1;
                            }
                            let n = pos - start;
                            if n == 0 || n > 9 {
                                return None;
                            }
                            let frac = b[start..pos].iter().fold(0i128, |v, d| v * 10 + i128::from(d - b'0'));
                            nanos = frac * 10i128.pow(9 - n as u32);
                        }
                    }
                }
                match b.get(pos) {
                    Some(b'Z') => pos += 1,
                    Some(sign @ (b'+' | b'-')) => {
                        let sign = if *sign == b'-' { -1 } else { 1 };
                        pos += 1;
                        let h = digits(&mut pos, 2)?;
                        let mut m = 0;
                        if b.get(pos) == Some(&b':') {
                            pos += 1;
                            m = digits(&mut pos, 2)?;
                        } else if pos < b.len() {
                            m = digits(&mut pos, 2)?;
                        }
                        if h > 18 || m > 59 {
                            return None;
                        }
                        offset_secs = sign * i64::from(h * 3600 + m * 60);
                    }
                    _ => {}
                }
            }
        }
    }
    if pos != b.len() {
        return None;
    }
    let date = chrono::NaiveDate::from_ymd_opt(year, month, day)?;
    let time = date.and_hms_opt(hour, minute, second)?;
    let secs = time.and_utc().timestamp() - offset_secs;
    Some(i128::from(secs) * 1_000_000_000 + nanos)
}

/// Builds a column: `T` for a single-valued field, `List<T>` for a multi-valued one (a row
/// without values is null either way).
pub fn column(es_type: EsType, multi: bool, cells: &[Vec<Cell>]) -> ArrayRef {
    if !multi {
        let values: Vec<Option<&Cell>> = cells.iter().map(|c| c.first()).collect();
        return values_array(es_type, &values);
    }
    let mut offsets = Vec::with_capacity(cells.len() + 1);
    offsets.push(0i32);
    let mut values = Vec::new();
    for row in cells {
        values.extend(row.iter().map(Some));
        offsets.push(i32::try_from(values.len()).expect("invariant: fewer than 2^31 values in one column"));
    }
    let valid: Vec<bool> = cells.iter().map(|c| !c.is_empty()).collect();
    let item = Arc::new(Field::new("item", es_type.arrow(), true));
    Arc::new(ListArray::new(
        item,
        OffsetBuffer::new(offsets.into()),
        values_array(es_type, &values),
        Some(NullBuffer::from(valid)),
    ))
}

fn values_array(es_type: EsType, cells: &[Option<&Cell>]) -> ArrayRef {
    fn int(c: &Option<&Cell>) -> Option<i64> {
        match c {
            Some(Cell::Int(i)) => Some(*i),
            _ => None,
        }
    }
    fn bytes<'a>(c: &Option<&'a Cell>) -> Option<&'a [u8]> {
        match c {
            Some(Cell::Bytes(b)) => Some(b.as_slice()),
            _ => None,
        }
    }
    match es_type {
        EsType::Boolean => Arc::new(
            cells
                .iter()
                .map(|c| match c {
                    Some(Cell::Bool(b)) => Some(*b),
                    _ => None,
                })
                .collect::<BooleanArray>(),
        ),
        EsType::Integer => Arc::new(cells.iter().map(|c| int(c).map(|i| i as i32)).collect::<Int32Array>()),
        EsType::Long => Arc::new(cells.iter().map(int).collect::<Int64Array>()),
        EsType::UnsignedLong => Arc::new(
            cells
                .iter()
                .map(|c| match c {
                    Some(Cell::UnsignedLong(u)) => Some(*u),
                    _ => None,
                })
                .collect::<UInt64Array>(),
        ),
        EsType::Double => Arc::new(
            cells
                .iter()
                .map(|c| match c {
                    Some(Cell::Double(d)) => Some(*d),
                    _ => None,
                })
                .collect::<Float64Array>(),
        ),
        EsType::Keyword | EsType::Text | EsType::GeoPoint => Arc::new(
            cells
                .iter()
                .map(|c| match c {
                    Some(Cell::Str(s)) => Some(s.as_str()),
                    _ => None,
                })
                .collect::<StringArray>(),
        ),
        EsType::Ip => Arc::new(
            FixedSizeBinaryArray::try_from_sparse_iter_with_size(cells.iter().map(bytes), 16)
                .expect("invariant: ip cells are 16 bytes"),
        ),
        EsType::Version => Arc::new(cells.iter().map(bytes).collect::<BinaryArray>()),
        EsType::Date => Arc::new(cells.iter().map(int).collect::<TimestampMillisecondArray>()),
        EsType::DateNanos => Arc::new(cells.iter().map(int).collect::<TimestampNanosecondArray>()),
        EsType::Null | EsType::DatePeriod | EsType::TimeDuration | EsType::Unsupported => {
            Arc::new(NullArray::new(cells.len()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use esql::catalog::{Catalog, Index};
    use esql::datafusion::arrow::array::Array;
    use esql::datafusion::arrow::util::display::array_value_to_string;
    use serde_json::json;

    fn build(docs: &[Value]) -> MemIndex {
        let mut builder = IndexBuilder::new("test");
        for doc in docs {
            builder.add(doc.clone()).expect("document");
        }
        builder.finish()
    }

    fn field(index: &MemIndex, name: &str) -> FieldInfo {
        index.fields().iter().find(|f| f.name == name).cloned().unwrap_or_else(|| panic!("no field {name}"))
    }

    /// The column's values, one string per row (`null` for null), as Arrow displays them.
    fn column_strings(index: &MemIndex, name: &str) -> Vec<String> {
        let batch = &index.batches()[0];
        let array = batch.column_by_name(name).unwrap_or_else(|| panic!("no column {name}"));
        (0..array.len())
            .map(
                |i| {
                    if array.is_null(i) {
                        "null".to_string()
                    } else {
                        array_value_to_string(array, i).expect("display")
                    }
                },
            )
            .collect()
    }

    fn ip_text(bytes: &[u8]) -> String {
        let octets: [u8; 16] = bytes.try_into().expect("16 bytes");
        let v6 = std::net::Ipv6Addr::from(octets);
        v6.to_ipv4_mapped().map(|v4| v4.to_string()).unwrap_or_else(|| v6.to_string())
    }

    #[test]
    fn nested_and_dotted_documents_flatten_to_the_same_fields() {
        let index = build(&[
            json!({"source": {"ip": "1.2.3.4", "port": 443}}),
            json!({"source.ip": "::1", "source": {"port": "80"}}),
            json!({"source.ip": "::ffff:10.0.0.1"}),
        ]);
        assert_eq!(
            field(&index, "source.ip"),
            FieldInfo { name: "source.ip".into(), es_type: EsType::Ip, multi: false }
        );
        assert_eq!(field(&index, "source.port").es_type, EsType::Long);
        let ips = index.batches()[0].column_by_name("source.ip").expect("column");
        let ips = ips.as_any().downcast_ref::<FixedSizeBinaryArray>().expect("fixed size binary");
        let texts: Vec<String> = (0..3).map(|i| ip_text(ips.value(i))).collect();
        assert_eq!(texts, vec!["1.2.3.4", "::1", "10.0.0.1"]);
        assert_eq!(column_strings(&index, "source.port"), vec!["443", "80", "null"]);
    }

    #[test]
    fn unknown_fields_are_typed_by_json_shape() {
        let index = build(&[
            json!({"x": {"s": "a", "i": 1, "mix": 1, "b": true, "conflict": "a", "big": 1}}),
            json!({"x": {"s": "b", "i": -2, "mix": 1.5, "b": false, "conflict": 2, "big": 1.0}}),
            json!({"x": {"conflict": true}}),
        ]);
        let types: Vec<(String, EsType)> = index.fields().iter().map(|f| (f.name.clone(), f.es_type)).collect();
        assert_eq!(
            types,
            vec![
                ("x.b".to_string(), EsType::Boolean),
                ("x.big".to_string(), EsType::Double),
                ("x.conflict".to_string(), EsType::Keyword),
                ("x.i".to_string(), EsType::Long),
                ("x.mix".to_string(), EsType::Double),
                ("x.s".to_string(), EsType::Keyword),
            ]
        );
        assert_eq!(column_strings(&index, "x.conflict"), vec!["a", "2", "true"]);
        assert_eq!(column_strings(&index, "x.mix"), vec!["1.0", "1.5", "null"]);
        assert_eq!(column_strings(&index, "x.i"), vec!["1", "-2", "null"]);
    }

    #[test]
    fn arrays_are_multi_values() {
        let index = build(&[
            json!({"tags": ["a", "b"], "one": ["x"], "empty": [], "nothing": null, "event": {"category": ["web"]}}),
            json!({"tags": "c", "one": "y", "event": {"category": ["web", "email"]}}),
            json!({"items": [{"a": 1, "b": "x"}, {"a": 2}, {"a": [3, null]}], "nested": [[1, 2], [3]]}),
        ]);
        assert!(field(&index, "tags").multi);
        assert_eq!(column_strings(&index, "tags"), vec!["[a, b]", "[c]", "null"]);
        // a one-element array is one value
        assert_eq!(field(&index, "one"), FieldInfo { name: "one".into(), es_type: EsType::Keyword, multi: false });
        assert_eq!(column_strings(&index, "one"), vec!["x", "y", "null"]);
        // [] and null are absent: no field at all
        assert!(index.fields().iter().all(|f| f.name != "empty" && f.name != "nothing"));
        // objects inside arrays: leaves collected per name
        assert_eq!(column_strings(&index, "items.a"), vec!["null", "null", "[1, 2, 3]"]);
        assert_eq!(column_strings(&index, "items.b"), vec!["null", "null", "x"]);
        assert_eq!(column_strings(&index, "nested"), vec!["null", "null", "[1, 2, 3]"]);
        assert_eq!(column_strings(&index, "event.category"), vec!["[web]", "[web, email]", "null"]);
    }

    #[test]
    fn malformed_values_are_ignored_and_recorded() {
        let index = build(&[
            json!({"source": {"ip": "not-an-ip", "port": "eighty"}, "message": "kept"}),
            json!({"source": {"ip": "10.1.2.3"}}),
            json!({"related": {"ip": ["10.0.0.1", "bad", "10.0.0.2"]}}),
        ]);
        assert_eq!(column_strings(&index, "message"), vec!["kept", "null", "null"]);
        assert_eq!(column_strings(&index, "_ignored"), vec!["[source.ip, source.port]", "null", "[related.ip]"]);
        assert_eq!(
            field(&index, "_ignored"),
            FieldInfo { name: "_ignored".into(), es_type: EsType::Keyword, multi: true }
        );
        let ips = index.batches()[0].column_by_name("source.ip").expect("column").clone();
        assert!(ips.is_null(0) && !ips.is_null(1));
        // the good values of a multi-valued field stay
        assert_eq!(column_strings(&index, "related.ip").iter().filter(|s| *s != "null").count(), 1);
        assert!(field(&index, "related.ip").multi);
        // no `_ignored` column when nothing was ignored
        let clean = build(&[json!({"source": {"ip": "10.1.2.3"}})]);
        assert!(clean.fields().iter().all(|f| f.name != IGNORED_FIELD));
    }

    #[test]
    fn dates() {
        let index = build(&[
            json!({"@timestamp": "2023-10-23T13:55:01.543Z"}),
            json!({"@timestamp": "2023-10-23T13:55:01Z"}),
            json!({"@timestamp": "2023-10-23T15:55:01.543+02:00"}),
            json!({"@timestamp": "2023-10-23T11:55:01.5439999-0200"}),
            json!({"@timestamp": "2023-10-23"}),
            json!({"@timestamp": 1698069301543i64}),
            json!({"@timestamp": "1698069301543"}),
            json!({"@timestamp": "yesterday"}),
        ]);
        assert_eq!(field(&index, "@timestamp").es_type, EsType::Date);
        assert_eq!(
            column_strings(&index, "@timestamp"),
            vec![
                "2023-10-23T13:55:01.543",
                "2023-10-23T13:55:01",
                "2023-10-23T13:55:01.543",
                "2023-10-23T13:55:01.543",
                "2023-10-23T00:00:00",
                "2023-10-23T13:55:01.543",
                "2023-10-23T13:55:01.543",
                "null",
            ]
        );
        assert_eq!(column_strings(&index, "_ignored")[7], "[@timestamp]");
    }

    #[test]
    fn date_parsing() {
        struct Case {
            text: &'static str,
            nanos: Option<i128>,
        }
        let cases = [
            Case { text: "1970-01-01T00:00:00Z", nanos: Some(0) },
            Case { text: "1970-01-01T00:00:00.000000001Z", nanos: Some(1) },
            Case { text: "1970-01-01T01:00:00+01:00", nanos: Some(0) },
            Case { text: "1970-01-01T01:00+0100", nanos: Some(0) },
            Case { text: "1970-01-01T01+01", nanos: Some(0) },
            Case { text: "1970-01-02", nanos: Some(86_400_000_000_000) },
            Case { text: "1970", nanos: Some(0) },
            Case { text: "1970-02", nanos: Some(31 * 86_400_000_000_000) },
            Case { text: "1.5", nanos: Some(1_500_000) },
            Case { text: "-1000", nanos: Some(-1_000_000_000) },
            Case { text: "1970-01-01T00:00:00.0000000001Z", nanos: None },
            Case { text: "1970-13-01", nanos: None },
            Case { text: "1970-01-01 00:00:00", nanos: None },
            Case { text: "1970-01-01T00:00:00Zjunk", nanos: None },
            Case { text: "", nanos: None },
        ];
        for case in cases {
            assert_eq!(parse_date_nanos(case.text), case.nanos, "{}", case.text);
        }
    }

    #[test]
    fn coercion_follows_the_mapping() {
        let cell = |value: Value, es_type: EsType, mapping: &str| coerce_to(&value, es_type, mapping);
        assert_eq!(cell(json!(0.1), EsType::Double, "float"), Some(Cell::Double(0.10000000149011612)));
        assert_eq!(cell(json!(0.1), EsType::Double, "double"), Some(Cell::Double(0.1)));
        assert_eq!(cell(json!(0.1), EsType::Double, "half_float"), Some(Cell::Double(0.0999755859375)));
        assert_eq!(cell(json!(1e6), EsType::Double, "half_float"), None);
        assert_eq!(cell(json!("2.5"), EsType::Double, "double"), Some(Cell::Double(2.5)));
        assert_eq!(cell(json!(1.9), EsType::Long, "long"), Some(Cell::Int(1)));
        assert_eq!(cell(json!("-7"), EsType::Long, "long"), Some(Cell::Int(-7)));
        assert_eq!(cell(json!(40000), EsType::Integer, "short"), None);
        assert_eq!(cell(json!(1i64 << 40), EsType::Integer, "integer"), None);
        assert_eq!(cell(json!(u64::MAX), EsType::UnsignedLong, "unsigned_long"), Some(Cell::UnsignedLong(u64::MAX)));
        assert_eq!(cell(json!(-1), EsType::UnsignedLong, "unsigned_long"), None);
        assert_eq!(cell(json!(12), EsType::Keyword, "keyword"), Some(Cell::Str("12".into())));
        assert_eq!(cell(json!(true), EsType::Keyword, "keyword"), Some(Cell::Str("true".into())));
        assert_eq!(cell(json!("false"), EsType::Boolean, "boolean"), Some(Cell::Bool(false)));
        assert_eq!(cell(json!(1), EsType::Boolean, "boolean"), None);
        assert_eq!(cell(json!(5), EsType::Ip, "ip"), None);
        assert_eq!(
            cell(json!("2001:DB8::1"), EsType::Ip, "ip"),
            Some(Cell::Bytes("2001:db8::1".parse::<std::net::Ipv6Addr>().expect("ip").octets().to_vec()))
        );
        assert_eq!(cell(json!("1.2.3"), EsType::Version, "version"), Some(Cell::Bytes(esql::version::encode("1.2.3"))));
        assert_eq!(
            cell(json!("1970-01-01T00:00:00.000000123Z"), EsType::DateNanos, "date_nanos"),
            Some(Cell::Int(123))
        );
        assert_eq!(cell(json!("1969-12-31T23:59:59Z"), EsType::DateNanos, "date_nanos"), None);
        assert_eq!(cell(json!("1969-12-31T23:59:59.9999Z"), EsType::Date, "date"), Some(Cell::Int(-1)));
    }

    #[test]
    fn opaque_and_constant_fields() {
        let index = build(&[
            json!({"source": {"geo": {"location": {"lat": 1.0, "lon": 2.0}}}, "data_stream": {"dataset": "x.y"}}),
            json!({"kibana.alert.rule.parameters": {"query": "a"}}),
        ]);
        assert_eq!(field(&index, "source.geo.location").es_type, EsType::GeoPoint);
        assert_eq!(column_strings(&index, "source.geo.location")[0], "POINT (2.0 1.0)");
        assert_eq!(field(&index, "kibana.alert.rule.parameters").es_type, EsType::Unsupported);
        assert!(index.fields().iter().all(|f| !f.name.starts_with("source.geo.location.")));
        // constant_keyword: one value for the whole index
        assert_eq!(column_strings(&index, "data_stream.dataset"), vec!["x.y", "x.y"]);
        assert_eq!(index.constant("data_stream.dataset"), Some("x.y".to_string()));
    }

    #[test]
    fn geo_points_in_every_input_form() {
        let point = |v: Value| coerce_to(&v, EsType::GeoPoint, "geo_point");
        let expected = Some(Cell::Str("POINT (-71.34 41.12)".to_string()));
        assert_eq!(point(json!({"lat": 41.12, "lon": -71.34})), expected);
        assert_eq!(point(json!({"lat": "41.12", "lon": "-71.34"})), expected);
        assert_eq!(point(json!({"type": "Point", "coordinates": [-71.34, 41.12]})), expected);
        assert_eq!(point(json!("41.12,-71.34")), expected);
        assert_eq!(point(json!(" 41.12 , -71.34 ")), expected);
        assert_eq!(point(json!([-71.34, 41.12])), expected);
        assert_eq!(point(json!([-71.34, 41.12, 10.0])), expected);
        assert_eq!(point(json!("POINT (-71.34 41.12)")), expected);
        assert_eq!(point(json!("point(-71.34 41.12 3)")), expected);
        // malformed: out of range, wrong shapes, geohash (not read)
        assert_eq!(point(json!({"lat": 91.0, "lon": 0.0})), None);
        assert_eq!(point(json!({"lat": 1.0})), None);
        assert_eq!(point(json!({"lat": 1.0, "lon": 2.0, "x": 3})), None);
        assert_eq!(point(json!("1,2,3,4")), None);
        assert_eq!(point(json!("LINESTRING (1 2, 3 4)")), None);
        assert_eq!(point(json!("drm3btev3e86")), None);
        assert_eq!(point(json!(5)), None);
    }

    #[test]
    fn geo_point_arrays() {
        let index = build(&[
            json!({"source": {"geo": {"location": [-71.34, 41.12]}}}),
            json!({"source.geo.location": [[1.0, 2.0], "3.0,4.0", {"lat": 5.0, "lon": 6.0}]}),
            json!({"source.geo.location": "not a point"}),
        ]);
        let f = field(&index, "source.geo.location");
        assert_eq!((f.es_type, f.multi), (EsType::GeoPoint, true));
        let values = column_strings(&index, "source.geo.location");
        assert_eq!(values[0], "[POINT (-71.34 41.12)]");
        assert!(values[1].contains("POINT (1.0 2.0)") && values[1].contains("POINT (4.0 3.0)"), "{values:?}");
        assert!(values[1].contains("POINT (6.0 5.0)"), "{values:?}");
        assert_eq!(column_strings(&index, IGNORED_FIELD)[2], "[source.geo.location]");
    }

    #[test]
    fn rejects_non_objects_and_empty_names() {
        let mut builder = IndexBuilder::new("t");
        assert_eq!(builder.add(json!([1])), Err("expected a JSON object, found an array".to_string()));
        assert_eq!(builder.add(json!({"a": {"": 1}})), Err("field name cannot be an empty string".to_string()));
        assert!(builder.is_empty());
        let index = builder.finish();
        assert!(index.fields().is_empty() && index.batches().is_empty());
    }

    #[test]
    fn loads_a_folder_and_reports_bad_lines() {
        let dir = tempfile::tempdir().expect("tempdir");
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).expect("write");
        write(
            "logs-azure.signinlogs-default.ndjson",
            "{\"source\":{\"ip\":\"81.2.69.143\"},\"event\":{\"outcome\":\"success\"}}\n\n{\"source.ip\": \n{\"source.ip\":\"81.2.69.144\"}\n[1]\n",
        );
        write("logs-o365.audit-default.jsonl", "{\"o365.audit.OperationCount\": 6}\n");
        write("alerts.json", "[{\"kibana.alert.rule.rule_id\": \"eb079c62\"}, {\"event.kind\": \"signal\"}]");
        write("pretty.json", "{\n  \"message\": \"one document\"\n}\n");
        write("notes.txt", "not loaded");
        let loaded = load_dir(dir.path()).expect("load");
        assert_eq!(
            loaded.indices,
            vec![
                ("alerts".to_string(), 2),
                ("logs-azure.signinlogs-default".to_string(), 2),
                ("logs-o365.audit-default".to_string(), 1),
                ("pretty".to_string(), 1),
            ]
        );
        assert_eq!(loaded.catalog.index_names().len(), 4);
        let messages: Vec<String> = loaded.errors.iter().map(|e| e.to_string()).collect();
        let file = dir.path().join("logs-azure.signinlogs-default.ndjson");
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(messages[0].starts_with(&format!("{}:3: ", file.display())), "{}", messages[0]);
        assert!(messages[0].contains("EOF while parsing"), "{}", messages[0]);
        assert_eq!(messages[1], format!("{}:5: expected a JSON object, found an array", file.display()));
        let o365 = loaded.catalog.index("logs-o365.audit-default").expect("index");
        assert_eq!(o365.fields()[0].es_type, EsType::Long);
        assert!(load_dir(&dir.path().join("missing")).is_err());
    }

    #[test]
    fn elastic_pipeline_output_is_typed_by_the_table() {
        let path = crate::samples::shared_data_dir()
            .join("azure-signinlogs/test-non-interactive-user-signin.log-expected.json");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let body: Value = serde_json::from_str(&text).expect("json");
        let index = build(body["expected"].as_array().expect("expected docs"));
        let typed = |name: &str| {
            let f = field(&index, name);
            (f.es_type, f.multi)
        };
        assert_eq!(typed("azure.signinlogs.caller_ip_address"), (EsType::Ip, false));
        assert_eq!(typed("azure.signinlogs.properties.status.error_code"), (EsType::Long, false));
        assert_eq!(typed("azure.signinlogs.properties.processing_time_ms"), (EsType::Double, false));
        assert_eq!(typed("azure.signinlogs.properties.created_at"), (EsType::Date, false));
        assert_eq!(
            typed("azure.signinlogs.properties.applied_conditional_access_policies.display_name"),
            (EsType::Keyword, true)
        );
        // not in the table: typed by shape
        assert_eq!(
            typed("azure.signinlogs.properties.applied_conditional_access_policies.conditions_satisfied"),
            (EsType::Long, true)
        );
        assert_eq!(typed("event.duration"), (EsType::Long, false));
        assert_eq!(typed("related.ip"), (EsType::Ip, false));
        assert_eq!(column_strings(&index, "azure.signinlogs.properties.status.error_code"), vec!["0"]);
        assert_eq!(column_strings(&index, "azure.signinlogs.properties.created_at"), vec!["2022-03-17T09:44:46.309"]);
        assert_eq!(column_strings(&index, "@timestamp"), vec!["2022-03-17T09:44:46.309"]);
        assert_eq!(column_strings(&index, "event.outcome"), vec!["success"]);
        assert!(index.fields().iter().all(|f| f.name != IGNORED_FIELD), "nothing malformed in Elastic's own output");
    }

    #[test]
    fn index_names_come_from_file_names() {
        assert_eq!(index_name(Path::new("d/logs-x-default.ndjson")), Some("logs-x-default".to_string()));
        assert_eq!(
            index_name(Path::new(".alerts-security.alerts-default.JSONL")),
            Some(".alerts-security.alerts-default".to_string())
        );
        assert_eq!(index_name(Path::new("a.txt")), None);
        assert_eq!(index_name(Path::new("noext")), None);
    }
}
