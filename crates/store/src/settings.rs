//! What an index is and how long it keeps its documents: [`IndexSettings`], decided when the index
//! is created (from the index template that matches its name, see [`crate::templates`]) and kept
//! in the index folder as `settings.json`; [`Lifecycle`], Elasticsearch's data stream lifecycle
//! (`data_retention`); and [`TimeValue`], Elasticsearch's durations (`30d`, `12h`).

use crate::names::IndexKind;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// The settings file's name in an index folder.
pub const SETTINGS: &str = "settings.json";

/// An index's settings.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct IndexSettings {
    /// A data stream: append-only (`create` only), `@timestamp` required.
    #[serde(default)]
    pub data_stream: bool,
    /// The index template the index was created from (`None`: a built-in template, or none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// The data stream lifecycle: how long documents are kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<Lifecycle>,
    /// `index.mapping.total_fields.limit`: the most fields the index maps (the store's
    /// `max_fields` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_fields_limit: Option<usize>,
}

impl IndexSettings {
    /// The settings of an index that no user template matches: a data stream when the name is
    /// `<type>-<dataset>-<namespace>` (Elasticsearch's built-in `logs`, `metrics`, … templates),
    /// a plain index otherwise.
    pub fn builtin(name: &str) -> IndexSettings {
        IndexSettings { data_stream: IndexKind::of(name).is_data_stream(), ..IndexSettings::default() }
    }

    /// How long documents are kept, when the lifecycle says so (an enabled lifecycle with a
    /// `data_retention`), else `default` for a data stream with an enabled lifecycle and no
    /// retention of its own (Elasticsearch's `data_streams.lifecycle.retention.default`).
    pub fn effective_retention(&self, default: Option<Duration>) -> Option<Duration> {
        let lifecycle = self.lifecycle.as_ref().filter(|l| l.enabled)?;
        match &lifecycle.data_retention {
            Some(retention) => Some(retention.duration()),
            None if self.data_stream => default,
            None => None,
        }
    }
}

/// Elasticsearch's data stream lifecycle, as `template.lifecycle` and
/// `PUT _data_stream/<name>/_lifecycle` give it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lifecycle {
    /// Whether the lifecycle applies (`true` unless given).
    #[serde(default = "enabled_default")]
    pub enabled: bool,
    /// Documents older than this are deleted, whole days at a time; kept forever when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_retention: Option<TimeValue>,
}

fn enabled_default() -> bool {
    true
}

impl Lifecycle {
    /// Parses a lifecycle object (`{"enabled": true, "data_retention": "30d"}`); `owner` names it
    /// in errors (`lifecycle`, `data_stream_lifecycle`).
    ///
    /// # Errors
    /// An unknown field, a value of the wrong type, an invalid duration, or `downsampling` (not
    /// supported), as Elasticsearch words them.
    pub fn from_json(owner: &str, value: &serde_json::Value) -> Result<Lifecycle, String> {
        let serde_json::Value::Object(object) = value else {
            return Err(format!("[{owner}] expected an object, found {}", token(value)));
        };
        let mut lifecycle = Lifecycle { enabled: true, data_retention: None };
        for (key, value) in object {
            match key.as_str() {
                "enabled" => match value {
                    serde_json::Value::Bool(b) => lifecycle.enabled = *b,
                    serde_json::Value::String(s) if s == "true" || s == "false" => lifecycle.enabled = s == "true",
                    other => return Err(format!("[{owner}] enabled doesn't support values of type: {}", token(other))),
                },
                "data_retention" => match value {
                    serde_json::Value::Null => lifecycle.data_retention = None,
                    serde_json::Value::String(s) => {
                        lifecycle.data_retention = Some(TimeValue::parse(s, "data_retention")?)
                    }
                    other => {
                        return Err(format!(
                            "[{owner}] data_retention doesn't support values of type: {}",
                            token(other)
                        ));
                    }
                },
                "downsampling" => {
                    return Err(format!("[{owner}] downsampling is not supported by Saker"));
                }
                other => return Err(format!("[{owner}] unknown field [{other}]")),
            }
        }
        Ok(lifecycle)
    }

    /// The lifecycle as Elasticsearch writes it.
    pub fn to_json(&self) -> serde_json::Value {
        let mut object = serde_json::Map::new();
        object.insert("enabled".into(), serde_json::Value::Bool(self.enabled));
        if let Some(retention) = &self.data_retention {
            object.insert("data_retention".into(), serde_json::Value::String(retention.to_string()));
        }
        serde_json::Value::Object(object)
    }
}

/// The name Elasticsearch's JSON parser gives a value's token, for its "doesn't support values of
/// type" errors.
pub(crate) fn token(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "VALUE_NULL",
        serde_json::Value::Bool(_) => "VALUE_BOOLEAN",
        serde_json::Value::Number(_) => "VALUE_NUMBER",
        serde_json::Value::String(_) => "VALUE_STRING",
        serde_json::Value::Array(_) => "START_ARRAY",
        serde_json::Value::Object(_) => "START_OBJECT",
    }
}

