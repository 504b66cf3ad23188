//! Private keys a new user may have at hand that Alipay cannot use, made with OpenSSL for these
//! tests only (they sign nothing anywhere).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024` (PKCS#8).
pub const RSA_1024: &str = "-----BEGIN PRIVATE KEY-----
MIICeAIBADANBgkqhkiG9w0BAQEFAASCAmIwggJeAgEAAoGBAMKqtCQjRYauCawK
KXBHP10Qw0NGOUktmQwlwvEuYNQAn9Y+7C7uRtk9BlPu4zaFDqwLbJ3ru2iSglCf
iKLB11TO6Ony06tyTnpXc2lQFJFVw235nzteC9qBbE1hRm+P+p5/2qzwR45Ht5l8
6HGmu4su64Fo/nZATkMomOay/ahvAgMBAAECgYAChBBF80q/vdoUJiF4+QLBoijT
4sF0x6kVths54L6Rntxx+Wg2BxBVWGuPhCPdnYSeBpvFwrkuVc5nWlh6ugSdZzMN
UHagmp5fwzFqNNnMIVTJFJN1onvt36KwCM9TunveWKo+kaGWJEeqlENypiG0RFbm
osNVTd2GdaLIuUggCQJBAO28CAlgUSb90NDV0rK4XaYA1ofhqffcYJkukWfuhPpV
mFj03S5v/mJUSwxTUCYaxauugB1XsGaoBjhkb6lV/CsCQQDRn5RhwtKDPJlV5pxG
6t3PhWn/obKpt64GS7y6+Nlp8PA6qs2t2Nb2rH3pxh7oy5HQ3TORx//SJRT+VjUg
+S7NAkEAn3i0g2Wiyl8UhiII9m4KE+MYBYpw851XBypfy7IKbcqhKXsIK7BgmiEl
Pp1cdFMdKi8iLYy2/gXUNlvZM2REhQJBAMiT7pJArdffg0UbvYtqLsXj/dIZ8e/N
jtn9XGB3vulNH0CzsMzZQI+V64FmDqtoJmV5U1/5xEJbMyRObtXXOT0CQQCHNvt4
jhrzFXZS8TK+GQ89H0IHkLMrZBUlEKQIt9i6aKGAy/vcneCTog+wKnTLtLalb1yw
haaSk/OuIZgmVQt0
-----END PRIVATE KEY-----
";

/// `openssl ecparam -genkey -name prime256v1` (SEC1, with its EC PARAMETERS block first).
pub const EC_P256: &str = "-----BEGIN EC PARAMETERS-----
BggqhkjOPQMBBw==
-----END EC PARAMETERS-----
-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIFaTRb7TJNAvNgGtrc1tjb/fcPXGsuHG54tzLdRYSb7roAoGCCqGSM49
AwEHoUQDQgAEZ0K7jUdfaz6RTqGlSPIb8Okn++kXM43i98ABOg4cQCN6H6J7cobH
SYTgmHqM0I9eAZOOztn3keOqm/D3Rb2EHQ==
-----END EC PRIVATE KEY-----
";

/// `openssl pkcs8 -topk8 -v2 aes-128-cbc` of an Ed25519 key (password `jobworth`).
pub const ENCRYPTED_PKCS8: &str = "-----BEGIN ENCRYPTED PRIVATE KEY-----
MIGbMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAik9QjZADzBegICCAAw
DAYIKoZIhvcNAgkFADAdBglghkgBZQMEAQIEEBi1n4KdMIbN4kEDJw8bFM4EQAOz
w8QTziprViDIGGbbFblPaiZ2rLudcJsso3Y/5HS78HSefICxgQs2kXH51m0GqWWI
t2NpO3zz+4ZOG7xMyJA=
-----END ENCRYPTED PRIVATE KEY-----
";

/// Each odd key, the words that must name it, and a file holding it in `dir`.
pub fn write_all(dir: &Path) -> Vec<(PathBuf, &'static str)> {
    [
        ("rsa1024.pem", RSA_1024, "1024 bits"),
        ("ec.pem", EC_P256, "EC (elliptic-curve) key"),
        ("encrypted.pem", ENCRYPTED_PKCS8, "encrypted PKCS#8"),
    ]
    .into_iter()
    .map(|(name, pem, words)| {
        let path = dir.join(name);
        std::fs::write(&path, pem).unwrap();
        (path, words)
    })
    .collect()
}
