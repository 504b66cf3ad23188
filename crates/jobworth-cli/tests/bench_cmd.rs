//! `jobworth bench`: its `--json` output, a contract with scripts, against the embedded sandbox and against a
//! `jobworth sandbox` process (`--endpoint`). No timing assertion: the figures only have to be
//! real measurements (positive, finite, consistent with each other).

use jobworth_testkit::process::{control, jobworth, run, SandboxProcess};
use serde_json::Value;

/// The binary under test (only this crate's tests know where it is).
const BIN: &str = env!("CARGO_BIN_EXE_jobworth");

const KEYS: [&str; 5] = ["requests_per_sec", "p50_ms", "p99_ms", "ceiling_requests_per_sec", "ratio"];

fn parse_report(stdout: &str) -> Value {
    let lines: Vec<&str> = stdout.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "--json prints exactly one line: {stdout}");
    let v: Value = serde_json::from_str(lines[0]).unwrap();
    assert!(v.is_object(), "{v}");
    // The contract's keys come first, in its order.
    let order: Vec<usize> = KEYS.iter().map(|k| lines[0].find(&format!("\"{k}\":")).expect(k)).collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{}", lines[0]);
    for k in KEYS {
        let n = v[k].as_f64().unwrap_or_else(|| panic!("{k} is a number: {v}"));
        assert!(n.is_finite() && n > 0.0, "{k} is positive: {v}");
    }
    let (p50, p99) = (v["p50_ms"].as_f64().unwrap(), v["p99_ms"].as_f64().unwrap());
    assert!(p50 <= p99, "p50 {p50} <= p99 {p99}");
    let ratio = v["requests_per_sec"].as_f64().unwrap() / v["ceiling_requests_per_sec"].as_f64().unwrap();
    assert!((v["ratio"].as_f64().unwrap() - ratio).abs() < 0.001, "ratio is requests/ceiling: {v}");
    assert!(v["requests"].as_u64().unwrap() > 0, "{v}");
    assert_eq!(v["errors"].as_u64(), Some(0), "{v}");
    assert_eq!(v["concurrency"].as_u64(), Some(2), "{v}");
    v
}

/// `jobworth bench --endpoint U… --duration 1 --concurrency 2 --json`, which must succeed: its report.
fn bench_json_against(endpoints: &[&str]) -> Value {
    let mut cmd = jobworth(BIN);
    cmd.arg("bench");
    for url in endpoints {
        cmd.args(["--endpoint", url]);
    }
    let (code, out, err) = run(cmd.args(["--duration", "1", "--concurrency", "2", "--json"]));
    assert_eq!(code, 0, "stderr: {err}");
    parse_report(&out)
}

#[test]
fn bench_json_against_the_embedded_sandbox() {
    let (code, out, err) = run(jobworth(BIN).args(["bench", "--duration", "1", "--concurrency", "2", "--json"]));
    assert_eq!(code, 0, "stderr: {err}");
    let v = parse_report(&out);
    assert_eq!(v["target"], "embedded sandbox");
    assert!(v["peak_rss_mib"].as_f64().unwrap() > 0.0, "{v}");
    // Not a terminal: no progress line on stderr.
    assert!(!err.contains('\r'), "{err:?}");
}

#[test]
fn bench_json_against_a_sandbox_process() {
    let sandbox = SandboxProcess::start(BIN);
    let v = bench_json_against(&[&sandbox.base_url]);
    assert_eq!(v["target"].as_str(), Some(sandbox.base_url.as_str()));
    // In words, the ratio says what it is against another process.
    let (code, out, err) =
        run(jobworth(BIN).args(["bench", "--endpoint", &sandbox.base_url, "--duration", "1", "--concurrency", "1"]));
    assert_eq!(code, 0, "stderr: {err}");
    let ratio = out.lines().find(|l| l.trim_start().starts_with("ratio")).unwrap();
    assert!(ratio.contains("% of the ceiling") && ratio.contains("the sandbox is another process"), "{ratio}");
}

#[test]
fn bench_spreads_its_workers_over_several_endpoints() {
    // Two instances on one data dir: the app registered through the first is already known to the
    // second, which answers 200 instead of 201.
    let a = SandboxProcess::start(BIN);
    let log = a.data.with_file_name("second.log");
    let b = SandboxProcess::start_on(BIN, &a.data, &log, &[]);
    // The signed requests each process answered (its own log, in memory).
    let answered = |sandbox: &SandboxProcess| {
        let (status, v) = control("GET", &format!("{}/sandbox/requests?verdict=ok", sandbox.base_url), None);
        assert_eq!(status, 200, "{v}");
        v.as_array().unwrap().len()
    };
    assert_eq!((answered(&a), answered(&b)), (0, 0));
    let v = bench_json_against(&[&a.base_url, &b.base_url]);
    assert_eq!(v["target"].as_str(), Some(format!("{} {}", a.base_url, b.base_url).as_str()));
    // Each instance answered the queries of its own worker.
    assert!(answered(&a) > 0 && answered(&b) > 0);
}

#[test]
fn bench_human_output_and_usage_errors() {
    let (code, out, err) = run(jobworth(BIN).args(["bench", "--duration", "1", "--concurrency", "1"]));
    assert_eq!(code, 0, "stderr: {err}");
    for label in ["requests/s", "latency p50", "latency p99", "crypto ceiling", "ratio"] {
        assert!(out.contains(label), "{label} in {out}");
    }
    for bad in [["--duration", "0"], ["--concurrency", "0"], ["--concurrency", "many"]] {
        let (code, _, _) = run(jobworth(BIN).arg("bench").args(bad));
        assert_eq!(code, 2, "{bad:?}");
    }
    // Refused before anything is sent: bench loads loopback sandboxes only.
    let (code, _, err) = run(jobworth(BIN).args(["bench", "--endpoint", "http://192.0.2.1:8340", "--duration", "1"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--endpoint"), "{err}");
    // Nothing listens on port 9 of loopback: a clear failure, not a hang.
    let (code, _, err) = run(jobworth(BIN).args(["bench", "--endpoint", "http://127.0.0.1:9", "--duration", "1"]));
    assert_ne!(code, 0);
    assert!(err.contains("127.0.0.1:9"), "{err}");
}
