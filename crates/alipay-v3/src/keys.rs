//! RSA keys: the app private key (signing) and public keys (verifying).
//!
//! Input is sniffed, not trusted: PEM or bare base64, PKCS#1 or PKCS#8, any line wrapping;
//! public keys as SPKI, PKCS#1 or inside an X.509 certificate.

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{self, KeyPair as _, ParsedPublicKey, RSA_PKCS1_SHA256};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use zeroize::Zeroizing;

use der::asn1::AnyRef;
use der::{Decode, Reader, SliceReader, Tag, Tagged};

use crate::error::{KeyError, SignatureError};
use crate::pem;

const RSA_ENCRYPTION_OID: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

/// Which DER structure a private key arrived in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrivateKeyFormat {
    /// `RSAPrivateKey` (RFC 8017), PEM label `RSA PRIVATE KEY`.
    Pkcs1,
    /// `PrivateKeyInfo` (RFC 5208), PEM label `PRIVATE KEY`.
    Pkcs8,
}

/// An RSA private key that signs with SHA256withRSA (PKCS#1 v1.5). Cheap to clone.
///
/// `Debug` prints only the size and the public key's fingerprint, never key material.
#[derive(Clone)]
pub struct PrivateKey {
    inner: Arc<KeyPair>,
    public: PublicKey,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey(RSA-{}, <redacted>)", self.inner.public_modulus_len() * 8)
    }
}

impl PrivateKey {
    /// Parses PEM (`RSA PRIVATE KEY` or `PRIVATE KEY`) or bare base64, PKCS#1 or PKCS#8.
    ///
    /// ```
    /// # use alipay_v3::keys::PrivateKey;
    /// let generated = PrivateKey::generate().unwrap();
    /// let again = PrivateKey::parse(&generated.to_pkcs8_pem()).unwrap();
    /// assert_eq!(again.public_key(), generated.public_key());
    /// assert!(PrivateKey::parse("hello").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        // Every buffer holding the key's text or DER is wiped on drop.
        let blocks = pem::decode_secret_blocks(text).map_err(|e| match e {
            pem::PemError::Empty => KeyError::Empty,
            other => KeyError::Encoding(other.as_str()),
        })?;
        let block = blocks
            .iter()
            .find(|b| b.label.as_deref().is_none_or(|l| l.ends_with("PRIVATE KEY")))
            .ok_or_else(|| KeyError::WrongPemLabel(blocks.first().and_then(|b| b.label.clone()).unwrap_or_default()))?;
        Self::from_der(&block.der)
    }

    /// Parses DER, sniffing PKCS#1 vs PKCS#8.
    pub fn from_der(der: &[u8]) -> Result<Self, KeyError> {
        let pair = match sniff_private(der)? {
            PrivateKeyFormat::Pkcs8 => KeyPair::from_pkcs8(der),
            PrivateKeyFormat::Pkcs1 => KeyPair::from_der(der),
        }
        .map_err(|e| KeyError::Rejected(e.to_string()))?;
        Self::from_pair(pair)
    }

    fn from_pair(pair: KeyPair) -> Result<Self, KeyError> {
        if pair.public_modulus_len() < 256 {
            return Err(KeyError::Rejected("RSA keys must be at least 2048 bits".into()));
        }
        let spki = pair.public_key().as_der().map_err(|_| KeyError::Generate)?;
        let public = PublicKey::from_spki_der(spki.as_ref())?;
        Ok(PrivateKey { inner: Arc::new(pair), public })
    }

    /// A new RSA-2048 key (e = 65537).
    pub fn generate() -> Result<Self, KeyError> {
        let pair = KeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyError::Generate)?;
        Self::from_pair(pair)
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        self.public.clone()
    }

    /// PKCS#8 DER, in a buffer that is wiped on drop.
    pub fn to_pkcs8_der(&self) -> Zeroizing<Vec<u8>> {
        // Serialising a key that aws-lc already holds cannot fail short of memory exhaustion.
        Zeroizing::new(self.inner.as_der().map(|d| d.as_ref().to_vec()).unwrap_or_default())
    }

    /// PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), wiped on drop.
    pub fn to_pkcs8_pem(&self) -> Zeroizing<String> {
        Zeroizing::new(pem::encode("PRIVATE KEY", &self.to_pkcs8_der()))
    }

    /// PKCS#8 as one bare base64 line (the form Alipay's key tool hands out).
    pub fn to_pkcs8_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(STANDARD.encode(&*self.to_pkcs8_der()))
    }

    /// SHA256withRSA signature of `message`, standard base64.
    pub fn sign(&self, message: &[u8]) -> String {
        let mut sig = vec![0u8; self.inner.public_modulus_len()];
        let rng = aws_lc_rs::rand::SystemRandom::new();
        // Signing with a validated key into a buffer of modulus length has no failure mode
        // other than aws-lc internal corruption.
        self.inner.sign(&RSA_PKCS1_SHA256, &rng, message, &mut sig).expect("RSA signing with a validated key failed");
        STANDARD.encode(&sig)
    }
}

