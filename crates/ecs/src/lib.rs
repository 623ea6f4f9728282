//! Field types of the Elastic Common Schema (ECS) and of the integrations Saker's flagship rule reads,
//! as Saker's own compact table; an NDJSON loader that types documents with it; and test fixtures
//! built from Elastic's integration samples.
//!
//! - [`field_type`] / [`es_type`] / [`is_array`] answer "how would Elasticsearch map this field?",
//!   [`fields`] lists every field and [`dynamic_patterns`] the few wildcard entries.
//! - [`EcsCatalog`] is a [`Catalog`](esql::catalog::Catalog) of empty indices carrying every field,
//!   for checking queries without data (`saker check`).
//! - [`ndjson`] loads a folder of NDJSON files into a [`MemCatalog`](esql::catalog::MemCatalog).
//! - [`samples`] turns Elastic's pipeline-test samples into documents per data stream.
//!
//! # The table
//! `src/fields.tsv` holds one `<dotted name>\t<elasticsearch mapping type>` line per field, sorted by
//! name; `src/array_fields.txt` names the fields ECS marks `normalize: array` (plus the array fields
//! of the alerts index). Both were generated once by a throw-away Python (PyYAML) script from the
//! files under `shared/data`; no description or example was copied. Later sources override earlier
//! ones only where stated:
//! 1. `ecs/ecs_flat.yml`: every field and its `multi_fields` (e.g. `process.command_line.text`),
//!    except `object`/`nested` containers; `normalize: [array]` goes to `array_fields.txt`.
//! 2. `{azure-signinlogs,o365-audit}/fields/{base-fields,ecs}.yml`: names ECS does not have
//!    (ECS keeps its own types, so `event.dataset` stays `keyword`; `data_stream.*` are
//!    `constant_keyword` in both).
//! 3. The two `integration-schema-*.DERIVED.json` maps: names not yet known. Their `X.* object`
//!    entries are the packages' `object_type: keyword` dynamic objects and become the wildcard
//!    entries `X.*\tkeyword`; other containers (`object`, `array`) are skipped.
//! 4. `alerts-mapping/non-ecs-schema.json`, entries for `.alerts-security.*`,
//!    `logs-azure.signinlogs-*` and `logs-o365.audit-*`: override (they are newer than step 3).
//! 5. Kibana's security alert fields (`kibana.alert.*`, `kibana.space_ids`, `kibana.version`), typed
//!    from `reference/kibana-detection-engine.md` §4 and Kibana's `alertsFieldMap`: override
//!    (so `kibana.alert.risk_score` is `float` as the alerts index maps it).
//! 6. A `flattened` field for which step 4 declares typed sub-fields (e.g.
//!    `azure.signinlogs.properties.applied_conditional_access_policies`) is dropped: newer package
//!    versions map it as an object.
//!
//! To regenerate, rerun those steps (`sort` by name, write `name\ttype`) and review the diff.
#![warn(missing_docs)]

pub mod catalog;
pub mod ndjson;
pub mod samples;

pub use catalog::EcsCatalog;

use esql::types::EsType;
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

const FIELDS_TSV: &str = include_str!("fields.tsv");
const ARRAY_FIELDS: &str = include_str!("array_fields.txt");

/// One entry of the field table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EcsField {
    /// Dotted field name (`source.ip`); for a [`dynamic_patterns`] entry, a pattern with `*`.
    pub name: &'static str,
    /// The Elasticsearch mapping type (`ip`, `keyword`, `constant_keyword`, `flattened`, …).
    pub mapping: &'static str,
    /// True when ECS normalises the field to an array (`event.category`, `tags`, `related.ip`).
    pub array: bool,
}

impl EcsField {
    /// The ES|QL type the field is read as, `None` for mapping types ES|QL cannot read
    /// (`flattened`, `date_range`).
    pub fn es_type(&self) -> Option<EsType> {
        EsType::from_mapping(self.mapping)
    }
}

struct Table {
    fields: Vec<EcsField>,
    by_name: HashMap<&'static str, usize>,
    patterns: Vec<EcsField>,
}

static TABLE: LazyLock<Table> = LazyLock::new(|| {
    let arrays: HashSet<&str> = ARRAY_FIELDS.lines().filter(|l| !l.is_empty()).collect();
    let mut fields = Vec::new();
    let mut patterns = Vec::new();
    for line in FIELDS_TSV.lines().filter(|l| !l.is_empty()) {
        let (name, mapping) = line.split_once('\t').expect("invariant: fields.tsv lines are `name<TAB>type`");
        let field = EcsField { name, mapping, array: arrays.contains(name) };
        if name.contains('*') {
            patterns.push(field);
        } else {
            fields.push(field);
        }
    }
    let by_name = fields.iter().enumerate().map(|(i, f)| (f.name, i)).collect();
    Table { fields, by_name, patterns }
});

