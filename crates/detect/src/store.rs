//! Where the detection engine reads events and writes alerts: the [`DetectionStore`] trait, and
//! [`MemStore`], its in-memory implementation over a folder of NDJSON files.
//!
//! The engine needs four things from a store: a [`Catalog`] to run ES|QL over (source indices
//! *and* the alerts index, so higher-order rules see earlier alerts), the source documents of
//! matched `_id`s, which alert ids already exist (alerts are created, never overwritten), and a
//! place for rule state. Anything that implements [`esql::catalog::Catalog`] and can append
//! documents with a given `_id` can be a store.
//!
//! # Wiring the embedded store (`crates/store`)
//! An adapter holding an `Arc<store::Store>` implements [`DetectionStore`]:
//! - `catalog()`: the `Arc<Store>` itself (`Store` implements `Catalog`);
//! - `source_documents()`: the default (ES|QL by `_id`) works as is; once the store keeps
//!   `_source`, return it to keep documents' original shape;
//! - `existing_alerts()`: `FROM .alerts-security.alerts-default METADATA _id | WHERE _id IN (…)`,
//!   or a store lookup by `_id`;
//! - `write_alerts()`: `Store::ingest_bulk(Some(ALERTS_INDEX), …)` with one `create` action per
//!   alert, `_id` = `kibana.alert.uuid`; the store refuses an `_id` that exists, which is
//!   exactly Kibana's create-and-ignore-conflicts (count only the created items);
//! - `load_state()`/`save_state()`: a JSON file in the data folder, as [`MemStore`] does, or a
//!   `.saker-rule-state` index;
//! - `time_range()` (optional): the segment manifests' min/max `@timestamp`/`event.ingested`.
//!
//! The alerts index should exist from the start with the alerts mapping (`kibana.*` and ECS), as
//! Kibana creates it, so queries over `.alerts-security.*` can name its fields before the first
//! alert ([`MemStore`] does this with Saker's field table).

use crate::alert::ALERTS_INDEX;
use crate::state::EngineState;
use chrono::{DateTime, Utc};
use esql::catalog::{Catalog, MemCatalog};
use esql::render::{Cell, rows};
use esql::{QueryOptions, UnmappedFields};
use serde_json::{Map, Value};
use sha1::{Digest, Sha1};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Why the store could not do what the engine asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Stored data is not what it should be.
    #[error("{0}")]
    Data(String),
    /// A query the store ran failed.
    #[error("reading documents: {0}")]
    Query(#[from] esql::QueryError),
}

/// What [`DetectionStore::time_range`] knows about an index's timestamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeRange {
    /// Not known: the index must be searched.
    Unknown,
    /// No document has any of the fields.
    Empty,
    /// The earliest and latest values.
    Between(DateTime<Utc>, DateTime<Utc>),
}

impl TimeRange {
    /// False only when no document can fall in `[from, to]`.
    pub fn may_overlap(self, from: DateTime<Utc>, to: DateTime<Utc>) -> bool {
        match self {
            TimeRange::Unknown => true,
            TimeRange::Empty => false,
            TimeRange::Between(min, max) => min <= to && max >= from,
        }
    }
}

/// A document read back from the store.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceDoc {
    /// `_id`
    pub id: String,
    /// `_index`
    pub index: String,
    /// `_version`, when the store keeps it.
    pub version: Option<i64>,
    /// The document.
    pub source: Map<String, Value>,
}

/// What the detection engine needs from the place data lives.
#[allow(async_fn_in_trait)]
pub trait DetectionStore {
    /// The indices queries read, the alerts index included, as of now.
    fn catalog(&self) -> Arc<dyn Catalog>;

    /// The documents with these `_id`s in `index`. The default reads them with ES|QL
    /// (`FROM index METADATA _id | WHERE _id IN (…)`) as flat documents with dotted names; a
    /// store that keeps `_source` should return it instead.
    ///
    /// # Errors
    /// When the documents cannot be read.
    async fn source_documents(&self, index: &str, ids: &[String]) -> Result<Vec<SourceDoc>, StoreError> {
        documents_via_esql(self.catalog(), index, ids).await
    }

    /// The earliest and latest value of any of `fields` (dates) in `index`, so executors can
    /// skip indices with nothing in a rule's window. The default: [`TimeRange::Unknown`].
    fn time_range(&self, _index: &str, _fields: &[&str]) -> TimeRange {
        TimeRange::Unknown
    }

