//! Step 1: the signed order string for `zhima.credit.payafteruse.creditagreement.sign`.
//!
//! Built locally and never sent to the gateway: the user's Alipay app opens the acceptance desk
//! with it. Signed exactly like the official Node SDK's `sdkExecute` (see
//! [`alipay_v3::order`]).

use std::fmt;

use alipay_v3::keys::PrivateKey;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use crate::client::Client;
use crate::config::Credentials;
use jobworth_wire::{IdentityType, CREDIT_AGREEMENT_SIGN};

/// A fresh `conn_key` / `out_agreement_no`: a random UUID without dashes (32 hex characters).
/// Use a new one per user and per verification.
pub fn new_conn_key() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// A fresh `once_token`: a random UUID without dashes (32 hex characters).
pub fn new_once_token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Why an order string could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OrderError {
    /// A required field is missing or empty.
    #[error("order string: {0} is required")]
    Missing(&'static str),
}

/// Entry point of the step-1 builder: [`OrderString::builder`] (or [`Client::order_string`]).
#[derive(Debug, Clone, Copy)]
pub struct OrderString;

impl OrderString {
    /// A builder with nothing set.
    ///
    /// ```
    /// use jobworth::{IdentityType, OrderString};
    /// let key = alipay_v3::keys::PrivateKey::generate().unwrap();
    /// let order = OrderString::builder()
    ///     .app_id("2021000122671080")
    ///     .out_agreement_no("conn-7f3c1e2a")
    ///     .service_id("2019120400000000000004450100")
    ///     .once_token("tok-9b1d")
    ///     .identity_type(IdentityType::Teacher)
    ///     .sign(&key)?;
    /// let params = alipay_v3::order::verify_order_string(&order, &key.public_key()).unwrap();
    /// assert_eq!(params.get("method"), Some("zhima.credit.payafteruse.creditagreement.sign"));
    /// # Ok::<(), jobworth::OrderError>(())
    /// ```
    pub fn builder() -> OrderStringBuilder {
        OrderStringBuilder::default()
    }
}

impl Client {
    /// A step-1 builder pre-filled from this client: app id, signing key, app auth token and, in
    /// certificate mode, `app_cert_sn` and `alipay_root_cert_sn`. Finish with
    /// [`OrderStringBuilder::build`].
    ///
    /// ```
    /// # let key = alipay_v3::keys::PrivateKey::generate().unwrap();
    /// # let client = jobworth::Client::builder().app_id("2021000122671080").private_key(key.clone())
    /// #     .alipay_public_key(key.public_key()).build().unwrap();
    /// let order = client.order_string()
    ///     .out_agreement_no(jobworth::new_conn_key())
    ///     .service_id("2019120400000000000004450100")
    ///     .once_token(jobworth::new_once_token())
    ///     .build()?;
    /// assert!(order.starts_with("method=zhima.credit.payafteruse.creditagreement.sign&app_id=2021000122671080&"));
    /// # Ok::<(), jobworth::OrderError>(())
    /// ```
    pub fn order_string(&self) -> OrderStringBuilder {
        let inner = &self.inner;
        let mut b = OrderString::builder().app_id(inner.app_id.clone());
        b.key = Some(inner.key.clone());
        b.app_auth_token = inner.app_auth_token.clone();
        if let Credentials::Certificates(c) = &inner.credentials {
            b.app_cert_sn = Some(c.app_cert_sn.clone());
            b.alipay_root_cert_sn = Some(c.alipay_root_cert_sn.clone());
        }
        b
    }
}

/// Assembles and signs a `zhima.credit.payafteruse.creditagreement.sign` order string.
///
/// Parameters are emitted like `sdkExecute`: `method, app_id, charset, version, sign_type,
/// timestamp`, then `notify_url, return_url, app_auth_token` when set, then (certificate mode)
/// `app_cert_sn, alipay_root_cert_sn`, then `biz_content`, then `sign`. `biz_content` is compact
/// JSON in the order `out_agreement_no, zm_service_id, product_code, category_id, extra_param,
/// return_back_link, cancel_back_link`; `extra_param` is a JSON **string** holding
/// `{"onceToken","identityType",…}`.
#[derive(Clone, Default)]
#[must_use]
pub struct OrderStringBuilder {
    app_id: Option<String>,
    out_agreement_no: Option<String>,
    service_id: Option<String>,
    once_token: Option<String>,
    identity_type: Option<IdentityType>,
    extra: Vec<(String, String)>,
    product_code: Option<String>,
    category_id: Option<String>,
    return_back_link: Option<String>,
    cancel_back_link: Option<String>,
    notify_url: Option<String>,
    return_url: Option<String>,
    app_auth_token: Option<String>,
    app_cert_sn: Option<String>,
    alipay_root_cert_sn: Option<String>,
    timestamp: Option<String>,
    key: Option<PrivateKey>,
}

impl fmt::Debug for OrderStringBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OrderStringBuilder")
            .field("app_id", &self.app_id)
            .field("out_agreement_no", &self.out_agreement_no)
            .field("service_id", &self.service_id)
            .field("once_token", &self.once_token)
            .field("identity_type", &self.identity_type)
            .field("app_auth_token", &self.app_auth_token.as_deref().map(alipay_v3::mask))
            .field("timestamp", &self.timestamp)
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

macro_rules! setters {
    ($( $(#[$doc:meta])* $name:ident ),+ $(,)?) => {
        $(
            $(#[$doc])*
            pub fn $name(mut self, v: impl Into<String>) -> Self {
                self.$name = Some(v.into());
                self
            }
        )+
    };
}

impl OrderStringBuilder {
    setters! {
        /// `app_id` (required).
        app_id,
        /// `biz_content.out_agreement_no` (required): becomes the query's `conn_key`. Must differ per user.
        out_agreement_no,
        /// `biz_content.zm_service_id` (required): the query's `service_id`.
        service_id,
        /// `extra_param.onceToken`: the query's `once_token` (see [`new_once_token`]).
        once_token,
        /// `biz_content.product_code` (Alipay's default is `CREDIT_PAY_AFTER_USE`).
        product_code,
        /// `biz_content.category_id`.
        category_id,
        /// `biz_content.return_back_link`.
        return_back_link,
        /// `biz_content.cancel_back_link`.
        cancel_back_link,
        /// `notify_url`.
        notify_url,
        /// `return_url`.
        return_url,
        /// `app_auth_token` (ISV calling for a merchant).
        app_auth_token,
        /// `app_cert_sn` (certificate mode).
        app_cert_sn,
        /// `alipay_root_cert_sn` (certificate mode).
        alipay_root_cert_sn,
    }

    /// `extra_param.identityType`, e.g. [`IdentityType::Teacher`].
    pub fn identity_type(mut self, v: impl Into<IdentityType>) -> Self {
        self.identity_type = Some(v.into());
        self
    }

    /// Another string entry of `extra_param` (after `onceToken` and `identityType`).
    pub fn extra_param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((name.into(), value.into()));
        self
    }

    /// The `timestamp` parameter verbatim (`YYYY-MM-DD HH:mm:ss`); default: now in Asia/Shanghai.
    pub fn timestamp(mut self, v: impl Into<String>) -> Self {
        self.timestamp = Some(v.into());
        self
    }

    /// The `timestamp` parameter for an instant given in Unix seconds (rendered in Asia/Shanghai).
    pub fn timestamp_epoch_secs(self, secs: i64) -> Self {
        self.timestamp(alipay_v3::order::shanghai_timestamp(secs))
    }

    /// The parameters in emission order, without `sign`.
    pub fn params(&self) -> Result<Vec<(&'static str, String)>, OrderError> {
        let need = |v: &Option<String>, name: &'static str| match v {
            Some(s) if !s.is_empty() => Ok(s.clone()),
            _ => Err(OrderError::Missing(name)),
        };
        let app_id = need(&self.app_id, "app_id")?;
        let out_agreement_no = need(&self.out_agreement_no, "out_agreement_no")?;
        let zm_service_id = need(&self.service_id, "zm_service_id")?;
        let timestamp = match &self.timestamp {
            Some(t) => t.clone(),
            None => alipay_v3::order::shanghai_timestamp((alipay_v3::now_millis() / 1000) as i64),
        };

        let mut extra: Vec<(&str, &str)> = Vec::new();
        if let Some(t) = self.once_token.as_deref().filter(|t| !t.is_empty()) {
            extra.push(("onceToken", t));
        }
        if let Some(t) = &self.identity_type {
            extra.push(("identityType", t.as_str()));
        }
        extra.extend(self.extra.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let extra_param = if extra.is_empty() { None } else { Some(ordered_json(&extra)) };
        let biz = BizContent {
            out_agreement_no: &out_agreement_no,
            zm_service_id: &zm_service_id,
            product_code: opt(&self.product_code),
            category_id: opt(&self.category_id),
            extra_param: extra_param.as_deref(),
            return_back_link: opt(&self.return_back_link),
            cancel_back_link: opt(&self.cancel_back_link),
        };
        // A struct of strings always serialises.
        let biz_content = serde_json::to_string(&biz).unwrap_or_default();

        let mut p: Vec<(&'static str, String)> = vec![
            ("method", CREDIT_AGREEMENT_SIGN.to_string()),
            ("app_id", app_id),
            ("charset", "utf-8".to_string()),
            ("version", "1.0".to_string()),
            ("sign_type", "RSA2".to_string()),
            ("timestamp", timestamp),
        ];
        let optional = [
            ("notify_url", &self.notify_url),
            ("return_url", &self.return_url),
            ("app_auth_token", &self.app_auth_token),
            ("app_cert_sn", &self.app_cert_sn),
            ("alipay_root_cert_sn", &self.alipay_root_cert_sn),
        ];
        p.extend(optional.into_iter().filter_map(|(k, v)| opt(v).map(|v| (k, v.to_string()))));
        p.push(("biz_content", biz_content));
        Ok(p)
    }

    /// Signs with `key` (RSA2) and returns the order string.
    pub fn sign(&self, key: &PrivateKey) -> Result<String, OrderError> {
        Ok(alipay_v3::order::sign_order_string(key, &self.params()?))
    }

    /// Signs with the key this builder came with ([`Client::order_string`]).
    pub fn build(&self) -> Result<String, OrderError> {
        let key = self.key.as_ref().ok_or(OrderError::Missing("signing key (use .sign(&key))"))?;
        self.sign(key)
    }
}

fn opt(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.is_empty())
}

#[derive(Serialize)]
struct BizContent<'a> {
    out_agreement_no: &'a str,
    zm_service_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    product_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    category_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    extra_param: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    return_back_link: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cancel_back_link: Option<&'a str>,
}

/// A JSON object of strings in the given order (serde_json's own map would sort the keys).
fn ordered_json(entries: &[(&str, &str)]) -> String {
    struct Ordered<'a>(&'a [(&'a str, &'a str)]);
    impl Serialize for Ordered<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut m = s.serialize_map(Some(self.0.len()))?;
            for (k, v) in self.0 {
                m.serialize_entry(k, v)?;
            }
            m.end()
        }
    }
    serde_json::to_string(&Ordered(entries)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_param_keeps_order_and_is_a_string() {
        let p = OrderString::builder()
            .app_id("1")
            .out_agreement_no("c")
            .service_id("s")
            .once_token("t")
            .identity_type(IdentityType::Teacher)
            .product_code("P")
            .timestamp("2024-06-07 18:41:51")
            .params()
            .unwrap();
        let biz = &p.last().unwrap().1;
        assert_eq!(
            biz,
            r#"{"out_agreement_no":"c","zm_service_id":"s","product_code":"P","extra_param":"{\"onceToken\":\"t\",\"identityType\":\"04\"}"}"#
        );
        assert_eq!(
            OrderString::builder().app_id("1").service_id("s").params(),
            Err(OrderError::Missing("out_agreement_no"))
        );
        assert_eq!(new_conn_key().len(), 32);
        assert_ne!(new_once_token(), new_once_token());
    }
}
