//! The sandbox's "Alipay" key and its small CA: root → Alipay certificate, plus app
//! certificates issued over the public keys apps register.
//!
//! Names use only C, O, OU, CN with plain ASCII values so every official SDK computes the same
//! SN. SNs are computed with `alipay_v3::cert`, the code the SDK uses.

use std::fmt;

use alipay_v3::cert;
use alipay_v3::keys::{PrivateKey, PublicKey};
use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DistinguishedName, DnType, DnValue, IsCa, KeyPair,
    KeyUsagePurpose, PublicKeyData, SerialNumber, SignatureAlgorithm,
};
use x509_cert::der::Decode;
use x509_cert::spki::SubjectPublicKeyInfoRef;

use crate::store::KeyRow;

/// Building or loading the CA failed.
#[derive(Debug, thiserror::Error)]
pub enum CaError {
    /// A key could not be generated or read.
    #[error("key: {0}")]
    Key(#[from] alipay_v3::KeyError),
    /// rcgen refused to build a certificate.
    #[error("certificate: {0}")]
    Rcgen(#[from] rcgen::Error),
    /// A stored certificate could not be read back.
    #[error("certificate: {0}")]
    Cert(#[from] alipay_v3::CertError),
    /// The stored state is inconsistent.
    #[error("stored keys are inconsistent: {0}")]
    Inconsistent(&'static str),
}

const ORG: &str = jobworth_wire::SANDBOX_CA_ORGANIZATION;
const ROOT_CN: &str = "Jobworth Sandbox Root CA R1";

/// The key material the sandbox signs with, loaded once at start.
pub struct SandboxKeys {
    /// Signs every response (`alipay-signature`).
    pub alipay_key: PrivateKey,
    /// SPKI PEM of the Alipay key.
    pub alipay_public_key_pem: String,
    /// The Alipay certificate (PEM).
    pub alipay_cert_pem: String,
    /// Its SN (`alipay-sn`).
    pub alipay_cert_sn: String,
    /// The root certificate (PEM) — the whole "root bundle".
    pub root_cert_pem: String,
    /// Root SN (`alipay-root-cert-sn`).
    pub root_cert_sn: String,
    root_key: KeyPair,
    root_issuer: Certificate,
}

impl fmt::Debug for SandboxKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxKeys")
            .field("alipay_key", &self.alipay_key)
            .field("alipay_cert_sn", &self.alipay_cert_sn)
            .field("root_cert_sn", &self.root_cert_sn)
            .finish_non_exhaustive()
    }
}

/// An RSA public key as rcgen wants it: the PKCS#1 `RSAPublicKey` inside an SPKI.
struct RsaPublic {
    pkcs1: Vec<u8>,
}

impl RsaPublic {
    fn new(key: &PublicKey) -> Result<Self, CaError> {
        let pkcs1 = spki_subject_public_key(key.spki_der()).ok_or(CaError::Inconsistent("SPKI is malformed"))?;
        Ok(RsaPublic { pkcs1: pkcs1.to_vec() })
    }
}

impl PublicKeyData for RsaPublic {
    fn der_bytes(&self) -> &[u8] {
        &self.pkcs1
    }

    fn algorithm(&self) -> &SignatureAlgorithm {
        &rcgen::PKCS_RSA_SHA256
    }
}

/// The BIT STRING payload of a `SubjectPublicKeyInfo` (for RSA: the PKCS#1 `RSAPublicKey`).
fn spki_subject_public_key(spki: &[u8]) -> Option<&[u8]> {
    SubjectPublicKeyInfoRef::from_der(spki).ok()?.subject_public_key.as_bytes()
}

fn rcgen_key(key: &PrivateKey) -> Result<KeyPair, CaError> {
    let der = key.to_pkcs8_der();
    let pair = KeyPair::try_from(der.as_slice())?;
    if pair.algorithm() != &rcgen::PKCS_RSA_SHA256 {
        return Err(CaError::Inconsistent("CA key is not an RSA key"));
    }
    Ok(pair)
}

fn random_serial() -> SerialNumber {
    let mut b = [0u8; 16];
    aws_lc_rs::rand::fill(&mut b).expect("system random number generator unavailable");
    // Positive, and never a leading zero byte: serial numbers are positive INTEGERs.
    b[0] = (b[0] & 0x7f).max(1);
    SerialNumber::from_slice(&b)
}

fn name(ou: &str, cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    // PrintableString for C as RFC 5280 wants; "CN" always converts.
    match rcgen::PrintableString::try_from("CN") {
        Ok(c) => dn.push(DnType::CountryName, DnValue::PrintableString(c)),
        Err(_) => dn.push(DnType::CountryName, "CN"),
    }
    dn.push(DnType::OrganizationName, ORG);
    dn.push(DnType::OrganizationalUnitName, ou);
    dn.push(DnType::CommonName, cn);
    dn
}

fn base_params(dn: DistinguishedName) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = dn;
    p.not_before = rcgen::date_time_ymd(2024, 1, 1);
    p.not_after = rcgen::date_time_ymd(2049, 12, 31);
    p.serial_number = Some(random_serial());
    p
}

fn root_params() -> CertificateParams {
    let mut p = base_params(name("Certification Authority", ROOT_CN));
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    p
}

fn leaf_params(ou: &str, cn: &str) -> CertificateParams {
    let mut p = base_params(name(ou, cn));
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.use_authority_key_identifier_extension = true;
    p
}

/// Generates the Alipay key, the root key and both certificates (first start).
pub fn generate() -> Result<KeyRow, CaError> {
    let alipay = PrivateKey::generate()?;
    let root = PrivateKey::generate()?;
    let root_kp = rcgen_key(&root)?;
    let root_cert = root_params().self_signed(&root_kp)?;
    let alipay_cert = leaf_params("Alipay Open Platform", "Jobworth Sandbox Alipay RSA2").signed_by(
        &RsaPublic::new(&alipay.public_key())?,
        &root_cert,
        &root_kp,
    )?;
    Ok(KeyRow {
        alipay_key_pkcs8: alipay.to_pkcs8_der().to_vec(),
        root_key_pkcs8: root.to_pkcs8_der().to_vec(),
        root_cert_pem: root_cert.pem(),
        alipay_cert_pem: alipay_cert.pem(),
    })
}

impl SandboxKeys {
    /// Loads the stored keys and checks that they belong together.
    pub fn load(row: &KeyRow) -> Result<Self, CaError> {
        let alipay_key = PrivateKey::from_der(&row.alipay_key_pkcs8)?;
        let root = PrivateKey::from_der(&row.root_key_pkcs8)?;
        let alipay_info = cert::parse_bundle(&row.alipay_cert_pem)?.remove(0);
        if alipay_info.spki_der != alipay_key.public_key().spki_der() {
            return Err(CaError::Inconsistent("the Alipay certificate does not hold the Alipay key"));
        }
        let root_info = cert::parse_bundle(&row.root_cert_pem)?.remove(0);
        if root_info.spki_der != root.public_key().spki_der() {
            return Err(CaError::Inconsistent("the root certificate does not hold the root key"));
        }
        let root_key = rcgen_key(&root)?;
        // rcgen signs with an issuer `Certificate`; only its name and key matter, and both are
        // the stored root's, so a fresh self-signed twin serves as the issuer handle.
        let root_issuer = root_params().self_signed(&root_key)?;
        Ok(SandboxKeys {
            alipay_public_key_pem: alipay_key.public_key().to_spki_pem(),
            alipay_cert_sn: alipay_info.sn(),
            root_cert_sn: cert::root_cert_sn(&row.root_cert_pem)?,
            alipay_cert_pem: row.alipay_cert_pem.clone(),
            root_cert_pem: row.root_cert_pem.clone(),
            alipay_key,
            root_key,
            root_issuer,
        })
    }