/// A positive duration written as Elasticsearch writes time values: a whole number and a unit
/// (`nanos`, `micros`, `ms`, `s`, `m`, `h`, `d`). Kept as written (`168h` stays `168h`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeValue {
    amount: u64,
    /// Index into [`UNITS`].
    unit: usize,
}

const UNITS: [(&str, u128); 7] = [
    ("nanos", 1),
    ("micros", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
    ("d", 86_400_000_000_000),
];

impl TimeValue {
    /// Parses `text` as the value of `setting` (named in errors as Elasticsearch does).
    ///
    /// # Errors
    /// A missing or unknown unit, a fraction, a negative or zero value, or an overflow.
    pub fn parse(text: &str, setting: &str) -> Result<TimeValue, String> {
        let fail =
            |why: &str| format!("failed to parse setting [{setting}] with value [{text}] as a time value: {why}");
        let trimmed = text.trim().to_ascii_lowercase();
        let Some(unit) = (0..UNITS.len()).rev().find(|&u| {
            trimmed
                .strip_suffix(UNITS[u].0)
                .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit() || c == '.'))
        }) else {
            return Err(fail("unit is missing or unrecognized"));
        };
        let number = trimmed.strip_suffix(UNITS[unit].0).unwrap_or_default();
        if number.contains('.') {
            return Err(fail("fractional time values are not supported"));
        }
        let amount: u64 = number.parse().map_err(|_| fail("the number is too large"))?;
        let value = TimeValue { amount, unit };
        if amount == 0 {
            return Err(format!("[{setting}] must be positive, got [{text}]"));
        }
        if value.nanos() > u128::from(u64::MAX) {
            return Err(fail("the duration is too long"));
        }
        Ok(value)
    }

    /// A time value of whole days.
    pub fn days(days: u64) -> TimeValue {
        TimeValue { amount: days, unit: UNITS.len() - 1 }
    }

    fn nanos(&self) -> u128 {
        u128::from(self.amount) * UNITS[self.unit].1
    }

    /// The duration.
    pub fn duration(&self) -> Duration {
        Duration::from_nanos(u64::try_from(self.nanos()).unwrap_or(u64::MAX))
    }
}

impl fmt::Display for TimeValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.amount, UNITS[self.unit].0)
    }
}

impl TryFrom<String> for TimeValue {
    type Error = String;

    fn try_from(text: String) -> Result<TimeValue, String> {
        TimeValue::parse(&text, "data_retention")
    }
}

impl From<TimeValue> for String {
    fn from(value: TimeValue) -> String {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn time_values() {
        assert_eq!(TimeValue::parse("30d", "x").expect("30d").duration(), Duration::from_secs(30 * 86_400));
        assert_eq!(TimeValue::parse("90m", "x").expect("90m").to_string(), "90m");
        assert_eq!(TimeValue::parse("1500ms", "x").expect("ms").duration(), Duration::from_millis(1500));
        assert_eq!(TimeValue::parse("2micros", "x").expect("micros").duration(), Duration::from_micros(2));
        let err = TimeValue::parse("7x", "data_retention").expect_err("unit");
        assert_eq!(
            err,
            "failed to parse setting [data_retention] with value [7x] as a time value: unit is missing or unrecognized"
        );
        assert!(TimeValue::parse("1.5h", "x").expect_err("fraction").contains("fractional"));
        assert!(TimeValue::parse("0d", "x").is_err());
        assert!(TimeValue::parse("d", "x").is_err());
        assert!(TimeValue::parse("99999999999999999999d", "x").is_err());
    }

    #[test]
    fn lifecycles() {
        let l = Lifecycle::from_json("lifecycle", &json!({"data_retention": "7d"})).expect("parse");
        assert!(l.enabled);
        assert_eq!(l.to_json(), json!({"enabled": true, "data_retention": "7d"}));
        assert!(Lifecycle::from_json("lifecycle", &json!({"retention": "7d"})).is_err());
        assert!(Lifecycle::from_json("lifecycle", &json!({"data_retention": 7})).is_err());
        let settings = IndexSettings { data_stream: true, lifecycle: Some(l), ..IndexSettings::default() };
        assert_eq!(settings.effective_retention(None), Some(Duration::from_secs(7 * 86_400)));
        let no_retention = IndexSettings {
            data_stream: true,
            lifecycle: Some(Lifecycle { enabled: true, data_retention: None }),
            ..IndexSettings::default()
        };
        assert_eq!(no_retention.effective_retention(Some(Duration::from_secs(60))), Some(Duration::from_secs(60)));
        assert_eq!(IndexSettings::builtin("logs-a-b").effective_retention(Some(Duration::from_secs(60))), None);
        assert!(IndexSettings::builtin("logs-a-b").data_stream);
        assert!(!IndexSettings::builtin("notes").data_stream);
        let json = serde_json::to_string(&settings).expect("json");
        assert_eq!(serde_json::from_str::<IndexSettings>(&json).expect("parse"), settings);
    }
}
