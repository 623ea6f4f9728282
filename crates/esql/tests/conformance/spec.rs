//! Reading `*.csv-spec` files the way Elastic's `SpecReader` / `CsvSpecReader` do, and parsing a
//! test's expected result table the way `CsvTestUtils.loadCsvSpecValues` does (SuperCSV with `|`
//! as the delimiter and `"` as the quote).

use esql::types::EsType;

/// One test case of a spec file.
#[derive(Debug, Clone, Default)]
pub struct SpecCase {
    /// The name (the part of the name line before `#`, trimmed).
    pub name: String,
    /// What followed `#` in the name line (`[skip:-8.12.99,reason:…]`), informational only.
    pub instructions: String,
    /// 1-based line number of the name line.
    pub line: usize,
    /// `required_capability:` (and `required_capability_coordinator:`) values.
    pub required_capabilities: Vec<String>,
    /// `missing_capability_coordinator:` / `missing_capability_data_node:` values.
    pub missing_capabilities: Vec<String>,
    /// The query, lines joined with `\n`, final `;` removed.
    pub query: String,
    /// `warning:` texts.
    pub warnings: Vec<String>,
    /// `warningRegex:` patterns (Java syntax).
    pub warning_regexes: Vec<String>,
    /// `ignoreOrder:true`.
    pub ignore_order: bool,
    /// The result-table lines (header and rows), trimmed.
    pub expected_lines: Vec<String>,
    /// A problem found while reading this case; the case then fails with it.
    pub error: Option<String>,
}

impl SpecCase {
    /// True when the name marks the test as disabled.
    pub fn is_ignored(&self) -> bool {
        self.name.ends_with("-Ignore")
    }
}

/// Java's `String.trim()`: strips every char `<= ' '` from both ends.
pub fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

fn strip_prefix_ci<'a>(line: &'a str, prefix: &str) -> Option<&'a str> {
    let head = line.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &line[prefix.len()..])
}

/// Lines that the reader drops everywhere.
pub fn should_skip_line(line: &str) -> bool {
    line.is_empty() || line.starts_with("//") || line.starts_with('#')
}

#[derive(Default)]
struct Parser {
    query: String,
    required: Vec<String>,
    missing: Vec<String>,
    case: Option<SpecCase>,
    data: Vec<String>,
}

impl Parser {
    /// Feeds one (trimmed, non-comment) line; returns a finished case.
    fn parse(&mut self, line: &str) -> Option<SpecCase> {
        let Some(case) = self.case.as_mut() else {
            self.parse_query_line(line);
            return None;
        };
        if let Some(rest) = strip_prefix_ci(line, "warning:") {
            if !case.warning_regexes.is_empty() && case.error.is_none() {
                case.error = Some(format!("cannot mix warnings and regex warnings in CSV SPEC files: [{line}]"));
            }
            case.warnings.push(java_trim(rest).to_string());
        } else if let Some(rest) = strip_prefix_ci(line, "warningregex:") {
            if !case.warnings.is_empty() && case.error.is_none() {
                case.error = Some(format!("cannot mix warnings and regex warnings in CSV SPEC files: [{line}]"));
            }
            case.warning_regexes.push(java_trim(rest).to_string());
        } else if let Some(rest) = strip_prefix_ci(line, "ignoreorder:") {
            let value = java_trim(rest).to_ascii_lowercase();
            if value == "true" {
                case.ignore_order = true;
            } else if value != "false" && case.error.is_none() {
                case.error = Some(format!("invalid value for ignoreOrder: [{value}], it can only be true or false"));
            }
        } else if line.starts_with(';') {
            let mut done = self.case.take()?;
            done.expected_lines = std::mem::take(&mut self.data);
            return Some(done);
        } else {
            self.data.push(line.to_string());
        }
        None
    }

