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

use der::asn1::{AnyRef, IntRef, ObjectIdentifier};
use der::{Decode, Encode, Header, SliceReader, Tag, TagNumber, Tagged};
use md5::{Digest, Md5};
use x509_cert::name::Name;
use x509_cert::Certificate;

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
        Self::from_cert(&decode(der)?)
    }

    fn from_cert(cert: &Certificate) -> Result<Self, CertError> {
        let tbs = cert.tbs_certificate();
        Ok(CertInfo {
            issuer_dn: rfc2253(tbs.issuer())?,
            serial_decimal: be_to_decimal(tbs.serial_number().as_bytes()),
            signature_algorithm_oid: cert.signature_algorithm().oid.to_string(),
            spki_der: tbs.subject_public_key_info().to_der().map_err(der_error)?,
        })
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

/// Decodes one certificate, its serial looked at first.
fn decode(der: &[u8]) -> Result<Certificate, CertError> {
    // RFC 5280 caps serials at 20 octets and the decimal conversion is quadratic in the
    // length: the serial is looked at first, so a longer one (a hostile certificate) is
    // refused by name before anything else is decoded or converted.
    if serial_octets(der).map_err(der_error)? > MAX_SERIAL_OCTETS {
        return Err(CertError::Der("serial number is longer than 20 octets (RFC 5280)"));
    }
    Certificate::from_der(der).map_err(der_error)
}

/// `sha256WithRSAEncryption`, the signature algorithm of Alipay's and the sandbox's certificates.
const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");

/// A certificate with what checking a chain and its dates needs, beside what the protocol reads.
#[derive(Debug, Clone)]
pub struct CertDetails {
    /// Issuer DN, serial, SN and key, as the protocol reads them.
    pub info: CertInfo,
    /// Subject in RFC 2253 order with short names, like [`CertInfo::issuer_dn`].
    pub subject_dn: String,
    /// `notBefore`, seconds since the Unix epoch.
    pub not_before: u64,
    /// `notAfter`, seconds since the Unix epoch.
    pub not_after: u64,
    issuer: Name,
    subject: Name,
    tbs_der: Vec<u8>,
    signature: Vec<u8>,
    sha256_with_rsa: bool,
}

impl CertDetails {
    /// Reads one certificate from DER.
    pub fn from_der(der: &[u8]) -> Result<Self, CertError> {
        let cert = decode(der)?;
        let tbs = cert.tbs_certificate();
        let validity = tbs.validity();
        Ok(CertDetails {
            info: CertInfo::from_cert(&cert)?,
            // Display only (the SN is made of the issuer): a subject value the strict renderer
            // refuses, say Latin-1 in a TeletexString, is shown the library's way instead of
            // failing the whole certificate (found by the `cert` fuzz target).
            subject_dn: rfc2253(tbs.subject()).unwrap_or_else(|_| tbs.subject().to_string()),
            not_before: validity.not_before.to_unix_duration().as_secs(),
            not_after: validity.not_after.to_unix_duration().as_secs(),
            issuer: tbs.issuer().clone(),
            subject: tbs.subject().clone(),
            tbs_der: tbs.to_der().map_err(der_error)?,
            signature: cert.signature().raw_bytes().to_vec(),
            sha256_with_rsa: cert.signature_algorithm().oid == SHA256_WITH_RSA,
        })
    }

    /// Issuer and subject are the same name: a root (or at least self-issued) certificate.
    pub fn is_self_issued(&self) -> bool {
        self.issuer == self.subject
    }

    /// Whether `issuer` signed this certificate (SHA256withRSA, the only algorithm checked).
    pub fn is_signed_by(&self, issuer: &CertDetails) -> bool {
        self.issuer == issuer.subject
            && self.sha256_with_rsa
            && issuer.info.public_key().is_ok_and(|key| key.verify_raw(&self.tbs_der, &self.signature).is_ok())
    }
}

/// Every certificate of a file given as bytes (PEM text, bare base64 or raw DER), with details.
pub fn details_bundle_bytes(bytes: &[u8]) -> Result<Vec<CertDetails>, CertError> {
    bundle_ders(bytes)?.iter().map(|der| CertDetails::from_der(der)).collect()
}

/// Every certificate in PEM text (any line length) or a single DER/bare-base64 certificate.
pub fn parse_bundle(text: &str) -> Result<Vec<CertInfo>, CertError> {
    text_ders(text)?.iter().map(|der| CertInfo::from_der(der)).collect()
}

/// Parses a certificate file given as bytes: PEM text or raw DER.
pub fn parse_bundle_bytes(bytes: &[u8]) -> Result<Vec<CertInfo>, CertError> {
    bundle_ders(bytes)?.iter().map(|der| CertInfo::from_der(der)).collect()
}

/// The DER of each certificate in a file: raw DER, or text as [`text_ders`] reads it.
fn bundle_ders(bytes: &[u8]) -> Result<Vec<Vec<u8>>, CertError> {
    if bytes.first() == Some(&0x30) {
        return Ok(vec![bytes.to_vec()]);
    }
    text_ders(std::str::from_utf8(bytes).map_err(|_| CertError::NoCertificate)?)
}

/// The DER of each certificate block of PEM text (or of one bare base64 certificate).
fn text_ders(text: &str) -> Result<Vec<Vec<u8>>, CertError> {
    let blocks = pem::decode_blocks(text).map_err(|e| match e {
        pem::PemError::Base64 => CertError::Base64,
        _ => CertError::NoCertificate,
    })?;
    let ders: Vec<Vec<u8>> = blocks
        .into_iter()
        .filter(|b| b.label.as_deref().is_none_or(|l| l == "CERTIFICATE" || l == "X509 CERTIFICATE"))
        .map(|b| b.der)
        .collect();
    if ders.is_empty() {
        return Err(CertError::NoCertificate);
    }
    Ok(ders)
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

/// The serial's significant octets, read ahead of the full decode.
fn serial_octets(der: &[u8]) -> der::Result<usize> {
    let mut r = SliceReader::new(der)?;
    Header::decode(&mut r)?; // Certificate
    Header::decode(&mut r)?; // TBSCertificate
    if Tag::peek(&r)? == (Tag::ContextSpecific { constructed: true, number: TagNumber(0) }) {
        AnyRef::decode(&mut r)?; // version
    }
    let serial = IntRef::decode(&mut r)?;
    Ok(serial.as_bytes().iter().skip_while(|&&b| b == 0).count())
}

/// The parser's error as a fixed text (it never quotes the input).
fn der_error(e: der::Error) -> CertError {
    use der::ErrorKind as K;
    CertError::Der(match e.kind() {
        K::Incomplete { .. } => "truncated element",
        K::TrailingData { .. } => "trailing data",
        K::IndefiniteLength => "indefinite length",
        K::Length { .. } | K::Overlength | K::Overflow => "bad length",
        K::Noncanonical { .. } => "not in canonical DER form",
        K::TagUnexpected { .. } | K::TagUnknown { .. } | K::TagNumberInvalid => "unexpected element",
        K::OidMalformed => "malformed OID",
        K::DateTime => "bad validity time",
        K::SetOrdering => "SET OF out of order",
        K::Utf8(_) => "string is not UTF-8",
        K::Value { .. } => "value out of range",
        _ => "not an X.509 certificate",
    })
}

/// Unsigned big-endian bytes to decimal (the serial, as the official SDKs print it).
fn be_to_decimal(bytes: &[u8]) -> String {
    let mut num: Vec<u8> = bytes.iter().copied().skip_while(|&b| b == 0).collect();
    if num.is_empty() {
        return "0".into();
    }
    let mut digits = Vec::new();
    while !num.is_empty() {
        let mut rem = 0u32;
        let mut next = Vec::with_capacity(num.len());
        for &b in &num {
            let cur = (rem << 8) | b as u32;
            let q = cur / 10;
            rem = cur % 10;
            if !(next.is_empty() && q == 0) {
                next.push(q as u8);
            }
        }
        digits.push(b'0' + rem as u8);
        num = next;
    }
    digits.reverse();
    String::from_utf8(digits).unwrap_or_default()
}

/// The issuer as the official SDKs print it: last RDN first, short names, `,` between RDNs and
/// `+` inside one, values escaped.
fn rfc2253(name: &Name) -> Result<String, CertError> {
    let mut rdns = Vec::with_capacity(name.len());
    for rdn in name.iter_rdn() {
        let mut attrs = Vec::with_capacity(rdn.len());
        for atv in rdn.iter() {
            let oid = atv.oid.to_string();
            let text = string_value(atv.value.tag(), atv.value.value())?;
            let key = short_name(&oid).map(str::to_string).unwrap_or(oid);
            attrs.push(format!("{key}={}", escape(&text)));
        }
        rdns.push(attrs.join("+"));
    }
    rdns.reverse();
    Ok(rdns.join(","))
}

fn string_value(tag: Tag, content: &[u8]) -> Result<String, CertError> {
    match tag {
        // UTF-16BE
        Tag::BmpString => {
            if content.len() % 2 != 0 {
                return Err(CertError::Der("odd BMPString"));
            }
            let units: Vec<u16> = content.chunks(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
            String::from_utf16(&units).map_err(|_| CertError::Der("bad BMPString"))
        }
        Tag::Utf8String
        | Tag::PrintableString
        | Tag::TeletexString
        | Tag::Ia5String
        | Tag::VisibleString
        | Tag::NumericString => {
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

    const SEQUENCE: u8 = 0x30;
    const INTEGER: u8 = 0x02;
    const OID: u8 = 0x06;
    const BIT_STRING: u8 = 0x03;

    #[test]
    fn decimal() {
        assert_eq!(be_to_decimal(&[0]), "0");
        assert_eq!(be_to_decimal(&[0x01, 0x00]), "256");
        assert_eq!(be_to_decimal(&[0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), "18446744073709551615");
    }

    #[test]
    fn fixture_fields() {
        let pem = include_str!("../tests/fixtures/alipayCertPublicKey_RSA2.crt");
        let c = &parse_bundle(pem).unwrap()[0];
        assert_eq!(c.signature_algorithm_oid, "1.2.840.113549.1.1.11");
        assert!(c.is_rsa_signed());
        assert_eq!(c.public_key().unwrap().spki_der(), c.spki_der.as_slice());
    }

    #[test]
    fn fixture_details() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/");
        let alipay =
            details_bundle_bytes(&std::fs::read(format!("{dir}alipayCertPublicKey_RSA2.crt")).unwrap()).unwrap();
        // `openssl x509 -dates`: May 14 14:42:01 2020 GMT to May 14 14:42:01 2022 GMT.
        assert_eq!((alipay[0].not_before, alipay[0].not_after), (1_589_467_321, 1_589_467_321 + 730 * 86_400));
        assert_eq!(
            alipay[0].info,
            parse_bundle_bytes(&std::fs::read(format!("{dir}alipayCertPublicKey_RSA2.crt")).unwrap()).unwrap()[0]
        );
        assert!(!alipay[0].is_self_issued());
        let roots = details_bundle_bytes(&std::fs::read(format!("{dir}alipayRootCert.crt")).unwrap()).unwrap();
        assert!(roots.iter().all(CertDetails::is_self_issued));
        // Self-signed roots verify with their own key, except the ones not signed with SHA256withRSA.
        let signed: Vec<bool> = roots.iter().map(|r| r.is_signed_by(r)).collect();
        let sha256: Vec<bool> = roots.iter().map(|r| r.sha256_with_rsa).collect();
        assert_eq!(signed, sha256);
        assert!(signed.iter().any(|&s| s));
        assert!(roots.iter().all(|r| r.subject_dn == r.info.issuer_dn));
        assert!(!roots.iter().any(|r| alipay[0].is_signed_by(r)));
    }

    #[test]
    fn truncated_and_overlong_elements_are_errors() {
        for bad in [&[0x30, 0x05, 0x01][..], &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff], &[0x30], &[0x02, 0x01, 0x05]] {
            assert!(matches!(CertInfo::from_der(bad), Err(CertError::Der(_))), "{bad:02x?}");
        }
    }

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
        let tbs = tlv(SEQUENCE, &tlv(INTEGER, serial));
        let alg = tlv(SEQUENCE, &tlv(OID, &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b]));
        tlv(SEQUENCE, &[tbs, alg, tlv(BIT_STRING, &[0])].concat())
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
