//! `saker rules …`: validate, list, lint and run detection rules.

use crate::Reporter;
use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use detect::lint::{Finding, lint_rule};
use detect::rule::{Rule, RuleType};
use detect::schedule::RunSummary;
use detect::{Engine, MemStore, load_paths};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

pub const EXAMPLES: &str = "\
Examples:
  saker rules validate ../shared/rules/esql ../shared/rules/query
  saker rules list rules/
  saker rules lint rules/flagship/
  saker rules run --data data/ --rules rules/flagship/ --at 2024-05-01T11:00:00Z
  saker rules run --data data/ --rules rules/ --from 2024-05-01T00:00:00Z --to 2024-05-02T00:00:00Z
  saker rules status --data data/

Rules are elastic/detection-rules TOML files, Kibana rule exports (.ndjson) or rule objects
(.json); folders are searched recursively. A broken file is reported and the others go on.";

/// `saker rules` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum RulesCommand {
    /// Load rules and report, per type, how many loaded and how many Saker can run.
    #[command(after_help = EXAMPLES)]
    Validate(PathsArgs),
    /// Show the loaded rules.
    #[command(after_help = EXAMPLES)]
    List(ListArgs),
    /// Report defects in rules' queries: case-variant literals, fields the indices cannot
    /// have, conditions that can never be true.
    #[command(after_help = EXAMPLES)]
    Lint(PathsArgs),
    /// Run rules over a data folder: one scheduled execution (--at) or every execution in a
    /// range (--from/--to, a backtest). Alerts are appended to
    /// <DIR>/.alerts-security.alerts-default.ndjson.
    #[command(after_help = EXAMPLES)]
    Run(RunArgs),
    /// Show each rule's execution state in a data folder: last run, status, alerts and the gaps
    /// no execution searched.
    #[command(after_help = EXAMPLES)]
    Status(StatusArgs),
}

/// Arguments of `saker rules status`.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// The data folder rules ran over (`saker rules run --data`, `saker serve --data`).
    #[arg(long, short, value_name = "DIR")]
    pub data: PathBuf,
    /// Print the state as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Rule files or folders.
#[derive(Debug, clap::Args)]
pub struct PathsArgs {
    /// Rule files (.toml, .ndjson, .json) or folders holding them.
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
}

