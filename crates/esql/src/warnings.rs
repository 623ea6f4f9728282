//! Per-query warning collection, deduplicated and capped the way Elasticsearch does it.
//!
//! When a row fails to evaluate, ES|QL yields null and records two response warnings: a header
//! naming the failing expression and then the exception text. At most 20 failures are recorded
//! for each expression. Both are keyed by the expression's position in the query.

use std::sync::{Arc, Mutex};

/// How many failures Elastic records per expression.
pub const MAX_FAILURES_PER_SOURCE: usize = 20;

/// Collects a query's warnings. Shared (through [`WarningSink`]) by every function of a query.
#[derive(Debug, Default)]
pub struct Warnings {
    inner: Mutex<WarningsInner>,
}

#[derive(Debug, Default)]
struct WarningsInner {
    messages: Vec<String>,
    /// (position prefix, expression text) → failures recorded so far.
    counts: Vec<((String, String), usize)>,
}

impl Warnings {
    /// A new, empty collector.
    pub fn new() -> Arc<Warnings> {
        Arc::new(Warnings::default())
    }

    /// Adds a free-standing warning (e.g. a shadowed field), once.
    pub fn add(&self, message: impl Into<String>) {
        let message = message.into();
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if !inner.messages.contains(&message) {
            inner.messages.push(message);
        }
    }

    /// The warnings so far, in the order they were first raised.
    pub fn messages(&self) -> Vec<String> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).messages.clone()
    }

    fn record_failure(&self, sink: &WarningSink, outcome: &str, exception: &str) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let key = (sink.position.clone(), sink.text.clone());
        let count = match inner.counts.iter_mut().find(|(k, _)| *k == key) {
            Some((_, c)) => c,
            None => {
                inner.counts.push((key, 0));
                &mut inner.counts.last_mut().expect("invariant: just pushed").1
            }
        };
        if *count >= MAX_FAILURES_PER_SOURCE {
            return;
        }
        *count += 1;
        let header = format!(
            "{}: evaluation of [{}] failed, treating result as {outcome}. Only first {MAX_FAILURES_PER_SOURCE} failures recorded.",
            sink.position, sink.text
        );
        let detail = format!("{}: {exception}", sink.position);
        for m in [header, detail] {
            if !inner.messages.contains(&m) {
                inner.messages.push(m);
            }
        }
    }
}

/// Where a function reports its per-row failures: the collector plus the function's position
/// (`Line 1:23`) and source text, as Elastic prints them.
#[derive(Debug, Clone)]
pub struct WarningSink {
    warnings: Arc<Warnings>,
    position: String,
    text: String,
}

impl WarningSink {
    /// A sink for the expression written at `line:col` as `text`.
    pub fn new(warnings: Arc<Warnings>, line: usize, col: usize, text: impl Into<String>) -> WarningSink {
        WarningSink { warnings, position: format!("Line {line}:{col}"), text: text.into() }
    }

    /// A sink that discards everything (for constant folding in tests and internal use).
    pub fn discard() -> WarningSink {
        WarningSink { warnings: Warnings::new(), position: "Line 1:1".into(), text: String::new() }
    }

    /// Records that one row evaluated to null because of `exception` (a Java-style exception
    /// text, e.g. `java.lang.ArithmeticException: / by zero`).
    pub fn null_because(&self, exception: &str) {
        self.warnings.record_failure(self, "null", exception);
    }

    /// Records that one row evaluated to false because of `exception` (used by predicates).
    pub fn false_because(&self, exception: &str) {
        self.warnings.record_failure(self, "false", exception);
    }

    /// Records that a multi-valued input made a single-value function return null.
    pub fn multi_value(&self) {
        self.null_because("java.lang.IllegalArgumentException: single-value function encountered multi-value");
    }

    /// The collector behind this sink.
    pub fn collector(&self) -> &Arc<Warnings> {
        &self.warnings
    }

    /// The position and text, for equality/hash of UDF instances.
    pub fn key(&self) -> (&str, &str) {
        (&self.position, &self.text)
    }
}
