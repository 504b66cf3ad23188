//! Lenient PEM / bare-base64 reading: any line length, any line endings, armor optional.
//!
//! Alipay hands out keys as one bare base64 line and certificates with 76-column lines, which
//! strict RFC 7468 decoders refuse, so the armor is only used to find the base64.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use zeroize::Zeroizing;

/// One decoded block: its label (`None` for bare base64) and DER bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Block {
    /// The word(s) after `-----BEGIN `, e.g. `PRIVATE KEY`.
    pub label: Option<String>,
    /// The decoded bytes.
    pub der: Vec<u8>,
}

impl std::fmt::Debug for Block {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Blocks may hold private keys: never print the bytes.
        f.debug_struct("Block").field("label", &self.label).field("len", &self.der.len()).finish()
    }
}

/// Why text could not be read as PEM/base64.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PemError {
    /// Nothing but whitespace.
    Empty,
    /// A BEGIN line without its END line.
    Unterminated,
    /// The base64 does not decode.
    Base64,
}

impl PemError {
    /// Short description for error messages.
    pub fn as_str(self) -> &'static str {
        match self {
            PemError::Empty => "empty",
            PemError::Unterminated => "BEGIN without END",
            PemError::Base64 => "bad base64",
        }
    }
}

/// Decodes standard base64 ignoring all ASCII whitespace.
pub fn decode_base64_lenient(text: &str) -> Option<Vec<u8>> {
    decode_base64_wiped(text).map(|d| d.to_vec())
}

/// [`decode_base64_lenient`] for secrets: the compacted text and the result are wiped on drop.
fn decode_base64_wiped(text: &str) -> Option<Zeroizing<Vec<u8>>> {
    // Sized up front: a growing buffer would leave unwiped copies of key text behind.
    let mut compact = Zeroizing::new(Vec::with_capacity(text.len()));
    compact.extend(text.bytes().filter(|b| !b.is_ascii_whitespace()));
    if compact.is_empty() {
        return None;
    }
    STANDARD.decode(&*compact).ok().map(Zeroizing::new)
}

/// A decoded block that may hold a private key: its bytes are wiped on drop.
#[derive(Clone)]
pub struct SecretBlock {
    /// The word(s) after `-----BEGIN `, e.g. `PRIVATE KEY`.
    pub label: Option<String>,
    /// The decoded bytes, wiped on drop.
    pub der: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for SecretBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretBlock").field("label", &self.label).field("len", &self.der.len()).finish()
    }
}

/// Reads every PEM block in `text`; if there is no armor at all, the whole text as bare base64.
pub fn decode_blocks(text: &str) -> Result<Vec<Block>, PemError> {
    Ok(decode_secret_blocks(text)?.into_iter().map(|b| Block { label: b.label, der: b.der.to_vec() }).collect())
}

/// [`decode_blocks`] for text that may hold a private key: every intermediate buffer and the
/// result are wiped on drop.
pub fn decode_secret_blocks(text: &str) -> Result<Vec<SecretBlock>, PemError> {
    if text.trim().is_empty() {
        return Err(PemError::Empty);
    }
    if !text.contains("-----BEGIN ") {
        let der = decode_base64_wiped(text).ok_or(PemError::Base64)?;
        return Ok(vec![SecretBlock { label: None, der }]);
    }
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + 11..];
        let label_end = after.find("-----").ok_or(PemError::Unterminated)?;
        let label = after[..label_end].trim().to_string();
        let body_start = &after[label_end + 5..];
        let end = body_start.find("-----END ").ok_or(PemError::Unterminated)?;
        let body = &body_start[..end];
        // Skip RFC 1421 headers such as "Proc-Type:" if any.
        let mut b64 = Zeroizing::new(String::with_capacity(body.len()));
        for line in body.lines().filter(|l| !l.contains(':')) {
            b64.push_str(line);
        }
        let der = decode_base64_wiped(&b64).ok_or(PemError::Base64)?;
        out.push(SecretBlock { label: Some(label), der });
        let tail = &body_start[end + 9..];
        rest = match tail.find("-----") {
            Some(i) => &tail[i + 5..],
            None => "",
        };
    }
    Ok(out)
}

/// Wraps DER as PEM with 64-column lines and a trailing newline. The intermediate base64 is
/// wiped and the result allocated once, so encoding a private key leaves no stray copies (wrap
/// the result in `Zeroizing` to wipe it too).
pub fn encode(label: &str, der: &[u8]) -> String {
    let b64 = Zeroizing::new(STANDARD.encode(der));
    let lines = b64.len().div_ceil(64);
    let mut s = String::with_capacity(2 * (label.len() + 16) + b64.len() + lines);
    for part in ["-----BEGIN ", label, "-----\n"] {
        s.push_str(part);
    }
    for chunk in b64.as_bytes().chunks(64) {
        s.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        s.push('\n');
    }
    for part in ["-----END ", label, "-----\n"] {
        s.push_str(part);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_and_armored() {
        let b = decode_blocks("AAEC\n").unwrap();
        assert_eq!(b[0].der, vec![0, 1, 2]);
        assert_eq!(b[0].label, None);
        let p = encode("X Y", &[9; 100]);
        let b = decode_blocks(&p).unwrap();
        assert_eq!(b[0].label.as_deref(), Some("X Y"));
        assert_eq!(b[0].der, vec![9; 100]);
        let two = format!("{p}junk\r\n{}", encode("Z", &[1]));
        assert_eq!(decode_blocks(&two).unwrap().len(), 2);
    }

    #[test]
    fn secret_blocks_are_wiped_and_encoding_allocates_once() {
        fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>(_: &T) {}
        let p = encode("PRIVATE KEY", &[7; 1217]);
        assert_eq!(p.len(), p.capacity(), "no reallocation left a copy behind");
        let b = decode_secret_blocks(&p).unwrap();
        wiped_on_drop(&b[0].der);
        assert_eq!(*b[0].der, vec![7; 1217]);
        assert!(!format!("{:?}", b[0]).contains("7, 7"));
        assert_eq!(decode_blocks(&p).unwrap()[0].der, vec![7; 1217]);
    }

    #[test]
    fn errors() {
        assert_eq!(decode_blocks("  \n").unwrap_err(), PemError::Empty);
        assert_eq!(decode_blocks("-----BEGIN X-----\nAAAA").unwrap_err(), PemError::Unterminated);
        assert_eq!(decode_blocks("not base64!").unwrap_err(), PemError::Base64);
    }
}
