//! `saker serve`: the Elasticsearch-compatible HTTP API over a data folder, until SIGINT or SIGTERM.

use crate::Reporter;
use anyhow::Context;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

pub const EXAMPLES: &str = "\
Examples:
  saker serve --data /var/lib/saker
  saker serve --data ./data --listen 127.0.0.1:9201 --log-format json
  saker serve --data ./data --listen 0.0.0.0:9200 --users users.toml --tls-cert cert.pem --tls-key key.pem
  saker serve --data ./data --rules rules/flagship
  curl -s localhost:9200/_query -H 'Content-Type: application/json' \\
    -d '{\"query\": \"FROM logs-* | STATS c = COUNT(*) BY event.outcome\"}'

Clients that speak Elasticsearch (the official clients, Beats, Logstash) point at the address as
they would at an Elasticsearch node. Log verbosity follows SAKER_LOG (e.g. `debug`,
`server=debug,info`); the default is `info`.";

/// How long in-flight requests may take to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Arguments of `saker serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The data folder (created if missing).
    #[arg(long, short, value_name = "DIR")]
    pub data: PathBuf,

    /// The address to listen on. A non-loopback address needs `--users`; on loopback without it,
    /// every local process may call the API.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:9200")]
    pub listen: SocketAddr,

    /// Require authentication: the users file (TOML `[[user]]` tables; see `saker users`). API
    /// keys created through `POST /_security/api_key` are kept in the data folder.
    #[arg(long, value_name = "FILE")]
    pub users: Option<PathBuf>,

    /// Serve HTTPS with this certificate chain (PEM; needs `--tls-key`).
    #[arg(long, value_name = "PEM")]
    pub tls_cert: Option<PathBuf>,

    /// The private key of `--tls-cert` (PEM).
    #[arg(long, value_name = "PEM")]
    pub tls_key: Option<PathBuf>,

    /// The largest request body accepted, in bytes (after gzip decoding).
    #[arg(long, value_name = "BYTES", default_value_t = 100 << 20)]
    pub max_body_bytes: usize,

    /// Detection rules to run on their schedules (TOML, NDJSON or JSON files, or folders of them),
    /// beside the rules managed through Kibana's detection engine API (`/api/detection_engine/`).
    /// Rules from files are immutable through the API: they can only be enabled or disabled.
    #[arg(long, value_name = "PATH", num_args = 1..)]
    pub rules: Vec<PathBuf>,

    /// How logs are written on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// Log line formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines with `key=value` fields.
    Text,
    /// One JSON object a line.
    Json,
}

/// Runs `saker serve` until a shutdown signal.
///
/// # Errors
/// When the address is not loopback and no users file is given, the users or TLS files are not
/// valid, the data folder cannot be opened, or the address cannot be bound.
pub fn run(args: &ServeArgs, reporter: Reporter) -> anyhow::Result<ExitCode> {
    let (users, cert, key) = (args.users.as_deref(), args.tls_cert.as_deref(), args.tls_key.as_deref());
    crate::security::check_listen(args.listen, users, cert, key)?;
    init_logs(args.log_format, reporter);
    let store = store::Store::open(&args.data).with_context(|| format!("opening {}", args.data.display()))?;
    let recovery = store.recovery();
    tracing::info!(
        data = %store.dir().display(),
        replayed_records = recovery.records,
        replayed_documents = recovery.documents,
        "store opened"
    );
    let secure = crate::security::load(args.listen, users, store.dir(), cert, key)?;
    let store = Arc::new(store);
    let config = server::ServerConfig {
        max_body_bytes: args.max_body_bytes,
        security: secure.security,
        tls: secure.tls,
        ..server::ServerConfig::default()
    };
    let registry = crate::scheduler::load_registry(store.dir(), &args.rules)?;
    let state = server::AppState::new(store.clone(), config).with_rules(registry.clone());
    let scheduler = crate::scheduler::start(store, registry, state.metrics().clone())?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")?;
    runtime.block_on(async {
        let listener =
            tokio::net::TcpListener::bind(args.listen).await.with_context(|| format!("binding {}", args.listen))?;
        let address = listener.local_addr().context("reading the bound address")?;
        let scheme = if state.config().tls.is_some() { "https" } else { "http" };
        let authentication = state.config().security.is_some();
        tracing::info!(%address, scheme, authentication, version = server::response::ES_VERSION, "listening");
        let (stopping, stopped) = tokio::sync::oneshot::channel::<()>();
        let shutdown = async move {
            shutdown_signal().await;
            tracing::info!("shutting down: no new connections, finishing requests in flight");
            let _ = stopping.send(());
        };
        let serving = server::serve(listener, state, shutdown);
        tokio::pin!(serving);
        tokio::select! {
            result = &mut serving => result.context("serving")?,
            _ = async {
                let _ = stopped.await;
                tokio::time::sleep(SHUTDOWN_GRACE).await;
            } => {
                tracing::warn!(grace_secs = SHUTDOWN_GRACE.as_secs(), "requests still running after the grace period; stopping");
            }
        }
        anyhow::Ok(())
    })?;
    // the store (dropped with the runtime's tasks) stops its flush thread; what was acknowledged
    // is in its log
    drop(runtime);
    scheduler.stop();
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

fn init_logs(format: LogFormat, reporter: Reporter) {
    use tracing_subscriber::EnvFilter;
    let default = if reporter.quiet { "error" } else { "info" };
    let filter = EnvFilter::try_from_env("SAKER_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    let result = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    if let Err(e) = result {
        reporter.warning(&format!("logging is not available: {e}"));
    }
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
