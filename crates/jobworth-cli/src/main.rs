//! `jobworth` — the command-line face of the toolkit: the demo, the sandbox, queries, order strings,
//! keys and certificate SNs. See SPEC §5 for the contract (flags, environment variables, exit codes).
#![forbid(unsafe_code)]

mod cli;
mod cmd;
mod error;
mod output;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command, KeysCommand};
use crate::error::CliError;

fn main() -> ExitCode {
    // clap prints usage errors itself and exits 2; `--help`/`--version` exit 0.
    let cli = Cli::parse();
    init_tracing(&cli.command);
    let result = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt.block_on(run(cli.command)),
        Err(e) => Err(CliError::failure(format!("cannot start the async runtime: {e}"))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            if let Some(message) = &err.message {
                output::print_error(message);
            }
            ExitCode::from(err.exit.code())
        }
    }
}

async fn run(command: Command) -> Result<(), CliError> {
    match command {
        Command::Demo(args) => cmd::demo::run(args).await,
        Command::Query(args) => cmd::query::run(args).await,
        Command::Sandbox(args) => cmd::sandbox::run(args).await,
        Command::OrderString(args) => cmd::order_string::run(args),
        Command::Keys { command: KeysCommand::Generate(args) } => cmd::keys::generate(args),
        Command::CertSn(args) => cmd::cert_sn::run(args),
        Command::Bench(args) => cmd::bench::run(args).await,
    }
}

/// Logs go to stderr so stdout stays machine-readable. The sandbox logs requests at `info`; the
/// one-shot commands report failures in their own words, so by default only errors are logged
/// (`RUST_LOG=jobworth=debug` shows the SDK's retries and checks).
fn init_tracing(command: &Command) {
    use tracing_subscriber::EnvFilter;
    let default = match command {
        Command::Sandbox(_) => "info",
        Command::Bench(_) => "warn",
        _ => "error",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(output::stderr_colour())
        .try_init();
}
