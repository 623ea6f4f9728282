//! Rendering a [`QueryOutput`] the way Elasticsearch's `_query` API does: [`to_json`]
//! (`format=json`), [`to_csv`] (`format=csv`) and [`to_txt`] (`format=txt`), plus [`to_table`], a
//! table for terminals that fits a given width.
//!
//! Values are first turned into [`Cell`]s, Elastic's response values: dates as ISO-8601 strings
//! in UTC with milliseconds (`2023-10-23T13:55:01.543Z`, nanoseconds for `date_nanos`), IPs as text
//! (IPv4 dotted when IPv4-mapped, IPv6 compressed lower-case), versions decoded, numbers as numbers,
//! a multi-value as a list, a one-value list as its value and an empty list as null.
//!
//! ES|QL: the text formats follow `x-pack/plugin/esql/.../formatter/TextFormat.java` and
//! `TextFormatter.java` (Elasticsearch `main`, 2025): CSV rows end with CRLF, fields holding `"`,
//! `,`, CR or LF are quoted with `"` doubled, null is empty and a multi-value is Java's
//! `List.toString()` (`[a, b]`); TXT columns are at least 15 wide, names are centred, null is
//! `null`, and doubles print as Java's `Double.toString` (`1.0`, `1.0E7`).

use crate::QueryOutput;
use crate::types::EsType;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BinaryArray, BooleanArray, FixedSizeBinaryArray, Float64Array, Int64Array, StringArray,
    TimestampMillisecondArray, TimestampNanosecondArray, UInt64Array,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use serde_json::{Map, Value, json};

/// One value of a query result, as Elasticsearch writes it in a response.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// No value (also an empty multi-value).
    Null,
    /// A boolean.
    Boolean(bool),
    /// An `integer` or `long`.
    Long(i64),
    /// An `unsigned_long`.
    UnsignedLong(u64),
    /// A `double`.
    Double(f64),
    /// Any value Elastic sends as a string: keyword, text, ip, version, date, date_nanos.
    Text(String),
    /// Several values.
    Multi(Vec<Cell>),
}

impl Cell {
    /// The cell in Elastic's JSON response.
    pub fn to_json(&self) -> Value {
        match self {
            Cell::Null => Value::Null,
            Cell::Boolean(b) => Value::Bool(*b),
            Cell::Long(n) => json!(n),
            Cell::UnsignedLong(n) => json!(n),
            Cell::Double(d) => serde_json::Number::from_f64(*d).map(Value::Number).unwrap_or(Value::Null),
            Cell::Text(s) => Value::String(s.clone()),
            Cell::Multi(values) => Value::Array(values.iter().map(Cell::to_json).collect()),
        }
    }

    /// The cell as Java's `Objects.toString` writes it in the text formats (`null` for null).
    pub fn to_text(&self) -> String {
        match self {
            Cell::Null => "null".to_string(),
            Cell::Boolean(b) => b.to_string(),
            Cell::Long(n) => n.to_string(),
            Cell::UnsignedLong(n) => n.to_string(),
            Cell::Double(d) => java_double(*d),
            Cell::Text(s) => s.clone(),
            Cell::Multi(values) => {
                let items: Vec<String> = values.iter().map(Cell::to_text).collect();
                format!("[{}]", items.join(", "))
            }
        }
    }

    /// True for numbers (the terminal table right-aligns them).
    fn is_number(&self) -> bool {
        match self {
            Cell::Long(_) | Cell::UnsignedLong(_) | Cell::Double(_) => true,
            Cell::Multi(values) => values.iter().all(Cell::is_number),
            _ => false,
        }
    }
}

/// A double as Java's `Double.toString` writes it: decimal with at least one fraction digit when
/// 10⁻³ ≤ |d| < 10⁷ (`1.0`, `4825005.0`), otherwise scientific (`1.0E7`, `9.223372036854776E18`,
/// `1.0E-4`); shortest digits that round-trip.
pub fn java_double(d: f64) -> String {
    crate::convert::format_double(d)
}

