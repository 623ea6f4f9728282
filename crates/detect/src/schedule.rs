//! The scheduler: when rules run, which windows each execution searches, catch-up for late
//! executions and recorded gaps (Kibana `rule_types/utils/utils.ts` `getRuleRangeTuples`,
//! reference §5), rule state, and the two ways Saker runs rules: one scheduled execution of
//! each rule at a time ([`Engine::run_at`]) and every execution in a range, in time order
//! ([`Engine::replay`], a backtest).
//!
//! An execution started at `t` searches `[from(t), to(t)]` (date math with `now = t`). When
//! the time since the previous execution exceeds that window, `min(ceil(gap / interval), 4)`
//! extra windows, each shifted back by one more interval, run first (oldest first, each with its
//! own `max_signals`); what they still do not cover is an error and a recorded gap.

use crate::alert::{ALERTS_INDEX, ExecutionContext};
use crate::datemath::{humanize, iso};
use crate::exec::{Tuple, TupleOutcome, execute_tuple, rule_indices};
use crate::rule::{Rule, derived_uuid};
use crate::state::{Gap, RuleState, Status};
use crate::store::DetectionStore;
use chrono::{DateTime, Duration, Utc};
use esql::analyzer::index_matches;

/// Kibana's cap on catch-up windows (`MAX_RULE_GAP_RATIO`).
pub const MAX_CATCHUP: i64 = 4;

/// Engine settings.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Kibana's `xpack.alerting.rules.run.alerts.max`: no execution window creates more alerts
    /// (1000).
    pub max_alerts: u32,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions { max_alerts: 1000 }
    }
}

/// The windows of one execution.
#[derive(Debug, Clone, PartialEq)]
pub struct Windows {
    /// Oldest first.
    pub tuples: Vec<Tuple>,
    /// The time between executions no window covers (zero when none).
    pub remaining_gap: Duration,
    /// Warnings (a `max_signals` above the limit).
    pub warnings: Vec<String>,
}

/// The windows of an execution of `rule` started at `started_at`, the previous one having
/// started at `previous`.
///
/// # Errors
/// When `from` or `to` cannot be evaluated at that time.
pub fn windows(
    rule: &Rule,
    started_at: DateTime<Utc>,
    previous: Option<DateTime<Utc>>,
    options: &EngineOptions,
) -> Result<Windows, String> {
    let from = rule.from.resolve(started_at).ok_or_else(|| format!("`from` ({}) is out of range", rule.from))?;
    let to = rule.to.resolve(started_at).ok_or_else(|| format!("`to` ({}) is out of range", rule.to))?;
    let mut warnings = Vec::new();
    let max_signals = if rule.max_signals > options.max_alerts {
        warnings.push(format!(
            "The rule's max alerts per run setting ({}) is greater than the Kibana alerting limit ({}). The rule will only write a maximum of {} alerts per rule run.",
            rule.max_signals, options.max_alerts, options.max_alerts
        ));
        options.max_alerts
    } else {
        rule.max_signals
    };
    let base = Tuple { from, to, max_signals };
    let interval = rule.interval.duration();
    let gap = match previous {
        None => Duration::zero(),
        Some(prev) => (started_at - prev) - (to - from),
    };
    if gap <= Duration::zero() {
        return Ok(Windows { tuples: vec![base], remaining_gap: Duration::zero(), warnings });
    }
    let interval_ms = interval.num_milliseconds().max(1);
    let catchup = ((gap.num_milliseconds() + interval_ms - 1) / interval_ms).min(MAX_CATCHUP);
    let mut tuples = vec![base];
    for k in 1..=catchup {
        let shift = interval * k as i32;
        tuples.push(Tuple { from: from - shift, to: to - shift, max_signals });
    }
    tuples.reverse();
    let remaining = gap - interval * catchup as i32;
    Ok(Windows { tuples, remaining_gap: remaining.max(Duration::zero()), warnings })
}

/// Kibana's error for a gap the catch-up windows did not cover.
pub fn gap_message(gap: Duration) -> String {
    format!(
        "{} ({}ms) were not queried between this rule execution and the last execution, so signals may have been missed. Consider increasing your look behind time or adding more Kibana instances",
        humanize(gap),
        gap.num_milliseconds()
    )
}

