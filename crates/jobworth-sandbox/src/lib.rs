//! Local emulator of Alipay's side of the Zhima Jobworth flow.
//!
//! * the v3 query `GET /v3/zhima/customer/jobworth/authentication`, verified and answered as the
//!   gateway would (signed responses, certificate mode, AES, single-use tokens);
//! * the control plane under `/sandbox/…`, the acceptance desk page `GET /desk?<order string>`, and
//!   an index of the sandbox at `/`;
//! * state in SQLite under the data dir, shared safely by several processes, or in a PostgreSQL
//!   database (`Config::database`), shared by several instances on several machines.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let cfg = jobworth_sandbox::Config { listen: "127.0.0.1:0".parse()?, ..Default::default() };
//! let running = jobworth_sandbox::Sandbox::start(cfg).await?;
//! println!("listening on {}", running.base_url());
//! running.shutdown().await;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod browser;
mod ca;
pub mod cert_no;
mod config;
mod control;
mod desk;
mod diagnosis;
mod error;
mod gateway;
mod inspector;
mod multipart;
mod pages;
pub mod personas;
mod redact;
mod requests;
mod rules;
mod serve;
mod state;
mod store;
mod web;
mod workcard;

use std::net::SocketAddr;
use std::time::Duration;

use alipay_v3::headers::TRACE_ID;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::HeaderName;
use axum::routing::{any, get, post};
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};

pub use ca::CaError;
pub use config::{Config, Limits};
pub use error::ApiError;
pub use jobworth_wire::AUTHENTICATION_PATH;
pub use rules::authentication::merchant_identity_id;
pub use state::{base_url_for, AppState, StartError};
pub use store::{StoreError, DB_FILE};

/// Largest request body accepted (bytes).
pub const BODY_LIMIT: usize = 2 * 1024 * 1024;
/// How long `shutdown` waits for in-flight requests before cutting them off.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Server-chosen trace ids (32 hex digits), whatever the client sent.
#[derive(Clone, Copy, Debug, Default)]
struct MakeTraceId;

impl MakeRequestId for MakeTraceId {
    fn make_request_id<B>(&mut self, _req: &http::Request<B>) -> Option<RequestId> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        http::HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}

/// The sandbox's routes and middleware, for serving or for `oneshot` tests.
///
/// Control routes check the peer address through `ConnectInfo<SocketAddr>`; serve with
/// `into_make_service_with_connect_info::<SocketAddr>()` (or add `MockConnectInfo` in tests).
pub fn app(state: AppState) -> Router {
    let trace_id = HeaderName::from_static(TRACE_ID);
    let control = Router::new()
        .route("/sandbox/health", get(control::health))
        .route("/sandbox/openapi.json", get(control::openapi))
        .route("/sandbox/alipay-public-key", get(control::alipay_public_key))
        .route("/sandbox/apps", post(control::register_app))
        .route("/sandbox/personas", get(control::personas))
        .route("/sandbox/desk", post(control::open_desk))
        .route("/sandbox/desk/{desk_id}/complete", post(control::complete))
        .route("/sandbox/desk/{desk_id}/resolve", post(control::resolve))
        .route("/sandbox/desk/{desk_id}/cancel", post(control::cancel))
        .route("/sandbox/authentications", post(control::authentications))
        .route("/sandbox/apps/{app_id}/job-data", get(control::job_data))
        .route("/sandbox/apps/{app_id}/positions", get(control::positions))
        .route("/sandbox/apps/{app_id}/pictures", get(control::pictures))
        .route("/sandbox/requests", get(requests::list))
        .route("/sandbox/inspector", get(inspector::list))
        .route("/sandbox/inspector/{id}", get(inspector::show))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), control::gate));
    let pages = Router::new()
        .route("/", get(pages::index_page))
        .route("/personas", get(pages::personas_page))
        .route("/desk", get(pages::open_page))
        .route("/desk/{desk_id}", get(pages::show_page))
        .route("/desk/{desk_id}/complete", post(pages::complete_form))
        .route("/desk/{desk_id}/resolve", post(pages::resolve_form))
        .route("/desk/{desk_id}/cancel", post(pages::cancel_form))
        .route("/workcard/{app_id}/{card_id}", get(workcard::card_page))
        .route("/workcard/{app_id}/{card_id}/picture", get(workcard::card_picture))
        .route("/workcard/{app_id}/{card_id}/update", get(workcard::update_page))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), browser::pages));
    Router::new()
        .merge(control)
        .merge(pages)
        .route("/v3", any(gateway::v3))
        .route("/v3/", any(gateway::v3))
        .route("/v3/{*rest}", any(gateway::v3))
        .fallback(control::not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        // Layers listed innermost first.
        .layer(axum::middleware::from_fn_with_state(state.clone(), web::bodies::buffer))
        .layer(axum::middleware::from_fn(web::errors::json_errors))
        .layer(axum::middleware::from_fn_with_state(state.clone(), gateway::sign))
        .layer(PropagateRequestIdLayer::new(trace_id.clone()))
        .layer(axum::middleware::from_fn_with_state(state.clone(), web::log::requests))
        .layer(SetRequestIdLayer::new(trace_id, MakeTraceId))
        .layer(tower::util::MapRequestLayer::new(strip_client_trace_id))
        .with_state(state)
}

fn strip_client_trace_id(mut req: Request) -> Request {
    req.headers_mut().remove(TRACE_ID);
    req
}

/// Entry point: `Sandbox::start(cfg)`.
#[derive(Debug)]
pub struct Sandbox;

impl Sandbox {
    /// Binds `cfg.listen`, opens the store (migrating it, creating keys and CA on first
    /// start) and serves until [`RunningSandbox::shutdown`].
    pub async fn start(cfg: Config) -> Result<RunningSandbox, StartError> {
        let listener =
            TcpListener::bind(cfg.listen).await.map_err(|source| StartError::Bind { addr: cfg.listen, source })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind { addr: cfg.listen, source })?;
        let base_url = base_url_for(addr);
        let state = AppState::open_with_base(cfg, base_url.clone()).await?;
        let router = app(state.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let limits = state.cfg().limits.clone();
        let handle = tokio::spawn(serve::serve(listener, router, limits, rx));
        tracing::info!(%base_url, "sandbox listening");
        Ok(RunningSandbox { addr, base_url, state, stop: Some(tx), handle: Some(handle) })
    }
}

/// A sandbox serving in the background. Dropping it stops the server without waiting;
/// [`RunningSandbox::shutdown`] stops it gracefully and waits.
#[derive(Debug)]
pub struct RunningSandbox {
    addr: SocketAddr,
    base_url: String,
    state: AppState,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<()>>,
}

impl RunningSandbox {
    /// The bound address (the real port when `listen` had port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://HOST:PORT`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The shared state (keys, certificates, configuration).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Stops accepting connections, lets in-flight requests finish (up to 10 s), then closes
    /// the database.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut handle) = self.handle.take() {
            if tokio::time::timeout(SHUTDOWN_GRACE, &mut handle).await.is_err() {
                tracing::warn!("in-flight requests did not finish in time; stopping them");
                handle.abort();
                let _ = handle.await;
            }
        }
        self.state.close().await;
        tracing::info!("sandbox stopped");
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
