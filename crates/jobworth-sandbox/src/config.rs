//! Sandbox configuration (the `jobworth sandbox` flags).

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// How a sandbox is started. `Config::default()` gives the documented defaults of `jobworth sandbox`.
#[derive(Clone)]
pub struct Config {
    /// Address to bind (`--listen`, default `127.0.0.1:8340`); port 0 picks a free port.
    pub listen: SocketAddr,
    /// Directory holding the SQLite state (`--data`, default `./.jobworth-sandbox`); unused when
    /// `database` is set.
    pub data_dir: PathBuf,
    /// A PostgreSQL URL (`--database`, `postgres://USER@HOST:PORT/DB`): the state is kept there,
    /// shared by every sandbox started on it, instead of under `data_dir`.
    pub database: Option<String>,
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
    /// Answer query parameters the endpoint does not define instead of refusing them
    /// (`--allow-unknown-params`).
    pub allow_unknown_params: bool,
    /// Host names, besides loopback addresses and `localhost`, that the control plane and the
    /// desk pages answer to (`--allowed-host`). Anything else is refused, which keeps a web page
    /// that rebinds its own name to 127.0.0.1 away from the control plane.
    pub allowed_hosts: Vec<String>,
    /// The `cert_type` assumed when a query sends `cert_no` without one (`--default-cert-type`).
    /// Unset, such a query is refused; the PHP v3 SDK drops every parameter whose value is "0",
    /// so its ID-card queries arrive that way, and `Some("0")` serves them.
    pub default_cert_type: Option<String>,
    /// Connection limits of the HTTP server.
    pub limits: Limits,
}

/// How the server protects itself from slow, idle and too many clients.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// A connection that has not sent a complete request head within this time is closed; the
    /// clock also runs while a keep-alive connection waits for its next request, so this is the
    /// idle limit too (default 30 s).
    pub header_read_timeout: Duration,
    /// Longest time to receive a request body (default 30 s); past it the answer is `408`.
    pub body_read_timeout: Duration,
    /// Open connections served at once (default 1024); past it a connection gets `503` and is
    /// closed.
    pub max_connections: usize,
    /// Signed requests kept in memory for `GET /sandbox/requests` and the inspector (default
    /// 1000); older ones are dropped.
    pub request_log: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read_timeout: Duration::from_secs(30),
            body_read_timeout: Duration::from_secs(30),
            max_connections: 1024,
            request_log: 1000,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8340)),
            data_dir: PathBuf::from(".jobworth-sandbox"),
            database: None,
            timestamp_window: Duration::from_secs(900),
            token_ttl: Duration::from_secs(300),
            unsigned_errors: false,
            admin_token: None,
            allow_unknown_params: false,
            allowed_hosts: Vec::new(),
            default_cert_type: None,
            limits: Limits::default(),
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("database", &self.database.as_ref().map(|_| self.store()))
            .field("timestamp_window", &self.timestamp_window)
            .field("token_ttl", &self.token_ttl)
            .field("unsigned_errors", &self.unsigned_errors)
            .field("admin_token", &self.admin_token.as_ref().map(|_| "<redacted>"))
            .field("allow_unknown_params", &self.allow_unknown_params)
            .field("allowed_hosts", &self.allowed_hosts)
            .field("default_cert_type", &self.default_cert_type)
            .field("limits", &self.limits)
            .finish()
    }
}

impl Config {
    /// The store in words, as the startup line shows it: `sqlite (DIR/sandbox.db)` or
    /// `postgresql (HOST:PORT/DB)`, never a password.
    pub fn store(&self) -> String {
        match crate::store::Location::new(&self.data_dir, self.database.as_deref()) {
            Ok(location) => location.to_string(),
            Err(_) => "postgresql (<invalid URL>)".to_owned(),
        }
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
        assert!(!c.allow_unknown_params && c.allowed_hosts.is_empty() && c.default_cert_type.is_none());
        assert_eq!(c.limits.header_read_timeout, Duration::from_secs(30));
        assert!(c.limits.header_read_timeout <= Duration::from_secs(120), "idle connections close within 120 s");
        assert_eq!(c.limits.body_read_timeout, Duration::from_secs(30));
        assert_eq!(c.limits.max_connections, 1024);
        assert_eq!(c.limits.request_log, 1000);
        assert!(!format!("{c:?}").contains("s3cret"));
        let c = Config { database: Some("postgres://u:pa55word@db.example:5433/sb?password=pa55word".into()), ..c };
        let shown = format!("{c:?}");
        assert!(!shown.contains("pa55word") && shown.contains("postgresql (db.example:5433/sb)"), "{shown}");
    }
}
