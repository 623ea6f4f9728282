//! The rules `saker serve` runs: the rules of the `--rules` files, and the rules created, changed
//! and deleted through Kibana's detection engine API, kept in the data folder.
//!
//! [`RuleRegistry`] is shared by the HTTP API (which changes it) and the scheduler (which reads
//! [`RuleRegistry::snapshot`] before every round, so a change is picked up within a second).
//!
//! # Persistence
//! `<data>/.saker/rules.ndjson` ([`RULES_FILE`]) holds one JSON object a line: each rule created
//! through the API (its rule object plus who created and changed it when), and the `enabled`
//! setting of each rules-file rule that was enabled or disabled through the API. Every change
//! rewrites the file atomically (a temporary file, fsync, rename, fsync of the folder), so a
//! crash leaves the old or the new version, never a mix.
//!
//! # Rules from files
//! Rules given with `--rules` play the part of Kibana's prebuilt rules: they are `immutable`
//! (`rule_source.type: external`), their content comes from the files at every start, and the
//! API may only enable or disable them (persisted, so the choice survives restarts and file
//! updates) — updating, patching or deleting them is refused with a message that says to edit or
//! remove the file instead.
//!
//! A rule created through the API cannot take a `rule_id` that a file rule has (409, as for any
//! existing rule). When a file given at a later start brings a `rule_id` (or `id`) that an API rule
//! already has, the file rule wins: the API rule is kept in `rules.ndjson` but not run, a warning
//! says so at start, and it comes back once no file provides that `rule_id`.
//!
//! # Filters
//! [`RuleFilter`] evaluates the KQL `filter` of `_find` and the `query` of `_bulk_action` over
//! the rule attributes Kibana's saved objects expose (`alert.attributes.name`, `.enabled`,
//! `.tags`, …); other fields are refused by name.

use crate::datemath::iso;
use crate::rule::{FieldError, Origin, Rule};
use chrono::{DateTime, Utc};
use kql::ast::{Literal, LiteralKind, Part, Query, QueryKind, RangeOp, ValueQuery, ValueQueryKind};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

/// Where the API's rules are kept, relative to the data folder.
pub const RULES_FILE: &str = ".saker/rules.ndjson";

/// The fields of Kibana's rule API that a request may set (`rule_schemas.schema.yaml`: the
/// common fields and those of every rule type). Others are dropped, as Kibana's schema drops
/// unknown keys.
pub const API_FIELDS: &[&str] = &[
    // common, required and optional
    "name",
    "description",
    "risk_score",
    "severity",
    "type",
    "rule_id",
    "rule_name_override",
    "timestamp_override",
    "timestamp_override_fallback_disabled",
    "timeline_id",
    "timeline_title",
    "license",
    "note",
    "setup",
    "building_block_type",
    "output_index",
    "namespace",
    "meta",
    "investigation_fields",
    "throttle",
    "response_actions",
    "alias_purpose",
    "alias_target_id",
    "outcome",
    // common, defaultable
    "version",
    "tags",
    "enabled",
    "risk_score_mapping",
    "severity_mapping",
    "interval",
    "from",
    "to",
    "actions",
    "exceptions_list",
    "author",
    "false_positives",
    "references",
    "max_signals",
    "threat",
    "related_integrations",
    "required_fields",
    // type-specific
    "index",
    "data_view_id",
    "filters",
    "saved_id",
    "alert_suppression",
    "query",
    "language",
    "timestamp_field",
    "event_category_override",
    "tiebreaker_field",
    "threat_filters",
    "threat_query",
    "threat_mapping",
    "threat_language",
    "threat_index",
    "threat_indicator_path",
    "concurrent_searches",
    "items_per_search",
    "threshold",
    "anomaly_threshold",
    "machine_learning_job_id",
    "new_terms_fields",
    "history_window_start",
];

/// Where a rule comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A `--rules` file: immutable, only `enabled` changes.
    File,
    /// Created through the API (or imported).
    Api,
}

/// A rule with what the API reports about it besides its content.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The rule.
    pub rule: Rule,
    /// Where it comes from.
    pub source: Source,
    /// When it was created (for a file rule: the file's modification time).
    pub created_at: DateTime<Utc>,
    /// Who created it (for a file rule: the file).
    pub created_by: String,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// Who changed it last.
    pub updated_by: String,
    /// How many times its content changed (enabling and disabling do not count, as in Kibana).
    pub revision: u64,
}

impl Entry {
    /// True for rules from files (Kibana's `immutable`).
    pub fn immutable(&self) -> bool {
        self.source == Source::File
    }

    /// The rule as Kibana's rule API returns it (without `execution_summary`, which comes from
    /// the rule state).
    pub fn to_api(&self) -> Map<String, Value> {
        let mut out = match self.rule.parameters() {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        let mut default = |key: &str, value: Value| {
            out.entry(key.to_string()).or_insert(value);
        };
        default("setup", json!(""));
        default("related_integrations", json!([]));
        default("required_fields", json!([]));
        default("actions", json!([]));
        out.insert("id".into(), json!(self.rule.id));
        out.insert("rule_id".into(), json!(self.rule.rule_id));
        out.insert("enabled".into(), json!(self.rule.enabled));
        out.insert("immutable".into(), json!(self.immutable()));
        out.insert(
            "rule_source".into(),
            match self.source {
                Source::File => json!({"type": "external", "is_customized": false}),
                Source::Api => json!({"type": "internal"}),
            },
        );
        out.insert("created_at".into(), json!(iso(self.created_at)));
        out.insert("created_by".into(), json!(self.created_by));
        out.insert("updated_at".into(), json!(iso(self.updated_at)));
        out.insert("updated_by".into(), json!(self.updated_by));
        out.insert("revision".into(), json!(self.revision));
        out
    }
}

/// How a request names a rule: by object id or by `rule_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// The rule object's `id`.
    Id(String),
    /// The signature id `rule_id`.
    RuleId(String),
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selector::Id(id) => write!(f, "id: \"{id}\""),
            Selector::RuleId(id) => write!(f, "rule_id: \"{id}\""),
        }
    }
}

