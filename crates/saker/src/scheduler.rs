//! The detection rules of `saker serve`: the `--rules` files and the rules managed through the
//! detection engine API, kept together in a [`RuleRegistry`] and run on their schedules in a
//! thread of their own beside the HTTP API, over the same store, until shutdown. The scheduler
//! reads the registry before every round, so rules created or changed through the API run
//! within a second.

use anyhow::Context;
use detect::registry::RuleRegistry;
use detect::schedule::Engine;
use detect::{ExecutionReport, StoreBackend};
use std::path::Path;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use tokio::sync::watch;

/// The running scheduler.
pub struct Scheduler {
    stop: watch::Sender<bool>,
    thread: JoinHandle<()>,
}

/// Loads the rules in `paths` (a broken file is logged and skipped, as `saker rules validate`
/// reports it) and the rules kept in the data folder `data` into a registry.
///
/// # Errors
/// When the registry's file in the data folder cannot be read or holds an invalid line.
pub fn load_registry(data: &Path, paths: &[PathBuf]) -> anyhow::Result<Arc<RuleRegistry>> {
    let report = detect::load_paths(paths);
    for e in &report.errors {
        tracing::error!(error = %e, "rule not loaded");
    }
    let (registry, warnings) = RuleRegistry::open(data, report.rules).context("reading the detection rules")?;
    for w in &warnings {
        tracing::warn!(warning = %w, "rule hidden");
    }
    let rules = registry.snapshot();
    let (_, skipped) = Engine::<StoreBackend>::runnable(&rules);
    for s in &skipped {
        tracing::warn!(rule = %s.rule_name, rule_type = %s.rule_type, reason = %s.reason, "rule not run");
    }
    tracing::info!(loaded = rules.len(), runnable = rules.len() - skipped.len(), "rules loaded");
    Ok(Arc::new(registry))
}

/// Starts running the rules of `registry` over `store`.
///
/// # Errors
/// When the rule state in the store's folder cannot be read, or the thread cannot start.
pub fn start(
    store: Arc<store::Store>,
    registry: Arc<RuleRegistry>,
    metrics: Arc<server::metrics::Metrics>,
) -> anyhow::Result<Scheduler> {
    let backend = StoreBackend::new(store).context("reading the rule state")?;
    let (stop, stopped) = watch::channel(false);
    let thread = std::thread::Builder::new()
        .name("saker-rules".into())
        .spawn(move || {
            // The engine blocks on store reads in places, which needs a multi-threaded runtime.
            let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build() {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!(error = %e, "the rule scheduler cannot start");
                    return;
                }
            };
            let mut engine = Engine::new(backend);
            let record = |report: &ExecutionReport, took: std::time::Duration| {
                log_execution(report);
                metrics.record_rule_execution(
                    &report.rule_id,
                    &report.status.to_string(),
                    took,
                    report.alerts_created as u64,
                    report.errors.len() as u64,
                    report.gap.is_some(),
                );
            };
            runtime.block_on(detect::live::run(&mut engine, || registry.snapshot(), stopped, record));
        })
        .context("starting the rule scheduler")?;
    Ok(Scheduler { stop, thread })
}

impl Scheduler {
    /// Asks the scheduler to stop after the execution in progress, and waits for it.
    pub fn stop(self) {
        let _ = self.stop.send(true);
        if self.thread.join().is_err() {
            tracing::error!("the rule scheduler panicked");
        }
    }
}

fn log_execution(report: &ExecutionReport) {
    let windows: Vec<String> = report
        .windows
        .iter()
        .map(|(from, to)| format!("{}..{}", detect::datemath::iso(*from), detect::datemath::iso(*to)))
        .collect();
    let started_at = detect::datemath::iso(report.started_at);
    if report.errors.is_empty() {
        tracing::info!(
            rule = %report.rule_name, rule_id = %report.rule_id, %started_at, windows = %windows.join(","),
            alerts = report.alerts_created, status = %report.status, warnings = report.warnings.len(),
            "rule executed"
        );
    } else {
        tracing::warn!(
            rule = %report.rule_name, rule_id = %report.rule_id, %started_at, windows = %windows.join(","),
            alerts = report.alerts_created, status = %report.status, message = %report.message,
            "rule executed with errors"
        );
    }
    for w in &report.warnings {
        tracing::warn!(rule = %report.rule_name, warning = %w, "rule warning");
    }
}
