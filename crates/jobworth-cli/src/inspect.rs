//! Reading key and certificate files to explain them: which format a private key is in (and what
//! it is when it is no usable RSA key), and the X.509 fields the protocol core has no use for
//! (subject, validity, the signed part) so that a certificate chain and its dates can be checked.

use alipay_v3::cert::CertInfo;
use alipay_v3::keys::PublicKey;

/// One DER element.
#[derive(Clone, Copy)]
struct Element<'a> {
    tag: u8,
    content: &'a [u8],
    /// Header and content.
    whole: &'a [u8],
}

/// Takes the next element off the front of `input` (definite lengths of up to four octets).
fn take<'a>(input: &mut &'a [u8]) -> Option<Element<'a>> {
    let data = *input;
    let (&tag, rest) = data.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, header) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let octets = usize::from(first & 0x7f);
        if octets == 0 || octets > 4 || rest.len() < octets {
            return None;
        }
        let len = rest[..octets].iter().fold(0usize, |n, &b| (n << 8) | usize::from(b));
        (len, 2 + octets)
    };
    let end = header.checked_add(len)?;
    let whole = data.get(..end)?;
    *input = &data[end..];
    Some(Element { tag, content: &whole[header..], whole })
}

/// The next element if it has `tag`.
fn take_tagged<'a>(input: &mut &'a [u8], tag: u8) -> Option<Element<'a>> {
    take(input).filter(|e| e.tag == tag)
}

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const OCTET_STRING: u8 = 0x04;
const OID: u8 = 0x06;
const BIT_STRING: u8 = 0x03;

/// OID contents (without tag and length) of the key algorithms worth naming.
const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const RSASSA_PSS: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a];
const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const SM2: &[u8] = &[0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x82, 0x2d];
const ED25519: &[u8] = &[0x2b, 0x65, 0x70];
const DSA: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x01];
/// `sha256WithRSAEncryption`, the signature of Alipay's and the sandbox's certificates.
const SHA256_WITH_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];

/// How the DER of a key was wrapped in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Armor {
    /// `-----BEGIN …-----` lines.
    Pem,
    /// One block of base64 without armor lines (what Alipay's key tool writes).
    Base64,
}

/// What a private key file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyForm {
    /// An RSA key; `pkcs8` false means PKCS#1 (`RSAPrivateKey`).
    Rsa { pkcs8: bool, armor: Armor, bits: usize },
    /// PKCS#8 encrypted with a password (`ENCRYPTED PRIVATE KEY`).
    EncryptedPkcs8,
    /// An elliptic-curve key (SEC1 `EC PRIVATE KEY`, or PKCS#8); `sm2` for the Chinese SM2 curve.
    Ec { sm2: bool },
    /// A PKCS#8 key of another algorithm, named.
    OtherAlgorithm(&'static str),
    /// A public key or a certificate where the private key belongs.
    NotPrivate,
    /// None of the above.
    Unknown,
}

impl KeyForm {
    /// Reads `text` (PEM or bare base64). Never fails: what cannot be read is [`KeyForm::Unknown`].
    pub fn of(text: &str) -> KeyForm {
        let Ok(blocks) = alipay_v3::pem::decode_secret_blocks(text) else { return KeyForm::Unknown };
        // `openssl ecparam -genkey` writes an EC PARAMETERS block before the key.
        let private = blocks.iter().find(|b| b.label.as_deref().is_some_and(|l| l.ends_with("PRIVATE KEY")));
        let Some(block) = private.or(blocks.first()) else { return KeyForm::Unknown };
        let armor = if block.label.is_some() { Armor::Pem } else { Armor::Base64 };
        match block.label.as_deref() {
            Some("ENCRYPTED PRIVATE KEY") => return KeyForm::EncryptedPkcs8,
            Some("EC PRIVATE KEY") => return KeyForm::Ec { sm2: false },
            Some(label) if !label.ends_with("PRIVATE KEY") => return KeyForm::NotPrivate,
            _ => {}
        }
        Self::of_der(&block.der, armor)
    }

