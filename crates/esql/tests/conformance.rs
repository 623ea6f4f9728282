//! Elastic's ES|QL csv-spec conformance suite, run against Saker.
//!
//! The spec files and test data live outside the repository, in the shared corpus folder
//! (`$SAKER_SHARED`, else `<workspace>/../shared`), under `esql-spec/` (see its `DATASETS.md`).
//! Environment:
//!
//! * `SAKER_SPECS=<dir>`: the folder of `*.csv-spec` files (default `esql-spec/specs`).
//! * `SAKER_CONFORMANCE_VERBOSE=1`: list every failing and skipped case with its reason.
//! * `SAKER_CONFORMANCE_BLESS=1`: rewrite `tests/conformance-passing.txt` from this run.
//! * `SAKER_CONFORMANCE_FILTER=<text>`: only run cases whose `<file>::<name>` contains it.
//! * `SAKER_CONFORMANCE_TIMEOUT=<seconds>`: per-case time limit (default 10).
//!
//! It prints one line per spec file and a final `N passed, N failed, N skipped` line, and fails
//! when a case listed in `tests/conformance-passing.txt` no longer passes.

#[path = "conformance/compare.rs"]
mod compare;
#[path = "conformance/datasets.rs"]
mod datasets;
#[path = "conformance/sources.rs"]
mod sources;
#[path = "conformance/spec.rs"]
mod spec;
#[path = "conformance/values.rs"]
mod values;

use esql::catalog::Catalog;
use esql::{QueryOptions, QueryOutput};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once, mpsc};
use std::time::{Duration, Instant};

/// Capabilities (`required_capability:`) Saker deliberately does not support, with the reason.
/// Tests needing one are skipped. Empty: every test is attempted.
const UNSUPPORTED_CAPABILITIES: &[(&str, &str)] = &[];

/// Name prefix of the threads that run queries (their panics are captured, not printed).
const QUERY_THREAD: &str = "conformance-query";

const PASSING_FILE: &str = "tests/conformance-passing.txt";

/// The shared corpus folder: `$SAKER_SHARED`, else `<workspace root>/../shared`.
pub fn shared_root() -> PathBuf {
    match std::env::var_os("SAKER_SHARED") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
    }
}

/// `<shared>/esql-spec`.
pub fn esql_spec_root() -> PathBuf {
    shared_root().join("esql-spec")
}

/// The message printed when the corpus is missing.
pub fn missing_corpus_message() -> String {
    format!(
        "the ES|QL conformance corpus was not found: expected the spec files in {} and the data in {}. \
         Set SAKER_SHARED to the shared folder (the one holding esql-spec/) or SAKER_SPECS to a folder of *.csv-spec files.",
        specs_dir().display(),
        esql_spec_root().join("data").display()
    )
}

/// The corpus' own spec folder (unit tests use it even when `SAKER_SPECS` points elsewhere).
fn dev_specs_dir() -> PathBuf {
    esql_spec_root().join("specs")
}

fn specs_dir() -> PathBuf {
    match std::env::var_os("SAKER_SPECS") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => esql_spec_root().join("specs"),
    }
}

fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
}

/// The result of one case.
#[derive(Debug, Clone)]
enum Outcome {
    Pass,
    Fail(String),
    Skip(String),
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("").trim_end()
}

thread_local! {
    static PANIC_MESSAGE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Keeps query-thread panics quiet (they become failing cases) and remembers their message.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let ours = std::thread::current().name().is_some_and(|n| n.starts_with(QUERY_THREAD));
            if ours {
                PANIC_MESSAGE.with(|m| *m.borrow_mut() = Some(info.to_string().replace('\n', " ")));
            } else {
                default(info);
            }
        }));
    });
}

/// Runs a query on its own thread and current-thread runtime, with a time limit. A panic or a
/// thread that never returns becomes an error; the harness carries on.
fn run_query(catalog: Arc<dyn Catalog>, query: String, timeout: Duration, n: usize) -> Result<QueryOutput, String> {
    run_contained(
        move || async move { esql::execute(catalog, &query, &QueryOptions::default()).await.map_err(|e| e.to_string()) },
        timeout,
        Duration::from_secs(5),
        n,
    )
}

