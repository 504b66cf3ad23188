//! Hardening on the CLI side: `jobworth query` against a hostile gateway on loopback (each refusal
//! exits 4 with one line), the environment and file forms of `--app-auth-token` and `--cert-no`,
//! and `keys generate` never following a symbolic link.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use alipay_v3::keys::PrivateKey;
use jobworth_testkit::fixtures::{fixture_path, SERVICE_ID};
use jobworth_testkit::process::{control, jobworth, run, SandboxProcess};

/// The binary under test (only this crate's tests know where it is).
const BIN: &str = env!("CARGO_BIN_EXE_jobworth");

const USER_ID: &str = "2088402562742105";
const SUCCESS: &str = r#"{"identity_result":"SUCCESS","token_status":"FINISH","user_id":"2088402562742105"}"#;
const CERT_NO: &str = "110105200002290021";

/// A gateway on loopback that answers every request with the bytes `answer` makes, and records
/// each request head. Stopped (and its thread joined) on drop.
struct Gateway {
    url: String,
    heads: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Gateway {
    fn start(answer: impl Fn() -> Vec<u8> + Send + 'static) -> Gateway {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (heads, stop) = (Arc::new(Mutex::new(Vec::new())), Arc::new(AtomicBool::new(false)));
        let (seen, stopping) = (heads.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !stopping.load(Ordering::SeqCst) {
                let mut sock = match listener.accept() {
                    Ok((s, _)) => s,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    }
                    Err(_) => return,
                };
                sock.set_nonblocking(false).unwrap();
                sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                seen.lock().unwrap().push(String::from_utf8_lossy(&head).into_owned());
                // The client may hang up early (e.g. on an over-long body).
                let _ = sock.write_all(&answer());
                let _ = sock.shutdown(std::net::Shutdown::Both);
            }
        });
        Gateway { url, heads, stop, thread: Some(thread) }
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Alipay's stand-in key, and its public half written where `--alipay-public-key` reads it.
struct Keys {
    alipay: PrivateKey,
    dir: tempfile::TempDir,
}

impl Keys {
    fn new() -> Keys {
        let dir = tempfile::tempdir().unwrap();
        let alipay = PrivateKey::generate().unwrap();
        std::fs::write(dir.path().join("alipay_public_key.pem"), alipay.public_key().to_spki_pem()).unwrap();
        Keys { alipay, dir }
    }

    fn alipay_public(&self) -> PathBuf {
        self.dir.path().join("alipay_public_key.pem")
    }

