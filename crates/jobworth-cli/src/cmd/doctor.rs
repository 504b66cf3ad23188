//! `jobworth doctor`: checks a `jobworth query` configuration before Alipay (or the sandbox)
//! refuses it — the keys and their formats, the certificates, their chain, dates and SNs, the AES
//! key, the endpoint and, with `--endpoint`, the clock and the key the server signs with. One line
//! per check; never prints key material (public keys appear as fingerprints).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use alipay_v3::keys::PublicKey;
use serde::Serialize;
use zeroize::Zeroizing;

use crate::cmd::query::{self, ConnectionArgs, ALIPAY_KEY_FIX};
use crate::cmd::{parse_private_key, read_input_text};
use crate::error::{CliError, Exit};
use crate::inspect::{self, Certificate, KeyForm};
use crate::output::Palette;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Takes the connection flags and environment variables of `jobworth query` and checks, one line each \
    (✓ or ✗ with the fix): the private key parses (and its format); it is the pair of the app public key / the app \
    certificate; the Alipay public key is not the app's own; in certificate mode the Alipay certificate chains to the \
    root bundle and is within its dates, and the SNs certificate mode sends compute; the AES key is 16, 24 or 32 bytes; \
    the endpoint is a base URL. With --endpoint (or ALIPAY_ENDPOINT) it also sends one unauthenticated GET (which spends \
    nothing) to compare this machine's clock with the server's alipay-timestamp and to check that the configured \
    Alipay key verifies the server's signature.\n\n\
    Exit codes: 0 every check passed, 2 at least one failed."
)]
pub struct Args {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// The app public key you registered (uploaded to Alipay's console, or sent to the sandbox): checked to be the
    /// pair of --private-key
    #[arg(long, env = "ALIPAY_APP_PUBLIC_KEY", value_name = "PATH", help_heading = "Connection")]
    pub app_public_key: Option<PathBuf>,
    /// Print one JSON object {"ok": bool, "checks": [{"name", "ok", "detail", "fix"}]} on stdout
    #[arg(long)]
    pub json: bool,
}

/// How far the server's clock may be from this machine's before the check fails. The gateway
/// refuses requests whose timestamp is too far off, and the SDK answers outside
/// [`jobworth::DEFAULT_RESPONSE_TIME_WINDOW`]; a working NTP client keeps well inside this.
const CLOCK_LIMIT: Duration = Duration::from_secs(5 * 60);

/// The most of the probe's answer that is read (an error body is a few hundred bytes).
const PROBE_BODY_LIMIT: usize = 64 * 1024;

/// One check's outcome.
#[derive(Debug, Serialize)]
struct Check {
    name: &'static str,
    ok: bool,
    detail: String,
    fix: Option<String>,
}

#[derive(Debug, Default)]
struct Report {
    checks: Vec<Check>,
}

impl Report {
    fn pass(&mut self, name: &'static str, detail: impl Into<String>) {
        self.checks.push(Check { name, ok: true, detail: detail.into(), fix: None });
    }

    fn fail(&mut self, name: &'static str, detail: impl Into<String>, fix: impl Into<String>) {
        self.checks.push(Check { name, ok: false, detail: detail.into(), fix: Some(fix.into()) });
    }

    /// A failure reported as the command would report it; its hint, if any, is the fix.
    fn error(&mut self, name: &'static str, err: CliError, fix: &str) {
        let fix = err.hint.unwrap_or_else(|| fix.to_string());
        self.fail(name, err.message.unwrap_or_default(), fix);
    }

    fn ok(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }

    fn print(&self, json: bool) {
        if json {
            /// `ok` first, as documented.
            #[derive(Serialize)]
            struct Out<'a> {
                ok: bool,
                checks: &'a [Check],
            }
            let out = Out { ok: self.ok(), checks: &self.checks };
            // Strings and booleans always serialise.
            println!("{}", serde_json::to_string(&out).unwrap_or_default());
            return;
        }
        let p = Palette::stdout();
        for c in &self.checks {
            let mark = if c.ok { p.green("✓") } else { p.red("✗") };
            match &c.fix {
                Some(fix) => println!("{mark} {}: {} — fix: {fix}", p.bold(c.name), c.detail),
                None => println!("{mark} {}: {}", p.bold(c.name), c.detail),
            }
        }
        let failed = self.checks.iter().filter(|c| !c.ok).count();
        if failed == 0 {
            println!("{}", p.green(&format!("all {} checks passed", self.checks.len())));
        } else {
            println!("{}", p.red(&format!("{failed} of {} checks failed", self.checks.len())));
        }
    }
}

