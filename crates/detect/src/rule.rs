//! The rule model: every field of a Kibana detection rule that affects execution or ends up in an
//! alert, parsed from the rule API's JSON object (which detection-rules' TOML `[rule]` table
//! mirrors key for key).
//!
//! Kibana: `common/api/detection_engine/model/rule_schema/rule_schemas.schema.yaml`; defaults as
//! the API applies them (`from: now-6m`, `to: now`, `interval: 5m`, `max_signals: 100`,
//! `version: 1`, `language: kuery` for query rules).

use crate::datemath::{DateMath, Interval};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha1::{Digest, Sha1};
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// Declares an enum parsed from rule files, with `FromStr` (whose error lists the valid values)
/// and `Display`.
macro_rules! input_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal, { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The value as rule files write it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;

            fn from_str(s: &str) -> Result<$name, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(format!(
                        concat!("unknown ", $what, " `{}`, expected one of: {}"),
                        s,
                        [$($text),+].join(", ")
                    )),
                }
            }
        }
    };
}

input_enum!(
    /// A rule's `type`.
    RuleType, "rule type", {
        /// KQL or Lucene query.
        Query = "query",
        /// A query loaded from a saved query.
        SavedQuery = "saved_query",
        /// ES|QL.
        Esql = "esql",
        /// EQL (event correlation).
        Eql = "eql",
        /// Threshold.
        Threshold = "threshold",
        /// New terms.
        NewTerms = "new_terms",
        /// Indicator match.
        ThreatMatch = "threat_match",
        /// Machine learning anomalies.
        MachineLearning = "machine_learning",
    }
);

impl RuleType {
    /// The alerting framework's rule type id (`kibana.alert.rule.rule_type_id`).
    pub fn rule_type_id(self) -> &'static str {
        match self {
            RuleType::Query => "siem.queryRule",
            RuleType::SavedQuery => "siem.savedQueryRule",
            RuleType::Esql => "siem.esqlRule",
            RuleType::Eql => "siem.eqlRule",
            RuleType::Threshold => "siem.thresholdRule",
            RuleType::NewTerms => "siem.newTermsRule",
            RuleType::ThreatMatch => "siem.indicatorRule",
            RuleType::MachineLearning => "siem.mlRule",
        }
    }

    /// The rule type's display name (`kibana.alert.rule.category`).
    pub fn category(self) -> &'static str {
        match self {
            RuleType::Query => "Custom Query Rule",
            RuleType::SavedQuery => "Saved Query Rule",
            RuleType::Esql => "ES|QL Rule",
            RuleType::Eql => "Event Correlation Rule",
            RuleType::Threshold => "Threshold Rule",
            RuleType::NewTerms => "New Terms Rule",
            RuleType::ThreatMatch => "Indicator Match Rule",
            RuleType::MachineLearning => "Machine Learning Rule",
        }
    }
}

input_enum!(
    /// A rule's query `language`.
    Language, "language", {
        /// KQL.
        Kuery = "kuery",
        /// Lucene query syntax.
        Lucene = "lucene",
        /// ES|QL.
        Esql = "esql",
        /// EQL.
        Eql = "eql",
    }
);

input_enum!(
    /// Alert severity, lowest first.
    Severity, "severity", {
        /// `low`
        Low = "low",
        /// `medium`
        Medium = "medium",
        /// `high`
        High = "high",
        /// `critical`
        Critical = "critical",
    }
);

input_enum!(
    /// `alert_suppression.missing_fields_strategy`.
    MissingFieldsStrategy, "missing fields strategy", {
        /// Events missing a group-by field are suppressed together.
        Suppress = "suppress",
        /// Each event missing a group-by field gets its own alert.
        DoNotSuppress = "doNotSuppress",
    }
);

/// One `severity_mapping` entry: events whose `field` equals `value` get `severity`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeverityMapping {
    /// The event field.
    pub field: String,
    /// The value compared with (as a string).
    pub value: String,
    /// The severity for a match.
    pub severity: Severity,
}

