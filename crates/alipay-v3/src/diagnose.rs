//! Why a signature did not verify, told from the signature itself.
//!
//! Applying the RSA public operation of the expected key to a signature recovers the PKCS#1 v1.5
//! block the signer encoded. A well-formed block means the signer held this key and signed another
//! message (or hashed with another algorithm); anything else means another key made it. Only public
//! values are involved, so plain (variable-time) big-number arithmetic is fine here.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use num_bigint::BigUint;

use crate::keys::PublicKey;

/// The hash a recovered PKCS#1 v1.5 `DigestInfo` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestAlgorithm {
    /// MD5.
    Md5,
    /// SHA-1 (what Alipay's legacy `RSA` sign type uses).
    Sha1,
    /// SHA-224.
    Sha224,
    /// SHA-256 (what `RSA2` and v3 use).
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl DigestAlgorithm {
    /// The conventional name (`SHA-256`).
    pub fn name(self) -> &'static str {
        match self {
            DigestAlgorithm::Md5 => "MD5",
            DigestAlgorithm::Sha1 => "SHA-1",
            DigestAlgorithm::Sha224 => "SHA-224",
            DigestAlgorithm::Sha256 => "SHA-256",
            DigestAlgorithm::Sha384 => "SHA-384",
            DigestAlgorithm::Sha512 => "SHA-512",
        }
    }
}

/// What a signature that was checked against `message` with a key turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureDiagnosis {
    /// It verifies: nothing to explain.
    Valid,
    /// Made with this key over another message (`digest` SHA-256), or with another hash.
    WrongMessage {
        /// The hash the signer used.
        digest: DigestAlgorithm,
    },
    /// Made with another key (or it is no RSA signature at all).
    WrongKey,
    /// Not base64.
    NotBase64,
}

/// `DER(DigestInfo)` prefixes: with the `NULL` parameters (the usual form) and without.
const PREFIXES: &[(DigestAlgorithm, &[u8])] = &[
    (
        DigestAlgorithm::Sha256,
        &[
            0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04,
            0x20,
        ],
    ),
    (
        DigestAlgorithm::Sha256,
        &[0x30, 0x2f, 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x04, 0x20],
    ),
    (
        DigestAlgorithm::Sha1,
        &[0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14],
    ),
    (DigestAlgorithm::Sha1, &[0x30, 0x1f, 0x30, 0x07, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x04, 0x14]),
    (
        DigestAlgorithm::Sha384,
        &[
            0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04,
            0x30,
        ],
    ),
    (
        DigestAlgorithm::Sha512,
        &[
            0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04,
            0x40,
        ],
    ),
    (
        DigestAlgorithm::Sha224,
        &[
            0x30, 0x2d, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x04, 0x05, 0x00, 0x04,
            0x1c,
        ],
    ),
    (
        DigestAlgorithm::Md5,
        &[0x30, 0x20, 0x30, 0x0c, 0x06, 0x08, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x05, 0x05, 0x00, 0x04, 0x10],
    ),
];

/// Checks a base64 SHA256withRSA signature over `message` and, when it does not verify, tells a
/// signature made with another key from one made with this key over another message.
pub fn diagnose_signature(key: &PublicKey, message: &[u8], signature_b64: &str) -> SignatureDiagnosis {
    let Ok(signature) = STANDARD.decode(signature_b64.trim().as_bytes()) else {
        return SignatureDiagnosis::NotBase64;
    };
    if key.verify_raw(message, &signature).is_ok() {
        return SignatureDiagnosis::Valid;
    }
    match recover_digest(key, &signature) {
        Some(digest) => SignatureDiagnosis::WrongMessage { digest },
        None => SignatureDiagnosis::WrongKey,
    }
}

