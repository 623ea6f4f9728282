//! Turning a query's Arrow output into comparable values, rendering them in the csv-spec text
//! form, and comparing them with an expected table (`CsvAssert`'s rules).

use crate::spec::{ColumnType, Expected, ExpectedCell, ExpectedTable};
use crate::values;
use esql::QueryOutput;
use esql::datafusion::arrow::array::{Array, ArrayRef, AsArray};
use esql::datafusion::arrow::compute::cast;
use esql::datafusion::arrow::datatypes::{
    DataType, Float16Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, TimeUnit,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt8Type,
    UInt16Type, UInt32Type, UInt64Type,
};
use esql::datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use esql::types::EsType;

/// One actual value.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    /// null
    Null,
    /// boolean
    Bool(bool),
    /// any integer type
    Int(i128),
    /// any floating-point type
    Float(f64),
    /// a string
    Str(String),
    /// an IP address
    Ip([u8; 16]),
    /// binary; a version when the column is a version
    Bytes(Vec<u8>),
    /// a timestamp in nanoseconds, `true` when the column has nanosecond precision
    Time(i128, bool),
    /// anything else, rendered by Arrow
    Other(String),
}

/// One actual cell: a value or a multi-value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// A single value (a one-element list is a single value, an empty list is null).
    One(Val),
    /// Several values.
    Many(Vec<Val>),
}

/// The actual result, row-major.
pub struct Actual {
    /// Column names and types.
    pub columns: Vec<(String, EsType)>,
    /// Rows of cells.
    pub rows: Vec<Vec<Cell>>,
}

/// Reads the query output into rows of cells.
pub fn read_output(out: &QueryOutput) -> Result<Actual, String> {
    let mut rows = Vec::new();
    for batch in &out.batches {
        if batch.num_columns() != out.columns.len() {
            return Err(format!(
                "a result batch has {} columns but the output declares {}",
                batch.num_columns(),
                out.columns.len()
            ));
        }
        for r in 0..batch.num_rows() {
            let mut row = Vec::with_capacity(batch.num_columns());
            for (c, column) in batch.columns().iter().enumerate() {
                row.push(read_cell(column, r, out.columns[c].1)?);
            }
            rows.push(row);
        }
    }
    Ok(Actual { columns: out.columns.clone(), rows })
}

fn read_cell(array: &ArrayRef, row: usize, es_type: EsType) -> Result<Cell, String> {
    if array.is_null(row) {
        return Ok(Cell::One(Val::Null));
    }
    let items = match array.data_type() {
        DataType::List(_) => Some(array.as_list::<i32>().value(row)),
        DataType::LargeList(_) => Some(array.as_list::<i64>().value(row)),
        DataType::FixedSizeList(_, _) => Some(array.as_fixed_size_list().value(row)),
        _ => None,
    };
    let Some(items) = items else { return Ok(Cell::One(read_value(array, row, es_type)?)) };
    let mut vals = Vec::with_capacity(items.len());
    for i in 0..items.len() {
        vals.push(if items.is_null(i) { Val::Null } else { read_value(&items, i, es_type)? });
    }
    Ok(match vals.len() {
        0 => Cell::One(Val::Null),
        1 => Cell::One(vals.remove(0)),
        _ => Cell::Many(vals),
    })
}

