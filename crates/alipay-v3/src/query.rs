//! Query strings: one encoder for what is signed and what is sent, and a decoder for servers.

use crate::error::QueryError;

/// How query components are percent-encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueryEncoding {
    /// Everything but RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`) becomes `%XX`;
    /// space is `%20`. Passes through every HTTP stack unchanged. The default.
    #[default]
    Rfc3986,
    /// WHATWG `application/x-www-form-urlencoded`, as the Node SDK sends: space is `+`,
    /// `* - . _` and alphanumerics kept.
    Form,
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

fn encode_with(s: &str, keep: impl Fn(u8) -> bool, space_plus: bool) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 2);
    for &b in s.as_bytes() {
        if keep(b) {
            out.push(b as char);
        } else if space_plus && b == b' ' {
            out.push('+');
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
    }
    out
}

/// Percent-encodes one query name or value.
pub fn encode_component(s: &str, encoding: QueryEncoding) -> String {
    match encoding {
        QueryEncoding::Rfc3986 => {
            encode_with(s, |b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'), false)
        }
        QueryEncoding::Form => {
            encode_with(s, |b| b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_'), true)
        }
    }
}

/// JavaScript `encodeURIComponent` (keeps `A-Z a-z 0-9 - _ . ! ~ * ' ( )`), used by the
/// official `sdkExecute` for order strings.
pub fn encode_uri_component(s: &str) -> String {
    encode_with(
        s,
        |b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')'),
        false,
    )
}

/// `k=v&k=v` in the given order.
pub fn build_query<'a, I>(pairs: I, encoding: QueryEncoding) -> String
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let mut out = String::new();
    for (k, v) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(&encode_component(k, encoding));
        out.push('=');
        out.push_str(&encode_component(v, encoding));
    }
    out
}

/// The request-target: `path` plus `?query` when there are parameters. This exact string is
/// both signed and sent.
pub fn request_uri<'a, I>(path: &str, pairs: I, encoding: QueryEncoding) -> String
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let q = build_query(pairs, encoding);
    if q.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{q}")
    }
}

/// Form-decodes one component: `+` is space, `%XX` a byte; the result must be UTF-8.
pub fn decode_component(s: &str) -> Result<String, QueryError> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let h = |c: u8| (c as char).to_digit(16);
                let (Some(hi), Some(lo)) = (b.get(i + 1).and_then(|&c| h(c)), b.get(i + 2).and_then(|&c| h(c))) else {
                    return Err(QueryError::Percent);
                };
                out.push((hi * 16 + lo) as u8);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| QueryError::Utf8)
}

/// Splits a raw query on `&` and each pair at the first `=`, form-decoding both sides.
/// Empty segments are skipped; order and duplicates are kept for the caller to judge.
pub fn parse_query(raw: &str) -> Result<Vec<(String, String)>, QueryError> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            Ok((decode_component(k)?, decode_component(v)?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_form_encoding() {
        let pairs = [("a", "x y"), ("b", "1,2"), ("c", "中"), ("d", "*~-._!'()"), ("e", "a+b/c?&="), ("f", "123")];
        assert_eq!(
            request_uri("/v3/alipay/x/query", pairs, QueryEncoding::Form),
            "/v3/alipay/x/query?a=x+y&b=1%2C2&c=%E4%B8%AD&d=*%7E-._%21%27%28%29&e=a%2Bb%2Fc%3F%26%3D&f=123"
        );
        assert_eq!(build_query([("a", "x y~*")], QueryEncoding::Rfc3986), "a=x%20y~%2A");
        assert_eq!(request_uri("/p", [], QueryEncoding::Rfc3986), "/p");
    }

    #[test]
    fn decoding() {
        assert_eq!(
            parse_query("a=x+y&b=%E4%B8%AD&&c").unwrap(),
            vec![("a".into(), "x y".into()), ("b".into(), "中".into()), ("c".into(), "".into())]
        );
        assert_eq!(parse_query("a=%zz"), Err(QueryError::Percent));
        assert_eq!(parse_query("a=%4"), Err(QueryError::Percent));
        assert_eq!(parse_query("a=%ff"), Err(QueryError::Utf8));
    }
}