/// Runs `make()`'s future on a fresh thread with a current-thread tokio runtime. Errors are
/// reduced to their first line. The future gets `timeout`; a thread still busy `grace` later
/// (blocked outside the runtime) is abandoned.
fn run_contained<T, F, Fut>(make: F, timeout: Duration, grace: Duration, n: usize) -> Result<T, String>
where
    T: Send + 'static,
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let (tx, rx) = mpsc::channel();
    let spawned =
        std::thread::Builder::new().name(format!("{QUERY_THREAD}-{n}")).stack_size(64 << 20).spawn(move || {
            let result = panic::catch_unwind(AssertUnwindSafe(|| {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| format!("cannot start a tokio runtime: {e}"))?;
                let result = rt.block_on(async {
                    match tokio::time::timeout(timeout, make()).await {
                        Ok(Ok(out)) => Ok(out),
                        Ok(Err(e)) => Err(format!("error: {}", first_line(&e))),
                        Err(_) => Err(format!("timed out after {}s", timeout.as_secs_f64())),
                    }
                });
                rt.shutdown_background();
                result
            }));
            let result = result.unwrap_or_else(|payload| {
                let message = PANIC_MESSAGE.with(|m| m.borrow_mut().take()).unwrap_or_else(|| {
                    payload
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| payload.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "unknown panic".into())
                });
                Err(format!("panicked: {message}"))
            });
            let _ = tx.send(result);
        });
    let handle = spawned.map_err(|e| format!("cannot start a query thread: {e}"))?;
    match rx.recv_timeout(timeout + grace) {
        Ok(result) => {
            let _ = handle.join();
            result
        }
        Err(mpsc::RecvTimeoutError::Timeout) => Err(format!(
            "timed out after {}s (the query blocked its thread, which was left running)",
            timeout.as_secs_f64()
        )),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err("the query thread died without a result".into()),
    }
}

/// Everything needed to decide and run cases.
struct Harness {
    corpus: datasets::Corpus,
    catalog: Arc<dyn Catalog>,
    timeout: Duration,
    runs: AtomicUsize,
}

impl Harness {
    /// Why the case is skipped, or why it fails before running, if so.
    fn precheck(&self, case: &spec::SpecCase) -> Option<Outcome> {
        if case.is_ignored() {
            return Some(Outcome::Skip("disabled (-Ignore)".into()));
        }
        if let Some(cap) = case.missing_capabilities.first() {
            return Some(Outcome::Skip(format!("asserts old-version behaviour (missing_capability: {cap})")));
        }
        for cap in &case.required_capabilities {
            if let Some((_, why)) = UNSUPPORTED_CAPABILITIES.iter().find(|(c, _)| c == cap) {
                return Some(Outcome::Skip(format!("capability {cap} is out of scope: {why}")));
            }
        }
        let src = sources::sources(&case.query);
        if let Some(p) = src.patterns.first() {
            return Some(Outcome::Skip(format!("index pattern `{p}` needs the full upstream index set")));
        }
        for index in src.indices.iter().filter(|i| !i.starts_with('-')) {
            if self.corpus.indices.contains(index) {
                continue;
            }
            if let Some(err) = self.corpus.broken.get(index) {
                return Some(Outcome::Fail(format!("dataset `{index}` failed to load: {err}")));
            }
            if index.contains(':') {
                return Some(Outcome::Skip(format!("remote index `{index}`")));
            }
            return Some(Outcome::Skip(format!("needs dataset `{index}` (not in the corpus)")));
        }
        for policy in &src.policies {
            if self.corpus.policies.contains(policy) {
                continue;
            }
            if let Some(err) = self.corpus.broken.get(policy) {
                return Some(Outcome::Fail(format!("enrich policy `{policy}` failed to load: {err}")));
            }
            return Some(Outcome::Skip(format!("needs enrich policy `{policy}` (not in the corpus)")));
        }
        None
    }

    fn run(&self, case: &spec::SpecCase) -> Outcome {
        if let Some(outcome) = self.precheck(case) {
            return outcome;
        }
        if let Some(e) = &case.error {
            return Outcome::Fail(format!("malformed spec: {e}"));
        }
        let expected = match spec::parse_table(&case.expected_lines) {
            Ok(t) => t,
            Err(e) => return Outcome::Fail(format!("malformed spec: {e}")),
        };
        let n = self.runs.fetch_add(1, Ordering::Relaxed) + 1;
        let output = match run_query(self.catalog.clone(), case.query.clone(), self.timeout, n) {
            Ok(out) => out,
            Err(e) => return Outcome::Fail(e),
        };
        let checked = compare::read_output(&output).and_then(|actual| {
            compare::compare_columns(&expected, &actual)?;
            compare::compare_rows(&expected, &actual, case.ignore_order)?;
            compare::compare_warnings(&case.warnings, &case.warning_regexes, &output.warnings)
        });
        match checked {
            Ok(()) => Outcome::Pass,
            Err(e) => Outcome::Fail(e),
        }
    }
}

