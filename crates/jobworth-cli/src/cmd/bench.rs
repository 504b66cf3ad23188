//! `jobworth bench`: closed-loop load on the query endpoint, set against the machine's crypto ceiling.
//!
//! N workers share one SDK client (one keep-alive connection each, opened before the clock starts) and
//! each repeats the same `WAITING_VERIFY` query — a `pending` persona's token never becomes terminal, so
//! every query does the full work (signature checks, token lookup, signed answer) and none is refused.
//!
//! The ceiling is what the system's RSA work alone allows on all cores: per request the client signs,
//! the server verifies, the server signs its answer and the client verifies it (2 signs + 2 verifies),
//! run in a tight loop on one thread per core in this process with the same app key. `ratio` =
//! requests/s ÷ that ceiling: how much of the machine the rest of the stack (HTTP, SQLite, JSON, tasks)
//! leaves to the crypto.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use alipay_v3::keys::{PrivateKey, PublicKey};
use serde::Serialize;
use serde_json::{json, Value};

use super::control::Control;
use crate::error::CliError;
use crate::output::{print_fields, Palette};

const QUERY_PATH: &str = "/v3/zhima/customer/jobworth/authentication";
const SERVICE_ID: &str = "2019120400000000000004450100";
/// A request slower than this is a failure, not a latency sample.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the ceiling is measured at most.
const CEILING_SECS: f64 = 3.0;
const MAX_CONCURRENCY: usize = 1024;
const MAX_DURATION: u64 = 3600;

