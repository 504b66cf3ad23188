//! Certificate mode: certificate SNs exactly as the official SDKs compute them, and the public
//! key inside a certificate.
//!
//! `SN = hex(md5(IssuerDN + SerialDecimal))` with the issuer in RFC 2253 order (last RDN first),
//! short attribute names and `,` separators. The root SN joins the SNs of the RSA-signed
//! certificates of the bundle, in file order, with `_`.
//!
//! ```
//! # use alipay_v3::cert;
//! let pem = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/alipayCertPublicKey_RSA2.crt")).unwrap();
//! assert_eq!(cert::cert_sn(&pem).unwrap(), "7513daaaa48aa3ba2e4018d84402479c");
//! ```

use md5::{Digest, Md5};

use crate::der::{self, Reader};
use crate::error::CertError;
use crate::pem;

/// What the protocol needs from one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// Issuer in RFC 2253 order with short names, e.g. `CN=…,OU=…,O=…,C=CN`.
    pub issuer_dn: String,
    /// Serial number as an unsigned decimal string.
    pub serial_decimal: String,
    /// Dotted OID of the certificate's signature algorithm.
    pub signature_algorithm_oid: String,
    /// The `SubjectPublicKeyInfo` DER.
    pub spki_der: Vec<u8>,
}

/// Longest serial number accepted, in octets (RFC 5280 §4.1.2.2).
const MAX_SERIAL_OCTETS: usize = 20;

impl CertInfo {
    /// Reads one certificate from DER.
    pub fn from_der(der: &[u8]) -> Result<Self, CertError> {
        let mut cert = der::single(der, der::SEQUENCE).map_err(CertError::Der)?;
        let tbs = cert.expect(der::SEQUENCE).map_err(CertError::Der)?;
        let sig_alg = cert.expect(der::SEQUENCE).map_err(CertError::Der)?;
        let sig_oid = Reader::new(sig_alg.content).expect(der::OID).map_err(CertError::Der)?;
        let signature_algorithm_oid = der::oid_string(sig_oid.content).map_err(CertError::Der)?;

        let mut tbs = Reader::new(tbs.content);
        let mut first = tbs.read().map_err(CertError::Der)?;
        if first.tag == 0xa0 {
            first = tbs.read().map_err(CertError::Der)?;
        }
        if first.tag != der::INTEGER {
            return Err(CertError::Der("serial number is not an INTEGER"));
        }
        // RFC 5280 caps serials at 20 octets; the decimal conversion is quadratic in the length,
        // so a longer one (a hostile certificate) is refused before it runs.
        let significant = first.content.iter().skip_while(|&&b| b == 0).count();
        if significant > MAX_SERIAL_OCTETS {
            return Err(CertError::Der("serial number is longer than 20 octets (RFC 5280)"));
        }
        let serial_decimal = der::be_to_decimal(first.content);
        tbs.expect(der::SEQUENCE).map_err(CertError::Der)?; // signature
        let issuer = tbs.expect(der::SEQUENCE).map_err(CertError::Der)?;
        let issuer_dn = rfc2253(issuer.content)?;
        tbs.expect(der::SEQUENCE).map_err(CertError::Der)?; // validity
        tbs.expect(der::SEQUENCE).map_err(CertError::Der)?; // subject
        let spki = tbs.expect(der::SEQUENCE).map_err(CertError::Der)?;
        Ok(CertInfo { issuer_dn, serial_decimal, signature_algorithm_oid, spki_der: spki.raw.to_vec() })
    }

    /// The exact string that is hashed: issuer DN followed by the decimal serial.
    pub fn md5_input(&self) -> String {
        format!("{}{}", self.issuer_dn, self.serial_decimal)
    }

    /// This certificate's SN (32 lower-case hex characters).
    pub fn sn(&self) -> String {
        crate::hex(&Md5::digest(self.md5_input().as_bytes()))
    }

    /// Whether the certificate is signed with an RSA-family algorithm (`1.2.840.113549.1.1.*`).
    pub fn is_rsa_signed(&self) -> bool {
        // The official SDKs compare the OID as a string prefix; keep their exact rule.
        self.signature_algorithm_oid.starts_with("1.2.840.113549.1.1")
    }

    /// The certificate's public key.
    pub fn public_key(&self) -> Result<crate::keys::PublicKey, crate::KeyError> {
        crate::keys::PublicKey::from_spki_der(&self.spki_der)
    }
}

/// Every certificate in PEM text (any line length) or a single DER/bare-base64 certificate.
pub fn parse_bundle(text: &str) -> Result<Vec<CertInfo>, CertError> {
    let blocks = pem::decode_blocks(text).map_err(|e| match e {
        pem::PemError::Base64 => CertError::Base64,
        _ => CertError::NoCertificate,
    })?;
    let certs: Vec<&pem::Block> = blocks
        .iter()
        .filter(|b| b.label.as_deref().is_none_or(|l| l == "CERTIFICATE" || l == "X509 CERTIFICATE"))
        .collect();
    if certs.is_empty() {
        return Err(CertError::NoCertificate);
    }
    certs.into_iter().map(|b| CertInfo::from_der(&b.der)).collect()
}

