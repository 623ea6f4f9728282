//! Composable index templates, as Elasticsearch's `_index_template` API defines them: index
//! patterns, a priority, `data_stream: {}`, and a `template` with `mappings`, `settings` and a
//! data stream `lifecycle`. When an index or data stream is created (by its first document), the
//! matching template with the highest priority decides whether it is a data stream, maps the
//! template's fields before any document is read, and gives it its lifecycle.
//!
//! Elasticsearch's built-in `logs`, `metrics`, `traces` and `synthetics` templates
//! (`<type>-*-*`, priority 100, data streams) are implicit: they apply when no user template of a
//! higher priority matches, and they are not listed.
//!
//! The templates are kept in `<data>/templates.json`, replaced atomically on every change.

use crate::mapping::FieldMapping;
use crate::names::{DATA_STREAM_TYPES, IndexKind};
use crate::settings::{IndexSettings, Lifecycle, token};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The templates file's name in the data folder.
pub const TEMPLATES: &str = "templates.json";

/// The priority of the built-in data stream templates.
pub const BUILTIN_PRIORITY: i64 = 100;

/// Why a template request was refused, in Elasticsearch's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    /// The HTTP status (400, 404, 500).
    pub status: u16,
    /// Elasticsearch's error type (`invalid_index_template_exception`, …).
    pub kind: &'static str,
    /// The message.
    pub reason: String,
}

impl TemplateError {
    fn new(status: u16, kind: &'static str, reason: impl Into<String>) -> TemplateError {
        TemplateError { status, kind, reason: reason.into() }
    }

    fn parse(reason: impl Into<String>) -> TemplateError {
        TemplateError::new(400, "x_content_parse_exception", reason)
    }

    fn illegal(reason: impl Into<String>) -> TemplateError {
        TemplateError::new(400, "illegal_argument_exception", reason)
    }

    fn mapper(reason: impl fmt::Display) -> TemplateError {
        TemplateError::new(400, "mapper_parsing_exception", format!("Failed to parse mapping: {reason}"))
    }

    fn invalid(name: &str, problems: &[String]) -> TemplateError {
        let mut cause = "Validation Failed: ".to_string();
        for (i, problem) in problems.iter().enumerate() {
            cause.push_str(&format!("{}: {problem};", i + 1));
        }
        TemplateError::new(
            400,
            "invalid_index_template_exception",
            format!("index_template [{name}] invalid, cause [{cause}]"),
        )
    }

    /// The store failed while saving the templates (500).
    pub(crate) fn store(error: &crate::StoreError) -> TemplateError {
        TemplateError::new(500, "store_exception", error.to_string())
    }
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.reason)
    }
}

impl std::error::Error for TemplateError {}

/// One composable index template.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexTemplate {
    /// Its name.
    pub name: String,
    /// The index names it applies to (`*` wildcards).
    pub index_patterns: Vec<String>,
    /// Its priority (`None`: 0).
    pub priority: Option<i64>,
    /// True when it creates data streams (`data_stream: {}`).
    pub data_stream: bool,
    /// The lifecycle it gives data streams (`template.lifecycle`).
    pub lifecycle: Option<Lifecycle>,
    /// The fields it maps (`template.mappings.properties`, flattened to dotted names).
    pub fields: BTreeMap<String, FieldMapping>,
    /// `index.mapping.total_fields.limit` from `template.settings`.
    pub total_fields_limit: Option<usize>,
    /// The template as `GET _index_template` returns it.
    body: Value,
}

/// Elasticsearch's field types that ES|QL reads (see [`esql::types::EsType::from_mapping`]),
/// plus those it reports as `unsupported` (their values are not stored).
const FIELD_TYPES: [&str; 43] = [
    "boolean",
    "byte",
    "short",
    "integer",
    "long",
    "unsigned_long",
    "float",
    "half_float",
    "scaled_float",
    "double",
    "keyword",
    "constant_keyword",
    "wildcard",
    "text",
    "match_only_text",
    "ip",
    "version",
    "date",
    "date_nanos",
    "geo_point",
    "flattened",
    "binary",
    "geo_shape",
    "point",
    "shape",
    "histogram",
    "dense_vector",
    "sparse_vector",
    "rank_feature",
    "rank_features",
    "integer_range",
    "float_range",
    "long_range",
    "double_range",
    "date_range",
    "ip_range",
    "completion",
    "search_as_you_type",
    "token_count",
    "aggregate_metric_double",
    "counted_keyword",
    "murmur3",
    "annotated_text",
];

/// Elasticsearch field types that change how documents are stored and that Saker does not have.
const UNSUPPORTED_TYPES: [&str; 6] = ["nested", "alias", "join", "passthrough", "percolator", "semantic_text"];

/// Field parameters that tune indexing in Elasticsearch and change nothing in what ES|QL reads
/// from Saker: accepted and kept.
const INERT_FIELD_PARAMS: [&str; 14] = [
    "ignore_above",
    "index",
    "doc_values",
    "store",
    "norms",
    "ignore_malformed",
    "eager_global_ordinals",
    "index_options",
    "similarity",
    "scaling_factor",
    "meta",
    "time_series_dimension",
    "time_series_metric",
    "coerce",
];

