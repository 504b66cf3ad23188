//! The crypto ceiling: how many full request crypto sets (2 RSA signs + 2 verifies) the machine
//! does per second on all cores, with nothing else in the way.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use alipay_v3::keys::PrivateKey;

use super::SERVICE_ID;
use crate::error::CliError;

pub(super) struct Ceiling {
    pub sets_per_sec: f64,
    pub threads: usize,
}

/// Full request crypto sets per second on `threads` threads: what the machine's RSA allows at best.
pub(super) fn crypto_ceiling(
    app_key: &PrivateKey,
    app_id: &str,
    threads: usize,
    run_for: Duration,
) -> Result<Ceiling, CliError> {
    use alipay_v3::{query as q, sign, verify};
    // The sandbox's Alipay key never leaves the sandbox; a fresh RSA-2048 key (the size the sandbox
    // uses) costs the same per operation.
    let server_key = PrivateKey::generate().map_err(|e| CliError::failure(format!("key generation failed: {e}")))?;
    let app_public = app_key.public_key();
    let server_public = server_key.public_key();
    let uri = q::request_uri(
        jobworth::AUTHENTICATION_PATH,
        [
            ("conn_key", "bench-00000000-0"),
            ("once_token", "00000000-0000-4000-8000-000000000000"),
            ("query_type", "exact"),
            ("identity_type", "04"),
            ("service_id", SERVICE_ID),
            ("user_id", "2088000000000003"),
        ],
        q::QueryEncoding::Rfc3986,
    );
    let body = br#"{"identity_result":"WAITING_VERIFY","token_status":"PROCESSING","user_id":"2088000000000003","open_id":"074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5","merchant_identity_id":"mi-2088000000000003"}"#;
    let failed = AtomicBool::new(false);
    let start = Instant::now();
    let deadline = start + run_for;
    let counts: Vec<u64> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut n = 0u64;
                    while Instant::now() < deadline {
                        let nonce = alipay_v3::new_nonce();
                        let auth = sign::auth_string(app_id, None, &nonce, alipay_v3::now_millis());
                        let header = sign::sign_request(app_key, &auth, &sign::RequestTarget::new("GET", &uri));
                        let ok = verify::AuthorizationHeader::parse(&header).is_ok_and(|h| {
                            verify::verify_request(&app_public, &h, &sign::RequestTarget::new("GET", &uri)).is_ok()
                        });
                        let answer = sign::ResponseSignature::new(&server_key, body);
                        let ok = ok
                            && verify::verify_response(
                                &server_public,
                                &answer.timestamp,
                                &answer.nonce,
                                body,
                                &answer.signature,
                            )
                            .is_ok();
                        if !ok {
                            failed.store(true, Ordering::Relaxed);
                            break;
                        }
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(0)).collect()
    });
    let elapsed = start.elapsed().as_secs_f64();
    if failed.load(Ordering::Relaxed) {
        return Err(CliError::failure("the ceiling measurement's own signatures did not verify"));
    }
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return Err(CliError::failure("the ceiling measurement completed no operation"));
    }
    Ok(Ceiling { sets_per_sec: total as f64 / elapsed, threads })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceiling_counts_verified_sets() {
        let key = PrivateKey::generate().unwrap();
        let c = crypto_ceiling(&key, "2021000000000001", 1, Duration::from_millis(50)).unwrap();
        assert!(c.sets_per_sec > 0.0);
        assert_eq!(c.threads, 1);
    }
}