/// Tells PKCS#1 from PKCS#8 by structure. Non-RSA PKCS#8 keys are refused here.
pub fn sniff_private(der: &[u8]) -> Result<PrivateKeyFormat, KeyError> {
    const EXPECTED: KeyError = KeyError::Format { expected: "a PKCS#1 or PKCS#8 RSA private key" };
    let mut seq = sequence(der).ok_or(EXPECTED)?;
    let version = element(&mut seq, Some(Tag::Integer)).ok_or(EXPECTED)?;
    if version.value() != [0] {
        return Err(EXPECTED);
    }
    let next = element(&mut seq, None).ok_or(EXPECTED)?;
    match next.tag() {
        Tag::Integer => Ok(PrivateKeyFormat::Pkcs1),
        Tag::Sequence => {
            let mut alg = SliceReader::new(next.value()).map_err(|_| EXPECTED)?;
            let oid = element(&mut alg, Some(Tag::ObjectIdentifier)).ok_or(EXPECTED)?;
            if oid.value() != RSA_ENCRYPTION_OID {
                return Err(KeyError::Format { expected: "an RSA key (this PKCS#8 key is another algorithm)" });
            }
            Ok(PrivateKeyFormat::Pkcs8)
        }
        _ => Err(EXPECTED),
    }
}

/// What the DER of a would-be private key holds, as far as its structure tells: enough to say
/// what a file is when it is not a usable RSA key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrivateKeyKind {
    /// An RSA private key of `bits` bits (not checked further).
    Rsa {
        /// The structure it arrived in.
        format: PrivateKeyFormat,
        /// Modulus size.
        bits: usize,
    },
    /// `EncryptedPrivateKeyInfo`: PKCS#8 encrypted with a password.
    EncryptedPkcs8,
    /// An elliptic-curve key (SEC1 `ECPrivateKey`, or PKCS#8); `sm2` for the Chinese SM2 curve.
    Ec {
        /// The curve is SM2.
        sm2: bool,
    },
    /// PKCS#8 of RSASSA-PSS (an RSA key restricted to PSS signatures).
    RsaPss,
    /// PKCS#8 of Ed25519.
    Ed25519,
    /// PKCS#8 of DSA.
    Dsa,
    /// PKCS#8 of another algorithm.
    OtherAlgorithm,
    /// A public key (SPKI or PKCS#1) or a certificate.
    NotPrivate,
    /// None of the above.
    Unknown,
}