/// Index settings accepted in templates. They are kept and returned; only
/// `index.mapping.total_fields.limit` changes what Saker does.
const KNOWN_SETTINGS: [&str; 26] = [
    "index.number_of_shards",
    "index.number_of_replicas",
    "index.auto_expand_replicas",
    "index.refresh_interval",
    "index.codec",
    "index.hidden",
    "index.default_pipeline",
    "index.final_pipeline",
    "index.max_result_window",
    "index.priority",
    "index.mode",
    "index.mapping.total_fields.limit",
    "index.mapping.total_fields.ignore_dynamic_beyond_limit",
    "index.mapping.ignore_malformed",
    "index.mapping.coerce",
    "index.mapping.depth.limit",
    "index.mapping.nested_fields.limit",
    "index.mapping.field_name_length.limit",
    "index.query.default_field",
    "index.lifecycle.name",
    "index.lifecycle.rollover_alias",
    "index.lifecycle.prefer_ilm",
    "index.lifecycle.origination_date",
    "index.lifecycle.parse_origination_date",
    "index.translog.durability",
    "index.unassigned.node_left.delayed_timeout",
];

/// Setting prefixes accepted in templates (kept and returned, no effect).
const KNOWN_SETTING_PREFIXES: [&str; 7] = [
    "index.sort.",
    "index.routing.",
    "index.analysis.",
    "index.similarity.",
    "index.blocks.",
    "index.indexing.slowlog.",
    "index.search.slowlog.",
];

