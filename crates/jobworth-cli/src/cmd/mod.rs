//! One module per subcommand.

pub mod bench;
pub mod cert_sn;
mod control;
pub mod demo;
pub mod doctor;
pub mod family;
pub mod keys;
pub mod order_string;
pub mod query;
pub mod receipt;
pub mod sandbox;

use std::path::Path;

use zeroize::Zeroizing;

use crate::error::CliError;

/// Reads a file named by `flag` (empty for a positional argument), with an error that says which
/// flag pointed where. Values that look like key material rather than a path are not echoed back,
/// so a key pasted into a flag or an environment variable does not end up in the terminal
/// scrollback or a CI log.
pub fn read_input_file(path: &Path, flag: &str, what: &str) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|e| {
        let raw = path.as_os_str().to_string_lossy();
        if looks_like_key_material(&raw) {
            let flag = if flag.is_empty() { "the argument" } else { flag };
            CliError::config(format!(
                "{flag} expects the PATH of a file holding the {what}, but the value looks like the key itself; \
                 write it to a file and pass the file's path"
            ))
        } else {
            CliError::config(format!("cannot read the {what} {}: {e}", named(flag, path)))
        }
    })
}

/// `FLAG PATH`, or only the path for a positional argument.
fn named(flag: &str, path: &Path) -> String {
    if flag.is_empty() {
        path.display().to_string()
    } else {
        format!("{flag} {}", path.display())
    }
}

/// Reads a text file (PEM or base64) named by `flag`.
pub fn read_input_text(path: &Path, flag: &str, what: &str) -> Result<String, CliError> {
    let bytes = read_input_file(path, flag, what)?;
    String::from_utf8(bytes).map_err(|e| {
        // The bytes may still be key material.
        zeroize::Zeroize::zeroize(&mut e.into_bytes());
        CliError::config(format!("{}: the {what} is not text (PEM or base64)", named(flag, path)))
    })
}

/// A secret value held in a buffer that is wiped on drop.
pub type Secret = Zeroizing<String>;

/// A secret that can be given as a flag (visible in `ps`), a file or an environment variable.
/// More than one form is a usage error rather than a silent precedence; an empty environment
/// variable counts as unset. A file's content loses one trailing newline (`\n` or `\r\n`).
pub fn secret_input(
    what: &str,
    (flag, value): (&str, Option<&str>),
    (file_flag, file): (&str, Option<&Path>),
    env: &str,
) -> Result<Option<Secret>, CliError> {
    let from_env = std::env::var(env).ok().filter(|v| !v.is_empty()).map(Zeroizing::new);
    let given: Vec<&str> = [(value.is_some(), flag), (file.is_some(), file_flag), (from_env.is_some(), env)]
        .into_iter()
        .filter_map(|(set, name)| set.then_some(name))
        .collect();
    if given.len() > 1 {
        return Err(CliError::config(format!(
            "{what} is given more than once ({}); give it one way",
            given.join(", ")
        )));
    }
    if let Some(v) = value {
        return Ok(Some(Zeroizing::new(v.to_string())));
    }
    if let Some(path) = file {
        let mut text = Zeroizing::new(read_input_text(path, file_flag, what)?);
        let keep = text.strip_suffix('\n').map(|t| t.strip_suffix('\r').unwrap_or(t)).map(str::len);
        if let Some(len) = keep {
            text.truncate(len);
        }
        if text.is_empty() {
            return Err(CliError::config(format!("{file_flag} {}: the file is empty", path.display())));
        }
        return Ok(Some(text));
    }
    Ok(from_env)
}

fn looks_like_key_material(s: &str) -> bool {
    // A base64 key contains '/' too, so length is the tell: the shortest RSA-2048 key is ~390 characters.
    s.contains("-----BEGIN") || s.contains('\n') || s.len() > 200
}

/// Reads and parses the app private key, naming the setting (`flag`, or the environment variable
/// it came from) and, on failure, what the file holds instead or the accepted formats.
pub fn load_private_key(path: &Path, flag: &str) -> Result<alipay_v3::keys::PrivateKey, CliError> {
    let text = Zeroizing::new(read_input_text(path, flag, "app private key")?);
    parse_private_key(&text).map_err(|why| CliError::config(format!("{}: {why}", named(flag, path))))
}

/// Parses a private key; the error says in words what the text is when it is a key of the wrong
/// kind (encrypted, EC, too small, a public key), and lists the accepted formats otherwise.
pub fn parse_private_key(text: &str) -> Result<alipay_v3::keys::PrivateKey, String> {
    alipay_v3::keys::PrivateKey::parse(text).map_err(|e| match crate::inspect::KeyForm::of(text).problem() {
        Some(problem) => format!("not a usable private key: {}; {}", problem.what, problem.fix),
        None => format!(
            "not a usable RSA private key ({e}); expected PEM (BEGIN PRIVATE KEY or BEGIN RSA PRIVATE KEY) \
             or bare base64, PKCS#8 or PKCS#1, at least 2048 bits"
        ),
    })
}

/// An in-process sandbox on a free loopback port, its state in a temporary data dir. Shut the
/// sandbox down before dropping `data`, which removes the dir.
pub struct Embedded {
    pub sandbox: jobworth_sandbox::RunningSandbox,
    pub data: tempfile::TempDir,
}

/// Starts an [`Embedded`] sandbox (demo and bench).
pub async fn start_embedded(prefix: &str) -> Result<Embedded, CliError> {
    let data = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .map_err(|e| CliError::failure(format!("cannot create a temporary directory: {e}")))?;
    let config = jobworth_sandbox::Config {
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        data_dir: data.path().to_path_buf(),
        ..jobworth_sandbox::Config::default()
    };
    let sandbox = jobworth_sandbox::Sandbox::start(config)
        .await
        .map_err(|e| CliError::failure(format!("cannot start the embedded sandbox: {e}")))?;
    Ok(Embedded { sandbox, data })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_material_is_not_echoed() {
        assert!(looks_like_key_material("-----BEGIN PRIVATE KEY-----\nMIIE"));
        assert!(looks_like_key_material(&"MIIEvQIBADANBgkq/hkiG9w0BAQEFAASC".repeat(10)));
        assert!(!looks_like_key_material("./keys/app_private_key.pem"));
        let err = read_input_file(Path::new(&"MIIEvQIBADANBgkqhkiG9w0BAQEFAASC".repeat(10)), "--private-key", "key")
            .unwrap_err();
        assert!(!err.message.unwrap().contains("MIIEvQ"));
    }
}
