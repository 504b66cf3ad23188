//! `jobworth keys generate`: a fresh RSA-2048 app key pair in the files the rest of the toolkit reads.

use std::io::Write;
use std::path::{Path, PathBuf};

use alipay_v3::keys::{PrivateKey, PublicKey};
use zeroize::Zeroizing;

use crate::cmd::{parse_private_key, read_input_file};
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
            // symlink_metadata: a dangling symbolic link is "there" too (exists() would follow it).
            if path.symlink_metadata().is_ok() {
                return Err(already_exists(path));
            }
        }
    }
    std::fs::create_dir_all(&args.out)
        .map_err(|e| CliError::failure(format!("cannot create {}: {e}", args.out.display())))?;

    let key = PrivateKey::generate().map_err(|e| CliError::failure(format!("key generation failed: {e}")))?;
    let public = key.public_key();
    write_file(&private_path, key.to_pkcs8_pem().as_bytes(), true, args.force)?;
    write_file(&public_path, public.to_spki_pem().as_bytes(), false, args.force)?;

    let p = Palette::stdout();
    println!("{}", p.bold("generated an RSA-2048 app key pair"));
    print_fields(
        &p,
        &[
            ("private key", format!("{} (PKCS#8 PEM, keep it secret)", private_path.display())),
            ("public key", format!("{} (SPKI PEM)", public_path.display())),
            ("fingerprint", public.fingerprint_sha256()),
        ],
    );
    println!("public key as one line of base64 (for Alipay's console):");
    println!("{}", public.to_spki_base64());
    Ok(())
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "The fingerprint is the SHA-256 of the public key's SubjectPublicKeyInfo DER, in lower-case hex \
    pairs joined by ':' (SHA256:ab:cd:...): a private key, its public key and a certificate over that key all give the \
    same one, so two files can be compared without showing either. Never prints key material."
)]
pub struct FingerprintArgs {
    /// A private key (PKCS#1 or PKCS#8), a public key (SPKI or PKCS#1) or a certificate: PEM, bare base64 or DER
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Print {"fingerprint": "SHA256:..."} on stdout instead
    #[arg(long)]
    pub json: bool,
}

pub fn fingerprint(args: FingerprintArgs) -> Result<(), CliError> {
    let bytes = Zeroizing::new(read_input_file(&args.file, "", "key or certificate")?);
    let key = public_key_of(&bytes).map_err(|why| CliError::config(format!("{}: {why}", args.file.display())))?;
    let fingerprint = key.fingerprint_sha256();
    if args.json {
        println!("{}", serde_json::json!({ "fingerprint": fingerprint }));
    } else {
        println!("{fingerprint}");
    }
    Ok(())
}

/// The RSA public key in a private key, public key or certificate file.
fn public_key_of(bytes: &[u8]) -> Result<PublicKey, String> {
    const NOTHING: &str = "not an RSA private key, public key or certificate (PEM, bare base64 or DER)";
    let certificate = |der: &[u8]| {
        alipay_v3::cert::CertInfo::from_der(der).ok().and_then(|c| c.public_key().ok()).ok_or(NOTHING.to_string())
    };
    if bytes.first() == Some(&0x30) {
        return PrivateKey::from_der(bytes)
            .map(|k| k.public_key())
            .or_else(|_| PublicKey::from_der(bytes))
            .or_else(|_| certificate(bytes));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| NOTHING.to_string())?;
    let blocks = alipay_v3::pem::decode_secret_blocks(text).map_err(|_| NOTHING.to_string())?;
    let private = blocks.iter().find(|b| b.label.as_deref().is_some_and(|l| l.ends_with("PRIVATE KEY")));
    let first = private.or(blocks.first()).ok_or(NOTHING.to_string())?;
    match first.label.as_deref() {
        Some(label) if label.ends_with("PRIVATE KEY") => parse_private_key(text).map(|k| k.public_key()),
        Some(_) => PublicKey::parse(text).map_err(|e| format!("not a usable RSA public key or certificate ({e})")),
        None => PrivateKey::from_der(&first.der)
            .map(|k| k.public_key())
            .or_else(|_| PublicKey::from_der(&first.der))
            .or_else(|_| certificate(&first.der)),
    }
}

fn already_exists(path: &Path) -> CliError {
    CliError::config(format!(
        "{} already exists (as a file or a symbolic link); pass --force to replace it, or choose another --out",
        path.display()
    ))
}

/// Writes `contents` to a new file at `path` without ever opening what is there: the bytes go to
/// a fresh temporary file in the same directory (created with O_CREAT|O_EXCL, owner-only before
/// any byte is written), which is then linked into place. Without `replace` the final step fails
/// on anything at `path`, a symbolic link included; with it, a symbolic link at `path` is
/// replaced, never followed, so `--force` cannot be turned into a write elsewhere.
fn write_file(path: &Path, contents: &[u8], secret: bool, replace: bool) -> Result<(), CliError> {
    let fail = |e: std::io::Error| CliError::failure(format!("cannot write {}: {e}", path.display()));
    let dir = path.parent().ok_or_else(|| CliError::failure(format!("{} has no directory", path.display())))?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    // tempfile creates the file with O_EXCL and mode 0600.
    let mut tmp = tempfile::Builder::new().prefix(&format!(".{name}.")).tempfile_in(dir).map_err(fail)?;
    #[cfg(unix)]
    if !secret {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file().set_permissions(std::fs::Permissions::from_mode(0o644)).map_err(fail)?;
    }
    #[cfg(not(unix))]
    let _ = secret;
    tmp.write_all(contents).map_err(fail)?;
    tmp.as_file().sync_all().map_err(fail)?;
    let persisted = if replace { tmp.persist(path) } else { tmp.persist_noclobber(path) };
    match persisted {
        Ok(_) => Ok(()),
        Err(e) if !replace && e.error.kind() == std::io::ErrorKind::AlreadyExists => Err(already_exists(path)),
        Err(e) => Err(fail(e.error)),
    }
}