/// One `risk_score_mapping` entry: the risk score is read from `field`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RiskScoreMapping {
    /// The event field holding a number from 0 to 100.
    pub field: String,
}

/// `alert_suppression`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertSuppression {
    /// The fields whose values group alerts (1 to 5).
    pub group_by: Vec<String>,
    /// How long an alert keeps absorbing duplicates; `None` = per rule execution.
    pub duration: Option<SuppressionDuration>,
    /// What to do with events lacking a group-by field.
    pub missing_fields_strategy: MissingFieldsStrategy,
}

/// `alert_suppression.duration`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SuppressionDuration {
    /// The amount.
    pub value: u32,
    /// `s`, `m` or `h`.
    pub unit: String,
}

/// One MITRE ATT&CK (or ATLAS) mapping of `threat`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Threat {
    /// `MITRE ATT&CK` or `MITRE ATLAS`.
    pub framework: String,
    /// The tactic.
    pub tactic: ThreatRef,
    /// Techniques (possibly none).
    #[serde(default)]
    pub technique: Vec<Technique>,
}

/// A tactic or sub-technique reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreatRef {
    /// `TA0001`
    pub id: String,
    /// `Initial Access`
    pub name: String,
    /// The framework's URL for it.
    pub reference: String,
}

/// A technique, with its sub-techniques.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Technique {
    /// `T1078`
    pub id: String,
    /// `Valid Accounts`
    pub name: String,
    /// The framework's URL for it.
    pub reference: String,
    /// Sub-techniques.
    #[serde(default)]
    pub subtechnique: Vec<ThreatRef>,
}

/// Where a rule was loaded from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The file.
    pub path: PathBuf,
    /// The 1-based line, for a rule in an NDJSON export.
    pub line: Option<usize>,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}", self.path.display()),
            None => write!(f, "{}", self.path.display()),
        }
    }
}

/// A detection rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// The rule's signature id (`rule_id`), stable across versions and installations.
    pub rule_id: String,
    /// The rule object's id (`kibana.alert.rule.uuid`): the export's `id`, else derived from
    /// `rule_id` (Kibana generates a random one per installation).
    pub id: String,
    /// `name`
    pub name: String,
    /// `description`
    pub description: String,
    /// `type`
    pub rule_type: RuleType,
    /// `language` (`kuery` by default for query rules).
    pub language: Option<Language>,
    /// `query`
    pub query: Option<String>,
    /// `index` patterns (query-language rules).
    pub index: Vec<String>,
    /// `data_view_id`
    pub data_view_id: Option<String>,
    /// `filters`: Kibana filter objects.
    pub filters: Vec<Value>,
    /// `from` (default `now-6m`).
    pub from: DateMath,
    /// `to` (default `now`).
    pub to: DateMath,
    /// `interval` (default `5m`).
    pub interval: Interval,
    /// `max_signals` (default 100).
    pub max_signals: u32,
    /// `timestamp_override`
    pub timestamp_override: Option<String>,
    /// `timestamp_override_fallback_disabled`
    pub timestamp_override_fallback_disabled: bool,
    /// `rule_name_override`
    pub rule_name_override: Option<String>,
    /// `severity`
    pub severity: Severity,
    /// `risk_score` (0–100).
    pub risk_score: u8,
    /// `severity_mapping`
    pub severity_mapping: Vec<SeverityMapping>,
    /// `risk_score_mapping`
    pub risk_score_mapping: Vec<RiskScoreMapping>,
    /// `alert_suppression`
    pub alert_suppression: Option<AlertSuppression>,
    /// `building_block_type` (`default`).
    pub building_block_type: Option<String>,
    /// `threat`
    pub threat: Vec<Threat>,
    /// `note`: the investigation guide (markdown).
    pub note: Option<String>,
    /// `setup` (markdown).
    pub setup: Option<String>,
    /// `tags`
    pub tags: Vec<String>,
    /// `author`
    pub author: Vec<String>,
    /// `references`
    pub references: Vec<String>,
    /// `false_positives`
    pub false_positives: Vec<String>,
    /// `license`
    pub license: Option<String>,
    /// `version` (default 1).
    pub version: u32,
    /// `enabled` (default true).
    pub enabled: bool,
    /// `exceptions_list` references (not applied yet).
    pub exceptions_list: Vec<Value>,
    /// `investigation_fields.field_names`
    pub investigation_fields: Vec<String>,
    /// detection-rules `[metadata] maturity`, when loaded from TOML.
    pub maturity: Option<String>,
    /// The API object the rule was read from, for `kibana.alert.rule.parameters`.
    pub params: Map<String, Value>,
    /// Where it came from.
    pub origin: Origin,
}

