//! Control plane: JSON routes used by tests, the demo and the CLI.
//!
//! Reachable from loopback peers only, unless an admin token is configured; then every caller
//! must send `Authorization: Bearer TOKEN` instead.

use std::net::SocketAddr;

use alipay_v3::aes::AesKey;
use alipay_v3::keys::PublicKey;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::browser;
use crate::desk::{self, check_app_id, check_id, DeskOutcome};
use crate::error::{ApiError, JSON_UTF8};
use crate::personas::PERSONAS;
use crate::state::AppState;
use crate::store::AppRecord;
use crate::web::extract::Json;

/// The one gate in front of every control route: the browser checks (`Host`, JSON POSTs), then
/// the caller (admin token, or a loopback peer).
pub(crate) async fn gate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let checked = browser::check_control(&state, req.method(), req.headers()).and_then(|()| check_caller(&state, &req));
    match checked {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

fn check_caller(state: &AppState, req: &Request) -> Result<(), ApiError> {
    match &state.cfg().admin_token {
        Some(token) => {
            let given = req
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim);
            let ok = given.is_some_and(|g| {
                aws_lc_rs::constant_time::verify_slices_are_equal(g.as_bytes(), token.as_bytes()).is_ok()
            });
            if !ok {
                return Err(ApiError::Unauthorized("control routes need 'Authorization: Bearer <admin token>'".into()));
            }
        }
        None => {
            // `MockConnectInfo` stands in for the real peer in `oneshot` tests.
            let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0).or_else(|| {
                req.extensions().get::<axum::extract::connect_info::MockConnectInfo<SocketAddr>>().map(|m| m.0)
            });
            let loopback = peer.is_some_and(|p| match p.ip() {
                std::net::IpAddr::V4(v4) => v4.is_loopback(),
                std::net::IpAddr::V6(v6) => v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
            });
            if !loopback {
                return Err(ApiError::Forbidden(
                    "control routes answer loopback peers only (start the sandbox with an admin token to open them)"
                        .into(),
                ));
            }
        }
    }
    Ok(())
}

fn created<T: Serialize>(status: StatusCode, value: &T) -> Response {
    let mut res = (status, axum::Json(value)).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8));
    res
}

/// `GET /sandbox/health`
pub(crate) async fn health() -> Response {
    created(StatusCode::OK, &serde_json::json!({"status": "ok"}))
}

/// The OpenAPI 3.1 document of every route, kept in the repository beside the crate.
const OPENAPI: &str = include_str!("../openapi.json");

/// `GET /sandbox/openapi.json`
pub(crate) async fn openapi() -> Response {
    let mut res = OPENAPI.into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8));
    res
}

/// `GET /sandbox/alipay-public-key` — SPKI PEM as text.
pub(crate) async fn alipay_public_key(State(state): State<AppState>) -> Response {
    let mut res = state.alipay_public_key_pem().to_string().into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    res
}

#[derive(Debug, Deserialize)]
pub(crate) struct RegisterApp {
    app_id: String,
    #[serde(default)]
    public_key: Option<String>,
    #[serde(default)]
    encrypt_key: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    replace: bool,
}

#[derive(Debug, Serialize)]
struct Registered<'a> {
    app_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    alipay_public_key: &'a str,
    alipay_cert: &'a str,
    alipay_cert_sn: &'a str,
    alipay_root_cert: &'a str,
    alipay_root_cert_sn: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    app_cert: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    app_cert_sn: Option<&'a str>,
    replaced: bool,
}

/// Longest app display name, in characters.
const MAX_APP_NAME: usize = 64;

/// What differs between a stored registration and a new one, by request field name.
fn changes(old: &AppRecord, new: &AppRecord) -> Vec<&'static str> {
    let same_aes = match (&old.encrypt_key, &new.encrypt_key) {
        (Some(a), Some(b)) => aws_lc_rs::constant_time::verify_slices_are_equal(a.as_bytes(), b.as_bytes()).is_ok(),
        (a, b) => a.is_none() && b.is_none(),
    };
    [
        (old.public_key_spki != new.public_key_spki, "public_key"),
        (!same_aes, "encrypt_key"),
        (old.name != new.name, "name"),
    ]
    .into_iter()
    .filter_map(|(differs, field)| differs.then_some(field))
    .collect()
}

fn refuse_replace(app_id: &str, changed: &[&str]) -> ApiError {
    ApiError::Conflict(format!(
        "app {app_id} is already registered with another {}; send \"replace\": true to replace it (clients \
         configured with the old registration then fail, and a new app certificate is issued: the old one gets \
         app-cert-not-exist), or register the same values again to get the existing registration",
        changed.join(" and ")
    ))
}

