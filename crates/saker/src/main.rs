//! `saker`: run ES|QL queries over NDJSON folders and check detection rules' queries.
//!
//! Results go to stdout; progress, warnings and errors go to stderr (`--quiet` keeps only errors).

mod check;
mod generate;
mod output;
mod query;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

const EXAMPLES: &str = "\
Examples:
  saker query --data fixtures/ 'FROM logs-* | STATS c = COUNT(*) BY event.outcome'
  saker query --data fixtures/ --format json --now 2024-05-01T00:00:00Z --file rule.esql
  saker check rules/esql/
  saker check --data fixtures/ my_rule.toml other.esql";

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
    /// Run an ES|QL query over a folder of NDJSON files and print the result.
    #[command(after_help = query::EXAMPLES)]
    Query(query::QueryArgs),
    /// Parse and analyze the queries of `.esql` files and ES|QL rule TOML files, without data.
    #[command(after_help = check::EXAMPLES)]
    Check(check::CheckArgs),
    /// Write realistic ECS data (Entra ID, Microsoft 365, IDS, firewall) with hidden attacks.
    #[command(after_help = generate::EXAMPLES)]
    Gen(generate::GenArgs),
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
        Command::Query(args) => query::run(&args, reporter),
        Command::Check(args) => check::run(&args, reporter),
        Command::Gen(args) => generate::run(&args, reporter),
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
