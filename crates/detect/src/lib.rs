//! Saker's detection engine: Elastic Security detection rules, run unchanged, with Kibana's
//! semantics.
//!
//! - [`rule`] is the rule model ([`Rule`]); [`load`] reads rules as people keep them
//!   (elastic/detection-rules TOML, Kibana NDJSON exports, JSON) and reports broken files without
//!   stopping ([`load::load_paths`]).
//! - [`exec`] runs one window of a rule: ES|QL rules ([`exec::esql`]) and KQL query rules
//!   ([`exec::query`]); other rule types load and are reported as not yet supported.
//! - [`alert`] builds Kibana's alert documents for `.alerts-security.alerts-default`.
//! - [`schedule`] holds the [`Engine`]: scheduled executions with Kibana's look-back, catch-up
//!   and gaps, rule state ([`state`]), one-time runs and replays (backtests).
//! - [`live`] runs rules continuously on their schedules (`saker serve --rules`), resuming an
//!   execution a crash cut short.
//! - [`store`] is where events come from and alerts go ([`DetectionStore`]), with an in-memory
//!   implementation over NDJSON folders ([`MemStore`]); [`backend`] serves it from the embedded
//!   store ([`StoreBackend`]).
//! - [`lint`] finds rule defects that make conditions impossible, such as comparing one field
//!   with literals that differ only in case.
//! - [`datemath`] is Kibana's date math for `from`/`to`.
#![warn(missing_docs)]

pub mod alert;
pub mod backend;
pub mod datemath;
pub mod doc;
pub mod exec;
pub mod lint;
pub mod live;
pub mod load;
pub mod objhash;
pub mod registry;
pub mod rule;
pub mod schedule;
pub mod state;
pub mod store;
pub mod validate;

pub use backend::StoreBackend;
pub use load::{LoadError, LoadReport, load_paths};
pub use rule::{Rule, RuleType, Severity};
pub use schedule::{Engine, ExecutionReport, RunSummary};
pub use store::{DetectionStore, MemStore, StoreError};