    fn parse_query_line(&mut self, line: &str) {
        if line.starts_with("schema::") {
            return;
        }
        for prefix in ["required_capability:", "required_capability_coordinator:"] {
            if let Some(rest) = strip_prefix_ci(line, prefix) {
                self.required.push(java_trim(rest).to_string());
                return;
            }
        }
        for prefix in ["missing_capability_coordinator:", "missing_capability_data_node:"] {
            if let Some(rest) = strip_prefix_ci(line, prefix) {
                self.missing.push(java_trim(rest).to_string());
                return;
            }
        }
        // Upstream-only execution variants: safe to ignore.
        for prefix in ["approximate:", "pragma:", "skip_flattened_rewrite:", "request_stored:"] {
            if strip_prefix_ci(line, prefix).is_some() {
                return;
            }
        }
        if let Some(stmt) = line.strip_suffix("\\;") {
            // A `SET …\;` statement chained before the query: a literal `;`.
            self.query.push_str(stmt);
            self.query.push_str(";\n");
        } else if let Some(last) = line.strip_suffix(';') {
            self.query.push_str(java_trim(last));
            let case = SpecCase {
                query: std::mem::take(&mut self.query),
                required_capabilities: std::mem::take(&mut self.required),
                missing_capabilities: std::mem::take(&mut self.missing),
                ..SpecCase::default()
            };
            self.case = Some(case);
        } else {
            self.query.push_str(line);
            self.query.push('\n');
        }
    }
}

/// Reads all test cases of one spec file. Never fails: problems become case errors (a case
/// without a body at the end of the file becomes a failing case).
pub fn read_spec(text: &str) -> Vec<SpecCase> {
    let mut cases = Vec::new();
    let mut parser = Parser::default();
    let mut current: Option<(String, usize)> = None;
    for (idx, raw) in text.lines().enumerate() {
        let line = java_trim(raw);
        if should_skip_line(line) {
            continue;
        }
        match &current {
            None => current = Some((line.to_string(), idx + 1)),
            Some(_) => {
                if let Some(case) = parser.parse(line) {
                    let (name_line, line_no) = current.take().unwrap_or_default();
                    cases.push(named(case, &name_line, line_no));
                    parser = Parser::default();
                }
            }
        }
    }
    if let Some((name_line, line_no)) = current {
        let mut case = parser.case.take().unwrap_or_default();
        case.error = Some(format!("test [{name_line}] has no complete body at the end of the file"));
        cases.push(named(case, &name_line, line_no));
    }
    cases
}

fn named(mut case: SpecCase, name_line: &str, line: usize) -> SpecCase {
    let (name, instructions) = match name_line.split_once('#') {
        Some((n, i)) => (n, i),
        None => (name_line, ""),
    };
    case.name = java_trim(name).to_string();
    case.instructions = instructions.to_string();
    case.line = line;
    case
}

/// The expected type of a result column: an ES|QL type, or a type Saker does not model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnType {
    /// A type [`EsType`] knows.
    Es(EsType),
    /// Any other type name (geo_point, aggregate_metric_double, …), lower-cased.
    Other(String),
}

impl ColumnType {
    /// The type name as printed in reports.
    pub fn name(&self) -> String {
        match self {
            ColumnType::Es(t) => t.name().to_string(),
            ColumnType::Other(s) => s.clone(),
        }
    }
}

/// Maps a spec type name (with the upstream abbreviations) to a column type.
pub fn column_type(name: &str) -> ColumnType {
    let lower = name.to_ascii_lowercase();
    let normalized = match lower.as_str() {
        "i" | "int" | "short" | "byte" | "counter_integer" => "integer",
        "l" | "counter_long" => "long",
        "d" | "float" | "half_float" | "scaled_float" | "counter_double" | "counter_float" => "double",
        "k" | "s" | "string" => "keyword",
        "txt" => "text",
        "bool" => "boolean",
        "v" => "version",
        "ul" => "unsigned_long",
        "n" => "null",
        "dt" | "datetime" => "date",
        other => other,
    };
    match normalized.parse::<EsType>() {
        Ok(t) => ColumnType::Es(t),
        Err(_) => ColumnType::Other(normalized.to_string()),
    }
}