/// The rows of a result as cells, row by row.
pub fn rows(output: &QueryOutput) -> Vec<Vec<Cell>> {
    let mut rows = Vec::new();
    for batch in &output.batches {
        let columns: Vec<Vec<Cell>> = output
            .columns
            .iter()
            .enumerate()
            .map(|(i, (_, es_type))| match batch.columns().get(i) {
                Some(array) => column_cells(array, *es_type),
                None => vec![Cell::Null; batch.num_rows()],
            })
            .collect();
        for row in 0..batch.num_rows() {
            rows.push(columns.iter().map(|c| c[row].clone()).collect());
        }
    }
    rows
}

/// The cells of one column. A `List` column gives multi-values; nulls inside a list are skipped.
pub fn column_cells(array: &ArrayRef, es_type: EsType) -> Vec<Cell> {
    let lists: Option<Vec<Option<ArrayRef>>> = match array.data_type() {
        DataType::List(_) => Some(array.as_list::<i32>().iter().collect()),
        DataType::LargeList(_) => Some(array.as_list::<i64>().iter().collect()),
        DataType::FixedSizeList(_, _) => Some(array.as_fixed_size_list().iter().collect()),
        _ => None,
    };
    let Some(lists) = lists else {
        return scalar_cells(array, es_type);
    };
    lists
        .into_iter()
        .map(|values| {
            let Some(values) = values else {
                return Cell::Null;
            };
            let mut cells: Vec<Cell> =
                scalar_cells(&values, es_type).into_iter().filter(|c| *c != Cell::Null).collect();
            match cells.len() {
                0 => Cell::Null,
                1 => cells.pop().expect("invariant: one cell"),
                _ => Cell::Multi(cells),
            }
        })
        .collect()
}

fn scalar_cells(array: &ArrayRef, es_type: EsType) -> Vec<Cell> {
    let len = array.len();
    if matches!(es_type, EsType::Null | EsType::Unsupported) || array.data_type() == &DataType::Null {
        return vec![Cell::Null; len];
    }
    let target = match es_type {
        EsType::Integer | EsType::Long => DataType::Int64,
        EsType::DatePeriod | EsType::TimeDuration => return display_cells(array),
        other => other.arrow(),
    };
    let Ok(array) = cast(array.as_ref(), &target) else {
        return display_cells(array);
    };
    let valid = |i: usize| array.is_valid(i);
    let cells: Vec<Cell> = match es_type {
        EsType::Boolean => {
            let a = array.as_any().downcast_ref::<BooleanArray>();
            (0..len).map(|i| a.filter(|_| valid(i)).map_or(Cell::Null, |a| Cell::Boolean(a.value(i)))).collect()
        }
        EsType::Integer | EsType::Long => {
            let a = array.as_any().downcast_ref::<Int64Array>();
            (0..len).map(|i| a.filter(|_| valid(i)).map_or(Cell::Null, |a| Cell::Long(a.value(i)))).collect()
        }
        EsType::UnsignedLong => {
            let a = array.as_any().downcast_ref::<UInt64Array>();
            (0..len).map(|i| a.filter(|_| valid(i)).map_or(Cell::Null, |a| Cell::UnsignedLong(a.value(i)))).collect()
        }
        EsType::Double => {
            let a = array.as_any().downcast_ref::<Float64Array>();
            (0..len).map(|i| a.filter(|_| valid(i)).map_or(Cell::Null, |a| Cell::Double(a.value(i)))).collect()
        }
        // A geo_point is held as its WKT text, which is what Elastic returns.
        EsType::Keyword | EsType::Text | EsType::GeoPoint => {
            let a = array.as_any().downcast_ref::<StringArray>();
            (0..len)
                .map(|i| a.filter(|_| valid(i)).map_or(Cell::Null, |a| Cell::Text(a.value(i).to_string())))
                .collect()
        }
        EsType::Ip => {
            let a = array.as_any().downcast_ref::<FixedSizeBinaryArray>();
            (0..len)
                .map(|i| a.filter(|_| valid(i)).map_or(Cell::Null, |a| Cell::Text(ip_to_string(a.value(i)))))
                .collect()
        }
        EsType::Version => {
            let a = array.as_any().downcast_ref::<BinaryArray>();
            (0..len)
                .map(|i| a.filter(|_| valid(i)).map_or(Cell::Null, |a| Cell::Text(crate::version::decode(a.value(i)))))
                .collect()
        }
        EsType::Date => {
            let a = array.as_any().downcast_ref::<TimestampMillisecondArray>();
            (0..len)
                .map(|i| a.filter(|_| valid(i)).map_or(Cell::Null, |a| Cell::Text(millis_to_string(a.value(i)))))
                .collect()
        }
        EsType::DateNanos => {
            let a = array.as_any().downcast_ref::<TimestampNanosecondArray>();
            (0..len)
                .map(|i| a.filter(|_| valid(i)).map_or(Cell::Null, |a| Cell::Text(nanos_to_string(a.value(i)))))
                .collect()
        }
        EsType::Null | EsType::Unsupported | EsType::DatePeriod | EsType::TimeDuration => vec![Cell::Null; len],
    };
    cells
}

