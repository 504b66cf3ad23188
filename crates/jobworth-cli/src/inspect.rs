//! Reading key and certificate files to explain them: which format a private key is in (and what
//! it is when it is no usable RSA key), and the certificates of a file with the fields a chain
//! and date check needs. The structure is decoded by the protocol core (RustCrypto's parsers);
//! this module puts it into words.

use alipay_v3::cert::CertDetails;
use alipay_v3::keys::{PrivateKeyFormat, PrivateKeyKind};

/// A certificate with the fields a chain check needs, next to what the protocol core reads.
pub type Certificate = CertDetails;

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
        let kind = alipay_v3::keys::private_key_kind(&block.der);
        match (block.label.as_deref(), kind) {
            (Some("ENCRYPTED PRIVATE KEY"), _) => KeyForm::EncryptedPkcs8,
            (Some("EC PRIVATE KEY"), PrivateKeyKind::Ec { sm2 }) => KeyForm::Ec { sm2 },
            (Some("EC PRIVATE KEY"), _) => KeyForm::Ec { sm2: false },
            (Some(label), _) if !label.ends_with("PRIVATE KEY") => KeyForm::NotPrivate,
            (_, kind) => Self::of_kind(kind, armor),
        }
    }

    fn of_kind(kind: PrivateKeyKind, armor: Armor) -> KeyForm {
        match kind {
            PrivateKeyKind::Rsa { format, bits } => {
                KeyForm::Rsa { pkcs8: format == PrivateKeyFormat::Pkcs8, armor, bits }
            }
            PrivateKeyKind::EncryptedPkcs8 => KeyForm::EncryptedPkcs8,
            PrivateKeyKind::Ec { sm2 } => KeyForm::Ec { sm2 },
            PrivateKeyKind::RsaPss => KeyForm::OtherAlgorithm("RSASSA-PSS (an RSA key restricted to PSS signatures)"),
            PrivateKeyKind::Ed25519 => KeyForm::OtherAlgorithm("Ed25519"),
            PrivateKeyKind::Dsa => KeyForm::OtherAlgorithm("DSA"),
            PrivateKeyKind::OtherAlgorithm => KeyForm::OtherAlgorithm("an algorithm other than RSA"),
            PrivateKeyKind::NotPrivate => KeyForm::NotPrivate,
            PrivateKeyKind::Unknown => KeyForm::Unknown,
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

/// Every certificate in a file: PEM (one or more blocks), bare base64 or raw DER.
pub fn certificates(bytes: &[u8]) -> Result<Vec<Certificate>, String> {
    alipay_v3::cert::details_bundle_bytes(bytes).map_err(|e| e.to_string())
}

/// `YYYY-MM-DD` of a Unix time (UTC); `?` outside what X.509 times can hold.
pub fn date(secs: u64) -> String {
    match der::DateTime::from_unix_duration(std::time::Duration::from_secs(secs)) {
        Ok(t) => format!("{:04}-{:02}-{:02}", t.year(), t.month(), t.day()),
        Err(_) => "?".into(),
    }
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
    fn dates() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(1_589_467_321), "2020-05-14");
        assert_eq!(date(2_524_607_999), "2049-12-31");
        assert_eq!(date(1_709_164_800), "2024-02-29");
        assert_eq!(date(u64::MAX), "?");
    }

    #[test]
    fn fixture_certificates() {
        let alipay = certificates(&fixture("alipayCertPublicKey_RSA2.crt")).unwrap();
        assert_eq!(alipay.len(), 1);
        assert!(!alipay[0].is_self_issued());
        // `openssl x509 -dates`: May 14 14:42:01 2020 GMT to May 14 14:42:01 2022 GMT.
        assert_eq!((alipay[0].not_before, alipay[0].not_after), (1_589_467_321, 1_589_467_321 + 730 * 86_400));
        let roots = certificates(&fixture("alipayRootCert.crt")).unwrap();
        assert_eq!(roots.len(), 4);
        assert!(roots.iter().all(Certificate::is_self_issued));
        // The leaf's issuer (an intermediate CA) is not in the bundle.
        assert!(!roots.iter().any(|r| alipay[0].is_signed_by(r)));
        assert!(certificates(b"not a certificate").is_err());
    }
}
