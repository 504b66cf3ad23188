//! The business rules of the v3 methods the sandbox serves, one module per method. A method is
//! a parameters type (a [`Params`] type, or a wire model read from the query string or the JSON
//! body), a rules function taking a [`Call`] and those parameters, and a line in the gateway's
//! table.

pub(crate) mod authentication;
pub(crate) mod cloud_resume;
pub(crate) mod credit_agreement;
pub(crate) mod job_data;
pub(crate) mod picture;
pub(crate) mod position;
pub(crate) mod work_card;

use alipay_v3::query::parse_query;
use jobworth_wire::code::business as code;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{AppRecord, Generations};

/// A request that passed every gateway check, as the rules see it.
#[derive(Debug)]
pub(crate) struct Call<'a> {
    /// The sandbox.
    pub state: &'a AppState,
    /// The calling app, current as of the request's nonce insert.
    pub app: &'a AppRecord,
    /// The change counters as of that insert: what the rules read must be current at them.
    pub generations: Generations,
    /// The request body, decrypted when it was sent AES-encrypted.
    pub body: &'a [u8],
}

impl Call<'_> {
    /// Reads a method's parameters from the query string.
    pub fn params<P: Params>(&self, raw_query: Option<&str>) -> Result<P, ApiError> {
        P::parse(raw_query, self.state.cfg().allow_unknown_params)
    }

    /// Reads a `GET` method's parameters into its wire model: `names` are the parameters it
    /// takes; a value the model cannot read is refused with `bad_value`.
    pub fn query<T: DeserializeOwned>(
        &self,
        raw_query: Option<&str>,
        names: &[&'static str],
        bad_value: &'static str,
    ) -> Result<T, ApiError> {
        let pairs = query_pairs(raw_query, names, self.state.cfg().allow_unknown_params)?;
        let object: serde_json::Map<String, serde_json::Value> = pairs
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k.to_owned(), serde_json::Value::String(v)))
            .collect();
        serde_json::from_value(serde_json::Value::Object(object))
            .map_err(|e| ApiError::business(bad_value, format!("参数有误 ({e})")))
    }

    /// Reads a `POST` method's JSON body into its wire model. Malformed JSON is
    /// `INVALID_PARAMETER`; a field of the wrong type is refused with `bad_value`. Fields the
    /// model does not define are ignored, as the official models ignore them.
    pub fn json<T: DeserializeOwned>(&self, bad_value: &'static str) -> Result<T, ApiError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Err(invalid("参数有误 (this method takes a JSON body)"));
        }
        serde_json::from_slice(self.body).map_err(|e| match e.classify() {
            serde_json::error::Category::Data => ApiError::business(bad_value, format!("参数有误 ({e})")),
            _ => invalid(format!("参数有误 (the body is not JSON: {e})")),
        })
    }
}

/// The parameters of one v3 method.
pub(crate) trait Params: Sized {
    /// `allow_unknown`: answer a parameter the method does not define instead of refusing it.
    fn parse(raw_query: Option<&str>, allow_unknown: bool) -> Result<Self, ApiError>;
}

pub(crate) fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::business(code::INVALID_PARAMETER, message)
}

/// Most parameters a query may carry.
const MAX_PARAMS: usize = 64;

/// A query string as (name, value) pairs of the method's `names`, each at most once. A name the
/// method does not define is refused unless `allow_unknown` (then it is left out).
pub(crate) fn query_pairs(
    raw: Option<&str>,
    names: &[&'static str],
    allow_unknown: bool,
) -> Result<Vec<(&'static str, String)>, ApiError> {
    let raw = raw.unwrap_or("");
    // Counted before decoding, so a query of 10,000 parameters is refused without building them.
    let count = if raw.is_empty() { 0 } else { raw.split('&').filter(|p| !p.is_empty()).count() };
    if count > MAX_PARAMS {
        return Err(invalid(format!("参数有误 ({count} parameters; at most {MAX_PARAMS} are accepted)")));
    }
    let pairs = parse_query(raw).map_err(|e| invalid(format!("参数有误 (query string: {e})")))?;
    let mut seen = std::collections::HashSet::with_capacity(pairs.len());
    let mut known = Vec::with_capacity(pairs.len());
    for (k, v) in pairs {
        if !seen.insert(k.clone()) {
            return Err(invalid(format!("参数有误 (parameter {} is given more than once)", printable(&k))));
        }
        match names.iter().find(|n| **n == k) {
            Some(name) => known.push((*name, v)),
            None if allow_unknown => {}
            // A typo such as `onceToken` would otherwise look like a missing parameter.
            None => {
                return Err(invalid(format!(
                    "参数有误 (unknown parameter {}; this endpoint takes {})",
                    printable(&k),
                    names.join(", ")
                )))
            }
        }
    }
    Ok(known)
}

/// A parameter name safe to echo in a message (no control characters, bounded).
fn printable(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(40).collect()
}

/// The JSON body of an answer.
pub(crate) fn encode<T: serde::Serialize>(answer: &T) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(answer).map_err(|e| ApiError::Internal(format!("encoding answer: {e}")))
}

/// Whether a salary range reads as one: when both ends are numbers, the minimum is not above the
/// maximum.
pub(crate) fn salary_range_ok(min: Option<&str>, max: Option<&str>) -> bool {
    let num = |v: Option<&str>| v.and_then(|s| s.trim().parse::<f64>().ok());
    !matches!((num(min), num(max)), (Some(lo), Some(hi)) if lo > hi)
}

/// Whether `value` is a link a page may send a person to: http(s) or an Alipay scheme, nothing
/// that runs script, at most 1024 characters.
pub(crate) fn is_link(value: &str) -> bool {
    value.len() <= 1024 && ["https://", "http://", "alipays://"].iter().any(|s| value.starts_with(s))
}