impl IndexTemplate {
    /// Parses and checks a `PUT _index_template/<name>` body, as Elasticsearch's parser and its
    /// request validation do; checks against the other templates are [`Templates::put`]'s.
    ///
    /// # Errors
    /// A body Elasticsearch refuses, with its error type and message; and what Saker does not
    /// support (aliases, component templates, multi-fields, dynamic templates, …), named.
    pub fn parse(name: &str, body: &Value) -> Result<IndexTemplate, TemplateError> {
        let Value::Object(object) = body else {
            return Err(TemplateError::parse("[index_template] the body must be a JSON object"));
        };
        const KNOWN: [&str; 10] = [
            "index_patterns",
            "template",
            "composed_of",
            "priority",
            "version",
            "_meta",
            "data_stream",
            "allow_auto_create",
            "ignore_missing_component_templates",
            "deprecated",
        ];
        if let Some(unknown) = object.keys().find(|k| !KNOWN.contains(&k.as_str())) {
            return Err(TemplateError::parse(format!("[index_template] unknown field [{unknown}]")));
        }
        let mut out = Map::new();
        let patterns = match object.get("index_patterns") {
            None | Some(Value::Null) => return Err(TemplateError::illegal("Required [index_patterns]")),
            Some(value) => string_list("index_template", "index_patterns", value)?,
        };
        out.insert("index_patterns".into(), json!(patterns));
        let mut template = IndexTemplate {
            name: name.to_string(),
            index_patterns: patterns,
            priority: None,
            data_stream: false,
            lifecycle: None,
            fields: BTreeMap::new(),
            total_fields_limit: None,
            body: Value::Null,
        };
        let mut settings_problems = Vec::new();
        if let Some(inner) = object.get("template").filter(|v| !v.is_null()) {
            let Value::Object(inner) = inner else {
                return Err(TemplateError::parse(format!(
                    "[index_template] template doesn't support values of type: {}",
                    token(inner)
                )));
            };
            let mut inner_out = Map::new();
            for (key, value) in inner {
                match key.as_str() {
                    "settings" => {
                        let flat = settings_of(value)?;
                        for (setting, value) in &flat {
                            if !KNOWN_SETTINGS.contains(&setting.as_str())
                                && !KNOWN_SETTING_PREFIXES.iter().any(|p| setting.starts_with(p))
                            {
                                settings_problems.push(format!(
                                    "unknown setting [{setting}] please check that any required plugins are installed, or check the breaking changes documentation for removed settings"
                                ));
                            }
                            if setting == "index.mapping.total_fields.limit" {
                                let text = value.as_str().unwrap_or_default();
                                match text.parse::<usize>() {
                                    Ok(limit) => template.total_fields_limit = Some(limit),
                                    Err(_) => settings_problems.push(format!(
                                        "Failed to parse value [{text}] for setting [index.mapping.total_fields.limit]"
                                    )),
                                }
                            }
                        }
                        inner_out.insert("settings".into(), nest_settings(&flat));
                    }
                    "mappings" => {
                        let Value::Object(mappings) = value else {
                            return Err(TemplateError::parse(format!(
                                "[template] mappings doesn't support values of type: {}",
                                token(value)
                            )));
                        };
                        // `{"_doc": {...}}` is the same as `{...}`
                        let mappings = match mappings.get("_doc") {
                            Some(Value::Object(doc)) if mappings.len() == 1 => doc,
                            _ => mappings,
                        };
                        template.fields = fields_of(mappings)?;
                        if !mappings.is_empty() {
                            inner_out.insert("mappings".into(), Value::Object(mappings.clone()));
                        }
                    }
                    "aliases" => match value {
                        Value::Object(aliases) if aliases.is_empty() => {
                            inner_out.insert("aliases".into(), json!({}));
                        }
                        Value::Object(_) => {
                            return Err(TemplateError::illegal(
                                "[template.aliases] is not supported by Saker: it has no index aliases",
                            ));
                        }
                        other => {
                            return Err(TemplateError::parse(format!(
                                "[template] aliases doesn't support values of type: {}",
                                token(other)
                            )));
                        }
                    },
                    "lifecycle" => {
                        if !value.is_null() {
                            let lifecycle = Lifecycle::from_json("lifecycle", value).map_err(TemplateError::parse)?;
                            inner_out.insert("lifecycle".into(), lifecycle.to_json());
                            template.lifecycle = Some(lifecycle);
                        }
                    }
                    "data_stream_options" => {
                        return Err(TemplateError::illegal(
                            "[template.data_stream_options] is not supported by Saker: it has no failure store",
                        ));
                    }
                    other => return Err(TemplateError::parse(format!("[template] unknown field [{other}]"))),
                }
            }
            out.insert("template".into(), Value::Object(inner_out));
        }
        let mut missing_components = Vec::new();
        if let Some(value) = object.get("composed_of").filter(|v| !v.is_null()) {
            let components = string_list("index_template", "composed_of", value)?;
            let ignored = match object.get("ignore_missing_component_templates").filter(|v| !v.is_null()) {
                Some(value) => string_list("index_template", "ignore_missing_component_templates", value)?,
                None => Vec::new(),
            };
            // Saker has no component templates: every one named is missing
            missing_components = components.iter().filter(|c| !ignored.contains(c)).cloned().collect();
            out.insert("composed_of".into(), json!(components));
        }
        if let Some(value) = object.get("priority").filter(|v| !v.is_null()) {
            let priority = long("priority", value)?;
            out.insert("priority".into(), json!(priority));
            template.priority = Some(priority);
        }
        if let Some(value) = object.get("version").filter(|v| !v.is_null()) {
            out.insert("version".into(), json!(long("version", value)?));
        }
        if let Some(value) = object.get("_meta").filter(|v| !v.is_null()) {
            if !value.is_object() {
                return Err(TemplateError::parse(format!(
                    "[index_template] _meta doesn't support values of type: {}",
                    token(value)
                )));
            }
            out.insert("_meta".into(), value.clone());
        }
        if let Some(value) = object.get("data_stream").filter(|v| !v.is_null()) {
            let Value::Object(options) = value else {
                return Err(TemplateError::parse(format!(
                    "[index_template] data_stream doesn't support values of type: {}",
                    token(value)
                )));
            };
            let mut hidden = false;
            let mut custom_routing = false;
            for (key, value) in options {
                let flag = match value {
                    Value::Bool(b) => *b,
                    other => {
                        return Err(TemplateError::parse(format!(
                            "[data_stream_template] {key} doesn't support values of type: {}",
                            token(other)
                        )));
                    }
                };
                match key.as_str() {
                    "hidden" => hidden = flag,
                    "allow_custom_routing" => custom_routing = flag,
                    other => {
                        return Err(TemplateError::parse(format!("[data_stream_template] unknown field [{other}]")));
                    }
                }
            }
            if hidden {
                return Err(TemplateError::illegal(
                    "[data_stream.hidden] is not supported by Saker: hidden data streams are those whose name starts with `.`",
                ));
            }
            out.insert("data_stream".into(), json!({"hidden": hidden, "allow_custom_routing": custom_routing}));
            template.data_stream = true;
        }
        for key in ["allow_auto_create", "deprecated"] {
            match object.get(key) {
                None | Some(Value::Null) => {}
                Some(Value::Bool(b)) => {
                    if key == "allow_auto_create" || *b {
                        out.insert(key.into(), json!(b));
                    }
                }
                Some(other) => {
                    return Err(TemplateError::parse(format!(
                        "[index_template] {key} doesn't support values of type: {}",
                        token(other)
                    )));
                }
            }
        }
        if let Some(value) = object.get("ignore_missing_component_templates").filter(|v| !v.is_null()) {
            out.insert(
                "ignore_missing_component_templates".into(),
                json!(string_list("index_template", "ignore_missing_component_templates", value)?),
            );
        }
        // the request's own validation
        let mut request_problems = Vec::new();
        if template.priority.is_some_and(|p| p < 0) {
            request_problems.push("index template priority must be >= 0".to_string());
        }
        if template.index_patterns.iter().any(|p| p == "*")
            && out.get("template").and_then(|t| t.pointer("/settings/index/hidden")).is_some()
        {
            request_problems.push("global composable templates may not specify the setting index.hidden".to_string());
        }
        if !request_problems.is_empty() {
            let mut reason = "Validation Failed: ".to_string();
            for (i, problem) in request_problems.iter().enumerate() {
                reason.push_str(&format!("{}: {problem};", i + 1));
            }
            return Err(TemplateError::new(400, "action_request_validation_exception", reason));
        }
        if !missing_components.is_empty() {
            return Err(TemplateError::new(
                400,
                "invalid_index_template_exception",
                format!(
                    "index_template [{name}] invalid, cause [index template [{name}] specifies component templates {} that do not exist]",
                    java_list(&missing_components)
                ),
            ));
        }
        let mut problems = name_problems(name, &template.index_patterns);
        problems.extend(settings_problems);
        if !problems.is_empty() {
            return Err(TemplateError::invalid(name, &problems));
        }
        if template.lifecycle.is_some() && !template.data_stream {
            return Err(TemplateError::illegal(format!(
                "index template [{name}] specifies lifecycle configuration that can only be used in combination with a data stream"
            )));
        }
        if template.data_stream {
            match template.fields.get(crate::segment::TIME_FIELD) {
                None => {
                    template.fields.insert(crate::segment::TIME_FIELD.to_string(), FieldMapping::new("date"));
                }
                Some(field) if field.mapping == "date" => {}
                Some(field) if field.mapping == "date_nanos" => {
                    return Err(TemplateError::illegal(format!(
                        "composable template [{name}] maps the data stream timestamp field [@timestamp] as [date_nanos]; Saker keeps data stream timestamps as [date] (milliseconds)"
                    )));
                }
                Some(field) => {
                    return Err(TemplateError::illegal(format!(
                        "composable template [{name}] template after composition is invalid: data stream timestamp field [@timestamp] is of type [{}], but [date,date_nanos] is expected",
                        field.mapping
                    )));
                }
            }
        }
        template.body = Value::Object(out);
        Ok(template)
    }

    /// The template as `GET _index_template` returns it (`index_template`).
    pub fn to_json(&self) -> &Value {
        &self.body
    }