/// Names the structure of `der` by decoding it as each key and certificate format in turn.
///
/// ```
/// # use alipay_v3::keys::{private_key_kind, PrivateKey, PrivateKeyFormat, PrivateKeyKind};
/// let key = PrivateKey::generate().unwrap();
/// let kind = private_key_kind(&key.to_pkcs8_der());
/// assert_eq!(kind, PrivateKeyKind::Rsa { format: PrivateKeyFormat::Pkcs8, bits: 2048 });
/// assert_eq!(private_key_kind(key.public_key().spki_der()), PrivateKeyKind::NotPrivate);
/// ```
pub fn private_key_kind(der: &[u8]) -> PrivateKeyKind {
    use der::asn1::ObjectIdentifier as Oid;
    const RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
    const RSA_PSS: Oid = Oid::new_unwrap("1.2.840.113549.1.1.10");
    const EC: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
    const SM2: Oid = Oid::new_unwrap("1.2.156.10197.1.301");
    const ED25519: Oid = Oid::new_unwrap("1.3.101.112");
    const DSA: Oid = Oid::new_unwrap("1.2.840.10040.4.1");
    let rsa_bits = |der: &[u8]| {
        pkcs1::RsaPrivateKeyRef::from_der(der).ok().map(|k| {
            let n = k.modulus.as_bytes();
            n.first().map_or(0, |&top| n.len() * 8 - top.leading_zeros() as usize)
        })
    };
    if let Ok(info) = pkcs8::PrivateKeyInfoRef::from_der(der) {
        let curve = || info.algorithm.parameters.and_then(|p| p.decode_as::<Oid>().ok());
        return match info.algorithm.oid {
            RSA => match rsa_bits(info.private_key.as_bytes()) {
                Some(bits) => PrivateKeyKind::Rsa { format: PrivateKeyFormat::Pkcs8, bits },
                None => PrivateKeyKind::Unknown,
            },
            EC => PrivateKeyKind::Ec { sm2: curve() == Some(SM2) },
            RSA_PSS => PrivateKeyKind::RsaPss,
            ED25519 => PrivateKeyKind::Ed25519,
            DSA => PrivateKeyKind::Dsa,
            _ => PrivateKeyKind::OtherAlgorithm,
        };
    }
    if let Some(bits) = rsa_bits(der) {
        return PrivateKeyKind::Rsa { format: PrivateKeyFormat::Pkcs1, bits };
    }
    if let Ok(ec) = sec1::EcPrivateKey::from_der(der) {
        let sm2 = ec.parameters.and_then(|p| p.named_curve()) == Some(SM2);
        return PrivateKeyKind::Ec { sm2 };
    }
    if pkcs8::EncryptedPrivateKeyInfoRef::from_der(der).is_ok() {
        return PrivateKeyKind::EncryptedPkcs8;
    }
    if pkcs8::SubjectPublicKeyInfoRef::from_der(der).is_ok()
        || pkcs1::RsaPublicKeyRef::from_der(der).is_ok()
        || x509_cert::Certificate::from_der(der).is_ok()
    {
        return PrivateKeyKind::NotPrivate;
    }
    PrivateKeyKind::Unknown
}

/// Room for a decoded signature: 1024 bytes (RSA-8192, the largest key accepted) plus the slack
/// base64's length estimate needs.
const MAX_SIGNATURE_DECODE: usize = 1024 + 8;

/// An RSA public key that verifies SHA256withRSA signatures. Parsed once; cheap to clone.
#[derive(Clone)]
pub struct PublicKey {
    parsed: Arc<ParsedPublicKey>,
    spki: Arc<[u8]>,
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.spki == other.spki
    }
}
impl Eq for PublicKey {}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey(sha256:{})", &self.fingerprint()[..16])
    }
}