    /// Which of `ids` are already alerts in `.alerts-security.alerts-default`.
    ///
    /// # Errors
    /// When the alerts index cannot be read.
    fn existing_alerts(&self, ids: &[String]) -> Result<HashSet<String>, StoreError>;

    /// Creates these alerts (each has `kibana.alert.uuid`, to be used as its `_id`); an alert
    /// whose id exists is skipped. Returns how many were created. Once this returns, the alerts
    /// are durable and [`DetectionStore::catalog`] shows them.
    ///
    /// # Errors
    /// When they cannot be written; nothing is then reported as created.
    fn write_alerts(&mut self, alerts: Vec<Map<String, Value>>) -> Result<usize, StoreError>;

    /// Updates existing alerts: each `(id, fields)` sets those fields (dotted names) on the alert
    /// with that `_id`, as Elasticsearch's partial `update` does, leaving its other fields as they
    /// are. Returns how many alerts were updated (missing ids are skipped). Durable and visible
    /// to [`DetectionStore::catalog`] once this returns.
    ///
    /// # Errors
    /// When they cannot be written.
    fn update_alerts(&mut self, updates: Vec<(String, Map<String, Value>)>) -> Result<usize, StoreError>;

    /// The persisted rule state ([`EngineState::default`] when there is none).
    ///
    /// # Errors
    /// When the state exists but cannot be read.
    fn load_state(&self) -> Result<EngineState, StoreError>;

    /// Persists the rule state.
    ///
    /// # Errors
    /// When it cannot be written.
    fn save_state(&mut self, state: &EngineState) -> Result<(), StoreError>;
}

/// Reads documents by `_id` through ES|QL over `catalog` (the [`DetectionStore::source_documents`]
/// default): one flat document per row, null columns dropped.
///
/// # Errors
/// When the query fails.
pub async fn documents_via_esql(
    catalog: Arc<dyn Catalog>,
    index: &str,
    ids: &[String],
) -> Result<Vec<SourceDoc>, StoreError> {
    if ids.is_empty() || catalog.index(index).is_none() {
        return Ok(Vec::new());
    }
    let list: Vec<String> = ids.iter().map(|id| esql_string(id)).collect();
    let query = format!("FROM {index} METADATA _id, _version | WHERE _id IN ({}) | LIMIT 10000", list.join(", "));
    let options = QueryOptions { unmapped_fields: UnmappedFields::Nullify, ..QueryOptions::default() };
    let output = esql::execute(catalog, &query, &options).await?;
    let mut out = Vec::new();
    for row in rows(&output) {
        let mut source = Map::new();
        let (mut id, mut version) = (String::new(), None);
        for ((name, _), cell) in output.columns.iter().zip(row) {
            match (name.as_str(), &cell) {
                (_, Cell::Null) => {}
                ("_id", Cell::Text(s)) => id = s.clone(),
                ("_version", Cell::Long(v)) => version = Some(*v),
                _ => {
                    source.insert(name.clone(), cell.to_json());
                }
            }
        }
        out.push(SourceDoc { id, index: index.to_string(), version, source });
    }
    Ok(out)
}

/// `text` as an ES|QL string literal.
pub fn esql_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// One index of a [`MemStore`]: its documents in order, by `_id`.
#[derive(Debug, Clone, Default)]
struct MemDocs {
    docs: Vec<(String, Map<String, Value>)>,
    by_id: HashMap<String, usize>,
    /// How often each generated id's content was seen, to tell identical documents apart.
    seen: HashMap<String, usize>,
}

impl MemDocs {
    fn add(&mut self, index: &str, mut doc: Map<String, Value>) -> Result<String, String> {
        let id = match doc.remove("_id") {
            Some(Value::String(id)) => id,
            Some(other) => return Err(format!("`_id` must be a string, found {other}")),
            None if index == ALERTS_INDEX => match crate::doc::single_string(&doc, "kibana.alert.uuid") {
                Some(uuid) => uuid.to_string(),
                None => return Err("an alert without `kibana.alert.uuid`".to_string()),
            },
            None => {
                let content = Value::Object(doc.clone()).to_string();
                let n = self.seen.entry(content.clone()).or_insert(0);
                *n += 1;
                generated_id(index, &content, *n)
            }
        };
        if self.by_id.contains_key(&id) {
            return Err(format!("a document with `_id` {id} exists"));
        }
        self.by_id.insert(id.clone(), self.docs.len());
        self.docs.push((id.clone(), doc));
        Ok(id)
    }