impl Selector {
    fn matches(&self, rule: &Rule) -> bool {
        match self {
            Selector::Id(id) => rule.id == *id,
            Selector::RuleId(id) => rule.rule_id == *id,
        }
    }
}

/// Why a change was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum RegistryError {
    /// No rule has this id (Kibana: 404 `rule_id: "x" not found`).
    NotFound(Selector),
    /// A rule with this `rule_id` exists (Kibana: 409 `rule_id: "x" already exists`).
    Conflict(String),
    /// The rule comes from a rules file; only `enabled` may change.
    Immutable {
        /// Its `rule_id`.
        rule_id: String,
        /// The file.
        origin: String,
    },
    /// The rule object is not valid.
    Invalid(Vec<FieldError>),
    /// The rules file could not be written or read.
    Storage(String),
}

impl fmt::Display for RegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegistryError::NotFound(selector) => write!(f, "{selector} not found"),
            RegistryError::Conflict(rule_id) => write!(f, "rule_id: \"{rule_id}\" already exists"),
            RegistryError::Immutable { rule_id, origin } => write!(
                f,
                "rule_id: \"{rule_id}\" comes from the rules file {origin} given to `saker serve --rules` and is \
                 immutable: only `enabled` can be changed through the API; edit or remove the file instead"
            ),
            RegistryError::Invalid(errors) => {
                let parts: Vec<String> = errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
                f.write_str(&parts.join(", "))
            }
            RegistryError::Storage(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for RegistryError {}

/// One line of [`RULES_FILE`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Stored {
    /// A rule created through the API.
    Rule {
        rule: Map<String, Value>,
        created_at: DateTime<Utc>,
        created_by: String,
        updated_at: DateTime<Utc>,
        updated_by: String,
        revision: u64,
    },
    /// `enabled` of a rules-file rule, set through the API.
    FileEnabled { rule_id: String, enabled: bool, updated_at: DateTime<Utc>, updated_by: String },
}

#[derive(Debug, Clone)]
struct FileOverride {
    enabled: bool,
    updated_at: DateTime<Utc>,
    updated_by: String,
}

#[derive(Debug, Clone, Default)]
struct State {
    entries: Vec<Entry>,
    /// `enabled` of file rules, by `rule_id` (also for files not given at this start).
    overrides: BTreeMap<String, FileOverride>,
    /// API rules hidden by a file rule with the same `rule_id` or `id`, kept as they were.
    shadowed: Vec<Stored>,
}

/// The rules `saker serve` runs, shared by the API and the scheduler.
#[derive(Debug)]
pub struct RuleRegistry {
    path: Option<PathBuf>,
    state: RwLock<(State, Arc<Vec<Rule>>)>,
}

/// What [`RuleRegistry::bulk`] does to each rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkOp {
    /// Set `enabled: true`.
    Enable,
    /// Set `enabled: false`.
    Disable,
    /// Delete.
    Delete,
}

/// The outcome of one rule of an import.
#[derive(Debug, Clone, PartialEq)]
pub enum Imported {
    /// A new rule.
    Created(Entry),
    /// An existing rule replaced (`overwrite`).
    Updated(Entry),
}