/// The key the server's answers must verify with, and in certificate mode the `alipay-sn` they
/// must carry.
struct ServerKey {
    key: PublicKey,
    sn: Option<String>,
}

pub async fn run(args: Box<Args>) -> Result<(), CliError> {
    let c = &args.connection;
    let mut r = Report::default();
    let app_key = private_key(&mut r, c);
    if let Some(path) = &args.app_public_key {
        app_public_key(&mut r, path, app_key.as_ref());
    }
    let server_key = verification(&mut r, c, app_key.as_ref());
    encrypt_key(&mut r, c);
    let origin = endpoint(&mut r, c);
    if let (Some(origin), true) = (origin, c.endpoint_given()) {
        server(&mut r, c, &origin, server_key.as_ref()).await;
    }
    r.print(args.json);
    if r.ok() {
        Ok(())
    } else {
        Err(CliError::silent(Exit::Config))
    }
}

fn private_key(r: &mut Report, c: &ConnectionArgs) -> Option<PublicKey> {
    const NAME: &str = "private-key";
    let label = c.label("private_key");
    let text = match read_input_text(&c.private_key, &label, "app private key") {
        Ok(t) => Zeroizing::new(t),
        Err(e) => {
            r.error(NAME, e, "point --private-key (ALIPAY_PRIVATE_KEY) at the app private key file");
            return None;
        }
    };
    let form = KeyForm::of(&text);
    let shown = c.private_key.display();
    match (parse_private_key(&text), form.problem()) {
        (Ok(key), _) => {
            let bits = match form {
                KeyForm::Rsa { bits, .. } => format!("RSA-{bits}, "),
                _ => String::new(),
            };
            let public = key.public_key();
            r.pass(NAME, format!("{shown}: {bits}{}; public key {}", form.format(), public.fingerprint_sha256()));
            Some(public)
        }
        (Err(_), Some(problem)) => {
            r.fail(NAME, format!("{shown}: {}", problem.what), problem.fix);
            None
        }
        (Err(why), None) => {
            r.fail(
                NAME,
                format!("{shown}: {why}"),
                "give the app private key (the file `jobworth keys generate` writes as app_private_key.pem)",
            );
            None
        }
    }
}

fn app_public_key(r: &mut Report, path: &Path, app_key: Option<&PublicKey>) {
    const NAME: &str = "app-public-key";
    let key = match read_input_text(path, "--app-public-key", "app public key")
        .and_then(|text| PublicKey::parse(&text).map_err(|e| CliError::config(format!("{}: {e}", path.display()))))
    {
        Ok(k) => k,
        Err(e) => return r.error(NAME, e, "give the app public key as PEM (BEGIN PUBLIC KEY) or bare base64"),
    };
    match app_key {
        Some(app) if *app == key => {
            r.pass(NAME, format!("is the pair of the private key ({})", key.fingerprint_sha256()))
        }
        Some(app) => r.fail(
            NAME,
            format!(
                "holds {}, but the private key's public half is {}",
                key.fingerprint_sha256(),
                app.fingerprint_sha256()
            ),
            "register the public key of this private key (`jobworth keys generate` writes the two together), or \
             configure the private key whose public half was registered",
        ),
        None => {
            r.pass(NAME, format!("parses ({}); not compared, the private key did not parse", key.fingerprint_sha256()))
        }
    }
}

