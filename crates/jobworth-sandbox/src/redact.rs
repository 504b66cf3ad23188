//! What the sandbox may show of a request it received — in a refusal's message, in the request log,
//! on the inspector page: secret values masked, signatures elided, everything bounded in length.

use alipay_v3::mask;

/// Fields whose values are personal data or bearer tokens, in every spelling the clients send
/// (query parameter, JSON key, `extra_param` key).
const SECRET_FIELDS: &[&str] = &["cert_no", "once_token", "onceToken", "app_auth_token"];
/// Query parameters too long and opaque to be worth showing: only their length is.
const ELIDED_PARAMS: &[&str] = &["sign", "biz_content"];
/// Longest string-to-sign shown (characters).
const MAX_SHOWN: usize = 4096;
/// Longest header value kept (characters).
const MAX_HEADER: usize = 256;
/// Most headers kept of one request.
const MAX_HEADERS: usize = 40;

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The first secret field name in `text` standing as a whole word and followed by `=` or `:`
/// (quotes and backslashes of nested JSON allowed in between): where its value starts.
fn next_secret(text: &str) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut best: Option<(usize, usize)> = None;
    for field in SECRET_FIELDS {
        let mut from = 0;
        while let Some(i) = text[from..].find(field) {
            let start = from + i;
            let end = start + field.len();
            from = start + 1;
            if (start > 0 && is_ident(bytes[start - 1])) || bytes.get(end).is_some_and(|&b| is_ident(b)) {
                continue;
            }
            let sep =
                bytes[end..].iter().take(8).take_while(|b| matches!(b, b'"' | b'\\' | b':' | b'=' | b' ')).count();
            if !bytes[end..end + sep].iter().any(|b| matches!(b, b':' | b'=')) {
                continue;
            }
            if best.is_none_or(|(s, _)| start < s) {
                best = Some((start, end + sep));
            }
            break;
        }
    }
    best
}

/// `text` with the value of every secret field masked in place (`tok-****************9f3a`),
/// whatever the encoding around it: `k=v` pairs, JSON, JSON inside a JSON string.
pub(crate) fn mask_secrets(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((_, value_at)) = next_secret(rest) {
        out.push_str(&rest[..value_at]);
        rest = &rest[value_at..];
        let len = rest.find(['&', '"', '\\', ',', '}', '\n', '\r', ' ']).unwrap_or(rest.len());
        out.push_str(&mask(&rest[..len]));
        rest = &rest[len..];
    }
    out.push_str(rest);
    out
}

fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((at, _)) => format!("{}… ({} more bytes)", &text[..at], text.len() - at),
    }
}

/// An identifier a client sent (app id, SN), as it may be shown: at most 64 characters.
pub(crate) fn id(value: &str) -> String {
    value.chars().take(64).collect()
}

/// A string-to-sign as it may be shown: secrets masked, bounded. Line breaks are kept.
pub(crate) fn string_to_sign(text: &str) -> String {
    truncate(&mask_secrets(text), MAX_SHOWN)
}

/// A string-to-sign on one line, newlines written as `\n`, for a message.
pub(crate) fn one_line(shown: &str) -> String {
    shown.replace('\r', "\\r").replace('\n', "\\n")
}

/// A request-target as it may be shown: secret query values masked, signatures and `biz_content`
/// replaced by their length.
pub(crate) fn target(target: &str) -> String {
    let Some((path, query)) = target.split_once('?') else { return truncate(target, MAX_HEADER * 4) };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let name = alipay_v3::query::parse_query(k)
                .ok()
                .and_then(|p| p.into_iter().next())
                .map_or_else(|| k.to_string(), |(name, _)| name);
            if SECRET_FIELDS.contains(&name.as_str()) {
                format!("{k}={}", mask(v))
            } else if ELIDED_PARAMS.contains(&name.as_str()) {
                format!("{k}=<{} bytes>", v.len())
            } else {
                mask_secrets(pair)
            }
        })
        .collect();
    truncate(&format!("{path}?{}", pairs.join("&")), MAX_HEADER * 4)
}

