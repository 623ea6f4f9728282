//! Elastic's integration samples (kept under `shared/data`, read at run time) as documents per data
//! stream, the raw material of the flagship rule's test fixtures.
//!
//! The sources are the pipeline tests' `*-expected.json` files (`{"expected": [doc, …]}`: what the
//! ingest pipeline outputs) and system-test `sample_event.json` files (one document as indexed):
//!
//! | index | dataset | files under `shared/data` |
//! |---|---|---|
//! | `logs-azure.signinlogs-default` | Entra ID sign-ins | `azure-signinlogs/test-signinlogs-raw.log-expected.json` (2 failures), `azure-signinlogs/test-non-interactive-user-signin.log-expected.json` (1 success) |
//! | `logs-o365.audit-default` | Microsoft 365 audit | `o365-audit/test-azuread-sts-logon-events.json-expected.EXCERPT-first-doc.json` (UserLoggedIn), `o365-audit/test-exchange-access-event.json-expected.EXCERPT-first-doc.json` (AttachmentAccess) |
//! | `logs-suricata.eve-default` | Suricata | `suricata-eve/test-eve-alerts.log-expected.EXCERPT-first-doc.json` (alert), `suricata-eve/sample_event.json` (ssh event) |
//! | `logs-panw.panos-default` | PAN-OS | `panw-panos/test-panw-panos-threat-url-no-xff-sample.log-expected.json` (url_filtering alert) |
//!
//! Pipeline outputs lack what Fleet and the index template add, so each document gets, when it
//! has none, `data_stream.type` `logs`, `data_stream.dataset`, `data_stream.namespace` `default`,
//! `event.dataset` and `event.module` (the dataset's first part), as Elastic Agent would index it.
//! Nothing else is changed: the rule-specific edits (public IPs, `MailItemsAccessed`) belong to the
//! fixtures that need them.

use serde_json::{Map, Value};
use std::fmt;
use std::path::{Path, PathBuf};

/// The documents of one data stream.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleDataset {
    /// The data stream (index) name, e.g. `logs-azure.signinlogs-default`.
    pub index: &'static str,
    /// The dataset, e.g. `azure.signinlogs`.
    pub dataset: &'static str,
    /// The documents, nested JSON objects as the samples write them.
    pub documents: Vec<Value>,
}

impl SampleDataset {
    /// The documents as NDJSON text, one line each.
    pub fn to_ndjson(&self) -> String {
        let mut out = String::new();
        for doc in &self.documents {
            out.push_str(&doc.to_string());
            out.push('\n');
        }
        out
    }
}

/// Why the samples could not be read.
#[derive(Debug)]
pub struct SampleError {
    /// The file.
    pub path: PathBuf,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for SampleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

impl std::error::Error for SampleError {}

struct Source {
    index: &'static str,
    dataset: &'static str,
    files: &'static [&'static str],
}

const SOURCES: [Source; 4] = [
    Source {
        index: "logs-azure.signinlogs-default",
        dataset: "azure.signinlogs",
        files: &[
            "azure-signinlogs/test-signinlogs-raw.log-expected.json",
            "azure-signinlogs/test-non-interactive-user-signin.log-expected.json",
        ],
    },
    Source {
        index: "logs-o365.audit-default",
        dataset: "o365.audit",
        files: &[
            "o365-audit/test-azuread-sts-logon-events.json-expected.EXCERPT-first-doc.json",
            "o365-audit/test-exchange-access-event.json-expected.EXCERPT-first-doc.json",
        ],
    },
    Source {
        index: "logs-suricata.eve-default",
        dataset: "suricata.eve",
        files: &["suricata-eve/test-eve-alerts.log-expected.EXCERPT-first-doc.json", "suricata-eve/sample_event.json"],
    },
    Source {
        index: "logs-panw.panos-default",
        dataset: "panw.panos",
        files: &["panw-panos/test-panw-panos-threat-url-no-xff-sample.log-expected.json"],
    },
];

/// `shared/data` of a checkout: `$SAKER_SHARED_DATA` when set, else `../shared/data` beside the
/// workspace (where CI and the developers' machines put it).
pub fn shared_data_dir() -> PathBuf {
    match std::env::var_os("SAKER_SHARED_DATA") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
    }
}

/// Reads the samples under `data_dir` (a `shared/data` folder): one [`SampleDataset`] per data
/// stream, in the order of the table above.
///
/// # Errors
/// When a file is missing or is not the JSON expected.
pub fn sample_datasets(data_dir: &Path) -> Result<Vec<SampleDataset>, SampleError> {
    let mut out = Vec::new();
    for source in &SOURCES {
        let mut documents = Vec::new();
        for file in source.files {
            let path = data_dir.join(file);
            let error = |message: String| SampleError { path: path.clone(), message };
            let text = std::fs::read_to_string(&path).map_err(|e| error(e.to_string()))?;
            let value: Value = serde_json::from_str(&text).map_err(|e| error(e.to_string()))?;
            let docs = match value {
                Value::Object(mut map) if map.contains_key("expected") => match map.remove("expected") {
                    Some(Value::Array(docs)) => docs,
                    _ => return Err(error("`expected` is not an array".to_string())),
                },
                doc @ Value::Object(_) => vec![doc],
                _ => return Err(error("expected a JSON object".to_string())),
            };
            for mut doc in docs {
                let Value::Object(map) = &mut doc else {
                    return Err(error("a document is not a JSON object".to_string()));
                };
                add_fleet_fields(map, source.dataset);
                documents.push(doc);
            }
        }
        out.push(SampleDataset { index: source.index, dataset: source.dataset, documents });
    }
    Ok(out)
}