/// Key mode or certificate mode, and the checks of the one configured.
fn verification(r: &mut Report, c: &ConnectionArgs, app_key: Option<&PublicKey>) -> Option<ServerKey> {
    const NAME: &str = "mode";
    let certs = [&c.app_cert, &c.alipay_cert, &c.alipay_root_cert];
    let given = certs.iter().filter(|p| p.is_some()).count();
    match (&c.alipay_public_key, given) {
        (Some(path), 0) => {
            r.pass(NAME, format!("key mode, AES {}", if c.encrypt_key.is_some() { "on" } else { "off" }));
            key_mode(r, c, path, app_key)
        }
        (None, 3) => {
            r.pass(NAME, format!("certificate mode, AES {}", if c.encrypt_key.is_some() { "on" } else { "off" }));
            certificate_mode(r, c, app_key)
        }
        (Some(_), _) => {
            r.fail(
                NAME,
                "both key mode (--alipay-public-key) and certificate mode (--app-cert, --alipay-cert, \
                 --alipay-root-cert) are configured",
                "use one of them: the app's setting in Alipay's console says which",
            );
            None
        }
        (None, 0) => {
            r.fail(
                NAME,
                "no way to verify answers",
                "pass --alipay-public-key PATH (key mode), or --app-cert, --alipay-cert and --alipay-root-cert \
                 (certificate mode)",
            );
            None
        }
        (None, _) => {
            let missing: Vec<String> = [("app_cert", 0), ("alipay_cert", 1), ("alipay_root_cert", 2)]
                .iter()
                .filter(|(_, i)| certs[*i].is_none())
                .map(|(id, _)| c.label(id))
                .collect();
            r.fail(NAME, "certificate mode is half-configured", format!("also pass {}", missing.join(" and ")));
            None
        }
    }
}

fn key_mode(r: &mut Report, c: &ConnectionArgs, path: &Path, app_key: Option<&PublicKey>) -> Option<ServerKey> {
    let label = c.label("alipay_public_key");
    match query::load_alipay_public_key(path, &label) {
        Ok(key) => {
            r.pass("alipay-public-key", format!("{}: RSA public key {}", path.display(), key.fingerprint_sha256()));
            not_the_app_key(r, &key, app_key, &label, path);
            Some(ServerKey { key, sn: None })
        }
        Err(e) => {
            r.error("alipay-public-key", e, ALIPAY_KEY_FIX);
            None
        }
    }
}

fn not_the_app_key(r: &mut Report, alipay: &PublicKey, app_key: Option<&PublicKey>, label: &str, path: &Path) {
    const NAME: &str = "alipay-key-is-not-app-key";
    let Some(app) = app_key else { return };
    match query::not_the_app_key(alipay, app, label, path) {
        Ok(()) => r.pass(NAME, "the Alipay key differs from the app's own public key"),
        Err(e) => r.error(NAME, e, ALIPAY_KEY_FIX),
    }
}

/// A certificate file as `jobworth query` reads it (text), and its certificates.
fn read_certs(r: &mut Report, name: &'static str, c: &ConnectionArgs, id: &str) -> Option<(String, Vec<Certificate>)> {
    let path = match id {
        "app_cert" => c.app_cert.as_ref(),
        "alipay_cert" => c.alipay_cert.as_ref(),
        _ => c.alipay_root_cert.as_ref(),
    }?;
    let label = c.label(id);
    let text = match read_input_text(path, &label, "certificate") {
        Ok(t) => t,
        Err(e) => {
            r.error(name, e, "give the certificate file as PEM (BEGIN CERTIFICATE)");
            return None;
        }
    };
    match inspect::certificates(text.as_bytes()) {
        Ok(certs) => Some((text, certs)),
        Err(why) => {
            r.fail(
                name,
                format!("{label} {}: not a usable certificate ({why})", path.display()),
                "give the certificate file as PEM (BEGIN CERTIFICATE)",
            );
            None
        }
    }
}

fn certificate_mode(r: &mut Report, c: &ConnectionArgs, app_key: Option<&PublicKey>) -> Option<ServerKey> {
    let app = read_certs(r, "app-cert", c, "app_cert");
    if let Some((_, certs)) = &app {
        app_cert(r, &certs[0], app_key);
        dates(
            r,
            "app-cert-validity",
            &certs[0],
            "renew the app certificate in Alipay's console (a sandbox issues one with POST /sandbox/apps)",
        );
    }
    let root = read_certs(r, "alipay-root-cert", c, "alipay_root_cert");
    if let Some((_, certs)) = &root {
        match query::root_bundle_problem(certs) {
            Some(problem) => r.fail("alipay-root-cert", problem.what, problem.fix),
            None => r.pass("alipay-root-cert", format!("{} self-signed root certificate(s)", certs.len())),
        }
    }
    let alipay = read_certs(r, "alipay-cert", c, "alipay_cert");
    let mut server_key = None;
    if let Some((_, certs)) = &alipay {
        let leaf = &certs[0];
        match leaf.info.public_key() {
            Ok(key) => {
                r.pass(
                    "alipay-cert",
                    format!("RSA public key {}, issued by {}", key.fingerprint_sha256(), leaf.info.issuer_dn),
                );
                let path = c.alipay_cert.as_deref().unwrap_or(Path::new(""));
                not_the_app_key(r, &key, app_key, &c.label("alipay_cert"), path);
                server_key = Some(ServerKey { key, sn: Some(leaf.info.sn()) });
            }
            Err(e) => r.fail("alipay-cert", format!("the certificate's key is not usable ({e})"), ALIPAY_KEY_FIX),
        }
        dates(
            r,
            "alipay-cert-validity",
            leaf,
            "download the current Alipay public-key certificate (alipayCertPublicKey_RSA2.crt) from Alipay's console",
        );
        if let Some((_, roots)) = &root {
            chain(r, certs, roots);
        }
    }
    if let (Some((app, _)), Some((alipay, _)), Some((root, _))) = (&app, &alipay, &root) {
        sns(r, app, alipay, root);
    }
    server_key
}