/// One expected value inside a cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Expected {
    /// SQL null.
    Null,
    /// The raw empty string (an empty cell): only an empty string matches it.
    EmptyString,
    /// A boolean.
    Bool(bool),
    /// integer / long.
    Int(i64),
    /// unsigned_long.
    UnsignedLong(u64),
    /// double.
    Double(f64),
    /// keyword / text / version / other types: compared with the rendered actual value.
    Str(String),
    /// An IP address (16 bytes, IPv4 mapped).
    Ip([u8; 16]),
    /// A date in epoch milliseconds.
    DateMillis(i64),
    /// A date_nanos in epoch nanoseconds.
    DateNanos(i64),
    /// `lo..hi`: any numeric value in the closed interval.
    Range(f64, f64),
    /// `{any}`: matches every value, null included.
    Any,
}

/// One expected cell.
#[derive(Debug, Clone, PartialEq)]
pub enum ExpectedCell {
    /// A single value (a one-element `[x]` is also a single value).
    One(Expected),
    /// A multi-value `[a, b, …]`.
    Many(Vec<Expected>),
}

/// A parsed result table.
#[derive(Debug, Clone)]
pub struct ExpectedTable {
    /// Column names and types.
    pub columns: Vec<(String, ColumnType)>,
    /// Rows of cells.
    pub rows: Vec<Vec<ExpectedCell>>,
}

/// Splits the result-table lines into rows of cells like SuperCSV (quote `"`, delimiter `|`):
/// a quote toggles quoting anywhere in a cell and is dropped, `""` inside quotes is a quote,
/// and a quoted cell may span lines. An empty cell is `None`.
pub fn tokenize(lines: &[String]) -> Result<Vec<Vec<Option<String>>>, String> {
    let mut rows = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let mut cells = Vec::new();
        let mut cell = String::new();
        let mut quoted = false;
        let mut line: Vec<char> = lines[i].chars().collect();
        let mut pos = 0;
        loop {
            if pos == line.len() {
                if quoted {
                    i += 1;
                    if i >= lines.len() {
                        return Err("unexpected end of the result table inside a quoted cell".into());
                    }
                    cell.push('\n');
                    line = lines[i].chars().collect();
                    pos = 0;
                    continue;
                }
                cells.push((!cell.is_empty()).then(|| std::mem::take(&mut cell)));
                break;
            }
            let c = line[pos];
            if quoted {
                if c == '"' {
                    if line.get(pos + 1) == Some(&'"') {
                        cell.push('"');
                        pos += 1;
                    } else {
                        quoted = false;
                    }
                } else {
                    cell.push(c);
                }
            } else if c == '|' {
                cells.push((!cell.is_empty()).then(|| std::mem::take(&mut cell)));
            } else if c == '"' {
                quoted = true;
            } else {
                cell.push(c);
            }
            pos += 1;
        }
        rows.push(cells);
        i += 1;
    }
    Ok(rows)
}

/// Splits on commas not preceded by a backslash, then drops trailing empty pieces (Java's
/// `String.split` with the `(?<!\\),` regex).
pub fn split_unescaped_commas(s: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut prev = None;
    for c in s.chars() {
        if c == ',' && prev != Some('\\') {
            parts.push(std::mem::take(&mut current));
        } else {
            current.push(c);
        }
        prev = Some(c);
    }
    parts.push(current);
    if parts.len() > 1 {
        while parts.last().is_some_and(|p| p.is_empty()) {
            parts.pop();
        }
    }
    parts
}

/// Parses the header cell `name:type` (the name is everything before the last `:`, `::`
/// casts inside the name are kept).
fn parse_header_cell(cell: &str) -> Result<(String, ColumnType), String> {
    const CAST: &str = "\u{0}CAST\u{0}";
    let escaped = cell.replace("::", CAST);
    let Some((name, ty)) = escaped.rsplit_once(':') else {
        return Err(format!("invalid CSV header [{cell}]: expected name:type"));
    };
    let ty = java_trim(&ty.replace(CAST, "::")).to_string();
    if ty.is_empty() {
        return Err(format!("a type is always expected in the csv file; found [{cell}]"));
    }
    Ok((java_trim(&name.replace(CAST, "::")).to_string(), column_type(&ty)))
}