/// Unique keys `<file>::<name>`, duplicates suffixed `#2`, `#3`, … in file order.
fn case_keys(file: &str, cases: &[spec::SpecCase]) -> Vec<String> {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    cases
        .iter()
        .map(|c| {
            let n = seen.entry(c.name.as_str()).or_insert(0);
            *n += 1;
            if *n == 1 { format!("{file}::{}", c.name) } else { format!("{file}::{}#{n}", c.name) }
        })
        .collect()
}

fn file_of(key: &str) -> &str {
    key.split_once("::").map_or(key, |(f, _)| f)
}

fn read_passing(path: &Path) -> BTreeSet<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// Groups skip reasons for the summary (`needs dataset `airports`` → counted per dataset).
fn summarize_skips(outcomes: &[(String, Outcome)]) -> Vec<String> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, o) in outcomes {
        if let Outcome::Skip(reason) = o {
            *counts.entry(reason.as_str()).or_insert(0) += 1;
        }
    }
    let mut lines: Vec<(usize, &str)> = counts.into_iter().map(|(r, n)| (n, r)).collect();
    lines.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    lines.into_iter().map(|(n, r)| format!("  {n:>4} skipped: {r}")).collect()
}

#[test]
fn conformance() {
    let specs = specs_dir();
    if !specs.is_dir() || !esql_spec_root().join("data").is_dir() {
        panic!("{}", missing_corpus_message());
    }
    install_panic_hook();
    let verbose = env_flag("SAKER_CONFORMANCE_VERBOSE");
    let bless = env_flag("SAKER_CONFORMANCE_BLESS");
    let filter = std::env::var("SAKER_CONFORMANCE_FILTER").ok().filter(|f| !f.is_empty());
    let timeout = std::env::var("SAKER_CONFORMANCE_TIMEOUT")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .map_or(Duration::from_secs(10), Duration::from_secs);
    let started = Instant::now();

    let corpus = datasets::load(&esql_spec_root());
    for (name, err) in &corpus.broken {
        println!("warning: dataset or policy `{name}` failed to load: {err}");
    }
    let catalog: Arc<dyn Catalog> = Arc::new(corpus.catalog.clone());
    let harness = Harness { corpus, catalog, timeout, runs: AtomicUsize::new(0) };
    let jobs = std::env::var("SAKER_CONFORMANCE_JOBS")
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()).min(8))
        .max(1);

    let mut files: Vec<PathBuf> = match std::fs::read_dir(&specs) {
        Ok(dir) => dir
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "csv-spec"))
            .collect(),
        Err(e) => panic!("cannot list {}: {e}", specs.display()),
    };
    files.sort();
    if files.is_empty() {
        panic!("no *.csv-spec files in {}", specs.display());
    }

    // Read every file first, then run the selected cases on `jobs` workers, then report in order.
    let mut run_files = BTreeSet::new();
    let mut parsed_cases = 0usize;
    let mut per_file: Vec<(String, Vec<(String, spec::SpecCase)>)> = Vec::new();
    for path in &files {
        let file = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
        run_files.insert(file.clone());
        let cases = match std::fs::read_to_string(path) {
            Ok(text) => spec::read_spec(&text),
            Err(e) => vec![spec::SpecCase {
                name: "<file>".into(),
                error: Some(format!("cannot read: {e}")),
                ..Default::default()
            }],
        };
        parsed_cases += cases.len();
        let keys = case_keys(&file, &cases);
        let selected = keys
            .into_iter()
            .zip(cases)
            .filter(|(key, _)| filter.as_ref().is_none_or(|f| key.contains(f.as_str())))
            .collect();
        per_file.push((file, selected));
    }
    let work: Vec<&spec::SpecCase> = per_file.iter().flat_map(|(_, cases)| cases.iter().map(|(_, c)| c)).collect();
    let results: Vec<Mutex<Option<Outcome>>> = work.iter().map(|_| Mutex::new(None)).collect();
    let durations: Vec<Mutex<Duration>> = work.iter().map(|_| Mutex::new(Duration::ZERO)).collect();
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(work.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(case) = work.get(i) else { break };
                    let case_started = Instant::now();
                    let outcome = panic::catch_unwind(AssertUnwindSafe(|| harness.run(case))).unwrap_or_else(|_| {
                        Outcome::Fail("the harness panicked on this case (see the message above)".into())
                    });
                    *durations[i].lock().unwrap_or_else(|e| e.into_inner()) = case_started.elapsed();
                    *results[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(outcome);
                }
            });
        }
    });
    let mut results = results.into_iter().map(|m| {
        m.into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .unwrap_or_else(|| Outcome::Fail("the harness lost this case's result".into()))
    });

    let mut outcomes: Vec<(String, Outcome)> = Vec::new();
    for (file, cases) in &per_file {
        if cases.is_empty() && filter.is_some() {
            continue;
        }
        let file_outcomes: Vec<(String, Outcome)> = cases
            .iter()
            .map(|(key, _)| {
                let outcome =
                    results.next().unwrap_or_else(|| Outcome::Fail("the harness lost this case's result".into()));
                (key.clone(), outcome)
            })
            .collect();
        let count = |f: fn(&Outcome) -> bool| file_outcomes.iter().filter(|(_, o)| f(o)).count();
        println!(
            "{file}: {} passed, {} failed, {} skipped",
            count(|o| matches!(o, Outcome::Pass)),
            count(|o| matches!(o, Outcome::Fail(_))),
            count(|o| matches!(o, Outcome::Skip(_)))
        );
        if verbose {
            for (key, o) in &file_outcomes {
                let name = key.split_once("::").map_or(key.as_str(), |(_, n)| n);
                match o {
                    Outcome::Fail(why) => println!("    FAIL {name}: {why}"),
                    Outcome::Skip(why) => println!("    SKIP {name}: {why}"),
                    Outcome::Pass => {}
                }
            }
        }
        outcomes.extend(file_outcomes);
    }

    let passed = outcomes.iter().filter(|(_, o)| matches!(o, Outcome::Pass)).count();
    let failed = outcomes.iter().filter(|(_, o)| matches!(o, Outcome::Fail(_))).count();
    let skipped = outcomes.iter().filter(|(_, o)| matches!(o, Outcome::Skip(_))).count();
    println!();
    println!(
        "{} spec files, {parsed_cases} cases parsed, {} selected, {} runnable, {} queries run in {:.1}s ({jobs} workers)",
        files.len(),
        outcomes.len(),
        outcomes.len() - skipped,
        harness.runs.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64()
    );
    for line in summarize_skips(&outcomes) {
        println!("{line}");
    }
    let mut slowest: Vec<(Duration, &str)> = durations
        .iter()
        .map(|d| *d.lock().unwrap_or_else(|e| e.into_inner()))
        .zip(per_file.iter().flat_map(|(_, cases)| cases.iter().map(|(k, _)| k.as_str())))
        .collect();
    slowest.sort_by_key(|s| std::cmp::Reverse(s.0));
    let slowest: Vec<String> = slowest.iter().take(5).map(|(d, k)| format!("{k} ({:.1}s)", d.as_secs_f64())).collect();
    println!("  slowest: {}", slowest.join(", "));

    // Regression guard.
    let passing_path = Path::new(env!("CARGO_MANIFEST_DIR")).join(PASSING_FILE);
    let listed = read_passing(&passing_path);
    let considered =
        |key: &str| run_files.contains(file_of(key)) && filter.as_ref().is_none_or(|f| key.contains(f.as_str()));
    let by_key: BTreeMap<&str, &Outcome> = outcomes.iter().map(|(k, o)| (k.as_str(), o)).collect();
    let passing_now: BTreeSet<String> =
        outcomes.iter().filter(|(_, o)| matches!(o, Outcome::Pass)).map(|(k, _)| k.clone()).collect();
    let mut regressions = Vec::new();
    for key in listed.iter().filter(|k| considered(k)) {
        match by_key.get(key.as_str()) {
            Some(Outcome::Pass) => {}
            Some(Outcome::Fail(why)) => regressions.push(format!("{key}: {why}")),
            Some(Outcome::Skip(why)) => regressions.push(format!("{key}: now skipped: {why}")),
            None => regressions.push(format!("{key}: no such case any more")),
        }
    }
    let newly: Vec<&String> = passing_now.iter().filter(|k| !listed.contains(*k)).collect();
    if !newly.is_empty() {
        println!();
        println!("{} newly passing case(s) (not yet in {PASSING_FILE}):", newly.len());
        for key in &newly {
            println!("    {key}");
        }
        if !bless {
            println!("run with SAKER_CONFORMANCE_BLESS=1 (cargo xtask conformance --bless) to record them");
        }
    }
    if !regressions.is_empty() {
        println!();
        println!("{} case(s) listed in {PASSING_FILE} no longer pass:", regressions.len());
        for r in &regressions {
            println!("    REGRESSION {r}");
        }
    }
    if bless {
        let mut keep: BTreeSet<String> = listed.iter().filter(|k| !considered(k)).cloned().collect();
        keep.extend(passing_now.iter().cloned());
        let mut text = keep.into_iter().collect::<Vec<_>>().join("\n");
        if !text.is_empty() {
            text.push('\n');
        }
        match std::fs::write(&passing_path, text) {
            Ok(()) => println!("blessed: wrote {}", passing_path.display()),
            Err(e) => panic!("cannot write {}: {e}", passing_path.display()),
        }
    }
    println!();
    println!("{passed} passed, {failed} failed, {skipped} skipped");
    if !regressions.is_empty() && !bless {
        panic!(
            "{} conformance case(s) regressed (listed in {PASSING_FILE} but no longer passing); see the REGRESSION lines above",
            regressions.len()
        );
    }
}

