//! `saker users`: bcrypt hashes and entries for the users file of `saker serve --users`; and the
//! security settings `saker serve` builds from its arguments (users, API keys, TLS).

use crate::Reporter;
use anyhow::Context;
use server::auth::{Role, Security, Users};
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

pub const EXAMPLES: &str = "\
Examples:
  saker users add --file users.toml --name admin --role superuser       # asks for the password
  printf '%s' \"$PASSWORD\" | saker users add --file users.toml --name filebeat --role ingest
  printf '%s' \"$PASSWORD\" | saker users hash
  saker serve --data ./data --users users.toml --listen 0.0.0.0:9200 --tls-cert cert.pem --tls-key key.pem

The password is read from standard input (one line). The users file holds one [[user]] table per
user: name, password_hash (bcrypt) and roles (superuser, viewer, ingest).";

/// `saker users` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum UsersCommand {
    /// Print the bcrypt hash of the password read from standard input.
    Hash,
    /// Add a user to a users file (created if missing), with the password read from standard input.
    Add(AddArgs),
}

/// Arguments of `saker users add`.
#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// The users file.
    #[arg(long, value_name = "FILE")]
    pub file: PathBuf,
    /// The user's name.
    #[arg(long)]
    pub name: String,
    /// A role of the user (repeat for several).
    #[arg(long = "role", value_enum, required = true)]
    pub roles: Vec<RoleArg>,
}

/// The roles, as `--role` takes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RoleArg {
    /// Everything, including other users' API keys and deleting indices.
    Superuser,
    /// ES|QL queries and index metadata.
    Viewer,
    /// Writing documents (`_bulk`, `_doc`, `_create`) and index metadata.
    Ingest,
}

impl From<RoleArg> for Role {
    fn from(role: RoleArg) -> Role {
        match role {
            RoleArg::Superuser => Role::Superuser,
            RoleArg::Viewer => Role::Viewer,
            RoleArg::Ingest => Role::Ingest,
        }
    }
}

/// Runs a `saker users` subcommand.
///
/// # Errors
/// When the password cannot be read or hashed, or the users file cannot be read or written.
pub fn run(command: &UsersCommand, reporter: Reporter) -> anyhow::Result<ExitCode> {
    match command {
        UsersCommand::Hash => {
            let password = read_password()?;
            println!("{}", server::auth::hash_password(&password).map_err(anyhow::Error::msg)?);
        }
        UsersCommand::Add(args) => add(args, reporter)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn add(args: &AddArgs, reporter: Reporter) -> anyhow::Result<()> {
    server::auth::validate_user_name(&args.name).map_err(anyhow::Error::msg)?;
    let existing = match std::fs::read_to_string(&args.file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", args.file.display())),
    };
    let users = Users::parse(&existing).map_err(|e| anyhow::anyhow!("users file {}: {e}", args.file.display()))?;
    if users.get(&args.name).is_some() {
        anyhow::bail!("user [{}] is already in {}", args.name, args.file.display());
    }
    let password = read_password()?;
    let hash = server::auth::hash_password(&password).map_err(anyhow::Error::msg)?;
    let roles: Vec<Role> = args.roles.iter().map(|r| Role::from(*r)).collect();
    let entry = server::auth::user_entry(&args.name, &hash, &roles).map_err(anyhow::Error::msg)?;
    let mut text = existing;
    if !text.is_empty() && !text.ends_with("\n\n") {
        text.push_str(if text.ends_with('\n') { "\n" } else { "\n\n" });
    }
    text.push_str(&entry);
    // the result must read back, before it replaces the file
    Users::parse(&text).map_err(|e| anyhow::anyhow!("the new users file would not be valid: {e}"))?;
    write_private(&args.file, &text)?;
    reporter.info(&format!("added user [{}] to {}", args.name, args.file.display()));
    Ok(())
}

/// Writes `text` to `path` through a temporary file, readable by the owner only.
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp).with_context(|| format!("writing {}", tmp.display()))?;
        file.write_all(text.as_bytes()).with_context(|| format!("writing {}", tmp.display()))?;
        file.sync_all().with_context(|| format!("writing {}", tmp.display()))?;
    }
    std::fs::rename(&tmp, path).with_context(|| format!("replacing {}", path.display()))
}