/// What one scheduled execution of a rule did.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionReport {
    /// The rule's `rule_id`.
    pub rule_id: String,
    /// The rule's name.
    pub rule_name: String,
    /// The scheduled start (`now` of the rule's date math).
    pub started_at: DateTime<Utc>,
    /// The windows searched, oldest first.
    pub windows: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    /// The outcome.
    pub status: Status,
    /// Kibana's status message.
    pub message: String,
    /// Alerts created.
    pub alerts_created: usize,
    /// Warnings.
    pub warnings: Vec<String>,
    /// Errors.
    pub errors: Vec<String>,
    /// Warnings of the queries themselves (informational).
    pub query_warnings: Vec<String>,
    /// The gap recorded by this execution.
    pub gap: Option<Gap>,
}

/// A rule that was not run, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The rule's name.
    pub rule_name: String,
    /// Its type.
    pub rule_type: String,
    /// Why.
    pub reason: String,
}

/// What a run (one time, or a replay) did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunSummary {
    /// Every execution, in the order they ran.
    pub executions: Vec<ExecutionReport>,
    /// Rules not run (unsupported type or language, disabled).
    pub skipped: Vec<Skipped>,
}

impl RunSummary {
    /// How many distinct rules ran at least once.
    pub fn rules_run(&self) -> usize {
        let ids: std::collections::HashSet<&str> = self.executions.iter().map(|e| e.rule_id.as_str()).collect();
        ids.len()
    }

    /// Alerts written in all.
    pub fn alerts_written(&self) -> usize {
        self.executions.iter().map(|e| e.alerts_created).sum()
    }

    /// Warnings in all.
    pub fn warnings(&self) -> usize {
        self.executions.iter().map(|e| e.warnings.len()).sum()
    }

    /// Errors in all.
    pub fn errors(&self) -> usize {
        self.executions.iter().map(|e| e.errors.len()).sum()
    }
}

/// Runs rules against a store.
#[derive(Debug)]
pub struct Engine<S> {
    /// Where events are read and alerts written.
    pub store: S,
    /// Settings.
    pub options: EngineOptions,
}

impl<S: DetectionStore> Engine<S> {
    /// An engine over `store` with default settings.
    pub fn new(store: S) -> Engine<S> {
        Engine { store, options: EngineOptions::default() }
    }

    /// Splits rules into those Saker runs and those it skips (with the reason).
    pub fn runnable(rules: &[Rule]) -> (Vec<&Rule>, Vec<Skipped>) {
        let mut run = Vec::new();
        let mut skipped = Vec::new();
        for rule in rules {
            let reason = rule
                .unsupported_reason()
                .or_else(|| (!rule.enabled).then(|| "disabled (`enabled: false`)".to_string()));
            match reason {
                Some(reason) => skipped.push(Skipped {
                    rule_name: rule.name.clone(),
                    rule_type: rule.rule_type.to_string(),
                    reason,
                }),
                None => run.push(rule),
            }
        }
        (run, skipped)
    }

    /// One scheduled execution of each runnable rule at `at`, higher-order rules (those reading
    /// the alerts index) last.
    pub async fn run_at(&mut self, rules: &[Rule], at: DateTime<Utc>) -> RunSummary {
        let (run, skipped) = Self::runnable(rules);
        let mut ordered: Vec<(bool, usize, &Rule)> =
            run.into_iter().enumerate().map(|(i, r)| (reads_alerts(r), i, r)).collect();
        ordered.sort_by_key(|(higher, i, _)| (*higher, *i));
        let mut summary = RunSummary { skipped, ..RunSummary::default() };
        for (_, _, rule) in ordered {
            summary.executions.push(self.execute(rule, at).await);
        }
        summary
    }