/// `POST /sandbox/apps` — 201 when new; 200 with the existing registration (and its app
/// certificate) when the same values are registered again; 409 when they differ, unless the body
/// says `"replace": true` (200, `"replaced": true`, a new app certificate).
pub(crate) async fn register_app(
    State(state): State<AppState>,
    Json(req): Json<RegisterApp>,
) -> Result<Response, ApiError> {
    check_app_id(&req.app_id)?;
    let public_key = match req.public_key.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(text) => Some(
            PublicKey::parse(text)
                .map_err(|e| ApiError::Invalid(format!("public_key is not a usable RSA public key: {e}")))?,
        ),
        None => None,
    };
    let encrypt_key = match req.encrypt_key.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(text) => {
            let key = AesKey::from_base64(text).map_err(|e| ApiError::Invalid(format!("encrypt_key: {e}")))?;
            Some(key.to_base64().to_string())
        }
        None => None,
    };
    let name = req.name.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if let Some(name) = name {
        check_id("name", name, MAX_APP_NAME)?;
    }
    let record = AppRecord {
        app_id: req.app_id.clone(),
        public_key_spki: public_key.as_ref().map(|k| k.spki_der().to_vec()),
        encrypt_key,
        app_cert_pem: None,
        app_cert_sn: None,
        name: name.map(str::to_owned),
    };
    // Without `replace`, the same values again are the existing registration, other values a 409.
    let unchanged = |old: AppRecord| {
        let changed = changes(&old, &record);
        if changed.is_empty() {
            Ok(old)
        } else {
            Err(refuse_replace(&req.app_id, &changed))
        }
    };
    let existing = state.store().app(&req.app_id).await?;
    let (stored, status, replaced) = match existing {
        Some(old) if !req.replace => (unchanged(old)?, StatusCode::OK, false),
        existing => {
            let mut record = record.clone();
            if let Some(k) = &public_key {
                let (pem, sn) = state
                    .keys()
                    .issue_app_cert(&req.app_id, k)
                    .map_err(|e| ApiError::Internal(format!("issuing app cert: {e}")))?;
                record.app_cert_pem = Some(pem);
                record.app_cert_sn = Some(sn);
            }
            let is_new = if existing.is_some() || req.replace {
                state.store().upsert_app(&record).await?
            } else {
                state.store().insert_app(&record).await?
            };
            if is_new {
                (record, StatusCode::CREATED, false)
            } else if existing.is_some() || req.replace {
                (record, StatusCode::OK, true)
            } else {
                // Another request registered the app in the meantime: judged against it.
                let old = state.store().app(&req.app_id).await?.ok_or_else(|| {
                    ApiError::Internal(format!("app {} vanished while it was registered", req.app_id))
                })?;
                (unchanged(old)?, StatusCode::OK, false)
            }
        }
    };
    tracing::info!(app_id = %req.app_id, status = status.as_u16(), replaced, cert_mode = stored.app_cert_sn.is_some(), "app registered");
    let (alipay_cert, alipay_cert_sn) = state.alipay_cert();
    let (root_cert, root_cert_sn) = state.root_cert();
    let out = Registered {
        app_id: &stored.app_id,
        name: stored.name.as_deref(),
        alipay_public_key: state.alipay_public_key_pem(),
        alipay_cert,
        alipay_cert_sn,
        alipay_root_cert: root_cert,
        alipay_root_cert_sn: root_cert_sn,
        app_cert: stored.app_cert_pem.as_deref(),
        app_cert_sn: stored.app_cert_sn.as_deref(),
        replaced,
    };
    Ok(created(status, &out))
}

/// `GET /sandbox/personas`
pub(crate) async fn personas() -> Response {
    created(StatusCode::OK, &PERSONAS)
}

#[derive(Debug, Deserialize)]
pub(crate) struct OpenDesk {
    order_str: String,
}

#[derive(Debug, Serialize)]
struct Opened<'a> {
    desk_id: &'a str,
    desk_url: String,
    conn_key: &'a str,
    once_token: &'a str,
}

/// `POST /sandbox/desk` — 201 when opened, 200 when the same order string was opened before.
pub(crate) async fn open_desk(State(state): State<AppState>, Json(req): Json<OpenDesk>) -> Result<Response, ApiError> {
    let (desk, is_new) = desk::open(&state, &req.order_str).await?;
    let order = req.order_str.trim().trim_start_matches('?');
    let out = Opened {
        desk_id: &desk.desk_id,
        desk_url: format!("{}/desk?{order}", state.base_url()),
        conn_key: &desk.conn_key,
        once_token: &desk.once_token,
    };
    Ok(created(if is_new { StatusCode::CREATED } else { StatusCode::OK }, &out))
}

#[derive(Debug, Deserialize)]
pub(crate) struct Complete {
    persona: String,
}