impl PublicKey {
    /// Parses SPKI or PKCS#1 public keys (PEM or bare base64), or takes the key of an X.509
    /// certificate (`-----BEGIN CERTIFICATE-----`).
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let blocks = pem::decode_blocks(text).map_err(|e| match e {
            pem::PemError::Empty => KeyError::Empty,
            other => KeyError::Encoding(other.as_str()),
        })?;
        let block = &blocks[0];
        match block.label.as_deref() {
            Some("CERTIFICATE") => {
                let info = crate::cert::CertInfo::from_der(&block.der)?;
                Self::from_spki_der(&info.spki_der)
            }
            Some("PUBLIC KEY") | Some("RSA PUBLIC KEY") | None => Self::from_der(&block.der),
            Some(other) => Err(KeyError::WrongPemLabel(other.to_string())),
        }
    }

    /// SPKI or PKCS#1 `RSAPublicKey` DER.
    pub fn from_der(der: &[u8]) -> Result<Self, KeyError> {
        const EXPECTED: KeyError = KeyError::Format { expected: "an SPKI or PKCS#1 RSA public key" };
        // aws-lc ignores bytes after the key: refuse them, so a key has one accepted encoding
        // (found by the `public_key` fuzz target).
        sequence(der).ok_or(EXPECTED)?;
        let rsa = aws_lc_rs::rsa::PublicKey::from_der(der).map_err(|_| EXPECTED)?;
        let spki = rsa.as_der().map_err(|_| KeyError::Format { expected: "an RSA public key" })?;
        Self::from_checked_spki(spki.as_ref())
    }

    /// SPKI DER (`SubjectPublicKeyInfo`).
    pub fn from_spki_der(spki: &[u8]) -> Result<Self, KeyError> {
        if !is_canonical_rsa_spki(spki) {
            // PKCS#1, another spelling of an RSA SPKI, or garbage: from_der normalises or fails,
            // so equal keys always hold equal bytes (found by the `public_key` fuzz target).
            return Self::from_der(spki);
        }
        Self::from_checked_spki(spki)
    }

    fn from_checked_spki(spki: &[u8]) -> Result<Self, KeyError> {
        // RSA2 verification takes 2048 to 8192 bits: refuse any other size here, where it can be
        // named, instead of failing every signature later.
        let bits = aws_lc_rs::rsa::PublicKey::from_der(spki)
            .map(|k| k.modulus_len() * 8)
            .map_err(|_| KeyError::Format { expected: "an RSA public key" })?;
        if !(2048..=8192).contains(&bits) {
            return Err(KeyError::Rejected(format!("the RSA key is {bits} bits; RSA2 needs 2048 to 8192")));
        }
        let parsed = ParsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, spki)
            .map_err(|e| KeyError::Rejected(e.to_string()))?;
        Ok(PublicKey { parsed: Arc::new(parsed), spki: spki.into() })
    }

    /// Verifies a base64 SHA256withRSA signature over `message`.
    pub fn verify(&self, message: &[u8], signature_b64: &str) -> Result<(), SignatureError> {
        // Decoded on the stack: this runs once per request on both sides (see BENCHMARKS.md).
        let mut buf = [0u8; MAX_SIGNATURE_DECODE];
        match STANDARD.decode_slice(signature_b64.as_bytes(), &mut buf) {
            Ok(n) => self.verify_raw(message, &buf[..n]),
            Err(base64::DecodeSliceError::DecodeError(_)) => Err(SignatureError::Base64),
            // Longer than any accepted key's signature (RSA-8192): decoded the slow way only to
            // report bad base64 as such; it cannot match.
            Err(base64::DecodeSliceError::OutputSliceTooSmall) => {
                let sig = STANDARD.decode(signature_b64.as_bytes()).map_err(|_| SignatureError::Base64)?;
                self.verify_raw(message, &sig)
            }
        }
    }

    /// Verifies a raw signature.
    pub fn verify_raw(&self, message: &[u8], signature: &[u8]) -> Result<(), SignatureError> {
        self.parsed.verify_sig(message, signature).map_err(|_| SignatureError::Mismatch)
    }

    /// SPKI DER.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// SPKI as one bare base64 line.
    pub fn to_spki_base64(&self) -> String {
        STANDARD.encode(&self.spki)
    }

    /// SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
    pub fn to_spki_pem(&self) -> String {
        pem::encode("PUBLIC KEY", &self.spki)
    }

    /// Hex SHA-256 of the SPKI, for logs.
    pub fn fingerprint(&self) -> String {
        crate::hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &self.spki).as_ref())
    }

    /// `SHA256:` followed by the SHA-256 of the SPKI DER as lower-case hex pairs joined by `:`
    /// (`SHA256:ab:cd:…`): the form people compare, printed by `jobworth keys fingerprint`.
    pub fn fingerprint_sha256(&self) -> String {
        let hex = self.fingerprint();
        let pairs: Vec<&str> = (0..hex.len()).step_by(2).map(|i| &hex[i..i + 2]).collect();
        format!("SHA256:{}", pairs.join(":"))
    }
}

