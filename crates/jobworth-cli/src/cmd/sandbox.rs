//! `jobworth sandbox`: runs the local emulator of Alipay's side of the Jobworth flow until SIGINT/SIGTERM.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::error::CliError;

/// `Debug` is written by hand (end of file): the struct holds the admin token.
#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on; port 0 picks a free port (the `listening on` line tells which)
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8340")]
    pub listen: SocketAddr,
    /// Directory holding all state (SQLite database, the sandbox's Alipay key and CA) unless --database is
    /// given; reused across restarts
    #[arg(long, value_name = "DIR", default_value = "./.jobworth-sandbox")]
    pub data: PathBuf,
    /// Keep the state in PostgreSQL instead of under --data (postgres://USER@HOST:PORT/DB): every
    /// sandbox started on the same database shares apps, tokens, nonces, the Alipay key and the CA
    #[arg(long, value_name = "URL", env = "JOBWORTH_DATABASE_URL", hide_env_values = true)]
    pub database: Option<String>,
    /// Accepted clock skew of a request's timestamp, in seconds (either direction)
    #[arg(long, value_name = "SECS", default_value_t = 900)]
    pub timestamp_window: u64,
    /// Lifetime of a once_token after its result became terminal, in seconds
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub token_ttl: u64,
    /// Do not sign error responses (some real gateway errors arrive unsigned; tests clients against that)
    #[arg(long)]
    pub unsigned_errors: bool,
    /// Require `Authorization: Bearer T` on the /sandbox/* control plane and allow it from any address
    /// (without it the control plane answers loopback clients only)
    #[arg(
        long,
        value_name = "T",
        env = "JOBWORTH_ADMIN_TOKEN",
        hide_env_values = true,
        conflicts_with = "admin_token_file"
    )]
    pub admin_token: Option<String>,
    /// Read the admin token from this file (kept out of `ps` and the shell history)
    #[arg(long, value_name = "PATH")]
    pub admin_token_file: Option<PathBuf>,
    /// Also answer control-plane and desk requests whose Host is NAME (repeatable; loopback
    /// addresses and localhost always are)
    #[arg(long = "allowed-host", value_name = "NAME")]
    pub allowed_hosts: Vec<String>,
    /// Answer queries carrying parameters the endpoint does not define (refused by default, which
    /// catches typos such as onceToken)
    #[arg(long)]
    pub allow_unknown_params: bool,
    /// Treat a query with cert_no and no cert_type as this cert_type (the PHP v3 SDK drops a
    /// cert_type of "0"); without it such a query is refused with INVALID_PARAMETER
    #[arg(long, value_name = "T", value_parser = ["0", "1", "2", "3", "4", "5"])]
    pub default_cert_type: Option<String>,
    /// Open connections served at once; more get 503
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=65536))]
    pub max_connections: u32,
}

/// The admin token from `--admin-token`, `JOBWORTH_ADMIN_TOKEN` or `--admin-token-file`.
fn admin_token(args: &Args) -> Result<Option<String>, CliError> {
    if let Some(path) = &args.admin_token_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| CliError::config(format!("--admin-token-file {}: {e}", path.display())))?;
        let token = text.trim_end_matches(['\r', '\n']).to_string();
        if token.is_empty() {
            return Err(CliError::config(format!("--admin-token-file {} is empty", path.display())));
        }
        return Ok(Some(token));
    }
    Ok(args.admin_token.clone().filter(|t| !t.is_empty()))
}

pub async fn run(args: Args) -> Result<(), CliError> {
    let config = jobworth_sandbox::Config {
        listen: args.listen,
        data_dir: args.data.clone(),
        database: args.database.clone().filter(|url| !url.is_empty()),
        timestamp_window: Duration::from_secs(args.timestamp_window),
        token_ttl: Duration::from_secs(args.token_ttl),
        unsigned_errors: args.unsigned_errors,
        admin_token: admin_token(&args)?,
        allow_unknown_params: args.allow_unknown_params,
        allowed_hosts: args.allowed_hosts.clone(),
        default_cert_type: args.default_cert_type.clone(),
        limits: jobworth_sandbox::Limits {
            max_connections: args.max_connections as usize,
            ..jobworth_sandbox::Limits::default()
        },
    };
    let store = config.store();
    let running = jobworth_sandbox::Sandbox::start(config).await.map_err(|e| match e {
        // The address is the user's choice: one in use or not local is theirs to change.
        jobworth_sandbox::StartError::Bind { .. } => {
            CliError::config(format!("{e}; choose another --listen address (port 0 picks a free one)"))
        }
        jobworth_sandbox::StartError::Store(jobworth_sandbox::StoreError::Url(_)) => {
            CliError::config(format!("--database: {e}; expected postgres://USER@HOST:PORT/DB"))
        }
        other if args.database.as_deref().is_some_and(|url| !url.is_empty()) => {
            CliError::failure(format!("cannot start the sandbox on {store}: {other}"))
        }
        other => CliError::failure(format!("cannot start the sandbox with data in {}: {other}", args.data.display())),
    })?;
    announce(running.base_url(), &running.state().store_location())?;
    let signal = shutdown_signal().await;
    tracing::info!(signal, "shutting down");
    running.shutdown().await;
    Ok(())
}

/// The line scripts and tests wait for (`listening on URL`, always first), then which store is
/// in use; flushed so a pipe sees them at once.
fn announce(base_url: &str, store: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on {base_url}")
        .and_then(|()| writeln!(out, "store: {store}"))
        .and_then(|()| out.flush())
        .map_err(|e| CliError::failure(format!("cannot write to stdout: {e}")))
}

/// Resolves on SIGINT (Ctrl-C) or, on unix, SIGTERM; returns the signal's name for the log.
pub(super) async fn shutdown_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = tokio::signal::ctrl_c() => "SIGINT",
                _ = term.recv() => "SIGTERM",
            },
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; stop with Ctrl-C");
                let _ = tokio::signal::ctrl_c().await;
                "SIGINT"
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }
}

impl std::fmt::Debug for Args {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Args")
            .field("listen", &self.listen)
            .field("data", &self.data)
            .field("database", &self.database.as_ref().map(|_| "<redacted>"))
            .field("admin_token", &self.admin_token.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod debug_tests {
    use clap::Parser;

    #[test]
    fn debug_hides_the_admin_token() {
        let cli = crate::cli::Cli::try_parse_from(["jobworth", "sandbox", "--admin-token", "adm-secret-7f3c"]).unwrap();
        let shown = format!("{cli:?}");
        assert!(!shown.contains("adm-secret-7f3c") && shown.contains("<redacted>"), "{shown}");
        let cli = crate::cli::Cli::try_parse_from(["jobworth", "sandbox", "--database", "postgres://u:pw-9d2e@h/db"])
            .unwrap();
        let shown = format!("{cli:?}");
        assert!(!shown.contains("pw-9d2e"), "{shown}");
    }
}
