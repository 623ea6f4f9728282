//! Rule execution state, as Kibana's rule monitoring keeps it: last run, status and message,
//! warnings, errors and the gaps no execution covered. Persisted by the store as JSON.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// An execution's outcome, as Kibana's rule execution log names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    /// No warnings, no errors.
    #[serde(rename = "succeeded")]
    Succeeded,
    /// Warnings (shown as "Warning" in Kibana).
    #[serde(rename = "partial failure")]
    PartialFailure,
    /// Errors (they win over warnings).
    #[serde(rename = "failed")]
    Failed,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Succeeded => "succeeded",
            Status::PartialFailure => "partial failure",
            Status::Failed => "failed",
        })
    }
}

/// A time range no execution searched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    /// Start (the previous execution's start).
    pub gte: DateTime<Utc>,
    /// End.
    pub lte: DateTime<Utc>,
}

/// The state of one rule.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RuleState {
    /// The rule's `rule_id`.
    pub rule_id: String,
    /// Its name when it last ran.
    pub name: String,
    /// The scheduled start of its last execution.
    pub last_started_at: Option<DateTime<Utc>>,
    /// The status of its last execution.
    pub last_status: Option<Status>,
    /// The message of its last execution.
    pub last_message: String,
    /// Warnings of its last execution.
    pub warnings: Vec<String>,
    /// Errors of its last execution.
    pub errors: Vec<String>,
    /// Every gap recorded so far.
    pub gaps: Vec<Gap>,
    /// How many times it ran.
    pub executions: u64,
    /// How many alerts it created in all.
    pub alerts_created: u64,
    /// The scheduled start of an execution that began and has not finished: after a crash, the
    /// scheduler runs that execution again, with the same windows and so the same alert ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running: Option<DateTime<Utc>>,
}

/// The state of every rule, by rule object id (`kibana.alert.rule.uuid`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct EngineState {
    /// Format version of this file.
    pub version: u32,
    /// Per rule.
    pub rules: BTreeMap<String, RuleState>,
}
