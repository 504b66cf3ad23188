//! `jobworth demo`: the whole flow (step-1 order string, the desk, the query) against an in-process sandbox — generated keys, a real
//! loopback HTTP server, a temporary data dir — with every step checked, so a deviation fails the demo.

use std::time::{Duration, Instant};

use alipay_v3::keys::PrivateKey;
use serde_json::{json, Value};

use super::control::Control;
use crate::error::CliError;
use crate::output::{print_fields_indented, Palette};

#[derive(Debug, clap::Args)]
#[command(after_help = "Nothing needs configuring: the sandbox listens on a free loopback port, keeps its state in a \
    temporary directory that is removed afterwards, and the app keys are generated for the run. With --keep the \
    sandbox stays up after the flow, so its pages can be opened in a browser, until Ctrl-C.")]
pub struct Args {
    /// Keep the sandbox running after the flow (its index and the demo's desk in a browser) until Ctrl-C
    #[arg(long)]
    keep: bool,
}

const STEPS: usize = 7;
const APP_ID: &str = "2021000000000001";
/// The service id of the seed's Java example.
const SERVICE_ID: &str = "2019120400000000000004450100";
const PERSONA: &str = "teacher";

pub async fn run(args: Args) -> Result<(), CliError> {
    let started = Instant::now();
    let p = Palette::stdout();
    println!("{}", p.bold("jobworth demo — Zhima Jobworth identity authentication against an embedded sandbox"));

    step(&p, 1, "Start the sandbox (in-process, free loopback port, temporary data dir)");
    let super::Embedded { sandbox, data } = super::start_embedded("jobworth-demo-").await?;
    let base_url = sandbox.base_url();
    details(
        &p,
        &[
            ("listening on", base_url.to_string()),
            ("data dir", format!("{} (removed at the end)", data.path().display())),
        ],
    );

    // Shut the sandbox down whatever the flow's outcome, then report it.
    let outcome = flow(&p, base_url).await;
    if let Ok(desk_id) = &outcome {
        println!();
        println!(
            "{} demo finished in {:.1}s: verified result read once, second read refused",
            p.green(&p.bold("✓")),
            started.elapsed().as_secs_f64()
        );
        if args.keep {
            keep_running(&p, base_url, desk_id).await;
        }
    }
    sandbox.shutdown().await;
    drop(data);
    outcome.map(drop)
}

/// `--keep`: says where to look and how to stop, then waits for Ctrl-C (or SIGTERM).
async fn keep_running(p: &Palette, base_url: &str, desk_id: &str) {
    println!();
    println!("{}", p.bold("The sandbox keeps running (--keep); open it in a browser:"));
    details(
        p,
        &[
            ("base URL", base_url.to_string()),
            ("index", format!("{base_url}/")),
            ("demo desk", format!("{base_url}/desk/{desk_id}")),
        ],
    );
    println!("{DETAIL_INDENT}{}", p.dim("Ctrl-C stops it and removes its data dir."));
    // A pipe (a test, a script) sees the lines before the wait.
    let _ = std::io::Write::flush(&mut std::io::stdout());
    let signal = super::sandbox::shutdown_signal().await;
    println!("{signal}: stopping the sandbox");
}

