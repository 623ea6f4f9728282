//! What the analyzer and planner know about indices: the [`Catalog`] trait, and [`MemCatalog`],
//! an in-memory implementation used for NDJSON folders and tests.

use crate::types::EsType;
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::TableProvider;
use datafusion::datasource::MemTable;
use std::collections::BTreeMap;
use std::sync::Arc;

/// One field of an index as ES|QL sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldInfo {
    /// Dotted field name (`source.ip`).
    pub name: String,
    /// Its ES|QL type.
    pub es_type: EsType,
    /// Whether any document may hold several values (then the column is a `List`).
    pub multi: bool,
}

/// An enrich policy (`ENRICH name`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrichPolicy {
    /// Policy name.
    pub name: String,
    /// `match` or `range`.
    pub kind: EnrichKind,
    /// Source index holding the enrich data.
    pub index: String,
    /// The match field in the source index.
    pub match_field: String,
    /// The fields the policy adds.
    pub enrich_fields: Vec<String>,
}

/// The enrich policy types ES|QL supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnrichKind {
    /// Exact match on the match field.
    Match,
    /// The input falls inside the match field's range.
    Range,
}

/// A readable index: its fields and a DataFusion table over its documents.
pub trait Index: Send + Sync {
    /// The index name.
    fn name(&self) -> &str;
    /// Its fields, sorted by name. The table's columns are exactly these, typed by
    /// [`EsType::field`].
    fn fields(&self) -> &[FieldInfo];
    /// The documents, as a DataFusion table whose schema matches [`Index::fields`].
    fn table(&self) -> Arc<dyn TableProvider>;
    /// True when the index may be the right side of `LOOKUP JOIN` (`index.mode: lookup`).
    fn is_lookup(&self) -> bool {
        false
    }
    /// Values of constant fields (`constant_keyword`), if any, by field name.
    fn constant(&self, _field: &str) -> Option<String> {
        None
    }
    /// About how many documents the index holds, when known cheaply (it decides how many
    /// threads a query gets).
    fn estimated_rows(&self) -> Option<u64> {
        None
    }
}

/// Everything a query can read. The store implements it; so does [`MemCatalog`].
pub trait Catalog: Send + Sync {
    /// Every concrete index name, hidden (`.`-prefixed) ones included.
    fn index_names(&self) -> Vec<String>;
    /// The index with this exact name.
    fn index(&self, name: &str) -> Option<Arc<dyn Index>>;
    /// The enrich policy with this name.
    fn enrich_policy(&self, _name: &str) -> Option<EnrichPolicy> {
        None
    }
}

/// An index held in memory as Arrow record batches.
#[derive(Debug, Clone)]
pub struct MemIndex {
    name: String,
    fields: Vec<FieldInfo>,
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
    lookup: bool,
    constants: BTreeMap<String, String>,
}

impl MemIndex {
    /// An index from fields and batches whose schema is [`MemIndex::schema_for`] of the fields.
    ///
    /// # Errors
    /// When a batch's schema does not match the fields.
    pub fn new(
        name: impl Into<String>,
        mut fields: Vec<FieldInfo>,
        batches: Vec<RecordBatch>,
    ) -> Result<MemIndex, String> {
        fields.sort_by(|a, b| a.name.cmp(&b.name));
        let schema = Self::schema_for(&fields);
        for b in &batches {
            if b.schema().fields() != schema.fields() {
                return Err(format!("batch schema {:?} does not match the index fields {:?}", b.schema(), schema));
            }
        }
        Ok(MemIndex { name: name.into(), fields, schema, batches, lookup: false, constants: BTreeMap::new() })
    }

    /// The Arrow schema of an index with these fields (sorted by name).
    pub fn schema_for(fields: &[FieldInfo]) -> SchemaRef {
        Arc::new(Schema::new(fields.iter().map(|f| f.es_type.field(&f.name, f.multi)).collect::<Vec<_>>()))
    }

    /// Marks the index as a `LOOKUP JOIN` target.
    pub fn with_lookup(mut self, lookup: bool) -> MemIndex {
        self.lookup = lookup;
        self
    }

    /// Declares a constant field value (`constant_keyword`).
    pub fn with_constant(mut self, field: impl Into<String>, value: impl Into<String>) -> MemIndex {
        self.constants.insert(field.into(), value.into());
        self
    }

    /// The index's Arrow schema.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// The documents.
    pub fn batches(&self) -> &[RecordBatch] {
        &self.batches
    }
}

impl Index for MemIndex {
    fn name(&self) -> &str {
        &self.name
    }

    fn fields(&self) -> &[FieldInfo] {
        &self.fields
    }

    fn table(&self) -> Arc<dyn TableProvider> {
        let table = MemTable::try_new(self.schema.clone(), vec![self.batches.clone()])
            .expect("invariant: MemIndex::new checked the batch schemas");
        Arc::new(table)
    }

    fn is_lookup(&self) -> bool {
        self.lookup
    }

    fn estimated_rows(&self) -> Option<u64> {
        Some(self.batches.iter().map(|b| b.num_rows() as u64).sum())
    }

    fn constant(&self, field: &str) -> Option<String> {
        self.constants.get(field).cloned()
    }
}

/// A catalog of in-memory indices and enrich policies.
#[derive(Default, Clone)]
pub struct MemCatalog {
    indices: BTreeMap<String, Arc<dyn Index>>,
    policies: BTreeMap<String, EnrichPolicy>,
}

impl MemCatalog {
    /// An empty catalog.
    pub fn new() -> MemCatalog {
        MemCatalog::default()
    }

    /// Adds (or replaces) an index.
    pub fn add(&mut self, index: Arc<dyn Index>) {
        self.indices.insert(index.name().to_string(), index);
    }

    /// Adds (or replaces) an enrich policy.
    pub fn add_policy(&mut self, policy: EnrichPolicy) {
        self.policies.insert(policy.name.clone(), policy);
    }
}

impl Catalog for MemCatalog {
    fn index_names(&self) -> Vec<String> {
        self.indices.keys().cloned().collect()
    }

    fn index(&self, name: &str) -> Option<Arc<dyn Index>> {
        self.indices.get(name).cloned()
    }

    fn enrich_policy(&self, name: &str) -> Option<EnrichPolicy> {
        self.policies.get(name).cloned()
    }
}

impl std::fmt::Debug for dyn Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Index({})", self.name())
    }
}