    /// The priority, 0 when not given.
    pub fn priority_or_zero(&self) -> i64 {
        self.priority.unwrap_or(0)
    }

    /// True when one of the index patterns matches `index`.
    pub fn matches(&self, index: &str) -> bool {
        self.index_patterns.iter().any(|p| glob(p, index))
    }

    /// The settings and fields an index created from this template gets.
    fn apply(&self, index: &str) -> (IndexSettings, Vec<(String, FieldMapping)>) {
        let mut settings = IndexSettings {
            data_stream: self.data_stream,
            template: Some(self.name.clone()),
            lifecycle: self.lifecycle.clone(),
            total_fields_limit: self.total_fields_limit,
        };
        if !self.data_stream {
            settings.lifecycle = None;
        }
        // a data stream named `<type>-<dataset>-<namespace>` has its `data_stream.*` constants
        // from the name; a template mapping of them keeps its type but not its value
        let from_name = self.data_stream && IndexKind::of(index).is_data_stream();
        let fields = self
            .fields
            .iter()
            .filter(|(name, _)| !(from_name && name.starts_with("data_stream.")))
            .map(|(name, field)| (name.clone(), field.clone()))
            .collect();
        (settings, fields)
    }
}

/// One of Elasticsearch's built-in data stream templates (`logs` for `logs-*-*`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Builtin {
    name: &'static str,
    pattern: String,
}

fn builtins() -> Vec<Builtin> {
    DATA_STREAM_TYPES.iter().map(|t| Builtin { name: t, pattern: format!("{t}-*-*") }).collect()
}

/// A candidate template for an index name: a user template or a built-in one.
#[derive(Debug, Clone, Copy)]
enum Candidate<'a> {
    User(&'a IndexTemplate),
    Builtin,
}

/// The templates of a store.
#[derive(Debug, Clone, Default)]
pub(crate) struct Templates {
    templates: BTreeMap<String, IndexTemplate>,
}

impl Templates {
    /// Reads `templates.json` (a map of name to body); no file is no templates.
    pub fn load(path: &std::path::Path) -> Result<Templates, crate::StoreError> {
        let Some(bodies) = crate::segment::read_json::<BTreeMap<String, Value>>(path)? else {
            return Ok(Templates::default());
        };
        let mut templates = BTreeMap::new();
        for (name, body) in bodies {
            let template = IndexTemplate::parse(&name, &body).map_err(|e| crate::StoreError::Corrupt {
                path: path.to_path_buf(),
                message: format!("template [{name}]: {e}"),
            })?;
            templates.insert(name, template);
        }
        Ok(Templates { templates })
    }

    /// Writes `templates.json` atomically.
    pub fn save(&self, path: &std::path::Path) -> Result<(), crate::StoreError> {
        let bodies: BTreeMap<&String, &Value> = self.templates.iter().map(|(n, t)| (n, &t.body)).collect();
        crate::segment::write_json(path, &bodies)
    }

    /// Every template, by name.
    pub fn all(&self) -> impl Iterator<Item = &IndexTemplate> {
        self.templates.values()
    }