fn read_value(array: &ArrayRef, i: usize, es_type: EsType) -> Result<Val, String> {
    if array.is_null(i) {
        return Ok(Val::Null);
    }
    Ok(match array.data_type() {
        DataType::Null => Val::Null,
        DataType::Boolean => Val::Bool(array.as_boolean().value(i)),
        DataType::Int8 => Val::Int(array.as_primitive::<Int8Type>().value(i).into()),
        DataType::Int16 => Val::Int(array.as_primitive::<Int16Type>().value(i).into()),
        DataType::Int32 => Val::Int(array.as_primitive::<Int32Type>().value(i).into()),
        DataType::Int64 => Val::Int(array.as_primitive::<Int64Type>().value(i).into()),
        DataType::UInt8 => Val::Int(array.as_primitive::<UInt8Type>().value(i).into()),
        DataType::UInt16 => Val::Int(array.as_primitive::<UInt16Type>().value(i).into()),
        DataType::UInt32 => Val::Int(array.as_primitive::<UInt32Type>().value(i).into()),
        DataType::UInt64 => Val::Int(array.as_primitive::<UInt64Type>().value(i).into()),
        DataType::Float16 => Val::Float(array.as_primitive::<Float16Type>().value(i).to_f64()),
        DataType::Float32 => Val::Float(array.as_primitive::<Float32Type>().value(i).into()),
        DataType::Float64 => Val::Float(array.as_primitive::<Float64Type>().value(i)),
        DataType::Utf8 => Val::Str(array.as_string::<i32>().value(i).to_string()),
        DataType::LargeUtf8 => Val::Str(array.as_string::<i64>().value(i).to_string()),
        DataType::Utf8View => Val::Str(array.as_string_view().value(i).to_string()),
        DataType::FixedSizeBinary(16) if es_type != EsType::Version => {
            let bytes = array.as_fixed_size_binary().value(i);
            let mut ip = [0u8; 16];
            ip.copy_from_slice(bytes);
            Val::Ip(ip)
        }
        DataType::Binary => Val::Bytes(array.as_binary::<i32>().value(i).to_vec()),
        DataType::LargeBinary => Val::Bytes(array.as_binary::<i64>().value(i).to_vec()),
        DataType::BinaryView => Val::Bytes(array.as_binary_view().value(i).to_vec()),
        DataType::FixedSizeBinary(_) => Val::Bytes(array.as_fixed_size_binary().value(i).to_vec()),
        DataType::Timestamp(unit, _) => {
            let (v, scale, nanos) = match unit {
                TimeUnit::Second => (array.as_primitive::<TimestampSecondType>().value(i), 1_000_000_000i128, false),
                TimeUnit::Millisecond => (array.as_primitive::<TimestampMillisecondType>().value(i), 1_000_000, false),
                TimeUnit::Microsecond => (array.as_primitive::<TimestampMicrosecondType>().value(i), 1_000, true),
                TimeUnit::Nanosecond => (array.as_primitive::<TimestampNanosecondType>().value(i), 1, true),
            };
            Val::Time(v as i128 * scale, nanos)
        }
        DataType::Dictionary(_, value_type) => {
            let plain = cast(array, value_type).map_err(|e| format!("cannot decode a dictionary column: {e}"))?;
            read_value(&plain, i, es_type)?
        }
        _ => {
            let formatter = ArrayFormatter::try_new(array.as_ref(), &FormatOptions::default())
                .map_err(|e| format!("cannot render a {} value: {e}", array.data_type()))?;
            Val::Other(formatter.value(i).to_string())
        }
    })
}

/// Renders one value in the csv-spec text form.
pub fn render_val(v: &Val, es_type: EsType) -> String {
    match v {
        Val::Null => "null".into(),
        Val::Bool(b) => b.to_string(),
        Val::Int(i) => i.to_string(),
        Val::Float(f) => values::java_double(*f),
        Val::Str(s) => s.clone(),
        Val::Ip(b) => values::render_ip(b),
        Val::Bytes(b) if es_type == EsType::Version => esql::version::decode(b),
        Val::Bytes(b) => b.iter().map(|x| format!("{x:02x}")).collect(),
        Val::Time(ns, nanos) => {
            if *nanos || es_type == EsType::DateNanos {
                i64::try_from(*ns).map_or_else(|_| format!("{ns}ns"), values::render_nanos)
            } else {
                i64::try_from(ns.div_euclid(1_000_000)).map_or_else(|_| format!("{ns}ns"), values::render_millis)
            }
        }
        Val::Other(s) => s.clone(),
    }
}