    fn index(&self, name: &str) -> esql::catalog::MemIndex {
        let mut builder = ecs::ndjson::IndexBuilder::new(name);
        for (id, doc) in &self.docs {
            let mut with_id = doc.clone();
            with_id.insert("_id".into(), Value::String(id.clone()));
            // `insert` checked that the document flattens, so `add` accepts it.
            let _ = builder.add(Value::Object(with_id));
        }
        builder.finish()
    }
}

/// The alerts index as Kibana creates it: besides the fields its alerts hold, the fields of the
/// alerts mapping exist, null where no alert has them, so that queries over
/// `.alerts-security.*` can name them before any alert exists (in Kibana the index and its
/// mapping exist from the start). Deviation: Kibana maps all of ECS; Saker adds `kibana.*` and
/// the ECS field sets alerts are usually correlated on ([`alert_field`]), since every column
/// costs query time; other fields exist once an alert holds them.
fn with_alerts_mapping(built: &esql::catalog::MemIndex) -> Result<esql::catalog::MemIndex, String> {
    use esql::catalog::{Index, MemIndex};
    use esql::datafusion::arrow::array::new_null_array;
    use esql::datafusion::arrow::record_batch::RecordBatch;
    let mut fields = built.fields().to_vec();
    let known: std::collections::HashSet<String> = fields.iter().map(|f| f.name.clone()).collect();
    fields.extend(ecs::EcsCatalog::fields().into_iter().filter(|f| !known.contains(&f.name) && alert_field(&f.name)));
    fields.sort_by(|a, b| a.name.cmp(&b.name));
    let schema = MemIndex::schema_for(&fields);
    let mut batches = Vec::new();
    for batch in built.batches() {
        let columns = fields
            .iter()
            .map(|f| match batch.column_by_name(&f.name) {
                Some(c) => c.clone(),
                None => new_null_array(&f.es_type.arrow_column(f.multi), batch.num_rows()),
            })
            .collect();
        match RecordBatch::try_new(schema.clone(), columns) {
            Ok(b) => batches.push(b),
            Err(e) => return Err(e.to_string()),
        }
    }
    let name = built.name().to_string();
    MemIndex::new(name, fields, batches)
}

/// The fields [`with_alerts_mapping`] adds to the alerts index.
fn alert_field(name: &str) -> bool {
    const SETS: [&str; 14] = [
        "kibana.",
        "event.",
        "data_stream.",
        "source.",
        "destination.",
        "client.",
        "server.",
        "network.",
        "rule.",
        "related.",
        "host.",
        "user.",
        "url.",
        "dns.",
    ];
    const FIELDS: [&str; 9] = [
        "@timestamp",
        "message",
        "tags",
        "process.name",
        "process.command_line",
        "process.executable",
        "file.name",
        "file.path",
        "agent.name",
    ];
    (SETS.iter().any(|p| name.starts_with(p)) && !name.starts_with("host.risk") && !name.starts_with("user.risk"))
        || FIELDS.contains(&name)
}

/// A stable id for a document without one: what it holds, and how many identical documents
/// came before it in the index (20 hex characters, as long as Elasticsearch's ids).
fn generated_id(index: &str, content: &str, occurrence: usize) -> String {
    let digest = Sha1::digest(format!("{index}\n{occurrence}\n{content}").as_bytes());
    digest.iter().take(10).map(|b| format!("{b:02x}")).collect()
}

/// The in-memory [`DetectionStore`]: indices built from JSON documents, optionally backed by a
/// folder of NDJSON files (one index per file, as [`ecs::ndjson`] reads them), where alerts are
/// appended to `.alerts-security.alerts-default.ndjson` and rule state is kept in
/// `.saker/rules-state.json`.
///
/// Documents keep their `_id` when they have one (a top-level `_id` key, removed from the
/// source); others get a stable id derived from their content. Alerts use `kibana.alert.uuid`.
#[derive(Default)]
pub struct MemStore {
    indices: BTreeMap<String, MemDocs>,
    catalog: MemCatalog,
    dir: Option<PathBuf>,
    state: EngineState,
    /// Lines of the folder that could not be loaded.
    pub load_errors: Vec<String>,
}