fn app_cert(r: &mut Report, cert: &Certificate, app_key: Option<&PublicKey>) {
    const NAME: &str = "app-cert";
    match (cert.info.public_key(), app_key) {
        (Ok(key), Some(app)) if key == *app => {
            r.pass(NAME, format!("holds the public key of the private key ({})", key.fingerprint_sha256()))
        }
        (Ok(key), Some(app)) => r.fail(
            NAME,
            format!("holds {}, but the private key's public half is {}", key.fingerprint_sha256(), app.fingerprint_sha256()),
            "use the app certificate issued for this private key (appCertPublicKey_<APPID>.crt; a sandbox's app_cert), \
             or the private key it was issued for",
        ),
        (Ok(key), None) => {
            r.pass(NAME, format!("holds {}; not compared, the private key did not parse", key.fingerprint_sha256()))
        }
        (Err(e), _) => r.fail(NAME, format!("the certificate's key is not usable ({e})"), "use the app certificate issued for the app's RSA key"),
    }
}

fn dates(r: &mut Report, name: &'static str, cert: &Certificate, fix: &str) {
    let now = alipay_v3::now_millis() / 1000;
    let (from, until) = (cert.not_before, cert.not_after);
    let span = format!("{} to {}", inspect::date(from), inspect::date(until));
    if now < from {
        r.fail(name, format!("not valid yet (valid {span})"), format!("check this machine's clock, or {fix}"));
    } else if now > until {
        r.fail(name, format!("expired on {} (valid {span})", inspect::date(until)), fix);
    } else {
        r.pass(name, format!("valid {span}"));
    }
}

/// Follows the Alipay certificate through the intermediates its file carries up to a root of
/// the bundle, checking each signature.
fn chain(r: &mut Report, alipay: &[Certificate], roots: &[Certificate]) {
    const NAME: &str = "alipay-cert-chain";
    let current = match alipay_v3::receipt::chain_root(&alipay[0], &alipay[1..], roots) {
        Ok(root) => return r.pass(NAME, format!("chains to the root {}", root.info.issuer_dn)),
        Err(stop) => stop,
    };
    r.fail(
        NAME,
        format!(
            "a certificate issued by {} is not signed by any root of the bundle (nor by an intermediate certificate \
             in the Alipay certificate file)",
            current.info.issuer_dn
        ),
        "use the Alipay certificate and the root bundle of the same environment (both from Alipay's console, or both \
         from the same sandbox); Alipay's alipayCertPublicKey_RSA2.crt carries its intermediate certificate after the \
         first one",
    );
}

/// The SNs certificate mode sends, computed as the SDK computes them.
fn sns(r: &mut Report, app: &str, alipay: &str, root: &str) {
    const NAME: &str = "cert-sns";
    let computed =
        (alipay_v3::cert::cert_sn(app), alipay_v3::cert::cert_sn(alipay), alipay_v3::cert::root_cert_sn(root));
    match computed {
        (Ok(app), Ok(alipay), Ok(root)) => r.pass(
            NAME,
            format!("app_cert_sn {app}, alipay_root_cert_sn {root}; answers must carry alipay-sn {alipay}"),
        ),
        (app, alipay, root) => {
            let failed: Vec<String> =
                [("app_cert_sn", app.err()), ("alipay-sn", alipay.err()), ("alipay_root_cert_sn", root.err())]
                    .into_iter()
                    .filter_map(|(sn, e)| e.map(|e| format!("{sn}: {e}")))
                    .collect();
            r.fail(
                NAME,
                format!("does not compute ({})", failed.join("; ")),
                "use the certificate files Alipay's console (or the sandbox) handed out, unchanged",
            );
        }
    }
}

