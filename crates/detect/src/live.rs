//! Rules on a schedule, continuously, as Kibana's task manager runs them (`saker serve --rules`).
//!
//! Each enabled rule runs every `interval`: its next execution starts one interval after the
//! previous one started ([`RuleState::last_started_at`], persisted with the rule state), or at
//! once when it never ran. An execution starts at the wall-clock time it actually starts (to the
//! millisecond, as Elasticsearch keeps dates), so a late execution — after a restart, or behind a
//! slow rule — searches Kibana's catch-up windows and records the gap they do not cover
//! ([`crate::schedule::windows`]).
//!
//! An execution cut short (the process killed while it ran) left its start in
//! [`RuleState::running`]; it runs again first, at that same start: the same windows, and so
//! the same alert ids, which the alerts index already holds for what was written before the
//! crash. Nothing is written twice and no time goes unsearched without a recorded gap.
//!
//! A rule that becomes runnable while the scheduler runs (created, or enabled again) starts its
//! schedule afresh, as Kibana's does: it runs at once over one window, with no catch-up and no
//! gap for the time it was disabled.
//!
//! Rules run one at a time, those due first; at equal times, rules that read the alerts index
//! (higher-order rules) run after the others, so they see this round's alerts.

use crate::rule::Rule;
use crate::schedule::{Engine, ExecutionReport, reads_alerts};
use crate::state::RuleState;
use crate::store::DetectionStore;
use chrono::{DateTime, Duration, Utc};
use std::collections::HashSet;
use std::sync::Arc;
use tokio::sync::watch;

/// The longest the scheduler sleeps before it looks at the rules again (they may have changed).
const MAX_SLEEP: std::time::Duration = std::time::Duration::from_secs(1);

/// When a rule runs next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NextRun {
    /// The time it is due.
    pub due: DateTime<Utc>,
    /// True when it is an execution cut short, to run again at `due` itself.
    pub resume: bool,
}

/// When `rule`, whose state is `state`, runs next, seen at `now`.
pub fn next_run(rule: &Rule, state: Option<&RuleState>, now: DateTime<Utc>) -> NextRun {
    match state {
        Some(RuleState { running: Some(started), .. }) => NextRun { due: *started, resume: true },
        Some(RuleState { last_started_at: Some(last), .. }) => {
            NextRun { due: *last + rule.interval.duration(), resume: false }
        }
        _ => NextRun { due: now, resume: false },
    }
}

/// `t` to the millisecond.
fn millis(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t)
}

/// Runs the rules `rules()` returns (read again before each round, so they may change) on their
/// schedules until `stop` turns true; an execution in progress finishes first. `on_execution`
/// sees every execution's report and how long it took (logs, metrics).
pub async fn run<S, R, F>(engine: &mut Engine<S>, mut rules: R, mut stop: watch::Receiver<bool>, mut on_execution: F)
where
    S: DetectionStore,
    R: FnMut() -> Arc<Vec<Rule>>,
    F: FnMut(&ExecutionReport, std::time::Duration),
{
    // The rules that were runnable in the previous round: one that becomes runnable while the
    // scheduler runs (created, or enabled again) starts its schedule afresh, as in Kibana. At
    // start, every rule goes on from its state (a restart is not a re-enable).
    let mut previous_round: Option<HashSet<String>> = None;
    loop {
        if *stop.borrow() {
            return;
        }
        let rules = rules();
        let (runnable, _) = Engine::<S>::runnable(&rules);
        let now = millis(Utc::now());
        let state = engine.store.load_state().unwrap_or_default();
        let mut due: Vec<(bool, bool, usize, DateTime<Utc>)> = Vec::new();
        let mut fresh: HashSet<String> = HashSet::new();
        let mut earliest: Option<DateTime<Utc>> = None;
        for (i, rule) in runnable.iter().enumerate() {
            let returning = previous_round.as_ref().is_some_and(|p| !p.contains(&rule.id));
            let next = if returning {
                fresh.insert(rule.id.clone());
                NextRun { due: now, resume: false }
            } else {
                next_run(rule, state.rules.get(&rule.id), now)
            };
            if next.resume || next.due <= now {
                let at = if next.resume { next.due } else { now };
                due.push((!next.resume, reads_alerts(rule), i, at));
            } else {
                earliest = Some(earliest.map_or(next.due, |e| e.min(next.due)));
            }
        }
        previous_round = Some(runnable.iter().map(|r| r.id.clone()).collect());
        if due.is_empty() {
            let wait = earliest
                .map(|e| (e - Utc::now()).max(Duration::milliseconds(1)))
                .and_then(|d| d.to_std().ok())
                .map_or(MAX_SLEEP, |d| d.min(MAX_SLEEP));
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.changed() => {}
            }
            continue;
        }
        due.sort_by_key(|&(fresh, higher, i, _)| (fresh, higher, i));
        for (_, _, i, at) in due {
            if *stop.borrow() {
                return;
            }
            let started = std::time::Instant::now();
            let rule = runnable[i];
            let report = if fresh.contains(&rule.id) {
                engine.execute_fresh(rule, at).await
            } else {
                engine.execute(rule, at).await
            };
            on_execution(&report, started.elapsed());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datemath::parse_date;
    use crate::rule::Origin;
    use serde_json::json;
    use std::path::PathBuf;

    fn rule() -> Rule {
        let obj = json!({"name": "r", "description": "d", "type": "query", "severity": "low", "risk_score": 1,
            "rule_id": "r", "query": "a:b", "index": ["logs-*"], "interval": "5m", "from": "now-6m"});
        Rule::from_api(obj.as_object().expect("object"), Origin { path: PathBuf::from("t"), line: None }).expect("rule")
    }

    #[test]
    fn next_runs_follow_the_state() {
        let r = rule();
        let now = parse_date("2024-05-01T10:03:00Z").expect("date");
        assert_eq!(next_run(&r, None, now), NextRun { due: now, resume: false });
        let last = parse_date("2024-05-01T10:00:00Z").expect("date");
        let state = RuleState { last_started_at: Some(last), ..RuleState::default() };
        assert_eq!(
            next_run(&r, Some(&state), now),
            NextRun { due: parse_date("2024-05-01T10:05:00Z").expect("date"), resume: false }
        );
        let cut = parse_date("2024-05-01T10:05:00Z").expect("date");
        let state = RuleState { last_started_at: Some(last), running: Some(cut), ..RuleState::default() };
        assert_eq!(next_run(&r, Some(&state), now), NextRun { due: cut, resume: true });
    }
}
