//! `jobworth::Client` builders for an app registered with a sandbox.

use jobworth::{AuthenticationQuery, Client, ClientBuilder, IdentityType, QueryType};

use crate::app::App;
use crate::fixtures::SERVICE_ID;

/// Key mode: the app's key, the sandbox's Alipay public key.
pub fn key_builder(endpoint: &str, app: &App) -> ClientBuilder {
    Client::builder()
        .endpoint(endpoint)
        .app_id(&app.app_id)
        .private_key(app.key.clone())
        .alipay_public_key(app.alipay_public_key())
}

/// Certificate mode: the app's key, the three certificates of its registration.
pub fn cert_builder(endpoint: &str, app: &App) -> ClientBuilder {
    let r = &app.registration;
    Client::builder()
        .endpoint(endpoint)
        .app_id(&app.app_id)
        .private_key(app.key.clone())
        .certificates(
            r["app_cert"].as_str().unwrap(),
            r["alipay_cert"].as_str().unwrap(),
            r["alipay_root_cert"].as_str().unwrap(),
        )
        .unwrap()
}

/// An exact teacher query of `user_id` through `client`.
pub fn exact_query(client: &Client, conn_key: &str, once_token: &str, user_id: &str) -> AuthenticationQuery {
    client
        .authentication_query()
        .conn_key(conn_key)
        .once_token(once_token)
        .query_type(QueryType::Exact)
        .identity_type(IdentityType::Teacher)
        .service_id(SERVICE_ID)
        .user_id(user_id)
}