#[test]
fn ip_spec_reads_as_53_cases() {
    let path = dev_specs_dir().join("ip.csv-spec");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("{}", missing_corpus_message()));
    let cases = spec::read_spec(&text);
    assert_eq!(cases.len(), 53);
    let hidden = cases.iter().find(|c| c.name == "equalityNoSort-Ignore").expect("the pitfall case");
    assert!(hidden.expected_lines.first().is_some_and(|l| l == "greaterThanEquals"));
    assert!(!cases.iter().any(|c| c.name == "greaterThanEquals"));
}

#[test]
fn duplicate_names_get_suffixes() {
    let cases: Vec<spec::SpecCase> =
        ["a", "b", "a", "a"].iter().map(|n| spec::SpecCase { name: n.to_string(), ..Default::default() }).collect();
    assert_eq!(
        case_keys("f.csv-spec", &cases),
        vec!["f.csv-spec::a", "f.csv-spec::b", "f.csv-spec::a#2", "f.csv-spec::a#3"]
    );
}

#[test]
fn every_spec_file_reads() {
    let specs = dev_specs_dir();
    let Ok(dir) = std::fs::read_dir(&specs) else { panic!("{}", missing_corpus_message()) };
    let mut total = 0;
    for entry in dir.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|x| x != "csv-spec") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for case in spec::read_spec(&text) {
            total += 1;
            if case.is_ignored() {
                continue;
            }
            assert!(case.error.is_none(), "{}: {}: {:?}", path.display(), case.name, case.error);
            let table = spec::parse_table(&case.expected_lines);
            assert!(table.is_ok(), "{}: {}: {:?}", path.display(), case.name, table.err());
        }
    }
    assert!(total > 0);
}

