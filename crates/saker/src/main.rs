//! `saker`: run ES|QL queries over NDJSON folders, check detection rules' queries, and run
//! detection rules (`saker rules`).
//!
//! Results go to stdout; progress, warnings and errors go to stderr (`--quiet` keeps only errors).

mod check;
mod demo;
mod generate;
mod ingest;
mod output;
mod query;
mod rules;
mod scheduler;
mod security;
mod serve;

use clap::{Parser, Subcommand};

/// mimalloc: ingest and queries allocate many small strings and buffers, which it serves faster
/// than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Keeps the memory a command frees for its next allocations instead of handing it back to the
/// system (mimalloc's `purge_delay` of -1). `saker ingest` frees its buffers after every flush and
/// fills them again at once: handing the pages back and faulting them in again (zeroed, as huge
/// pages) cost it a fifth of its time. Its peak memory is the same either way.
///
/// The same for the C allocator, which zstd uses for the compression context of every Parquet
/// page a flush writes: contexts of a few MiB are then taken from the heap and reused, instead of
/// being mapped, zeroed page by page and unmapped each time.
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: glibc's mallopt only sets allocator parameters; these two are documented for
        // use at any time.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 64 << 20);
            libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 20);
        }
    }
    use std::ffi::{c_int, c_long};
    unsafe extern "C" {
        fn mi_option_set(option: c_int, value: c_long);
    }
    /// `mi_option_purge_delay` in mimalloc's `mi_option_t`.
    const MI_OPTION_PURGE_DELAY: c_int = 15;
    // SAFETY: mimalloc's option setter takes any value for any option at any time; the allocator
    // is mimalloc (`ALLOCATOR`), linked in by the `mimalloc` crate.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, -1) }
}
use std::process::ExitCode;

const EXAMPLES: &str = "\
Examples:
  saker query --data fixtures/ 'FROM logs-* | STATS c = COUNT(*) BY event.outcome'
  saker query --data fixtures/ --format json --now 2024-05-01T00:00:00Z --file rule.esql
  saker check rules/esql/
  saker check --data fixtures/ my_rule.toml other.esql
  saker rules run --data fixtures/ --rules rules/flagship/ --from 2024-05-01T10:00:00Z --to 2024-05-01T11:00:00Z";

/// Run Elastic's ES|QL detection rules on local data.
#[derive(Debug, Parser)]
#[command(name = "saker", version, after_help = EXAMPLES)]
struct Cli {
    /// Print nothing on stderr but errors (no progress, warnings or hints).
    #[arg(long, short, global = true)]
    quiet: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Saker's main job on generated data: an hour of logs with hidden attacks, ingested,
    /// detected by the bundled rules, alerts printed and checked against the ground truth.
    #[command(after_help = demo::EXAMPLES)]
    Demo(demo::DemoArgs),
    /// Run an ES|QL query over a folder of NDJSON files and print the result.
    #[command(after_help = query::EXAMPLES)]
    Query(query::QueryArgs),
    /// Parse and analyze the queries of `.esql` files and ES|QL rule TOML files, without data.
    #[command(after_help = check::EXAMPLES)]
    Check(check::CheckArgs),
    /// Validate, list, lint and run detection rules (ES|QL and KQL).
    Rules {
        #[command(subcommand)]
        command: rules::RulesCommand,
    },
    /// Ingest NDJSON or bulk files (gzip or not) into the embedded store.
    #[command(after_help = ingest::INGEST_EXAMPLES)]
    Ingest(ingest::IngestArgs),
    /// List the store's indices with document counts, sizes and time ranges.
    Indices(ingest::IndicesArgs),
    /// Write realistic ECS data (Entra ID, Microsoft 365, IDS, firewall) with hidden attacks.
    #[command(after_help = generate::EXAMPLES)]
    Gen(generate::GenArgs),
    /// Serve the Elasticsearch-compatible HTTP API (`_bulk`, `_query`, …) over a data folder.
    #[command(after_help = serve::EXAMPLES)]
    Serve(serve::ServeArgs),
    /// Make password hashes and users files for `saker serve --users`.
    #[command(after_help = security::EXAMPLES)]
    Users {
        #[command(subcommand)]
        command: security::UsersCommand,
    },
}

/// Where diagnostics and progress go, honouring `--quiet`.
#[derive(Debug, Clone, Copy)]
pub struct Reporter {
    quiet: bool,
}

impl Reporter {
    /// A progress or information line (stderr, hidden by `--quiet`).
    pub fn info(&self, message: &str) {
        if !self.quiet {
            eprintln!("{message}");
        }
    }

    /// `warning: …` on stderr, hidden by `--quiet`.
    pub fn warning(&self, message: &str) {
        if !self.quiet {
            eprintln!("warning: {message}");
        }
    }

    /// An error, always shown on stderr.
    pub fn error(&self, message: &str) {
        eprintln!("error: {message}");
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let reporter = Reporter { quiet: cli.quiet };
    let result = match cli.command {
        Command::Demo(args) => demo::run(&args, reporter),
        Command::Query(args) => query::run(&args, reporter),
        Command::Check(args) => check::run(&args, reporter),
        Command::Rules { command } => rules::run(&command, reporter),
        Command::Gen(args) => generate::run(&args, reporter),
        Command::Ingest(args) => {
            keep_freed_memory();
            ingest::run_ingest(&args, reporter)
        }
        Command::Indices(args) => ingest::run_indices(&args),
        Command::Serve(args) => serve::run(&args, reporter),
        Command::Users { command } => security::run(&command, reporter),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            reporter.error(&format!("{e:#}"));
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_valid() {
        Cli::command().debug_assert();
    }
}