/// The table entry for a field: an exact name first, else the first matching wildcard entry
/// (`o365.audit.Parameters.ForwardTo` matches `o365.audit.Parameters.*`).
pub fn lookup(name: &str) -> Option<EcsField> {
    let table = &*TABLE;
    if let Some(&i) = table.by_name.get(name) {
        return Some(table.fields[i]);
    }
    table.patterns.iter().find(|p| wildcard_match(p.name, name)).copied()
}

/// The Elasticsearch mapping type of a field (`source.ip` → `ip`), `None` when neither ECS nor
/// the flagship integrations nor the alerts index define it.
///
/// # Examples
/// ```
/// assert_eq!(ecs::field_type("source.ip"), Some("ip"));
/// assert_eq!(ecs::field_type("data_stream.dataset"), Some("constant_keyword"));
/// assert_eq!(ecs::field_type("no.such.field"), None);
/// ```
pub fn field_type(name: &str) -> Option<&'static str> {
    lookup(name).map(|f| f.mapping)
}

/// The ES|QL type a field is read as ([`EsType::from_mapping`] of [`field_type`]); `None` for
/// unknown fields and for mapping types ES|QL cannot read.
pub fn es_type(name: &str) -> Option<EsType> {
    field_type(name).and_then(EsType::from_mapping)
}

/// True when the field is normally an array (`normalize: array` in ECS): `event.category`, `tags`.
pub fn is_array(name: &str) -> bool {
    lookup(name).is_some_and(|f| f.array)
}

/// Every concretely named field, sorted by name.
pub fn fields() -> impl Iterator<Item = EcsField> {
    TABLE.fields.iter().copied()
}

/// The wildcard entries (`o365.audit.Parameters.*`): the integrations' dynamic objects whose
/// every leaf is mapped with one type.
pub fn dynamic_patterns() -> impl Iterator<Item = EcsField> {
    TABLE.patterns.iter().copied()
}