/// Parses the result table of a case.
pub fn parse_table(lines: &[String]) -> Result<ExpectedTable, String> {
    let mut rows = tokenize(lines)?.into_iter();
    let Some(header) = rows.next() else {
        return Err("the result table has no header".into());
    };
    let mut columns = Vec::with_capacity(header.len());
    for cell in header {
        let Some(cell) = cell else { return Err("empty cell in the result header".into()) };
        columns.push(parse_header_cell(&cell)?);
    }
    let mut out = Vec::new();
    for (r, row) in rows.enumerate() {
        if row.len() != columns.len() {
            return Err(format!("result row {r} has {} cells, the header has {}", row.len(), columns.len()));
        }
        let mut cells = Vec::with_capacity(row.len());
        for (c, cell) in row.into_iter().enumerate() {
            let ty = &columns[c].1;
            let parsed = parse_cell(cell.as_deref(), ty)
                .map_err(|e| format!("result row {r} column `{}`: {e}", columns[c].0))?;
            cells.push(parsed);
        }
        out.push(cells);
    }
    Ok(ExpectedTable { columns, rows: out })
}

/// Parses one expected cell (as `loadCsvSpecValues` does).
pub fn parse_cell(cell: Option<&str>, ty: &ColumnType) -> Result<ExpectedCell, String> {
    let Some(raw) = cell else { return Ok(ExpectedCell::One(Expected::EmptyString)) };
    let value = java_trim(raw);
    if value.eq_ignore_ascii_case("null") {
        return Ok(ExpectedCell::One(Expected::Null));
    }
    if let Some(inner) = value.strip_prefix('[') {
        let Some(inner) = inner.strip_suffix(']') else {
            return Err(format!("incomplete multi-value (opening and closing square brackets) found {value}"));
        };
        let parts = split_unescaped_commas(inner);
        if parts.len() == 1 {
            return Ok(ExpectedCell::One(convert(&parts[0].replace("\\,", ","), ty)?));
        }
        let mut values = Vec::with_capacity(parts.len());
        for p in parts {
            values.push(convert(&java_trim(&p).replace("\\,", ","), ty)?);
        }
        return Ok(ExpectedCell::Many(values));
    }
    Ok(ExpectedCell::One(convert(value, ty)?))
}

fn range_matcher(s: &str) -> Option<Expected> {
    let (lo, hi) = s.split_once("..")?;
    let lo: f64 = java_trim(lo).parse().ok()?;
    let hi: f64 = java_trim(hi).parse().ok()?;
    (lo.is_finite() && hi.is_finite()).then_some(Expected::Range(lo, hi))
}

/// Converts one expected value string per the column type (`CsvTestUtils.Type.convert`).
pub fn convert(s: &str, ty: &ColumnType) -> Result<Expected, String> {
    if s == "{any}" {
        return Ok(Expected::Any);
    }
    let ColumnType::Es(t) = ty else { return Ok(Expected::Str(s.to_string())) };
    if t.is_numeric()
        && let Some(range) = range_matcher(s)
    {
        return Ok(range);
    }
    let bad = |what: &str| format!("cannot parse [{s}] as {what}");
    Ok(match t {
        EsType::Null => Expected::Null,
        EsType::Integer => Expected::Int(parse_java_int(s).ok_or_else(|| bad("integer"))? as i64),
        EsType::Long => Expected::Int(parse_java_long(s).ok_or_else(|| bad("long"))?),
        EsType::UnsignedLong => Expected::UnsignedLong(parse_unsigned_long(s).ok_or_else(|| bad("unsigned_long"))?),
        EsType::Double => Expected::Double(parse_java_double(s).ok_or_else(|| bad("double"))?),
        EsType::Boolean => match s {
            "true" => Expected::Bool(true),
            "false" => Expected::Bool(false),
            _ => return Err(bad("boolean")),
        },
        EsType::Date => Expected::DateMillis(
            crate::values::parse_date_nanos(s).map(|n| n.div_euclid(1_000_000) as i64).ok_or_else(|| bad("date"))?,
        ),
        EsType::DateNanos => Expected::DateNanos(
            crate::values::parse_date_nanos(s).and_then(|n| i64::try_from(n).ok()).ok_or_else(|| bad("date_nanos"))?,
        ),
        EsType::Ip => Expected::Ip(crate::values::parse_ip(s).ok_or_else(|| bad("ip"))?),
        _ => Expected::Str(s.to_string()),
    })
}

