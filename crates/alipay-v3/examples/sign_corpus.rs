//! Drives the protocol core from outside Rust, for cross-checks against other implementations
//! (the interop suite checks it against Node's `crypto` and the official Node SDK).
//!
//! Reads one JSON array of cases on stdin and prints one JSON array of results, in order:
//!
//! ```text
//! cargo run -p alipay-v3 --example sign_corpus < cases.json
//! ```
//!
//! Each case has an `op` and its fields; every result is `{"ok": true, ...}` or
//! `{"ok": false, "error": "..."}` for input that cannot be used (bad key, missing field).
//! A signature that does not verify is not an input error: it gives `{"ok": true, "valid": false}`.
//!
//! | op | fields | result |
//! |---|---|---|
//! | `sign_request` | `key_pem` (private), `auth_string` or (`app_id`, `app_cert_sn`?, `nonce`, `timestamp`), `method`, `request_uri`, `body`, `app_auth_token`? | `auth_string`, `string_to_sign`, `authorization` |
//! | `verify_request` | `key_pem` (public), `authorization`, `method`, `request_uri`, `body`, `app_auth_token`? | `valid`, `reason`?, `app_id`, `nonce`, `timestamp` |
//! | `sign_response` | `key_pem` (private), `timestamp`, `nonce`, `body` | `signature` |
//! | `verify_response` | `key_pem` (public), `timestamp`, `nonce`, `body`, `signature` | `valid`, `reason`? |
//! | `sign_order_string` | `key_pem` (private), `params` (`[[k, v], …]` in emitted order) | `order_string`, `sign_content` |
//! | `verify_order_string` | `key_pem` (public), `order_string` | `valid`, `reason`?, `params` |
//! | `aes_encrypt` / `aes_decrypt` | `key` (base64), `plaintext` / `ciphertext` | `ciphertext` / `plaintext` |
//! | `cert_sn` | `cert_pem`, `root`? | `sn` |

use std::io::Read;

use alipay_v3::aes::AesKey;
use alipay_v3::keys::{PrivateKey, PublicKey};
use alipay_v3::{cert, order, sign, verify};
use serde_json::{json, Map, Value};

type Outcome = Result<Value, String>;

fn main() {
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        println!("{}", json!({"ok": false, "error": format!("cannot read stdin: {e}")}));
        std::process::exit(2);
    }
    let cases = match serde_json::from_str::<Value>(&input) {
        Ok(Value::Array(cases)) => cases,
        Ok(_) => {
            println!("{}", json!({"ok": false, "error": "stdin must hold a JSON array of cases"}));
            std::process::exit(2);
        }
        Err(e) => {
            println!("{}", json!({"ok": false, "error": format!("stdin is not JSON: {e}")}));
            std::process::exit(2);
        }
    };
    let results: Vec<Value> = cases
        .iter()
        .map(|case| match run(case) {
            Ok(Value::Object(mut m)) => {
                m.insert("ok".into(), Value::Bool(true));
                Value::Object(m)
            }
            Ok(other) => json!({"ok": true, "value": other}),
            Err(error) => json!({"ok": false, "error": error}),
        })
        .collect();
    println!("{}", Value::Array(results));
}

fn run(case: &Value) -> Outcome {
    let case = case.as_object().ok_or("a case must be a JSON object")?;
    match str_field(case, "op")? {
        "sign_request" => sign_request(case),
        "verify_request" => verify_request(case),
        "sign_response" => {
            let key = private_key(case)?;
            let body = str_field(case, "body")?;
            let sig =
                sign::sign_response(&key, str_field(case, "timestamp")?, str_field(case, "nonce")?, body.as_bytes());
            Ok(json!({ "signature": sig }))
        }
        "verify_response" => {
            let key = public_key(case)?;
            let res = verify::verify_response(
                &key,
                str_field(case, "timestamp")?,
                str_field(case, "nonce")?,
                str_field(case, "body")?.as_bytes(),
                str_field(case, "signature")?,
            );
            Ok(validity(res.map_err(|e| e.to_string())))
        }
        "sign_order_string" => {
            let key = private_key(case)?;
            let params = pairs(case.get("params").ok_or("missing field `params`")?)?;
            Ok(json!({
                "order_string": order::sign_order_string(&key, &params),
                "sign_content": order::sign_content(&params),
            }))
        }
        "verify_order_string" => {
            let key = public_key(case)?;
            let mut out = match order::verify_order_string(str_field(case, "order_string")?, &key) {
                Ok(params) => {
                    let list: Vec<Value> = params.0.iter().map(|(k, v)| json!([k, v])).collect();
                    json!({ "valid": true, "params": list })
                }
                Err(e) => json!({ "valid": false, "reason": e.to_string() }),
            };
            if let Ok(parsed) = order::parse_order_string(str_field(case, "order_string")?) {
                out["sign_content"] = Value::String(order::sign_content(&parsed.0));
            }
            Ok(out)
        }
        "aes_encrypt" => {
            let key = aes_key(case)?;
            Ok(json!({ "ciphertext": key.encrypt(str_field(case, "plaintext")?.as_bytes()) }))
        }
        "aes_decrypt" => {
            let key = aes_key(case)?;
            let plain = key.decrypt_to_string(str_field(case, "ciphertext")?).map_err(|e| e.to_string())?;
            Ok(json!({ "plaintext": plain }))
        }
        "cert_sn" => {
            let pem = str_field(case, "cert_pem")?;
            let root = case.get("root").and_then(Value::as_bool).unwrap_or(false);
            let sn = if root { cert::root_cert_sn(pem) } else { cert::cert_sn(pem) };
            Ok(json!({ "sn": sn.map_err(|e| e.to_string())? }))
        }
        other => Err(format!("unknown op `{other}`")),
    }
}