    /// The templates that match `index`, highest priority first (a built-in one as `Builtin`).
    fn candidates(&self, index: &str) -> Vec<(i64, Candidate<'_>)> {
        let mut out: Vec<(i64, Candidate<'_>)> = self
            .templates
            .values()
            .filter(|t| t.matches(index))
            .map(|t| (t.priority_or_zero(), Candidate::User(t)))
            .collect();
        if builtins().iter().any(|b| glob(&b.pattern, index)) && IndexKind::of(index).is_data_stream() {
            out.push((BUILTIN_PRIORITY, Candidate::Builtin));
        }
        out.sort_by_key(|(priority, _)| std::cmp::Reverse(*priority));
        out
    }

    /// The settings and template fields of a new index named `index`: those of the matching
    /// template with the highest priority, else the built-in ones.
    pub fn resolve(&self, index: &str) -> (IndexSettings, Vec<(String, FieldMapping)>) {
        match self.candidates(index).first() {
            Some((_, Candidate::User(template))) => template.apply(index),
            _ => (IndexSettings::builtin(index), Vec::new()),
        }
    }

    /// Whether the templates give `index` a data stream template as its winner.
    fn has_data_stream_template(&self, index: &str) -> bool {
        match self.candidates(index).first() {
            Some((_, Candidate::User(t))) => t.data_stream,
            Some((_, Candidate::Builtin)) => true,
            None => false,
        }
    }

    /// Adds or replaces a template, after Elasticsearch's checks against the others and against
    /// the existing `data_streams`. Returns the previous state, for rolling back.
    ///
    /// # Errors
    /// `create` and the template exists; another template with overlapping patterns has the same
    /// priority; data streams would no longer match a data stream template.
    pub fn put(&mut self, template: IndexTemplate, create: bool, data_streams: &[String]) -> Result<(), TemplateError> {
        let name = template.name.clone();
        if create && self.templates.contains_key(&name) {
            return Err(TemplateError::illegal(format!("index template [{name}] already exists")));
        }
        let priority = template.priority_or_zero();
        let mut overlaps: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for other in self.templates.values().filter(|t| t.name != name && t.priority_or_zero() == priority) {
            if patterns_overlap(&template.index_patterns, &other.index_patterns) {
                overlaps.insert(other.name.clone(), other.index_patterns.clone());
            }
        }
        if priority == BUILTIN_PRIORITY {
            for builtin in builtins() {
                if patterns_overlap(&template.index_patterns, std::slice::from_ref(&builtin.pattern)) {
                    overlaps.insert(builtin.name.to_string(), vec![builtin.pattern.clone()]);
                }
            }
        }
        if !overlaps.is_empty() {
            let names: Vec<&str> = overlaps.keys().map(String::as_str).collect();
            let details: Vec<String> = overlaps.iter().map(|(n, p)| format!("{n} => {}", java_list(p))).collect();
            return Err(TemplateError::illegal(format!(
                "index template [{name}] has index patterns {} matching patterns from existing templates [{}] with patterns ({}) that have the same priority [{priority}], multiple index templates may not match during index creation, please use a different priority",
                java_list(&template.index_patterns),
                names.join(","),
                details.join(",")
            )));
        }
        let unreferenced = |templates: &Templates| -> BTreeSet<String> {
            data_streams.iter().filter(|ds| !templates.has_data_stream_template(ds)).cloned().collect()
        };
        let before = unreferenced(self);
        let mut updated = self.clone();
        updated.templates.insert(name.clone(), template.clone());
        let after = unreferenced(&updated);
        if after.len() > before.len() {
            let priority = template.priority.map_or("null".to_string(), |p| p.to_string());
            return Err(TemplateError::illegal(format!(
                "composable template [{name}] with index patterns {}, priority [{priority}] {}would cause data streams {} to no longer match a data stream template",
                java_list(&template.index_patterns),
                if template.data_stream { "" } else { "and no data stream configuration " },
                java_list(&after.into_iter().collect::<Vec<_>>())
            )));
        }
        *self = updated;
        Ok(())
    }

    /// Removes the templates `names` names: a comma-separated list of names, or one name or
    /// `*` pattern, as `DELETE _index_template/<names>`.
    ///
    /// # Errors
    /// `index_template_missing_exception` (404) for a name (or a pattern other than `*`) that
    /// matches nothing; `illegal_argument_exception` when a data stream would be left with no
    /// template.
    pub fn remove(&mut self, names: &str, data_streams: &[String]) -> Result<Vec<String>, TemplateError> {
        let parts: Vec<&str> = names.split(',').map(str::trim).filter(|p| !p.is_empty()).collect();
        let mut chosen: BTreeSet<String> = BTreeSet::new();
        if parts.len() > 1 {
            let missing: Vec<&str> = parts.iter().copied().filter(|p| !self.templates.contains_key(*p)).collect();
            if !missing.is_empty() {
                return Err(missing_template(&missing.join(",")));
            }
            chosen.extend(parts.iter().map(|p| p.to_string()));
        } else {
            let name = parts.first().copied().unwrap_or_default();
            chosen.extend(self.templates.keys().filter(|t| glob(name, t)).cloned());
            if chosen.is_empty() {
                if name == "*" {
                    return Ok(Vec::new());
                }
                return Err(missing_template(name));
            }
        }
        // data streams that only the removed templates match
        let in_use: BTreeSet<String> = data_streams
            .iter()
            .filter(|ds| {
                let candidates = self.candidates(ds);
                let matched =
                    candidates.iter().any(|(_, c)| matches!(c, Candidate::User(t) if chosen.contains(&t.name)));
                matched && candidates.iter().all(|(_, c)| matches!(c, Candidate::User(t) if chosen.contains(&t.name)))
            })
            .cloned()
            .collect();
        if !in_use.is_empty() {
            return Err(TemplateError::illegal(format!(
                "unable to remove composable templates {} as they are in use by a data streams {}",
                java_list(&chosen.iter().cloned().collect::<Vec<_>>()),
                java_list(&in_use.into_iter().collect::<Vec<_>>())
            )));
        }
        for name in &chosen {
            self.templates.remove(name);
        }
        Ok(chosen.into_iter().collect())
    }
}

fn missing_template(name: &str) -> TemplateError {
    TemplateError::new(404, "index_template_missing_exception", format!("index_template [{name}] missing"))
}

/// A list as Java's `List.toString` writes it: `[a, b]`.
fn java_list(items: &[String]) -> String {
    format!("[{}]", items.join(", "))
}

/// A string or an array of strings.
fn string_list(owner: &str, field: &str, value: &Value) -> Result<Vec<String>, TemplateError> {
    let unsupported =
        |v: &Value| TemplateError::parse(format!("[{owner}] {field} doesn't support values of type: {}", token(v)));
    match value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                Value::Number(n) => Ok(n.to_string()),
                Value::Bool(b) => Ok(b.to_string()),
                other => Err(unsupported(other)),
            })
            .collect(),
        other => Err(unsupported(other)),
    }
}

/// A whole number (or a string of one), as Elasticsearch's `declareLong`.
fn long(field: &str, value: &Value) -> Result<i64, TemplateError> {
    let fail = || TemplateError::parse(format!("[index_template] failed to parse field [{field}]"));
    match value {
        Value::Number(n) => n.as_i64().ok_or_else(fail),
        Value::String(s) => s.trim().parse().map_err(|_| fail()),
        other => Err(TemplateError::parse(format!(
            "[index_template] {field} doesn't support values of type: {}",
            token(other)
        ))),
    }
}