/// A signature as it may be shown: its first characters and its length.
fn elide_signature(signature: &str) -> String {
    let head: String = signature.chars().take(8).collect();
    format!("{head}…({} chars)", signature.len())
}

/// The headers of a request as the inspector shows them: the signature in `authorization`
/// elided, bearer credentials and tokens hidden, every value bounded.
pub(crate) fn headers(headers: &http::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .take(MAX_HEADERS)
        .map(|(name, value)| {
            let text = String::from_utf8_lossy(value.as_bytes());
            let shown = match name.as_str() {
                "authorization" => match text.rsplit_once(",sign=") {
                    Some((auth, sig)) if text.starts_with(alipay_v3::headers::SCHEME) => {
                        format!("{},sign={}", mask_secrets(auth), elide_signature(sig))
                    }
                    _ => "<hidden: not an Alipay signature>".to_string(),
                },
                "alipay-app-auth-token" => mask(&text),
                "cookie" | "proxy-authorization" => "<hidden>".to_string(),
                _ => mask_secrets(&text),
            };
            (name.as_str().to_string(), truncate(&shown, MAX_HEADER))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_in_every_spelling() {
        assert_eq!(
            mask_secrets("a=1&once_token=tok-0123456789abcdef&cert_no=110105200002290021&b=2"),
            "a=1&once_token=tok-************cdef&cert_no=1101**********0021&b=2"
        );
        assert_eq!(
            mask_secrets(r#"biz_content={"extra_param":"{\"onceToken\":\"tok-0123456789abcdef\"}"}"#),
            r#"biz_content={"extra_param":"{\"onceToken\":\"tok-************cdef\"}"}"#
        );
        assert_eq!(mask_secrets(r#"{"cert_no": "110105200002290021"}"#), r#"{"cert_no": "1101**********0021"}"#);
        // Only whole field names followed by a value.
        assert_eq!(mask_secrets("xcert_no=123456789012"), "xcert_no=123456789012");
        assert_eq!(mask_secrets("the once_token is used"), "the once_token is used");
    }

    #[test]
    fn targets_and_headers() {
        assert_eq!(
            target("/v3/x?conn_key=c1&once_token=tok-0123456789abcdef&cert_no=110105200002290021"),
            "/v3/x?conn_key=c1&once_token=tok-************cdef&cert_no=1101**********0021"
        );
        assert_eq!(
            target("/desk?app_id=1&biz_content=%7B%7D&sign=abcd"),
            "/desk?app_id=1&biz_content=<6 bytes>&sign=<4 bytes>"
        );
        let mut h = http::HeaderMap::new();
        h.insert(
            "authorization",
            "ALIPAY-SHA256withRSA app_id=1,nonce=n,timestamp=1,sign=QUJDREVGR0hJSktM".parse().unwrap(),
        );
        h.insert("alipay-app-auth-token", "202401BB0123456789".parse().unwrap());
        let shown = headers(&h);
        assert_eq!(
            shown[0],
            (
                "authorization".into(),
                "ALIPAY-SHA256withRSA app_id=1,nonce=n,timestamp=1,sign=QUJDREVG…(16 chars)".into()
            )
        );
        assert_eq!(shown[1].1, "2024**********6789");
        h.insert("authorization", "Bearer s3cret".parse().unwrap());
        assert!(!format!("{:?}", headers(&h)).contains("s3cret"));
    }

    #[test]
    fn long_strings_are_bounded() {
        let long = "x".repeat(MAX_SHOWN + 10);
        let shown = string_to_sign(&long);
        assert!(shown.ends_with("… (10 more bytes)"), "{shown}");
        assert_eq!(one_line("a\nb\r\n"), "a\\nb\\r\\n");
    }
}
