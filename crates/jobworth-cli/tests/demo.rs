//! `jobworth demo`: the README's first command. It must finish quickly, exit 0, and show each step —
//! including the second query refused with TOKEN_INVALID.

use std::time::{Duration, Instant};

use jobworth_testkit::process::{jobworth, run};

/// The binary under test (only this crate's tests know where it is).
const BIN: &str = env!("CARGO_BIN_EXE_jobworth");

#[test]
fn demo_runs_the_whole_flow_and_exits_0() {
    let started = Instant::now();
    // NO_COLOR unset: plain text must come from stdout not being a terminal.
    let (code, out, err) = run(jobworth(BIN).env_remove("NO_COLOR").arg("demo"));
    let took = started.elapsed();
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    for step in 1..=7 {
        assert!(out.contains(&format!("[{step}/7]")), "step {step} shown:\n{out}");
    }
    assert!(out.lines().any(|l| l.contains("listening on") && l.contains("http://127.0.0.1:")), "{out}");
    assert!(out.contains("SUCCESS") && out.contains("FINISH"), "{out}");
    assert!(out.contains("TOKEN_INVALID"), "{out}");
    assert!(out.contains("2088"), "shows the user_id: {out}");
    assert!(out.contains("**********"), "shows a masked cert_no: {out}");
    assert!(!out.contains('\x1b'), "plain text when not a terminal");
    assert!(took < Duration::from_secs(60), "took {took:?}");
}