/// `POST /sandbox/desk/{desk_id}/complete`
pub(crate) async fn complete(
    State(state): State<AppState>,
    Path(desk_id): Path<String>,
    Json(req): Json<Complete>,
) -> Result<Response, ApiError> {
    let desk = desk::complete(&state, &desk_id, &req.persona).await?;
    Ok(created(StatusCode::OK, &DeskOutcome::of(&desk)))
}

#[derive(Debug, Deserialize)]
pub(crate) struct Resolve {
    identity_result: String,
}

/// `POST /sandbox/desk/{desk_id}/resolve`
pub(crate) async fn resolve(
    State(state): State<AppState>,
    Path(desk_id): Path<String>,
    Json(req): Json<Resolve>,
) -> Result<Response, ApiError> {
    let desk = desk::resolve(&state, &desk_id, &req.identity_result).await?;
    Ok(created(StatusCode::OK, &DeskOutcome::of(&desk)))
}

/// `POST /sandbox/desk/{desk_id}/cancel`
pub(crate) async fn cancel(State(state): State<AppState>, Path(desk_id): Path<String>) -> Result<Response, ApiError> {
    let desk = desk::cancel(&state, &desk_id).await?;
    Ok(created(StatusCode::OK, &DeskOutcome::of(&desk)))
}

#[derive(Debug, Deserialize)]
pub(crate) struct Shortcut {
    app_id: String,
    conn_key: String,
    service_id: String,
    #[serde(default)]
    identity_type: Option<String>,
    #[serde(default)]
    once_token: Option<String>,
    persona: String,
}

/// `POST /sandbox/authentications` — a completed verification without the desk.
pub(crate) async fn authentications(
    State(state): State<AppState>,
    Json(r): Json<Shortcut>,
) -> Result<Response, ApiError> {
    let desk = desk::shortcut(
        &state,
        &r.app_id,
        &r.conn_key,
        &r.service_id,
        r.identity_type.as_deref(),
        r.once_token.as_deref(),
        &r.persona,
    )
    .await?;
    Ok(created(StatusCode::CREATED, &DeskOutcome::of(&desk)))
}

/// The app of a path, which must be registered.
async fn registered(state: &AppState, app_id: &str) -> Result<(), ApiError> {
    check_app_id(app_id)?;
    match state.store().app(app_id).await? {
        Some(_) => Ok(()),
        None => Err(ApiError::NotFound(format!("app {app_id} is not registered"))),
    }
}

/// Stored JSON text as a value (a row this build wrote, so it parses).
fn stored_json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or(serde_json::Value::Null)
}

/// `GET /sandbox/apps/{app_id}/job-data` — every `jobdata/add` call of the app, oldest first.
pub(crate) async fn job_data(State(state): State<AppState>, Path(app_id): Path<String>) -> Result<Response, ApiError> {
    registered(&state, &app_id).await?;
    let rows = state.store().job_data(&app_id).await?;
    let out: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "acceptance_id": r.acceptance_id, "conn_key": r.subject.conn_key, "user_id": r.subject.user_id,
                "open_id": r.subject.open_id, "cert_type": r.subject.cert_type, "cert_no": r.subject.cert_no_shown,
                "user_name": r.subject.user_name, "job_data_list": stored_json(&r.items), "created_at": r.created_at,
            })
        })
        .collect();
    Ok(created(StatusCode::OK, &out))
}

/// `GET /sandbox/apps/{app_id}/positions` — the app's postings as last pushed, oldest first.
pub(crate) async fn positions(State(state): State<AppState>, Path(app_id): Path<String>) -> Result<Response, ApiError> {
    registered(&state, &app_id).await?;
    let rows = state.store().positions(&app_id).await?;
    let out: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "position_id": r.position_id, "ka_position_id": r.ka_position_id,
                "jobworth_position_info": stored_json(&r.info), "created_at": r.created_at, "updated_at": r.updated_at,
            })
        })
        .collect();
    Ok(created(StatusCode::OK, &out))
}

/// `GET /sandbox/apps/{app_id}/pictures` — the app's pictures' metadata, oldest first.
pub(crate) async fn pictures(State(state): State<AppState>, Path(app_id): Path<String>) -> Result<Response, ApiError> {
    registered(&state, &app_id).await?;
    let rows = state.store().pictures(&app_id).await?;
    let out: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "pic_id": r.pic_id, "pic_type": r.pic_type, "media_type": r.media_type,
                "size": r.size, "sha256": r.sha256, "created_at": r.created_at,
            })
        })
        .collect();
    Ok(created(StatusCode::OK, &out))
}

/// Fallback for routes that do not exist: a JSON 404.
pub(crate) async fn not_found() -> ApiError {
    ApiError::NotFound("no such route".into())
}
