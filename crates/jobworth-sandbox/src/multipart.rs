//! The one thing the gateway needs from a `multipart/form-data` request: the text of the part
//! named `data`: in a v3 upload, that text (not the whole body) is what the request signature
//! covers.

/// Longest boundary RFC 2046 allows. A longer one is not multipart: the body is then signed as
/// it is, and the signature check refuses it.
const MAX_BOUNDARY: usize = 70;

/// Linear-time substring search (Two-Way): the body runs through it before the signature is
/// checked, so a crafted body must not make it quadratic.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    memchr::memmem::find(hay, needle)
}

/// The `boundary` parameter of a `multipart/form-data` content type.
pub fn boundary(content_type: &str) -> Option<&str> {
    let (mime, params) = content_type.split_once(';')?;
    if !mime.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"'))
            .filter(|b| !b.is_empty() && b.len() <= MAX_BOUNDARY)
    })
}

/// The content of the part named `data` (`None` if there is no such part or the body is not
/// well-formed multipart).
pub fn data_part<'a>(boundary: &str, body: &'a [u8]) -> Option<&'a [u8]> {
    let delim = format!("--{boundary}");
    let part_end = format!("\r\n{delim}");
    let mut rest = &body[find(body, delim.as_bytes())? + delim.len()..];
    loop {
        if rest.starts_with(b"--") {
            return None; // closing delimiter
        }
        let rest_after_crlf = rest.strip_prefix(b"\r\n")?;
        let head_end = find(rest_after_crlf, b"\r\n\r\n")?;
        let headers = std::str::from_utf8(&rest_after_crlf[..head_end]).ok()?;
        let content_start = &rest_after_crlf[head_end + 4..];
        let next = find(content_start, part_end.as_bytes())?;
        let content = &content_start[..next];
        if headers.lines().any(is_data_disposition) {
            return Some(content);
        }
        rest = &content_start[next + 2 + delim.len()..];
    }
}

fn is_data_disposition(line: &str) -> bool {
    let Some((name, value)) = line.split_once(':') else { return false };
    name.trim().eq_ignore_ascii_case("content-disposition")
        && value.split(';').any(|p| matches!(p.trim().split_once('='), Some((k, v)) if k.trim() == "name" && v.trim().trim_matches('"') == "data"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_upload_shape() {
        let ct = "multipart/form-data; boundary=--------------------------8302643d057a10700d019509";
        let b = boundary(ct).unwrap();
        let body = "----------------------------8302643d057a10700d019509\r\n\
                    Content-Disposition: form-data; name=\"data\"\r\n\
                    Content-Type: application/json\r\n\r\n\
                    {\"biz_code\":\"openpt_appstore\"}\r\n\
                    ----------------------------8302643d057a10700d019509\r\n\
                    Content-Disposition: form-data; name=\"file_content\"; filename=\"x.jpg\"\r\n\
                    Content-Type: image/jpeg\r\n\r\n\
                    hello-file\r\n\
                    ----------------------------8302643d057a10700d019509--\r\n";
        assert_eq!(data_part(b, body.as_bytes()), Some(&b"{\"biz_code\":\"openpt_appstore\"}"[..]));
    }

    #[test]
    fn data_part_later_and_missing() {
        let body = "--B\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nxx\r\n--B\r\n\
                    content-disposition: form-data; name=data\r\n\r\n{}\r\n--B--";
        assert_eq!(data_part("B", body.as_bytes()), Some(&b"{}"[..]));
        let none = "--B\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nxx\r\n--B--";
        assert_eq!(data_part("B", none.as_bytes()), None);
        assert_eq!(data_part("B", b"garbage"), None);
        assert_eq!(data_part("B", b"--B\r\nno-end"), None);
        assert_eq!(boundary("application/json"), None);
        assert_eq!(boundary("multipart/form-data; boundary=\"q\""), Some("q"));
        assert_eq!(boundary("multipart/form-data"), None);
        let long = format!("multipart/form-data; boundary={}", "b".repeat(71));
        assert_eq!(boundary(&long), None);
        let max = format!("multipart/form-data; boundary={}", "b".repeat(70));
        assert_eq!(boundary(&max).map(str::len), Some(70));
    }

    /// Time per byte stays flat from 256 KiB to 2 MiB for the worst inputs found: a body of
    /// near-boundaries, and one of many tiny parts. A quadratic parser grows 8× per byte here.
    /// Only a ratio within one run is asserted (speed targets live in benchmarks), and each size
    /// is timed as the best of several interleaved runs, so a scheduler pause on a loaded machine
    /// lands in one run and is discarded.
    #[test]
    fn linear_in_the_body() {
        let b = "x".repeat(70);
        let near = |n: usize| {
            format!("--{b}\r\n\r\n")
                .into_bytes()
                .into_iter()
                .chain(std::iter::repeat(format!("\r\n--{}", &b[..69])).flat_map(String::into_bytes).take(n))
                .collect::<Vec<u8>>()
        };
        let parts = |n: usize| {
            let part = format!("--{b}\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nv\r\n");
            part.repeat(n / part.len() + 1).into_bytes()
        };
        for make in [&near as &dyn Fn(usize) -> Vec<u8>, &parts] {
            let (small_body, large_body) = (make(256 * 1024), make(2 * 1024 * 1024));
            let per_byte = |body: &[u8]| {
                let t = std::time::Instant::now();
                assert_eq!(data_part(&b, body), None);
                t.elapsed().as_secs_f64() / body.len() as f64
            };
            let (mut small, mut large) = (f64::INFINITY, f64::INFINITY);
            for _ in 0..7 {
                small = small.min(per_byte(&small_body));
                large = large.min(per_byte(&large_body));
            }
            assert!(large < small * 4.0 + 2e-9, "per byte: {small:e} s at 256 KiB, {large:e} s at 2 MiB");
        }
    }
}
