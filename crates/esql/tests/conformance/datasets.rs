//! Loading the corpus test data (`data/*.csv`, `mappings/*.json`, `enrich/*.json`) into a
//! [`MemCatalog`], emulating how Elasticsearch stores and returns the documents that Elastic's
//! `CsvTestsDataLoader` indexes.
//!
//! Range fields (`integer_range`, `double_range`, `date_range`, `ip_range`) only serve enrich
//! policies. ES|QL cannot read them, so the field itself is an `unsupported` (all-null) column;
//! its bounds are two extra columns `<field>.gte` and `<field>.lte`, both inclusive and typed as
//! the range's element type. `lo..hi` in the data is the half-open range `[lo, hi)` (as the
//! upstream enrich tests show: age 60 is a `Senior` of `60..80`, not `Middle-aged` of `40..60`),
//! so `lte` is `hi - 1` (`hi - 1ms` for dates, the next lower double for doubles); a CIDR
//! `a.b.c.d/n` spans its network to its broadcast address.

use crate::spec::java_trim;
use crate::values;
use esql::catalog::{EnrichKind, EnrichPolicy, FieldInfo, MemCatalog, MemIndex};
use esql::datafusion::arrow::array::{
    ArrayRef, BinaryBuilder, BooleanBuilder, FixedSizeBinaryBuilder, Float64Builder, Int32Builder, Int64Builder,
    ListBuilder, NullArray, StringBuilder, TimestampMillisecondBuilder, TimestampNanosecondBuilder, UInt64Builder,
};
use esql::datafusion::arrow::record_batch::RecordBatch;
use esql::types::EsType;
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

/// How an index is built from the corpus files (after `CsvTestsDataLoader`'s dataset table).
#[derive(Debug, Clone, Copy)]
pub struct IndexDef {
    /// The index name used in queries.
    pub name: &'static str,
    /// Data CSV in `data/` (`None`: the index is created empty).
    pub data: Option<&'static str>,
    /// Mapping file in `mappings/` (`None`: missing, the CSV header types are authoritative).
    pub mapping: Option<&'static str>,
    /// The mapping is older than the CSV: the CSV header types win.
    pub stale: bool,
    /// Created with `lookup-settings.json` (`index.mode: lookup`).
    pub lookup: bool,
    /// Fields (and objects) removed from the mapping; such indices have dynamic mapping off, so
    /// the CSV columns are dropped too.
    pub removed: &'static [&'static str],
    /// Mapping type overrides: `field` or `prefix.*` (every field under `prefix`) → ES type.
    pub types: &'static [(&'static str, &'static str)],
    /// Text fields that dynamic mapping gives a `<field>.keyword` keyword sub-field.
    pub keyword_subfields: &'static [&'static str],
}

const fn def(name: &'static str, data: &'static str, mapping: &'static str) -> IndexDef {
    IndexDef {
        name,
        data: Some(data),
        mapping: Some(mapping),
        stale: false,
        lookup: false,
        removed: &[],
        types: &[],
        keyword_subfields: &[],
    }
}

const fn no_mapping(name: &'static str, data: &'static str) -> IndexDef {
    IndexDef { mapping: None, ..def(name, data, "") }
}

const fn lookup(d: IndexDef) -> IndexDef {
    IndexDef { lookup: true, ..d }
}