    /// Issues an app certificate over `key`; returns (PEM, SN).
    pub fn issue_app_cert(&self, app_id: &str, key: &PublicKey) -> Result<(String, String), CaError> {
        let params = leaf_params("Merchant Apps", app_id);
        let c = params.signed_by(&RsaPublic::new(key)?, &self.root_issuer, &self.root_key)?;
        let pem = c.pem();
        let sn = cert::cert_sn(&pem)?;
        Ok((pem, sn))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ca_round_trip() {
        let row = generate().unwrap();
        let keys = SandboxKeys::load(&row).unwrap();
        let root = &cert::parse_bundle(&keys.root_cert_pem).unwrap()[0];
        assert_eq!(root.issuer_dn, "CN=Jobworth Sandbox Root CA R1,OU=Certification Authority,O=Jobworth Sandbox,C=CN");
        assert_eq!(root.signature_algorithm_oid, "1.2.840.113549.1.1.11");
        assert_eq!(keys.root_cert_sn, root.sn());
        let alipay = &cert::parse_bundle(&keys.alipay_cert_pem).unwrap()[0];
        assert_eq!(alipay.issuer_dn, root.issuer_dn);
        assert_eq!(alipay.public_key().unwrap(), keys.alipay_key.public_key());
        assert_eq!(keys.alipay_cert_sn, alipay.sn());
        assert!(!alipay.serial_decimal.starts_with('-') && alipay.serial_decimal != root.serial_decimal);

        // App certs carry exactly the registered key, with fresh serials.
        let app_key = keys.alipay_key.public_key();
        let (pem1, sn1) = keys.issue_app_cert("2021000000000001", &app_key).unwrap();
        let (_, sn2) = keys.issue_app_cert("2021000000000001", &app_key).unwrap();
        assert_ne!(sn1, sn2);
        let info = &cert::parse_bundle(&pem1).unwrap()[0];
        assert_eq!(info.spki_der, app_key.spki_der());
        assert_eq!(info.issuer_dn, root.issuer_dn);
        assert_eq!(sn1, info.sn());

        // Loading again gives the same SNs (nothing is regenerated).
        let again = SandboxKeys::load(&row).unwrap();
        assert_eq!(again.alipay_cert_sn, keys.alipay_cert_sn);
        assert_eq!(again.root_cert_sn, keys.root_cert_sn);
        assert!(!format!("{keys:?}").contains("PRIVATE"));

        // Mismatched rows are refused.
        let mut bad = row.clone();
        bad.alipay_key_pkcs8 = row.root_key_pkcs8.clone();
        assert!(matches!(SandboxKeys::load(&bad), Err(CaError::Inconsistent(_))));
    }

    #[test]
    fn spki_parsing() {
        assert_eq!(spki_subject_public_key(&[]), None);
        // rsaEncryption, NULL parameters, an empty key.
        let empty_key = [
            0x30, 0x12, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00, 0x03,
            0x01, 0x00,
        ];
        assert_eq!(spki_subject_public_key(&empty_key), Some(&[][..]));
        // An algorithm identifier without its OID is no SPKI.
        assert_eq!(spki_subject_public_key(&[0x30, 0x05, 0x30, 0x00, 0x03, 0x01, 0x00]), None);
        assert_eq!(spki_subject_public_key(&[0x30, 0x85, 0, 0, 0, 0, 0]), None);
        assert_eq!(spki_subject_public_key(&[0x30, 0x10, 0x30]), None);
        // A real key: the payload is its PKCS#1 form, which aws-lc reads back as the same key.
        let key = PrivateKey::generate().unwrap().public_key();
        let pkcs1 = spki_subject_public_key(key.spki_der()).unwrap();
        assert_eq!(PublicKey::from_der(pkcs1).unwrap(), key);
    }
}