    /// Every scheduled execution of each runnable rule from `from` to `to` (both included):
    /// `from`, `from + interval`, …, in time order; at equal times, rules that read the alerts
    /// index run after the others, then in the order given.
    pub async fn replay(&mut self, rules: &[Rule], from: DateTime<Utc>, to: DateTime<Utc>) -> RunSummary {
        let (run, skipped) = Self::runnable(rules);
        let mut schedule: Vec<(DateTime<Utc>, bool, usize)> = Vec::new();
        for (i, rule) in run.iter().enumerate() {
            let higher = reads_alerts(rule);
            let mut t = from;
            while t <= to {
                schedule.push((t, higher, i));
                t += rule.interval.duration();
            }
        }
        schedule.sort();
        let mut summary = RunSummary { skipped, ..RunSummary::default() };
        for (t, _, i) in schedule {
            summary.executions.push(self.execute(run[i], t).await);
        }
        summary
    }

    /// One scheduled execution of `rule` started at `started_at`: its windows (with catch-up),
    /// alerts, status, and the rule's state saved. Never fails: problems are the report's
    /// errors.
    pub async fn execute(&mut self, rule: &Rule, started_at: DateTime<Utc>) -> ExecutionReport {
        self.execute_with(rule, started_at, false).await
    }

    /// An execution of `rule` that starts its schedule afresh, as Kibana's first execution after
    /// a rule is enabled: one window, no catch-up and no gap for the time before.
    pub async fn execute_fresh(&mut self, rule: &Rule, started_at: DateTime<Utc>) -> ExecutionReport {
        self.execute_with(rule, started_at, true).await
    }

    async fn execute_with(&mut self, rule: &Rule, started_at: DateTime<Utc>, fresh: bool) -> ExecutionReport {
        let mut state = match self.store.load_state() {
            Ok(s) => s,
            Err(e) => {
                let mut report = self.report(rule, started_at);
                report.errors.push(format!("cannot read the rule state: {e}"));
                report.status = Status::Failed;
                report.message = report.errors.join(", ");
                return report;
            }
        };
        let previous = if fresh { None } else { state.rules.get(&rule.id).and_then(|s| s.last_started_at) };
        let mut report = self.report(rule, started_at);
        // Marked before any alert is written, so that an execution cut short by a crash is run
        // again at the same time ([`RuleState::running`]).
        state.rules.entry(rule.id.clone()).or_default().running = Some(started_at);
        if let Err(e) = self.store.save_state(&state) {
            report.errors.push(format!("cannot save the rule state: {e}"));
            report.status = Status::Failed;
            report.message = report.errors.join(", ");
            return report;
        }
        match windows(rule, started_at, previous, &self.options) {
            Err(e) => report.errors.push(e),
            Ok(w) => {
                report.warnings.extend(w.warnings);
                let ctx = ExecutionContext {
                    rule,
                    started_at,
                    execution_uuid: derived_uuid(&format!("{}:{}", rule.id, iso(started_at))),
                    indices: rule_indices(rule),
                };
                for tuple in &w.tuples {
                    report.windows.push((tuple.from, tuple.to));
                    let outcome: TupleOutcome = execute_tuple(&mut self.store, &ctx, tuple).await;
                    report.alerts_created += outcome.created;
                    for warning in outcome.warnings {
                        if !report.warnings.contains(&warning) {
                            report.warnings.push(warning);
                        }
                    }
                    report.errors.extend(outcome.errors);
                    for w in outcome.query_warnings {
                        if !report.query_warnings.contains(&w) {
                            report.query_warnings.push(w);
                        }
                    }
                    if outcome.skipped {
                        break;
                    }
                }
                if w.remaining_gap > Duration::zero()
                    && let Some(prev) = previous
                {
                    report.errors.push(gap_message(w.remaining_gap));
                    report.gap = Some(Gap { gte: prev, lte: prev + w.remaining_gap });
                }
            }
        }
        (report.status, report.message) = if !report.errors.is_empty() {
            (Status::Failed, report.errors.join(", "))
        } else if !report.warnings.is_empty() {
            (Status::PartialFailure, report.warnings.join(", "))
        } else {
            (Status::Succeeded, "Rule execution completed successfully".to_string())
        };
        let entry = state.rules.entry(rule.id.clone()).or_insert_with(RuleState::default);
        entry.rule_id = rule.rule_id.clone();
        entry.name = rule.name.clone();
        if entry.last_started_at.is_none_or(|p| p <= started_at) {
            entry.last_started_at = Some(started_at);
        }
        entry.last_status = Some(report.status);
        entry.last_message = report.message.clone();
        entry.warnings = report.warnings.clone();
        entry.errors = report.errors.clone();
        if let Some(gap) = &report.gap {
            entry.gaps.push(gap.clone());
        }
        entry.running = None;
        entry.executions += 1;
        entry.alerts_created += report.alerts_created as u64;
        if let Err(e) = self.store.save_state(&state) {
            report.errors.push(format!("cannot save the rule state: {e}"));
            report.status = Status::Failed;
        }
        report
    }

