//! AES-CBC content encryption as the v3 protocol defines it: zero IV, PKCS#7, base64.
//!
//! The fixed zero IV is a protocol requirement (every official SDK uses it); it lives only
//! in this module so nothing else can pick it up.

use std::fmt;

use aws_lc_rs::cipher::{
    DecryptionContext, EncryptionContext, PaddedBlockDecryptingKey, PaddedBlockEncryptingKey, UnboundCipherKey,
    AES_128, AES_192, AES_256,
};
use aws_lc_rs::iv::FixedLength;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use zeroize::Zeroizing;

use crate::error::AesError;

const ZERO_IV: [u8; 16] = [0u8; 16];

/// An AES content key (`encryptKey` in the official SDKs). Debug never shows it.
#[derive(Clone)]
pub struct AesKey {
    bytes: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for AesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AesKey(AES-{}, <redacted>)", self.bytes.len() * 8)
    }
}

impl PartialEq for AesKey {
    fn eq(&self, other: &Self) -> bool {
        aws_lc_rs::constant_time::verify_slices_are_equal(&self.bytes, &other.bytes).is_ok()
    }
}

impl AesKey {
    /// From the base64 text Alipay's console shows (16 bytes for AES-128; 24/32 also accepted).
    ///
    /// ```
    /// # use alipay_v3::aes::AesKey;
    /// let key = AesKey::from_base64("aYA0GP8JEW+D7/UFaskCWA==").unwrap();
    /// assert_eq!(key.encrypt(r#"{"a":"中文"}"#.as_bytes()), "TI5fGWVveeuELxAfOcy45g==");
    /// ```
    pub fn from_base64(text: &str) -> Result<Self, AesError> {
        let bytes = Zeroizing::new(STANDARD.decode(text.trim().as_bytes()).map_err(|_| AesError::Key)?);
        Self::from_bytes(&bytes)
    }

    /// From raw key bytes (16, 24 or 32).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, AesError> {
        match bytes.len() {
            16 | 24 | 32 => Ok(AesKey { bytes: Zeroizing::new(bytes.to_vec()) }),
            _ => Err(AesError::Key),
        }
    }

    /// A fresh random AES-128 key.
    pub fn generate() -> Self {
        let mut b = Zeroizing::new(vec![0u8; 16]);
        aws_lc_rs::rand::fill(&mut b).expect("system random number generator unavailable");
        AesKey { bytes: b }
    }

    /// The key as base64 (to hand to a peer; treat the result as a secret).
    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(STANDARD.encode(&*self.bytes))
    }

    fn unbound(&self) -> UnboundCipherKey {
        let alg = match self.bytes.len() {
            16 => &AES_128,
            24 => &AES_192,
            _ => &AES_256,
        };
        // Length is checked at construction.
        UnboundCipherKey::new(alg, &self.bytes).expect("AES key length validated")
    }

    /// Encrypts `plaintext` and returns standard base64 of the ciphertext.
    pub fn encrypt(&self, plaintext: &[u8]) -> String {
        let key = PaddedBlockEncryptingKey::cbc_pkcs7(self.unbound()).expect("AES-CBC key setup");
        let mut buf = plaintext.to_vec();
        key.less_safe_encrypt(&mut buf, EncryptionContext::Iv128(FixedLength::from(ZERO_IV)))
            .expect("AES-CBC encryption into a growable buffer");
        STANDARD.encode(&buf)
    }

    /// Decrypts standard base64 ciphertext (surrounding whitespace ignored).
    pub fn decrypt(&self, ciphertext_b64: &str) -> Result<Vec<u8>, AesError> {
        let mut buf = STANDARD.decode(ciphertext_b64.trim().as_bytes()).map_err(|_| AesError::Base64)?;
        if buf.is_empty() || buf.len() % 16 != 0 {
            return Err(AesError::Decrypt);
        }
        let key = PaddedBlockDecryptingKey::cbc_pkcs7(self.unbound()).map_err(|_| AesError::Decrypt)?;
        let plain = key
            .decrypt(&mut buf, DecryptionContext::Iv128(FixedLength::from(ZERO_IV)))
            .map_err(|_| AesError::Decrypt)?;
        Ok(plain.to_vec())
    }

    /// Decrypts to UTF-8 text.
    pub fn decrypt_to_string(&self, ciphertext_b64: &str) -> Result<String, AesError> {
        String::from_utf8(self.decrypt(ciphertext_b64)?).map_err(|_| AesError::Decrypt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_input() {
        assert_eq!(AesKey::from_base64("AAAA").unwrap_err(), AesError::Key);
        assert_eq!(AesKey::from_base64("***").unwrap_err(), AesError::Key);
        let k = AesKey::generate();
        assert_eq!(k.decrypt("***").unwrap_err(), AesError::Base64);
        assert_eq!(k.decrypt("AAAA").unwrap_err(), AesError::Decrypt);
        assert_eq!(k.decrypt("").unwrap_err(), AesError::Decrypt);
        assert!(!format!("{k:?}").contains(k.to_base64().as_str()));
    }
}
