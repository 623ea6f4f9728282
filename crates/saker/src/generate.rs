//! `saker gen`: write realistic ECS data with hidden attacks, and its ground truth.

use crate::Reporter;
use anyhow::{Context, bail};
use bench::generator::{GenConfig, generate};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

pub const EXAMPLES: &str = "\
Examples:
  saker gen --out data/ --events 100000 --start 2025-01-01T00:00:00Z --duration 1h --seed 7
  saker query --data data/ 'FROM logs-* | STATS n = COUNT(*) BY data_stream.dataset'

One NDJSON file per data stream is written (Entra ID sign-ins, Microsoft 365 audit, Suricata, PAN-OS,
SSH logins), plus ground_truth.json: the source addresses the corrected flagship rule must alert on.";

/// Arguments of `saker gen`.
#[derive(Debug, clap::Args)]
pub struct GenArgs {
    /// Folder to write into (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Number of background events; attacks and decoys come on top.
    #[arg(long, default_value_t = 10_000)]
    pub events: usize,
    /// First timestamp (RFC 3339).
    #[arg(long, value_name = "RFC3339", default_value = "2025-01-01T00:00:00Z")]
    pub start: String,
    /// Length of the time range: `90s`, `30m`, `1h`, `2d`.
    #[arg(long, value_name = "SPAN", default_value = "1h")]
    pub duration: String,
    /// Random seed: the same seed writes the same data.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Attack scenarios per 10,000 background events (at least one).
    #[arg(long, default_value_t = 3)]
    pub attacks_per_10k: usize,
}

/// Parses `90s`, `30m`, `1h`, `2d` into milliseconds.
///
/// # Errors
/// When the span has no known unit or no number.
pub fn parse_span(s: &str) -> anyhow::Result<i64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: i64 = n.parse().with_context(|| format!("invalid span `{s}`: expected a number then s, m, h or d"))?;
    let ms = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        other => bail!("unknown span unit `{other}` in `{s}`, expected one of: ms, s, m, h, d"),
    };
    Ok(n * ms)
}

/// Runs `saker gen`.
///
/// # Errors
/// Bad arguments, or a file that cannot be written.
pub fn run(args: &GenArgs, reporter: Reporter) -> anyhow::Result<ExitCode> {
    let start = chrono::DateTime::parse_from_rfc3339(&args.start)
        .with_context(|| format!("invalid --start `{}`: expected RFC 3339, e.g. 2025-01-01T00:00:00Z", args.start))?;
    let config = GenConfig {
        events: args.events,
        start_ms: start.timestamp_millis(),
        duration_ms: parse_span(&args.duration)?,
        seed: args.seed,
        attacks_per_10k: args.attacks_per_10k,
    };
    let began = Instant::now();
    let report = generate(&config, &args.out).with_context(|| format!("cannot write to {}", args.out.display()))?;
    let secs = began.elapsed().as_secs_f64().max(1e-9);
    for (index, n) in &report.documents {
        println!("{index}\t{n}");
    }
    reporter.info(&format!(
        "wrote {} documents, {:.1} MB in {:.2}s ({:.1} MB/s); {} attack addresses in {}",
        report.documents.values().sum::<usize>(),
        report.bytes as f64 / 1e6,
        secs,
        report.bytes as f64 / 1e6 / secs,
        report.attack_ips.len(),
        args.out.join("ground_truth.json").display()
    ));
    Ok(ExitCode::SUCCESS)
}