    fn report(&self, rule: &Rule, started_at: DateTime<Utc>) -> ExecutionReport {
        ExecutionReport {
            rule_id: rule.rule_id.clone(),
            rule_name: rule.name.clone(),
            started_at,
            windows: Vec::new(),
            status: Status::Succeeded,
            message: String::new(),
            alerts_created: 0,
            warnings: Vec::new(),
            errors: Vec::new(),
            query_warnings: Vec::new(),
            gap: None,
        }
    }
}

/// True when the rule reads `.alerts-security.alerts-default` (a higher-order rule).
pub fn reads_alerts(rule: &Rule) -> bool {
    rule_indices(rule).iter().any(|p| index_matches(p, ALERTS_INDEX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datemath::parse_date;
    use crate::rule::Origin;
    use serde_json::json;
    use std::path::PathBuf;

    fn rule(interval: &str, from: &str) -> Rule {
        let obj = json!({"name": "r", "description": "d", "type": "query", "severity": "low", "risk_score": 1,
            "rule_id": "r", "query": "a:b", "index": ["logs-*"], "interval": interval, "from": from});
        Rule::from_api(obj.as_object().expect("object"), Origin { path: PathBuf::from("t"), line: None }).expect("rule")
    }

    fn at(s: &str) -> DateTime<Utc> {
        parse_date(s).expect("date")
    }

    #[test]
    fn on_time_runs_have_one_window() {
        let r = rule("5m", "now-6m");
        let w = windows(&r, at("2024-05-01T10:05:00Z"), Some(at("2024-05-01T10:00:00Z")), &EngineOptions::default())
            .expect("windows");
        assert_eq!(w.tuples.len(), 1);
        assert_eq!(iso(w.tuples[0].from), "2024-05-01T09:59:00.000Z");
        assert_eq!(w.remaining_gap, Duration::zero());
    }

    #[test]
    fn late_runs_catch_up_and_record_the_rest_as_a_gap() {
        let r = rule("5m", "now-6m");
        // 10:00 → 10:20: 20 minutes since the last start, the window covers 6: gap 14 minutes,
        // three catch-up windows (15 minutes), nothing left.
        let w = windows(&r, at("2024-05-01T10:20:00Z"), Some(at("2024-05-01T10:00:00Z")), &EngineOptions::default())
            .expect("windows");
        let froms: Vec<String> = w.tuples.iter().map(|t| iso(t.from)).collect();
        assert_eq!(
            froms,
            [
                "2024-05-01T09:59:00.000Z",
                "2024-05-01T10:04:00.000Z",
                "2024-05-01T10:09:00.000Z",
                "2024-05-01T10:14:00.000Z"
            ]
        );
        assert_eq!(w.remaining_gap, Duration::zero());
        // 10:00 → 11:00: gap 54 minutes, four catch-up windows (20), 34 minutes uncovered
        let w = windows(&r, at("2024-05-01T11:00:00Z"), Some(at("2024-05-01T10:00:00Z")), &EngineOptions::default())
            .expect("windows");
        assert_eq!(w.tuples.len(), 5);
        assert_eq!(w.remaining_gap, Duration::minutes(34));
        assert!(
            gap_message(w.remaining_gap).starts_with(
                "34 minutes (2040000ms) were not queried between this rule execution and the last execution"
            )
        );
    }

    #[test]
    fn max_signals_above_the_limit_is_capped_with_a_warning() {
        let mut r = rule("5m", "now-6m");
        r.max_signals = 5000;
        let w = windows(&r, at("2024-05-01T10:00:00Z"), None, &EngineOptions::default()).expect("windows");
        assert_eq!(w.tuples[0].max_signals, 1000);
        assert!(w.warnings[0].contains("(5000) is greater than the Kibana alerting limit (1000)"));
    }
}