/// Every index of DATASETS.md's table that can be built from the files present.
pub const INDICES: &[IndexDef] = &[
    def("employees", "employees.csv", "mapping-default.json"),
    def("employees_alias", "employees.csv", "mapping-default.json"),
    IndexDef {
        removed: &["first_name", "last_name"],
        ..def("employees_no_names", "employees.csv", "mapping-default.json")
    },
    IndexDef { types: &[("gender", "text")], ..def("employees_gender_text", "employees.csv", "mapping-default.json") },
    IndexDef { removed: &["gender"], ..def("employees_no_gender", "employees.csv", "mapping-default.json") },
    IndexDef { stale: true, ..def("hosts", "hosts.csv", "stale/mapping-hosts.json") },
    IndexDef {
        stale: true,
        types: &[("ip0", "keyword"), ("ip1", "keyword")],
        ..def("hosts_ip_is_kwd", "hosts.csv", "stale/mapping-hosts.json")
    },
    def("apps", "apps.csv", "mapping-apps.json"),
    IndexDef { types: &[("id", "short")], ..def("apps_short", "apps.csv", "mapping-apps.json") },
    no_mapping("languages", "languages.csv"),
    lookup(no_mapping("languages_lookup", "languages.csv")),
    IndexDef {
        types: &[("country", "text")],
        keyword_subfields: &["country"],
        ..lookup(no_mapping("languages_lookup_non_unique_key", "languages_non_unique_key.csv"))
    },
    IndexDef {
        stale: true,
        keyword_subfields: &["language.name"],
        ..lookup(def(
            "languages_nested_fields",
            "languages_nested_fields.csv",
            "stale/mapping-languages_nested_fields.json",
        ))
    },
    lookup(def("languages_mixed_numerics", "languages_mixed_numerics.csv", "mapping-languages_mixed_numerics.json")),
    def("ul_logs", "ul_logs.csv", "mapping-ul_logs.json"),
    no_mapping("sample_data", "sample_data.csv"),
    no_mapping("cloned_sample_data", "sample_data.csv"),
    IndexDef { types: &[("client_ip", "keyword")], ..no_mapping("sample_data_str", "sample_data.csv") },
    IndexDef { types: &[("@timestamp", "long")], ..no_mapping("sample_data_ts_long", "sample_data_ts_long.csv") },
    IndexDef {
        types: &[("@timestamp", "date_nanos")],
        ..no_mapping("sample_data_ts_nanos", "sample_data_ts_nanos.csv")
    },
    IndexDef {
        types: &[("@timestamp", "date_nanos")],
        ..lookup(no_mapping("sample__data_ts_nanos_lookup", "sample_data_ts_nanos.csv"))
    },
    IndexDef { removed: &["message"], ..no_mapping("no_message_sample_data", "sample_data.csv") },
    def("clientips", "clientips.csv", "mapping-clientips.json"),
    lookup(def("clientips_lookup", "clientips.csv", "mapping-clientips.json")),
    def("message_types", "message_types.csv", "mapping-message_types.json"),
    lookup(def("message_types_lookup", "message_types.csv", "mapping-message_types.json")),
    def("client_cidr", "client_cidr.csv", "mapping-client_cidr.json"),
    def("ages", "ages.csv", "mapping-ages.json"),
    def("heights", "heights.csv", "mapping-heights.json"),
    no_mapping("decades", "decades.csv"),
    def("event_alerts", "event_alerts.csv", "mapping-event_alerts.json"),
    def("event_logs", "event_logs.csv", "mapping-event_logs.json"),
    IndexDef { data: None, ..def("event_empty", "", "mapping-event_empty.json") },
    def("addresses", "addresses.csv", "mapping-addresses.json"),
    IndexDef {
        removed: &["city.country.continent"],
        ..def("addresses_no_continent", "addresses.csv", "mapping-addresses.json")
    },
    IndexDef {
        types: &[("street", "text"), ("number", "text"), ("zip_code", "text"), ("city.*", "text")],
        ..def("addresses_text", "addresses.csv", "mapping-addresses.json")
    },
    def("date_nanos", "date_nanos.csv", "mapping-date_nanos.json"),
    def("logs", "logs.csv", "mapping-logs.json"),
    def("multi_column_joinable", "multi_column_joinable.csv", "mapping-multi_column_joinable.json"),
    lookup(def(
        "multi_column_joinable_lookup",
        "multi_column_joinable_lookup.csv",
        "mapping-multi_column_joinable_lookup.json",
    )),
    def("wide", "wide.csv", "mapping-wide.json"),
];

/// Enrich policies: (policy name, file in `enrich/`).
pub const POLICIES: &[(&str, &str)] = &[
    ("languages_policy", "enrich-policy-languages.json"),
    ("clientip_policy", "enrich-policy-clientips.json"),
    ("client_cidr_policy", "enrich-policy-client_cidr.json"),
    ("ages_policy", "enrich-policy-ages.json"),
    ("heights_policy", "enrich-policy-heights.json"),
    ("decades_policy", "enrich-policy-decades.json"),
];

/// The loaded corpus.
pub struct Corpus {
    /// Every index and policy that loaded.
    pub catalog: MemCatalog,
    /// Names of the loaded indices.
    pub indices: BTreeSet<String>,
    /// Names of the loaded policies.
    pub policies: BTreeSet<String>,
    /// Indices or policies that exist in the corpus but failed to load, with the reason.
    pub broken: BTreeMap<String, String>,
}

/// Loads every index and policy from `<esql-spec>/{data,mappings,enrich,settings}`.
pub fn load(root: &Path) -> Corpus {
    let mut corpus = Corpus {
        catalog: MemCatalog::new(),
        indices: BTreeSet::new(),
        policies: BTreeSet::new(),
        broken: BTreeMap::new(),
    };
    let lookup_mode = lookup_settings(root);
    for def in INDICES {
        match build_index(root, def, lookup_mode.as_ref()) {
            Ok(index) => {
                corpus.catalog.add(Arc::new(index));
                corpus.indices.insert(def.name.to_string());
            }
            Err(e) => {
                corpus.broken.insert(def.name.to_string(), e);
            }
        }
    }
    for (name, file) in POLICIES {
        match load_policy(root, name, file) {
            Ok(policy) => {
                corpus.catalog.add_policy(policy);
                corpus.policies.insert(name.to_string());
            }
            Err(e) => {
                corpus.broken.insert(name.to_string(), e);
            }
        }
    }
    corpus
}

