//! `jobworth keys generate`: a fresh RSA-2048 app key pair in the files the rest of the toolkit reads.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use alipay_v3::keys::PrivateKey;

use crate::error::CliError;
use crate::output::{print_fields, Palette};

/// File name of the generated private key (PKCS#8 PEM).
pub const PRIVATE_KEY_FILE: &str = "app_private_key.pem";
/// File name of the generated public key (SPKI PEM).
pub const PUBLIC_KEY_FILE: &str = "app_public_key.pem";

#[derive(Debug, clap::Args)]
#[command(after_help = "The public key is what you upload to Alipay's console (or send as `public_key` to the \
    sandbox's POST /sandbox/apps); the private key stays with your backend and is what --private-key reads.")]
pub struct GenerateArgs {
    /// Directory to write app_private_key.pem and app_public_key.pem into (created if missing)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Overwrite key files that already exist in DIR
    #[arg(long)]
    pub force: bool,
}

pub fn generate(args: GenerateArgs) -> Result<(), CliError> {
    let private_path = args.out.join(PRIVATE_KEY_FILE);
    let public_path = args.out.join(PUBLIC_KEY_FILE);
    if !args.force {
        for path in [&private_path, &public_path] {
            if path.exists() {
                return Err(CliError::config(format!(
                    "{} already exists; pass --force to replace it, or choose another --out",
                    path.display()
                )));
            }
        }
    }
    std::fs::create_dir_all(&args.out)
        .map_err(|e| CliError::failure(format!("cannot create {}: {e}", args.out.display())))?;

    let key = PrivateKey::generate().map_err(|e| CliError::failure(format!("key generation failed: {e}")))?;
    let public = key.public_key();
    write_file(&private_path, key.to_pkcs8_pem().as_bytes(), true)?;
    write_file(&public_path, public.to_spki_pem().as_bytes(), false)?;

    let p = Palette::stdout();
    println!("{}", p.bold("generated an RSA-2048 app key pair"));
    print_fields(
        &p,
        &[
            ("private key", format!("{} (PKCS#8 PEM, keep it secret)", private_path.display())),
            ("public key", format!("{} (SPKI PEM)", public_path.display())),
            ("sha256", public.fingerprint()),
        ],
    );
    println!("public key as one line of base64 (for Alipay's console):");
    println!("{}", public.to_spki_base64());
    Ok(())
}

/// Writes `contents`; a secret file is created owner-only (0600 on unix) before any byte is written.
fn write_file(path: &Path, contents: &[u8], secret: bool) -> Result<(), CliError> {
    let fail = |e: std::io::Error| CliError::failure(format!("cannot write {}: {e}", path.display()));
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if secret { 0o600 } else { 0o644 });
    }
    let mut file = options.open(path).map_err(fail)?;
    // `mode` only applies to newly created files; with --force an existing file keeps its old mode.
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600)).map_err(fail)?;
    }
    file.write_all(contents).map_err(fail)?;
    file.sync_all().map_err(fail)
}