/// Writes each dataset to `<dir>/<index>.ndjson`, ready for [`crate::ndjson::load_dir`].
///
/// # Errors
/// When a file cannot be written.
pub fn write_ndjson(datasets: &[SampleDataset], dir: &Path) -> std::io::Result<()> {
    for dataset in datasets {
        std::fs::write(dir.join(format!("{}.ndjson", dataset.index)), dataset.to_ndjson())?;
    }
    Ok(())
}

fn add_fleet_fields(doc: &mut Map<String, Value>, dataset: &str) {
    let module = dataset.split('.').next().unwrap_or(dataset);
    for (path, value) in [
        ("data_stream.type", "logs"),
        ("data_stream.dataset", dataset),
        ("data_stream.namespace", "default"),
        ("event.dataset", dataset),
        ("event.module", module),
    ] {
        if !has_path(doc, path) {
            set_path(doc, path, Value::String(value.to_string()));
        }
    }
}

/// True when `path` is present, nested (`{"a":{"b":1}}`), dotted (`{"a.b":1}`) or mixed.
fn has_path(doc: &Map<String, Value>, path: &str) -> bool {
    if doc.contains_key(path) {
        return true;
    }
    path.match_indices('.').any(|(i, _)| match doc.get(&path[..i]) {
        Some(Value::Object(inner)) => has_path(inner, &path[i + 1..]),
        _ => false,
    })
}

fn set_path(doc: &mut Map<String, Value>, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            doc.insert(path.to_string(), value);
        }
        Some((head, tail)) => match doc.entry(head.to_string()).or_insert_with(|| Value::Object(Map::new())) {
            Value::Object(inner) => set_path(inner, tail, value),
            _ => {
                doc.insert(path.to_string(), value);
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ndjson;
    use esql::catalog::Catalog;
    use serde_json::json;

    #[test]
    fn path_helpers() {
        let mut doc = json!({"event": {"kind": "alert"}, "data_stream.type": "logs", "a": {"b.c": 1}})
            .as_object()
            .cloned()
            .expect("object");
        assert!(has_path(&doc, "event.kind"));
        assert!(has_path(&doc, "data_stream.type"));
        assert!(has_path(&doc, "a.b.c"));
        assert!(!has_path(&doc, "event.dataset"));
        add_fleet_fields(&mut doc, "suricata.eve");
        assert_eq!(
            Value::Object(doc),
            json!({
                "event": {"kind": "alert", "dataset": "suricata.eve", "module": "suricata"},
                "data_stream.type": "logs",
                "data_stream": {"dataset": "suricata.eve", "namespace": "default"},
                "a": {"b.c": 1}
            })
        );
    }

    #[test]
    fn samples_load_into_typed_indices() {
        let data = shared_data_dir();
        let datasets =
            sample_datasets(&data).unwrap_or_else(|e| panic!("{e} (set SAKER_SHARED_DATA to the shared/data folder)"));
        let counts: Vec<_> = datasets.iter().map(|d| (d.index, d.documents.len())).collect();
        assert_eq!(
            counts,
            vec![
                ("logs-azure.signinlogs-default", 3),
                ("logs-o365.audit-default", 2),
                ("logs-suricata.eve-default", 2),
                ("logs-panw.panos-default", 1),
            ]
        );
        // sample_event.json already says where it was indexed: it is left alone
        let ssh = &datasets[2].documents[1];
        assert_eq!(ssh["data_stream"]["namespace"], "ep");
        assert_eq!(datasets[0].documents[2]["event"]["outcome"], "success");
        assert_eq!(datasets[0].documents[2]["data_stream"]["dataset"], "azure.signinlogs");
        assert_eq!(datasets[1].documents[0]["event"]["module"], "o365");

        let dir = tempfile::tempdir().expect("tempdir");
        write_ndjson(&datasets, dir.path()).expect("write");
        let loaded = ndjson::load_dir(dir.path()).expect("load");
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        assert_eq!(loaded.indices.iter().map(|(_, n)| n).sum::<usize>(), 8);
        let signins = loaded.catalog.index("logs-azure.signinlogs-default").expect("index");
        let field = |name: &str| signins.fields().iter().find(|f| f.name == name).cloned().expect(name);
        assert_eq!(field("source.ip").es_type, esql::types::EsType::Ip);
        // one category per sign-in: keyword, not multi-valued in this index
        assert_eq!(field("event.category").es_type, esql::types::EsType::Keyword);
        assert!(!field("event.category").multi);
        let o365 = loaded.catalog.index("logs-o365.audit-default").expect("index");
        let category = o365.fields().iter().find(|f| f.name == "event.category").expect("event.category");
        assert!(category.multi);
    }
}