/// The rule state file of a data folder.
pub const STATE_FILE: &str = ".saker/rules-state.json";

impl MemStore {
    /// An empty store that lives in memory only (with an empty alerts index).
    pub fn new() -> MemStore {
        let mut store = MemStore::default();
        store.rebuild_all();
        store
    }

    /// Opens a folder of NDJSON files (`*.ndjson`, `*.jsonl`, `*.json`, not recursive).
    /// Unreadable lines are listed in [`MemStore::load_errors`] and skipped.
    ///
    /// # Errors
    /// When the folder cannot be listed, or the rule state exists but cannot be read.
    pub fn open(dir: &Path) -> Result<MemStore, StoreError> {
        let io = |source| StoreError::Io { path: dir.to_path_buf(), source };
        let mut files: Vec<(String, PathBuf)> = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io)? {
            let path = entry.map_err(io)?.path();
            if path.is_file()
                && let Some(name) = ecs::ndjson::index_name(&path)
            {
                files.push((name, path));
            }
        }
        files.sort();
        let mut store = MemStore { dir: Some(dir.to_path_buf()), ..MemStore::default() };
        for (index, path) in files {
            let text =
                std::fs::read_to_string(&path).map_err(|source| StoreError::Io { path: path.clone(), source })?;
            let docs: Vec<(Option<usize>, Value)> = match serde_json::from_str::<Value>(&text) {
                Ok(Value::Array(items)) if path.extension().is_some_and(|e| e == "json") => {
                    items.into_iter().map(|d| (None, d)).collect()
                }
                Ok(doc @ Value::Object(_)) if path.extension().is_some_and(|e| e == "json") => vec![(None, doc)],
                _ => {
                    let mut docs = Vec::new();
                    for (i, line) in text.lines().enumerate() {
                        if line.trim().is_empty() {
                            continue;
                        }
                        match serde_json::from_str::<Value>(line) {
                            Ok(doc) => docs.push((Some(i + 1), doc)),
                            Err(e) => store.load_errors.push(format!("{}:{}: {e}", path.display(), i + 1)),
                        }
                    }
                    docs
                }
            };
            for (line, doc) in docs {
                let at = match line {
                    Some(l) => format!("{}:{l}", path.display()),
                    None => path.display().to_string(),
                };
                let result = match doc {
                    Value::Object(map) => store.insert(&index, map),
                    other => Err(format!("expected a JSON object, found {other}")),
                };
                if let Err(e) = result {
                    store.load_errors.push(format!("{at}: {e}"));
                }
            }
        }
        store.rebuild_all();
        let state_path = dir.join(STATE_FILE);
        if state_path.exists() {
            let text = std::fs::read_to_string(&state_path)
                .map_err(|source| StoreError::Io { path: state_path.clone(), source })?;
            store.state = serde_json::from_str(&text)
                .map_err(|e| StoreError::Data(format!("{}: invalid rule state: {e}", state_path.display())))?;
        }
        Ok(store)
    }

    fn insert(&mut self, index: &str, doc: Map<String, Value>) -> Result<String, String> {
        ecs::ndjson::flatten(Value::Object(doc.clone()))?;
        self.indices.entry(index.to_string()).or_default().add(index, doc)
    }

    /// Adds documents to an index (in memory only; the folder's files are not changed).
    ///
    /// # Errors
    /// A document that is not an object, or whose `_id` exists; the others are added.
    pub fn add_documents(&mut self, index: &str, docs: impl IntoIterator<Item = Value>) -> Result<(), String> {
        let mut errors = Vec::new();
        for doc in docs {
            match doc {
                Value::Object(map) => {
                    if let Err(e) = self.insert(index, map) {
                        errors.push(e);
                    }
                }
                other => errors.push(format!("expected a JSON object, found {other}")),
            }
        }
        self.rebuild(index);
        if errors.is_empty() { Ok(()) } else { Err(errors.join("; ")) }
    }

    /// The documents of an index, with their ids, in order.
    pub fn documents(&self, index: &str) -> Vec<(String, Map<String, Value>)> {
        self.indices.get(index).map(|d| d.docs.clone()).unwrap_or_default()
    }

    /// The alerts written so far (and loaded from the folder).
    pub fn alerts(&self) -> Vec<Map<String, Value>> {
        self.documents(ALERTS_INDEX).into_iter().map(|(_, d)| d).collect()
    }

    fn rebuild(&mut self, index: &str) {
        let Some(docs) = self.indices.get(index) else { return };
        let built = docs.index(index);
        if index != ALERTS_INDEX {
            self.catalog.add(Arc::new(built));
            return;
        }
        match with_alerts_mapping(&built) {
            Ok(full) => self.catalog.add(Arc::new(full)),
            Err(e) => {
                self.load_errors.push(format!("internal error: the alerts index mapping: {e}; please report this"));
                self.catalog.add(Arc::new(built));
            }
        }
    }

    fn rebuild_all(&mut self) {
        self.indices.entry(ALERTS_INDEX.to_string()).or_default();
        let names: Vec<String> = self.indices.keys().cloned().collect();
        for name in names {
            self.rebuild(&name);
        }
    }
}