/// The flow of steps 2 to 7; returns the id of the desk it opened.
async fn flow(p: &Palette, base_url: &str) -> Result<String, CliError> {
    let control = Control::new(base_url, "")?;

    step(p, 2, "Generate the app's RSA-2048 key pair");
    let app_key = PrivateKey::generate().map_err(|e| CliError::failure(format!("key generation failed: {e}")))?;
    details(p, &[("app_id", APP_ID.to_string()), ("app public key", app_key.public_key().fingerprint_sha256())]);

    step(p, 3, "Register the app with the sandbox (POST /sandbox/apps)");
    let app = control
        .post("/sandbox/apps", &json!({"app_id": APP_ID, "public_key": app_key.public_key().to_spki_pem()}), 201)
        .await?;
    let alipay_public_key = field(&app, "alipay_public_key", 3)?;
    let alipay_key = alipay_v3::keys::PublicKey::parse(alipay_public_key)
        .map_err(|e| deviation(3, format!("the sandbox's alipay_public_key does not parse: {e}")))?;
    details(
        p,
        &[
            ("Alipay public key", alipay_key.fingerprint_sha256()),
            ("app_cert_sn", field(&app, "app_cert_sn", 3).unwrap_or("(none)").to_string()),
            ("alipay_root_cert_sn", field(&app, "alipay_root_cert_sn", 3).unwrap_or("(none)").to_string()),
        ],
    );

    step(p, 4, "Build the signed step-1 order string (zhima.credit.payafteruse.creditagreement.sign)");
    let out_agreement_no = jobworth::new_conn_key();
    let order = jobworth::OrderString::builder()
        .app_id(APP_ID)
        .out_agreement_no(&out_agreement_no)
        .service_id(SERVICE_ID)
        .identity_type(jobworth::IdentityType::Teacher)
        .sign(&app_key)
        .map_err(|e| deviation(4, e))?;
    details(
        p,
        &[
            ("out_agreement_no", out_agreement_no.clone()),
            ("zm_service_id", SERVICE_ID.to_string()),
            ("identity_type", "04 (teacher)".to_string()),
            ("order string", format!("{} ({} characters, RSA2-signed)", abbreviate(&order, 60), order.len())),
        ],
    );

    step(p, 5, "The user opens the acceptance desk and is verified as `teacher` (POST /sandbox/desk, …/complete)");
    let desk = control.post("/sandbox/desk", &json!({ "order_str": order }), 201).await?;
    let desk_id = field(&desk, "desk_id", 5)?;
    let conn_key = field(&desk, "conn_key", 5)?.to_string();
    let once_token = field(&desk, "once_token", 5)?.to_string();
    if conn_key != out_agreement_no {
        return Err(deviation(5, format!("conn_key is {conn_key}, expected the out_agreement_no {out_agreement_no}")));
    }
    let done = control.post(&format!("/sandbox/desk/{desk_id}/complete"), &json!({ "persona": PERSONA }), 200).await?;
    let user_id = field(&done, "user_id", 5)?.to_string();
    let personas = control.get("/sandbox/personas").await?;
    let persona = personas
        .as_array()
        .and_then(|list| list.iter().find(|v| v.get("persona").and_then(Value::as_str) == Some(PERSONA)))
        .ok_or_else(|| deviation(5, "GET /sandbox/personas lists no `teacher`"))?;
    details(
        p,
        &[
            ("desk page", format!("{base_url}/desk/{desk_id}")),
            ("conn_key", conn_key.clone()),
            ("once_token", once_token.clone()),
            ("persona", format!("{PERSONA}: {}", persona.get("name").and_then(Value::as_str).unwrap_or(""))),
            ("user_id", user_id.clone()),
            ("cert_no", alipay_v3::mask(persona.get("cert_no").and_then(Value::as_str).unwrap_or(""))),
        ],
    );

    step(p, 6, "Query the result through the SDK (GET /v3/zhima/customer/jobworth/authentication)");
    let client = jobworth::Client::builder()
        .endpoint(base_url)
        .app_id(APP_ID)
        .private_key(app_key.clone())
        .alipay_public_key(alipay_key)
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| CliError::failure(format!("cannot configure the SDK client: {e}")))?;
    let query = || {
        client
            .authentication_query()
            .conn_key(&conn_key)
            .once_token(&once_token)
            .query_type(jobworth::QueryType::Exact)
            .identity_type(jobworth::IdentityType::Teacher)
            .service_id(SERVICE_ID)
            .user_id(&user_id)
    };
    let result = query().send().await.map_err(|e| deviation(6, format!("the query failed: {e}")))?;
    let identity = result.identity_result.as_str();
    let token_status = result.token_status.as_ref().map(|t| t.as_str()).unwrap_or("(none)");
    if identity != "SUCCESS" || token_status != "FINISH" || result.user_id.as_deref() != Some(user_id.as_str()) {
        return Err(deviation(
            6,
            format!(
                "expected SUCCESS / FINISH for user {user_id}, got {identity} / {token_status} for {:?}",
                result.user_id
            ),
        ));
    }
    println!("{DETAIL_INDENT}{}", p.dim("response signature verified with the sandbox's Alipay public key"));
    details(
        p,
        &[
            ("identity_result", p.green(identity)),
            ("token_status", token_status.to_string()),
            ("user_id", result.user_id.clone().unwrap_or_default()),
            ("open_id", result.open_id.clone().unwrap_or_default()),
            ("merchant_identity_id", result.merchant_identity_id.clone().unwrap_or_default()),
        ],
    );

    step(p, 7, "Query again with the same once_token: a terminal result is readable exactly once");
    match query().send().await {
        Err(jobworth::Error::Api(api)) if api.code == jobworth::ErrorCode::TokenInvalid => {
            details(
                p,
                &[
                    ("refused as expected", p.yellow(api.code.as_str())),
                    ("message", api.message.clone()),
                    ("HTTP status", api.response.status.to_string()),
                    ("trace id", api.response.trace_id.clone().unwrap_or_default()),
                ],
            );
            Ok(desk_id.to_string())
        }
        Err(other) => Err(deviation(7, format!("expected TOKEN_INVALID, got: {other}"))),
        Ok(again) => Err(deviation(
            7,
            format!("the token was accepted twice (identity_result {})", again.identity_result.as_str()),
        )),
    }
}

/// Step details line up under the step title, after `[n/7] `.
const DETAIL_INDENT: &str = "      ";

fn details(p: &Palette, rows: &[(&str, String)]) {
    print_fields_indented(p, DETAIL_INDENT.len(), rows);
}

/// The first `max` characters of an ASCII-ish value, with an ellipsis when cut.
fn abbreviate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

fn step(p: &Palette, n: usize, title: &str) {
    println!();
    println!("{} {}", p.cyan(&format!("[{n}/{STEPS}]")), p.bold(title));
}

fn deviation(step: usize, what: impl std::fmt::Display) -> CliError {
    CliError::failure(format!("demo step {step}/{STEPS} did not go as expected: {what}"))
}

fn field<'a>(v: &'a Value, name: &str, step: usize) -> Result<&'a str, CliError> {
    v.get(name).and_then(Value::as_str).ok_or_else(|| deviation(step, format!("the sandbox's answer has no `{name}`")))
}