/// Whether `settings/lookup-settings.json` sets `index.mode: lookup` (an error when it cannot
/// be read: the lookup indices are then reported as broken).
fn lookup_settings(root: &Path) -> Result<bool, String> {
    let path = root.join("settings").join("lookup-settings.json");
    let json: Json = serde_json::from_str(&read(&path)?).map_err(|e| format!("{}: {e}", path.display()))?;
    let mode = json
        .pointer("/index/mode")
        .or_else(|| json.get("index.mode"))
        .or_else(|| json.pointer("/settings/index/mode"))
        .and_then(Json::as_str);
    Ok(mode == Some("lookup"))
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn load_policy(root: &Path, name: &str, file: &str) -> Result<EnrichPolicy, String> {
    let path = root.join("enrich").join(file);
    let json: Json = serde_json::from_str(&read(&path)?).map_err(|e| format!("{}: {e}", path.display()))?;
    let obj = json.as_object().ok_or_else(|| format!("{}: not an object", path.display()))?;
    let (kind, body) = if let Some(b) = obj.get("match") {
        (EnrichKind::Match, b)
    } else if let Some(b) = obj.get("range") {
        (EnrichKind::Range, b)
    } else {
        return Err(format!("{}: neither a match nor a range policy", path.display()));
    };
    let index = match body.get("indices") {
        Some(Json::String(s)) => s.clone(),
        Some(Json::Array(a)) => a.first().and_then(Json::as_str).unwrap_or_default().to_string(),
        _ => String::new(),
    };
    let match_field = body.get("match_field").and_then(Json::as_str).unwrap_or_default().to_string();
    let enrich_fields = body
        .get("enrich_fields")
        .and_then(Json::as_array)
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    if index.is_empty() || match_field.is_empty() {
        return Err(format!("{}: missing indices or match_field", path.display()));
    }
    Ok(EnrichPolicy { name: name.to_string(), kind, index, match_field, enrich_fields })
}

/// One parsed data CSV: header (name, optional type) and rows of raw entries.
#[derive(Debug, Default)]
pub struct DataCsv {
    /// Column names and declared types.
    pub header: Vec<(String, Option<String>)>,
    /// Entries per row: `""` is absent, a multi-value is still comma-joined.
    pub rows: Vec<Vec<String>>,
}

/// Reads a data CSV like `CsvTestsDataLoader.loadCsvData`.
pub fn parse_data_csv(text: &str) -> Result<DataCsv, String> {
    let mut csv = DataCsv::default();
    let mut have_header = false;
    for (i, raw) in text.lines().enumerate() {
        let line = java_trim(raw);
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        let entries = split_data_line(line, i + 1)?;
        if !have_header {
            have_header = true;
            for e in entries {
                match e.split_once(':') {
                    Some((n, t)) => csv.header.push((java_trim(n).to_string(), Some(java_trim(t).to_string()))),
                    None => csv.header.push((java_trim(&e).to_string(), None)),
                }
            }
        } else {
            if entries.len() != csv.header.len() {
                return Err(format!(
                    "line {}: incorrect number of entries; expected [{}] but found [{}]",
                    i + 1,
                    csv.header.len(),
                    entries.len()
                ));
            }
            csv.rows.push(entries);
        }
    }
    Ok(csv)
}

/// Splits one data line into entries (`multiValuesAwareCsvToStringArray`): commas separate
/// entries unless escaped (`\,`) or inside `[...]`; entries are trimmed; `[x]` is `x`, `[]` is
/// empty, and a multi-value comes back as its elements joined by `,`.
pub fn split_data_line(line: &str, line_no: usize) -> Result<Vec<String>, String> {
    let bytes = line.as_bytes();
    let mut entries = Vec::new();
    let mut mv: Option<String> = None;
    let mut pos = 0;
    let mut prev = 0;
    loop {
        let comma = line[pos.min(line.len())..].find(',').map(|i| i + pos);
        if comma.is_none() && pos > line.len() {
            break;
        }
        if let Some(c) = comma
            && c > 0
            && bytes[c - 1] == b'\\'
        {
            pos = c + 1;
            continue;
        }
        let last = comma.is_none();
        let end = comma.unwrap_or(line.len());
        let entry = java_trim(&line[prev..end]);
        if let Some(rest) = entry.strip_prefix('[') {
            if mv.is_some() || (last && !entry.ends_with(']')) {
                return Err(format!("line {line_no}: unexpected start of a multi-value field value [{entry}]"));
            }
            if let Some(inner) = rest.strip_suffix(']') {
                entries.push(inner.to_string());
            } else {
                mv = Some(rest.to_string());
            }
        } else if let Some(head) = entry.strip_suffix(']') {
            let Some(mut value) = mv.take() else {
                return Err(format!("line {line_no}: unexpected end of a multi-value field value [{entry}]"));
            };
            value.push(',');
            value.push_str(head);
            entries.push(value);
        } else if let Some(value) = mv.as_mut() {
            if entry.is_empty() {
                return Err(format!("line {line_no}: unexpected missing value in a multi-value column"));
            }
            value.push(',');
            value.push_str(entry);
        } else {
            entries.push(entry.to_string());
        }
        pos = 1 + end;
        prev = pos;
    }
    if mv.is_some() {
        return Err(format!("line {line_no}: unterminated multi-value"));
    }
    Ok(entries)
}

/// The values of one entry: none (absent), or the elements, escapes removed.
pub fn entry_values(entry: &str) -> Vec<String> {
    if entry.is_empty() {
        return Vec::new();
    }
    crate::spec::split_unescaped_commas(entry)
        .into_iter()
        .map(|v| {
            let v = v.replace("\\,", ",");
            match v.strip_prefix('"').and_then(|x| x.strip_suffix('"')) {
                Some(unquoted) => unquoted.to_string(),
                None => v,
            }
        })
        .collect()
}

/// A leaf of a mapping.
#[derive(Debug, Clone)]
pub struct Mapped {
    /// Dotted name.
    pub name: String,
    /// Elasticsearch type.
    pub es_type: String,
    /// `scaling_factor` of a scaled_float.
    pub scaling: Option<f64>,
    /// `value` of a constant_keyword.
    pub constant: Option<String>,
}

/// Flattens a mapping's `properties` (objects become dotted names, multi-fields `fields`
/// become `<field>.<sub>`).
pub fn flatten_mapping(json: &Json) -> Vec<Mapped> {
    let root = json.get("mappings").unwrap_or(json);
    let mut out = Vec::new();
    if let Some(props) = root.get("properties").and_then(Json::as_object) {
        flatten(props, "", &mut out);
    }
    out
}

fn leaf(name: String, v: &Json) -> Mapped {
    let es_type = v.get("type").and_then(Json::as_str).unwrap_or("object").to_string();
    Mapped {
        name,
        scaling: v.get("scaling_factor").and_then(Json::as_f64),
        constant: (es_type == "constant_keyword")
            .then(|| v.get("value").and_then(Json::as_str).map(str::to_string))
            .flatten(),
        es_type,
    }
}

fn flatten(props: &serde_json::Map<String, Json>, prefix: &str, out: &mut Vec<Mapped>) {
    for (key, v) in props {
        let name = format!("{prefix}{key}");
        let ty = v.get("type").and_then(Json::as_str);
        if let Some(sub) = v.get("properties").and_then(Json::as_object)
            && matches!(ty, None | Some("object") | Some("nested"))
        {
            flatten(sub, &format!("{name}."), out);
            continue;
        }
        out.push(leaf(name.clone(), v));
        if let Some(fields) = v.get("fields").and_then(Json::as_object) {
            for (sub, sv) in fields {
                out.push(leaf(format!("{name}.{sub}"), sv));
            }
        }
    }
}

/// A field of an index being built.
#[derive(Debug, Clone)]
struct Planned {
    name: String,
    es_type: String,
    scaling: Option<f64>,
    constant: Option<String>,
    column: Option<usize>,
    ignore_above: Option<usize>,
}

/// A stored value.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
enum Stored {
    Str(String),
    Int(i32),
    Long(i64),
    ULong(u64),
    Double(f64),
    Bool(bool),
    Bytes(Vec<u8>),
    Ip([u8; 16]),
    Millis(i64),
    Nanos(i64),
}

fn range_element(es_type: &str) -> Option<EsType> {
    Some(match es_type {
        "integer_range" => EsType::Integer,
        "long_range" => EsType::Long,
        "float_range" | "double_range" => EsType::Double,
        "date_range" => EsType::Date,
        "ip_range" => EsType::Ip,
        _ => return None,
    })
}

fn removed(def: &IndexDef, name: &str) -> bool {
    def.removed.iter().any(|r| name == *r || name.starts_with(&format!("{r}.")))
}

fn type_override(def: &IndexDef, name: &str) -> Option<&'static str> {
    def.types.iter().find_map(|(pattern, ty)| {
        let hit = match pattern.strip_suffix(".*") {
            Some(prefix) => name.starts_with(&format!("{prefix}.")),
            None => name == *pattern,
        };
        hit.then_some(*ty)
    })
}

