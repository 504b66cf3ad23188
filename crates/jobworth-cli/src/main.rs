//! `jobworth` — the command-line face of the toolkit: the demo, the sandbox, queries, order strings,
//! keys and certificate SNs. Flags, environment variables and exit codes are a contract: scripts rely on them.
#![forbid(unsafe_code)]

mod cli;
mod cmd;
mod error;
mod inspect;
mod output;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use crate::cli::{Cli, Command, JobDataCommand, KeysCommand, PictureCommand, PositionCommand, ReceiptCommand};
use crate::error::CliError;

fn main() -> ExitCode {
    // clap prints usage errors itself and exits 2; `--help`/`--version` exit 0.
    let parsed = Cli::command().try_get_matches().and_then(|m| Ok((Cli::from_arg_matches(&m)?, m)));
    let cli = match parsed {
        Ok((mut cli, matches)) => {
            cli.command.record_sources(&matches);
            cli
        }
        Err(e) => usage_error(e),
    };
    init_tracing(&cli.command);
    let result = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt.block_on(run(cli.command)),
        Err(e) => Err(CliError::failure(format!("cannot start the async runtime: {e}"))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            if let Some(message) = &err.message {
                output::print_error_with_hint(message, err.hint.as_deref());
            }
            ExitCode::from(err.exit.code())
        }
    }
}

async fn run(command: Command) -> Result<(), CliError> {
    match command {
        Command::Demo(args) => cmd::demo::run(args).await,
        Command::Query(args) => cmd::query::run(args).await,
        Command::WorkCard(args) => cmd::family::work_card(*args).await,
        Command::CloudResume(args) => cmd::family::cloud_resume(*args).await,
        Command::JobData { command: JobDataCommand::Add(args) } => cmd::family::job_data_add(*args).await,
        Command::Picture { command: PictureCommand::Upload(args) } => cmd::family::picture_upload(*args).await,
        Command::Position { command: PositionCommand::Add(args) } => cmd::family::position_add(*args).await,
        Command::CreditAgreement(args) => cmd::family::credit_agreement(*args).await,
        Command::Sandbox(args) => cmd::sandbox::run(args).await,
        Command::OrderString(args) => cmd::order_string::run(args),
        Command::Keys { command: KeysCommand::Generate(args) } => cmd::keys::generate(args),
        Command::Keys { command: KeysCommand::Fingerprint(args) } => cmd::keys::fingerprint(args),
        Command::Doctor(args) => cmd::doctor::run(args).await,
        Command::CertSn(args) => cmd::cert_sn::run(args),
        Command::Receipt { command: ReceiptCommand::Verify(args) } => cmd::receipt::verify(args),
        Command::Bench(args) => cmd::bench::run(args).await,
    }
}

/// Exits as clap does; a real usage error under `--json` also gets its error object on stdout, so
/// a script reading stdout sees why nothing else came.
fn usage_error(e: clap::Error) -> ! {
    let json = std::env::args_os().skip(1).take_while(|a| a != "--").any(|a| a == "--json");
    if json && e.use_stderr() {
        let rendered = e.render().to_string();
        // The lines before the usage block, as one: "the following required arguments were not provided: --conn-key <KEY>".
        let message: Vec<&str> = rendered
            .lines()
            .take_while(|l| !l.starts_with("Usage:"))
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let message = message.join(" ");
        let message = message.strip_prefix("error: ").unwrap_or(&message);
        let words: Vec<String> = std::env::args().skip(1).take_while(|a| !a.starts_with('-')).take(2).collect();
        let hint = format!("see `jobworth {} --help`", words.join(" "));
        output::ErrorJson {
            code: "usage-error",
            message,
            hint: Some(&hint),
            exit: error::Exit::Config.code(),
            http_status: None,
            trace_id: None,
        }
        .print();
    }
    e.exit()
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