/// Field errors of a rule object: `field: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field (`severity`, `risk_score_mapping[0].field`).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}", self.field, self.message)
    }
}

/// Reads fields of one JSON object, collecting every error instead of stopping at the first.
struct Fields<'a> {
    obj: &'a Map<String, Value>,
    errors: Vec<FieldError>,
}

impl<'a> Fields<'a> {
    fn error(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError { field: field.to_string(), message: message.into() });
    }

    fn get(&self, field: &str) -> Option<&'a Value> {
        self.obj.get(field).filter(|v| !v.is_null())
    }

    fn string(&mut self, field: &str) -> Option<String> {
        match self.get(field) {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                self.error(field, format!("expected a string, found {}", kind(other)));
                None
            }
        }
    }

    fn required_string(&mut self, field: &str) -> String {
        match self.string(field) {
            Some(s) => s,
            None => {
                if self.get(field).is_none() {
                    self.error(field, "is required");
                }
                String::new()
            }
        }
    }

    fn strings(&mut self, field: &str) -> Vec<String> {
        match self.get(field) {
            None => Vec::new(),
            Some(Value::Array(items)) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    match item {
                        Value::String(s) => out.push(s.clone()),
                        other => {
                            self.error(&format!("{field}[{i}]"), format!("expected a string, found {}", kind(other)))
                        }
                    }
                }
                out
            }
            Some(other) => {
                self.error(field, format!("expected a list of strings, found {}", kind(other)));
                Vec::new()
            }
        }
    }

    fn objects(&mut self, field: &str) -> Vec<Value> {
        match self.get(field) {
            None => Vec::new(),
            Some(Value::Array(items)) => items.clone(),
            Some(other) => {
                self.error(field, format!("expected a list, found {}", kind(other)));
                Vec::new()
            }
        }
    }

    fn boolean(&mut self, field: &str) -> Option<bool> {
        match self.get(field) {
            None => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(other) => {
                self.error(field, format!("expected true or false, found {}", kind(other)));
                None
            }
        }
    }

    fn integer(&mut self, field: &str, min: i64, max: i64) -> Option<i64> {
        let value = self.get(field)?;
        let n = match value {
            Value::Number(n) => n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        match n {
            Some(n) if (min..=max).contains(&n) => Some(n),
            Some(n) => {
                self.error(field, format!("{n} is out of range, expected {min} to {max}"));
                None
            }
            None => {
                self.error(field, format!("expected an integer, found {}", kind(value)));
                None
            }
        }
    }

    fn parsed<T: FromStr>(&mut self, field: &str) -> Option<T>
    where
        T::Err: fmt::Display,
    {
        let text = self.string(field)?;
        match text.parse() {
            Ok(v) => Some(v),
            Err(e) => {
                self.error(field, e.to_string());
                None
            }
        }
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A uuid-formatted id derived from `text` (SHA-1, version 5 layout).
pub fn derived_uuid(text: &str) -> String {
    let digest = Sha1::digest(text.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

impl Rule {
    /// Reads a rule from the rule API's JSON object (a Kibana export line, or a detection-rules
    /// `[rule]` table converted to JSON), applying the API's defaults.
    ///
    /// # Errors
    /// Every field that is missing, of the wrong type or holds an invalid value.
    pub fn from_api(obj: &Map<String, Value>, origin: Origin) -> Result<Rule, Vec<FieldError>> {
        let mut f = Fields { obj, errors: Vec::new() };
        let name = f.required_string("name");
        let description = f.required_string("description");
        let rule_type = match f.get("type") {
            None => {
                f.error("type", "is required");
                None
            }
            Some(_) => f.parsed::<RuleType>("type"),
        };
        let severity = match f.get("severity") {
            None => {
                f.error("severity", "is required");
                None
            }
            Some(_) => f.parsed::<Severity>("severity"),
        };
        let risk_score = match f.get("risk_score") {
            None => {
                f.error("risk_score", "is required");
                None
            }
            Some(_) => f.integer("risk_score", 0, 100),
        };
        let mut language = f.parsed::<Language>("language");
        let query = f.string("query");
        let index = f.strings("index");
        let data_view_id = f.string("data_view_id");
        let filters = f.objects("filters");
        let from = f.parsed::<DateMath>("from");
        let to = f.parsed::<DateMath>("to");
        let interval = f.parsed::<Interval>("interval");
        let max_signals = f.integer("max_signals", 1, i64::from(u32::MAX));
        let timestamp_override = f.string("timestamp_override").filter(|s| !s.is_empty());
        let fallback_disabled = f.boolean("timestamp_override_fallback_disabled").unwrap_or(false);
        let rule_name_override = f.string("rule_name_override").filter(|s| !s.is_empty());
        let building_block_type = f.string("building_block_type");
        let note = f.string("note");
        let setup = f.string("setup");
        let tags = f.strings("tags");
        let author = f.strings("author");
        let references = f.strings("references");
        let false_positives = f.strings("false_positives");
        let license = f.string("license");
        let version = f.integer("version", 1, i64::from(u32::MAX));
        let enabled = f.boolean("enabled").unwrap_or(true);
        let exceptions_list = f.objects("exceptions_list");
        let severity_mapping = severity_mappings(&mut f);
        let risk_score_mapping = risk_score_mappings(&mut f);
        let alert_suppression = alert_suppression(&mut f);
        let threat = threats(&mut f);
        let investigation_fields = match f.get("investigation_fields") {
            Some(Value::Object(o)) => match o.get("field_names") {
                Some(Value::Array(a)) => a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
                _ => Vec::new(),
            },
            Some(Value::Array(a)) => a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
            _ => Vec::new(),
        };
        let rule_id =
            f.string("rule_id").unwrap_or_else(|| derived_uuid(&format!("{name}\n{}", query.as_deref().unwrap_or(""))));
        let id = f.string("id").unwrap_or_else(|| derived_uuid(&format!("saker-rule:{rule_id}")));

        // Type-specific requirements, as the API schema states them.
        if let Some(rt) = rule_type {
            match rt {
                RuleType::Esql => {
                    if language.is_none() && f.get("language").is_none() {
                        f.error("language", "is required for esql rules (`esql`)");
                    } else if language.is_some_and(|l| l != Language::Esql) {
                        f.error("language", "must be `esql` for esql rules");
                    }
                    if query.as_deref().is_none_or(|q| q.trim().is_empty()) {
                        f.error("query", "is required for esql rules");
                    }
                    if !index.is_empty() {
                        f.error("index", "is not allowed on esql rules (indices come from the query's FROM)");
                    }
                }
                RuleType::Query
                | RuleType::SavedQuery
                | RuleType::Threshold
                | RuleType::NewTerms
                | RuleType::ThreatMatch => {
                    if language.is_none() && f.get("language").is_none() {
                        language = Some(Language::Kuery);
                    }
                    if language.is_some_and(|l| !matches!(l, Language::Kuery | Language::Lucene)) {
                        f.error("language", format!("must be kuery or lucene for {rt} rules"));
                    }
                }
                RuleType::Eql => {
                    if language.is_none() && f.get("language").is_none() {
                        language = Some(Language::Eql);
                    }
                }
                RuleType::MachineLearning => {}
            }
        }
        if !f.errors.is_empty() {
            return Err(f.errors);
        }
        let (Some(rule_type), Some(severity), Some(risk_score)) = (rule_type, severity, risk_score) else {
            return Err(vec![FieldError {
                field: "type".into(),
                message: "internal error: missing after checks".into(),
            }]);
        };
        let default = |text: &str| text.parse::<DateMath>();
        let (from, to) =
            match (from.map(Ok).unwrap_or_else(|| default("now-6m")), to.map(Ok).unwrap_or_else(|| default("now"))) {
                (Ok(from), Ok(to)) => (from, to),
                _ => {
                    return Err(vec![FieldError {
                        field: "from".into(),
                        message: "internal error: default date math".into(),
                    }]);
                }
            };
        let interval = match interval.map(Ok).unwrap_or_else(|| "5m".parse::<Interval>()) {
            Ok(i) => i,
            Err(e) => return Err(vec![FieldError { field: "interval".into(), message: e.to_string() }]),
        };
        let mut params = obj.clone();
        for key in [
            "id",
            "immutable",
            "rule_source",
            "created_at",
            "created_by",
            "updated_at",
            "updated_by",
            "revision",
            "execution_summary",
            "output_index",
        ] {
            params.remove(key);
        }
        Ok(Rule {
            rule_id,
            id,
            name,
            description,
            rule_type,
            language,
            query,
            index,
            data_view_id,
            filters,
            from,
            to,
            interval,
            max_signals: max_signals.and_then(|n| u32::try_from(n).ok()).unwrap_or(100),
            timestamp_override,
            timestamp_override_fallback_disabled: fallback_disabled,
            rule_name_override,
            severity,
            risk_score: u8::try_from(risk_score).unwrap_or(0),
            severity_mapping,
            risk_score_mapping,
            alert_suppression,
            building_block_type,
            threat,
            note,
            setup,
            tags,
            author,
            references,
            false_positives,
            license,
            version: version.and_then(|v| u32::try_from(v).ok()).unwrap_or(1),
            enabled,
            exceptions_list,
            investigation_fields,
            maturity: None,
            params,
            origin,
        })
    }

    /// The field whose value places a document in the rule's time window:
    /// `timestamp_override`, else `@timestamp`.
    pub fn primary_timestamp(&self) -> &str {
        self.timestamp_override.as_deref().unwrap_or("@timestamp")
    }

    /// `@timestamp` when an override is set, differs from it and the fallback is not disabled.
    pub fn secondary_timestamp(&self) -> Option<&str> {
        match &self.timestamp_override {
            Some(o) if o != "@timestamp" && !self.timestamp_override_fallback_disabled => Some("@timestamp"),
            _ => None,
        }
    }

    /// Why Saker cannot run this rule, or `None` when it can.
    pub fn unsupported_reason(&self) -> Option<String> {
        match self.rule_type {
            RuleType::Esql => None,
            RuleType::Query => match self.language {
                Some(Language::Lucene) => Some("query rules in `lucene` are not supported (only `kuery`)".to_string()),
                _ if self.data_view_id.is_some() && self.index.is_empty() => {
                    Some("rules on a data view (`data_view_id`) are not supported; give `index` patterns".to_string())
                }
                _ => None,
            },
            other => Some(format!("`{other}` rules are not yet supported")),
        }
    }

    /// The rule's API object with defaults filled in, as `kibana.alert.rule.parameters` holds it.
    pub fn parameters(&self) -> Value {
        let mut p = self.params.clone();
        let mut set = |k: &str, v: Value| {
            p.entry(k.to_string()).or_insert(v);
        };
        set("rule_id", Value::String(self.rule_id.clone()));
        set("from", Value::String(self.from.to_string()));
        set("to", Value::String(self.to.to_string()));
        set("interval", Value::String(self.interval.to_string()));
        set("max_signals", Value::from(self.max_signals));
        set("version", Value::from(self.version));
        set("author", Value::from(self.author.clone()));
        set("tags", Value::from(self.tags.clone()));
        set("references", Value::from(self.references.clone()));
        set("false_positives", Value::from(self.false_positives.clone()));
        set("threat", serde_json::to_value(&self.threat).unwrap_or(Value::Array(Vec::new())));
        set("exceptions_list", Value::Array(self.exceptions_list.clone()));
        set("risk_score_mapping", Value::Array(Vec::new()));
        set("severity_mapping", Value::Array(Vec::new()));
        if let Some(l) = self.language {
            set("language", Value::String(l.to_string()));
        }
        Value::Object(p)
    }
}

fn severity_mappings(f: &mut Fields<'_>) -> Vec<SeverityMapping> {
    let mut out = Vec::new();
    for (i, item) in f.objects("severity_mapping").iter().enumerate() {
        let at = format!("severity_mapping[{i}]");
        let Some(o) = item.as_object() else {
            f.error(&at, format!("expected an object, found {}", kind(item)));
            continue;
        };
        let field = o.get("field").and_then(Value::as_str);
        let value = o.get("value").map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
        let severity = o.get("severity").and_then(Value::as_str).map(str::parse::<Severity>);
        if let Some(op) = o.get("operator").and_then(Value::as_str)
            && op != "equals"
        {
            f.error(&format!("{at}.operator"), format!("unknown operator `{op}`, expected one of: equals"));
        }
        match (field, value, severity) {
            (Some(field), Some(value), Some(Ok(severity))) => {
                out.push(SeverityMapping { field: field.to_string(), value, severity });
            }
            (_, _, Some(Err(e))) => f.error(&format!("{at}.severity"), e),
            _ => f.error(&at, "needs `field`, `value` and `severity`"),
        }
    }
    out
}

fn risk_score_mappings(f: &mut Fields<'_>) -> Vec<RiskScoreMapping> {
    let mut out = Vec::new();
    for (i, item) in f.objects("risk_score_mapping").iter().enumerate() {
        match item.get("field").and_then(Value::as_str) {
            Some(field) => out.push(RiskScoreMapping { field: field.to_string() }),
            None => f.error(&format!("risk_score_mapping[{i}]"), "needs `field`"),
        }
    }
    out
}

fn alert_suppression(f: &mut Fields<'_>) -> Option<AlertSuppression> {
    let value = f.get("alert_suppression")?;
    let Some(o) = value.as_object() else {
        f.error("alert_suppression", format!("expected an object, found {}", kind(value)));
        return None;
    };
    let group_by: Vec<String> = match o.get("group_by") {
        Some(Value::Array(a)) => a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
        None => Vec::new(),
        Some(other) => {
            f.error("alert_suppression.group_by", format!("expected a list of fields, found {}", kind(other)));
            Vec::new()
        }
    };
    let strategy = match o.get("missing_fields_strategy").and_then(Value::as_str) {
        None => MissingFieldsStrategy::Suppress,
        Some(s) => match s.parse() {
            Ok(m) => m,
            Err(e) => {
                f.error("alert_suppression.missing_fields_strategy", e);
                MissingFieldsStrategy::Suppress
            }
        },
    };
    let duration = match o.get("duration") {
        Some(Value::Object(d)) => {
            let value = d.get("value").and_then(Value::as_u64).and_then(|v| u32::try_from(v).ok());
            let unit = d.get("unit").and_then(Value::as_str);
            match (value, unit) {
                (Some(value), Some(unit @ ("s" | "m" | "h"))) if value >= 1 => {
                    Some(SuppressionDuration { value, unit: unit.to_string() })
                }
                _ => {
                    f.error("alert_suppression.duration", "expected `value` ≥ 1 and `unit` one of: s, m, h");
                    None
                }
            }
        }
        _ => None,
    };
    Some(AlertSuppression { group_by, duration, missing_fields_strategy: strategy })
}

fn threats(f: &mut Fields<'_>) -> Vec<Threat> {
    let mut out = Vec::new();
    for (i, item) in f.objects("threat").into_iter().enumerate() {
        match serde_json::from_value::<Threat>(item) {
            Ok(t) => out.push(t),
            Err(e) => f.error(&format!("threat[{i}]"), e.to_string()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn origin() -> Origin {
        Origin { path: PathBuf::from("test.json"), line: None }
    }

    #[test]
    fn enums_list_valid_values() {
        assert_eq!(
            "urgent".parse::<Severity>().expect_err("invalid"),
            "unknown severity `urgent`, expected one of: low, medium, high, critical"
        );
        assert_eq!("esql".parse::<RuleType>(), Ok(RuleType::Esql));
        assert_eq!(RuleType::ThreatMatch.to_string(), "threat_match");
        assert!(Severity::Low < Severity::Critical);
    }

    #[test]
    fn defaults_are_the_apis() {
        let obj = json!({"name": "n", "description": "d", "type": "query", "severity": "low", "risk_score": 21,
            "rule_id": "r1", "query": "event.kind:alert", "index": ["logs-*"]});
        let rule = Rule::from_api(obj.as_object().expect("object"), origin()).expect("valid");
        assert_eq!(rule.from.as_str(), "now-6m");
        assert_eq!(rule.to.as_str(), "now");
        assert_eq!(rule.interval.as_str(), "5m");
        assert_eq!(rule.max_signals, 100);
        assert_eq!(rule.version, 1);
        assert_eq!(rule.language, Some(Language::Kuery));
        assert_eq!(rule.id, derived_uuid("saker-rule:r1"));
        assert_eq!(rule.primary_timestamp(), "@timestamp");
        assert_eq!(rule.secondary_timestamp(), None);
        assert!(rule.unsupported_reason().is_none());
    }

    #[test]
    fn every_error_is_reported() {
        let obj = json!({"name": 3, "type": "query", "severity": "urgent", "risk_score": 200, "from": "yesterday",
            "interval": "5 minutes", "severity_mapping": [{"field": "a", "value": "1", "severity": "huge"}]});
        let errors = Rule::from_api(obj.as_object().expect("object"), origin()).expect_err("invalid");
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        let text = text.join("\n");
        for expected in [
            "`name`: expected a string, found a number",
            "`description`: is required",
            "`severity`: unknown severity `urgent`",
            "`risk_score`: 200 is out of range, expected 0 to 100",
            "`from`: invalid date math `yesterday`",
            "`interval`: invalid interval `5 minutes`",
            "`severity_mapping[0].severity`: unknown severity `huge`",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
        }
    }

    #[test]
    fn unsupported_types_and_languages_are_named() {
        let base = json!({"name": "n", "description": "d", "severity": "low", "risk_score": 1});
        let mut obj = base.as_object().expect("object").clone();
        obj.insert("type".into(), json!("eql"));
        obj.insert("query".into(), json!("process where true"));
        let rule = Rule::from_api(&obj, origin()).expect("valid");
        assert_eq!(rule.unsupported_reason().as_deref(), Some("`eql` rules are not yet supported"));
        obj.insert("type".into(), json!("query"));
        obj.insert("language".into(), json!("lucene"));
        let rule = Rule::from_api(&obj, origin()).expect("valid");
        assert_eq!(
            rule.unsupported_reason().as_deref(),
            Some("query rules in `lucene` are not supported (only `kuery`)")
        );
    }

    #[test]
    fn derived_uuids_look_like_uuids() {
        let u = derived_uuid("x");
        assert_eq!(u.len(), 36);
        assert_eq!(u.as_bytes()[14], b'5');
    }
}