fn plan_fields(def: &IndexDef, csv: &DataCsv, mapping: Option<&[Mapped]>) -> Vec<Planned> {
    let column_of = |name: &str| csv.header.iter().position(|(n, _)| n == name);
    let mut planned: Vec<Planned> = Vec::new();
    let dynamic = def.removed.is_empty();
    match mapping {
        Some(mapped) => {
            for m in mapped {
                let column = column_of(&m.name);
                let header_type = column.and_then(|c| csv.header[c].1.clone());
                let es_type = match (def.stale, header_type) {
                    (true, Some(h)) => h,
                    _ => m.es_type.clone(),
                };
                planned.push(Planned {
                    name: m.name.clone(),
                    es_type,
                    scaling: m.scaling,
                    constant: m.constant.clone(),
                    column,
                    ignore_above: None,
                });
            }
            if dynamic {
                for (i, (name, ty)) in csv.header.iter().enumerate() {
                    if name == "_id" || planned.iter().any(|p| &p.name == name) {
                        continue;
                    }
                    let es_type = ty.clone().unwrap_or_else(|| "keyword".to_string());
                    planned.push(Planned {
                        name: name.clone(),
                        es_type,
                        scaling: None,
                        constant: None,
                        column: Some(i),
                        ignore_above: None,
                    });
                }
            }
        }
        None => {
            for (i, (name, ty)) in csv.header.iter().enumerate() {
                if name == "_id" {
                    continue;
                }
                planned.push(Planned {
                    name: name.clone(),
                    es_type: ty.clone().unwrap_or_else(|| "keyword".to_string()),
                    scaling: None,
                    constant: None,
                    column: Some(i),
                    ignore_above: None,
                });
            }
        }
    }
    planned.retain(|p| !removed(def, &p.name));
    for p in &mut planned {
        if let Some(t) = type_override(def, &p.name) {
            p.es_type = t.to_string();
        }
    }
    for parent in def.keyword_subfields {
        if let Some(p) = planned.iter().find(|p| p.name == *parent).cloned() {
            let name = format!("{parent}.keyword");
            planned.retain(|q| q.name != name);
            planned.push(Planned {
                name,
                es_type: "keyword".into(),
                scaling: None,
                constant: None,
                column: p.column,
                ignore_above: Some(256),
            });
        }
    }
    planned
}