fn sign_request(case: &Map<String, Value>) -> Outcome {
    let key = private_key(case)?;
    let auth = match opt_str(case, "auth_string")? {
        Some(a) => a.to_string(),
        None => {
            let ts = str_field(case, "timestamp")?;
            let ts: u64 = ts.parse().map_err(|_| format!("`timestamp` is not epoch milliseconds: {ts:?}"))?;
            sign::auth_string(str_field(case, "app_id")?, opt_str(case, "app_cert_sn")?, str_field(case, "nonce")?, ts)
        }
    };
    let (method, uri, body) = (str_field(case, "method")?, str_field(case, "request_uri")?, str_field(case, "body")?);
    let target = sign::RequestTarget { method, uri, body, app_auth_token: opt_str(case, "app_auth_token")? };
    Ok(json!({
        "string_to_sign": sign::request_string_to_sign(&auth, &target),
        "authorization": sign::sign_request(&key, &auth, &target),
        "auth_string": auth,
    }))
}

fn verify_request(case: &Map<String, Value>) -> Outcome {
    let key = public_key(case)?;
    let header = match verify::AuthorizationHeader::parse(str_field(case, "authorization")?) {
        Ok(h) => h,
        // A header that does not parse cannot verify; report it like a mismatch.
        Err(e) => return Ok(json!({ "valid": false, "reason": format!("authorization: {e}") })),
    };
    let target = sign::RequestTarget {
        method: str_field(case, "method")?,
        uri: str_field(case, "request_uri")?,
        body: str_field(case, "body")?,
        app_auth_token: opt_str(case, "app_auth_token")?,
    };
    let res = verify::verify_request(&key, &header, &target);
    let mut out = validity(res.map_err(|e| e.to_string()));
    out["app_id"] = json!(header.app_id);
    out["app_cert_sn"] = json!(header.app_cert_sn);
    out["nonce"] = json!(header.nonce);
    out["timestamp"] = json!(header.timestamp_ms.to_string());
    out["extra"] = header.extra.iter().map(|(k, v)| json!([k, v])).collect();
    Ok(out)
}

fn validity(res: Result<(), String>) -> Value {
    match res {
        Ok(()) => json!({ "valid": true }),
        Err(reason) => json!({ "valid": false, "reason": reason }),
    }
}

fn str_field<'a>(case: &'a Map<String, Value>, name: &str) -> Result<&'a str, String> {
    match case.get(name) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(format!("field `{name}` must be a string")),
        None => Err(format!("missing field `{name}`")),
    }
}

fn opt_str<'a>(case: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, String> {
    match case.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("field `{name}` must be a string or null")),
    }
}

fn pairs(v: &Value) -> Result<Vec<(String, String)>, String> {
    let list = v.as_array().ok_or("`params` must be an array of [name, value] pairs")?;
    list.iter()
        .map(|p| match p.as_array().map(Vec::as_slice) {
            Some([Value::String(k), Value::String(v)]) => Ok((k.clone(), v.clone())),
            _ => Err("each entry of `params` must be [name, value] with two strings".to_string()),
        })
        .collect()
}

fn private_key(case: &Map<String, Value>) -> Result<PrivateKey, String> {
    PrivateKey::parse(str_field(case, "key_pem")?).map_err(|e| format!("private key: {e}"))
}

fn public_key(case: &Map<String, Value>) -> Result<PublicKey, String> {
    PublicKey::parse(str_field(case, "key_pem")?).map_err(|e| format!("public key: {e}"))
}

fn aes_key(case: &Map<String, Value>) -> Result<AesKey, String> {
    AesKey::from_base64(str_field(case, "key")?).map_err(|e| format!("AES key: {e}"))
}