impl RuleRegistry {
    /// Opens the registry of the data folder `data`: the file rules `file_rules` (as loaded from
    /// `--rules`) and the rules kept in [`RULES_FILE`]. Returns warnings about API rules that a
    /// file rule hides.
    ///
    /// # Errors
    /// When the rules file cannot be read or a line of it is not valid (with its line number).
    pub fn open(data: &Path, file_rules: Vec<Rule>) -> Result<(RuleRegistry, Vec<String>), RegistryError> {
        let path = data.join(RULES_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(RegistryError::Storage(format!("reading {}: {e}", path.display()))),
        };
        let mut stored = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let item: Stored = serde_json::from_str(line).map_err(|e| {
                RegistryError::Storage(format!("{}:{}: not a valid rule entry: {e}", path.display(), i + 1))
            })?;
            stored.push((i + 1, item));
        }
        let (state, warnings) = build(&path, file_rules, stored)?;
        let snapshot = Arc::new(state.entries.iter().map(|e| e.rule.clone()).collect());
        Ok((RuleRegistry { path: Some(path), state: RwLock::new((state, snapshot)) }, warnings))
    }

    /// A registry that keeps nothing on disk (tests, one-off runs).
    pub fn ephemeral(file_rules: Vec<Rule>) -> RuleRegistry {
        let (state, _) = build(Path::new(RULES_FILE), file_rules, Vec::new()).unwrap_or_default();
        let snapshot = Arc::new(state.entries.iter().map(|e| e.rule.clone()).collect());
        RuleRegistry { path: None, state: RwLock::new((state, snapshot)) }
    }

    /// The rules as they are now, for the scheduler (cheap: shared until the next change).
    pub fn snapshot(&self) -> Arc<Vec<Rule>> {
        self.read(|_, snapshot| snapshot.clone())
    }

    /// Every rule with its metadata, files' rules first, then the API's in creation order.
    pub fn entries(&self) -> Vec<Entry> {
        self.read(|state, _| state.entries.clone())
    }

    /// The rule `selector` names.
    pub fn get(&self, selector: &Selector) -> Option<Entry> {
        self.read(|state, _| state.entries.iter().find(|e| selector.matches(&e.rule)).cloned())
    }

    /// Creates a rule from an API rule object (`POST /api/detection_engine/rules`), with the
    /// object id `id`. The object should carry a `rule_id` (the API generates one when missing).
    ///
    /// # Errors
    /// [`RegistryError::Invalid`], [`RegistryError::Conflict`] when the `rule_id` exists,
    /// [`RegistryError::Storage`].
    pub fn create(&self, obj: &Map<String, Value>, id: &str, user: &str) -> Result<Entry, RegistryError> {
        self.change(|state| {
            let entry = new_entry(obj, id, user, self.origin())?;
            if state.entries.iter().any(|e| e.rule.rule_id == entry.rule.rule_id) {
                return Err(RegistryError::Conflict(entry.rule.rule_id));
            }
            state.entries.push(entry.clone());
            Ok(entry)
        })
    }

    /// Replaces a rule's content (`PUT`): fields not given take their defaults, except `enabled`
    /// and `version`, which keep their values; `id` and `rule_id` never change.
    ///
    /// # Errors
    /// [`RegistryError::NotFound`], [`RegistryError::Immutable`] for file rules,
    /// [`RegistryError::Invalid`], [`RegistryError::Storage`].
    pub fn update(&self, selector: &Selector, obj: &Map<String, Value>, user: &str) -> Result<Entry, RegistryError> {
        self.change(|state| {
            let i = find(state, selector)?;
            let existing = &state.entries[i];
            refuse_file(existing)?;
            let mut next = api_fields(obj);
            next.insert("rule_id".into(), json!(existing.rule.rule_id));
            if !next.get("enabled").is_some_and(Value::is_boolean) {
                next.insert("enabled".into(), json!(existing.rule.enabled));
            }
            if next.get("version").is_none_or(Value::is_null) {
                next.insert("version".into(), json!(existing.rule.version));
            }
            let updated = replace(existing, next, user, self.origin())?;
            state.entries[i] = updated.clone();
            Ok(updated)
        })
    }

    /// Changes the fields a patch gives (`PATCH`; `null` and absent fields keep their values; `id`,
    /// `rule_id` and `type` never change). A file rule accepts a patch of `enabled` alone.
    ///
    /// # Errors
    /// As [`RuleRegistry::update`].
    pub fn patch(&self, selector: &Selector, patch: &Map<String, Value>, user: &str) -> Result<Entry, RegistryError> {
        self.change(|state| {
            let i = find(state, selector)?;
            let existing = &state.entries[i];
            let given: Vec<&String> = patch
                .iter()
                .filter(|(k, v)| !v.is_null() && !matches!(k.as_str(), "id" | "rule_id"))
                .map(|(k, _)| k)
                .collect();
            if existing.immutable() {
                if given.iter().any(|k| k.as_str() != "enabled") {
                    return Err(immutable(existing));
                }
                let Some(enabled) = patch.get("enabled").and_then(Value::as_bool) else {
                    return Ok(existing.clone());
                };
                let entry = set_enabled(state, i, enabled, user);
                return Ok(entry);
            }
            let mut next = existing.rule.params.clone();
            next.insert("rule_id".into(), json!(existing.rule.rule_id));
            next.insert("enabled".into(), json!(existing.rule.enabled));
            for (key, value) in api_fields(patch) {
                if value.is_null() || matches!(key.as_str(), "rule_id" | "type") {
                    continue;
                }
                next.insert(key, value);
            }
            let updated = replace(existing, next, user, self.origin())?;
            state.entries[i] = updated.clone();
            Ok(updated)
        })
    }

    /// Deletes a rule (`DELETE`), returning it.
    ///
    /// # Errors
    /// [`RegistryError::NotFound`], [`RegistryError::Immutable`] for file rules,
    /// [`RegistryError::Storage`].
    pub fn delete(&self, selector: &Selector) -> Result<Entry, RegistryError> {
        self.change(|state| {
            let i = find(state, selector)?;
            refuse_file(&state.entries[i])?;
            Ok(state.entries.remove(i))
        })
    }

    /// Applies `op` to the rules with the object ids `ids`, written once: each rule's outcome in
    /// order. A rule that does not exist is [`RegistryError::NotFound`]. With `dry_run`, nothing
    /// changes but the outcomes are those a real run would have.
    ///
    /// # Errors
    /// [`RegistryError::Storage`] when the change cannot be written (then nothing changed).
    #[allow(clippy::type_complexity)]
    pub fn bulk(
        &self,
        op: BulkOp,
        ids: &[String],
        user: &str,
        dry_run: bool,
    ) -> Result<Vec<Result<Entry, RegistryError>>, RegistryError> {
        let run = |state: &mut State| {
            let mut out = Vec::new();
            for id in ids {
                let selector = Selector::Id(id.clone());
                let Ok(i) = find(state, &selector) else {
                    out.push(Err(RegistryError::NotFound(selector)));
                    continue;
                };
                out.push(match op {
                    BulkOp::Enable | BulkOp::Disable => Ok(set_enabled(state, i, op == BulkOp::Enable, user)),
                    BulkOp::Delete => match refuse_file(&state.entries[i]) {
                        Ok(()) => Ok(state.entries.remove(i)),
                        Err(e) => Err(e),
                    },
                });
            }
            Ok(out)
        };
        if dry_run {
            let mut copy = self.read(|state, _| state.clone());
            return run(&mut copy);
        }
        self.change(run)
    }

    /// Imports rule objects (`_import`), written once: each object's outcome in order. A rule
    /// whose `rule_id` exists is replaced when `overwrite` is set (keeping its object id), else
    /// [`RegistryError::Conflict`]; new rules get ids from `new_id`.
    ///
    /// # Errors
    /// [`RegistryError::Storage`] when the change cannot be written (then nothing changed).
    pub fn import(
        &self,
        objects: &[Map<String, Value>],
        overwrite: bool,
        mut new_id: impl FnMut() -> String,
        user: &str,
    ) -> Result<Vec<Result<Imported, RegistryError>>, RegistryError> {
        self.change(|state| {
            let mut out = Vec::new();
            for obj in objects {
                let rule_id = obj.get("rule_id").and_then(Value::as_str).map(str::to_string);
                let existing = rule_id.as_ref().and_then(|r| state.entries.iter().position(|e| e.rule.rule_id == *r));
                out.push(match existing {
                    Some(i) if !overwrite => Err(RegistryError::Conflict(state.entries[i].rule.rule_id.clone())),
                    Some(i) => {
                        let existing = &state.entries[i];
                        match refuse_file(existing)
                            .and_then(|()| replace(existing, api_fields(obj), user, self.origin()))
                        {
                            Ok(updated) => {
                                state.entries[i] = updated.clone();
                                Ok(Imported::Updated(updated))
                            }
                            Err(e) => Err(e),
                        }
                    }
                    None => match new_entry(obj, &new_id(), user, self.origin()) {
                        Ok(entry) => {
                            state.entries.push(entry.clone());
                            Ok(Imported::Created(entry))
                        }
                        Err(e) => Err(e),
                    },
                });
            }
            Ok(out)
        })
    }

    fn origin(&self) -> Origin {
        Origin { path: self.path.clone().unwrap_or_else(|| PathBuf::from(RULES_FILE)), line: None }
    }

    fn read<T>(&self, f: impl FnOnce(&State, &Arc<Vec<Rule>>) -> T) -> T {
        let guard = self.state.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&guard.0, &guard.1)
    }

    /// Runs `f` on a copy of the state; when it succeeds, writes the copy and makes it current.
    fn change<T>(&self, f: impl FnOnce(&mut State) -> Result<T, RegistryError>) -> Result<T, RegistryError> {
        let mut guard = self.state.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut next = guard.0.clone();
        let out = f(&mut next)?;
        if let Some(path) = &self.path {
            write_atomically(path, &serialize(&next))?;
        }
        let snapshot = Arc::new(next.entries.iter().map(|e| e.rule.clone()).collect());
        *guard = (next, snapshot);
        Ok(out)
    }
}