fn parse_stored(es_type: &str, raw: &str, scaling: Option<f64>) -> Result<Stored, String> {
    let bad = || format!("cannot parse [{raw}] as {es_type}");
    let whole = |min: i64, max: i64| -> Result<i64, String> {
        let v = match raw.parse::<i64>() {
            Ok(v) => v,
            Err(_) => {
                let d: f64 = raw.parse().map_err(|_| bad())?;
                if !d.is_finite() {
                    return Err(bad());
                }
                d.trunc() as i64
            }
        };
        if v < min || v > max {
            return Err(format!("value [{raw}] is out of range for {es_type}"));
        }
        Ok(v)
    };
    Ok(match es_type {
        "keyword" | "constant_keyword" | "wildcard" | "text" | "match_only_text" => Stored::Str(raw.to_string()),
        "byte" => Stored::Int(whole(i8::MIN.into(), i8::MAX.into())? as i32),
        "short" => Stored::Int(whole(i16::MIN.into(), i16::MAX.into())? as i32),
        "integer" => Stored::Int(whole(i32::MIN.into(), i32::MAX.into())? as i32),
        "long" => Stored::Long(whole(i64::MIN, i64::MAX)?),
        "unsigned_long" => Stored::ULong(match raw.parse::<u64>() {
            Ok(v) => v,
            Err(_) => crate::spec::parse_unsigned_long(raw).ok_or_else(bad)?,
        }),
        "double" => Stored::Double(raw.parse().map_err(|_| bad())?),
        "float" => Stored::Double(values::float_storage(raw).ok_or_else(bad)?),
        "half_float" => Stored::Double(values::half_float_storage(raw).ok_or_else(bad)?),
        "scaled_float" => {
            let x: f64 = raw.parse().map_err(|_| bad())?;
            Stored::Double(values::scaled_float_storage(x, scaling.unwrap_or(100.0)))
        }
        "boolean" => match raw {
            "true" => Stored::Bool(true),
            "false" => Stored::Bool(false),
            _ => return Err(bad()),
        },
        "date" => Stored::Millis(values::parse_date_field_millis(raw).ok_or_else(bad)?),
        "date_nanos" => {
            Stored::Nanos(values::parse_date_nanos(raw).and_then(|n| i64::try_from(n).ok()).ok_or_else(bad)?)
        }
        "ip" => Stored::Ip(values::parse_ip(raw).ok_or_else(bad)?),
        "version" => Stored::Bytes(esql::version::encode(raw)),
        other => return Err(format!("field type {other} cannot hold values")),
    })
}

/// Orders a document's values as Elasticsearch returns them.
fn normalize(es_type: &str, mut vals: Vec<Stored>) -> Vec<Stored> {
    match es_type {
        "text" | "match_only_text" => vals,
        "keyword" | "constant_keyword" | "wildcard" | "ip" | "version" => {
            vals.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
            vals.dedup();
            vals
        }
        _ => {
            vals.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
            vals
        }
    }
}

/// Parses an enrich range `lo..hi` (half-open) or a CIDR into inclusive bounds.
fn parse_range(es_type: &str, raw: &str) -> Result<(Stored, Stored), String> {
    let bad = || format!("cannot parse [{raw}] as {es_type}");
    if es_type == "ip_range"
        && let Some((addr, prefix)) = raw.split_once('/')
    {
        let bytes = values::parse_ip(java_trim(addr)).ok_or_else(bad)?;
        let mut prefix: u32 = java_trim(prefix).parse().map_err(|_| bad())?;
        if java_trim(addr).contains('.') {
            prefix += 96;
        }
        if prefix > 128 {
            return Err(bad());
        }
        let value = u128::from_be_bytes(bytes);
        let mask = if prefix == 0 { 0 } else { u128::MAX << (128 - prefix) };
        return Ok((Stored::Ip((value & mask).to_be_bytes()), Stored::Ip((value | !mask).to_be_bytes())));
    }
    let (lo, hi) = raw.split_once("..").ok_or_else(bad)?;
    let (lo, hi) = (java_trim(lo), java_trim(hi));
    Ok(match es_type {
        "integer_range" | "long_range" => {
            let lo: i64 = lo.parse().map_err(|_| bad())?;
            let hi: i64 = hi.parse().map_err(|_| bad())?;
            if es_type == "integer_range" {
                let narrow = |v: i64| i32::try_from(v).map_err(|_| bad());
                (Stored::Int(narrow(lo)?), Stored::Int(narrow(hi - 1)?))
            } else {
                (Stored::Long(lo), Stored::Long(hi - 1))
            }
        }
        "float_range" | "double_range" => {
            let lo: f64 = lo.parse().map_err(|_| bad())?;
            let hi: f64 = hi.parse().map_err(|_| bad())?;
            (Stored::Double(lo), Stored::Double(hi.next_down()))
        }
        "date_range" => {
            let lo = values::parse_date_field_millis(lo).ok_or_else(bad)?;
            let hi = values::parse_date_field_millis(hi).ok_or_else(bad)?;
            (Stored::Millis(lo), Stored::Millis(hi - 1))
        }
        "ip_range" => {
            let lo = values::parse_ip(lo).ok_or_else(bad)?;
            let hi = u128::from_be_bytes(values::parse_ip(hi).ok_or_else(bad)?);
            (Stored::Ip(lo), Stored::Ip(hi.wrapping_sub(1).to_be_bytes()))
        }
        _ => return Err(bad()),
    })
}

/// A column ready to become an Arrow array.
struct Column {
    name: String,
    es_type: EsType,
    docs: Vec<Option<Vec<Stored>>>,
}