/// The checks of Elasticsearch's `MetadataIndexTemplateService.validate` on the name and patterns.
fn name_problems(name: &str, patterns: &[String]) -> Vec<String> {
    let mut problems = Vec::new();
    for (bad, what) in [(" ", "a space"), (",", "a ','"), ("#", "a '#'"), ("*", "a '*'")] {
        if name.contains(bad) {
            problems.push(format!("name must not contain {what}"));
        }
    }
    if name.starts_with('_') {
        problems.push("name must not start with '_'".to_string());
    }
    if name.to_lowercase() != name {
        problems.push("name must be lower cased".to_string());
    }
    for pattern in patterns {
        if pattern.contains(' ') {
            problems.push(format!("index_patterns [{pattern}] must not contain a space"));
        }
        if pattern.contains(',') {
            problems.push(format!("index_pattern [{pattern}] must not contain a ','"));
        }
        if pattern.contains('#') {
            problems.push(format!("index_pattern [{pattern}] must not contain a '#'"));
        }
        if pattern.contains(':') {
            problems.push(format!("index_pattern [{pattern}] must not contain a ':'"));
        }
        if pattern.starts_with('_') {
            problems.push(format!("index_pattern [{pattern}] must not start with '_'"));
        }
        if pattern.contains(['\\', '/', '?', '"', '<', '>', '|', ' ', ',']) {
            problems.push(format!(
                "index_pattern [{pattern}] must not contain the following characters [ , \", *, \\, <, |, ,, >, /, ?]"
            ));
        }
    }
    problems
}

/// Template settings as dotted `index.*` keys with string values (arrays of strings stay
/// arrays), as Elasticsearch normalizes them.
fn settings_of(value: &Value) -> Result<BTreeMap<String, Value>, TemplateError> {
    fn walk(prefix: &str, value: &Value, out: &mut BTreeMap<String, Value>) {
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    let name = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                    walk(&name, value, out);
                }
            }
            Value::Array(items) => {
                let strings = items.iter().map(|v| json!(scalar_string(v))).collect();
                out.insert(prefix.to_string(), Value::Array(strings));
            }
            other => {
                out.insert(prefix.to_string(), json!(scalar_string(other)));
            }
        }
    }
    if !value.is_object() {
        return Err(TemplateError::parse(format!(
            "[template] settings doesn't support values of type: {}",
            token(value)
        )));
    }
    let mut flat = BTreeMap::new();
    walk("", value, &mut flat);
    Ok(flat
        .into_iter()
        .map(|(key, value)| if key.starts_with("index.") { (key, value) } else { (format!("index.{key}"), value) })
        .collect())
}

fn scalar_string(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "null".to_string(),
        other => other.to_string(),
    }
}

/// Dotted settings as nested objects, as Elasticsearch writes settings.
fn nest_settings(flat: &BTreeMap<String, Value>) -> Value {
    fn insert(node: &mut Map<String, Value>, parts: &[&str], value: &Value) {
        match parts {
            [] => {}
            [leaf] => {
                node.insert(leaf.to_string(), value.clone());
            }
            [parent, rest @ ..] => {
                let entry = node.entry(parent.to_string()).or_insert_with(|| json!({}));
                if !entry.is_object() {
                    *entry = json!({});
                }
                if let Value::Object(child) = entry {
                    insert(child, rest, value);
                }
            }
        }
    }
    let mut root = Map::new();
    for (key, value) in flat {
        let parts: Vec<&str> = key.split('.').collect();
        insert(&mut root, &parts, value);
    }
    Value::Object(root)
}

/// The fields of a template's `mappings`, flattened to dotted names.
fn fields_of(mappings: &Map<String, Value>) -> Result<BTreeMap<String, FieldMapping>, TemplateError> {
    let mut fields = BTreeMap::new();
    for (key, value) in mappings {
        match key.as_str() {
            "properties" => {
                let Value::Object(properties) = value else {
                    return Err(TemplateError::mapper(format!(
                        "Expected map for property [properties] but got {}",
                        token(value)
                    )));
                };
                properties_of("", properties, &mut fields)?;
            }
            "_meta" | "_source" | "date_detection" | "numeric_detection" | "_data_stream_timestamp" => {}
            "dynamic" | "subobjects" => check_true(key, value, "")?,
            other => {
                return Err(TemplateError::illegal(format!(
                    "the mapping parameter [{other}] is not supported by Saker (index templates map fields with `properties`)"
                )));
            }
        }
    }
    Ok(fields)
}

/// `dynamic` and `subobjects` must keep their default (`true`): Saker maps every new field.
fn check_true(key: &str, value: &Value, field: &str) -> Result<(), TemplateError> {
    let on = matches!(value, Value::Bool(true)) || value.as_str() == Some("true");
    if on {
        return Ok(());
    }
    let place = if field.is_empty() { String::new() } else { format!(" on field [{field}]") };
    Err(TemplateError::illegal(format!(
        "[{key}: {}]{place} is not supported by Saker: it maps every field documents bring",
        scalar_string(value)
    )))
}

