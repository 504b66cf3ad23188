//! The request log as a page a person reads: `GET /sandbox/inspector` lists the signed requests
//! (filtered by app and verdict with a plain GET form), `GET /sandbox/inspector/{id}` shows one:
//! its diagnosis, the string-to-sign and the headers. Server-rendered, no JavaScript; every value
//! is HTML-escaped. Control routes: the same gate as `/sandbox/requests`.

use std::fmt::Write as _;

use alipay_v3::query::encode_uri_component;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;

use crate::diagnosis::Diagnosis;
use crate::error::ApiError;
use crate::pages::{escape, html, page_with_style};
use crate::requests::{Entry, Filter, Verdict};
use crate::state::AppState;

const TITLE: &str = "请求记录 · Request inspector";

const STYLE: &str = r#"
main{max-width:980px}
.filter{display:flex;flex-wrap:wrap;gap:10px 14px;align-items:flex-end;margin:0}
.filter label{display:flex;flex-direction:column;gap:4px;font-size:13px;color:#646a73;flex:1 1 180px;min-width:0}
.filter select{font:inherit;color:#1f2329;padding:8px 10px;border:1px solid #dee0e3;border-radius:8px;background:#fff;width:100%}
.requests{list-style:none;margin:0;padding:0}
.requests li{border-top:1px solid #eef0f3}
.requests li:first-child{border-top:0}
.requests a{display:block;padding:10px 6px;color:inherit;text-decoration:none;border-radius:8px}
.requests a:hover,.requests a:focus{background:#f3f7ff;outline:none}
.requests .top{display:flex;gap:8px;align-items:baseline;min-width:0}
.requests .method{font-weight:600;font-size:13px}
.requests .target{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px;flex:1;min-width:0;word-break:break-all;display:-webkit-box;-webkit-box-orient:vertical;-webkit-line-clamp:2;overflow:hidden}
.requests .meta{display:flex;flex-wrap:wrap;gap:2px 12px;font-size:12px;color:#8a919f;margin-top:4px}
.requests .meta .diag{color:#c4302b;font-weight:600}
.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px}
.message{overflow-wrap:anywhere;margin:0 0 10px}
pre.sts{margin:0;padding:12px;background:#f7f8fa;border-radius:8px;white-space:pre-wrap;overflow-wrap:anywhere;font:13px/1.6 ui-monospace,Menlo,Consolas,monospace}
pre.sts .nl{color:#b0b5bd}
.card.diagnosis{border-left:4px solid #c4302b}
.card.diagnosis.ok{border-left-color:#1a7f45}
.back{margin:0 0 12px}
@media (max-width:520px){dl{grid-template-columns:1fr;gap:2px}dt{margin-top:8px}}
"#;

/// The query string that selects `filter` (for links that keep it), `?` included, or empty.
fn filter_query(filter: &Filter) -> String {
    let mut pairs = Vec::new();
    if let Some(app) = &filter.app_id {
        pairs.push(format!("app_id={}", encode_uri_component(app)));
    }
    if let Some(v) = filter.verdict {
        pairs.push(format!("verdict={}", v.as_str()));
    }
    if pairs.is_empty() {
        String::new()
    } else {
        format!("?{}", pairs.join("&"))
    }
}

fn error_page(err: &ApiError) -> Response {
    let body = format!(
        "<p class=\"back\"><a href=\"/sandbox/inspector\">← 全部请求 All requests</a></p>\n\
         <section class=\"card error\" data-error=\"{}\">\n<h1>{}</h1>\n<p>{}</p>\n</section>\n",
        escape(err.code()),
        escape(err.code()),
        escape(err.message())
    );
    html(err.status(), page_with_style(TITLE, STYLE, &body))
}

fn badge(entry: &Entry) -> &'static str {
    match entry.verdict {
        Verdict::Ok => "badge ok",
        Verdict::Refused => "badge bad",
    }
}

/// `GET /sandbox/inspector?app_id=A&verdict=ok|refused&limit=N`
pub(crate) async fn list(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let log = state.requests();
    let filter = match Filter::parse(query.as_deref(), log.capacity()) {
        Ok(f) => f,
        Err(e) => return error_page(&e),
    };
    let entries = log.recent(&filter);
    let mut b = String::with_capacity(16 * 1024);
    let _ = write!(
        b,
        "<section class=\"card\">\n<h1>请求记录<small>Request inspector</small></h1>\n\
         <p class=\"hint\">本进程收到的签名请求，最新在前。Signed requests this sandbox process answered \
         (<code>/v3/…</code> and order strings), newest first; the last {} are kept. As JSON: \
         <a href=\"/sandbox/requests\">/sandbox/requests</a>.</p>\n\
         <form method=\"get\" action=\"/sandbox/inspector\" class=\"filter\">\n\
         <label>应用 App<select name=\"app_id\" data-filter=\"app_id\"><option value=\"\">全部 All</option>",
        log.capacity()
    );
    for app in log.app_ids() {
        let selected = if filter.app_id.as_deref() == Some(app.as_str()) { " selected" } else { "" };
        let _ = write!(b, "<option value=\"{0}\"{selected}>{0}</option>", escape(&app));
    }
    b.push_str("</select></label>\n<label>结果 Verdict<select name=\"verdict\" data-filter=\"verdict\">");
    for (value, label) in [("", "全部 All"), ("ok", "成功 ok"), ("refused", "拒绝 refused")] {
        let selected = if filter.verdict.map_or("", Verdict::as_str) == value { " selected" } else { "" };
        let _ = write!(b, "<option value=\"{value}\"{selected}>{label}</option>");
    }
    b.push_str(
        "</select></label>\n<button type=\"submit\" class=\"btn primary\" data-action=\"filter\">筛选 Filter</button>\n\
         </form>\n</section>\n<section class=\"card\">\n",
    );
    if entries.is_empty() {
        b.push_str(
            "<p class=\"hint\" data-empty=\"true\">还没有请求。No signed request matches yet: send one \
             (a <code>jobworth query</code>, or an order string to <code>POST /sandbox/desk</code>) and reload.</p>\n",
        );
    } else {
        let keep = filter_query(&filter);
        b.push_str("<ol class=\"requests\">\n");
        for e in &entries {
            let diagnosis = e.diagnosis.map(Diagnosis::as_str).or(e.code).unwrap_or("");
            let _ = writeln!(
                b,
                "<li data-id=\"{id}\" data-verdict=\"{verdict}\" data-app=\"{app}\"><a href=\"/sandbox/inspector/{id_url}{keep}\">\
                 <span class=\"top\"><span class=\"{badge}\">{status}</span><span class=\"method\">{method}</span>\
                 <span class=\"target\">{target}</span></span>\
                 <span class=\"meta\"><span>{at}</span><span>{app}</span>{diagnosis}<span>{latency} ms</span></span></a></li>",
                id = escape(&e.id),
                id_url = escape(&encode_uri_component(&e.id)),
                keep = escape(&keep),
                verdict = e.verdict.as_str(),
                app = escape(e.app_id.as_deref().unwrap_or("-")),
                badge = badge(e),
                status = e.status,
                method = escape(&e.method),
                target = escape(&e.target),
                at = escape(&e.at),
                diagnosis = if diagnosis.is_empty() {
                    String::new()
                } else {
                    format!("<span class=\"diag\">{}</span>", escape(diagnosis))
                },
                latency = e.latency_ms,
            );
        }
        b.push_str("</ol>\n");
    }
    b.push_str("</section>\n");
    html(StatusCode::OK, page_with_style(TITLE, STYLE, &b))
}

/// What to do about a diagnosis, in one sentence.
fn advice(d: Diagnosis) -> &'static str {
    match d {
        Diagnosis::WrongKey => {
            "Run `jobworth keys fingerprint FILE` on the private key the client signs with and compare it with the \
             registered fingerprint above; if they differ, register that key's public half (POST /sandbox/apps) or \
             configure the private key that belongs to the registered one. `jobworth doctor` checks the pair."
        }
        Diagnosis::WrongStringToSign => {
            "The key is right. Have the client print the string it signs and compare it with the one below, line by \
             line: the request-target and the body must be byte for byte what went on the wire (encoding, \
             parameter order, a proxy that rewrites the query)."
        }
        Diagnosis::WrongHash | Diagnosis::WrongSignType => {
            "The key is right; sign with SHA256withRSA (sign_type RSA2)."
        }
        Diagnosis::StaleTimestamp => {
            "Sign with the current time in epoch milliseconds; `jobworth doctor --endpoint URL` measures the clock \
             skew against the sandbox."
        }
        Diagnosis::ReplayedNonce => "Send a fresh nonce (and so a fresh signature) with every request, retries too.",
        Diagnosis::UnknownApp => "Register the app with POST /sandbox/apps, or configure the app id it was registered with.",
        Diagnosis::WrongAppCertSn => {
            "Use the app_cert the latest registration returned; `jobworth cert-sn FILE` prints the SN a file gives."
        }
        Diagnosis::WrongRootCertSn => "Use the alipay_root_cert the registration returned.",
        Diagnosis::NoPublicKey => "Register the app again with its public_key.",
        Diagnosis::MalformedAuthorization | Diagnosis::SignatureNotBase64 | Diagnosis::BodyNotUtf8 => {
            "The request is not signed the v3 way: authorization: ALIPAY-SHA256withRSA app_id=…,nonce=…,timestamp=…,sign=…"
        }
        Diagnosis::Decryption => "Encrypt the body with the encrypt_key registered for the app (AES-128-CBC, zero IV).",
    }
}

/// The string-to-sign as lines, each end of line shown as a faint `\n`.
fn string_to_sign_block(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    for piece in text.split_inclusive('\n') {
        match piece.strip_suffix('\n') {
            Some(line) => {
                let _ = writeln!(out, "{}<span class=\"nl\">\\n</span>", escape(line));
            }
            None => out.push_str(&escape(piece)),
        }
    }
    out
}

/// `GET /sandbox/inspector/{id}`
pub(crate) async fn show(State(state): State<AppState>, Path(id): Path<String>, RawQuery(query): RawQuery) -> Response {
    let Some(e) = state.requests().get(&id) else {
        return error_page(&ApiError::NotFound(
            "这条请求不在记录中 · no such request in the log (it may have been dropped: the log keeps the newest only)"
                .into(),
        ));
    };
    let back =
        Filter::parse(query.as_deref(), state.requests().capacity()).map(|f| filter_query(&f)).unwrap_or_default();
    let mut b = String::with_capacity(16 * 1024);
    let _ = write!(
        b,
        "<p class=\"back\"><a href=\"/sandbox/inspector{}\" data-action=\"back\">← 全部请求 All requests</a></p>\n\
         <section class=\"card\" data-entry=\"{}\" data-verdict=\"{}\">\n<h1><span class=\"{}\">{}</span> {} \
         <small>{}</small></h1>\n<dl>\n\
         <dt>请求 Target</dt><dd data-field=\"target\">{}</dd>\n\
         <dt>应用 App</dt><dd data-field=\"app_id\">{}</dd>\n\
         <dt>时间 At</dt><dd>{}</dd>\n\
         <dt>错误码 Code</dt><dd data-field=\"code\">{}</dd>\n\
         <dt>诊断 Diagnosis</dt><dd data-field=\"diagnosis\">{}</dd>\n\
         <dt>耗时 Latency</dt><dd>{} ms</dd>\n\
         <dt>Trace id</dt><dd>{}</dd>\n</dl>\n</section>\n",
        escape(&back),
        escape(&e.id),
        e.verdict.as_str(),
        badge(&e),
        e.status,
        escape(&e.method),
        e.verdict.as_str(),
        escape(&e.target),
        escape(e.app_id.as_deref().unwrap_or("-")),
        escape(&e.at),
        escape(e.code.unwrap_or("-")),
        escape(e.diagnosis.map_or("-", Diagnosis::as_str)),
        e.latency_ms,
        escape(&e.id),
    );
    match (&e.message, e.diagnosis) {
        (Some(message), diagnosis) => {
            let _ = write!(
                b,
                "<section class=\"card diagnosis\">\n<h2>为什么被拒绝<small>Why it was refused</small></h2>\n\
                 <p class=\"message\" data-field=\"message\">{}</p>\n{}</section>\n",
                escape(message),
                diagnosis.map_or(String::new(), |d| format!(
                    "<p class=\"hint\" data-field=\"advice\">{}</p>\n",
                    escape(advice(d))
                )),
            );
        }
        (None, _) => b.push_str(
            "<section class=\"card diagnosis ok\">\n<h2>已接受<small>Accepted</small></h2>\n\
             <p class=\"message\">签名验证通过。The signature verified and the request was answered.</p>\n</section>\n",
        ),
    }
    let _ = write!(
        b,
        "<section class=\"card\">\n<h2>待签名串<small>String to sign, as the sandbox verified it</small></h2>\n{}</section>\n",
        match &e.string_to_sign {
            Some(s) => format!(
                "<pre class=\"sts\" data-field=\"string_to_sign\">{}</pre>\n\
                 <p class=\"hint\" style=\"margin:8px 0 0\">Secret values (cert_no, once_token) are masked.</p>\n",
                string_to_sign_block(s)
            ),
            None => "<p class=\"hint\">None: the request did not get as far as its signature.</p>\n".to_string(),
        }
    );
    b.push_str(
        "<section class=\"card\">\n<h2>请求头<small>Request headers</small></h2>\n<dl data-field=\"headers\">\n",
    );
    for (name, value) in &e.headers {
        let _ = writeln!(b, "<dt class=\"mono\">{}</dt><dd>{}</dd>", escape(name), escape(value));
    }
    b.push_str(
        "</dl>\n<p class=\"hint\" style=\"margin:8px 0 0\">The signature in authorization is elided.</p>\n</section>\n",
    );
    html(StatusCode::OK, page_with_style(TITLE, STYLE, &b))
}