/// Renders a cell: a value, or `[a, b]`.
pub fn render_cell(c: &Cell, es_type: EsType) -> String {
    match c {
        Cell::One(v) => render_val(v, es_type),
        Cell::Many(vs) => format!("[{}]", vs.iter().map(|v| render_val(v, es_type)).collect::<Vec<_>>().join(", ")),
    }
}

fn render_expected(e: &Expected) -> String {
    match e {
        Expected::Null => "null".into(),
        Expected::EmptyString => "\"\"".into(),
        Expected::Bool(b) => b.to_string(),
        Expected::Int(i) => i.to_string(),
        Expected::UnsignedLong(u) => u.to_string(),
        Expected::Double(d) => values::java_double(*d),
        Expected::Str(s) => s.clone(),
        Expected::Ip(b) => values::render_ip(b),
        Expected::DateMillis(ms) => values::render_millis(*ms),
        Expected::DateNanos(ns) => values::render_nanos(*ns),
        Expected::Range(lo, hi) => format!("{}..{}", values::java_double(*lo), values::java_double(*hi)),
        Expected::Any => "{any}".into(),
    }
}

/// Renders an expected cell.
pub fn render_expected_cell(c: &ExpectedCell) -> String {
    match c {
        ExpectedCell::One(e) => render_expected(e),
        ExpectedCell::Many(es) => format!("[{}]", es.iter().map(render_expected).collect::<Vec<_>>().join(", ")),
    }
}

fn as_f64(v: &Val) -> Option<f64> {
    match v {
        Val::Int(i) => Some(*i as f64),
        Val::Float(f) => Some(*f),
        _ => None,
    }
}

