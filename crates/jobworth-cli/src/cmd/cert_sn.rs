//! `jobworth cert-sn`: the certificate SNs Alipay's certificate mode sends (`app_cert_sn`, `alipay-sn`,
//! `alipay_root_cert_sn`), computed exactly as the official SDKs do.

use std::path::PathBuf;

use alipay_v3::cert::{parse_bundle_bytes, CertInfo};

use crate::cmd::read_input_file;
use crate::error::CliError;

#[derive(Debug, clap::Args)]
#[command(after_help = "The SN is md5(issuer DN + decimal serial number) in lower-case hex. A root bundle's SN \
    joins the SNs of its RSA-signed certificates with '_' (that is the alipay_root_cert_sn value). PEM or DER input.")]
pub struct Args {
    /// Certificate file, PEM or DER (with --root: the Alipay root certificate bundle, e.g. alipayRootCert.crt)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// FILE is a root bundle: print the root SN (alipay_root_cert_sn)
    #[arg(long)]
    pub root: bool,
}

pub fn run(args: Args) -> Result<(), CliError> {
    let bytes = read_input_file(&args.file, "", "certificate")?;
    let bad =
        |e: alipay_v3::CertError| CliError::config(format!("{}: not a usable certificate ({e})", args.file.display()));
    let certs = parse_bundle_bytes(&bytes).map_err(bad)?;
    // Same rules as `alipay_v3::cert::{cert_sn, root_cert_sn}`, applied to the parsed certificates so that
    // DER input works too.
    let sn = if args.root {
        let sns: Vec<String> = certs.iter().filter(|c| c.is_rsa_signed()).map(CertInfo::sn).collect();
        if sns.is_empty() {
            return Err(bad(alipay_v3::CertError::NoRsaRoot));
        }
        sns.join("_")
    } else {
        certs.first().map(CertInfo::sn).ok_or_else(|| bad(alipay_v3::CertError::NoCertificate))?
    };
    println!("{sn}");
    Ok(())
}
