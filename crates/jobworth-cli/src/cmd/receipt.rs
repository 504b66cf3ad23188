//! Receipts on disk: `jobworth query --receipt FILE` writes one, `jobworth receipt verify FILE`
//! re-checks it offline.
//!
//! A receipt file is never overwritten (the one of a terminal result is the only copy of it) and
//! never seen half-written: the JSON goes into a temporary file of mode 0600 in the same
//! directory, is flushed to disk, and is then linked under FILE, which fails if FILE exists.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use jobworth::{Receipt, ReceiptTrust};
use zeroize::Zeroizing;

use crate::cmd::{read_input_file, read_input_text};
use crate::error::{CliError, Exit};
use crate::output;

/// A receipt file reserved before the query is sent: FILE is free and its directory writable.
pub struct Pending {
    target: PathBuf,
    tmp: PathBuf,
    file: Option<File>,
}

impl Pending {
    /// Checks FILE does not exist and creates the temporary file beside it (mode 0600).
    pub fn reserve(target: &Path) -> Result<Pending, CliError> {
        if target.symlink_metadata().is_ok() {
            return Err(CliError::config(format!(
                "--receipt {}: the file exists; receipts are never overwritten (move it or choose another path)",
                target.display()
            )));
        }
        let name = target
            .file_name()
            .ok_or_else(|| CliError::config(format!("--receipt {}: expected the path of a file", target.display())))?;
        let tmp = target.with_file_name(format!(
            ".{}.{}.tmp",
            name.to_string_lossy(),
            alipay_v3::new_nonce().split('-').next().unwrap_or("0")
        ));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&tmp).map_err(|e| {
            CliError::config(format!("--receipt {}: cannot create a file there: {e}", target.display()))
        })?;
        Ok(Pending { target: target.to_path_buf(), tmp, file: Some(file) })
    }

    /// Writes the receipt and publishes it under FILE.
    pub fn commit(mut self, receipt: &Receipt) -> Result<(), CliError> {
        let kept = |what: &str, e: std::io::Error, tmp: &Path| {
            CliError::failure(format!("cannot store the receipt ({what}: {e}); it is kept in {}", tmp.display()))
        };
        let mut file = self.file.take().ok_or_else(|| CliError::failure("receipt file already used"))?;
        let mut text = serde_json::to_vec_pretty(receipt)
            .map_err(|e| CliError::failure(format!("cannot encode the receipt: {e}")))?;
        text.push(b'\n');
        if let Err(e) = file.write_all(&text).and_then(|()| file.sync_all()) {
            // Nothing usable was written: the temporary file goes.
            let _ = std::fs::remove_file(&self.tmp);
            return Err(CliError::failure(format!("cannot write the receipt {}: {e}", self.target.display())));
        }
        let tmp = std::mem::take(&mut self.tmp);
        // A hard link publishes the whole file at once and, unlike rename, never replaces one.
        std::fs::hard_link(&tmp, &self.target).map_err(|e| kept(&self.target.display().to_string(), e, &tmp))?;
        let _ = std::fs::remove_file(&tmp);
        if let Some(dir) = self.target.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = File::open(dir).and_then(|d| d.sync_all());
        }
        Ok(())
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        // Not committed (no signed answer): nothing to keep.
        if !self.tmp.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

#[derive(clap::Args)]
#[command(
    group(clap::ArgGroup::new("trust").required(true).args(["alipay_public_key", "alipay_cert"])),
    after_help = "Exit codes: 0 verified (the verified body is printed), 2 usage error or unreadable file, \
        4 the receipt does not verify.\n\nExample:\n  jobworth receipt verify receipt.json --alipay-public-key \
        alipay_public_key.pem"
)]
pub struct VerifyArgs {
    /// The receipt file (written by `jobworth query --receipt FILE`)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Key mode: path of the Alipay public key (SPKI PEM or bare base64)
    #[arg(long, value_name = "PATH", conflicts_with_all = ["alipay_cert", "alipay_root_cert"])]
    pub alipay_public_key: Option<PathBuf>,
    /// Certificate mode: path of the Alipay certificate (its intermediates may follow in the file)
    #[arg(long, value_name = "PATH", requires = "alipay_root_cert")]
    pub alipay_cert: Option<PathBuf>,
    /// Certificate mode: path of the Alipay root certificate bundle the certificate must chain to
    #[arg(long, value_name = "PATH", requires = "alipay_cert")]
    pub alipay_root_cert: Option<PathBuf>,
    /// AES key (base64) to decrypt an encrypted body after verifying it
    #[arg(long, env = "ALIPAY_ENCRYPT_KEY", value_name = "BASE64", hide_env_values = true, value_parser = zeroizing)]
    pub encrypt_key: Option<Zeroizing<String>>,
    /// Print one JSON object: `verified`, the receipt's status, time and SN, and the verified body
    #[arg(long)]
    pub json: bool,
}

