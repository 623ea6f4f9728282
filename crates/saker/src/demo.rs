//! `saker demo`: Saker's main job end to end on generated data. An hour of Entra ID, Microsoft
//! 365, IDS, firewall and SSH events with attacks hidden in it is generated into a data folder,
//! ingested into the embedded store, and the bundled rules (External Alerts and the corrected
//! flagship rule) run over it as the scheduler would; the alerts are printed with their severity,
//! reason and investigation guide, and checked against the generator's ground truth.

use crate::Reporter;
use anyhow::{Context, bail};
use bench::generator::{GenConfig, generate};
use chrono::{DateTime, Duration, DurationRound, Utc};
use detect::StoreBackend;
use detect::alert::ALERTS_INDEX;
use detect::{Engine, Rule};
use esql::QueryOptions;
use esql::render::{Cell, rows};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

pub const EXAMPLES: &str = "\
Examples:
  saker demo
  saker demo --data /tmp/saker-demo --events 100000 --seed 42

The data folder is created; a folder left by an earlier demo is replaced, any other is refused.";

/// The rules the demo runs, as shipped in `rules/flagship/`.
const BUNDLED: [(&str, &str); 2] = [
    ("rules/flagship/external_alerts.toml", include_str!("../../../rules/flagship/external_alerts.toml")),
    (
        "rules/flagship/microsoft_365_or_entra_id_signin_from_alerted_source.toml",
        include_str!("../../../rules/flagship/microsoft_365_or_entra_id_signin_from_alerted_source.toml"),
    ),
];

/// Marks a folder written by `saker demo`, so a later demo may replace it.
const MARKER: &str = ".saker-demo";

/// Arguments of `saker demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Folder for the generated logs and the store.
    #[arg(long, value_name = "DIR", default_value = "saker-demo")]
    pub data: PathBuf,
    /// Background events in the hour (attacks and decoys come on top).
    #[arg(long, default_value_t = 20_000)]
    pub events: usize,
    /// Random seed of the generator.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

fn prepare(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        let empty = std::fs::read_dir(dir)?.next().is_none();
        if !empty && !dir.join(MARKER).exists() {
            bail!("{} exists and was not written by `saker demo`; choose another --data folder", dir.display());
        }
        std::fs::remove_dir_all(dir).with_context(|| format!("cannot clear {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join(MARKER), "written by `saker demo`\n")?;
    Ok(())
}

/// Runs `saker demo`.
///
/// # Errors
/// When the folder cannot be written or a step fails.
pub fn run(args: &DemoArgs, reporter: Reporter) -> anyhow::Result<ExitCode> {
    prepare(&args.data)?;
    let end: DateTime<Utc> = Utc::now().duration_trunc(Duration::minutes(1))?;
    let start = end - Duration::hours(1);

    // 1. an hour of realistic data with attacks hidden in it
    let began = Instant::now();
    let logs = args.data.join("logs");
    let config = GenConfig {
        events: args.events,
        start_ms: start.timestamp_millis(),
        duration_ms: 3_600_000,
        seed: args.seed,
        attacks_per_10k: 3,
    };
    let truth = generate(&config, &logs).context("generating the data")?;
    reporter.info(&format!(
        "generated {} events ({:.1} MB) from {} to {} into {}",
        truth.documents.values().sum::<usize>(),
        truth.bytes as f64 / 1e6,
        start.to_rfc3339(),
        end.to_rfc3339(),
        logs.display()
    ));

    // 2. ingest into the embedded store
    let backend = StoreBackend::open(&args.data.join("store")).context("opening the store")?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(&logs)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "ndjson"))
        .collect();
    files.sort();
    let ingested = backend.store().ingest_files(&files, None, |_| {}).context("ingesting")?;
    backend.store().flush().context("flushing")?;
    reporter.info(&format!("ingested {} documents, {} refused", ingested.accepted(), ingested.failed()));

    // 3. the bundled rules, replayed over the hour as the scheduler would run them
    let mut rules: Vec<Rule> = Vec::new();
    for (path, text) in BUNDLED {
        rules.push(detect::load::parse_toml(text, Path::new(path)).map_err(|e| anyhow::anyhow!("{path}: {e}"))?);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let mut engine = Engine::new(backend);
    let summary = runtime.block_on(engine.replay(&rules, start, end));
    reporter.info(&format!(
        "ran {} scheduled executions of {} rules: {} alerts written, {} warnings, {} errors",
        summary.executions.len(),
        summary.rules_run(),
        summary.alerts_written(),
        summary.warnings(),
        summary.errors()
    ));
    for execution in &summary.executions {
        for error in &execution.errors {
            reporter.error(&format!("{}: {error}", execution.rule_name));
        }
    }
    // Warnings repeat across the executions of a rule: each distinct one once.
    let mut seen = std::collections::BTreeSet::new();
    for execution in &summary.executions {
        for warning in &execution.warnings {
            if seen.insert((execution.rule_name.clone(), warning.clone())) {
                reporter.warning(&format!("{}: {warning}", execution.rule_name));
            }
        }
    }

    // 4. the alerts an analyst would triage
    let flagship = &rules[1];
    let catalog: Arc<dyn esql::catalog::Catalog> = engine.store.store().clone();
    let query = format!(
        "FROM {ALERTS_INDEX} | WHERE kibana.alert.rule.rule_id == \"{}\" \
         | KEEP @timestamp, kibana.alert.severity, kibana.alert.risk_score, kibana.alert.reason, Esql.source_ip \
         | SORT @timestamp, Esql.source_ip",
        flagship.rule_id
    );
    let output = runtime
        .block_on(esql::execute(catalog.clone(), &query, &QueryOptions::default()))
        .map_err(|e| anyhow::anyhow!("reading the alerts: {e}"))?;
    let external = runtime
        .block_on(esql::execute(
            catalog,
            &format!(
                "FROM {ALERTS_INDEX} | WHERE kibana.alert.rule.name != \"{}\" | STATS n = COUNT(*)",
                flagship.name
            ),
            &QueryOptions::default(),
        ))
        .ok()
        .and_then(|o| rows(&o).first().and_then(|r| r.first().cloned()));

    println!();
    println!("{} — {} alert(s)", flagship.name, output.batches.iter().map(|b| b.num_rows()).sum::<usize>());
    println!();
    let mut alerted: Vec<String> = Vec::new();
    for row in rows(&output) {
        let text = |c: &Cell| c.to_text();
        println!("  [{}] risk {}  {}", text(&row[1]).to_uppercase(), text(&row[2]), text(&row[0]));
        println!("    source address {}", text(&row[4]));
        println!("    {}", text(&row[3]));
        alerted.push(text(&row[4]));
    }
    if let Some(n) = external {
        println!();
        println!("(External Alerts promoted {} network alert(s) that the rule above correlated)", n.to_text());
    }
    if let Some(note) = &flagship.note {
        println!();
        println!("Investigation guide");
        println!("-------------------");
        for line in note.lines().take(40) {
            println!("  {line}");
        }
    }
    alerted.sort();
    alerted.dedup();
    let found = truth.attack_ips.iter().filter(|ip| alerted.contains(ip)).count();
    let false_positives: Vec<&String> = alerted.iter().filter(|ip| !truth.attack_ips.contains(ip)).collect();
    println!();
    println!(
        "ground truth: {found} of {} hidden attacks alerted, {} alert(s) on other addresses; {:.1}s in all",
        truth.attack_ips.len(),
        false_positives.len(),
        began.elapsed().as_secs_f64()
    );
    Ok(if found == truth.attack_ips.len() && false_positives.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
