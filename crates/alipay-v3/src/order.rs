//! v2 order strings (app-side `sdkExecute` signing), used for the step-1
//! `zhima.credit.payafteruse.creditagreement.sign` call.
//!
//! String to sign: every parameter but `sign` (with `sign_type`), empty values dropped, sorted
//! by key, `k=v` with raw values joined by `&`. The order string itself keeps emission order,
//! encodes values like JavaScript `encodeURIComponent` and ends with `sign`.

use crate::error::OrderStringError;
use crate::keys::{PrivateKey, PublicKey};
use crate::query::{decode_component, encode_uri_component};

/// The canonical v2 string to sign (shared by signer and verifier).
pub fn sign_content<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)]) -> String {
    let mut kept: Vec<(&str, &str)> =
        params.iter().map(|(k, v)| (k.as_ref(), v.as_ref())).filter(|(k, v)| *k != "sign" && !v.is_empty()).collect();
    kept.sort_by(|a, b| a.0.cmp(b.0));
    let mut s = String::new();
    for (i, (k, v)) in kept.iter().enumerate() {
        if i > 0 {
            s.push('&');
        }
        s.push_str(k);
        s.push('=');
        s.push_str(v);
    }
    s
}

/// Signs `params` (in emission order, without `sign`) and returns the order string.
/// Empty-valued parameters are left out entirely, so signer and every verifier agree.
pub fn sign_order_string<K: AsRef<str>, V: AsRef<str>>(key: &PrivateKey, params: &[(K, V)]) -> String {
    let sig = key.sign(sign_content(params).as_bytes());
    let mut out = String::new();
    for (k, v) in params.iter().filter(|(k, v)| k.as_ref() != "sign" && !v.as_ref().is_empty()) {
        out.push_str(k.as_ref());
        out.push('=');
        out.push_str(&encode_uri_component(v.as_ref()));
        out.push('&');
    }
    out.push_str("sign=");
    out.push_str(&encode_uri_component(&sig));
    out
}

/// Parsed parameters of an order string, in their order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderParams(pub Vec<(String, String)>);

impl OrderParams {
    /// The value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Decodes an order string (`encodeURIComponent` or form encoding). Duplicate keys are refused.
pub fn parse_order_string(s: &str) -> Result<OrderParams, OrderStringError> {
    let s = s.trim().trim_start_matches('?');
    let mut out: Vec<(String, String)> = Vec::new();
    for pair in s.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = decode_component(k)?;
        if out.iter().any(|(x, _)| *x == k) {
            return Err(OrderStringError::Duplicate(k));
        }
        out.push((k, decode_component(v)?));
    }
    Ok(OrderParams(out))
}

/// Parses and verifies an order string with the app's public key.
pub fn verify_order_string(s: &str, key: &PublicKey) -> Result<OrderParams, OrderStringError> {
    let params = parse_order_string(s)?;
    let sign = params.get("sign").filter(|v| !v.is_empty()).ok_or(OrderStringError::Missing("sign"))?;
    match params.get("sign_type") {
        Some("RSA2") => {}
        _ => return Err(OrderStringError::SignType),
    }
    key.verify(sign_content(&params.0).as_bytes(), sign)?;
    Ok(params)
}

/// `YYYY-MM-DD HH:mm:ss` for an epoch-seconds instant in UTC+8 (Asia/Shanghai, no DST), the
/// customary zone of the v2 `timestamp` parameter.
pub fn shanghai_timestamp(epoch_secs: i64) -> String {
    let t = epoch_secs + 8 * 3600;
    let secs = t.rem_euclid(86_400);
    let (y, m, d) = crate::civil_from_days(t.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", secs / 3600, secs % 3600 / 60, secs % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp() {
        // 2024-06-07 18:41:51 +08:00
        assert_eq!(shanghai_timestamp(1_717_756_911), "2024-06-07 18:41:51");
        assert_eq!(shanghai_timestamp(0), "1970-01-01 08:00:00");
        assert_eq!(shanghai_timestamp(951_782_400 - 8 * 3600), "2000-02-29 00:00:00");
    }

    #[test]
    fn content_drops_sign_and_empty() {
        let p = [("b", "2"), ("sign", "x"), ("a", "1"), ("c", "")];
        assert_eq!(sign_content(&p), "a=1&b=2");
    }

    #[test]
    fn duplicates_refused() {
        assert_eq!(parse_order_string("a=1&a=2"), Err(OrderStringError::Duplicate("a".into())));
    }
}
