//! Project tasks, run as `cargo xtask <task>`.
//!
//! * `conformance [--specs <DIR>] [--filter <TEXT>] [--verbose] [--bless]`: runs Elastic's
//!   ES|QL csv-spec suite (`cargo test -p esql --test conformance -- --nocapture`).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  conformance [--specs <DIR>] [--filter <TEXT>] [--verbose] [--bless]
      Run Elastic's ES|QL csv-spec conformance suite against Saker.
        --specs <DIR>    folder of *.csv-spec files (default: <shared>/esql-spec/specs,
                         where <shared> is $SAKER_SHARED or ../shared next to the repository)
        --filter <TEXT>  only run cases whose `<file>::<name>` contains TEXT
        --verbose, -v    list every failing and skipped case with its reason
        --bless          rewrite crates/esql/tests/conformance-passing.txt from this run";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("conformance") => match conformance(&args[1..]) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("error: {e}\n\n{USAGE}");
                ExitCode::from(2)
            }
        },
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("error: unknown task `{other}`\n\n{USAGE}");
            ExitCode::from(2)
        }
        None => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

fn conformance(args: &[String]) -> Result<ExitCode, String> {
    let mut envs: Vec<(&str, OsString)> = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--specs" => {
                let dir = it.next().ok_or("--specs needs a directory")?;
                let dir = std::path::absolute(dir).map_err(|e| format!("bad --specs directory {dir}: {e}"))?;
                if !dir.is_dir() {
                    return Err(format!("--specs: {} is not a directory", dir.display()));
                }
                envs.push(("SAKER_SPECS", dir.into_os_string()));
            }
            "--filter" => {
                let text = it.next().ok_or("--filter needs a text")?;
                envs.push(("SAKER_CONFORMANCE_FILTER", text.into()));
            }
            "--verbose" | "-v" => envs.push(("SAKER_CONFORMANCE_VERBOSE", "1".into())),
            "--bless" => envs.push(("SAKER_CONFORMANCE_BLESS", "1".into())),
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(ExitCode::SUCCESS);
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace_root())
        .args(["test", "-p", "esql", "--test", "conformance", "--", "--nocapture"])
        .envs(envs);
    let status = cmd.status().map_err(|e| format!("cannot run cargo: {e}"))?;
    Ok(match status.code() {
        Some(0) => ExitCode::SUCCESS,
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        None => ExitCode::FAILURE,
    })
}