/// Arrow's own display of each value, for types Elastic never returns.
fn display_cells(array: &ArrayRef) -> Vec<Cell> {
    let options = FormatOptions::default();
    let Ok(formatter) = ArrayFormatter::try_new(array.as_ref(), &options) else {
        return vec![Cell::Null; array.len()];
    };
    (0..array.len())
        .map(|i| if array.is_valid(i) { Cell::Text(formatter.value(i).to_string()) } else { Cell::Null })
        .collect()
}

/// An `ip` value as Elastic writes it: IPv4 dotted when IPv4-mapped, else RFC 5952 IPv6.
pub fn ip_to_string(bytes: &[u8]) -> String {
    crate::convert::format_ip(bytes)
}

/// A `date` (milliseconds since the epoch) as `2023-10-23T13:55:01.543Z`.
pub fn millis_to_string(millis: i64) -> String {
    crate::convert::format_date_millis(millis)
}

/// A `date_nanos` (nanoseconds since the epoch) as `2023-10-23T13:55:01.543123456Z`.
pub fn nanos_to_string(nanos: i64) -> String {
    crate::convert::format_date_nanos(nanos)
}

/// Elastic's JSON response body: `{"columns":[{"name":…,"type":…}],"values":[[…]]}`.
pub fn to_json(output: &QueryOutput) -> Value {
    let columns: Vec<Value> = output
        .columns
        .iter()
        .map(|(name, es_type)| {
            let mut column = Map::new();
            column.insert("name".to_string(), Value::String(name.clone()));
            column.insert("type".to_string(), Value::String(es_type.name().to_string()));
            Value::Object(column)
        })
        .collect();
    let values: Vec<Value> =
        rows(output).iter().map(|row| Value::Array(row.iter().map(Cell::to_json).collect())).collect();
    let mut body = Map::new();
    body.insert("columns".to_string(), Value::Array(columns));
    body.insert("values".to_string(), Value::Array(values));
    Value::Object(body)
}

/// Elastic's `format=csv`: a header of column names, CRLF line ends, RFC 4180 quoting, null as an
/// empty field.
pub fn to_csv(output: &QueryOutput) -> String {
    let mut out = String::new();
    let names: Vec<String> = output.columns.iter().map(|(n, _)| n.clone()).collect();
    csv_row(&mut out, &names, ',');
    for row in rows(output) {
        let fields: Vec<String> =
            row.iter().map(|c| if *c == Cell::Null { String::new() } else { c.to_text() }).collect();
        csv_row(&mut out, &fields, ',');
    }
    out
}

/// One CSV record (RFC 4180: fields holding a quote, the delimiter or a line break are quoted,
/// quotes doubled; `\r\n` at the end) appended to `out`.
pub fn csv_row(out: &mut String, fields: &[String], delimiter: char) {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(delimiter);
        }
        if field.contains(['"', '\r', '\n']) || field.contains(delimiter) {
            out.push('"');
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(field);
        }
    }
    out.push_str("\r\n");
}

