//! `saker query`: load an NDJSON folder, run one ES|QL query, print the result.

use crate::Reporter;
use crate::output::{self, OutputFormat};
use anyhow::Context;
use chrono::{DateTime, Utc};
use esql::catalog::{Catalog, MemCatalog};
use esql::{QueryError, QueryOptions, QueryOutput, UnmappedFields};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

pub const EXAMPLES: &str = "\
Examples:
  saker query --data fixtures/ 'FROM logs-* | KEEP @timestamp, source.ip | LIMIT 5'
  saker query --data fixtures/ --format csv --file query.esql > out.csv
  saker query --now 2024-05-01T00:00:00Z 'ROW t = NOW()'
  saker query --data store/ --unmapped-fields nullify --repeat 5 --timing --file rule.esql

Each `<index>.ndjson` (or .jsonl, .json) file of --data is one index; fields are typed as ECS
and the flagship integrations map them, other fields by their JSON values.";

/// Arguments of `saker query`.
#[derive(Debug, clap::Args)]
pub struct QueryArgs {
    /// Folder of NDJSON files, one index per file (`logs-x-default.ndjson` is index `logs-x-default`).
    #[arg(long, short, value_name = "DIR")]
    pub data: Option<PathBuf>,

    /// How to print the result.
    #[arg(long, short, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,

    /// The time `NOW()` returns, e.g. `2024-05-01T00:00:00Z` (default: the current time).
    #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
    pub now: Option<DateTime<Utc>>,

    /// Read the query from this file instead of the command line.
    #[arg(long, value_name = "FILE", conflicts_with = "query")]
    pub file: Option<PathBuf>,

    /// What a field that no index maps does: `fail` (an error, Elastic's default) or `nullify`
    /// (a column of nulls, Elastic's `SET unmapped_fields = "nullify"`, as when an integration's
    /// template maps fields that no document has).
    #[arg(long, value_enum, default_value_t = Unmapped::Fail)]
    pub unmapped_fields: Unmapped,

    /// Run the query this many times (the result of the last run is printed); with `--timing`,
    /// for benchmarks.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub repeat: u32,

    /// Print on stderr how long opening the data and each run took (`timing: run 1/3 12.345 ms`).
    #[arg(long)]
    pub timing: bool,

    /// The ES|QL query.
    #[arg(value_name = "ES|QL", required_unless_present = "file")]
    pub query: Option<String>,
}

/// `--unmapped-fields`: Elastic's `unmapped_fields` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Unmapped {
    /// An unknown field is an error.
    Fail,
    /// An unknown field is a column of nulls.
    Nullify,
}

fn parse_now(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("`{text}` is not an RFC 3339 time such as 2024-05-01T00:00:00Z ({e})"))
}

/// Runs `saker query`.
///
/// # Errors
/// When the query file or the data folder cannot be read.
pub fn run(args: &QueryArgs, reporter: Reporter) -> anyhow::Result<ExitCode> {
    let (query, origin) = match (&args.file, &args.query) {
        (Some(file), _) => {
            let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
            (text, file.display().to_string())
        }
        (None, Some(query)) => (query.clone(), "<query>".to_string()),
        (None, None) => anyhow::bail!("no query given: pass it as an argument or with --file"),
    };
    // A folder holding a store is read through it; any other folder as NDJSON files.
    let opened = Instant::now();
    let catalog: Arc<dyn Catalog> = match &args.data {
        Some(dir) if dir.join("store.json").exists() => {
            Arc::new(store::Store::open(dir).with_context(|| format!("cannot open the store in {}", dir.display()))?)
        }
        Some(dir) => Arc::new(load_data(dir, reporter)?),
        None => Arc::new(MemCatalog::new()),
    };
    if args.timing {
        eprintln!("timing: open {:.3} ms", opened.elapsed().as_secs_f64() * 1e3);
    }
    let options = query_options(args);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")?;
    let mut result = Err(QueryError::Internal("the query did not run".into()));
    for run in 1..=args.repeat {
        let began = Instant::now();
        result = runtime.block_on(esql::execute(Arc::clone(&catalog), &query, &options));
        if args.timing {
            eprintln!("timing: run {run}/{} {:.3} ms", args.repeat, began.elapsed().as_secs_f64() * 1e3);
        }
        if result.is_err() {
            break;
        }
    }
    match result {
        Ok(output) => {
            print_result(&output, args.format, reporter)?;
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            report_query_error(&error, &origin);
            Ok(ExitCode::FAILURE)
        }
    }
}

