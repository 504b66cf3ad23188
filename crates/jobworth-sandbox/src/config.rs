//! Sandbox configuration (the `jobworth sandbox` flags).

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// How a sandbox is started. `Config::default()` gives the SPEC defaults.
#[derive(Clone)]
pub struct Config {
    /// Address to bind (`--listen`, default `127.0.0.1:8340`); port 0 picks a free port.
    pub listen: SocketAddr,
    /// Directory holding the SQLite state (`--data`, default `./.jobworth-sandbox`).
    pub data_dir: PathBuf,
    /// Accepted clock skew of a request's `timestamp`, either way (`--timestamp-window`, default 15 min).
    /// Nonces are remembered for this long.
    pub timestamp_window: Duration,
    /// How long a token stays readable after the verification became terminal (`--token-ttl`, default 5 min).
    pub token_ttl: Duration,
    /// Send error responses without `alipay-signature` (`--unsigned-errors`).
    pub unsigned_errors: bool,
    /// When set, control-plane routes accept any peer that sends `Authorization: Bearer TOKEN`
    /// (and only those); when unset they accept loopback peers only.
    pub admin_token: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8340)),
            data_dir: PathBuf::from(".jobworth-sandbox"),
            timestamp_window: Duration::from_secs(900),
            token_ttl: Duration::from_secs(300),
            unsigned_errors: false,
            admin_token: None,
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("timestamp_window", &self.timestamp_window)
            .field("token_ttl", &self.token_ttl)
            .field("unsigned_errors", &self.unsigned_errors)
            .field("admin_token", &self.admin_token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_spec_and_debug_hides_token() {
        let c = Config { admin_token: Some("s3cret-token".into()), ..Config::default() };
        assert_eq!(c.listen.to_string(), "127.0.0.1:8340");
        assert_eq!(c.timestamp_window, Duration::from_secs(900));
        assert_eq!(c.token_ttl, Duration::from_secs(300));
        assert!(!format!("{c:?}").contains("s3cret"));
    }
}