fn encrypt_key(r: &mut Report, c: &ConnectionArgs) {
    const NAME: &str = "encrypt-key";
    let fix = "copy the app's AES key (接口内容加密密钥) from Alipay's console again; a sandbox's is the encrypt_key \
               the app was registered with";
    let Some(b64) = c.encrypt_key.as_deref() else {
        return r.pass(NAME, "none configured: AES off (an app with an AES key needs --encrypt-key)");
    };
    let decoded = Zeroizing::new(alipay_v3::pem::decode_base64_lenient(b64.trim()));
    match decoded.as_deref().map(<[u8]>::len) {
        None => r.fail(NAME, "the AES key is not base64", fix),
        Some(n @ (16 | 24 | 32)) if alipay_v3::aes::AesKey::from_base64(b64.trim()).is_ok() => {
            r.pass(NAME, format!("AES-{} ({n} bytes after base64): AES on", n * 8))
        }
        Some(n) => r.fail(NAME, format!("the AES key is {n} bytes after base64; AES needs 16, 24 or 32"), fix),
    }
}

/// The endpoint is a base URL; returns its origin.
fn endpoint(r: &mut Report, c: &ConnectionArgs) -> Option<String> {
    const NAME: &str = "endpoint";
    let raw = c.endpoint.trim();
    let shown = if raw.contains('@') { "the URL (with user info)" } else { raw };
    let example = "a base URL such as https://openapi.alipay.com or http://127.0.0.1:8340";
    let url = match reqwest::Url::parse(raw) {
        Ok(u) if u.scheme() == "http" || u.scheme() == "https" => u,
        Ok(_) => {
            r.fail(NAME, format!("{shown} is not an http or https URL"), format!("use {example}"));
            return None;
        }
        Err(e) => {
            r.fail(NAME, format!("{shown} is not a URL ({e})"), format!("use {example}"));
            return None;
        }
    };
    let origin = url.origin().ascii_serialization();
    let path = url.path();
    let problem = if !url.username().is_empty() || url.password().is_some() {
        Some("carries user info")
    } else if path.ends_with("gateway.do") {
        Some("is the v2 gateway (…/gateway.do); v3 calls go to the base URL")
    } else if path.starts_with("/v3") {
        Some("includes an API path; the client appends /v3/… itself")
    } else if !path.trim_end_matches('/').is_empty() || url.query().is_some() || url.fragment().is_some() {
        Some("has a path, query or fragment; the endpoint is the gateway's base URL")
    } else {
        None
    };
    match problem {
        Some(what) => {
            r.fail(NAME, format!("{shown} {what}"), format!("use --endpoint {origin}"));
            None
        }
        None => {
            let note = if c.endpoint_given() { "" } else { " (the default, Alipay's production gateway)" };
            r.pass(NAME, format!("{origin}{note}"));
            Some(origin)
        }
    }
}

/// The probe's answer: enough to read the server's clock and check its signature.
struct Probe {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
    /// This machine's clock halfway through the exchange, epoch milliseconds.
    local_ms: i64,
    round_trip: Duration,
}

/// One unauthenticated GET of the query path: the gateway refuses it before looking at any
/// parameter (nothing is spent) and signs the refusal like any answer.
async fn probe(origin: &str, timeout: Duration) -> Result<Probe, String> {
    let host = reqwest::Url::parse(origin).ok().and_then(|u| u.host_str().map(str::to_string)).unwrap_or_default();
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let loopback =
        bare.eq_ignore_ascii_case("localhost") || bare.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    let mut builder = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).timeout(timeout);
    if loopback {
        // A local sandbox never sits behind a proxy (as in the SDK).
        builder = builder.no_proxy();
    }
    let http = builder.build().map_err(|e| error_chain(&e))?;
    let before = alipay_v3::now_millis();
    let started = Instant::now();
    let mut res =
        http.get(format!("{origin}{}", jobworth::AUTHENTICATION_PATH)).send().await.map_err(|e| error_chain(&e))?;
    let round_trip = started.elapsed();
    let local_ms = i64::try_from(before)
        .unwrap_or(i64::MAX)
        .saturating_add(i64::try_from(round_trip.as_millis() / 2).unwrap_or(0));
    let mut body = Vec::new();
    while let Some(chunk) = res.chunk().await.map_err(|e| error_chain(&e))? {
        body.extend_from_slice(&chunk);
        if body.len() > PROBE_BODY_LIMIT {
            return Err(format!("the answer is longer than {PROBE_BODY_LIMIT} bytes"));
        }
    }
    Ok(Probe { status: res.status().as_u16(), headers: res.headers().clone(), body, local_ms, round_trip })
}