/// Whether an actual value matches an expected one (`Objects.equals` after the upstream
/// conversions; doubles compare like `Double.equals`).
pub fn value_matches(e: &Expected, v: &Val, es_type: EsType) -> bool {
    match (e, v) {
        (Expected::Any, _) => true,
        (Expected::Null, Val::Null) => true,
        (Expected::EmptyString, Val::Str(s)) => s.is_empty(),
        (Expected::Bool(a), Val::Bool(b)) => a == b,
        (Expected::Int(a), Val::Int(b)) => i128::from(*a) == *b,
        (Expected::UnsignedLong(a), Val::Int(b)) => i128::from(*a) == *b,
        (Expected::Double(a), Val::Float(b)) => (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits(),
        (Expected::Ip(a), Val::Ip(b)) => a == b,
        (Expected::DateMillis(ms), Val::Time(ns, _)) => i128::from(*ms) * 1_000_000 == *ns,
        (Expected::DateNanos(a), Val::Time(ns, _)) => i128::from(*a) == *ns,
        (Expected::Range(lo, hi), v) => as_f64(v).is_some_and(|x| *lo <= x && x <= *hi),
        (Expected::Str(_), Val::Null) => false,
        (Expected::Str(s), v) => *s == render_val(v, es_type),
        _ => false,
    }
}

/// Whether an actual cell matches an expected cell.
pub fn cell_matches(e: &ExpectedCell, a: &Cell, es_type: EsType) -> bool {
    match (e, a) {
        (ExpectedCell::One(Expected::Any), _) => true,
        (ExpectedCell::One(e), Cell::One(v)) => value_matches(e, v, es_type),
        (ExpectedCell::Many(es), Cell::Many(vs)) => {
            es.len() == vs.len() && es.iter().zip(vs).all(|(e, v)| value_matches(e, v, es_type))
        }
        _ => false,
    }
}

fn row_matches(expected: &[ExpectedCell], actual: &[Cell], types: &[EsType]) -> bool {
    expected.len() == actual.len() && expected.iter().zip(actual).zip(types).all(|((e, a), t)| cell_matches(e, a, *t))
}

/// Compares column names and types.
pub fn compare_columns(expected: &ExpectedTable, actual: &Actual) -> Result<(), String> {
    let render = |cols: &mut dyn Iterator<Item = (String, String)>| {
        cols.map(|(n, t)| format!("{n}:{t}")).collect::<Vec<_>>().join(" | ")
    };
    let mismatch = || {
        format!(
            "columns differ: expected [{}], got [{}]",
            render(&mut expected.columns.iter().map(|(n, t)| (n.clone(), t.name()))),
            render(&mut actual.columns.iter().map(|(n, t)| (n.clone(), t.name().to_string())))
        )
    };
    if expected.columns.len() != actual.columns.len() {
        return Err(mismatch());
    }
    for ((en, et), (an, at)) in expected.columns.iter().zip(&actual.columns) {
        let type_ok = match et {
            ColumnType::Es(EsType::Long) => matches!(at, EsType::Long | EsType::Integer),
            ColumnType::Es(t) => t == at,
            ColumnType::Other(_) => false,
        };
        if en != an || !type_ok {
            return Err(mismatch());
        }
    }
    Ok(())
}

/// Compares the rows, in order or as multisets.
pub fn compare_rows(expected: &ExpectedTable, actual: &Actual, ignore_order: bool) -> Result<(), String> {
    let types: Vec<EsType> = actual.columns.iter().map(|c| c.1).collect();
    let show_actual =
        |row: &[Cell]| row.iter().zip(&types).map(|(c, t)| render_cell(c, *t)).collect::<Vec<_>>().join(" | ");
    let show_expected = |row: &[ExpectedCell]| row.iter().map(render_expected_cell).collect::<Vec<_>>().join(" | ");
    let count_note = if expected.rows.len() != actual.rows.len() {
        format!("expected {} rows, got {}; ", expected.rows.len(), actual.rows.len())
    } else {
        String::new()
    };
    if !ignore_order {
        for (i, (e, a)) in expected.rows.iter().zip(&actual.rows).enumerate() {
            if !row_matches(e, a, &types) {
                let col =
                    e.iter().zip(a.iter()).zip(&types).position(|((e, a), t)| !cell_matches(e, a, *t)).unwrap_or(0);
                let name = actual.columns.get(col).map(|c| c.0.as_str()).unwrap_or("?");
                return Err(format!(
                    "{count_note}row {i} column `{name}`: expected [{}], got [{}] (row: expected [{}], got [{}])",
                    e.get(col).map(render_expected_cell).unwrap_or_default(),
                    a.get(col)
                        .map(|c| render_cell(c, types.get(col).copied().unwrap_or(EsType::Keyword)))
                        .unwrap_or_default(),
                    show_expected(e),
                    show_actual(a)
                ));
            }
        }
        if !count_note.is_empty() {
            let n = expected.rows.len().min(actual.rows.len());
            let extra = match (expected.rows.get(n), actual.rows.get(n)) {
                (Some(e), _) => format!("first missing row [{}]", show_expected(e)),
                (_, Some(a)) => format!("first extra row [{}]", show_actual(a)),
                _ => String::new(),
            };
            return Err(format!("{count_note}{extra}"));
        }
        return Ok(());
    }
    let mut used = vec![false; actual.rows.len()];
    let mut missing = Vec::new();
    for e in &expected.rows {
        match (0..actual.rows.len()).find(|&i| !used[i] && row_matches(e, &actual.rows[i], &types)) {
            Some(i) => used[i] = true,
            None => missing.push(e),
        }
    }
    let extra: Vec<_> = actual.rows.iter().zip(&used).filter(|(_, u)| !**u).map(|(r, _)| r).collect();
    if missing.is_empty() && extra.is_empty() {
        return Ok(());
    }
    let mut msg = format!(
        "{count_note}rows differ (ignoring order): {} expected rows unmatched, {} actual rows unexpected",
        missing.len(),
        extra.len()
    );
    if let Some(e) = missing.first() {
        msg.push_str(&format!("; first missing [{}]", show_expected(e)));
    }
    if let Some(a) = extra.first() {
        msg.push_str(&format!("; first unexpected [{}]", show_actual(a)));
    }
    Err(msg)
}

/// Elasticsearch's `Warning` header form of a warning text (`HeaderWarning.escapeAndEncode`):
/// backslashes and quotes escaped, then `%`, control and non-ASCII characters percent-encoded
/// (UTF-8, upper-case hex). The spec files record warnings in this form.
pub fn header_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\t' | ' ' => out.push(c),
            c if c.is_ascii_graphic() && c != '%' => out.push(c),
            c => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
        }
    }
    out
}