fn find(state: &State, selector: &Selector) -> Result<usize, RegistryError> {
    state
        .entries
        .iter()
        .position(|e| selector.matches(&e.rule))
        .ok_or_else(|| RegistryError::NotFound(selector.clone()))
}

fn immutable(entry: &Entry) -> RegistryError {
    RegistryError::Immutable { rule_id: entry.rule.rule_id.clone(), origin: entry.rule.origin.to_string() }
}

fn refuse_file(entry: &Entry) -> Result<(), RegistryError> {
    if entry.immutable() { Err(immutable(entry)) } else { Ok(()) }
}

fn set_enabled(state: &mut State, i: usize, enabled: bool, user: &str) -> Entry {
    let now = Utc::now();
    let entry = &mut state.entries[i];
    entry.rule.enabled = enabled;
    entry.rule.params.insert("enabled".into(), json!(enabled));
    entry.updated_at = now;
    entry.updated_by = user.to_string();
    if entry.immutable() {
        state.overrides.insert(
            entry.rule.rule_id.clone(),
            FileOverride { enabled, updated_at: now, updated_by: user.to_string() },
        );
    }
    entry.clone()
}

/// The keys of `obj` that the rule API accepts.
fn api_fields(obj: &Map<String, Value>) -> Map<String, Value> {
    obj.iter().filter(|(k, _)| API_FIELDS.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn parse(obj: Map<String, Value>, id: &str, origin: Origin) -> Result<Rule, RegistryError> {
    let mut obj = obj;
    obj.insert("id".into(), json!(id));
    Rule::from_api(&obj, origin).map_err(RegistryError::Invalid)
}

fn new_entry(obj: &Map<String, Value>, id: &str, user: &str, origin: Origin) -> Result<Entry, RegistryError> {
    let rule = parse(api_fields(obj), id, origin)?;
    let now = Utc::now();
    Ok(Entry {
        rule,
        source: Source::Api,
        created_at: now,
        created_by: user.to_string(),
        updated_at: now,
        updated_by: user.to_string(),
        revision: 0,
    })
}

/// `existing` with the content `next`; the revision grows when anything but `enabled` changed.
fn replace(existing: &Entry, next: Map<String, Value>, user: &str, origin: Origin) -> Result<Entry, RegistryError> {
    let rule = parse(next, &existing.rule.id, origin)?;
    let mut before = existing.rule.params.clone();
    let mut after = rule.params.clone();
    before.remove("enabled");
    after.remove("enabled");
    let revision = if before == after { existing.revision } else { existing.revision + 1 };
    Ok(Entry { rule, updated_at: Utc::now(), updated_by: user.to_string(), revision, ..existing.clone() })
}

fn build(
    path: &Path,
    file_rules: Vec<Rule>,
    stored: Vec<(usize, Stored)>,
) -> Result<(State, Vec<String>), RegistryError> {
    let mut state = State::default();
    let mut warnings = Vec::new();
    for (_, item) in &stored {
        if let Stored::FileEnabled { rule_id, enabled, updated_at, updated_by } = item {
            state.overrides.insert(
                rule_id.clone(),
                FileOverride { enabled: *enabled, updated_at: *updated_at, updated_by: updated_by.clone() },
            );
        }
    }
    for mut rule in file_rules {
        let modified = std::fs::metadata(&rule.origin.path)
            .and_then(|m| m.modified())
            .map(DateTime::<Utc>::from)
            .unwrap_or_else(|_| Utc::now());
        let (mut updated_at, mut updated_by) = (modified, rule.origin.path.display().to_string());
        if let Some(o) = state.overrides.get(&rule.rule_id) {
            rule.enabled = o.enabled;
            rule.params.insert("enabled".into(), json!(o.enabled));
            updated_at = o.updated_at;
            updated_by = o.updated_by.clone();
        }
        let created_by = rule.origin.path.display().to_string();
        state.entries.push(Entry {
            rule,
            source: Source::File,
            created_at: modified,
            created_by,
            updated_at,
            updated_by,
            revision: 0,
        });
    }
    let file_ids: HashSet<String> = state.entries.iter().map(|e| e.rule.id.clone()).collect();
    let file_rule_ids: HashSet<String> = state.entries.iter().map(|e| e.rule.rule_id.clone()).collect();
    for (line, item) in stored {
        let Stored::Rule { rule, created_at, created_by, updated_at, updated_by, revision } = &item else { continue };
        let origin = Origin { path: path.to_path_buf(), line: Some(line) };
        let parsed = Rule::from_api(rule, origin).map_err(|errors| {
            RegistryError::Storage(format!(
                "{}:{line}: a stored rule is no longer valid: {}",
                path.display(),
                RegistryError::Invalid(errors)
            ))
        })?;
        if file_rule_ids.contains(&parsed.rule_id) || file_ids.contains(&parsed.id) {
            warnings.push(format!(
                "rule_id \"{}\" ({}) created through the API is hidden by a rules file with the same rule_id or id; \
                 it is kept in {} and runs again once no file provides it",
                parsed.rule_id,
                parsed.name,
                path.display()
            ));
            state.shadowed.push(item.clone());
            continue;
        }
        state.entries.push(Entry {
            rule: parsed,
            source: Source::Api,
            created_at: *created_at,
            created_by: created_by.clone(),
            updated_at: *updated_at,
            updated_by: updated_by.clone(),
            revision: *revision,
        });
    }
    Ok((state, warnings))
}

fn serialize(state: &State) -> String {
    let mut lines: Vec<Stored> = state
        .overrides
        .iter()
        .map(|(rule_id, o)| Stored::FileEnabled {
            rule_id: rule_id.clone(),
            enabled: o.enabled,
            updated_at: o.updated_at,
            updated_by: o.updated_by.clone(),
        })
        .collect();
    for entry in state.entries.iter().filter(|e| !e.immutable()) {
        let mut rule = entry.rule.params.clone();
        rule.insert("id".into(), json!(entry.rule.id));
        rule.insert("rule_id".into(), json!(entry.rule.rule_id));
        rule.insert("enabled".into(), json!(entry.rule.enabled));
        lines.push(Stored::Rule {
            rule,
            created_at: entry.created_at,
            created_by: entry.created_by.clone(),
            updated_at: entry.updated_at,
            updated_by: entry.updated_by.clone(),
            revision: entry.revision,
        });
    }
    lines.extend(state.shadowed.iter().cloned());
    let mut text = String::new();
    for line in lines {
        text.push_str(&serde_json::to_string(&line).unwrap_or_default());
        text.push('\n');
    }
    text
}

/// Writes `text` to `path` so that a crash leaves the old or the new content: a temporary file
/// beside it, fsync, rename over, fsync of the folder.
fn write_atomically(path: &Path, text: &str) -> Result<(), RegistryError> {
    let error =
        |what: &str, p: &Path, e: std::io::Error| RegistryError::Storage(format!("{what} {}: {e}", p.display()));
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| error("creating", dir, e))?;
    let tmp = path.with_extension("ndjson.tmp");
    let mut file = std::fs::File::create(&tmp).map_err(|e| error("creating", &tmp, e))?;
    file.write_all(text.as_bytes()).map_err(|e| error("writing", &tmp, e))?;
    file.sync_all().map_err(|e| error("syncing", &tmp, e))?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(|e| error("replacing", path, e))?;
    if let Ok(d) = std::fs::File::open(dir) {
        // Makes the rename durable; not every platform can sync a folder.
        let _ = d.sync_all();
    }
    Ok(())
}

/// A KQL filter over rules, as `_find`'s `filter` and `_bulk_action`'s `query` give it: field
/// names are those of Kibana's rule saved objects (`alert.attributes.<field>`).
///
/// | field | compared with |
/// |---|---|
/// | `alert.attributes.name` | the name, as text: words, case-insensitive (`.keyword`: the exact name) |
/// | `alert.attributes.enabled`, `alert.attributes.params.immutable` | `true` / `false` |
/// | `alert.attributes.tags` (`.keyword`) | each tag, exactly |
/// | `alert.attributes.createdBy`, `alert.attributes.updatedBy` | the user |
/// | `alert.attributes.interval`, `alert.attributes.schedule.interval` | the interval (`5m`) |
/// | `alert.attributes.alertTypeId` | the rule type id (`siem.esqlRule`) |
/// | `alert.attributes.params.ruleId`, `.params.type`, `.params.severity`, `.params.language`, `.params.index`, `.params.author`, `.params.query` | the rule field, exactly |
/// | `alert.attributes.params.riskScore`, `.params.version`, `.params.maxSignals` | the number (ranges too) |
///
/// Unquoted values may hold `*` wildcards; `field: *` tests that the field has a value.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleFilter(Query);

/// The fields a [`RuleFilter`] understands, for error messages.
pub const FILTER_FIELDS: &[&str] = &[
    "alert.attributes.name",
    "alert.attributes.name.keyword",
    "alert.attributes.enabled",
    "alert.attributes.tags",
    "alert.attributes.tags.keyword",
    "alert.attributes.createdBy",
    "alert.attributes.updatedBy",
    "alert.attributes.interval",
    "alert.attributes.schedule.interval",
    "alert.attributes.alertTypeId",
    "alert.attributes.params.ruleId",
    "alert.attributes.params.immutable",
    "alert.attributes.params.type",
    "alert.attributes.params.severity",
    "alert.attributes.params.language",
    "alert.attributes.params.index",
    "alert.attributes.params.author",
    "alert.attributes.params.query",
    "alert.attributes.params.riskScore",
    "alert.attributes.params.version",
    "alert.attributes.params.maxSignals",
];

enum Values {
    Text(String),
    Keyword(Vec<String>),
    Bool(bool),
    Number(f64),
}

fn field_values(field: &str, entry: &Entry) -> Option<Values> {
    let rule = &entry.rule;
    let one = |s: &str| Values::Keyword(vec![s.to_string()]);
    Some(match field {
        "alert.attributes.name" => Values::Text(rule.name.clone()),
        "alert.attributes.name.keyword" => one(&rule.name),
        "alert.attributes.enabled" => Values::Bool(rule.enabled),
        "alert.attributes.tags" | "alert.attributes.tags.keyword" => Values::Keyword(rule.tags.clone()),
        "alert.attributes.createdBy" => one(&entry.created_by),
        "alert.attributes.updatedBy" => one(&entry.updated_by),
        "alert.attributes.interval" | "alert.attributes.schedule.interval" => one(rule.interval.as_str()),
        "alert.attributes.alertTypeId" => one(rule.rule_type.rule_type_id()),
        "alert.attributes.params.ruleId" => one(&rule.rule_id),
        "alert.attributes.params.immutable" => Values::Bool(entry.immutable()),
        "alert.attributes.params.type" => one(rule.rule_type.as_str()),
        "alert.attributes.params.severity" => one(rule.severity.as_str()),
        "alert.attributes.params.language" => Values::Keyword(rule.language.iter().map(|l| l.to_string()).collect()),
        "alert.attributes.params.index" => Values::Keyword(rule.index.clone()),
        "alert.attributes.params.author" => Values::Keyword(rule.author.clone()),
        "alert.attributes.params.query" => Values::Keyword(rule.query.iter().cloned().collect()),
        "alert.attributes.params.riskScore" => Values::Number(f64::from(rule.risk_score)),
        "alert.attributes.params.version" => Values::Number(f64::from(rule.version)),
        "alert.attributes.params.maxSignals" => Values::Number(f64::from(rule.max_signals)),
        _ => return None,
    })
}

impl RuleFilter {
    /// Parses a filter.
    ///
    /// # Errors
    /// Kibana's KQL syntax error, or a message naming a field or construct that rules cannot be
    /// filtered on.
    pub fn parse(text: &str) -> Result<RuleFilter, String> {
        let query = kql::parse(text).map_err(|e| e.render(text))?;
        check(&query, text)?;
        Ok(RuleFilter(query))
    }

    /// True when `entry` passes the filter.
    pub fn matches(&self, entry: &Entry) -> bool {
        eval(&self.0, entry)
    }
}

fn check(query: &Query, text: &str) -> Result<(), String> {
    let field_ok = |field: &Literal| -> Result<(), String> {
        let name = field.text();
        if field.has_wildcard() || !FILTER_FIELDS.contains(&name.as_str()) {
            return Err(format!("rules cannot be filtered on [{name}]; the fields are: {}", FILTER_FIELDS.join(", ")));
        }
        Ok(())
    };
    match &query.kind {
        QueryKind::MatchAll => Ok(()),
        QueryKind::Or(items) | QueryKind::And(items) => items.iter().try_for_each(|q| check(q, text)),
        QueryKind::Not(inner) => check(inner, text),
        QueryKind::Nested { .. } => {
            Err(format!("nested queries are not supported in rule filters: [{}]", query.span.text(text)))
        }
        QueryKind::Value(_) => Err(format!(
            "a value without a field is not supported in rule filters: [{}]; name a field, e.g. alert.attributes.name: ...",
            query.span.text(text)
        )),
        QueryKind::Range { field, .. } | QueryKind::Field { field, .. } => field_ok(field),
    }
}

fn eval(query: &Query, entry: &Entry) -> bool {
    match &query.kind {
        QueryKind::MatchAll => true,
        QueryKind::Or(items) => items.iter().any(|q| eval(q, entry)),
        QueryKind::And(items) => items.iter().all(|q| eval(q, entry)),
        QueryKind::Not(inner) => !eval(inner, entry),
        QueryKind::Nested { .. } | QueryKind::Value(_) => false,
        QueryKind::Range { field, op, value } => {
            let Some(values) = field_values(&field.text(), entry) else { return false };
            let bound = value.text();
            let cmp = |ord: std::cmp::Ordering| match op {
                RangeOp::Lt => ord.is_lt(),
                RangeOp::Lte => ord.is_le(),
                RangeOp::Gt => ord.is_gt(),
                RangeOp::Gte => ord.is_ge(),
            };
            match values {
                Values::Number(n) => bound.parse::<f64>().ok().and_then(|b| n.partial_cmp(&b)).is_some_and(cmp),
                Values::Keyword(vs) => vs.iter().any(|v| cmp(v.as_str().cmp(bound.as_str()))),
                Values::Text(t) => cmp(t.as_str().cmp(bound.as_str())),
                Values::Bool(_) => false,
            }
        }
        QueryKind::Field { field, value } => {
            let Some(values) = field_values(&field.text(), entry) else { return false };
            eval_value(value, &values)
        }
    }
}

fn eval_value(value: &ValueQuery, values: &Values) -> bool {
    match &value.kind {
        ValueQueryKind::Or(items) => items.iter().any(|v| eval_value(v, values)),
        ValueQueryKind::And(items) => items.iter().all(|v| eval_value(v, values)),
        ValueQueryKind::Not(inner) => !eval_value(inner, values),
        ValueQueryKind::Value(literal) => literal_matches(literal, values),
    }
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

fn glob(parts: &[Part], text: &str) -> bool {
    fn go(parts: &[Part], text: &str) -> bool {
        match parts.split_first() {
            None => text.is_empty(),
            Some((Part::Text(t), rest)) => text.strip_prefix(t.as_str()).is_some_and(|r| go(rest, r)),
            Some((Part::Wildcard, rest)) => {
                text.char_indices().map(|(i, _)| i).chain([text.len()]).any(|i| go(rest, &text[i..]))
            }
        }
    }
    go(parts, text)
}

fn literal_matches(literal: &Literal, values: &Values) -> bool {
    if literal.is_lone_wildcard() {
        return match values {
            Values::Keyword(vs) => !vs.is_empty(),
            _ => true,
        };
    }
    match values {
        Values::Bool(b) => literal.text() == b.to_string(),
        Values::Number(n) => literal.text().parse::<f64>().is_ok_and(|v| v == *n),
        Values::Keyword(vs) => match &literal.kind {
            LiteralKind::Quoted(s) => vs.iter().any(|v| v == s),
            LiteralKind::Unquoted(parts) => vs.iter().any(|v| glob(parts, v)),
        },
        Values::Text(text) => {
            let tokens = words(text);
            match &literal.kind {
                // A phrase: its words in a row.
                LiteralKind::Quoted(s) => {
                    let phrase = words(s);
                    phrase.is_empty() || tokens.windows(phrase.len()).any(|w| w == phrase.as_slice())
                }
                LiteralKind::Unquoted(parts) if literal.has_wildcard() => {
                    let lowered: Vec<Part> = parts
                        .iter()
                        .map(|p| match p {
                            Part::Text(t) => Part::Text(t.to_lowercase()),
                            Part::Wildcard => Part::Wildcard,
                        })
                        .collect();
                    tokens.iter().any(|t| glob(&lowered, t))
                }
                // Any of the words (a match query).
                LiteralKind::Unquoted(_) => words(&literal.text()).iter().any(|w| tokens.contains(w)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(rule_id: &str, name: &str) -> Map<String, Value> {
        json!({"name": name, "description": "d", "type": "esql", "language": "esql", "severity": "low",
            "risk_score": 21, "rule_id": rule_id, "query": "FROM logs-* | LIMIT 1", "interval": "1m",
            "tags": ["Domain: Endpoint", "OS: Linux"], "unknown_field": 1})
        .as_object()
        .expect("object")
        .clone()
    }

    fn file_rule(rule_id: &str) -> Rule {
        let mut o = obj(rule_id, "File rule");
        o.remove("unknown_field");
        Rule::from_api(&o, Origin { path: PathBuf::from("rules/x.toml"), line: None }).expect("rule")
    }

    #[test]
    fn changes_persist_and_reload() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (registry, warnings) = RuleRegistry::open(dir.path(), vec![file_rule("f1")]).expect("open");
        assert!(warnings.is_empty());
        let created = registry.create(&obj("a1", "Api rule"), "id-1", "alice").expect("create");
        assert_eq!(created.rule.rule_id, "a1");
        assert!(!created.rule.params.contains_key("unknown_field"), "unknown fields are dropped");
        assert_eq!(registry.create(&obj("a1", "Again"), "id-2", "alice"), Err(RegistryError::Conflict("a1".into())));
        assert_eq!(registry.create(&obj("f1", "Again"), "id-2", "alice"), Err(RegistryError::Conflict("f1".into())));
        let patched = registry
            .patch(&Selector::RuleId("a1".into()), json!({"name": "Renamed"}).as_object().expect("o"), "bob")
            .expect("patch");
        assert_eq!((patched.rule.name.as_str(), patched.revision, patched.updated_by.as_str()), ("Renamed", 1, "bob"));
        let file = registry.get(&Selector::RuleId("f1".into())).expect("file rule");
        let err = registry
            .patch(&Selector::RuleId("f1".into()), json!({"name": "x"}).as_object().expect("o"), "bob")
            .expect_err("immutable");
        assert!(err.to_string().contains("immutable"), "{err}");
        let disabled = registry.bulk(BulkOp::Disable, std::slice::from_ref(&file.rule.id), "bob", false).expect("bulk");
        assert!(matches!(&disabled[0], Ok(e) if !e.rule.enabled));
        assert!(matches!(registry.delete(&Selector::RuleId("f1".into())), Err(RegistryError::Immutable { .. })));
        assert_eq!(registry.snapshot().len(), 2);

        let (reopened, _) = RuleRegistry::open(dir.path(), vec![file_rule("f1")]).expect("reopen");
        let entries = reopened.entries();
        assert_eq!(entries.len(), 2);
        assert!(!entries[0].rule.enabled, "the file rule stays disabled");
        assert_eq!(entries[1].rule.name, "Renamed");
        assert_eq!(entries[1].rule.id, "id-1");
        assert_eq!(entries[1].revision, 1);
        assert_eq!(entries[1].created_by, "alice");
        reopened.delete(&Selector::Id("id-1".into())).expect("delete");
        assert_eq!(
            reopened.delete(&Selector::Id("id-1".into())),
            Err(RegistryError::NotFound(Selector::Id("id-1".into())))
        );
    }

    #[test]
    fn a_file_rule_hides_an_api_rule_with_its_rule_id() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (registry, _) = RuleRegistry::open(dir.path(), Vec::new()).expect("open");
        registry.create(&obj("x1", "Api"), "id-x", "alice").expect("create");
        let (hidden, warnings) = RuleRegistry::open(dir.path(), vec![file_rule("x1")]).expect("open");
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(hidden.entries().len(), 1);
        assert!(hidden.entries()[0].immutable());
        // a change keeps the hidden rule in the file
        hidden.bulk(BulkOp::Disable, &[hidden.entries()[0].rule.id.clone()], "bob", false).expect("bulk");
        let (back, warnings) = RuleRegistry::open(dir.path(), Vec::new()).expect("open");
        assert!(warnings.is_empty());
        assert_eq!(back.entries().len(), 1);
        assert_eq!(back.entries()[0].rule.name, "Api");
    }

    #[test]
    fn updates_keep_ids_and_enabled() {
        let registry = RuleRegistry::ephemeral(Vec::new());
        registry.create(&obj("u1", "One"), "id-u", "alice").expect("create");
        registry.bulk(BulkOp::Disable, &["id-u".to_string()], "alice", false).expect("disable");
        let mut next = obj("other", "Two");
        next.remove("tags");
        let updated = registry.update(&Selector::Id("id-u".into()), &next, "bob").expect("update");
        assert_eq!((updated.rule.rule_id.as_str(), updated.rule.id.as_str()), ("u1", "id-u"));
        assert!(!updated.rule.enabled, "enabled keeps its value");
        assert!(updated.rule.tags.is_empty(), "other fields are replaced");
        let invalid = registry.update(&Selector::Id("id-u".into()), &Map::new(), "bob").expect_err("invalid");
        assert!(invalid.to_string().contains("name: is required"), "{invalid}");
        let dry = registry.bulk(BulkOp::Delete, &["id-u".to_string(), "nope".to_string()], "bob", true).expect("dry");
        assert!(dry[0].is_ok() && dry[1].is_err());
        assert_eq!(registry.entries().len(), 1, "a dry run changes nothing");
    }

    #[test]
    fn filters_follow_kibana_fields() {
        let registry = RuleRegistry::ephemeral(vec![file_rule("f1")]);
        registry.create(&obj("a1", "Suspicious PowerShell Download"), "id-1", "alice").expect("create");
        let entries = registry.entries();
        let hits = |filter: &str| -> Vec<String> {
            let f = RuleFilter::parse(filter).expect(filter);
            entries.iter().filter(|e| f.matches(e)).map(|e| e.rule.rule_id.clone()).collect()
        };
        assert_eq!(hits("alert.attributes.name: powershell"), ["a1"]);
        assert_eq!(hits("alert.attributes.name: \"powershell download\""), ["a1"]);
        assert_eq!(hits("alert.attributes.name: power*"), ["a1"]);
        assert_eq!(hits("alert.attributes.params.immutable: true"), ["f1"]);
        assert_eq!(hits("alert.attributes.tags: \"OS: Linux\" and alert.attributes.enabled: true").len(), 2);
        assert_eq!(hits("not alert.attributes.params.ruleId: (f1 or zz)"), ["a1"]);
        assert_eq!(hits("alert.attributes.params.riskScore >= 21").len(), 2);
        assert_eq!(hits("").len(), 2);
        let err = RuleFilter::parse("alert.attributes.params.note: x").expect_err("unknown field");
        assert!(err.contains("cannot be filtered on [alert.attributes.params.note]"), "{err}");
        assert!(RuleFilter::parse("powershell").is_err());
        assert!(RuleFilter::parse("alert.attributes.name: (").is_err());
    }
}