/// One line of standard input, without its line ending; not echoed when it is a terminal.
fn read_password() -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    let interactive = stdin.is_terminal();
    let mut line = String::new();
    if interactive {
        eprint!("Password: ");
        let _ = std::io::stderr().flush();
        let hidden = set_echo(false);
        let read = stdin.lock().read_line(&mut line);
        if hidden {
            set_echo(true);
            eprintln!();
        }
        read.context("reading the password")?;
    } else {
        stdin.lock().read_line(&mut line).context("reading the password from standard input")?;
    }
    let password = line.strip_suffix('\n').unwrap_or(&line);
    let password = password.strip_suffix('\r').unwrap_or(password);
    if password.is_empty() {
        anyhow::bail!("no password on standard input");
    }
    Ok(password.to_string())
}

/// Turns the terminal's echo on or off with `stty`; false when that is not possible.
fn set_echo(on: bool) -> bool {
    std::process::Command::new("stty")
        .arg(if on { "echo" } else { "-echo" })
        .stdin(std::process::Stdio::inherit())
        .status()
        .is_ok_and(|s| s.success())
}

/// What `saker serve` secures the API with.
pub struct ServeSecurity {
    /// Users and API keys.
    pub security: Option<Arc<Security>>,
    /// HTTPS.
    pub tls: Option<Arc<server::tls::ServerConfig>>,
}

/// Checks the address against the security settings before anything starts: a non-loopback
/// address needs a users file, since it would otherwise serve anyone who can reach it.
///
/// # Errors
/// When the address is not loopback and no users file is given, or only one of the TLS files is.
pub fn check_listen(
    listen: std::net::SocketAddr,
    users: Option<&Path>,
    cert: Option<&Path>,
    key: Option<&Path>,
) -> anyhow::Result<()> {
    if cert.is_some() != key.is_some() {
        anyhow::bail!("--tls-cert and --tls-key go together: give both or neither");
    }
    if !listen.ip().is_loopback() && users.is_none() {
        anyhow::bail!(
            "refusing to listen on {listen} without authentication: give --users <FILE> (make one with `saker users add`), \
             or listen on a loopback address"
        );
    }
    Ok(())
}

/// Loads the users file and API keys (kept in `data`) and the TLS files for a server on `listen`.
///
/// # Errors
/// When a file cannot be read or is not valid, or the users file has no user.
pub fn load(
    listen: std::net::SocketAddr,
    users: Option<&Path>,
    data: &Path,
    cert: Option<&Path>,
    key: Option<&Path>,
) -> anyhow::Result<ServeSecurity> {
    let security = match users {
        None => None,
        Some(path) => {
            let users = Users::load(path).map_err(anyhow::Error::msg)?;
            if users.is_empty() {
                anyhow::bail!("users file {} has no [[user]]: add one with `saker users add`", path.display());
            }
            tracing::info!(users = users.len(), file = %path.display(), "authentication on");
            Some(Arc::new(Security::open(users, data).map_err(anyhow::Error::msg)?))
        }
    };
    let tls = match (cert, key) {
        (Some(cert), Some(key)) => Some(server::tls::server_config(cert, key).map_err(anyhow::Error::msg)?),
        _ => None,
    };
    if tls.is_none() && !listen.ip().is_loopback() {
        tracing::warn!(
            %listen,
            "serving plain HTTP on a non-loopback address: passwords and API keys cross the network unencrypted; \
             give --tls-cert and --tls-key"
        );
    }
    Ok(ServeSecurity { security, tls })
}