/// The engine's options for the arguments.
fn query_options(args: &QueryArgs) -> QueryOptions {
    let unmapped_fields = match args.unmapped_fields {
        Unmapped::Fail => UnmappedFields::Fail,
        Unmapped::Nullify => UnmappedFields::Nullify,
    };
    QueryOptions { now: args.now, unmapped_fields, ..QueryOptions::default() }
}

/// Loads the NDJSON folder; bad lines become warnings.
fn load_data(dir: &Path, reporter: Reporter) -> anyhow::Result<MemCatalog> {
    let loaded = ecs::ndjson::load_dir(dir).with_context(|| format!("cannot load --data {}", dir.display()))?;
    for error in &loaded.errors {
        reporter.warning(&error.to_string());
    }
    let documents: usize = loaded.indices.iter().map(|(_, n)| n).sum();
    reporter.info(&format!(
        "loaded {} {} ({documents} {}) from {}",
        loaded.indices.len(),
        plural(loaded.indices.len(), "index", "indices"),
        plural(documents, "document", "documents"),
        dir.display()
    ));
    Ok(loaded.catalog)
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

fn print_result(output: &QueryOutput, format: OutputFormat, reporter: Reporter) -> anyhow::Result<()> {
    for warning in &output.warnings {
        reporter.warning(warning);
    }
    let mut stdout = std::io::stdout().lock();
    let written =
        output::write_result(&mut stdout, format, output, output::table_width()).context("writing the result")?;
    if format == OutputFormat::Table {
        let rows: usize = output.batches.iter().map(|b| b.num_rows()).sum();
        reporter.info(&format!("({rows} {})", plural(rows, "row", "rows")));
        if written.truncated {
            reporter.info("(use --format json to see full values)");
        }
    }
    Ok(())
}

/// Prints a failed query's error on stderr: rustc-style diagnostics for an invalid query.
pub fn report_query_error(error: &QueryError, origin: &str) {
    match error {
        QueryError::Invalid { query, diagnostics } => {
            for diagnostic in diagnostics {
                eprintln!("{}", diagnostic.render(query, origin));
            }
        }
        QueryError::Execution { es_type, message } => eprintln!("error[{es_type}]: {message}"),
        QueryError::Internal(_) => eprintln!("error: {error}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_must_be_rfc3339() {
        assert_eq!(
            parse_now("2024-05-01T02:00:00+02:00").map(|t| t.to_rfc3339()),
            Ok("2024-05-01T00:00:00+00:00".to_string())
        );
        assert!(parse_now("yesterday").unwrap_err().contains("RFC 3339"));
    }

    #[derive(Debug, clap::Parser)]
    struct Cli {
        #[command(flatten)]
        query: QueryArgs,
    }

    fn parse(args: &[&str]) -> Result<QueryArgs, clap::Error> {
        use clap::Parser;
        Cli::try_parse_from(std::iter::once("saker-query").chain(args.iter().copied())).map(|c| c.query)
    }

    #[test]
    fn unmapped_fields_and_repeat_reach_the_engine() {
        let args = parse(&["--unmapped-fields", "nullify", "--repeat", "3", "--timing", "ROW a = 1"]).unwrap();
        assert_eq!(query_options(&args).unmapped_fields, UnmappedFields::Nullify);
        assert_eq!((args.repeat, args.timing), (3, true));
        let args = parse(&["ROW a = 1"]).unwrap();
        assert_eq!(query_options(&args).unmapped_fields, UnmappedFields::Fail);
        assert_eq!((args.repeat, args.timing), (1, false));
        assert!(parse(&["--repeat", "0", "ROW a = 1"]).is_err());
        assert!(parse(&["--unmapped-fields", "load", "ROW a = 1"]).is_err());
    }
}
