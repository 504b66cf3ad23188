//! Typed async client for **Zhima Jobworth (芝麻职得) identity authentication** over Alipay
//! OpenAPI v3, built on the protocol core [`alipay_v3`].
//!
//! The flow:
//! 1. build the signed step-1 order string ([`OrderString`], [`Client::order_string`]) with a
//!    fresh `out_agreement_no` ([`new_conn_key`]) and `once_token` ([`new_once_token`]);
//! 2. the user completes the acceptance desk in the Alipay app;
//! 3. query the result ([`Client::authentication_query`], or the Java-shaped [`Client::query`]).
//!    `WAITING_VERIFY` may be polled again; a terminal result (`SUCCESS`/`FAILED`) is returned
//!    exactly once, after which the token answers `TOKEN_INVALID`.
//!
//! ```no_run
//! use jobworth::{Client, IdentityType, QueryType};
//!
//! # async fn run(app_private_pem: &str, alipay_public_pem: &str) -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::builder()
//!     .app_id("2021000122671080")
//!     .private_key_pem(app_private_pem)?
//!     .alipay_public_key_pem(alipay_public_pem)?
//!     .build()?;
//!
//! // Step 1: hand this string to the Alipay app.
//! let (conn_key, once_token) = (jobworth::new_conn_key(), jobworth::new_once_token());
//! let order = client
//!     .order_string()
//!     .out_agreement_no(&conn_key)
//!     .service_id("2019120400000000000004450100")
//!     .once_token(&once_token)
//!     .identity_type(IdentityType::Teacher)
//!     .build()?;
//!
//! // Step 3, after the user went through the desk:
//! let result = client
//!     .authentication_query()
//!     .conn_key(&conn_key)
//!     .once_token(&once_token)
//!     .query_type(QueryType::Exact)
//!     .identity_type(IdentityType::Teacher)
//!     .service_id("2019120400000000000004450100")
//!     .user_id("2088402562742105")
//!     .send()
//!     .await?;
//! println!("{}", result.identity_result);
//! # let _ = order; Ok(()) }
//! ```
//!
//! Every answer is verified before it is used; see [`Client`] for what each call does, the
//! retry policy, and [`Error`] for the error model. The product's other endpoints (work card,
//! cloud résumé, job data, pictures, positions, credit agreement) are typed in [`family`].
//!
//! # The seed's Java call and its Rust equivalents
//!
//! | Java (`alipay-sdk-java` v3) | Rust |
//! |---|---|
//! | `ApiClient defaultClient = Configuration.getDefaultApiClient();` `defaultClient.setBasePath(url)` | `Client::builder().endpoint(url)` |
//! | `config.setAppId(id)` | `.app_id(id)` |
//! | `config.setPrivateKey(key)` | `.private_key_pem(key)?` |
//! | `config.setAlipayPublicKey(key)` | `.alipay_public_key_pem(key)?` |
//! | `config.setAppCertPath/…AlipayPublicCertPath/…RootCertPath` | `.certificates(&app, &alipay, &root)?` |
//! | `config.setEncryptKey(key)` | `.encrypt_key_base64(key)?` |
//! | `defaultClient.setAlipayConfig(config)` | `.build()?` |
//! | `new ZhimaCustomerJobworthAuthenticationApi(defaultClient)` | (the `Client` itself) |
//! | `apiInstance.query(connKey, onceToken, queryType, identityType, serviceId, userId, openId, certNo, certType)` | `client.query(Some(conn_key), Some(once_token), Some(query_type), Some(identity_type), Some(service_id), Some(user_id), open_id, cert_no, cert_type).await?` |
//! | (same, idiomatic) | `client.authentication_query().conn_key(..).once_token(..).query_type(QueryType::Exact).identity_type(IdentityType::Teacher).service_id(..).user_id(..).send().await?` |
//! | `ZhimaCustomerJobworthAuthenticationQueryResponseModel` | [`AuthenticationResult`] |
//! | `result.getIdentityResult()` | `result.identity_result` ([`IdentityResult`]) |
//! | `catch (ApiException e)`: `e.getCode()`, `e.getResponseBody()`, `e.getResponseHeaders()` | `Err(Error::Api(e))`: `e.response.status`, `e.code`, `e.body`, `e.response.headers` |
//! | `ZhimaCustomerJobworthInfoApi.query(..)` | [`client.work_card_info()`](Client::work_card_info)`…send().await?` |
//! | `ZhimaCustomerJobworthCloudresumeApi.query(connKey, onceToken)` | [`client.cloud_resume(conn_key, once_token)`](Client::cloud_resume)`.send().await?` |
//! | `ZhimaCustomerJobworthJobdataApi.add(model)` | [`client.add_job_data(list)`](Client::add_job_data)`…send().await?` |
//! | `ZhimaCustomerJobworthPictureApi.upload(model)` | [`client.upload_picture(content, pic_type)`](Client::upload_picture)`.send().await?` |
//! | `ZhimaCustomerJobworthPositionApi.add(model)` | [`client.add_position(info)`](Client::add_position)`.send().await?` |
//! | `ZhimaCreditPayafteruseCreditagreementApi.query(outAgreementNo, creditAgreementId)` | [`client.credit_agreement()`](Client::credit_agreement)`.out_agreement_no(..).send().await?` |
//! | a family answer's `getSubCode()` on a 200 | `Err(Error::Business(b))`: `b.code`, `b.message`, `b.answer()` |
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod authentication;
mod client;
mod config;
mod error;
pub mod family;
#[cfg(feature = "postgres")]
mod ledger_postgres;
mod order;
mod request;
mod sink;
mod token;

/// Receipts live in the protocol core: the type, its offline check and what it is checked against.
pub use alipay_v3::receipt::{Receipt, ReceiptError, ReceiptTrust, RECEIPT_FORMAT};
pub use authentication::AuthenticationQuery;
pub use client::Client;
pub use config::{
    CertificateAuthority, CertificateMode, ClientBuilder, Credentials, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_MAX_RETRIES,
    DEFAULT_RESPONSE_TIME_WINDOW, DEFAULT_TIMEOUT,
};
pub use error::{
    ApiError, BusinessError, ConfigError, DecodeError, DecryptionError, Error, Link, MaybeSentError, MaybeSentKind,
    NotSentError, NotSentKind, ReceiptNotStoredError, RecordedAttempt, RequestInfo, ResponseInfo, VerificationError,
    VerificationKind, WrongEnvironment,
};
#[cfg(feature = "postgres")]
pub use ledger_postgres::PostgresLedger;
pub use order::{new_conn_key, new_once_token, OrderError, OrderString, OrderStringBuilder};
pub use request::{RawResponse, RequestBuilder};
pub use sink::ReceiptSink;
pub use token::{AmbiguousAttempt, BoxFuture, MemoryLedger, StoreError, TokenKey, TokenLedger, LEDGER_TTL};

// The wire vocabulary lives in its own crate, shared with the sandbox; these keep its items at
// the paths callers know.
pub use jobworth_wire::validate;
pub use jobworth_wire::{
    AuthenticationResult, CertType, CodeFamily, ErrorCode, IdentityResult, IdentityType, QueryType, TokenStatus,
    AUTHENTICATION_PATH, CREDIT_AGREEMENT_SIGN, DEFAULT_ENDPOINT,
};

/// The protocol core this crate is built on (keys, AES keys, certificates, signing).
pub use alipay_v3;
/// The wire vocabulary (values, error codes, paths, validators), shared with the sandbox.
pub use jobworth_wire;