fn build_index(root: &Path, def: &IndexDef, lookup_mode: Result<&bool, &String>) -> Result<MemIndex, String> {
    let lookup = match (def.lookup, lookup_mode) {
        (false, _) => false,
        (true, Ok(mode)) => *mode,
        (true, Err(e)) => return Err(format!("lookup settings: {e}")),
    };
    let csv = match def.data {
        Some(file) => parse_data_csv(&read(&root.join("data").join(file))?).map_err(|e| format!("{file}: {e}"))?,
        None => DataCsv::default(),
    };
    let mapping = match def.mapping {
        Some(file) => {
            let path = root.join("mappings").join(file);
            let json: Json = serde_json::from_str(&read(&path)?).map_err(|e| format!("{}: {e}", path.display()))?;
            Some(flatten_mapping(&json))
        }
        None => None,
    };
    let planned = plan_fields(def, &csv, mapping.as_deref());
    let rows = csv.rows.len();
    let mut columns: Vec<Column> = Vec::new();
    let mut constants = Vec::new();
    for p in &planned {
        if let Some(element) = range_element(&p.es_type) {
            let mut gte = Vec::with_capacity(rows);
            let mut lte = Vec::with_capacity(rows);
            for (r, row) in csv.rows.iter().enumerate() {
                let entry = p.column.map(|c| row[c].as_str()).unwrap_or("");
                let raws = entry_values(entry);
                if raws.len() > 1 {
                    return Err(format!("{}: row {}: multi-valued range field {}", def.name, r + 1, p.name));
                }
                match raws.first() {
                    Some(raw) => {
                        let (lo, hi) =
                            parse_range(&p.es_type, raw).map_err(|e| format!("{}: row {}: {e}", def.name, r + 1))?;
                        gte.push(Some(vec![lo]));
                        lte.push(Some(vec![hi]));
                    }
                    None => {
                        gte.push(None);
                        lte.push(None);
                    }
                }
            }
            columns.push(Column { name: p.name.clone(), es_type: EsType::Unsupported, docs: vec![None; rows] });
            columns.push(Column { name: format!("{}.gte", p.name), es_type: element, docs: gte });
            columns.push(Column { name: format!("{}.lte", p.name), es_type: element, docs: lte });
            continue;
        }
        let es_type = EsType::from_mapping(&p.es_type).unwrap_or(EsType::Unsupported);
        let mut docs = Vec::with_capacity(rows);
        for (r, row) in csv.rows.iter().enumerate() {
            if es_type == EsType::Unsupported {
                docs.push(None);
                continue;
            }
            let raws: Vec<String> = match (&p.constant, p.column) {
                (Some(c), _) => vec![c.clone()],
                (None, Some(col)) => entry_values(&row[col]),
                (None, None) => Vec::new(),
            };
            let raws: Vec<String> = match p.ignore_above {
                Some(limit) => raws.into_iter().filter(|v| v.chars().count() <= limit).collect(),
                None => raws,
            };
            let mut stored = Vec::with_capacity(raws.len());
            for raw in &raws {
                stored.push(
                    parse_stored(&p.es_type, raw, p.scaling)
                        .map_err(|e| format!("{}: row {} field {}: {e}", def.name, r + 1, p.name))?,
                );
            }
            let stored = normalize(&p.es_type, stored);
            docs.push((!stored.is_empty()).then_some(stored));
        }
        if let Some(c) = &p.constant {
            constants.push((p.name.clone(), c.clone()));
        }
        columns.push(Column { name: p.name.clone(), es_type, docs });
    }
    // Document ids, read through `METADATA _id`: the CSV's `_id` column, else the 1-based row
    // number, which is what the upstream loader's bulk requests produce.
    if !columns.iter().any(|c| c.name == "_id") {
        let id_column = csv.header.iter().position(|(n, _)| n == "_id");
        let ids = csv
            .rows
            .iter()
            .enumerate()
            .map(|(r, row)| {
                let id = match id_column {
                    Some(c) => row[c].trim().to_string(),
                    None => (r + 1).to_string(),
                };
                Some(vec![Stored::Str(id)])
            })
            .collect();
        columns.push(Column { name: "_id".to_string(), es_type: EsType::Keyword, docs: ids });
    }
    columns.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(w) = columns.windows(2).find(|w| w[0].name == w[1].name) {
        return Err(format!("{}: duplicate field {}", def.name, w[0].name));
    }
    let fields: Vec<FieldInfo> = columns
        .iter()
        .map(|c| FieldInfo {
            name: c.name.clone(),
            es_type: c.es_type,
            multi: c.docs.iter().any(|d| d.as_ref().is_some_and(|v| v.len() > 1)),
        })
        .collect();
    let mut arrays = Vec::with_capacity(columns.len());
    for (c, f) in columns.iter().zip(&fields) {
        arrays.push(build_array(c, f.multi).map_err(|e| format!("{}: field {}: {e}", def.name, c.name))?);
    }
    let schema = MemIndex::schema_for(&fields);
    let batch = RecordBatch::try_new(schema, arrays).map_err(|e| format!("{}: {e}", def.name))?;
    let mut index = MemIndex::new(def.name, fields, vec![batch])?.with_lookup(lookup);
    for (field, value) in constants {
        index = index.with_constant(field, value);
    }
    Ok(index)
}

fn type_error(es_type: EsType, v: &Stored) -> String {
    format!("value {v:?} does not fit a {es_type} column")
}

