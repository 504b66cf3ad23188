//! The command line: subcommands and their flags. Each subcommand's flags live next to its
//! implementation in `cmd/`.

use clap::{Parser, Subcommand};

use crate::cmd;

/// Zhima Jobworth (芝麻职得) identity authentication over Alipay OpenAPI v3.
#[derive(Debug, Parser)]
#[command(
    name = "jobworth",
    version,
    about = "Zhima Jobworth (芝麻职得) identity authentication over Alipay OpenAPI v3: query and the family's endpoints, sandbox, demo, tools",
    long_about = "Zhima Jobworth (芝麻职得) identity authentication over Alipay OpenAPI v3.\n\n\
        Start with `jobworth demo`: it runs the whole flow (order string, acceptance desk, verified query, \
        single-use token) against an embedded sandbox, with no Alipay account.\n\n\
        Exit codes: 0 success, 1 other failure, 2 usage or configuration error, 3 API error, \
        4 transport, timeout, verification or decryption failure.",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the whole Jobworth flow against an in-process sandbox and show each step
    Demo(cmd::demo::Args),
    /// Query an authentication result (GET /v3/zhima/customer/jobworth/authentication)
    Query(Box<cmd::query::Args>),
    /// Work-card (工作证) links and flags of a user (GET /v3/zhima/customer/jobworth/info/query)
    WorkCard(Box<cmd::family::WorkCardArgs>),
    /// The user's cloud résumé by conn_key and single-use once_token (GET …/jobworth/cloudresume/query)
    CloudResume(Box<cmd::family::CloudResumeArgs>),
    /// Push job data back (POST /v3/zhima/customer/jobworth/jobdata/add)
    JobData {
        #[command(subcommand)]
        command: JobDataCommand,
    },
    /// Upload a JPG or PNG picture (POST /v3/zhima/customer/jobworth/picture/upload)
    Picture {
        #[command(subcommand)]
        command: PictureCommand,
    },
    /// Publish a job posting (POST /v3/zhima/customer/jobworth/position/add)
    Position {
        #[command(subcommand)]
        command: PositionCommand,
    },
    /// The step-1 credit agreement (GET /v3/zhima/credit/payafteruse/creditagreement/query)
    CreditAgreement(Box<cmd::family::CreditAgreementArgs>),
    /// Run the sandbox: a local emulator of Alipay's side of the Jobworth flow
    Sandbox(cmd::sandbox::Args),
    /// Print the signed step-1 order string (zhima.credit.payafteruse.creditagreement.sign)
    OrderString(cmd::order_string::Args),
    /// Generate app keys
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Print a certificate's SN (app_cert_sn / alipay-sn), or a root bundle's SN with --root
    CertSn(cmd::cert_sn::Args),
    /// Benchmark the query endpoint (an embedded sandbox unless --endpoint)
    Bench(cmd::bench::Args),
    /// Re-check a receipt written by `jobworth query --receipt` offline
    Receipt {
        #[command(subcommand)]
        command: ReceiptCommand,
    },
    /// Check a `jobworth query` configuration offline (and the clock against --endpoint) before Alipay refuses it
    Doctor(Box<cmd::doctor::Args>),
}

impl Command {
    /// Notes which connection settings came from environment variables, so that messages name
    /// what the user actually set.
    pub fn record_sources(&mut self, matches: &clap::ArgMatches) {
        match (self, matches.subcommand()) {
            (Command::Query(args), Some((_, sub))) => args.connection.origins.record(sub),
            (Command::Doctor(args), Some((_, sub))) => args.connection.origins.record(sub),
            (Command::WorkCard(args), Some((_, sub))) => args.connection.origins.record(sub),
            (Command::CloudResume(args), Some((_, sub))) => args.connection.origins.record(sub),
            (Command::CreditAgreement(args), Some((_, sub))) => args.connection.origins.record(sub),
            (Command::JobData { command: JobDataCommand::Add(args) }, Some((_, sub))) => {
                record_nested(&mut args.connection, sub)
            }
            (Command::Picture { command: PictureCommand::Upload(args) }, Some((_, sub))) => {
                record_nested(&mut args.connection, sub)
            }
            (Command::Position { command: PositionCommand::Add(args) }, Some((_, sub))) => {
                record_nested(&mut args.connection, sub)
            }
            (Command::OrderString(args), Some((_, sub))) => {
                args.private_key_from_env =
                    sub.value_source("private_key") == Some(clap::parser::ValueSource::EnvVariable);
            }
            _ => {}
        }
    }
}

/// The sources of a two-word subcommand's connection settings (`job-data add`).
fn record_nested(connection: &mut cmd::query::ConnectionArgs, matches: &clap::ArgMatches) {
    if let Some((_, sub)) = matches.subcommand() {
        connection.origins.record(sub);
    }
}

#[derive(Debug, Subcommand)]
pub enum JobDataCommand {
    /// Push job_data_list records read from a JSON file
    Add(Box<cmd::family::JobDataAddArgs>),
}

#[derive(Debug, Subcommand)]
pub enum PictureCommand {
    /// Upload a picture file (checked first: JPG or PNG, at most 1 MB) and print its pic_id
    Upload(Box<cmd::family::PictureUploadArgs>),
}

#[derive(Debug, Subcommand)]
pub enum PositionCommand {
    /// Publish the jobworth_position_info read from a JSON file
    Add(Box<cmd::family::PositionAddArgs>),
}

#[derive(Debug, Subcommand)]
pub enum ReceiptCommand {
    /// Verify a receipt's signature with the Alipay public key (or certificate and root) and print the verified body
    Verify(cmd::receipt::VerifyArgs),
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Generate an RSA-2048 app key pair: app_private_key.pem (PKCS#8) and app_public_key.pem (SPKI)
    Generate(cmd::keys::GenerateArgs),
    /// Print the SHA-256 fingerprint (SHA256:ab:cd:…) of the public key in a PEM or base64 private key,
    /// public key or certificate
    Fingerprint(cmd::keys::FingerprintArgs),
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