#[derive(Debug, clap::Args)]
#[command(after_help = "Without --endpoint an embedded sandbox is started on a free loopback port with a temporary \
    data dir. With --endpoint URL, URL must be a `jobworth sandbox` on this machine (a loopback address) whose \
    control plane (/sandbox/*) answers this client: bench registers its own app there and creates `pending` \
    authentications to query.\n\n\
    --json prints one object: requests_per_sec, p50_ms, p99_ms, ceiling_requests_per_sec, ratio, then details.")]
pub struct Args {
    /// Sandbox to drive (its control plane must be reachable); without it an embedded sandbox is started
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Requests in flight at once (closed loop: each worker sends its next request when the last one is answered)
    /// [default: 4 × CPU cores, enough to keep every core busy while requests wait on the sandbox's storage]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=MAX_CONCURRENCY as i64))]
    pub concurrency: Option<u32>,
    /// How long to run the load, in seconds
    #[arg(long, value_name = "SECS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=MAX_DURATION))]
    pub duration: u64,
    /// Print one JSON object: requests_per_sec, p50_ms, p99_ms, ceiling_requests_per_sec, ratio, then details
    #[arg(long)]
    pub json: bool,
}

/// `--json`: the SPEC §5 keys first, in the contract's order, then details.
#[derive(Debug, Serialize)]
struct Report {
    requests_per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    ceiling_requests_per_sec: f64,
    ratio: f64,
    requests: u64,
    errors: u64,
    duration_secs: f64,
    concurrency: usize,
    mean_ms: f64,
    max_ms: f64,
    /// CPU time (user + system) this process spent per answered query during the load: the client's
    /// cost with `--endpoint`, client and sandbox together when embedded. `None` off Linux.
    cpu_us_per_request: Option<f64>,
    ceiling_threads: usize,
    /// Peak resident set of this process (client, plus the sandbox when embedded), from VmHWM.
    peak_rss_mib: Option<f64>,
    target: String,
}

pub async fn run(args: Args) -> Result<(), CliError> {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let concurrency = args.concurrency.map(|n| n as usize).unwrap_or(4 * cores).clamp(1, MAX_CONCURRENCY);
    let duration = Duration::from_secs(args.duration);
    let progress = Progress::new(std::io::stderr().is_terminal());

    // The embedded sandbox lives until the end of this function; its data dir after it.
    let mut embedded = None;
    let (base_url, target) = match &args.endpoint {
        Some(url) => (loopback_endpoint(url)?, url.clone()),
        None => {
            let e = super::start_embedded("jobworth-bench-").await?;
            let url = e.sandbox.base_url().to_string();
            embedded = Some(e);
            (url, "embedded sandbox".to_string())
        }
    };

    let outcome = bench(&base_url, &target, concurrency, duration, cores, &progress).await;
    if let Some(super::Embedded { sandbox, data }) = embedded {
        sandbox.shutdown().await;
        drop(data);
    }
    let report = outcome?;
    print_report(&report, args.json)
}

/// A load generator aimed at someone else's server is an attack, not a benchmark: `--endpoint` must
/// be a loopback address (a sandbox on this machine). Returns the URL without a trailing slash.
fn loopback_endpoint(url: &str) -> Result<String, CliError> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| CliError::config(format!("--endpoint {url}: not a URL ({e}); e.g. http://127.0.0.1:8340")))?;
    let host = parsed.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
    let loopback =
        host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if !matches!(parsed.scheme(), "http" | "https") || !loopback {
        return Err(CliError::config(format!(
            "--endpoint {url}: bench drives a sandbox on this machine only; give an http://127.0.0.1:PORT, \
             http://[::1]:PORT or http://localhost:PORT address"
        )));
    }
    Ok(url.trim_end_matches('/').to_string())
}

async fn bench(
    base_url: &str,
    target: &str,
    concurrency: usize,
    duration: Duration,
    cores: usize,
    progress: &Progress,
) -> Result<Report, CliError> {
    progress.line("setting up: app key, app registration, pending authentications");
    let setup = Setup::create(base_url, concurrency).await?;

    progress.line("measuring the crypto ceiling");
    let ceiling_secs = duration.as_secs_f64().min(CEILING_SECS);
    let ceiling = {
        let app_key = setup.app_key.clone();
        let app_id = setup.app_id.clone();
        tokio::task::spawn_blocking(move || {
            crypto_ceiling(&app_key, &app_id, cores, Duration::from_secs_f64(ceiling_secs))
        })
        .await
        .map_err(|e| CliError::failure(format!("the ceiling measurement failed: {e}")))??
    };

    let load = run_load(&setup, duration, progress).await?;
    progress.clear();
    if load.ok == 0 {
        return Err(CliError::transport(format!(
            "no query succeeded against {target}: {}",
            load.first_error.as_deref().unwrap_or("no answer")
        )));
    }
    if let Some(e) = &load.first_error {
        eprintln!("warning: {} of {} queries failed; first failure: {e}", load.errors, load.ok + load.errors);
    }
    let secs = load.elapsed.as_secs_f64();
    let rps = load.ok as f64 / secs;
    Ok(Report {
        requests_per_sec: round(rps, 1),
        p50_ms: round(load.latency.quantile(0.50) as f64 / 1000.0, 3),
        p99_ms: round(load.latency.quantile(0.99) as f64 / 1000.0, 3),
        ceiling_requests_per_sec: round(ceiling.sets_per_sec, 1),
        ratio: round(rps / ceiling.sets_per_sec, 4),
        requests: load.ok,
        errors: load.errors,
        duration_secs: round(secs, 3),
        concurrency,
        mean_ms: round(load.latency.mean() / 1000.0, 3),
        max_ms: round(load.latency.max() as f64 / 1000.0, 3),
        cpu_us_per_request: load.cpu.map(|c| round(c.as_secs_f64() * 1e6 / load.ok as f64, 1)),
        ceiling_threads: ceiling.threads,
        peak_rss_mib: peak_rss_mib(),
        target: target.to_string(),
    })
}

fn round(v: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (v * f).round() / f
}

/// One worker's query: a `pending` authentication of its own.
struct Token {
    conn_key: String,
    once_token: String,
    user_id: String,
}

struct Setup {
    app_id: String,
    app_key: PrivateKey,
    client: jobworth::Client,
    tokens: Vec<Token>,
}

impl Setup {
    /// Registers a fresh app through the control plane and creates one `pending` authentication per worker.
    async fn create(base_url: &str, workers: usize) -> Result<Self, CliError> {
        let control = Control::new(base_url, " — bench needs a jobworth sandbox whose control plane answers it")?;
        let app_key = PrivateKey::generate().map_err(|e| CliError::failure(format!("key generation failed: {e}")))?;
        let app_id = format!("2021{:012}", random_u64() % 1_000_000_000_000);
        let app = control
            .post("/sandbox/apps", &json!({ "app_id": app_id, "public_key": app_key.public_key().to_spki_pem() }), 201)
            .await?;
        let alipay_pem = app.get("alipay_public_key").and_then(Value::as_str).ok_or_else(|| {
            CliError::failure(
                "POST /sandbox/apps: the answer has no alipay_public_key (is --endpoint a jobworth sandbox?)",
            )
        })?;
        let alipay_key = PublicKey::parse(alipay_pem)
            .map_err(|e| CliError::failure(format!("the sandbox's alipay_public_key does not parse: {e}")))?;

        let run_tag = alipay_v3::new_nonce();
        let mut tokens = Vec::with_capacity(workers);
        for i in 0..workers {
            let created = control
                .post(
                    "/sandbox/authentications",
                    &json!({
                        "app_id": app_id,
                        "conn_key": format!("bench-{}-{i}", &run_tag[..8]),
                        "service_id": SERVICE_ID,
                        "identity_type": "04",
                        "persona": "pending",
                    }),
                    201,
                )
                .await?;
            let field = |name: &str| {
                created.get(name).and_then(Value::as_str).map(str::to_string).ok_or_else(|| {
                    CliError::failure(format!("POST /sandbox/authentications: the answer has no `{name}`"))
                })
            };
            tokens.push(Token {
                conn_key: field("conn_key")?,
                once_token: field("once_token")?,
                user_id: field("user_id")?,
            });
        }

        let client = jobworth::Client::builder()
            .endpoint(base_url)
            .app_id(&app_id)
            .private_key(app_key.clone())
            .alipay_public_key(alipay_key)
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| CliError::failure(format!("cannot configure the SDK client: {e}")))?;
        Ok(Setup { app_id, app_key, client, tokens })
    }
}

fn random_u64() -> u64 {
    // 15 hex digits of a random UUID: plenty for an app id nobody else picks.
    u64::from_str_radix(&alipay_v3::new_nonce().replace('-', "")[..15], 16).unwrap_or(0)
}

/// One query; `Ok` only for the answer a `pending` token must give.
async fn query(client: &jobworth::Client, token: &Token) -> Result<(), String> {
    let result = client
        .authentication_query()
        .conn_key(&token.conn_key)
        .once_token(&token.once_token)
        .query_type(jobworth::QueryType::Exact)
        .identity_type(jobworth::IdentityType::Teacher)
        .service_id(SERVICE_ID)
        .user_id(&token.user_id)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    match result.identity_result {
        jobworth::IdentityResult::WaitingVerify => Ok(()),
        other => Err(format!("expected WAITING_VERIFY for a pending token, got {}", other.as_str())),
    }
}

struct LoadResult {
    ok: u64,
    errors: u64,
    elapsed: Duration,
    latency: Histogram,
    first_error: Option<String>,
    /// Process CPU time used while the clock ran.
    cpu: Option<Duration>,
}

async fn run_load(setup: &Setup, duration: Duration, progress: &Progress) -> Result<LoadResult, CliError> {
    let done = Arc::new(AtomicU64::new(0));
    // Every worker's first query (its warm-up) opens its keep-alive connection; the clock starts when
    // all of them are through.
    let barrier = Arc::new(tokio::sync::Barrier::new(setup.tokens.len() + 1));
    let mut workers = Vec::with_capacity(setup.tokens.len());
    for token in &setup.tokens {
        let client = setup.client.clone();
        let token = Token {
            conn_key: token.conn_key.clone(),
            once_token: token.once_token.clone(),
            user_id: token.user_id.clone(),
        };
        let (done, barrier) = (done.clone(), barrier.clone());
        workers.push(tokio::spawn(async move {
            let warm_up = query(&client, &token).await;
            barrier.wait().await;
            warm_up.map_err(|e| format!("warm-up query failed: {e}"))?;
            let deadline = Instant::now() + duration;
            let mut hist = Histogram::new();
            let (mut ok, mut errors, mut first_error) = (0u64, 0u64, None);
            // Bounded by the deadline; each request by the client's timeout.
            while Instant::now() < deadline {
                let t0 = Instant::now();
                match query(&client, &token).await {
                    Ok(()) => {
                        hist.record(t0.elapsed());
                        ok += 1;
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert(e);
                    }
                }
            }
            Ok::<_, String>((ok, errors, first_error, hist))
        }));
    }
    barrier.wait().await;
    let started = Instant::now();
    let cpu_before = process_cpu_time();

    let ticker = progress.spawn_ticker(done.clone(), started, duration);
    let mut total = LoadResult {
        ok: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        latency: Histogram::new(),
        first_error: None,
        cpu: None,
    };
    let mut failure = None;
    for w in workers {
        match w.await {
            Ok(Ok((ok, errors, first_error, hist))) => {
                total.ok += ok;
                total.errors += errors;
                if total.first_error.is_none() {
                    total.first_error = first_error;
                }
                total.latency.merge(&hist);
            }
            Ok(Err(e)) => failure = failure.or(Some(CliError::transport(e))),
            Err(e) => failure = failure.or(Some(CliError::failure(format!("a load worker failed: {e}")))),
        }
    }
    total.elapsed = started.elapsed();
    total.cpu = cpu_before.zip(process_cpu_time()).map(|(a, b)| b.saturating_sub(a));
    if let Some(t) = ticker {
        t.stop().await;
    }
    match failure {
        Some(e) => {
            progress.clear();
            Err(e)
        }
        None => Ok(total),
    }
}

struct Ceiling {
    sets_per_sec: f64,
    threads: usize,
}

/// Full request crypto sets per second on `threads` threads: what the machine's RSA allows at best.
fn crypto_ceiling(app_key: &PrivateKey, app_id: &str, threads: usize, run_for: Duration) -> Result<Ceiling, CliError> {
    use alipay_v3::{query as q, sign, verify};
    // The sandbox's Alipay key never leaves the sandbox; a fresh RSA-2048 key (the size the sandbox
    // uses) costs the same per operation.
    let server_key = PrivateKey::generate().map_err(|e| CliError::failure(format!("key generation failed: {e}")))?;
    let app_public = app_key.public_key();
    let server_public = server_key.public_key();
    let uri = q::request_uri(
        QUERY_PATH,
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

/// User + system CPU time of this process so far (Linux `/proc/self/stat`); `None` elsewhere.
fn process_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name, which may itself hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 of `rest`, in clock ticks.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_secs_f64(ticks as f64 / CLOCK_TICKS_PER_SEC))
}

/// `sysconf(_SC_CLK_TCK)`: 100 on every Linux architecture Rust supports.
const CLOCK_TICKS_PER_SEC: f64 = 100.0;

/// VmHWM of this process in MiB (Linux); `None` elsewhere.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(round(kib / 1024.0, 1))
}

fn print_report(r: &Report, json: bool) -> Result<(), CliError> {
    if json {
        let text = serde_json::to_string(r).map_err(|e| CliError::failure(format!("cannot encode JSON: {e}")))?;
        println!("{text}");
        return Ok(());
    }
    let p = Palette::stdout();
    println!(
        "{}",
        p.bold(&format!("jobworth bench — {} workers for {:.1}s against {}", r.concurrency, r.duration_secs, r.target))
    );
    let mut rows = vec![
        ("requests/s", p.bold(&format!("{:.1}", r.requests_per_sec))),
        ("requests", format!("{} ({} failed)", r.requests, r.errors)),
        ("latency p50", format!("{:.3} ms", r.p50_ms)),
        ("latency p99", format!("{:.3} ms", r.p99_ms)),
        ("latency mean / max", format!("{:.3} / {:.3} ms", r.mean_ms, r.max_ms)),
        (
            "crypto ceiling",
            format!(
                "{:.1} requests/s ({} threads × (2 RSA signs + 2 verifies))",
                r.ceiling_requests_per_sec, r.ceiling_threads
            ),
        ),
        ("ratio", p.bold(&format!("{:.1}% of the ceiling", r.ratio * 100.0))),
    ];
    if let Some(cpu) = r.cpu_us_per_request {
        rows.push(("CPU per request", format!("{cpu:.0} µs (this process, user + system)")));
    }
    if let Some(rss) = r.peak_rss_mib {
        rows.push(("peak RSS", format!("{rss:.1} MiB (this process)")));
    }
    print_fields(&p, &rows);
    Ok(())
}

/// The `\r` status line on stderr; silent when stderr is not a terminal.
struct Progress {
    enabled: bool,
}

struct Ticker {
    stop: Arc<AtomicBool>,
    handle: tokio::task::JoinHandle<()>,
}

impl Ticker {
    async fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.handle.await;
    }
}

impl Progress {
    fn new(enabled: bool) -> Self {
        Progress { enabled }
    }

    fn line(&self, text: &str) {
        if self.enabled {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K{text}");
            let _ = err.flush();
        }
    }

    fn clear(&self) {
        self.line("");
    }

    fn spawn_ticker(&self, done: Arc<AtomicU64>, started: Instant, total: Duration) -> Option<Ticker> {
        if !self.enabled {
            return None;
        }
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = tokio::spawn(async move {
            while !flag.load(Ordering::Relaxed) {
                let secs = started.elapsed().as_secs_f64();
                let n = done.load(Ordering::Relaxed);
                let bar_width = 24usize;
                let filled = ((secs / total.as_secs_f64()).min(1.0) * bar_width as f64) as usize;
                Progress { enabled: true }.line(&format!(
                    "[{}{}] {secs:5.1}/{:.0}s  {n} requests  {:.0} req/s",
                    "#".repeat(filled),
                    " ".repeat(bar_width - filled),
                    total.as_secs_f64(),
                    n as f64 / secs.max(1e-3)
                ));
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
        Some(Ticker { stop, handle })
    }
}

/// Latency histogram in microseconds with log-linear buckets (64 per power of two, < 1.6% error), so
/// memory stays fixed however long the run.
#[derive(Clone)]
struct Histogram {
    counts: Vec<u64>,
    total: u64,
    sum_us: u128,
    max_us: u64,
}

const SUB_BITS: u32 = 6;
const SUB: u64 = 1 << SUB_BITS;

impl Histogram {
    fn new() -> Self {
        Histogram { counts: vec![0; Self::index(u64::MAX) + 1], total: 0, sum_us: 0, max_us: 0 }
    }

    fn index(us: u64) -> usize {
        if us < SUB {
            return us as usize;
        }
        let exp = 63 - us.leading_zeros(); // >= SUB_BITS
        let mantissa = (us >> (exp - SUB_BITS)) & (SUB - 1);
        ((exp - SUB_BITS + 1) as u64 * SUB + mantissa) as usize
    }

    /// The smallest value that falls into bucket `i`.
    fn lower_bound(i: usize) -> u64 {
        let i = i as u64;
        if i < SUB {
            return i;
        }
        let exp = (i / SUB) as u32 + SUB_BITS - 1;
        (1 << exp) | ((i % SUB) << (exp - SUB_BITS))
    }

    fn record(&mut self, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.counts[Self::index(us)] += 1;
        self.total += 1;
        self.sum_us += us as u128;
        self.max_us = self.max_us.max(us);
    }

    fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.total += other.total;
        self.sum_us += other.sum_us;
        self.max_us = self.max_us.max(other.max_us);
    }

    /// Nearest-rank quantile, reported as the midpoint of its bucket (capped by the maximum seen).
    fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let lo = Self::lower_bound(i);
                let hi = Self::lower_bound(i + 1).saturating_sub(1).max(lo);
                return (lo + (hi - lo) / 2).min(self.max_us);
            }
        }
        self.max_us
    }

    fn mean(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.sum_us as f64 / self.total as f64
        }
    }

    fn max(&self) -> u64 {
        self.max_us
    }
}

#[cfg(test)]
mod tests {
    use std::hint::black_box;

    use super::*;

    #[test]
    fn histogram_buckets_are_contiguous_and_tight() {
        let mut prev = 0;
        for us in (0..200_000u64).chain([u32::MAX as u64, u64::MAX / 2, u64::MAX]) {
            let i = Histogram::index(us);
            assert!(i >= prev || us > 200_000, "index is monotonic");
            prev = i;
            let lo = Histogram::lower_bound(i);
            assert!(lo <= us, "{us} in bucket {i} starting at {lo}");
            if i + 1 < Histogram::new().counts.len() {
                assert!(us < Histogram::lower_bound(i + 1), "{us} below the next bucket");
            }
            assert!((us - lo) as f64 <= us as f64 / SUB as f64 + 1.0, "bucket width for {us}");
        }
    }

    #[test]
    fn histogram_quantiles() {
        let mut h = Histogram::new();
        assert_eq!(h.quantile(0.5), 0);
        for ms in 1..=100u64 {
            h.record(Duration::from_millis(ms));
        }
        let p50 = h.quantile(0.5) as f64;
        let p99 = h.quantile(0.99) as f64;
        assert!((p50 - 50_000.0).abs() / 50_000.0 < 0.02, "{p50}");
        assert!((p99 - 99_000.0).abs() / 99_000.0 < 0.02, "{p99}");
        assert_eq!(h.max(), 100_000);
        assert!((h.mean() - 50_500.0).abs() < 1.0);
        let mut other = Histogram::new();
        other.record(Duration::from_secs(5));
        h.merge(&other);
        assert_eq!(h.total, 101);
        assert_eq!(h.quantile(1.0), 5_000_000);
    }

    #[test]
    fn endpoint_must_be_loopback() {
        for ok in ["http://127.0.0.1:8340", "http://127.0.0.1:8340/", "http://localhost:1", "http://[::1]:9"] {
            assert!(loopback_endpoint(ok).is_ok(), "{ok}");
        }
        assert_eq!(loopback_endpoint("http://127.0.0.1:8340/").unwrap(), "http://127.0.0.1:8340");
        for bad in ["https://openapi.alipay.com", "http://192.0.2.1:8340", "http://10.0.0.1", "ftp://127.0.0.1", "nope"]
        {
            assert_eq!(loopback_endpoint(bad).unwrap_err().exit, crate::error::Exit::Config, "{bad}");
        }
    }

    #[test]
    fn cpu_time_is_read_and_grows() {
        let a = process_cpu_time().unwrap();
        let t = Instant::now();
        let mut x = 0u64;
        while t.elapsed() < Duration::from_millis(50) {
            x = black_box(x.wrapping_add(1));
        }
        let b = process_cpu_time().unwrap();
        assert!(b > a, "{a:?} -> {b:?}");
    }

    #[test]
    fn ceiling_counts_verified_sets() {
        let key = PrivateKey::generate().unwrap();
        let c = crypto_ceiling(&key, "2021000000000001", 1, Duration::from_millis(50)).unwrap();
        assert!(c.sets_per_sec > 0.0);
        assert_eq!(c.threads, 1);
    }

    #[test]
    fn report_keys_lead_in_contract_order() {
        let r = Report {
            requests_per_sec: 1.0,
            p50_ms: 2.0,
            p99_ms: 3.0,
            ceiling_requests_per_sec: 4.0,
            ratio: 0.25,
            requests: 5,
            errors: 0,
            duration_secs: 1.0,
            concurrency: 2,
            mean_ms: 2.0,
            max_ms: 3.0,
            cpu_us_per_request: Some(500.0),
            ceiling_threads: 2,
            peak_rss_mib: Some(10.0),
            target: "embedded sandbox".into(),
        };
        let text = serde_json::to_string(&r).unwrap();
        let keys = ["requests_per_sec", "p50_ms", "p99_ms", "ceiling_requests_per_sec", "ratio"];
        let positions: Vec<usize> = keys.iter().map(|k| text.find(&format!("\"{k}\"")).unwrap()).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
        assert!(text.starts_with("{\"requests_per_sec\""));
    }
}