/// Appends values to a scalar builder; `$pat => $expr` extracts the native value.
macro_rules! build {
    ($column:expr, $multi:expr, $builder:expr, $pat:pat => $val:expr) => {{
        let column: &Column = $column;
        if $multi {
            let mut b = ListBuilder::new($builder);
            for doc in &column.docs {
                match doc {
                    Some(vals) => {
                        for v in vals {
                            match v {
                                $pat => b.values().append_value($val),
                                other => return Err(type_error(column.es_type, other)),
                            }
                        }
                        b.append(true);
                    }
                    None => b.append(false),
                }
            }
            Ok(Arc::new(b.finish()) as ArrayRef)
        } else {
            let mut b = $builder;
            for doc in &column.docs {
                match doc.as_ref().and_then(|v| v.first()) {
                    Some($pat) => b.append_value($val),
                    Some(other) => return Err(type_error(column.es_type, other)),
                    None => b.append_null(),
                }
            }
            Ok(Arc::new(b.finish()) as ArrayRef)
        }
    }};
}

fn build_ip(column: &Column, multi: bool) -> Result<ArrayRef, String> {
    let err = |e: esql::datafusion::arrow::error::ArrowError| e.to_string();
    if multi {
        let mut b = ListBuilder::new(FixedSizeBinaryBuilder::new(16));
        for doc in &column.docs {
            match doc {
                Some(vals) => {
                    for v in vals {
                        match v {
                            Stored::Ip(ip) => b.values().append_value(ip).map_err(err)?,
                            other => return Err(type_error(column.es_type, other)),
                        }
                    }
                    b.append(true);
                }
                None => b.append(false),
            }
        }
        Ok(Arc::new(b.finish()))
    } else {
        let mut b = FixedSizeBinaryBuilder::new(16);
        for doc in &column.docs {
            match doc.as_ref().and_then(|v| v.first()) {
                Some(Stored::Ip(ip)) => b.append_value(ip).map_err(err)?,
                Some(other) => return Err(type_error(column.es_type, other)),
                None => b.append_null(),
            }
        }
        Ok(Arc::new(b.finish()))
    }
}

