//! The command line: subcommands and their flags. Each subcommand's flags live next to its
//! implementation in `cmd/`.

use clap::{Parser, Subcommand};

use crate::cmd;

/// Zhima Jobworth (芝麻职得) identity authentication over Alipay OpenAPI v3.
#[derive(Debug, Parser)]
#[command(
    name = "jobworth",
    version,
    about = "Zhima Jobworth (芝麻职得) identity authentication over Alipay OpenAPI v3: query, sandbox, demo, tools",
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
            (Command::OrderString(args), Some((_, sub))) => {
                args.private_key_from_env =
                    sub.value_source("private_key") == Some(clap::parser::ValueSource::EnvVariable);
            }
            _ => {}
        }
    }
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