/// Elastic's `format=txt`: fixed-width columns (at least 15 wide) separated by `|`, centred names,
/// a `---+---` line, then the rows.
pub fn to_txt(output: &QueryOutput) -> String {
    const MIN_COLUMN_WIDTH: usize = 15;
    // Java measures strings in UTF-16 code units.
    let width_of = |s: &str| s.encode_utf16().count();
    let rows: Vec<Vec<String>> = rows(output).iter().map(|r| r.iter().map(Cell::to_text).collect()).collect();
    let mut widths: Vec<usize> = output.columns.iter().map(|(n, _)| width_of(n).max(MIN_COLUMN_WIDTH)).collect();
    for row in &rows {
        for (w, value) in widths.iter_mut().zip(row) {
            *w = (*w).max(width_of(value));
        }
    }
    let mut out = String::new();
    if output.columns.is_empty() {
        return out;
    }
    for (i, ((name, _), width)) in output.columns.iter().zip(&widths).enumerate() {
        if i > 0 {
            out.push('|');
        }
        let left = (width - width_of(name)) / 2;
        out.push_str(&" ".repeat(left));
        out.push_str(name);
        out.push_str(&" ".repeat(width - width_of(name) - left));
    }
    out.push('\n');
    let dashes: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    out.push_str(&dashes.join("+"));
    out.push('\n');
    for row in &rows {
        for (i, (value, width)) in row.iter().zip(&widths).enumerate() {
            if i > 0 {
                out.push('|');
            }
            out.push_str(value);
            out.push_str(&" ".repeat(width - width_of(value)));
        }
        out.push('\n');
    }
    out
}

/// A table rendered for a terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The lines, each ending with `\n`.
    pub text: String,
    /// True when some cell or name was cut short to fit the width.
    pub truncated: bool,
}

/// A table for terminals, at most `max_width` characters wide when the columns allow it (each
/// column keeps at least 3 characters): names, a rule, then the rows; numbers right-aligned;
/// control characters shown escaped; cells too wide end with `…`.
pub fn to_table(output: &QueryOutput, max_width: usize) -> Table {
    const MIN_WIDTH: usize = 3;
    const SEPARATOR: &str = " │ ";
    let width_of = |s: &str| s.chars().count();
    let cells = rows(output);
    let texts: Vec<Vec<String>> = cells.iter().map(|r| r.iter().map(|c| printable(&c.to_text())).collect()).collect();
    let names: Vec<String> = output.columns.iter().map(|(n, _)| printable(n)).collect();
    if names.is_empty() {
        return Table { text: String::new(), truncated: false };
    }
    let numeric: Vec<bool> =
        (0..names.len()).map(|i| cells.iter().all(|r| r[i] == Cell::Null || r[i].is_number())).collect();
    let mut widths: Vec<usize> = names.iter().map(|n| width_of(n)).collect();
    for row in &texts {
        for (w, value) in widths.iter_mut().zip(row) {
            *w = (*w).max(width_of(value));
        }
    }
    // Shrink the widest column, one character at a time, until the table fits.
    let separators = SEPARATOR.chars().count() * (widths.len() - 1);
    while widths.iter().sum::<usize>() + separators > max_width {
        let (widest, width) = widths
            .iter()
            .copied()
            .enumerate()
            .max_by_key(|(i, w)| (*w, usize::MAX - i))
            .expect("invariant: at least one column");
        if width <= MIN_WIDTH {
            break;
        }
        widths[widest] = width - 1;
    }
    let mut truncated = false;
    let mut fit = |s: &str, width: usize, right: bool| -> String {
        let len = width_of(s);
        let s = if len > width {
            truncated = true;
            let mut cut: String = s.chars().take(width.saturating_sub(1)).collect();
            cut.push('…');
            cut
        } else {
            s.to_string()
        };
        let pad = " ".repeat(width.saturating_sub(width_of(&s)));
        if right { format!("{pad}{s}") } else { format!("{s}{pad}") }
    };
    let mut lines = Vec::new();
    let header: Vec<String> = names.iter().zip(&widths).map(|(n, w)| fit(n, *w, false)).collect();
    lines.push(header.join(SEPARATOR));
    let rule: Vec<String> = widths.iter().map(|w| "─".repeat(*w)).collect();
    lines.push(rule.join("─┼─"));
    for row in &texts {
        let line: Vec<String> =
            row.iter().zip(&widths).zip(&numeric).map(|((v, w), right)| fit(v, *w, *right)).collect();
        lines.push(line.join(SEPARATOR));
    }
    let mut text = String::new();
    for line in lines {
        text.push_str(line.trim_end());
        text.push('\n');
    }
    Table { text, truncated }
}