/// `AlgorithmIdentifier { rsaEncryption, NULL }`, the only spelling DER allows.
const RSA_ALGORITHM_ID: &[u8] =
    &[0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00];

/// SPKI exactly as aws-lc writes it: the canonical RSA algorithm id, a BIT STRING, nothing else.
fn is_canonical_rsa_spki(der: &[u8]) -> bool {
    let Some(mut seq) = sequence(der) else { return false };
    // DER lengths are minimal, so the tag and content fix the whole encoding.
    element(&mut seq, Some(Tag::Sequence)).is_some_and(|alg| alg.value() == &RSA_ALGORITHM_ID[2..])
        && element(&mut seq, Some(Tag::BitString)).is_some()
        && seq.is_finished()
}

/// A reader over the content of `der`, which must be exactly one SEQUENCE.
fn sequence(der: &[u8]) -> Option<SliceReader<'_>> {
    let seq = AnyRef::from_der(der).ok().filter(|a| a.tag() == Tag::Sequence)?;
    SliceReader::new(seq.value()).ok()
}

/// The next element, when there is one (and it has `tag`, if given).
fn element<'a>(r: &mut SliceReader<'a>, tag: Option<Tag>) -> Option<AnyRef<'a>> {
    AnyRef::decode(r).ok().filter(|a| tag.is_none_or(|t| a.tag() == t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing() {
        assert_eq!(
            sniff_private(&[0x30, 0x03, 0x02, 0x01, 0x00]).unwrap_err(),
            KeyError::Format { expected: "a PKCS#1 or PKCS#8 RSA private key" }
        );
        assert!(sniff_private(&[]).is_err());
        assert!(sniff_private(&[0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x05]).is_ok());
    }

    #[test]
    fn kinds_of_keys() {
        let fixture = |name: &str| {
            let text =
                std::fs::read_to_string(format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
            pem::decode_blocks(&text).unwrap().remove(0).der
        };
        let rsa = |format| PrivateKeyKind::Rsa { format, bits: 2048 };
        assert_eq!(private_key_kind(&fixture("app-private-key-pkcs1.pem")), rsa(PrivateKeyFormat::Pkcs1));
        assert_eq!(private_key_kind(&fixture("app-private-key-pkcs8-bare.txt")), rsa(PrivateKeyFormat::Pkcs8));
        for public in ["app-public-key.pem", "alipay-stable-rsa2-public-key-bare.txt", "alipayRootCert.crt"] {
            assert_eq!(private_key_kind(&fixture(public)), PrivateKeyKind::NotPrivate, "{public}");
        }
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let ed = signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        assert_eq!(private_key_kind(ed.as_ref()), PrivateKeyKind::Ed25519);
        let ec = signature::EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        assert_eq!(private_key_kind(ec.as_ref()), PrivateKeyKind::Ec { sm2: false });
        for unknown in [&[0x30, 0x03, 0x02, 0x01, 0x00][..], &[], b"hello"] {
            assert_eq!(private_key_kind(unknown), PrivateKeyKind::Unknown);
        }
    }

    #[test]
    fn generated_round_trip() {
        let k = PrivateKey::generate().unwrap();
        let sig = k.sign(b"abc");
        k.public_key().verify(b"abc", &sig).unwrap();
        assert_eq!(k.public_key().verify(b"abd", &sig), Err(SignatureError::Mismatch));
        assert_eq!(k.public_key().verify(b"abc", "!!"), Err(SignatureError::Base64));
        // Valid base64 longer than any accepted key's signature: a mismatch, not a panic.
        let huge = STANDARD.encode(vec![7u8; 4096]);
        assert_eq!(k.public_key().verify(b"abc", &huge), Err(SignatureError::Mismatch));
        assert_eq!(k.public_key().verify(b"abc", &format!("{huge}!")), Err(SignatureError::Base64));
        let exactly_8192_bits = STANDARD.encode(vec![7u8; 1024]);
        assert_eq!(k.public_key().verify(b"abc", &exactly_8192_bits), Err(SignatureError::Mismatch));
        assert_eq!(k.public_key().verify(b"abc", ""), Err(SignatureError::Mismatch));
        let p = PublicKey::parse(&k.public_key().to_spki_pem()).unwrap();
        assert_eq!(p, k.public_key());
        let b = PublicKey::parse(&k.public_key().to_spki_base64()).unwrap();
        assert_eq!(b, k.public_key());
        let again = PrivateKey::parse(&k.to_pkcs8_base64()).unwrap();
        assert_eq!(again.public_key(), k.public_key());
        assert!(!format!("{k:?}").contains(&k.to_pkcs8_base64()[40..60]));
    }

    #[test]
    fn sha256_fingerprint_of_the_fixture_key() {
        // `openssl pkey -pubin -in app-public-key.pem -outform DER | sha256sum`
        let k = PublicKey::parse(include_str!("../tests/fixtures/app-public-key.pem")).unwrap();
        let expected = "ff9b07cc0cb25213905f0dcfc4cdcb8924e99de2f16a9cab5fe2baad2ffedd96";
        assert_eq!(k.fingerprint(), expected);
        let fp = k.fingerprint_sha256();
        assert_eq!(fp.len(), "SHA256:".len() + 32 * 3 - 1);
        assert_eq!(fp.strip_prefix("SHA256:").unwrap().replace(':', ""), expected);
        assert!(fp.starts_with("SHA256:ff:9b:07:cc:") && fp.ends_with(":dd:96"), "{fp}");
    }

    #[test]
    fn public_der_with_trailing_bytes_is_refused() {
        let k = PrivateKey::generate().unwrap().public_key();
        let mut der = k.spki_der().to_vec();
        der.extend_from_slice(&[0x02, 0x01, 0x00]);
        let expected = KeyError::Format { expected: "an SPKI or PKCS#1 RSA public key" };
        assert_eq!(PublicKey::from_der(&der).unwrap_err(), expected);
        assert_eq!(PublicKey::from_spki_der(&der).unwrap_err(), expected);
        assert!(PublicKey::parse(&STANDARD.encode(&der)).is_err());
        assert_eq!(PublicKey::from_der(k.spki_der()).unwrap(), k);
    }

    #[test]
    fn public_key_bytes_are_canonical() {
        let k = PrivateKey::generate().unwrap().public_key();
        assert!(is_canonical_rsa_spki(k.spki_der()));
        // Same key, algorithm parameters spelled 0d 00 instead of NULL: aws-lc accepts it.
        let mut odd = k.spki_der().to_vec();
        assert_eq!(&odd[4..19], RSA_ALGORITHM_ID);
        odd[17] = 0x0d;
        assert!(!is_canonical_rsa_spki(&odd));
        let p = PublicKey::from_spki_der(&odd).unwrap();
        assert_eq!(p, k);
        assert_eq!(p.spki_der(), k.spki_der());
    }
}
