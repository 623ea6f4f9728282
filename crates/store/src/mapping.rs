//! An index's mapping: every field's Elasticsearch type, whether it ever held several values,
//! and the values of its `constant_keyword` fields; persisted as `mapping.json`.

use esql::catalog::{FieldInfo, MemIndex};
use esql::datafusion::arrow::datatypes::{Schema, SchemaRef};
use esql::types::EsType;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

/// The document id column.
pub const ID_FIELD: &str = "_id";

/// The column listing, per document, the fields whose values were malformed (or beyond the
/// field limit) and were dropped.
pub const IGNORED_FIELD: &str = ecs::ndjson::IGNORED_FIELD;

/// One field of a mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldMapping {
    /// The Elasticsearch mapping type (`keyword`, `ip`, `long`, `constant_keyword`, `flattened`, …).
    #[serde(rename = "type")]
    pub mapping: String,
    /// True once a document held more than one value: the column is then a `List`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub multi: bool,
    /// The value of a `constant_keyword` field, set by the index name (data streams) or by the
    /// first document that has the field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

impl FieldMapping {
    /// A field of this mapping type.
    pub fn new(mapping: impl Into<String>) -> FieldMapping {
        FieldMapping { mapping: mapping.into(), multi: false, value: None }
    }

    /// A `constant_keyword` field with its value.
    pub fn constant(value: impl Into<String>) -> FieldMapping {
        FieldMapping { mapping: "constant_keyword".to_string(), multi: false, value: Some(value.into()) }
    }

    /// True for `constant_keyword`: one value for the whole index, never stored per document.
    pub fn is_constant(&self) -> bool {
        self.mapping == "constant_keyword"
    }

    /// The ES|QL type, [`EsType::Unsupported`] for types ES|QL cannot read (`flattened`).
    pub fn es_type(&self) -> EsType {
        EsType::from_mapping(&self.mapping).unwrap_or(EsType::Unsupported)
    }

    /// True when documents' values are stored in a column (not constants, not unsupported types).
    pub fn is_stored(&self) -> bool {
        !self.is_constant() && self.es_type() != EsType::Unsupported
    }
}

/// The fields of an index by dotted name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping {
    /// Every field.
    pub fields: BTreeMap<String, FieldMapping>,
}

impl Mapping {
    /// The ES|QL view of the fields, sorted by name: every mapped field, plus `_id`.
    pub fn field_infos(&self) -> Vec<FieldInfo> {
        let mut out: Vec<FieldInfo> = self
            .fields
            .iter()
            .map(|(name, f)| {
                let es_type = f.es_type();
                let multi = f.multi && es_type != EsType::Unsupported;
                FieldInfo { name: name.clone(), es_type, multi }
            })
            .collect();
        out.push(FieldInfo { name: ID_FIELD.to_string(), es_type: EsType::Keyword, multi: false });
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// The Arrow schema of the table ES|QL reads: [`Mapping::field_infos`].
    pub fn table_schema(&self) -> SchemaRef {
        MemIndex::schema_for(&self.field_infos())
    }

    /// The Arrow schema of the stored columns (buffer batches and segments): `_id` and every
    /// stored field, sorted by name.
    pub fn stored_schema(&self) -> SchemaRef {
        let mut fields: Vec<(&str, EsType, bool)> = self
            .fields
            .iter()
            .filter(|(_, f)| f.is_stored())
            .map(|(n, f)| (n.as_str(), f.es_type(), f.multi))
            .collect();
        fields.push((ID_FIELD, EsType::Keyword, false));
        fields.sort_by(|a, b| a.0.cmp(b.0));
        Arc::new(Schema::new(fields.into_iter().map(|(n, t, m)| t.field(n, m)).collect::<Vec<_>>()))
    }

    /// The `constant_keyword` fields that have a value.
    pub fn constants(&self) -> BTreeMap<String, String> {
        self.fields
            .iter()
            .filter_map(|(n, f)| Some((n.clone(), f.value.clone().filter(|_| f.is_constant())?)))
            .collect()
    }

    /// Every proper prefix of a field name (`source` for `source.ip`): the object paths, which
    /// cannot also hold a value.
    pub fn object_paths(&self) -> HashSet<String> {
        let mut out = HashSet::new();
        for name in self.fields.keys() {
            for prefix in prefixes(name) {
                out.insert(prefix.to_string());
            }
        }
        out
    }

    /// Adds a field decided when a batch was accepted. An existing field keeps its type (a
    /// mapping type never changes); a constant gets its value if it had none.
    pub fn add(&mut self, name: &str, field: &FieldMapping) {
        match self.fields.get_mut(name) {
            None => {
                self.fields.insert(name.to_string(), FieldMapping { multi: false, ..field.clone() });
            }
            Some(existing) => {
                if existing.is_constant() && existing.value.is_none() {
                    existing.value = field.value.clone();
                }
            }
        }
    }
}

/// The proper prefixes of a dotted name, shortest first (`a`, `a.b` for `a.b.c`).
pub fn prefixes(name: &str) -> impl Iterator<Item = &str> {
    name.match_indices('.').map(move |(i, _)| &name[..i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_and_constants() {
        let mut mapping = Mapping::default();
        mapping.add("source.ip", &FieldMapping::new("ip"));
        mapping.add("data_stream.dataset", &FieldMapping::constant("x"));
        mapping.add("kibana.alert.rule.parameters", &FieldMapping::new("flattened"));
        mapping.add("@timestamp", &FieldMapping::new("date"));
        let stored: Vec<String> = mapping.stored_schema().fields().iter().map(|f| f.name().clone()).collect();
        assert_eq!(stored, vec!["@timestamp", "_id", "source.ip"]);
        let table: Vec<(String, EsType)> = mapping.field_infos().into_iter().map(|f| (f.name, f.es_type)).collect();
        assert_eq!(
            table,
            vec![
                ("@timestamp".to_string(), EsType::Date),
                ("_id".to_string(), EsType::Keyword),
                ("data_stream.dataset".to_string(), EsType::Keyword),
                ("kibana.alert.rule.parameters".to_string(), EsType::Unsupported),
                ("source.ip".to_string(), EsType::Ip),
            ]
        );
        assert_eq!(mapping.constants().get("data_stream.dataset").map(String::as_str), Some("x"));
        let paths = mapping.object_paths();
        assert!(paths.contains("source") && paths.contains("kibana.alert") && !paths.contains("source.ip"));
        // a type never changes once mapped
        mapping.add("source.ip", &FieldMapping::new("keyword"));
        assert_eq!(mapping.fields["source.ip"].mapping, "ip");
        let json = serde_json::to_string(&mapping).expect("json");
        assert_eq!(serde_json::from_str::<Mapping>(&json).expect("parse"), mapping);
    }
}
