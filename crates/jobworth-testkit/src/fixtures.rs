//! The fixture keys and certificates under `crates/alipay-v3/tests/fixtures`, and the fixed values
//! the tests build on.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use alipay_v3::aes::AesKey;
use alipay_v3::keys::{PrivateKey, PublicKey};

/// The app id the fixture key belongs to.
pub const APP_ID: &str = "2021000122671080";
pub const SERVICE_ID: &str = "2019120400000000000004450100";
pub const AUTH_PATH: &str = "/v3/zhima/customer/jobworth/authentication";
/// A resident ID with a valid check digit (vectors.json).
pub const CERT_NO: &str = "110105200002290021";
/// The sandbox's `teacher` persona.
pub const TEACHER_USER: &str = "2088102146225101";
pub const TEACHER_OPEN: &str = "074lscIBqIL7NRK7DytftadrxbStzW4Bcqbv2RDkEueL6M0";
pub const TEACHER_CERT: &str = "110105198503151230";

/// Where fixture `name` lives.
pub fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../alipay-v3/tests/fixtures").join(name)
}

/// The text of fixture `name`.
pub fn fixture(name: &str) -> String {
    let p = fixture_path(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The fixture app key (no key generation needed in tests).
pub fn app_key() -> PrivateKey {
    PrivateKey::parse(&fixture("app-private-key-pkcs1.pem")).unwrap()
}

/// The public half of [`app_key`], parsed from its own file, not derived from the private key.
pub fn app_public() -> PublicKey {
    static K: OnceLock<PublicKey> = OnceLock::new();
    K.get_or_init(|| PublicKey::parse(&fixture("app-public-key.pem")).unwrap()).clone()
}

/// The fixture AES key of vector V-AES.
pub fn aes_key() -> AesKey {
    AesKey::from_base64("aYA0GP8JEW+D7/UFaskCWA==").unwrap()
}