    fn of_der(der: &[u8], armor: Armor) -> KeyForm {
        let mut input = der;
        let Some(outer) = take_tagged(&mut input, SEQUENCE) else { return KeyForm::Unknown };
        let mut fields = outer.content;
        let Some(first) = take(&mut fields) else { return KeyForm::Unknown };
        if first.tag == SEQUENCE {
            // EncryptedPrivateKeyInfo: { AlgorithmIdentifier, OCTET STRING }; a certificate or an
            // SPKI also starts with a SEQUENCE, but is followed by another SEQUENCE or a BIT STRING.
            return match take(&mut fields).map(|e| e.tag) {
                Some(OCTET_STRING) => KeyForm::EncryptedPkcs8,
                _ => KeyForm::NotPrivate,
            };
        }
        if first.tag != INTEGER {
            return KeyForm::Unknown;
        }
        let Some(second) = take(&mut fields) else { return KeyForm::Unknown };
        match (first.content, second.tag) {
            // RSAPrivateKey: version 0, then the modulus.
            ([0], INTEGER) => KeyForm::Rsa { pkcs8: false, armor, bits: integer_bits(second.content) },
            // SEC1 ECPrivateKey: version 1, then the private value.
            ([1], OCTET_STRING) => KeyForm::Ec { sm2: false },
            // PrivateKeyInfo (version 0) or OneAsymmetricKey (version 1).
            ([0] | [1], SEQUENCE) => {
                let mut alg = second.content;
                let oid = take_tagged(&mut alg, OID).map(|e| e.content).unwrap_or_default();
                match oid {
                    RSA_ENCRYPTION => {
                        let inner = take_tagged(&mut fields, OCTET_STRING).map(|e| e.content).unwrap_or_default();
                        match Self::of_der(inner, armor) {
                            KeyForm::Rsa { bits, .. } => KeyForm::Rsa { pkcs8: true, armor, bits },
                            _ => KeyForm::Unknown,
                        }
                    }
                    EC_PUBLIC_KEY => KeyForm::Ec { sm2: take_tagged(&mut alg, OID).is_some_and(|c| c.content == SM2) },
                    RSASSA_PSS => KeyForm::OtherAlgorithm("RSASSA-PSS (an RSA key restricted to PSS signatures)"),
                    ED25519 => KeyForm::OtherAlgorithm("Ed25519"),
                    DSA => KeyForm::OtherAlgorithm("DSA"),
                    _ => KeyForm::OtherAlgorithm("an algorithm other than RSA"),
                }
            }
            _ => KeyForm::Unknown,
        }
    }

    /// The format in words, e.g. `PKCS#8 PEM (BEGIN PRIVATE KEY)`.
    pub fn format(&self) -> String {
        match self {
            KeyForm::Rsa { pkcs8: false, armor: Armor::Pem, .. } => "PKCS#1 PEM (BEGIN RSA PRIVATE KEY)".into(),
            KeyForm::Rsa { pkcs8: true, armor: Armor::Pem, .. } => "PKCS#8 PEM (BEGIN PRIVATE KEY)".into(),
            KeyForm::Rsa { pkcs8: false, armor: Armor::Base64, .. } => "PKCS#1 DER as bare base64".into(),
            KeyForm::Rsa { pkcs8: true, armor: Armor::Base64, .. } => "PKCS#8 DER as bare base64".into(),
            KeyForm::EncryptedPkcs8 => "encrypted PKCS#8 (BEGIN ENCRYPTED PRIVATE KEY)".into(),
            KeyForm::Ec { sm2: true } => "an SM2 (elliptic-curve) key".into(),
            KeyForm::Ec { sm2: false } => "an EC (elliptic-curve) key".into(),
            KeyForm::OtherAlgorithm(name) => format!("a PKCS#8 {name} key"),
            KeyForm::NotPrivate => "a public key or certificate, not a private key".into(),
            KeyForm::Unknown => "not a recognised private key".into(),
        }
    }

    /// What is wrong with a key in this form and how to fix it, when the form itself is the
    /// problem (the key is not an RSA key of 2048 bits or more).
    pub fn problem(&self) -> Option<Problem> {
        const NEW: &str = "make a new pair with `jobworth keys generate` and register its public key";
        let (what, fix) = match self {
            KeyForm::Rsa { bits, .. } if *bits < 2048 => {
                (format!("RSA key is {bits} bits; Alipay needs 2048 bits or more"), NEW.to_string())
            }
            KeyForm::Rsa { .. } | KeyForm::Unknown => return None,
            KeyForm::EncryptedPkcs8 => (
                "the key is encrypted PKCS#8 (BEGIN ENCRYPTED PRIVATE KEY)".into(),
                "decrypt it first: `openssl pkcs8 -in ENCRYPTED.pem -out app_private_key.pem` asks for the password"
                    .into(),
            ),
            KeyForm::Ec { .. } => (
                format!("this is {}; Alipay's RSA2 signatures need an RSA key of 2048 bits or more", self.format()),
                NEW.into(),
            ),
            KeyForm::OtherAlgorithm(_) => {
                (format!("this is {}; Alipay's RSA2 needs an RSA key", self.format()), NEW.into())
            }
            KeyForm::NotPrivate => (
                "this is a public key or a certificate".into(),
                "give the app's private key here (the public half is what Alipay holds)".into(),
            ),
        };
        Some(Problem { what, fix })
    }
}