fn build_array(column: &Column, multi: bool) -> Result<ArrayRef, String> {
    match column.es_type {
        EsType::Keyword | EsType::Text => build!(column, multi, StringBuilder::new(), Stored::Str(s) => s),
        EsType::Integer => build!(column, multi, Int32Builder::new(), Stored::Int(v) => *v),
        EsType::Long => build!(column, multi, Int64Builder::new(), Stored::Long(v) => *v),
        EsType::UnsignedLong => build!(column, multi, UInt64Builder::new(), Stored::ULong(v) => *v),
        EsType::Double => build!(column, multi, Float64Builder::new(), Stored::Double(v) => *v),
        EsType::Boolean => build!(column, multi, BooleanBuilder::new(), Stored::Bool(v) => *v),
        EsType::Version => build!(column, multi, BinaryBuilder::new(), Stored::Bytes(v) => v),
        EsType::Date => build!(column, multi, TimestampMillisecondBuilder::new(), Stored::Millis(v) => *v),
        EsType::DateNanos => build!(column, multi, TimestampNanosecondBuilder::new(), Stored::Nanos(v) => *v),
        EsType::Ip => build_ip(column, multi),
        EsType::Null | EsType::Unsupported => {
            if multi {
                return Err("a null column cannot be multi-valued".into());
            }
            Ok(Arc::new(NullArray::new(column.docs.len())))
        }
        other => Err(format!("cannot store {other} values")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use esql::catalog::Catalog;
    use esql::datafusion::arrow::array::{Array, AsArray};
    use esql::datafusion::arrow::datatypes::{Float64Type, Int32Type};

    #[test]
    fn splits_data_lines() {
        let got = split_data_line("a, [x,y] ,[1],[], b\\,c ,[p, q, r]", 1).unwrap();
        assert_eq!(got, vec!["a", "x,y", "1", "", "b\\,c", "p,q,r"]);
        assert_eq!(entry_values("b\\,c"), vec!["b,c"]);
        assert_eq!(entry_values("x,y"), vec!["x", "y"]);
        assert!(entry_values("").is_empty());
        assert!(split_data_line("[a,b", 1).is_err());
        assert!(split_data_line("a],b", 1).is_err());
        assert_eq!(split_data_line("a,", 1).unwrap(), vec!["a", ""]);
    }

    #[test]
    fn flattens_objects_and_multi_fields() {
        let json: Json = serde_json::json!({"properties": {
            "a": {"type": "integer", "fields": {"long": {"type": "long"}}},
            "o": {"properties": {"b": {"type": "keyword"}, "c": {"properties": {"d": {"type": "ip"}}}}},
            "s": {"type": "scaled_float", "scaling_factor": 10},
            "k": {"type": "constant_keyword", "value": "v"}
        }});
        let names: Vec<_> =
            flatten_mapping(&json).into_iter().map(|m| (m.name, m.es_type, m.scaling, m.constant)).collect();
        assert_eq!(
            names,
            vec![
                ("a".into(), "integer".into(), None, None),
                ("a.long".into(), "long".into(), None, None),
                ("k".into(), "constant_keyword".into(), None, Some("v".into())),
                ("o.b".into(), "keyword".into(), None, None),
                ("o.c.d".into(), "ip".into(), None, None),
                ("s".into(), "scaled_float".into(), Some(10.0), None),
            ]
        );
    }

    #[test]
    fn ranges_are_inclusive_bounds() {
        assert_eq!(parse_range("integer_range", "0..2").unwrap(), (Stored::Int(0), Stored::Int(1)));
        let (lo, hi) = parse_range("ip_range", "172.21.0.0/16").unwrap();
        assert_eq!(
            (lo, hi),
            (
                Stored::Ip(values::parse_ip("172.21.0.0").unwrap()),
                Stored::Ip(values::parse_ip("172.21.255.255").unwrap())
            )
        );
        assert_eq!(
            parse_range("date_range", "1970-01-01..1970-01-02").unwrap(),
            (Stored::Millis(0), Stored::Millis(86_399_999))
        );
        assert_eq!(
            parse_range("double_range", "0.0..1.5").unwrap(),
            (Stored::Double(0.0), Stored::Double(1.5f64.next_down()))
        );
    }

    fn corpus() -> Option<Corpus> {
        let root = crate::esql_spec_root();
        root.join("data").is_dir().then(|| load(&root))
    }

    #[test]
    fn loads_every_index_of_the_corpus() {
        let Some(corpus) = corpus() else { panic!("{}", crate::missing_corpus_message()) };
        assert!(corpus.broken.is_empty(), "broken: {:?}", corpus.broken);
        assert_eq!(corpus.indices.len(), INDICES.len());
        assert_eq!(corpus.policies.len(), POLICIES.len());

        let employees = corpus.catalog.index("employees").unwrap();
        let field = |name: &str| employees.fields().iter().find(|f| f.name == name).cloned();
        assert_eq!(field("job_positions").map(|f| (f.es_type, f.multi)), Some((EsType::Keyword, true)));
        assert_eq!(field("height.scaled_float").map(|f| f.es_type), Some(EsType::Double));
        assert_eq!(field("languages.byte").map(|f| f.es_type), Some(EsType::Integer));
        assert_eq!(field("emp_no").map(|f| f.multi), Some(false));

        let mem = corpus.catalog.index("employees").unwrap();
        let table = mem.table();
        assert_eq!(table.schema().fields().len(), employees.fields().len());

        let no_names = corpus.catalog.index("employees_no_names").unwrap();
        assert!(no_names.fields().iter().all(|f| f.name != "first_name" && f.name != "last_name"));
        let alerts = corpus.catalog.index("event_alerts").unwrap();
        assert_eq!(alerts.constant("event_type").as_deref(), Some("alert"));
        let nested = corpus.catalog.index("languages_nested_fields").unwrap();
        let nested_types: Vec<_> = nested.fields().iter().map(|f| (f.name.as_str(), f.es_type)).collect();
        assert!(nested_types.contains(&("language.name", EsType::Text)));
        assert!(nested_types.contains(&("language.name.keyword", EsType::Keyword)));
        assert!(nested.is_lookup());
        let ages = corpus.catalog.index("ages").unwrap();
        let age_fields: Vec<_> = ages.fields().iter().map(|f| (f.name.as_str(), f.es_type)).collect();
        assert_eq!(
            age_fields,
            vec![
                ("_id", EsType::Keyword),
                ("age_range", EsType::Unsupported),
                ("age_range.gte", EsType::Integer),
                ("age_range.lte", EsType::Integer),
                ("description", EsType::Keyword)
            ]
        );
        let hosts_kwd = corpus.catalog.index("hosts_ip_is_kwd").unwrap();
        assert!(hosts_kwd.fields().iter().any(|f| f.name == "ip0" && f.es_type == EsType::Keyword && f.multi));
        let policy = corpus.catalog.enrich_policy("client_cidr_policy").unwrap();
        assert_eq!((policy.kind, policy.index.as_str()), (EnrichKind::Range, "client_cidr"));
    }

    #[test]
    fn stores_values_as_elasticsearch_returns_them() {
        let Some(corpus) = corpus() else { panic!("{}", crate::missing_corpus_message()) };
        let employees = corpus.catalog.index("employees").unwrap();
        let mem = employees.fields();
        let idx = |name: &str| mem.iter().position(|f| f.name == name).unwrap();
        // Re-read the batch through a fresh MemIndex lookup.
        let batches = {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                let ctx = esql::datafusion::prelude::SessionContext::new();
                let df = ctx.read_table(employees.table()).unwrap();
                df.collect().await.unwrap()
            })
        };
        let batch = &batches[0];
        let jobs = batch.column(idx("job_positions")).as_list::<i32>();
        let first = jobs.value(0);
        let first = first.as_string::<i32>();
        assert_eq!((first.value(0), first.value(1)), ("Accountant", "Senior Python Developer"));
        let heights = batch.column(idx("height.float")).as_primitive::<Float64Type>();
        assert_eq!(values::java_double(heights.value(0)), "2.0299999713897705");
        let half = batch.column(idx("height.half_float")).as_primitive::<Float64Type>();
        assert_eq!(values::java_double(half.value(0)), "2.029296875");
        let scaled = batch.column(idx("height.scaled_float")).as_primitive::<Float64Type>();
        assert_eq!(values::java_double(scaled.value(0)), "2.03");
        let emp = batch.column(idx("emp_no")).as_primitive::<Int32Type>();
        assert_eq!(emp.value(0), 10001);
        // 10003 has no job positions.
        assert!(jobs.is_null(2));
        // salary_change.int keeps duplicates sorted: multi-valued int column.
        let changes = batch.column(idx("salary_change.int")).as_list::<i32>();
        let second = changes.value(1);
        let second = second.as_primitive::<Int32Type>();
        assert_eq!((second.value(0), second.value(1)), (-7, 11));
    }
}