/// The hash named by the PKCS#1 v1.5 block `signature` opens to under `key`, if it is one.
pub fn recover_digest(key: &PublicKey, signature: &[u8]) -> Option<DigestAlgorithm> {
    let rsa = aws_lc_rs::rsa::PublicKey::from_der(key.spki_der()).ok()?;
    let k = rsa.modulus_len();
    // A signature of another size was made with another key.
    if signature.len() != k {
        return None;
    }
    let n = BigUint::from_bytes_be(rsa.modulus().big_endian_without_leading_zero());
    let e = BigUint::from_bytes_be(rsa.exponent().big_endian_without_leading_zero());
    let s = BigUint::from_bytes_be(signature);
    if s >= n {
        return None;
    }
    let m = s.modpow(&e, &n).to_bytes_be();
    if m.len() > k {
        return None;
    }
    // EM = 00 01 FF…FF 00 DigestInfo; `to_bytes_be` drops the leading 00.
    let mut em = vec![0u8; k - m.len()];
    em.extend_from_slice(&m);
    let rest = em.strip_prefix(&[0x00, 0x01])?;
    let ff = rest.iter().take_while(|&&b| b == 0xff).count();
    if ff < 8 {
        return None;
    }
    let info = rest[ff..].strip_prefix(&[0x00])?;
    PREFIXES.iter().find_map(|(alg, prefix)| {
        let digest = info.strip_prefix(*prefix)?;
        (digest.len() == usize::from(prefix[prefix.len() - 1])).then_some(*alg)
    })
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{KeyPair, RsaKeyPair, RSA_PKCS1_SHA512};

    use super::*;
    use crate::keys::PrivateKey;

    fn fixture_key() -> PrivateKey {
        let text = include_str!("../tests/fixtures/app-private-key-pkcs8-bare.txt");
        PrivateKey::parse(text).unwrap()
    }

    #[test]
    fn a_valid_signature_is_valid() {
        let key = fixture_key();
        let sig = key.sign(b"abc");
        assert_eq!(diagnose_signature(&key.public_key(), b"abc", &sig), SignatureDiagnosis::Valid);
    }

    #[test]
    fn same_key_other_message_is_a_wrong_message() {
        let key = fixture_key();
        let sig = key.sign(b"what the client signed");
        assert_eq!(
            diagnose_signature(&key.public_key(), b"what the server verified", &sig),
            SignatureDiagnosis::WrongMessage { digest: DigestAlgorithm::Sha256 }
        );
    }

    #[test]
    fn another_key_is_a_wrong_key() {
        let signer = PrivateKey::generate().unwrap();
        let sig = signer.sign(b"abc");
        assert_eq!(diagnose_signature(&fixture_key().public_key(), b"abc", &sig), SignatureDiagnosis::WrongKey);
    }

    #[test]
    fn another_hash_is_named() {
        let der = fixture_key().to_pkcs8_der();
        let pair = RsaKeyPair::from_pkcs8(&der).unwrap();
        let mut sig = vec![0u8; pair.public_modulus_len()];
        pair.sign(&RSA_PKCS1_SHA512, &SystemRandom::new(), b"abc", &mut sig).unwrap();
        let public = PublicKey::from_der(pair.public_key().as_ref()).unwrap();
        assert_eq!(
            recover_digest(&public, &sig),
            Some(DigestAlgorithm::Sha512),
            "a SHA-512 signature opens to a SHA-512 DigestInfo"
        );
        assert_eq!(
            diagnose_signature(&public, b"abc", &STANDARD.encode(&sig)),
            SignatureDiagnosis::WrongMessage { digest: DigestAlgorithm::Sha512 }
        );
    }

    #[test]
    fn garbage_is_not_a_signature() {
        let public = fixture_key().public_key();
        assert_eq!(diagnose_signature(&public, b"abc", "%%%"), SignatureDiagnosis::NotBase64);
        assert_eq!(diagnose_signature(&public, b"abc", &STANDARD.encode([7u8; 16])), SignatureDiagnosis::WrongKey);
        assert_eq!(diagnose_signature(&public, b"abc", &STANDARD.encode([0xffu8; 256])), SignatureDiagnosis::WrongKey);
        assert_eq!(diagnose_signature(&public, b"abc", &STANDARD.encode([0u8; 256])), SignatureDiagnosis::WrongKey);
    }
}