/// `Integer.parseInt`: optional sign, ASCII digits.
pub fn parse_java_int(s: &str) -> Option<i32> {
    java_integer_syntax(s).then(|| s.parse().ok()).flatten()
}

/// `Long.parseLong`.
pub fn parse_java_long(s: &str) -> Option<i64> {
    java_integer_syntax(s).then(|| s.parse().ok()).flatten()
}

fn java_integer_syntax(s: &str) -> bool {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// An unsigned_long literal: an integer in `0..=2^64-1`, or a whole number written as a double.
pub fn parse_unsigned_long(s: &str) -> Option<u64> {
    if java_integer_syntax(s) {
        return s.strip_prefix('+').unwrap_or(s).parse().ok();
    }
    let d = parse_java_double(s)?;
    (d.is_finite() && d >= 0.0 && d.fract() == 0.0 && d < 18446744073709551616.0).then_some(d as u64)
}

/// `Double.parseDouble` (decimal forms, `NaN`, `Infinity`, optional `d`/`f` suffix).
pub fn parse_java_double(s: &str) -> Option<f64> {
    let t = java_trim(s);
    let t = t.strip_suffix(['d', 'D', 'f', 'F']).unwrap_or(t);
    match t {
        "NaN" | "+NaN" | "-NaN" => return Some(f64::NAN),
        "Infinity" | "+Infinity" => return Some(f64::INFINITY),
        "-Infinity" => return Some(f64::NEG_INFINITY),
        _ => {}
    }
    if !t.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E')) {
        return None;
    }
    t.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(s: &str) -> Vec<String> {
        s.lines().map(|l| java_trim(l).to_string()).filter(|l| !l.is_empty()).collect()
    }

    #[test]
    fn reads_names_directives_warnings_and_tables() {
        let text = "\
// a banner comment
#### section
first#[skip:-8.12.99,reason:old]
required_capability: cap_a
required_capability: cap_b
FROM idx
# a remark inside the query
| KEEP a;
warning:Line 2:3: something
ignoreOrder:true

a:integer | b:k
1 | x
// tag::r[]
2 | \"y|z\"
;

second
ROW x = 1;

x:i
;
";
        let cases = read_spec(text);
        assert_eq!(cases.len(), 2);
        let first = &cases[0];
        assert_eq!(first.name, "first");
        assert_eq!(first.instructions, "[skip:-8.12.99,reason:old]");
        assert_eq!(first.required_capabilities, vec!["cap_a", "cap_b"]);
        assert_eq!(first.query, "FROM idx\n| KEEP a");
        assert_eq!(first.warnings, vec!["Line 2:3: something"]);
        assert!(first.ignore_order);
        let table = parse_table(&first.expected_lines).unwrap();
        assert_eq!(
            table.columns,
            vec![("a".into(), ColumnType::Es(EsType::Integer)), ("b".into(), ColumnType::Es(EsType::Keyword))]
        );
        assert_eq!(table.rows[1][1], ExpectedCell::One(Expected::Str("y|z".into())));
        let second = &cases[1];
        assert_eq!(second.query, "ROW x = 1");
        assert!(parse_table(&second.expected_lines).unwrap().rows.is_empty());
    }

    #[test]
    fn escaped_semicolon_chains_a_set_statement() {
        let cases = read_spec("t\nSET a = 1\\;\nFROM x | LIMIT 1;\nc:l\n1\n;\n");
        assert_eq!(cases[0].query, "SET a = 1;\nFROM x | LIMIT 1");
    }

    #[test]
    fn a_missing_terminator_swallows_the_next_test() {
        // Like ip.csv-spec's equalityNoSort-Ignore: the header and rows join the query, the
        // `;` closing the rows ends the query, and the next test becomes the "results".
        let text = "a-Ignore\nFROM h | KEEP x\n\nx:k\nv\n;\n\nb\nFROM h | KEEP y;\n\ny:k\nw\n;\n\nc\nROW z = 1;\n\nz:i\n1\n;\n";
        let cases = read_spec(text);
        let names: Vec<_> = cases.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, vec!["a-Ignore", "c"]);
        assert_eq!(cases[0].query, "FROM h | KEEP x\nx:k\nv\n");
        assert_eq!(cases[0].expected_lines[0], "b");
    }

    #[test]
    fn unterminated_last_case_is_an_error_case() {
        let cases = read_spec("t\nROW a = 1\n");
        assert_eq!(cases.len(), 1);
        assert!(cases[0].error.is_some());
    }

    #[test]
    fn mixing_warning_kinds_is_an_error() {
        let cases = read_spec("t\nROW a = 1;\nwarning:x\nwarningRegex:y\na:i\n1\n;\n");
        assert!(cases[0].error.as_deref().unwrap_or("").contains("cannot mix"));
    }

    #[test]
    fn multi_values_and_quotes() {
        let ty = ColumnType::Es(EsType::Keyword);
        assert_eq!(
            parse_cell(Some("[a, b ,c]"), &ty).unwrap(),
            ExpectedCell::Many(vec![Expected::Str("a".into()), Expected::Str("b".into()), Expected::Str("c".into())])
        );
        assert_eq!(parse_cell(Some("[a]"), &ty).unwrap(), ExpectedCell::One(Expected::Str("a".into())));
        assert_eq!(parse_cell(Some("NULL"), &ty).unwrap(), ExpectedCell::One(Expected::Null));
        assert_eq!(parse_cell(None, &ty).unwrap(), ExpectedCell::One(Expected::EmptyString));
        assert_eq!(
            parse_cell(Some("[a\\,b, c]"), &ty).unwrap(),
            ExpectedCell::Many(vec![Expected::Str("a,b".into()), Expected::Str("c".into())])
        );
        let rows = tokenize(&lines("a:k | b:k\n\"33,F\" | [\"x\", \"\", \"y\"]")).unwrap();
        assert_eq!(rows[1], vec![Some("33,F ".into()), Some(" [x, , y]".into())]);
        let ints = ColumnType::Es(EsType::Integer);
        assert_eq!(
            parse_cell(Some("[1, 2, 2]"), &ints).unwrap(),
            ExpectedCell::Many(vec![Expected::Int(1), Expected::Int(2), Expected::Int(2)])
        );
        assert!(parse_cell(Some("[1, 2"), &ints).is_err());
        assert!(parse_cell(Some("1.5"), &ints).is_err());
    }

    #[test]
    fn header_types_and_names() {
        let t = parse_table(&lines(
            "count(*):long | `a.b`:D | x::integer:i | n:N | u:UNSIGNED_LONG | d:datetime | g:geo_point",
        ))
        .unwrap();
        let names: Vec<_> = t.columns.iter().map(|c| c.0.as_str()).collect();
        assert_eq!(names, vec!["count(*)", "`a.b`", "x::integer", "n", "u", "d", "g"]);
        let types: Vec<_> = t.columns.iter().map(|c| c.1.name()).collect();
        assert_eq!(types, vec!["long", "double", "integer", "null", "unsigned_long", "date", "geo_point"]);
    }

    #[test]
    fn matchers() {
        let d = ColumnType::Es(EsType::Double);
        assert_eq!(convert("0.9..1.0", &d).unwrap(), Expected::Range(0.9, 1.0));
        assert_eq!(convert("1.0E-4..2.0E-4", &d).unwrap(), Expected::Range(1.0e-4, 2.0e-4));
        assert_eq!(convert("{any}", &d).unwrap(), Expected::Any);
        assert_eq!(convert("{any}", &ColumnType::Es(EsType::Keyword)).unwrap(), Expected::Any);
        assert_eq!(convert("a..b", &ColumnType::Es(EsType::Keyword)).unwrap(), Expected::Str("a..b".into()));
        assert_eq!(convert("9.223372036854776E18", &d).unwrap(), Expected::Double(9.223372036854776E18));
    }
}