/// Escapes control characters so one value stays on one line.
fn printable(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    s.chars()
        .map(|c| match c {
            '\n' => "\\n".to_string(),
            '\r' => "\\r".to_string(),
            '\t' => "\\t".to_string(),
            c if c.is_control() => c.escape_unicode().to_string(),
            c => c.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int32Array, ListArray, NullArray};
    use datafusion::arrow::datatypes::{Field, Int32Type, Schema};
    use datafusion::arrow::record_batch::RecordBatch;
    use std::sync::Arc;

    fn ip(text: &str) -> [u8; 16] {
        match text.parse::<std::net::IpAddr>().expect("ip") {
            std::net::IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
            std::net::IpAddr::V6(v6) => v6.octets(),
        }
    }

    fn output(columns: Vec<(&str, EsType, ArrayRef)>) -> QueryOutput {
        let fields: Vec<Field> = columns.iter().map(|(n, _, a)| Field::new(*n, a.data_type().clone(), true)).collect();
        let arrays: Vec<ArrayRef> = columns.iter().map(|(_, _, a)| a.clone()).collect();
        let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).expect("batch");
        QueryOutput {
            columns: columns.iter().map(|(n, t, _)| (n.to_string(), *t)).collect(),
            batches: vec![batch],
            warnings: Vec::new(),
        }
    }

    /// Two rows covering every type, with nulls, a multi-value, a one-value list and an empty list.
    fn sample() -> QueryOutput {
        let ips = FixedSizeBinaryArray::try_from_sparse_iter_with_size(
            [Some(ip("81.2.69.143")), Some(ip("2001:DB8:0:0:0:0:0:1"))].into_iter(),
            16,
        )
        .expect("ips");
        let versions = BinaryArray::from_iter([Some(crate::version::encode("1.2.3")), None]);
        let tags = ListArray::from_iter_primitive::<Int32Type, _, _>([Some(vec![Some(1), Some(2)]), Some(vec![])]);
        let single = ListArray::from_iter_primitive::<Int32Type, _, _>([Some(vec![Some(7)]), None]);
        output(vec![
            ("@timestamp", EsType::Date, Arc::new(TimestampMillisecondArray::from(vec![Some(1698069301543), None]))),
            (
                "t_nanos",
                EsType::DateNanos,
                Arc::new(TimestampNanosecondArray::from(vec![Some(1698069301543000001), Some(0)])),
            ),
            ("source.ip", EsType::Ip, Arc::new(ips)),
            ("v", EsType::Version, Arc::new(versions)),
            ("name", EsType::Keyword, Arc::new(StringArray::from(vec![Some("a,\"b\""), None]))),
            ("n", EsType::Integer, Arc::new(Int32Array::from(vec![Some(1), Some(-2)]))),
            ("d", EsType::Double, Arc::new(Float64Array::from(vec![Some(4825005.0), Some(1e7)]))),
            ("u", EsType::UnsignedLong, Arc::new(UInt64Array::from(vec![Some(u64::MAX), None]))),
            ("b", EsType::Boolean, Arc::new(BooleanArray::from(vec![Some(true), Some(false)]))),
            ("multi", EsType::Integer, Arc::new(tags)),
            ("one", EsType::Integer, Arc::new(single)),
            ("x", EsType::Unsupported, Arc::new(NullArray::new(2))),
        ])
    }

    #[test]
    fn json_response() {
        let body = to_json(&sample());
        assert_eq!(
            body["columns"],
            json!([
                {"name": "@timestamp", "type": "date"},
                {"name": "t_nanos", "type": "date_nanos"},
                {"name": "source.ip", "type": "ip"},
                {"name": "v", "type": "version"},
                {"name": "name", "type": "keyword"},
                {"name": "n", "type": "integer"},
                {"name": "d", "type": "double"},
                {"name": "u", "type": "unsigned_long"},
                {"name": "b", "type": "boolean"},
                {"name": "multi", "type": "integer"},
                {"name": "one", "type": "integer"},
                {"name": "x", "type": "unsupported"},
            ])
        );
        assert_eq!(
            body["values"],
            json!([
                [
                    "2023-10-23T13:55:01.543Z",
                    "2023-10-23T13:55:01.543000001Z",
                    "81.2.69.143",
                    "1.2.3",
                    "a,\"b\"",
                    1,
                    4825005.0,
                    18446744073709551615u64,
                    true,
                    [1, 2],
                    7,
                    null
                ],
                [
                    null,
                    "1970-01-01T00:00:00.000000000Z",
                    "2001:db8::1",
                    null,
                    null,
                    -2,
                    1e7,
                    null,
                    false,
                    null,
                    null,
                    null
                ]
            ])
        );
    }

    #[test]
    fn csv_like_elastic() {
        let csv = to_csv(&sample());
        assert_eq!(
            csv,
            "@timestamp,t_nanos,source.ip,v,name,n,d,u,b,multi,one,x\r\n\
             2023-10-23T13:55:01.543Z,2023-10-23T13:55:01.543000001Z,81.2.69.143,1.2.3,\"a,\"\"b\"\"\",1,4825005.0,18446744073709551615,true,\"[1, 2]\",7,\r\n\
             ,1970-01-01T00:00:00.000000000Z,2001:db8::1,,,-2,1.0E7,,false,,,\r\n"
        );
    }

    #[test]
    fn txt_like_elastic() {
        let out = output(vec![
            ("author", EsType::Keyword, Arc::new(StringArray::from(vec![Some("Peter F. Hamilton"), None]))),
            ("page_count", EsType::Integer, Arc::new(Int32Array::from(vec![Some(768), Some(613)]))),
            ("ratio", EsType::Double, Arc::new(Float64Array::from(vec![Some(1e-4), Some(9.223372036854776e18)]))),
        ]);
        assert_eq!(
            to_txt(&out),
            "     author      |  page_count   |       ratio        \n\
             -----------------+---------------+--------------------\n\
             Peter F. Hamilton|768            |1.0E-4              \n\
             null             |613            |9.223372036854776E18\n"
        );
    }

    #[test]
    fn java_doubles() {
        let cases = [
            (1.0, "1.0"),
            (4825005.0, "4825005.0"),
            (1e7, "1.0E7"),
            (9.223372036854776e18, "9.223372036854776E18"),
            (1e-4, "1.0E-4"),
            (0.001, "0.001"),
            (-2.5, "-2.5"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1234567.125, "1234567.125"),
            (12345678.9, "1.23456789E7"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Infinity"),
        ];
        for (d, text) in cases {
            assert_eq!(java_double(d), text, "{d}");
        }
    }

    #[test]
    fn ips_and_dates() {
        assert_eq!(ip_to_string(&ip("::ffff:10.0.0.1")), "10.0.0.1");
        assert_eq!(ip_to_string(&ip("FE80:0000::0001")), "fe80::1");
        assert_eq!(ip_to_string(&ip("::1")), "::1");
        assert_eq!(millis_to_string(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(millis_to_string(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(nanos_to_string(1), "1970-01-01T00:00:00.000000001Z");
    }

    #[test]
    fn lenient_arrow_types() {
        // Utf8View and time-zoned timestamps render as their canonical types do
        let strings: ArrayRef = Arc::new(datafusion::arrow::array::StringViewArray::from(vec![Some("x"), None]));
        assert_eq!(column_cells(&strings, EsType::Keyword), vec![Cell::Text("x".into()), Cell::Null]);
        let utc: ArrayRef = Arc::new(TimestampMillisecondArray::from(vec![Some(0)]).with_timezone("UTC"));
        assert_eq!(column_cells(&utc, EsType::Date), vec![Cell::Text("1970-01-01T00:00:00.000Z".into())]);
    }

    #[test]
    fn terminal_table_fits_and_truncates() {
        let out = output(vec![
            ("source.ip", EsType::Keyword, Arc::new(StringArray::from(vec![Some("81.2.69.143"), Some("line\nbreak")]))),
            ("count", EsType::Long, Arc::new(Int64Array::from(vec![Some(3), Some(12)]))),
        ]);
        let wide = to_table(&out, 80);
        assert_eq!(
            wide.text,
            "source.ip   │ count\n\
             ────────────┼──────\n\
             81.2.69.143 │     3\n\
             line\\nbreak │    12\n"
        );
        assert!(!wide.truncated);
        let narrow = to_table(&out, 14);
        assert!(narrow.truncated);
        assert!(narrow.text.lines().all(|l| l.chars().count() <= 14), "{}", narrow.text);
        assert_eq!(narrow.text.lines().nth(2), Some("81.2.… │     3"));
    }
}
