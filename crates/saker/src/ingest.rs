//! `saker ingest` and `saker indices`: the embedded store from the command line (`saker indices`
//! also deletes indices, sets retention and merges segments).

use crate::Reporter;
use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

pub const INGEST_EXAMPLES: &str = "\
Examples:
  saker ingest --data store/ logs/*.ndjson
  saker ingest --data store/ --index logs-app-default app.ndjson.gz
  saker ingest --data store/ bulk.ndjson          (Elasticsearch _bulk format is recognised)

Documents go to the index named by --index, else to the data stream their data_stream.* fields
name (logs-generic-default without them). Every accepted batch is in the write-ahead log, fsync'd,
before it is counted; a bad line is reported with its position and costs only itself.";

/// Arguments of `saker ingest`.
#[derive(Debug, clap::Args)]
pub struct IngestArgs {
    /// The store's data folder (created if missing).
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// The index or data stream to write to.
    #[arg(long, value_name = "NAME")]
    pub index: Option<String>,
    /// NDJSON or bulk files, gzip or not.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// Do not fsync the write-ahead log before a batch counts as stored: faster, but a crash of
    /// the machine (not only of the process) may lose the last batches. For benchmarks and
    /// reloadable data.
    #[arg(long)]
    pub no_fsync: bool,
}

/// Arguments of `saker indices`.
#[derive(Debug, clap::Args)]
pub struct IndicesArgs {
    /// The store's data folder.
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// Delete an index or data stream with its documents (repeatable).
    #[arg(long, value_name = "NAME")]
    pub delete: Vec<String>,
    /// Keep an index's documents for AGE (`30d`, `12h`): whole days older are deleted now and from
    /// then on (`NAME=none` keeps them forever). Repeatable.
    #[arg(long, value_name = "NAME=AGE")]
    pub retention: Vec<String>,
    /// Merge the small segments of every index now (`saker serve` does it in the background).
    #[arg(long)]
    pub compact: bool,
}

/// Runs `saker ingest`.
///
/// # Errors
/// When the store cannot be opened or written.
pub fn run_ingest(args: &IngestArgs, reporter: Reporter) -> anyhow::Result<ExitCode> {
    let options = store::StoreOptions { fsync: !args.no_fsync, ..store::StoreOptions::default() };
    let store = store::Store::open_with(&args.data, options)
        .with_context(|| format!("cannot open the store in {}", args.data.display()))?;
    let bar = if reporter.quiet || !std::io::stderr().is_terminal() {
        ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden())
    } else {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    };
    let began = Instant::now();
    let report = store
        .ingest_files(&args.files, args.index.as_deref(), |p| {
            bar.set_length(p.total_bytes);
            bar.set_position(p.bytes_read);
            bar.set_message(format!("{} docs, {} failed", p.accepted, p.failed));
        })
        .context("ingest failed")?;
    bar.finish_and_clear();
    store.flush().context("flushing the buffer to segments")?;
    let secs = began.elapsed().as_secs_f64().max(1e-9);
    for file in &report.files {
        if let Some(error) = &file.error {
            reporter.error(&format!("{}: {error}", file.path.display()));
        }
    }
    for (path, item) in report.failures.iter().take(20) {
        if let Err(e) = &item.result {
            reporter.warning(&format!("{}:{}: {e}", path.display(), item.line));
        }
    }
    if report.failures.len() > 20 {
        reporter.warning(&format!("… and {} more refused documents", report.failed() - 20));
    }
    println!(
        "ingested {} documents ({:.1} MB) in {:.2}s: {:.1} MB/s, {:.0} docs/s; {} refused",
        report.accepted(),
        report.bytes() as f64 / 1e6,
        secs,
        report.bytes() as f64 / 1e6 / secs,
        report.accepted() as f64 / secs,
        report.failed()
    );
    let unreadable = report.files.iter().any(|f| f.error.is_some());
    Ok(if unreadable || report.failed() > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// Runs `saker indices`.
///
/// # Errors
/// When the store cannot be opened.
pub fn run_indices(args: &IndicesArgs) -> anyhow::Result<ExitCode> {
    // parse every flag before changing anything
    let mut retentions = Vec::new();
    for spec in &args.retention {
        let Some((name, age)) = spec.split_once('=') else {
            anyhow::bail!("--retention {spec}: expected NAME=AGE (`logs-app-default=30d`, or `NAME=none`)");
        };
        let lifecycle = match age.trim() {
            "none" => None,
            age => Some(store::Lifecycle {
                enabled: true,
                data_retention: Some(
                    store::TimeValue::parse(age, "retention")
                        .map_err(|e| anyhow::anyhow!("--retention {spec}: {e}"))?,
                ),
            }),
        };
        retentions.push((name.trim().to_string(), lifecycle));
    }
    let store = store::Store::open_with(
        &args.data,
        store::StoreOptions { background_maintenance: false, ..store::StoreOptions::default() },
    )
    .with_context(|| format!("cannot open the store in {}", args.data.display()))?;
    let mut status = ExitCode::SUCCESS;
    for name in &args.delete {
        if store.delete_index(name).with_context(|| format!("deleting {name}"))? {
            println!("deleted {name}");
        } else {
            eprintln!("error: no index or data stream named {name}");
            status = ExitCode::FAILURE;
        }
    }
    if !args.delete.is_empty() {
        // drops the log records of the deleted indices, and with them their tombstones
        store.flush().context("flushing the buffer to segments")?;
    }
    if !retentions.is_empty() {
        for (name, lifecycle) in retentions {
            let text =
                lifecycle.as_ref().and_then(|l| l.data_retention.as_ref()).map_or("none".into(), |r| r.to_string());
            if store.set_lifecycle(&name, lifecycle).with_context(|| format!("setting the retention of {name}"))? {
                println!("retention of {name}: {text}");
            } else {
                eprintln!("error: no index or data stream named {name}");
                status = ExitCode::FAILURE;
            }
        }
        store.flush().context("flushing the buffer to segments")?;
        let report = store.apply_retention(chrono::Utc::now().timestamp_millis()).context("applying retention")?;
        if report.documents_deleted > 0 {
            println!(
                "deleted {} documents ({} segments) past their retention in {}",
                report.documents_deleted,
                report.segments_deleted,
                report.indices.join(", ")
            );
        }
    }
    if args.compact {
        store.flush().context("flushing the buffer to segments")?;
        let began = Instant::now();
        let report = store.compact().context("merging segments")?;
        println!(
            "merged {} segments into {} ({:.1} MB into {:.1} MB) in {:.2}s",
            report.segments_merged,
            report.merges,
            report.bytes_read as f64 / 1e6,
            report.bytes_written as f64 / 1e6,
            began.elapsed().as_secs_f64()
        );
    }
    let time = |t: Option<i64>| t.map(esql::convert::format_date_millis).unwrap_or_else(|| "-".into());
    println!(
        "{:<48} {:>10} {:>12} {:>8}  {:<24}  {:<24}  {:<9}",
        "index", "docs", "bytes", "segments", "from", "to", "retention"
    );
    for s in store.indices() {
        let retention =
            store.index_settings(&s.name).and_then(|settings| settings.lifecycle).and_then(|l| l.data_retention);
        println!(
            "{:<48} {:>10} {:>12} {:>8}  {:<24}  {:<24}  {:<9}",
            s.name,
            s.docs,
            s.bytes,
            s.segments,
            time(s.min_time),
            time(s.max_time),
            retention.map_or("-".into(), |r| r.to_string())
        );
    }
    Ok(status)
}
