//! Replays the fuzz seeds and every saved fuzz finding through the same checks the fuzz
//! targets run (`fuzz/src/core_checks.rs`), so a fixed crash stays fixed under `cargo test`.
//!
//! Layout: `fuzz/seeds/<target>/*` and `fuzz/regressions/<target>/*`, `<target>` being a
//! function name in `core_checks`.

#[path = "../../../fuzz/src/core_checks.rs"]
mod core_checks;

use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

type Check = fn(&[u8]);

const TARGETS: &[(&str, Check)] = &[
    ("auth_header", core_checks::auth_header),
    ("private_key", core_checks::private_key),
    ("public_key", core_checks::public_key),
    ("cert", core_checks::cert),
    ("aes_decrypt", core_checks::aes_decrypt),
    ("order_string", core_checks::order_string),
    ("query", core_checks::query),
];

/// Runs every file under `fuzz/<kind>/<target>/` through its check; returns how many ran.
fn replay(kind: &str) -> usize {
    let base = fuzz_dir().join(kind);
    let mut ran = 0;
    for entry in std::fs::read_dir(&base).unwrap_or_else(|e| panic!("{}: {e}", base.display())) {
        let dir = entry.unwrap().path();
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        if name == "sdk_response" {
            // Needs the SDK: replayed by crates/jobworth-sandbox/tests/reliability_fuzz_sdk.rs.
            continue;
        }
        let check = TARGETS
            .iter()
            .find(|(t, _)| *t == name)
            .unwrap_or_else(|| panic!("{} is not a core fuzz target", dir.display()))
            .1;
        for file in std::fs::read_dir(&dir).unwrap() {
            let path = file.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            let outcome = std::panic::catch_unwind(|| check(&data));
            assert!(outcome.is_ok(), "{kind} input {} fails its check", path.display());
            ran += 1;
        }
    }
    ran
}

#[test]
fn seeds_pass_their_checks() {
    // Every target has seeds, and the seeds are the fixtures: they exercise the success paths.
    for (t, _) in TARGETS {
        let dir = fuzz_dir().join("seeds").join(t);
        assert!(std::fs::read_dir(&dir).map(|d| d.count() > 0).unwrap_or(false), "no seeds in {}", dir.display());
    }
    assert!(replay("seeds") >= TARGETS.len());
}

#[test]
fn saved_fuzz_findings_stay_fixed() {
    assert!(replay("regressions") >= 1);
}

#[test]
fn spki_with_trailing_bytes_is_refused() {
    // The first finding: aws-lc accepted an SPKI followed by junk.
    let data = std::fs::read(fuzz_dir().join("regressions/public_key/spki-with-trailing-bytes")).unwrap();
    assert!(alipay_v3::keys::PublicKey::from_der(&data).is_err());
    assert!(alipay_v3::keys::PublicKey::from_spki_der(&data).is_err());
}