/// Arguments of `saker rules list`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Rule files or folders (default: `rules`).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Print the rules as JSON (the rule API's objects, one per line).
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `saker rules run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The data folder: one NDJSON file per index.
    #[arg(long, short, value_name = "DIR")]
    pub data: PathBuf,
    /// Rule files or folders.
    #[arg(long, short, value_name = "PATH", required = true, num_args = 1..)]
    pub rules: Vec<PathBuf>,
    /// Run each rule once, scheduled at this time (RFC 3339).
    #[arg(long, value_name = "TIME", conflicts_with_all = ["from", "to"], required_unless_present = "from")]
    pub at: Option<String>,
    /// Replay every scheduled execution from this time (RFC 3339)…
    #[arg(long, value_name = "TIME", requires = "to")]
    pub from: Option<String>,
    /// …to this time (included).
    #[arg(long, value_name = "TIME", requires = "from")]
    pub to: Option<String>,
}

/// Runs a `saker rules` subcommand.
///
/// # Errors
/// Usage errors (bad times, unreadable data folder).
pub fn run(command: &RulesCommand, reporter: Reporter) -> anyhow::Result<ExitCode> {
    match command {
        RulesCommand::Validate(args) => validate(&args.paths),
        RulesCommand::List(args) => list(args, reporter),
        RulesCommand::Lint(args) => lint(&args.paths, reporter),
        RulesCommand::Run(args) => run_rules(args, reporter),
        RulesCommand::Status(args) => status(args),
    }
}

fn validate(paths: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let report = load_paths(paths);
    for e in &report.errors {
        println!("error: {e}");
    }
    let mut per_type: BTreeMap<RuleType, (usize, usize)> = BTreeMap::new();
    let mut kql_total = 0usize;
    let mut kql_bad = 0usize;
    let mut blocked: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for rule in &report.rules {
        let entry = per_type.entry(rule.rule_type).or_default();
        entry.0 += 1;
        if rule.language == Some(detect::rule::Language::Kuery) {
            kql_total += 1;
        }
        match detect::validate::check(rule) {
            Ok(()) => entry.1 += 1,
            Err(detect::validate::Blocker::Unsupported(reason)) => {
                blocked.entry(reason).or_default().push(rule.name.clone());
            }
            Err(b) => {
                if matches!(b, detect::validate::Blocker::Kql(_)) {
                    kql_bad += 1;
                }
                println!("{}: {}: {b}", rule.origin, rule.name);
            }
        }
    }
    println!("{:<18} {:>7} {:>8}", "type", "loaded", "can run");
    let (mut loaded, mut runnable) = (0, 0);
    for (t, (n, ok)) in &per_type {
        println!("{:<18} {n:>7} {ok:>8}", t.as_str());
        loaded += n;
        runnable += ok;
    }
    println!("{:<18} {loaded:>7} {runnable:>8}", "total");
    for (reason, names) in &blocked {
        println!("not run: {} {} ({reason})", names.len(), if names.len() == 1 { "rule" } else { "rules" });
    }
    println!("KQL: {} of {kql_total} kuery queries parse", kql_total - kql_bad);
    let broken = report.errors.len();
    if broken > 0 {
        println!("{broken} broken rule {}", if broken == 1 { "file" } else { "files" });
    }
    Ok(if broken > 0 || kql_bad > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

fn list(args: &ListArgs, reporter: Reporter) -> anyhow::Result<ExitCode> {
    let paths = if args.paths.is_empty() { vec![PathBuf::from("rules")] } else { args.paths.clone() };
    let report = load_paths(&paths);
    for e in &report.errors {
        reporter.error(&e.to_string());
    }
    if args.json {
        for rule in &report.rules {
            println!("{}", rule.parameters());
        }
    } else {
        println!(
            "{:<36}  {:<16} {:<8} {:>4} {:>8} {:>10}  name",
            "rule_id", "type", "severity", "risk", "interval", "from"
        );
        for rule in &report.rules {
            let kind = match rule.language {
                Some(l) if rule.rule_type != RuleType::Esql => format!("{}/{l}", rule.rule_type),
                _ => rule.rule_type.to_string(),
            };
            println!(
                "{:<36}  {:<16} {:<8} {:>4} {:>8} {:>10}  {}",
                rule.rule_id,
                kind,
                rule.severity.as_str(),
                rule.risk_score,
                rule.interval.as_str(),
                rule.from.as_str(),
                rule.name
            );
        }
    }
    reporter.info(&format!("{} rules loaded, {} broken files", report.rules.len(), report.errors.len()));
    Ok(if report.errors.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn lint(paths: &[PathBuf], reporter: Reporter) -> anyhow::Result<ExitCode> {
    let report = load_paths(paths);
    for e in &report.errors {
        reporter.error(&e.to_string());
    }
    let mut total = 0usize;
    let mut rules_with = 0usize;
    for rule in &report.rules {
        let findings = lint_rule(rule);
        if findings.is_empty() {
            continue;
        }
        rules_with += 1;
        total += findings.len();
        for f in &findings {
            println!("{}", render_finding(f, rule));
        }
    }
    println!(
        "linted {} {}: {total} {} in {rules_with} {}",
        report.rules.len(),
        if report.rules.len() == 1 { "rule" } else { "rules" },
        if total == 1 { "finding" } else { "findings" },
        if rules_with == 1 { "rule" } else { "rules" }
    );
    Ok(if total > 0 || !report.errors.is_empty() { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// Renders a finding rustc-style against the rule file when the query appears in it verbatim
/// (TOML), else against the query.
fn render_finding(f: &Finding, rule: &Rule) -> String {
    let query = rule.query.as_deref().unwrap_or("");
    let file = std::fs::read_to_string(&rule.origin.path).ok();
    let (text, offset, origin) = match file.as_deref().and_then(|t| t.find(query).map(|o| (t, o))) {
        Some((t, o)) if !query.is_empty() => (t.to_string(), o, rule.origin.path.display().to_string()),
        _ => (query.to_string(), 0, format!("{} (query of `{}`)", rule.origin, rule.name)),
    };
    let locate = |span: esql::syntax::Span| {
        let start = span.start + offset;
        let (line, col) = detect::lint::line_col(&text, start);
        (line, col, span.end.saturating_sub(span.start))
    };
    let (line, col, width) = locate(f.span);
    let mut out = format!("warning[{}]: {}\n  --> {origin}:{line}:{col}\n", f.check, f.message);
    if let Some(src) = text.lines().nth(line - 1) {
        let gutter = line.to_string().len();
        let width = width.min(src.chars().count().saturating_sub(col - 1)).max(1);
        out.push_str(&format!(
            "{:gutter$} |\n{line} | {src}\n{:gutter$} | {}{}\n",
            "",
            "",
            " ".repeat(col - 1),
            "^".repeat(width)
        ));
    }
    for (note, span) in &f.notes {
        let (l, c, _) = locate(*span);
        out.push_str(&format!("  = note: {note} ({origin}:{l}:{c})\n"));
    }
    out
}

fn parse_time(flag: &str, text: &str) -> anyhow::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .with_context(|| format!("{flag} `{text}` is not an RFC 3339 time such as 2024-05-01T10:00:00Z"))
}

fn run_rules(args: &RunArgs, reporter: Reporter) -> anyhow::Result<ExitCode> {
    let times = match (&args.at, &args.from, &args.to) {
        (Some(at), _, _) => (parse_time("--at", at)?, None),
        (None, Some(from), Some(to)) => {
            let (from, to) = (parse_time("--from", from)?, parse_time("--to", to)?);
            if to < from {
                bail!("--to must not be before --from");
            }
            (from, Some(to))
        }
        _ => bail!("give --at, or --from and --to"),
    };
    let report = load_paths(&args.rules);
    for e in &report.errors {
        reporter.error(&e.to_string());
    }
    let store = MemStore::open(&args.data).with_context(|| format!("cannot open --data {}", args.data.display()))?;
    for e in &store.load_errors {
        reporter.warning(e);
    }
    let mut engine = Engine::new(store);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")?;
    let summary = match times {
        (at, None) => runtime.block_on(engine.run_at(&report.rules, at)),
        (from, Some(to)) => runtime.block_on(engine.replay(&report.rules, from, to)),
    };
    print_summary(&summary, &report.rules, reporter);
    Ok(if summary.errors() > 0 || !report.errors.is_empty() { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

fn print_summary(summary: &RunSummary, rules: &[Rule], reporter: Reporter) {
    for e in &summary.executions {
        for w in &e.warnings {
            reporter.warning(&format!("{} at {}: {w}", e.rule_name, e.started_at.to_rfc3339()));
        }
        for err in &e.errors {
            reporter.error(&format!("{} at {}: {err}", e.rule_name, e.started_at.to_rfc3339()));
        }
    }
    let mut noted = std::collections::BTreeSet::new();
    for e in &summary.executions {
        for w in &e.query_warnings {
            if noted.insert((e.rule_id.clone(), w.clone())) {
                reporter.info(&format!("note: {}: the query warned: {w}", e.rule_name));
            }
        }
    }
    for s in &summary.skipped {
        reporter.info(&format!("not run: {} ({})", s.rule_name, s.reason));
    }
    println!("{:<60} {:>10} {:>7} {:>9} {:>7}  last status", "rule", "executions", "alerts", "warnings", "errors");
    for rule in rules {
        let runs: Vec<_> = summary.executions.iter().filter(|e| e.rule_id == rule.rule_id).collect();
        let Some(last) = runs.last() else { continue };
        println!(
            "{:<60} {:>10} {:>7} {:>9} {:>7}  {}",
            truncate(&rule.name, 60),
            runs.len(),
            runs.iter().map(|e| e.alerts_created).sum::<usize>(),
            runs.iter().map(|e| e.warnings.len()).sum::<usize>(),
            runs.iter().map(|e| e.errors.len()).sum::<usize>(),
            last.status
        );
    }
    println!(
        "rules run: {}, executions: {}, alerts written: {}, warnings: {}, errors: {}{}",
        summary.rules_run(),
        summary.executions.len(),
        summary.alerts_written(),
        summary.warnings(),
        summary.errors(),
        if summary.skipped.is_empty() { String::new() } else { format!(", not run: {}", summary.skipped.len()) }
    );
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n { s.to_string() } else { format!("{}…", s.chars().take(n - 1).collect::<String>()) }
}

fn status(args: &StatusArgs) -> anyhow::Result<ExitCode> {
    let path = args.data.join(detect::store::STATE_FILE);
    let state = detect::backend::read_state(&path)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&state)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<50} {:<24} {:<15} {:>10} {:>7} {:>5} {:>9}",
        "rule", "last run", "status", "executions", "alerts", "gaps", "gap time"
    );
    for rule in state.rules.values() {
        let gap: chrono::Duration = rule.gaps.iter().map(|g| g.lte - g.gte).sum();
        println!(
            "{:<50} {:<24} {:<15} {:>10} {:>7} {:>5} {:>9}",
            truncate(&rule.name, 50),
            rule.last_started_at.map(detect::datemath::iso).unwrap_or_else(|| "never".into()),
            rule.last_status.map(|s| s.to_string()).unwrap_or_default(),
            rule.executions,
            rule.alerts_created,
            rule.gaps.len(),
            if gap.is_zero() { "-".to_string() } else { detect::datemath::humanize(gap) }
        );
        if rule.last_status == Some(detect::state::Status::Failed) {
            println!("    {}", rule.last_message);
        }
    }
    Ok(ExitCode::SUCCESS)
}