/// What is wrong, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub what: String,
    pub fix: String,
}

/// Bits of an unsigned big-endian INTEGER.
fn integer_bits(content: &[u8]) -> usize {
    let significant: &[u8] = match content.iter().position(|&b| b != 0) {
        Some(i) => &content[i..],
        None => return 0,
    };
    (significant.len() - 1) * 8 + (8 - significant[0].leading_zeros() as usize)
}

/// A certificate with the fields a chain check needs, next to what the protocol core reads.
pub struct Certificate {
    /// Issuer DN, serial, SN and key, as the protocol core reads them.
    pub info: CertInfo,
    tbs: Vec<u8>,
    signed_with_sha256_rsa: bool,
    signature: Vec<u8>,
    issuer: Vec<u8>,
    subject: Vec<u8>,
    /// `notBefore` and `notAfter`, seconds since the Unix epoch.
    pub validity: (i64, i64),
}

impl Certificate {
    fn from_der(der: &[u8]) -> Result<Self, String> {
        let info = CertInfo::from_der(der).map_err(|e| e.to_string())?;
        let malformed = || "certificate DER is malformed".to_string();
        let mut input = der;
        let mut cert = take_tagged(&mut input, SEQUENCE).ok_or_else(malformed)?.content;
        let tbs = take_tagged(&mut cert, SEQUENCE).ok_or_else(malformed)?;
        let mut alg = take_tagged(&mut cert, SEQUENCE).ok_or_else(malformed)?.content;
        let alg = take_tagged(&mut alg, OID).ok_or_else(malformed)?.content;
        let signature = take_tagged(&mut cert, BIT_STRING).ok_or_else(malformed)?.content;
        let mut fields = tbs.content;
        // An explicit version comes first; the serial (read by the core already) follows.
        if take(&mut fields).ok_or_else(malformed)?.tag == 0xa0 {
            take(&mut fields).ok_or_else(malformed)?;
        }
        take_tagged(&mut fields, SEQUENCE).ok_or_else(malformed)?; // signature algorithm
        let issuer = take_tagged(&mut fields, SEQUENCE).ok_or_else(malformed)?;
        let mut validity = take_tagged(&mut fields, SEQUENCE).ok_or_else(malformed)?.content;
        let not_before = take(&mut validity).and_then(time).ok_or("certificate validity is unreadable")?;
        let not_after = take(&mut validity).and_then(time).ok_or("certificate validity is unreadable")?;
        let subject = take_tagged(&mut fields, SEQUENCE).ok_or_else(malformed)?;
        Ok(Certificate {
            info,
            tbs: tbs.whole.to_vec(),
            signed_with_sha256_rsa: alg == SHA256_WITH_RSA,
            signature: signature.get(1..).unwrap_or_default().to_vec(),
            issuer: issuer.whole.to_vec(),
            subject: subject.whole.to_vec(),
            validity: (not_before, not_after),
        })
    }

    /// Issuer and subject are the same name: a root (or at least self-issued) certificate.
    pub fn is_self_issued(&self) -> bool {
        self.issuer == self.subject
    }

    /// Whether `issuer` signed this certificate (SHA256withRSA, the only algorithm checked).
    pub fn is_signed_by(&self, issuer: &Certificate) -> bool {
        self.issuer == issuer.subject
            && self.signed_with_sha256_rsa
            && issuer.info.public_key().is_ok_and(|key| verify(&key, &self.tbs, &self.signature))
    }
}

/// The one call into the protocol core's signature check.
fn verify(key: &PublicKey, message: &[u8], signature: &[u8]) -> bool {
    key.verify_raw(message, signature).is_ok()
}

/// Every certificate in a file: PEM (one or more blocks), bare base64 or raw DER.
pub fn certificates(bytes: &[u8]) -> Result<Vec<Certificate>, String> {
    let ders: Vec<Vec<u8>> = if bytes.first() == Some(&SEQUENCE) {
        vec![bytes.to_vec()]
    } else {
        let text = std::str::from_utf8(bytes).map_err(|_| "neither PEM text nor DER".to_string())?;
        let blocks = alipay_v3::pem::decode_blocks(text).map_err(|e| e.as_str().to_string())?;
        blocks
            .into_iter()
            .filter(|b| b.label.as_deref().is_none_or(|l| l == "CERTIFICATE" || l == "X509 CERTIFICATE"))
            .map(|b| b.der)
            .collect()
    };
    if ders.is_empty() {
        return Err("no certificate found".into());
    }
    ders.iter().map(|d| Certificate::from_der(d)).collect()
}