fn zeroizing(s: &str) -> Result<Zeroizing<String>, std::convert::Infallible> {
    Ok(Zeroizing::new(s.to_string()))
}

impl fmt::Debug for VerifyArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyArgs")
            .field("file", &self.file)
            .field("alipay_public_key", &self.alipay_public_key)
            .field("alipay_cert", &self.alipay_cert)
            .field("alipay_root_cert", &self.alipay_root_cert)
            .field("encrypt_key", &self.encrypt_key.as_ref().map(|_| "<redacted>"))
            .field("json", &self.json)
            .finish()
    }
}

pub fn verify(args: VerifyArgs) -> Result<(), CliError> {
    let json = args.json;
    let result = check(&args);
    if let (true, Err(err)) = (json, &result) {
        err.print_json(if err.exit == Exit::Transport { "receipt-not-verified" } else { err.exit.json_code() });
    }
    result
}

fn check(args: &VerifyArgs) -> Result<(), CliError> {
    let text = read_input_text(&args.file, "", "receipt")?;
    let receipt: Receipt = serde_json::from_str(&text).map_err(|e| {
        CliError::config(format!(
            "{}: not a receipt (JSON written by `jobworth query --receipt`): {e}",
            args.file.display()
        ))
    })?;
    let trust = match (&args.alipay_public_key, &args.alipay_cert, &args.alipay_root_cert) {
        (Some(path), _, _) => {
            ReceiptTrust::PublicKey(crate::cmd::query::load_alipay_public_key(path, "--alipay-public-key")?)
        }
        (None, Some(cert), Some(root)) => {
            let cert_bytes = read_input_file(cert, "--alipay-cert", "Alipay certificate")?;
            let root_bytes = read_input_file(root, "--alipay-root-cert", "Alipay root certificate")?;
            ReceiptTrust::certificates(&cert_bytes, &root_bytes).map_err(|e| {
                CliError::config(format!(
                    "--alipay-cert {} / --alipay-root-cert {}: not usable certificates ({e})",
                    cert.display(),
                    root.display()
                ))
            })?
        }
        // clap's group and `requires` rule these out.
        _ => return Err(CliError::config("give --alipay-public-key, or --alipay-cert with --alipay-root-cert")),
    };
    let aes = match args.encrypt_key.as_deref() {
        Some(b64) => Some(alipay_v3::aes::AesKey::from_base64(b64.trim()).map_err(|_| {
            CliError::config("--encrypt-key (ALIPAY_ENCRYPT_KEY): expected the AES key as base64 of 16, 24 or 32 bytes")
        })?),
        None => None,
    };
    let body = receipt.verify(&trust, aes.as_ref()).map_err(|e| {
        let err = CliError::transport(format!("the receipt {} does not verify: {e}", args.file.display()));
        match e {
            jobworth::ReceiptError::KeyNeeded => err.with_hint("pass --encrypt-key (or ALIPAY_ENCRYPT_KEY)"),
            jobworth::ReceiptError::Signature(_) => err.with_hint(
                "the receipt was altered, or another key than the given one signed the answer (another environment?)",
            ),
            _ => err,
        }
    })?;
    if args.json {
        let body_value = serde_json::from_slice::<serde_json::Value>(&body)
            .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(&body).into_owned()));
        let out = serde_json::json!({
            "verified": true,
            "format": receipt.format,
            "method": receipt.method,
            "status": receipt.status,
            "alipay_sn": receipt.alipay_sn,
            "encrypted": receipt.encrypted,
            "received_at": receipt.received_at,
            "body": body_value,
        });
        println!("{out}");
    } else {
        let mut stdout = std::io::stdout().lock();
        let written =
            stdout.write_all(&body).and_then(|()| if body.ends_with(b"\n") { Ok(()) } else { stdout.write_all(b"\n") });
        written.map_err(|e| CliError::failure(format!("cannot write to stdout: {e}")))?;
        let p = output::Palette::stderr();
        eprintln!(
            "{} HTTP {} answer received {}{}",
            p.green("verified:"),
            receipt.status,
            receipt.received_at,
            receipt.alipay_sn.as_deref().map(|sn| format!(", alipay-sn {sn}")).unwrap_or_default()
        );
    }
    Ok(())
}
