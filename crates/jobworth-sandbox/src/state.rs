//! Shared state of one running sandbox: configuration, the store and the key material.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::ca::{self, CaError, SandboxKeys};
use crate::config::Config;
use crate::requests::RequestLog;
use crate::store::{Location, Store, StoreError};

/// Starting the sandbox failed.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The data dir or database could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The key material could not be created or loaded.
    #[error("sandbox keys: {0}")]
    Keys(#[from] CaError),
}

/// Everything the handlers share. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub cfg: Config,
    pub store: Store,
    pub keys: SandboxKeys,
    pub base_url: String,
    /// Where the state is kept (shown at startup).
    pub location: Location,
    /// The signed requests this process answered, newest last.
    pub requests: RequestLog,
}

/// `http://HOST:PORT` for a bound address; an unspecified address is reached over loopback.
pub fn base_url_for(addr: SocketAddr) -> String {
    let mut a = addr;
    if a.ip().is_unspecified() {
        a.set_ip(if a.is_ipv4() { [127, 0, 0, 1].into() } else { std::net::Ipv6Addr::LOCALHOST.into() });
    }
    format!("http://{a}")
}

impl AppState {
    /// Opens the store (creating the schema, keys and CA on first use). Links it renders
    /// (desk URLs) use `cfg.listen` as the base URL.
    pub async fn open(cfg: Config) -> Result<Self, StartError> {
        let base = base_url_for(cfg.listen);
        Self::open_with_base(cfg, base).await
    }

    pub(crate) async fn open_with_base(cfg: Config, base_url: String) -> Result<Self, StartError> {
        let location = Location::new(&cfg.data_dir, cfg.database.as_deref())?;
        let store = Store::open(&location).await?;
        let row = match store.keys().await? {
            Some(row) => row,
            None => {
                // RSA key generation takes a while; keep it off the async workers.
                let generated = tokio::task::spawn_blocking(ca::generate)
                    .await
                    .map_err(|_| CaError::Inconsistent("key generation task failed"))??;
                // Another process may have won the race: whatever row is stored is the one.
                store.insert_keys_if_absent(&generated).await?
            }
        };
        let keys = SandboxKeys::load(&row)?;
        tracing::info!(store = %location, "store open");
        tracing::info!(alipay_cert_sn = %keys.alipay_cert_sn, root_cert_sn = %keys.root_cert_sn, "sandbox keys ready");
        let requests = RequestLog::new(cfg.limits.request_log);
        Ok(AppState { inner: Arc::new(Inner { cfg, store, keys, base_url, location, requests }) })
    }

    /// Where the state is kept: `sqlite (DIR/sandbox.db)` or `postgresql (HOST:PORT/DB)`, never
    /// a password.
    pub fn store_location(&self) -> String {
        self.inner.location.to_string()
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.cfg
    }

    /// Base URL used in links (`http://HOST:PORT`).
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// SPKI PEM of the sandbox's Alipay public key.
    pub fn alipay_public_key_pem(&self) -> &str {
        &self.inner.keys.alipay_public_key_pem
    }

    /// The Alipay certificate (PEM) and its SN.
    pub fn alipay_cert(&self) -> (&str, &str) {
        (&self.inner.keys.alipay_cert_pem, &self.inner.keys.alipay_cert_sn)
    }

    /// The root certificate (PEM) and the root SN.
    pub fn root_cert(&self) -> (&str, &str) {
        (&self.inner.keys.root_cert_pem, &self.inner.keys.root_cert_sn)
    }

    /// Closes the database pool.
    pub async fn close(&self) {
        self.inner.store.close().await;
    }

    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }

    pub(crate) fn keys(&self) -> &SandboxKeys {
        &self.inner.keys
    }

    pub(crate) fn requests(&self) -> &RequestLog {
        &self.inner.requests
    }

    pub(crate) fn cfg(&self) -> &Config {
        &self.inner.cfg
    }
}
