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

mod ceiling;
mod histogram;
mod load;
mod proc;
mod progress;
mod setup;

use std::io::IsTerminal;
use std::time::Duration;

use serde::Serialize;

use self::ceiling::crypto_ceiling;
use self::load::run_load;
use self::proc::peak_rss_mib;
use self::progress::Progress;
use self::setup::Setup;
use crate::error::CliError;
use crate::output::{print_fields, Palette};

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
    authentications to query. With several --endpoint, worker i drives endpoint i mod their number, each \
    worker through its own connection; the app is registered on every one.\n\n\
    --json prints one object: requests_per_sec, p50_ms, p99_ms, ceiling_requests_per_sec, ratio, then details.")]
pub struct Args {
    /// Sandbox to drive (its control plane must be reachable); without it an embedded sandbox is started.
    /// Repeatable: the workers are spread over the endpoints in turn (e.g. instances sharing one database)
    #[arg(long = "endpoint", value_name = "URL")]
    pub endpoints: Vec<String>,
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

/// `--json`: the documented keys first (requests_per_sec, p50_ms, p99_ms, ceiling_requests_per_sec, ratio), in that order, then details.
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
    let (base_urls, target) = if args.endpoints.is_empty() {
        let e = super::start_embedded("jobworth-bench-").await?;
        let url = e.sandbox.base_url().to_string();
        embedded = Some(e);
        (vec![url], "embedded sandbox".to_string())
    } else {
        let urls = args.endpoints.iter().map(|u| loopback_endpoint(u)).collect::<Result<Vec<_>, _>>()?;
        (urls, args.endpoints.join(" "))
    };

    let outcome = bench(&base_urls, &target, concurrency, duration, cores, &progress).await;
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
    base_urls: &[String],
    target: &str,
    concurrency: usize,
    duration: Duration,
    cores: usize,
    progress: &Progress,
) -> Result<Report, CliError> {
    progress.line("setting up: app key, app registration, pending authentications");
    let setup = Setup::create(base_urls, concurrency).await?;

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
        ("ratio", p.bold(&format!("{:.1}% of the ceiling", r.ratio * 100.0)) + ratio_note(&r.target)),
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

/// What the ratio is when the sandbox is not in this process: the ceiling is still this machine's
/// RSA-only rate, but the sandbox's share of the cores is out of this process's sight.
fn ratio_note(target: &str) -> &'static str {
    if target == "embedded sandbox" {
        ""
    } else {
        " (requests/s ÷ this machine's RSA-only rate; the sandbox is another process sharing the cores, \
         so this is the pair's throughput against that rate, not the sandbox's efficiency)"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
