//! Per-query warning collection, deduplicated and capped the way Elasticsearch does it.
//!
//! When a row fails to evaluate, ES|QL yields null and records two response warnings: a header
//! naming the failing expression and then the exception text. At most 20 failures are recorded
//! for each expression. Both are keyed by the expression's position in the query.

use std::sync::atomic::{AtomicBool, Ordering};
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
        // A function failing on every row of a large index calls this once per row.
        if sink.full.load(Ordering::Relaxed) {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let at = inner.counts.iter().position(|((position, text), _)| *position == sink.position && *text == sink.text);
        let count = match at {
            Some(at) => &mut inner.counts[at].1,
            None => {
                inner.counts.push(((sink.position.clone(), sink.text.clone()), 0));
                &mut inner.counts.last_mut().expect("invariant: just pushed").1
            }
        };
        if *count >= MAX_FAILURES_PER_SOURCE {
            sink.full.store(true, Ordering::Relaxed);
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
    /// Set once the expression has recorded all the failures it may: later ones are dropped
    /// without taking the lock.
    full: Arc<AtomicBool>,
}

impl WarningSink {
    /// A sink for the expression written at `line:col` as `text`.
    pub fn new(warnings: Arc<Warnings>, line: usize, col: usize, text: impl Into<String>) -> WarningSink {
        WarningSink {
            warnings,
            position: format!("Line {line}:{col}"),
            text: text.into(),
            full: Arc::new(AtomicBool::new(false)),
        }
    }

    /// A sink that discards everything (for constant folding in tests and internal use).
    pub fn discard() -> WarningSink {
        WarningSink {
            warnings: Warnings::new(),
            position: "Line 1:1".into(),
            text: String::new(),
            full: Arc::new(AtomicBool::new(false)),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_capped_per_expression() {
        let warnings = Warnings::new();
        let a = WarningSink::new(warnings.clone(), 1, 5, "a + 1");
        for _ in 0..1000 {
            a.null_because("java.lang.ArithmeticException: integer overflow");
        }
        // Another sink for the same expression (another batch's copy) shares the count.
        let again = WarningSink::new(warnings.clone(), 1, 5, "a + 1");
        again.multi_value();
        let b = WarningSink::new(warnings.clone(), 2, 1, "b");
        b.multi_value();
        assert_eq!(
            warnings.messages(),
            [
                "Line 1:5: evaluation of [a + 1] failed, treating result as null. Only first 20 failures recorded.",
                "Line 1:5: java.lang.ArithmeticException: integer overflow",
                "Line 2:1: evaluation of [b] failed, treating result as null. Only first 20 failures recorded.",
                "Line 2:1: java.lang.IllegalArgumentException: single-value function encountered multi-value",
            ]
        );
        let counts = warnings.inner.lock().unwrap().counts.clone();
        assert_eq!(counts.iter().map(|(_, c)| *c).collect::<Vec<_>>(), [MAX_FAILURES_PER_SOURCE, 1]);
        assert!(a.full.load(Ordering::Relaxed) && again.full.load(Ordering::Relaxed));
        assert!(!b.full.load(Ordering::Relaxed));
    }
}
