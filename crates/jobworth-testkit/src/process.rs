//! The `jobworth` binary: its command with a clean environment, a `jobworth sandbox` process that is
//! always stopped, and apps and verifications made with the CLI itself.
//!
//! `CARGO_BIN_EXE_jobworth` is only set for the CLI crate's tests, so its tests pass the binary
//! in: `env!("CARGO_BIN_EXE_jobworth")`.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::fixtures::SERVICE_ID;

/// The environment variables `jobworth query` falls back to.
pub const ALIPAY_VARS: [&str; 8] = [
    "ALIPAY_ENDPOINT",
    "ALIPAY_APP_ID",
    "ALIPAY_PRIVATE_KEY",
    "ALIPAY_PUBLIC_KEY",
    "ALIPAY_APP_CERT",
    "ALIPAY_CERT",
    "ALIPAY_ROOT_CERT",
    "ALIPAY_ENCRYPT_KEY",
];

/// The `jobworth` binary at `bin` with a clean environment for the variables it reads, so a
/// developer's ALIPAY_* settings cannot change a test's meaning.
pub fn jobworth(bin: impl AsRef<Path>) -> Command {
    let mut cmd = Command::new(bin.as_ref());
    for var in
        ALIPAY_VARS.iter().chain(&["RUST_LOG", "ALIPAY_APP_AUTH_TOKEN", "ALIPAY_CERT_NO", "JOBWORTH_DATABASE_URL"])
    {
        cmd.env_remove(var);
    }
    cmd.env("NO_COLOR", "1");
    cmd
}

/// Runs `cmd` and returns (exit code, stdout, stderr).
pub fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

/// Reads everything a reader yields (for piped children).
pub fn read_all(mut r: impl Read) -> String {
    let mut s = String::new();
    r.read_to_string(&mut s).unwrap();
    s
}

/// One control-plane call over real HTTP from synchronous code: the status and the body parsed as
/// JSON (`Value::String` for a non-JSON body).
pub fn control(method: &str, url: &str, body: Option<&Value>) -> (u16, Value) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let mut req = crate::http::client().request(method.parse().unwrap(), url);
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b.to_string());
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    })
}

/// A `jobworth sandbox` process on a free loopback port. Dropping it kills the process (also when
/// a test panics); a data dir the kit made is removed then too.
pub struct SandboxProcess {
    bin: PathBuf,
    child: Option<Child>,
    pub base_url: String,
    /// `--data` of the process.
    pub data: PathBuf,
    /// stderr of the process (its log), appended to across restarts.
    pub log: PathBuf,
    args: Vec<OsString>,
    envs: Vec<(String, String)>,
    _own_dir: Option<tempfile::TempDir>,
}

impl SandboxProcess {
    /// Starts `bin sandbox` on its own temp data dir.
    pub fn start(bin: impl AsRef<Path>) -> Self {
        Self::start_with(bin, &[])
    }

    /// Starts with extra `jobworth sandbox` flags.
    pub fn start_with(bin: impl AsRef<Path>, extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (data, log) = (dir.path().join("state"), dir.path().join("sandbox.log"));
        let mut guard = Self::unstarted(bin.as_ref(), &data, &log, extra, &[]);
        guard._own_dir = Some(dir);
        guard.spawn();
        guard
    }

    /// Starts on the data dir `data` (shared with other processes or earlier runs), logging to
    /// `log`, with `envs` set.
    pub fn start_on(bin: impl AsRef<Path>, data: &Path, log: &Path, envs: &[(&str, &str)]) -> Self {
        let mut guard = Self::unstarted(bin.as_ref(), data, log, &[], envs);
        guard.spawn();
        guard
    }

    fn unstarted(bin: &Path, data: &Path, log: &Path, extra: &[&str], envs: &[(&str, &str)]) -> Self {
        SandboxProcess {
            bin: bin.to_path_buf(),
            child: None,
            base_url: String::new(),
            data: data.to_path_buf(),
            log: log.to_path_buf(),
            args: extra.iter().map(OsString::from).collect(),
            envs: envs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            _own_dir: None,
        }
    }

    /// The `jobworth` command of the same binary, with a clean environment.
    pub fn jobworth(&self) -> Command {
        jobworth(&self.bin)
    }