fn properties_of(
    prefix: &str,
    properties: &Map<String, Value>,
    out: &mut BTreeMap<String, FieldMapping>,
) -> Result<(), TemplateError> {
    for (name, definition) in properties {
        if name.trim().is_empty() || name.split('.').any(|p| p.trim().is_empty()) {
            return Err(TemplateError::mapper(format!(
                "field name [{name}] cannot contain only whitespace, or start or end with a [.], or contain [..]"
            )));
        }
        let full = if prefix.is_empty() { name.clone() } else { format!("{prefix}.{name}") };
        let Value::Object(definition) = definition else {
            return Err(TemplateError::mapper(format!(
                "Expected map for property [fields] on field [{name}] but got a {}",
                token(definition)
            )));
        };
        let kind = match definition.get("type") {
            None => "object",
            Some(Value::String(kind)) => kind.as_str(),
            Some(other) => {
                return Err(TemplateError::mapper(format!(
                    "No handler for type [{}] declared on field [{name}]",
                    scalar_string(other)
                )));
            }
        };
        if kind == "object" {
            for (key, value) in definition {
                match key.as_str() {
                    "type" => {}
                    "properties" => {
                        let Value::Object(children) = value else {
                            return Err(TemplateError::mapper(format!(
                                "Expected map for property [properties] on field [{full}] but got {}",
                                token(value)
                            )));
                        };
                        properties_of(&full, children, out)?;
                    }
                    "dynamic" | "enabled" | "subobjects" => check_true(key, value, &full)?,
                    other => {
                        return Err(TemplateError::mapper(format!(
                            "unknown parameter [{other}] on mapper [{full}] of type [object]"
                        )));
                    }
                }
            }
            continue;
        }
        if UNSUPPORTED_TYPES.contains(&kind) {
            return Err(TemplateError::illegal(format!(
                "the field type [{kind}] (field [{full}]) is not supported by Saker"
            )));
        }
        if !FIELD_TYPES.contains(&kind) {
            return Err(TemplateError::mapper(format!("No handler for type [{kind}] declared on field [{name}]")));
        }
        let mut field = FieldMapping::new(kind);
        for (key, value) in definition {
            match key.as_str() {
                "type" => {}
                "value" if kind == "constant_keyword" => match value {
                    Value::String(s) => field.value = Some(s.clone()),
                    Value::Number(_) | Value::Bool(_) => field.value = Some(value.to_string()),
                    Value::Null => {}
                    other => {
                        return Err(TemplateError::mapper(format!(
                            "Failed to parse mapping: [value] on mapper [{full}] of type [constant_keyword] doesn't support values of type: {}",
                            token(other)
                        )));
                    }
                },
                key if INERT_FIELD_PARAMS.contains(&key) => {}
                "fields" | "copy_to" | "null_value" | "format" | "analyzer" | "search_analyzer" | "normalizer"
                | "path" | "script" | "on_script_error" => {
                    return Err(TemplateError::illegal(format!(
                        "the mapping parameter [{key}] (field [{full}]) is not supported by Saker"
                    )));
                }
                other => {
                    return Err(TemplateError::mapper(format!(
                        "unknown parameter [{other}] on mapper [{full}] of type [{kind}]"
                    )));
                }
            }
        }
        out.insert(full, field);
    }
    Ok(())
}

/// `*`-only glob matching, as Elasticsearch's `Regex.simpleMatch`.
pub fn glob(pattern: &str, text: &str) -> bool {
    let Some((first, rest)) = pattern.split_once('*') else {
        return pattern == text;
    };
    let Some(mut remaining) = text.strip_prefix(first) else {
        return false;
    };
    let mut parts: Vec<&str> = rest.split('*').collect();
    let last = parts.pop().unwrap_or("");
    for part in parts {
        match remaining.find(part) {
            Some(at) => remaining = &remaining[at + part.len()..],
            None => return false,
        }
    }
    remaining.len() >= last.len() && remaining.ends_with(last)
}

/// Whether some name matches one pattern of each list (the intersection of their languages is
/// not empty), as Elasticsearch's automaton check.
fn patterns_overlap(a: &[String], b: &[String]) -> bool {
    a.iter().any(|x| b.iter().any(|y| pattern_pair_overlaps(x.as_bytes(), y.as_bytes())))
}