/// The expected literal warnings, with the old `…#[Emulated:…]` alternative removed (the part
/// before it is what a real cluster returns).
fn literal_warnings(literal: &[String]) -> Vec<&str> {
    literal
        .iter()
        .filter_map(|w| match w.to_ascii_lowercase().find("#[emulated:") {
            Some(0) => None,
            Some(i) => Some(&w[..i]),
            None => Some(w.as_str()),
        })
        .collect()
}

/// Compares warnings as sets: literal texts, or Java regexes that must each match a warning and
/// together cover every warning. An actual warning matches in its own form or in the header
/// form (see [`header_encode`]).
pub fn compare_warnings(literal: &[String], regexes: &[String], actual: &[String]) -> Result<(), String> {
    let mut actual_set: Vec<&String> = actual.iter().collect();
    actual_set.sort();
    actual_set.dedup();
    let forms: Vec<(&String, String)> = actual_set.iter().map(|a| (*a, header_encode(a))).collect();
    if !regexes.is_empty() {
        let mut compiled = Vec::with_capacity(regexes.len());
        for r in regexes {
            let re = regex::Regex::new(&format!("^(?:.*(?:{r}).*)$"))
                .map_err(|e| format!("warningRegex [{r}] is not a valid regex here: {e}"))?;
            compiled.push((r, re));
        }
        let hit = |re: &regex::Regex, (a, encoded): &(&String, String)| re.is_match(a) || re.is_match(encoded);
        if let Some((w, _)) = forms.iter().find(|f| !compiled.iter().any(|(_, re)| hit(re, f))) {
            return Err(format!("unexpected warning [{w}]"));
        }
        if let Some((r, _)) = compiled.iter().find(|(_, re)| !forms.iter().any(|f| hit(re, f))) {
            return Err(format!("missing warning matching [{r}]; got {actual_set:?}"));
        }
        return Ok(());
    }
    let expected = literal_warnings(literal);
    let matches = |e: &str, (a, encoded): &(&String, String)| e == a.as_str() || e == encoded;
    if let Some(e) = expected.iter().find(|e| !forms.iter().any(|f| matches(e, f))) {
        return Err(format!("missing warning [{e}]; got {actual_set:?}"));
    }
    if let Some((a, _)) = forms.iter().find(|f| !expected.iter().any(|e| matches(e, f))) {
        return Err(format!("unexpected warning [{a}]"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(cols: &[(&str, EsType)], rows: Vec<Vec<ExpectedCell>>) -> ExpectedTable {
        ExpectedTable { columns: cols.iter().map(|(n, t)| (n.to_string(), ColumnType::Es(*t))).collect(), rows }
    }

    #[test]
    fn rows_compare_in_order_or_as_multisets() {
        let cols = [("a", EsType::Integer), ("b", EsType::Keyword)];
        let e = |a: i64, b: &str| vec![ExpectedCell::One(Expected::Int(a)), ExpectedCell::One(Expected::Str(b.into()))];
        let v = |a: i128, b: &str| vec![Cell::One(Val::Int(a)), Cell::One(Val::Str(b.into()))];
        let expected = table(&cols, vec![e(1, "x"), e(2, "y"), e(2, "y")]);
        let actual = Actual {
            columns: cols.iter().map(|(n, t)| (n.to_string(), *t)).collect(),
            rows: vec![v(2, "y"), v(1, "x"), v(2, "y")],
        };
        assert!(compare_columns(&expected, &actual).is_ok());
        assert!(compare_rows(&expected, &actual, true).is_ok());
        assert!(compare_rows(&expected, &actual, false).is_err());
        let short = Actual { columns: actual.columns.clone(), rows: vec![v(1, "x"), v(2, "y")] };
        assert!(compare_rows(&expected, &short, true).is_err());
        assert!(compare_rows(&expected, &short, false).unwrap_err().contains("expected 3 rows, got 2"));
    }

    #[test]
    fn values_and_matchers() {
        assert!(value_matches(&Expected::Double(1.0), &Val::Float(1.0), EsType::Double));
        assert!(!value_matches(&Expected::Double(0.0), &Val::Float(-0.0), EsType::Double));
        assert!(value_matches(&Expected::Range(0.9, 1.0), &Val::Float(0.95), EsType::Double));
        assert!(value_matches(&Expected::Range(1.0, 3.0), &Val::Int(3), EsType::Long));
        assert!(!value_matches(&Expected::Range(1.0, 3.0), &Val::Int(4), EsType::Long));
        assert!(value_matches(&Expected::Any, &Val::Null, EsType::Long));
        assert!(value_matches(&Expected::DateMillis(1), &Val::Time(1_000_000, false), EsType::Date));
        let v = esql::version::encode("5.2.9-SNAPSHOT");
        assert!(value_matches(&Expected::Str("5.2.9-SNAPSHOT".into()), &Val::Bytes(v), EsType::Version));
        assert!(!value_matches(&Expected::Str("null".into()), &Val::Null, EsType::Keyword));
        let many = ExpectedCell::Many(vec![Expected::Int(1), Expected::Any]);
        assert!(cell_matches(&many, &Cell::Many(vec![Val::Int(1), Val::Int(5)]), EsType::Integer));
        assert!(!cell_matches(&many, &Cell::One(Val::Int(1)), EsType::Integer));
        assert_eq!(render_cell(&Cell::Many(vec![Val::Float(1.0), Val::Null]), EsType::Double), "[1.0, null]");
    }

    #[test]
    fn long_columns_accept_integers() {
        let expected = table(&[("c", EsType::Long)], vec![]);
        let actual = Actual { columns: vec![("c".into(), EsType::Integer)], rows: vec![] };
        assert!(compare_columns(&expected, &actual).is_ok());
        let actual = Actual { columns: vec![("c".into(), EsType::Double)], rows: vec![] };
        assert!(compare_columns(&expected, &actual).is_err());
    }

    #[test]
    fn warnings() {
        let w = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let actual = w(&[
            "Line 1:2: evaluation of [x] failed",
            "Line 1:2: java.lang.NumberFormatException: For input string: \"foo\"",
        ]);
        assert!(
            compare_warnings(
                &w(&[
                    "Line 1:2: evaluation of [x] failed",
                    "Line 1:2: java.lang.NumberFormatException: For input string: \\\"foo\\\""
                ]),
                &[],
                &actual
            )
            .is_ok()
        );
        assert!(compare_warnings(&w(&["Line 1:2: evaluation of [x] failed"]), &[], &actual).is_err());
        assert!(compare_warnings(&[], &w(&["evaluation of \\[x\\] failed", "NumberFormatException"]), &actual).is_ok());
        assert!(compare_warnings(&[], &w(&["evaluation of \\[x\\] failed"]), &actual).is_err());
        assert!(
            compare_warnings(&[], &w(&["evaluation of \\[x\\] failed", "NumberFormatException", "other"]), &actual)
                .is_err()
        );
        assert!(compare_warnings(&[], &[], &[]).is_ok());
        assert!(compare_warnings(&[], &[], &actual).is_err());
        let pct = w(&["Line 1:5: evaluation of [a % 0] failed"]);
        assert!(compare_warnings(&w(&["Line 1:5: evaluation of [a %25 0] failed"]), &[], &pct).is_ok());
        let emulated = w(&["Line 1:2: x#[Emulated:Line 1:3: y]"]);
        assert!(compare_warnings(&emulated, &[], &w(&["Line 1:2: x"])).is_ok());
        assert_eq!(header_encode("Zürich \"q\" \\ 50%"), "Z%C3%BCrich \\\"q\\\" \\\\ 50%25");
    }
}
