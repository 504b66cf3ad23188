//! `jobworth keys generate`: a fresh RSA-2048 app key pair in the files the rest of the toolkit reads.

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
            ("sha256", public.fingerprint()),
        ],
    );
    println!("public key as one line of base64 (for Alipay's console):");
    println!("{}", public.to_spki_base64());
    Ok(())
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