#[test]
fn panicking_and_blocking_queries_are_contained() {
    install_panic_hook();
    let quick = Duration::from_millis(200);
    let r: Result<(), String> = run_contained(|| async { panic!("boom") }, quick, quick, 0);
    assert!(r.unwrap_err().contains("panicked: "));
    let r: Result<(), String> = run_contained(|| async { Err("bad\nsecond line".to_string()) }, quick, quick, 0);
    assert_eq!(r.unwrap_err(), "error: bad");
    let r: Result<(), String> =
        run_contained(|| async { std::future::pending::<Result<(), String>>().await }, quick, quick, 0);
    assert!(r.unwrap_err().starts_with("timed out"));
    let r: Result<(), String> = run_contained(
        || async {
            std::thread::sleep(Duration::from_secs(2));
            Ok(())
        },
        quick,
        quick,
        0,
    );
    assert!(r.unwrap_err().contains("left running"));
    let r: Result<u8, String> = run_contained(|| async { Ok(7) }, quick, quick, 0);
    assert_eq!(r, Ok(7));
}

/// Checks the loader and the comparator end to end without the engine: a few upstream cases
/// are simple enough (`FROM x | SORT k | KEEP a, b | LIMIT n`) to answer straight from the loaded
/// index, and the answers must match Elastic's expected tables.
#[test]
fn loaded_data_matches_simple_upstream_expectations() {
    use compare::{Cell, Val};
    let specs = dev_specs_dir();
    assert!(specs.is_dir(), "{}", missing_corpus_message());
    let corpus = datasets::load(&esql_spec_root());
    let mut checked = 0;
    for path in std::fs::read_dir(&specs).unwrap().flatten().map(|e| e.path()) {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        for case in spec::read_spec(&text) {
            let stages: Vec<String> = case.query.split('|').map(|s| s.trim().to_ascii_lowercase()).collect();
            let Some(index) = stages[0].strip_prefix("from ") else { continue };
            let simple = stages[1..].iter().all(|s| {
                s.starts_with("sort ") && !s.contains(',') && s.split_whitespace().count() <= 3
                    || s.starts_with("keep ") && !s.contains('*') && {
                        let names: BTreeSet<&str> = s[5..].split(',').map(str::trim).collect();
                        names.len() == s[5..].split(',').count()
                    }
                    || s.starts_with("limit ")
            });
            if !simple || !corpus.indices.contains(index.trim()) {
                continue;
            }
            let idx = corpus.catalog.index(index.trim()).unwrap();
            let mem = {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                rt.block_on(async {
                    let ctx = esql::datafusion::prelude::SessionContext::new();
                    ctx.read_table(idx.table()).unwrap().collect().await.unwrap()
                })
            };
            let output = QueryOutput {
                columns: idx.fields().iter().map(|f| (f.name.clone(), f.es_type)).collect(),
                batches: mem,
                warnings: Vec::new(),
            };
            let mut actual = compare::read_output(&output).unwrap();
            // `_id` is a metadata field: FROM alone does not return it.
            if let Some(id) = actual.columns.iter().position(|c| c.0 == "_id") {
                actual.columns.remove(id);
                for r in &mut actual.rows {
                    r.remove(id);
                }
            }
            for stage in &stages[1..] {
                let words: Vec<&str> = stage.split_whitespace().collect();
                match words[0] {
                    "sort" => {
                        let col = actual.columns.iter().position(|c| c.0 == words[1]).unwrap();
                        let desc = words.get(2) == Some(&"desc");
                        let key = |c: &Cell| match c {
                            Cell::One(Val::Int(i)) => Some(*i),
                            Cell::One(Val::Time(t, _)) => Some(*t),
                            _ => None,
                        };
                        actual.rows.sort_by(|a, b| {
                            let (x, y) = (key(&a[col]), key(&b[col]));
                            match (x, y) {
                                (Some(x), Some(y)) if desc => y.cmp(&x),
                                (Some(x), Some(y)) => x.cmp(&y),
                                (None, None) => std::cmp::Ordering::Equal,
                                (None, _) => std::cmp::Ordering::Greater,
                                (_, None) => std::cmp::Ordering::Less,
                            }
                        });
                    }
                    "keep" => {
                        let names: Vec<&str> = stage[5..].split(',').map(str::trim).collect();
                        let pos: Vec<usize> = names
                            .iter()
                            .map(|n| {
                                actual
                                    .columns
                                    .iter()
                                    .position(|c| c.0 == *n)
                                    .unwrap_or_else(|| panic!("{}: no column {n}", case.name))
                            })
                            .collect();
                        actual.columns = pos.iter().map(|&p| actual.columns[p].clone()).collect();
                        actual.rows = actual.rows.iter().map(|r| pos.iter().map(|&p| r[p].clone()).collect()).collect();
                    }
                    _ => {
                        let n: usize = words[1].parse().unwrap();
                        actual.rows.truncate(n);
                    }
                }
            }
            let expected = spec::parse_table(&case.expected_lines).unwrap();
            let result = compare::compare_columns(&expected, &actual)
                .and_then(|_| compare::compare_rows(&expected, &actual, case.ignore_order));
            assert!(result.is_ok(), "{file}::{}: {}", case.name, result.unwrap_err());
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} reference cases were checked");

    // `FROM employees | DROP height | LIMIT 0` lists every other employees field with its type.
    let text = std::fs::read_to_string(specs.join("drop.csv-spec")).unwrap();
    let case = spec::read_spec(&text).into_iter().find(|c| c.name == "height").unwrap();
    let expected = spec::parse_table(&case.expected_lines).unwrap();
    let employees = corpus.catalog.index("employees").unwrap();
    let fields: Vec<(String, String)> = employees
        .fields()
        .iter()
        .filter(|f| f.name != "height" && f.name != "_id")
        .map(|f| (f.name.clone(), f.es_type.name().to_string()))
        .collect();
    let columns: Vec<(String, String)> = expected.columns.iter().map(|(n, t)| (n.clone(), t.name())).collect();
    assert_eq!(fields, columns);
}