    /// An HTTP answer signed with `timestamp` (epoch ms).
    fn answer(&self, status: u16, body: &str, timestamp: u64) -> Vec<u8> {
        let ts = timestamp.to_string();
        let nonce = "0b7c5e1f2a3d4c6b8e9f0a1b2c3d4e5f";
        let sig = alipay_v3::sign::sign_response(&self.alipay, &ts, nonce, body.as_bytes());
        format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\
             alipay-trace-id: hostile\r\nalipay-timestamp: {ts}\r\nalipay-nonce: {nonce}\r\nalipay-signature: {sig}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    }
}

/// Makes one hostile answer.
type Answer = Box<dyn Fn(&Keys) -> Vec<u8> + Send + Sync>;

fn now_ms() -> u64 {
    alipay_v3::now_millis()
}

fn query(gateway: &Gateway, keys: &Keys) -> Command {
    let mut cmd = jobworth(BIN);
    cmd.args(["query", "--endpoint", &gateway.url, "--app-id", "2021000122671080", "--private-key"])
        .arg(fixture_path("app-private-key-pkcs1.pem"))
        .arg("--alipay-public-key")
        .arg(keys.alipay_public())
        .args(["--conn-key", "c", "--once-token", "t", "--service-id", SERVICE_ID, "--query-type", "exact"])
        .args(["--identity-type", "04", "--user-id", USER_ID, "--timeout", "10"]);
    cmd
}

#[test]
fn query_refuses_each_hostile_answer_with_exit_4_and_one_line() {
    let keys = Arc::new(Keys::new());
    let big = format!(r#"{{"identity_result":"SUCCESS","pad":"{}"}}"#, "x".repeat(1024 * 1024));
    let other_user = SUCCESS.replace(USER_ID, "2088000000000001");
    let cases: Vec<(&str, Answer, &str)> = vec![
        ("signed success relabelled 400", Box::new(|k| k.answer(400, SUCCESS, now_ms())), "body is not an error"),
        ("stale answer", Box::new(|k| k.answer(200, SUCCESS, now_ms() - 20 * 60_000)), "alipay-timestamp"),
        ("future answer", Box::new(|k| k.answer(200, SUCCESS, now_ms() + 20 * 60_000)), "alipay-timestamp"),
        ("another user", Box::new(move |k| k.answer(200, &other_user, now_ms())), "another user_id"),
        ("over-long body", Box::new(move |k| k.answer(200, &big, now_ms())), "limit"),
        (
            "undecodable success",
            Box::new(|k| k.answer(200, r#"{"identity_result":110105200002290021}"#, now_ms())),
            "could not decode",
        ),
    ];
    for (what, make, says) in cases {
        let k = keys.clone();
        let gateway = Gateway::start(move || make(&k));
        let (code, out, err) = run(&mut query(&gateway, &keys));
        assert_eq!(code, 4, "{what}: {out}{err}");
        assert!(out.is_empty(), "{what}: nothing on stdout: {out}");
        // One `error:` line that says what happened; a verification failure adds indented lines
        // (trace id, request, hint, note) as an API error does, the others stay on one line.
        let lines: Vec<&str> = err.lines().collect();
        assert!(lines[0].starts_with("error: ") && lines[0].contains(says), "{what}: {err}");
        assert!(lines[1..].iter().all(|l| l.starts_with("  ")), "{what}: {err}");
        assert!(lines.len() == 1 || lines.iter().any(|l| l.starts_with("  hint: ")), "{what}: {err}");
        assert!(err.contains("once_token may already have been consumed"), "{what}: {err}");
        assert!(!err.contains(CERT_NO), "{what}: {err}");
        assert_eq!(gateway.heads().len(), 1, "{what}: not repeated");
    }

    // The same gateway answering honestly: exit 0.
    let k = keys.clone();
    let gateway = Gateway::start(move || k.answer(200, SUCCESS, now_ms()));
    let (code, out, err) = run(&mut query(&gateway, &keys));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("SUCCESS"), "{out}");
}

#[test]
fn app_auth_token_and_cert_no_come_from_the_environment_or_a_file() {
    let keys = Arc::new(Keys::new());
    let k = keys.clone();
    let gateway = Gateway::start(move || k.answer(200, SUCCESS, now_ms()));
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "202406BBfiletoken\n").unwrap();
    let cert_file = dir.path().join("cert_no");
    std::fs::write(&cert_file, format!("{CERT_NO}\r\n")).unwrap();

    let sent = |cmd: &mut Command| {
        let (code, out, err) = run(cmd);
        assert_eq!(code, 0, "{out}{err}");
        gateway.heads().pop().unwrap().to_ascii_lowercase()
    };
    let head = sent(query(&gateway, &keys).env("ALIPAY_APP_AUTH_TOKEN", "202406BBenvtoken"));
    assert!(head.contains("alipay-app-auth-token: 202406bbenvtoken\r\n"), "{head}");
    let head = sent(query(&gateway, &keys).arg("--app-auth-token-file").arg(&token_file));
    assert!(head.contains("alipay-app-auth-token: 202406bbfiletoken\r\n"), "trailing newline dropped: {head}");
    let head = sent(query(&gateway, &keys).env("ALIPAY_CERT_NO", CERT_NO).args(["--cert-type", "0"]));
    assert!(head.contains(&format!("cert_no={CERT_NO}&cert_type=0 ")), "{head}");
    let head = sent(query(&gateway, &keys).arg("--cert-no-file").arg(&cert_file).args(["--cert-type", "0"]));
    assert!(head.contains(&format!("cert_no={CERT_NO}&cert_type=0 ")), "trailing CRLF dropped: {head}");
    // An empty variable is no value.
    let head = sent(query(&gateway, &keys).env("ALIPAY_APP_AUTH_TOKEN", ""));
    assert!(!head.contains("alipay-app-auth-token"), "{head}");

    // Two forms at once, or a half-given cert: usage errors, nothing sent.
    let before = gateway.heads().len();
    let usage: Vec<(Command, &[&str])> = vec![
        (
            {
                let mut c = query(&gateway, &keys);
                c.env("ALIPAY_APP_AUTH_TOKEN", "a").args(["--app-auth-token", "b"]);
                c
            },
            &["--app-auth-token", "ALIPAY_APP_AUTH_TOKEN"],
        ),
        (
            {
                let mut c = query(&gateway, &keys);
                c.arg("--app-auth-token-file").arg(&token_file).args(["--app-auth-token", "b"]);
                c
            },
            &["--app-auth-token-file", "--app-auth-token"],
        ),
        (
            {
                let mut c = query(&gateway, &keys);
                c.env("ALIPAY_CERT_NO", CERT_NO).args(["--cert-type", "0", "--cert-no", CERT_NO]);
                c
            },
            &["--cert-no", "ALIPAY_CERT_NO"],
        ),
        (
            {
                let mut c = query(&gateway, &keys);
                c.env("ALIPAY_CERT_NO", CERT_NO);
                c
            },
            &["--cert-type"],
        ),
        (
            {
                let mut c = query(&gateway, &keys);
                c.args(["--cert-type", "0"]);
                c
            },
            &["--cert-no", "ALIPAY_CERT_NO"],
        ),
        (
            {
                let mut c = query(&gateway, &keys);
                c.arg("--cert-no-file").arg(dir.path().join("missing"));
                c.args(["--cert-type", "0"]);
                c
            },
            &["--cert-no-file"],
        ),
    ];
    for (mut cmd, mentions) in usage {
        let (code, out, err) = run(&mut cmd);
        assert_eq!(code, 2, "{mentions:?}: {out}{err}");
        for m in mentions {
            assert!(err.contains(m), "{mentions:?}: {err}");
        }
        assert!(!err.contains(CERT_NO), "{err}");
    }
    assert_eq!(gateway.heads().len(), before, "usage errors send nothing");

    let (_, help, _) = run(jobworth(BIN).args(["query", "--help"]));
    for name in ["ALIPAY_APP_AUTH_TOKEN", "--app-auth-token-file", "ALIPAY_CERT_NO", "--cert-no-file"] {
        assert!(help.contains(name), "--help names {name}");
    }
}

#[cfg(unix)]
#[test]
fn keys_generate_never_follows_a_symbolic_link() {
    use std::os::unix::fs::{symlink, PermissionsExt};
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("keys");
    std::fs::create_dir(&out).unwrap();
    let generate = |force: bool| {
        let mut cmd = jobworth(BIN);
        cmd.args(["keys", "generate", "--out"]).arg(&out);
        if force {
            cmd.arg("--force");
        }
        run(&mut cmd)
    };
    let mode = |p: &Path| std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777;

    // A dangling link: following it would create the private key wherever it points.
    let elsewhere = dir.path().join("elsewhere.pem");
    symlink(&elsewhere, out.join("app_private_key.pem")).unwrap();
    let (code, _, err) = generate(false);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("already exists") && err.contains("symbolic link"), "{err}");
    assert!(!elsewhere.exists(), "nothing written through the link");
    assert!(!out.join("app_public_key.pem").exists(), "nothing written at all");

    // A link to an existing file: --force replaces the link, the file it pointed to is untouched.
    std::fs::write(&elsewhere, "precious").unwrap();
    std::fs::set_permissions(&elsewhere, std::fs::Permissions::from_mode(0o644)).unwrap();
    let victim_pub = dir.path().join("victim_pub");
    std::fs::write(&victim_pub, "also precious").unwrap();
    symlink(&victim_pub, out.join("app_public_key.pem")).unwrap();
    let (code, _, err) = generate(false);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = generate(true);
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "precious");
    assert_eq!(std::fs::read_to_string(&victim_pub).unwrap(), "also precious");
    assert_eq!(mode(&elsewhere), 0o644);
    let private = out.join("app_private_key.pem");
    assert!(std::fs::symlink_metadata(&private).unwrap().file_type().is_file(), "a regular file now");
    assert_eq!(mode(&private), 0o600);
    let pem = std::fs::read_to_string(&private).unwrap();
    PrivateKey::parse(&pem).unwrap();
    // No temporary files left behind.
    let names: Vec<String> =
        std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

/// The admin token read from a file never appears on the command line, and gates the control plane.
#[test]
fn sandbox_admin_token_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("admin-token");
    std::fs::write(&file, "adm-file-token-81c2\n").unwrap();
    let sandbox = SandboxProcess::start_with(BIN, &["--admin-token-file", file.to_str().unwrap()]);
    let (status, _) = control("GET", &format!("{}/sandbox/personas", sandbox.base_url), None);
    assert_eq!(status, 401);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let status = rt.block_on(async {
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let res = client
            .get(format!("{}/sandbox/personas", sandbox.base_url))
            .bearer_auth("adm-file-token-81c2")
            .send()
            .await
            .unwrap();
        res.status().as_u16()
    });
    assert_eq!(status, 200, "the trailing newline of the file is not part of the token");
    // Both forms at once is a usage error.
    let (code, _, err) =
        run(jobworth(BIN).args(["sandbox", "--admin-token", "x", "--admin-token-file", file.to_str().unwrap()]));
    assert_eq!(code, 2, "{err}");
}
