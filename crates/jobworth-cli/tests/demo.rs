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

#[test]
fn demo_keep_serves_its_pages_until_ctrl_c() {
    use std::io::BufRead;
    use std::process::Stdio;

    use jobworth_testkit::process::control;

    let mut child = jobworth(BIN).args(["demo", "--keep"]).stdout(Stdio::piped()).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !out.iter().any(|l: &String| l.contains("Ctrl-C stops it")) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => out.push(line),
            Err(_) => {
                let _ = child.kill();
                panic!("no Ctrl-C line within 60 s:\n{}", out.join("\n"));
            }
        }
    }
    let text = out.join("\n");
    let value = |label: &str| {
        let line = out.iter().find(|l| l.trim_start().starts_with(label)).unwrap_or_else(|| panic!("{label}:\n{text}"));
        line.trim_start()[label.len()..].trim().to_string()
    };
    let base = value("base URL");
    assert!(base.starts_with("http://127.0.0.1:"), "{text}");
    assert_eq!(value("index"), format!("{base}/"));
    let desk = value("demo desk");
    let desk_id = desk.strip_prefix(&format!("{base}/desk/")).unwrap_or_else(|| panic!("{text}"));
    assert!(desk_id.len() == 32 && desk_id.bytes().all(|b| b.is_ascii_hexdigit()), "{text}");
    assert_eq!(value("desk page"), desk);
    // The short desk URL only: never the signed order string.
    assert!(!text.contains("/desk?") && !text.contains("sign="), "{text}");
    let data = value("data dir");
    let data = data.strip_suffix(" (removed at the end)").unwrap_or_else(|| panic!("{text}")).to_string();

    // The pages answer while it waits.
    let (status, index) = control("GET", &format!("{base}/"), None);
    assert_eq!(status, 200);
    let index = index.as_str().unwrap().to_string();
    assert!(index.contains(&format!("href=\"/desk/{desk_id}\"")) && index.contains("2021000000000001"), "{index}");
    let (status, page) = control("GET", &desk, None);
    assert_eq!(status, 200);
    assert!(page.as_str().unwrap().contains("data-outcome=\"SUCCESS\""));

    // Ctrl-C: exit 0, data dir gone.
    assert!(std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("demo --keep did not stop within 20 s of SIGINT");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0));
    assert!(!std::path::Path::new(&data).exists(), "{data} removed");
}