/// Parses a certificate file given as bytes: PEM text or raw DER.
pub fn parse_bundle_bytes(bytes: &[u8]) -> Result<Vec<CertInfo>, CertError> {
    if bytes.first() == Some(&der::SEQUENCE) {
        return Ok(vec![CertInfo::from_der(bytes)?]);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| CertError::NoCertificate)?;
    parse_bundle(text)
}

/// SN of the first certificate in `text` (app cert → `app_cert_sn`, Alipay cert → `alipay-sn`).
pub fn cert_sn(text: &str) -> Result<String, CertError> {
    Ok(parse_bundle(text)?[0].sn())
}

/// Root SN of a bundle: SNs of the RSA-signed certificates in file order, joined with `_`.
pub fn root_cert_sn(text: &str) -> Result<String, CertError> {
    let sns: Vec<String> = parse_bundle(text)?.iter().filter(|c| c.is_rsa_signed()).map(CertInfo::sn).collect();
    if sns.is_empty() {
        return Err(CertError::NoRsaRoot);
    }
    Ok(sns.join("_"))
}

fn short_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.11" => "OU",
        "2.5.4.10" => "O",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "STREET",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        _ => return None,
    })
}

fn rfc2253(name: &[u8]) -> Result<String, CertError> {
    let mut rdns = Vec::new();
    let mut r = Reader::new(name);
    while !r.is_empty() {
        let set = r.expect(der::SET).map_err(CertError::Der)?;
        let mut attrs = Vec::new();
        let mut s = Reader::new(set.content);
        while !s.is_empty() {
            let atv = s.expect(der::SEQUENCE).map_err(CertError::Der)?;
            let mut a = Reader::new(atv.content);
            let oid = a.expect(der::OID).map_err(CertError::Der)?;
            let oid = der::oid_string(oid.content).map_err(CertError::Der)?;
            let value = a.read().map_err(CertError::Der)?;
            let text = string_value(value.tag, value.content)?;
            let key = short_name(&oid).map(str::to_string).unwrap_or(oid);
            attrs.push(format!("{key}={}", escape(&text)));
        }
        rdns.push(attrs.join("+"));
    }
    rdns.reverse();
    Ok(rdns.join(","))
}

fn string_value(tag: u8, content: &[u8]) -> Result<String, CertError> {
    match tag {
        // BMPString: UTF-16BE
        0x1e => {
            if content.len() % 2 != 0 {
                return Err(CertError::Der("odd BMPString"));
            }
            let units: Vec<u16> = content.chunks(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
            String::from_utf16(&units).map_err(|_| CertError::Der("bad BMPString"))
        }
        // UTF8String, PrintableString, T61String, IA5String, VisibleString, NumericString
        0x0c | 0x13 | 0x14 | 0x16 | 0x1a | 0x12 => {
            String::from_utf8(content.to_vec()).map_err(|_| CertError::Der("attribute value is not UTF-8"))
        }
        _ => Err(CertError::Der("unsupported attribute value type")),
    }
}

fn escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let n = v.chars().count();
    for (i, c) in v.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=')
            || (i == 0 && (c == '#' || c == ' '))
            || (i + 1 == n && c == ' ');
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_an_error() {
        assert!(parse_bundle("").is_err());
        assert!(parse_bundle("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----").is_err());
        assert!(parse_bundle_bytes(&[0x30, 0x80]).is_err());
        assert_eq!(escape("a,b"), "a\\,b");
    }

    /// DER TLV with a definite length.
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let n = content.len();
        if n < 0x80 {
            out.push(n as u8);
        } else {
            let bytes: Vec<u8> = n.to_be_bytes().iter().copied().skip_while(|&b| b == 0).collect();
            out.push(0x80 | bytes.len() as u8);
            out.extend(bytes);
        }
        out.extend_from_slice(content);
        out
    }

    fn cert_with_serial(serial: &[u8]) -> Vec<u8> {
        let tbs = tlv(der::SEQUENCE, &tlv(der::INTEGER, serial));
        let alg = tlv(der::SEQUENCE, &tlv(der::OID, &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b]));
        tlv(der::SEQUENCE, &[tbs, alg, tlv(der::BIT_STRING, &[0])].concat())
    }

    /// A megabyte-long serial used to take minutes in the decimal conversion; it is refused at once.
    #[test]
    fn overlong_serials_are_refused_fast() {
        let t = std::time::Instant::now();
        let e = CertInfo::from_der(&cert_with_serial(&vec![0x7f; 1 << 20])).unwrap_err();
        assert!(e.to_string().contains("20 octets"), "{e}");
        assert!(t.elapsed() < std::time::Duration::from_millis(200), "{:?}", t.elapsed());
        let e = CertInfo::from_der(&cert_with_serial(&[0x7f; 21])).unwrap_err();
        assert!(e.to_string().contains("20 octets"), "{e}");
        // 20 octets, and 21 with the leading zero of a positive INTEGER, get past the serial check.
        for serial in [vec![0x7f; 20], [vec![0], vec![0xff; 20]].concat()] {
            let e = CertInfo::from_der(&cert_with_serial(&serial)).unwrap_err();
            assert!(!e.to_string().contains("20 octets"), "{e}");
        }
    }
}
