//! The embedded store as the detection engine's [`DetectionStore`]: events are read from it and
//! alerts are written through its ingest path, durable and idempotent by `kibana.alert.uuid`.

use crate::alert::ALERTS_INDEX;
use crate::state::EngineState;
use crate::store::{DetectionStore, STATE_FILE, StoreError, documents_via_esql};
use esql::catalog::{Catalog, FieldInfo, Index, MemIndex};
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A [`store::Store`] serving the detection engine.
pub struct StoreBackend {
    store: Arc<store::Store>,
    state: EngineState,
    state_path: PathBuf,
    /// Alert ids written through this backend (the store refuses a second `create` of an id too).
    written: HashSet<String>,
}

impl StoreBackend {
    /// Opens the store in `dir` and the rule state beside it.
    ///
    /// # Errors
    /// When the store cannot be opened or the state file is unreadable.
    pub fn open(dir: &Path) -> Result<StoreBackend, StoreError> {
        let store = store::Store::open(dir).map_err(|e| StoreError::Data(format!("opening {}: {e}", dir.display())))?;
        StoreBackend::new(Arc::new(store))
    }

    /// The detection engine over an open store; the rule state is read from the store's folder.
    ///
    /// # Errors
    /// When the state file is unreadable.
    pub fn new(store: Arc<store::Store>) -> Result<StoreBackend, StoreError> {
        let state_path = store.dir().join(STATE_FILE);
        let state = read_state(&state_path)?;
        Ok(StoreBackend { store, state, state_path, written: HashSet::new() })
    }

    /// The store.
    pub fn store(&self) -> &Arc<store::Store> {
        &self.store
    }
}