impl std::fmt::Debug for MemStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemStore")
            .field("indices", &self.indices.keys().collect::<Vec<_>>())
            .field("dir", &self.dir)
            .finish()
    }
}

impl DetectionStore for MemStore {
    fn catalog(&self) -> Arc<dyn Catalog> {
        Arc::new(self.catalog.clone())
    }

    async fn source_documents(&self, index: &str, ids: &[String]) -> Result<Vec<SourceDoc>, StoreError> {
        let Some(docs) = self.indices.get(index) else {
            return Ok(Vec::new());
        };
        Ok(ids
            .iter()
            .filter_map(|id| docs.by_id.get(id).map(|&i| (id, &docs.docs[i].1)))
            .map(|(id, source)| SourceDoc {
                id: id.clone(),
                index: index.to_string(),
                version: None,
                source: source.clone(),
            })
            .collect())
    }

    fn time_range(&self, index: &str, fields: &[&str]) -> TimeRange {
        let Some(docs) = self.indices.get(index) else {
            return TimeRange::Empty;
        };
        let mut range: Option<(DateTime<Utc>, DateTime<Utc>)> = None;
        for (_, doc) in &docs.docs {
            for field in fields {
                for v in crate::doc::values(doc, field) {
                    let t = match v {
                        Value::String(s) => crate::datemath::parse_date(s),
                        Value::Number(n) => n.as_i64().and_then(DateTime::from_timestamp_millis),
                        _ => None,
                    };
                    let Some(t) = t else {
                        // a value we cannot read: let the query decide
                        return TimeRange::Unknown;
                    };
                    range = Some(match range {
                        None => (t, t),
                        Some((a, b)) => (a.min(t), b.max(t)),
                    });
                }
            }
        }
        match range {
            Some((a, b)) => TimeRange::Between(a, b),
            None => TimeRange::Empty,
        }
    }

    fn existing_alerts(&self, ids: &[String]) -> Result<HashSet<String>, StoreError> {
        let Some(alerts) = self.indices.get(ALERTS_INDEX) else {
            return Ok(HashSet::new());
        };
        Ok(ids.iter().filter(|id| alerts.by_id.contains_key(*id)).cloned().collect())
    }