/// An error and its sources, as one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

async fn server(r: &mut Report, c: &ConnectionArgs, origin: &str, key: Option<&ServerKey>) {
    const NAME: &str = "clock";
    let probe = match probe(origin, c.timeout.unwrap_or(jobworth::DEFAULT_TIMEOUT)).await {
        Ok(p) => p,
        Err(why) => {
            let fix = query::plain_http_hint(&c.endpoint, &why).unwrap_or_else(|| {
                "check --endpoint and the network; for a local sandbox, start `jobworth sandbox` first".into()
            });
            return r.fail("reachable", format!("cannot reach {origin}: {why}"), fix);
        }
    };
    r.pass(
        "reachable",
        format!("GET {} without credentials answered HTTP {}", jobworth::AUTHENTICATION_PATH, probe.status),
    );
    let header = |name: &str| probe.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    match header(alipay_v3::headers::TIMESTAMP).and_then(|t| t.parse::<i64>().ok()) {
        None => r.fail(
            NAME,
            format!("{origin} answered HTTP {} without an alipay-timestamp header", probe.status),
            "check that --endpoint is an Alipay v3 gateway or a jobworth sandbox",
        ),
        Some(server_ms) => {
            let skew = server_ms - probe.local_ms;
            let direction = if skew < 0 { "behind" } else { "ahead of" };
            let detail = format!(
                "the server's clock is {:.1} s {direction} this machine's (round trip {} ms; limit ±{} s)",
                skew.unsigned_abs() as f64 / 1000.0,
                probe.round_trip.as_millis(),
                CLOCK_LIMIT.as_secs()
            );
            if skew.unsigned_abs() <= CLOCK_LIMIT.as_millis() as u64 {
                r.pass(NAME, detail);
            } else {
                r.fail(
                    NAME,
                    detail,
                    "set this machine's clock right (enable NTP): Alipay refuses requests whose timestamp is off",
                );
            }
        }
    }
    if let Some(key) = key {
        server_key(r, &probe, key);
    }
}

/// Whether the configured Alipay key verifies what the server signs: a sandbox key against
/// production (or the reverse) shows here, before a query spends a once_token on it.
fn server_key(r: &mut Report, probe: &Probe, expected: &ServerKey) {
    const NAME: &str = "server-key";
    use alipay_v3::headers::{NONCE, SIGNATURE, SN, TIMESTAMP};
    let header = |name: &str| probe.headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(ts), Some(nonce), Some(sig)) = (header(TIMESTAMP), header(NONCE), header(SIGNATURE)) else {
        // An unsigned refusal (a sandbox with --unsigned-errors) leaves nothing to check.
        return;
    };
    let fingerprint = expected.key.fingerprint_sha256();
    if let (Some(want), Some(got)) = (&expected.sn, header(SN)) {
        if want != got {
            return r.fail(
                NAME,
                format!("the server signs as Alipay certificate {got}, but the configured one is {want}"),
                "use the Alipay certificate of this endpoint (production and sandbox differ)",
            );
        }
    }
    if verifies(&expected.key, ts, nonce, &probe.body, sig) {
        r.pass(NAME, format!("the server's signature verifies with the configured Alipay key ({fingerprint})"));
    } else {
        r.fail(
            NAME,
            format!("the server's signature does not verify with the configured Alipay key ({fingerprint}): it signs with another key"),
            match expected.sn {
                Some(_) => "use the Alipay certificate of this endpoint (alipayCertPublicKey_RSA2.crt; a sandbox's \
                            alipay_cert): production and sandbox differ"
                    .to_string(),
                None => format!("{ALIPAY_KEY_FIX}; a production key against a sandbox, or the reverse, is the usual cause"),
            },
        );
    }
}

/// The one call into the protocol core's response check.
fn verifies(key: &PublicKey, timestamp: &str, nonce: &str, body: &[u8], signature: &str) -> bool {
    alipay_v3::verify::verify_response(key, timestamp, nonce, body, signature).is_ok()
}