/// The rule state in `path` (empty when the file does not exist).
///
/// # Errors
/// When the file cannot be read or parsed.
pub fn read_state(path: &Path) -> Result<EngineState, StoreError> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text)
            .map_err(|e| StoreError::Data(format!("{}: the rule state is not valid: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(EngineState::default()),
        Err(e) => Err(StoreError::Io { path: path.to_path_buf(), source: e }),
    }
}

/// The store as rules read it: Kibana's alerts index always exists with its mapping, so a
/// higher-order rule that runs before any alert was written reads an empty index rather than
/// failing on unknown `kibana.alert.*` fields.
struct AlertsMapped {
    store: Arc<store::Store>,
    empty_alerts: Arc<dyn Index>,
}

impl Catalog for AlertsMapped {
    fn index_names(&self) -> Vec<String> {
        let mut names = self.store.index_names();
        if !names.iter().any(|n| n == ALERTS_INDEX) {
            names.push(ALERTS_INDEX.to_string());
        }
        names
    }

    fn index(&self, name: &str) -> Option<Arc<dyn Index>> {
        match self.store.index(name) {
            Some(index) => Some(index),
            None if name == ALERTS_INDEX => Some(self.empty_alerts.clone()),
            None => None,
        }
    }

    fn enrich_policy(&self, name: &str) -> Option<esql::catalog::EnrichPolicy> {
        self.store.enrich_policy(name)
    }
}

/// An empty alerts index with the fields of Kibana's alert mapping.
fn empty_alerts_index() -> Arc<dyn Index> {
    let fields: Vec<FieldInfo> = ecs::fields()
        .filter(|f| {
            f.name.starts_with("kibana.")
                || matches!(f.name, "@timestamp" | "event.kind" | "event.dataset" | "event.ingested")
        })
        .filter_map(|f| Some(FieldInfo { name: f.name.to_string(), es_type: f.es_type()?, multi: f.array }))
        .filter(|f| f.es_type != esql::types::EsType::Unsupported)
        .collect();
    let index = MemIndex::new(ALERTS_INDEX, fields, Vec::new()).expect("invariant: no batches to mismatch");
    Arc::new(index)
}

impl DetectionStore for StoreBackend {
    fn catalog(&self) -> Arc<dyn Catalog> {
        Arc::new(AlertsMapped { store: self.store.clone(), empty_alerts: empty_alerts_index() })
    }

    fn existing_alerts(&self, ids: &[String]) -> Result<HashSet<String>, StoreError> {
        let mut found: HashSet<String> = ids.iter().filter(|id| self.written.contains(*id)).cloned().collect();
        let unknown: Vec<String> = ids.iter().filter(|id| !found.contains(*id)).cloned().collect();
        if unknown.is_empty() || esql::catalog::Catalog::index(self.store.as_ref(), ALERTS_INDEX).is_none() {
            return Ok(found);
        }
        // Alerts written by earlier runs: looked up by `_id` through ES|QL.
        let catalog = self.catalog();
        let docs = tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current().block_on(documents_via_esql(catalog, ALERTS_INDEX, &unknown))
        })?;
        found.extend(docs.into_iter().map(|d| d.id));
        Ok(found)
    }

    fn write_alerts(&mut self, alerts: Vec<Map<String, Value>>) -> Result<usize, StoreError> {
        let mut body = String::new();
        let mut ids = Vec::new();
        for alert in alerts {
            let Some(uuid) = alert.get("kibana.alert.uuid").and_then(Value::as_str).map(str::to_string) else {
                return Err(StoreError::Data(
                    "internal error: an alert without kibana.alert.uuid; please report this".into(),
                ));
            };
            let action = serde_json::json!({"create": {"_index": ALERTS_INDEX, "_id": uuid}});
            body.push_str(&action.to_string());
            body.push('\n');
            body.push_str(&Value::Object(alert).to_string());
            body.push('\n');
            ids.push(uuid);
        }
        if ids.is_empty() {
            return Ok(0);
        }
        let report = self.store.ingest_bulk(None, body.as_bytes()).map_err(|e| StoreError::Data(e.to_string()))?;
        let mut created = 0;
        for item in &report.items {
            match &item.result {
                Ok(_) => created += 1,
                // Already there (a re-run or an overlapping look-back): not created again.
                Err(e) if e.to_string().contains("version conflict") || item.status() == 409 => {}
                Err(e) => return Err(StoreError::Data(format!("writing an alert: {e}"))),
            }
        }
        self.written.extend(ids);
        Ok(created)
    }

    fn update_alerts(&mut self, updates: Vec<(String, Map<String, Value>)>) -> Result<usize, StoreError> {
        if updates.is_empty() {
            return Ok(0);
        }
        // A partial update per alert: each replaces the alert with its fields set, durably.
        self.store
            .update_documents(ALERTS_INDEX, updates)
            .map_err(|e| StoreError::Data(format!("updating alerts: {e}")))
    }

    fn load_state(&self) -> Result<EngineState, StoreError> {
        Ok(self.state.clone())
    }

    fn save_state(&mut self, state: &EngineState) -> Result<(), StoreError> {
        self.state = state.clone();
        let io = |path: &Path, source| StoreError::Io { path: path.to_path_buf(), source };
        if let Some(parent) = self.state_path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
        }
        let text = serde_json::to_string_pretty(state).map_err(|e| StoreError::Data(e.to_string()))?;
        let tmp = self.state_path.with_extension("json.tmp");
        std::fs::write(&tmp, text).map_err(|e| io(&tmp, e))?;
        std::fs::rename(&tmp, &self.state_path).map_err(|e| io(&self.state_path, e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::{Origin, Rule};
    use crate::schedule::Engine;
    use chrono::{DateTime, Utc};
    use serde_json::json;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("time")
    }

    async fn alerts(backend: &StoreBackend) -> Vec<Value> {
        let q = format!(
            "FROM {ALERTS_INDEX} METADATA _id | SORT user.name | KEEP user.name, kibana.alert.suppression.docs_count, kibana.alert.suppression.end, kibana.alert.last_detected, kibana.alert.rule.rule_id"
        );
        let output = esql::execute(backend.catalog(), &q, &esql::QueryOptions::default()).await.expect("query");
        match esql::render::to_json(&output)["values"].take() {
            Value::Array(rows) => rows,
            other => panic!("{other}"),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn suppressed_alerts_are_updated_in_the_store() {
        let dir = tempfile::tempdir().expect("tempdir");
        let backend = StoreBackend::open(dir.path()).expect("open");
        let store = backend.store().clone();
        let events = |lines: &[(&str, &str)]| -> String {
            lines
                .iter()
                .map(|(t, user)| {
                    format!(
                        "{}\n",
                        json!({"@timestamp": format!("2024-05-01T{t}Z"), "event": {"kind": "alert"}, "user": {"name": user}})
                    )
                })
                .collect()
        };
        let first = events(&[("10:00:01", "a"), ("10:00:02", "b"), ("10:00:03", "a"), ("10:00:04", "a")]);
        store.ingest_ndjson(Some("logs-x-default"), first.as_bytes()).expect("ingest");
        let obj = json!({"name": "n", "description": "d", "type": "query", "severity": "low", "risk_score": 1,
            "rule_id": "suppressed", "query": "event.kind:alert", "index": ["logs-*"], "from": "now-1h", "interval": "5m",
            "alert_suppression": {"group_by": ["user.name"], "duration": {"value": 1, "unit": "h"}}});
        let rule =
            Rule::from_api(obj.as_object().expect("object"), Origin { path: "t".into(), line: None }).expect("rule");
        let mut engine = Engine::new(backend);
        let report = engine.execute(&rule, at("2024-05-01T10:05:00Z")).await;
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert_eq!(report.alerts_created, 2);
        let before = alerts(&engine.store).await;
        assert_eq!(before[0], json!(["a", 2, "2024-05-01T10:00:04.000Z", "2024-05-01T10:05:00.000Z", "suppressed"]));

        // a later event of user a, within the hour: the open alert absorbs it, updated in place
        store.ingest_ndjson(Some("logs-x-default"), events(&[("10:06:00", "a")]).as_bytes()).expect("ingest");
        // the alerts are in a segment by now
        store.flush().expect("flush");
        let report = engine.execute(&rule, at("2024-05-01T10:10:00Z")).await;
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert_eq!(report.alerts_created, 0);
        let after = alerts(&engine.store).await;
        assert_eq!(
            after,
            vec![
                json!(["a", 3, "2024-05-01T10:06:00.000Z", "2024-05-01T10:10:00.000Z", "suppressed"]),
                before[1].clone(),
            ]
        );

        // and so it stays when the store is opened again
        drop(engine);
        drop(store);
        let backend = StoreBackend::open(dir.path()).expect("reopen");
        assert_eq!(alerts(&backend).await, after);
    }
}