    /// Starts the process again on the same data dir (after [`SandboxProcess::terminate`]).
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "terminate first");
        self.spawn();
    }

    fn spawn(&mut self) {
        let mut cmd = self.jobworth();
        cmd.args(["sandbox", "--listen", "127.0.0.1:0", "--data"])
            .arg(&self.data)
            .args(&self.args)
            .envs(self.envs.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::OpenOptions::new().create(true).append(true).open(&self.log).unwrap());
        let mut child = cmd.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        self.child = Some(child);
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = tx.send(line);
            // Keep draining so the sandbox never blocks on a full pipe.
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let line = rx.recv_timeout(Duration::from_secs(60)).unwrap_or_default();
        let Some(url) = line.trim_end().strip_prefix("listening on ") else {
            panic!("sandbox did not announce itself (got {line:?}); log:\n{}", self.log_text());
        };
        assert!(url.starts_with("http://127.0.0.1:"), "unexpected announcement {line:?}");
        assert!(line.ends_with('\n'), "the announcement is one whole line");
        self.base_url = url.to_string();
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Sends SIGTERM and waits (at most `limit`) for the process to exit; returns its status.
    pub fn terminate_within(&mut self, limit: Duration) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        let sent = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
        assert!(sent.success());
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("sandbox did not exit within {limit:?} of SIGTERM; log:\n{}", self.log_text());
    }

    /// [`SandboxProcess::terminate_within`] 10 s.
    pub fn terminate(&mut self) -> ExitStatus {
        self.terminate_within(Duration::from_secs(10))
    }

    /// SIGTERM, and the graceful shutdown must exit 0 within 20 s (a process under load).
    pub fn stop(mut self) {
        let status = self.terminate_within(Duration::from_secs(20));
        assert!(status.success(), "graceful shutdown exits 0, got {status}");
    }

    /// SIGKILL: no shutdown code runs, as in a crash.
    pub fn kill9(mut self) {
        let mut child = self.child.take().expect("running");
        child.kill().unwrap();
        let status = child.wait().unwrap();
        assert!(!status.success(), "a killed process does not exit 0");
    }
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Files of one registered app, all written from what `POST /sandbox/apps` returned (plus the
/// app's own generated private key).
pub struct AppFiles {
    pub app_id: String,
    pub dir: tempfile::TempDir,
    pub private_key: PathBuf,
    pub public_key: PathBuf,
    pub alipay_public_key: PathBuf,
    pub app_cert: PathBuf,
    pub alipay_cert: PathBuf,
    pub alipay_root_cert: PathBuf,
    pub encrypt_key: Option<String>,
    pub registration: Value,
}

impl AppFiles {
    /// Generates keys with `jobworth keys generate` and registers them (with an AES key if asked).
    pub fn register(sandbox: &SandboxProcess, app_id: &str, with_aes: bool) -> AppFiles {
        let dir = tempfile::tempdir().unwrap();
        let (code, _, err) = run(sandbox.jobworth().args(["keys", "generate", "--out"]).arg(dir.path()));
        assert_eq!(code, 0, "{err}");
        let public_pem = std::fs::read_to_string(dir.path().join("app_public_key.pem")).unwrap();
        let encrypt_key = with_aes.then(|| alipay_v3::aes::AesKey::generate().to_base64().as_str().to_owned());
        let mut body = json!({ "app_id": app_id, "public_key": public_pem });
        if let Some(k) = &encrypt_key {
            body["encrypt_key"] = json!(k);
        }
        let (status, reg) = control("POST", &format!("{}/sandbox/apps", sandbox.base_url), Some(&body));
        assert_eq!(status, 201, "{reg}");
        let write = |name: &str, field: &str| {
            let path = dir.path().join(name);
            let text = reg[field].as_str().unwrap_or_else(|| panic!("registration has no {field}: {reg}"));
            std::fs::write(&path, text).unwrap();
            path
        };
        AppFiles {
            app_id: app_id.to_string(),
            private_key: dir.path().join("app_private_key.pem"),
            public_key: dir.path().join("app_public_key.pem"),
            alipay_public_key: write("alipay_public_key.pem", "alipay_public_key"),
            app_cert: write("app_cert.crt", "app_cert"),
            alipay_cert: write("alipay_cert.crt", "alipay_cert"),
            alipay_root_cert: write("alipay_root_cert.crt", "alipay_root_cert"),
            encrypt_key,
            registration: reg,
            dir,
        }
    }
}

/// One user authorization: a step-1 order string from `jobworth order-string`, the desk opened
/// with it and completed as `persona`.
pub struct Authorization {
    pub conn_key: String,
    pub once_token: String,
    pub user_id: String,
    pub open_id: String,
}

pub fn authorize(sandbox: &SandboxProcess, app: &AppFiles, persona: &str) -> Authorization {
    let conn_key = crate::app::fresh_conn_key();
    let out = sandbox
        .jobworth()
        .args(["order-string", "--app-id", &app.app_id, "--private-key"])
        .arg(&app.private_key)
        .args(["--out-agreement-no", &conn_key, "--service-id", SERVICE_ID, "--identity-type", "04"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let order = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let (status, desk) =
        control("POST", &format!("{}/sandbox/desk", sandbox.base_url), Some(&json!({ "order_str": order })));
    assert_eq!(status, 201, "{desk}");
    assert_eq!(desk["conn_key"], conn_key.as_str());
    let url = format!("{}/sandbox/desk/{}/complete", sandbox.base_url, desk["desk_id"].as_str().unwrap());
    let (status, done) = control("POST", &url, Some(&json!({ "persona": persona })));
    assert_eq!(status, 200, "{done}");
    Authorization {
        conn_key,
        once_token: desk["once_token"].as_str().unwrap().to_string(),
        user_id: done["user_id"].as_str().unwrap().to_string(),
        open_id: done["open_id"].as_str().unwrap_or_default().to_string(),
    }
}

/// A `jobworth sandbox` process with an app registered in key mode (no AES key) and one user
/// authorization completed as `persona`.
pub fn start_authorized(
    bin: impl AsRef<Path>,
    app_id: &str,
    persona: &str,
) -> (SandboxProcess, AppFiles, Authorization) {
    let sandbox = SandboxProcess::start(bin);
    let app = AppFiles::register(&sandbox, app_id, false);
    let auth = authorize(&sandbox, &app, persona);
    (sandbox, app, auth)
}

/// The persona's record from `GET /sandbox/personas`.
pub fn persona(sandbox: &SandboxProcess, name: &str) -> Value {
    let (status, list) = control("GET", &format!("{}/sandbox/personas", sandbox.base_url), None);
    assert_eq!(status, 200);
    list.as_array().unwrap().iter().find(|p| p["persona"] == name).cloned().unwrap()
}

/// `jobworth query` in key mode for `auth`, with the user's `user_id`; callers add flags.
pub fn query_cmd(sandbox: &SandboxProcess, app: &AppFiles, auth: &Authorization) -> Command {
    let mut cmd = sandbox.jobworth();
    cmd.args(["query", "--endpoint", &sandbox.base_url, "--app-id", &app.app_id, "--private-key"])
        .arg(&app.private_key)
        .args(query_flags(auth));
    cmd
}

/// [`query_cmd`] verifying with the registration's Alipay public key.
pub fn key_query(sandbox: &SandboxProcess, app: &AppFiles, auth: &Authorization) -> Command {
    let mut cmd = query_cmd(sandbox, app, auth);
    cmd.arg("--alipay-public-key").arg(&app.alipay_public_key);
    cmd
}

/// [`query_cmd`] in certificate mode with the registration's three certificates.
pub fn cert_query(sandbox: &SandboxProcess, app: &AppFiles, auth: &Authorization) -> Command {
    let mut cmd = query_cmd(sandbox, app, auth);
    cmd.arg("--app-cert").arg(&app.app_cert).arg("--alipay-cert").arg(&app.alipay_cert);
    cmd.arg("--alipay-root-cert").arg(&app.alipay_root_cert);
    cmd
}

pub fn query_flags(auth: &Authorization) -> Vec<String> {
    [
        "--conn-key",
        &auth.conn_key,
        "--once-token",
        &auth.once_token,
        "--service-id",
        SERVICE_ID,
        "--query-type",
        "exact",
        "--identity-type",
        "04",
        "--user-id",
        &auth.user_id,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}