fn pattern_pair_overlaps(a: &[u8], b: &[u8]) -> bool {
    // reachable[i][j]: some string takes `a` to position i and `b` to position j
    let (n, m) = (a.len(), b.len());
    let mut reachable = vec![vec![false; m + 1]; n + 1];
    reachable[0][0] = true;
    for i in 0..=n {
        for j in 0..=m {
            if !reachable[i][j] {
                continue;
            }
            // a star matches the empty string
            if i < n && a[i] == b'*' {
                reachable[i + 1][j] = true;
            }
            if j < m && b[j] == b'*' {
                reachable[i][j + 1] = true;
            }
            // one character consumed by both
            if i < n && j < m {
                match (a[i], b[j]) {
                    (b'*', b'*') => {
                        reachable[i][j + 1] = true;
                        reachable[i + 1][j] = true;
                    }
                    (b'*', _) => reachable[i][j + 1] = true,
                    (_, b'*') => reachable[i + 1][j] = true,
                    (x, y) if x == y => reachable[i + 1][j + 1] = true,
                    _ => {}
                }
            }
        }
    }
    reachable[n][m]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: Value) -> Result<IndexTemplate, TemplateError> {
        IndexTemplate::parse("t", &body)
    }

    #[test]
    fn bodies_normalize_as_elasticsearch_returns_them() {
        let t = parse(json!({
            "index_patterns": "app-*",
            "priority": 200,
            "data_stream": {},
            "template": {
                "settings": {"number_of_shards": 1, "index": {"mapping": {"total_fields": {"limit": "50"}}}},
                "mappings": {"_doc": {"properties": {"user": {"properties": {"id": {"type": "keyword", "ignore_above": 1024}}}, "n": {"type": "long"}}}},
                "lifecycle": {"data_retention": "30d"}
            }
        }))
        .expect("parse");
        assert_eq!(
            t.to_json(),
            &json!({
                "index_patterns": ["app-*"],
                "priority": 200,
                "data_stream": {"hidden": false, "allow_custom_routing": false},
                "template": {
                    "settings": {"index": {"number_of_shards": "1", "mapping": {"total_fields": {"limit": "50"}}}},
                    "mappings": {"properties": {"user": {"properties": {"id": {"type": "keyword", "ignore_above": 1024}}}, "n": {"type": "long"}}},
                    "lifecycle": {"enabled": true, "data_retention": "30d"}
                }
            })
        );
        assert_eq!(t.total_fields_limit, Some(50));
        let fields: Vec<(&str, &str)> = t.fields.iter().map(|(n, f)| (n.as_str(), f.mapping.as_str())).collect();
        assert_eq!(fields, vec![("@timestamp", "date"), ("n", "long"), ("user.id", "keyword")]);
        let (settings, fields) = t.apply("app-x");
        assert!(settings.data_stream);
        assert_eq!(settings.template.as_deref(), Some("t"));
        assert_eq!(fields.len(), 3);
    }

    #[test]
    fn errors_are_elasticsearch_s() {
        let kind = |body: Value| parse(body).err().map(|e| (e.kind, e.reason));
        assert_eq!(kind(json!({})), Some(("illegal_argument_exception", "Required [index_patterns]".to_string())));
        assert_eq!(
            kind(json!({"index_patterns": ["a*"], "foo": 1})),
            Some(("x_content_parse_exception", "[index_template] unknown field [foo]".to_string()))
        );
        assert_eq!(
            kind(json!({"index_patterns": ["a*"], "priority": -1})),
            Some((
                "action_request_validation_exception",
                "Validation Failed: 1: index template priority must be >= 0;".to_string()
            ))
        );
        assert_eq!(kind(json!({"index_patterns": ["a b"]})).map(|(k, _)| k), Some("invalid_index_template_exception"));
        assert!(
            kind(json!({"index_patterns": ["a*"], "composed_of": ["ct"]}))
                .is_some_and(|(_, r)| r.ends_with("specifies component templates [ct] that do not exist]"))
        );
        assert!(
            kind(json!({"index_patterns": ["a*"], "template": {"lifecycle": {"data_retention": "1d"}}}))
                .is_some_and(|(_, r)| r.contains("can only be used in combination with a data stream"))
        );
        assert!(
            kind(json!({"index_patterns": ["a*"], "template": {"mappings": {"properties": {"x": {"type": "nope"}}}}}))
                .is_some_and(|(k, r)| k == "mapper_parsing_exception"
                    && r.contains("No handler for type [nope] declared on field [x]"))
        );
        assert!(
            kind(json!({"index_patterns": ["a*"], "template": {"mappings": {"properties": {"x": {"type": "text", "fields": {}}}}}}))
                .is_some_and(|(_, r)| r.contains("[fields]"))
        );
        assert!(
            kind(json!({"index_patterns": ["a*"], "template": {"settings": {"index.foo": 1}}}))
                .is_some_and(|(_, r)| r.contains("unknown setting [index.foo]"))
        );
        assert!(
            kind(json!({"index_patterns": ["a*"], "data_stream": {}, "template": {"mappings": {"properties": {"@timestamp": {"type": "keyword"}}}}}))
                .is_some()
        );
    }

    #[test]
    fn priorities_overlaps_and_data_streams() {
        let mut templates = Templates::default();
        let t = |name: &str, body: Value| IndexTemplate::parse(name, &body).expect("parse");
        templates.put(t("a", json!({"index_patterns": ["app-*"], "priority": 5})), false, &[]).expect("put a");
        let clash = templates.put(t("b", json!({"index_patterns": ["*-web"], "priority": 5})), false, &[]);
        assert!(clash.is_err_and(|e| e.reason.contains("that have the same priority [5]")));
        templates
            .put(t("b", json!({"index_patterns": ["*-web"], "priority": 6, "data_stream": {}})), false, &[])
            .expect("put b");
        assert!(templates.resolve("app-web").0.data_stream, "priority 6 wins");
        assert!(!templates.resolve("app-db").0.data_stream);
        assert_eq!(templates.resolve("logs-x-y").0, IndexSettings::builtin("logs-x-y"));
        // a template at the built-ins' priority may not overlap them
        let builtin = templates.put(t("c", json!({"index_patterns": ["logs-*"], "priority": 100})), false, &[]);
        assert!(builtin.is_err_and(|e| e.reason.contains("existing templates [logs]")));
        // higher than the built-ins: wins, and may make a plain index of `logs-x-y`
        templates.put(t("c", json!({"index_patterns": ["logs-*"], "priority": 101})), false, &[]).expect("put c");
        assert!(!templates.resolve("logs-x-y").0.data_stream);
        // `create` refuses to replace
        assert!(templates.put(t("c", json!({"index_patterns": ["z"]})), true, &[]).is_err());
        // removing `b` would leave the data stream app-web with no data stream template
        let streams = vec!["app-web".to_string()];
        // `a` matches app-web too: as in Elasticsearch, `b` is then not the only one it uses
        assert_eq!(templates.remove("a", &streams).expect("remove"), vec!["a".to_string()]);
        assert!(
            templates.remove("b", &streams).is_err_and(|e| e.reason.contains("in use by a data streams [app-web]"))
        );
        let replaced = templates.put(t("b", json!({"index_patterns": ["*-web"], "priority": 6})), false, &streams);
        assert!(replaced.is_err_and(|e| e.reason.contains("would cause data streams [app-web] to no longer match")));
        assert_eq!(templates.remove("nope", &[]).expect_err("missing").kind, "index_template_missing_exception");
        assert_eq!(templates.remove("*", &[]).expect("all"), vec!["b".to_string(), "c".to_string()]);
        assert_eq!(templates.remove("*", &[]).expect("none left"), Vec::<String>::new());
    }

    #[test]
    fn pattern_overlaps() {
        let o = |a: &str, b: &str| pattern_pair_overlaps(a.as_bytes(), b.as_bytes());
        assert!(o("logs-*", "*-web"));
        assert!(o("logs-*-*", "logs-*"));
        assert!(!o("logs-*", "metrics-*"));
        assert!(o("a*c", "ab*"));
        assert!(!o("a*c", "b*"));
        assert!(o("*", "x"));
        assert!(!o("abc", "abd"));
        assert!(o("a*b*c", "*bc"));
    }
}