/// `*` matches any non-empty run of characters, dots included (as `path_match` does).
fn wildcard_match(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, rest) = parts.split_first().expect("invariant: split yields at least one part");
    let Some(mut remaining) = name.strip_prefix(first) else {
        return false;
    };
    for (i, part) in rest.iter().enumerate() {
        let last = i + 1 == rest.len();
        if last {
            return remaining.len() > part.len() && remaining.ends_with(part);
        }
        // at least one character for the `*` before this part
        match remaining.get(1..).and_then(|r| r.find(part)) {
            Some(pos) => remaining = &remaining[1 + pos + part.len()..],
            None => return false,
        }
    }
    remaining.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Case {
        name: &'static str,
        mapping: Option<&'static str>,
        es: Option<EsType>,
        array: bool,
    }

    #[test]
    fn known_fields() {
        let cases = [
            Case { name: "@timestamp", mapping: Some("date"), es: Some(EsType::Date), array: false },
            Case { name: "source.ip", mapping: Some("ip"), es: Some(EsType::Ip), array: false },
            Case { name: "source.port", mapping: Some("long"), es: Some(EsType::Long), array: false },
            Case { name: "event.category", mapping: Some("keyword"), es: Some(EsType::Keyword), array: true },
            Case { name: "event.type", mapping: Some("keyword"), es: Some(EsType::Keyword), array: true },
            Case { name: "tags", mapping: Some("keyword"), es: Some(EsType::Keyword), array: true },
            Case { name: "related.ip", mapping: Some("ip"), es: Some(EsType::Ip), array: true },
            Case { name: "event.outcome", mapping: Some("keyword"), es: Some(EsType::Keyword), array: false },
            Case { name: "event.dataset", mapping: Some("keyword"), es: Some(EsType::Keyword), array: false },
            Case {
                name: "data_stream.dataset",
                mapping: Some("constant_keyword"),
                es: Some(EsType::Keyword),
                array: false,
            },
            Case { name: "message", mapping: Some("match_only_text"), es: Some(EsType::Text), array: false },
            Case {
                name: "process.command_line.text",
                mapping: Some("match_only_text"),
                es: Some(EsType::Text),
                array: false,
            },
            Case { name: "event.risk_score", mapping: Some("float"), es: Some(EsType::Double), array: false },
            Case { name: "source.geo.location", mapping: Some("geo_point"), es: Some(EsType::GeoPoint), array: false },
            Case {
                name: "azure.signinlogs.properties.user_principal_name",
                mapping: Some("keyword"),
                es: Some(EsType::Keyword),
                array: false,
            },
            Case {
                name: "azure.signinlogs.properties.status.error_code",
                mapping: Some("long"),
                es: Some(EsType::Long),
                array: false,
            },
            Case {
                name: "azure.signinlogs.caller_ip_address",
                mapping: Some("ip"),
                es: Some(EsType::Ip),
                array: false,
            },
            Case {
                name: "azure.signinlogs.properties.session_id",
                mapping: Some("keyword"),
                es: Some(EsType::Keyword),
                array: false,
            },
            Case { name: "o365.audit.OperationCount", mapping: Some("long"), es: Some(EsType::Long), array: false },
            Case { name: "o365.audit.UserId", mapping: Some("keyword"), es: Some(EsType::Keyword), array: false },
            Case {
                name: "o365.audit.Parameters.ForwardTo",
                mapping: Some("keyword"),
                es: Some(EsType::Keyword),
                array: false,
            },
            Case {
                name: "kibana.alert.rule.rule_id",
                mapping: Some("keyword"),
                es: Some(EsType::Keyword),
                array: false,
            },
            Case { name: "kibana.alert.rule.name", mapping: Some("keyword"), es: Some(EsType::Keyword), array: false },
            Case { name: "kibana.alert.risk_score", mapping: Some("float"), es: Some(EsType::Double), array: false },
            Case { name: "kibana.alert.rule.tags", mapping: Some("keyword"), es: Some(EsType::Keyword), array: true },
            Case {
                name: "kibana.alert.original_event.category",
                mapping: Some("keyword"),
                es: Some(EsType::Keyword),
                array: true,
            },
            Case { name: "kibana.version", mapping: Some("version"), es: Some(EsType::Version), array: false },
            Case { name: "kibana.alert.rule.parameters", mapping: Some("flattened"), es: None, array: false },
            Case { name: "no.such.field", mapping: None, es: None, array: false },
            Case { name: "source", mapping: None, es: None, array: false },
        ];
        for case in cases {
            assert_eq!(field_type(case.name), case.mapping, "{}", case.name);
            assert_eq!(es_type(case.name), case.es, "{}", case.name);
            assert_eq!(is_array(case.name), case.array, "{}", case.name);
        }
    }

    #[test]
    fn every_data_stream_field_is_constant_keyword() {
        let ds: Vec<_> = fields().filter(|f| f.name.starts_with("data_stream.")).collect();
        assert_eq!(ds.len(), 3);
        assert!(ds.iter().all(|f| f.mapping == "constant_keyword"));
    }

    #[test]
    fn table_is_sorted_unique_and_typed() {
        let names: Vec<_> = fields().map(|f| f.name).collect();
        assert!(names.len() > 2500, "{} fields", names.len());
        assert!(names.windows(2).all(|w| w[0] < w[1]), "fields.tsv must be sorted and unique");
        for f in fields() {
            assert!(!f.mapping.is_empty() && !f.mapping.contains(char::is_whitespace), "{f:?}");
            assert!(!matches!(f.mapping, "object" | "nested"), "containers are not fields: {f:?}");
        }
        for name in ARRAY_FIELDS.lines() {
            assert!(TABLE.by_name.contains_key(name), "array field {name} is not in fields.tsv");
        }
    }

    #[test]
    fn flattened_fields_have_no_typed_children() {
        for f in fields().filter(|f| f.mapping == "flattened") {
            let prefix = format!("{}.", f.name);
            assert!(!fields().any(|o| o.name.starts_with(&prefix)), "{} has children", f.name);
        }
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("a.*", "a.b"));
        assert!(wildcard_match("a.*", "a.b.c"));
        assert!(!wildcard_match("a.*", "a."));
        assert!(!wildcard_match("a.*", "b.c"));
        assert!(wildcard_match("a.*.*", "a.b.c"));
        assert!(!wildcard_match("a.*.c", "a..c"));
        assert!(wildcard_match("a.*.c", "a.b.c"));
        assert!(wildcard_match("a", "a"));
        assert!(!wildcard_match("a", "ab"));
        assert!(dynamic_patterns().all(|p| p.name.contains('*')));
    }
}