    fn write_alerts(&mut self, alerts: Vec<Map<String, Value>>) -> Result<usize, StoreError> {
        let existing: HashSet<String> =
            self.indices.get(ALERTS_INDEX).map(|a| a.by_id.keys().cloned().collect()).unwrap_or_default();
        let mut fresh = Vec::new();
        let mut ids = HashSet::new();
        for alert in alerts {
            let Some(uuid) = alert.get("kibana.alert.uuid").and_then(Value::as_str).map(str::to_string) else {
                return Err(StoreError::Data(
                    "internal error: an alert without kibana.alert.uuid; please report this".into(),
                ));
            };
            if existing.contains(&uuid) || !ids.insert(uuid) {
                continue;
            }
            fresh.push(alert);
        }
        if fresh.is_empty() {
            return Ok(0);
        }
        if let Some(dir) = &self.dir {
            let path = dir.join(format!("{ALERTS_INDEX}.ndjson"));
            let mut text = String::new();
            for alert in &fresh {
                text.push_str(&Value::Object(alert.clone()).to_string());
                text.push('\n');
            }
            let io = |source| StoreError::Io { path: path.clone(), source };
            let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&path).map_err(io)?;
            file.write_all(text.as_bytes()).map_err(io)?;
            file.sync_data().map_err(io)?;
        }
        let n = fresh.len();
        for alert in fresh {
            self.insert(ALERTS_INDEX, alert).map_err(StoreError::Data)?;
        }
        self.rebuild(ALERTS_INDEX);
        Ok(n)
    }

    fn update_alerts(&mut self, updates: Vec<(String, Map<String, Value>)>) -> Result<usize, StoreError> {
        let Some(alerts) = self.indices.get_mut(ALERTS_INDEX) else {
            return Ok(0);
        };
        let mut updated = 0;
        for (id, fields) in updates {
            let Some(&at) = alerts.by_id.get(&id) else { continue };
            let doc = &mut alerts.docs[at].1;
            for (name, value) in fields {
                crate::doc::remove(doc, &name);
                doc.insert(name, value);
            }
            updated += 1;
        }
        if updated == 0 {
            return Ok(0);
        }
        if let Some(dir) = &self.dir {
            // The whole file again, replaced atomically.
            let path = dir.join(format!("{ALERTS_INDEX}.ndjson"));
            let mut text = String::new();
            for (id, doc) in &alerts.docs {
                let mut doc = doc.clone();
                if doc.get("kibana.alert.uuid").and_then(Value::as_str) != Some(id.as_str()) {
                    doc.insert("_id".into(), Value::String(id.clone()));
                }
                text.push_str(&Value::Object(doc).to_string());
                text.push('\n');
            }
            let tmp = path.with_extension("ndjson.tmp");
            let io = |path: &Path, source| StoreError::Io { path: path.to_path_buf(), source };
            let mut file = std::fs::File::create(&tmp).map_err(|e| io(&tmp, e))?;
            file.write_all(text.as_bytes()).map_err(|e| io(&tmp, e))?;
            file.sync_all().map_err(|e| io(&tmp, e))?;
            std::fs::rename(&tmp, &path).map_err(|e| io(&path, e))?;
        }
        self.rebuild(ALERTS_INDEX);
        Ok(updated)
    }

    fn load_state(&self) -> Result<EngineState, StoreError> {
        Ok(self.state.clone())
    }

    fn save_state(&mut self, state: &EngineState) -> Result<(), StoreError> {
        self.state = state.clone();
        let Some(dir) = &self.dir else {
            return Ok(());
        };
        let path = dir.join(STATE_FILE);
        let io = |source| StoreError::Io { path: path.clone(), source };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        let text = serde_json::to_string_pretty(state).map_err(|e| StoreError::Data(e.to_string()))?;
        let tmp = path.with_extension("json.tmp");
        let mut file = std::fs::File::create(&tmp).map_err(|source| StoreError::Io { path: tmp.clone(), source })?;
        file.write_all(text.as_bytes()).map_err(|source| StoreError::Io { path: tmp.clone(), source })?;
        file.sync_all().map_err(|source| StoreError::Io { path: tmp.clone(), source })?;
        std::fs::rename(&tmp, &path).map_err(io)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_are_kept_generated_or_taken_from_alerts() {
        let mut store = MemStore::new();
        store.add_documents("logs-a", [json!({"_id": "x", "a": 1}), json!({"a": 2}), json!({"a": 2})]).expect("added");
        let docs = store.documents("logs-a");
        assert_eq!(docs[0].0, "x");
        assert!(!docs[0].1.contains_key("_id"));
        assert_eq!(docs[1].0.len(), 20);
        assert_ne!(docs[1].0, docs[2].0, "identical documents get different ids");
        let err = store.add_documents("logs-a", [json!({"_id": "x"})]).expect_err("duplicate");
        assert!(err.contains("exists"), "{err}");
        let written = store
            .write_alerts(vec![json!({"kibana.alert.uuid": "u1"}).as_object().cloned().expect("object")])
            .expect("written");
        assert_eq!(written, 1);
        let again = store
            .write_alerts(vec![json!({"kibana.alert.uuid": "u1"}).as_object().cloned().expect("object")])
            .expect("written");
        assert_eq!(again, 0);
        assert_eq!(store.existing_alerts(&["u1".into(), "u2".into()]).expect("ids"), HashSet::from(["u1".to_string()]));
    }

    #[test]
    fn esql_strings_are_escaped() {
        assert_eq!(esql_string("a\"b\\c\n"), r#""a\"b\\c\n""#);
    }
}
