//! [`EcsCatalog`]: empty indices that carry every known field, for checking queries without data.

use crate::EcsField;
use esql::catalog::{Catalog, FieldInfo, Index, MemCatalog, MemIndex};
use esql::types::EsType;
use std::sync::Arc;

/// A catalog of empty indices, one per index pattern, each with every field of the table
/// ([`crate::fields`]): ECS, the flagship integrations and the alerts index.
///
/// A field ECS normalises to an array (`event.category`, `tags`) is multi-valued; every other field
/// is single-valued. Fields whose mapping ES|QL cannot read (`flattened`) are present with type
/// [`EsType::Unsupported`], as Elasticsearch reports them; `geo_point` fields are
/// [`EsType::GeoPoint`].
///
/// # Examples
/// ```
/// use esql::catalog::Catalog;
/// let catalog = ecs::EcsCatalog::for_patterns(&["logs-azure.signinlogs-*", ".alerts-security.*"]);
/// assert_eq!(catalog.index_names(), vec![".alerts-security.x", "logs-azure.signinlogs-x"]);
/// ```
#[derive(Clone)]
pub struct EcsCatalog {
    inner: MemCatalog,
}

impl EcsCatalog {
    /// One empty index per pattern, named by the pattern with each `*` replaced by `x`
    /// (`logs-*` → `logs-x`), so that the pattern resolves to it. Exclusions (`-pattern`) and
    /// empty names are skipped.
    pub fn for_patterns(patterns: &[&str]) -> EcsCatalog {
        let fields = Self::fields();
        let mut inner = MemCatalog::new();
        for pattern in patterns {
            let pattern = pattern.trim();
            if pattern.is_empty() || pattern.starts_with('-') {
                continue;
            }
            let name = pattern.replace('*', "x");
            let index = MemIndex::new(name, fields.clone(), Vec::new())
                .expect("invariant: an index without batches always matches its fields");
            inner.add(Arc::new(index));
        }
        EcsCatalog { inner }
    }

    /// The fields every index of the catalog has.
    pub fn fields() -> Vec<FieldInfo> {
        crate::fields().map(field_info).collect()
    }
}

fn field_info(f: EcsField) -> FieldInfo {
    match f.es_type() {
        Some(es_type) => FieldInfo { name: f.name.to_string(), es_type, multi: f.array },
        None => FieldInfo { name: f.name.to_string(), es_type: EsType::Unsupported, multi: false },
    }
}

impl Catalog for EcsCatalog {
    fn index_names(&self) -> Vec<String> {
        self.inner.index_names()
    }

    fn index(&self, name: &str) -> Option<Arc<dyn Index>> {
        self.inner.index(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_index_per_pattern_with_all_fields() {
        let catalog = EcsCatalog::for_patterns(&["logs-o365.audit-*", "logs-azure.signinlogs-*", "-logs-x", ""]);
        assert_eq!(catalog.index_names(), vec!["logs-azure.signinlogs-x", "logs-o365.audit-x"]);
        let index = catalog.index("logs-o365.audit-x").expect("index");
        let field = |name: &str| index.fields().iter().find(|f| f.name == name).cloned();
        assert_eq!(
            field("event.category"),
            Some(FieldInfo { name: "event.category".into(), es_type: EsType::Keyword, multi: true })
        );
        assert_eq!(field("source.ip"), Some(FieldInfo { name: "source.ip".into(), es_type: EsType::Ip, multi: false }));
        assert_eq!(field("o365.audit.OperationCount").map(|f| f.es_type), Some(EsType::Long));
        assert_eq!(field("kibana.alert.rule.rule_id").map(|f| f.es_type), Some(EsType::Keyword));
        assert_eq!(field("source.geo.location").map(|f| f.es_type), Some(EsType::GeoPoint));
        assert_eq!(index.fields().len(), crate::fields().count());
        let table = index.table();
        assert_eq!(table.schema().fields().len(), index.fields().len());
    }
}