/// UTCTime or GeneralizedTime (`…Z`) as seconds since the Unix epoch.
fn time(e: Element<'_>) -> Option<i64> {
    let text = std::str::from_utf8(e.content).ok()?.strip_suffix('Z')?;
    let (year, rest) = match e.tag {
        0x17 => {
            let yy: i64 = text.get(..2)?.parse().ok()?;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, text.get(2..)?)
        }
        0x18 => (text.get(..4)?.parse().ok()?, text.get(4..)?),
        _ => return None,
    };
    if rest.len() != 10 || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let field = |i: usize| rest[i..i + 2].parse::<i64>().ok();
    let (month, day, hour, minute, second) = (field(0)?, field(2)?, field(4)?, field(6)?, field(8)?);
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DD` of a Unix time (UTC).
pub fn date(secs: i64) -> String {
    let z = secs.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../alipay-v3/tests/fixtures/");

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!("{FIXTURES}{name}")).unwrap()
    }

    #[test]
    fn key_forms_of_the_fixtures() {
        let text = |n| String::from_utf8(fixture(n)).unwrap();
        assert_eq!(
            KeyForm::of(&text("app-private-key-pkcs1.pem")),
            KeyForm::Rsa { pkcs8: false, armor: Armor::Pem, bits: 2048 }
        );
        assert_eq!(
            KeyForm::of(&text("app-private-key-pkcs8-bare.txt")),
            KeyForm::Rsa { pkcs8: true, armor: Armor::Base64, bits: 2048 }
        );
        assert_eq!(KeyForm::of(&text("app-public-key.pem")), KeyForm::NotPrivate);
        assert_eq!(KeyForm::of(&text("alipayRootCert.crt")), KeyForm::NotPrivate);
        assert_eq!(KeyForm::of(&text("alipay-stable-rsa2-public-key-bare.txt")), KeyForm::NotPrivate);
        assert_eq!(KeyForm::of("hello"), KeyForm::Unknown);
        assert_eq!(
            KeyForm::of(&alipay_v3::pem::encode("PRIVATE KEY", &[0x30, 0x03, 0x02, 0x01, 0x00])),
            KeyForm::Unknown
        );
        assert!(KeyForm::Rsa { pkcs8: true, armor: Armor::Pem, bits: 2048 }.problem().is_none());
        let small = KeyForm::Rsa { pkcs8: true, armor: Armor::Pem, bits: 1024 }.problem().unwrap();
        assert_eq!(small.what, "RSA key is 1024 bits; Alipay needs 2048 bits or more");
    }

    #[test]
    fn bits_and_dates() {
        assert_eq!(integer_bits(&[0x00, 0x80, 0]), 16);
        assert_eq!(integer_bits(&[0x01]), 1);
        assert_eq!(integer_bits(&[0, 0]), 0);
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(days_from_civil(2049, 12, 31) * 86_400 + 86_399), "2049-12-31");
        assert_eq!(date(days_from_civil(2024, 2, 29) * 86_400), "2024-02-29");
        assert_eq!(time(Element { tag: 0x17, content: b"200514144201Z", whole: &[] }), Some(1_589_467_321));
        assert_eq!(
            time(Element { tag: 0x18, content: b"20491231235959Z", whole: &[] }).map(date).unwrap(),
            "2049-12-31"
        );
        assert_eq!(time(Element { tag: 0x17, content: b"2005141442Z", whole: &[] }), None);
    }

    #[test]
    fn fixture_certificates() {
        let alipay = certificates(&fixture("alipayCertPublicKey_RSA2.crt")).unwrap();
        assert_eq!(alipay.len(), 1);
        assert!(!alipay[0].is_self_issued());
        // `openssl x509 -dates`: May 14 14:42:01 2020 GMT to May 14 14:42:01 2022 GMT.
        assert_eq!(alipay[0].validity, (1_589_467_321, 1_589_467_321 + 730 * 86_400));
        let roots = certificates(&fixture("alipayRootCert.crt")).unwrap();
        assert_eq!(roots.len(), 4);
        assert!(roots.iter().all(Certificate::is_self_issued));
        // The leaf's issuer (an intermediate CA) is not in the bundle.
        assert!(!roots.iter().any(|r| alipay[0].is_signed_by(r)));
        assert!(certificates(b"not a certificate").is_err());
    }
}
