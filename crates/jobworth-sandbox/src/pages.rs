//! The desk as a person sees it: server-rendered HTML with plain forms (no JavaScript).
//!
//! `GET /desk?<order string>` opens the desk (idempotently) and shows it; the buttons post to
//! `/desk/{desk_id}/{complete,resolve,cancel}`, which redirect back to `/desk/{desk_id}`.
//! `GET /` indexes the sandbox (apps, recent desks, where to look next) and `GET /personas` lists
//! the test users. Every value that came from a request is HTML-escaped.

use std::fmt::Write as _;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};

use crate::desk;
use crate::error::ApiError;
use crate::personas::{self, identity_type_label, Outcome, PERSONAS};
use crate::state::AppState;
use crate::store::{duration_ms, now_ms, AppRecord, Desk, DeskState};

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
*{box-sizing:border-box}
body{margin:0;word-break:normal;overflow-wrap:break-word;font:15px/1.55 -apple-system,BlinkMacSystemFont,"PingFang SC","Microsoft YaHei","Segoe UI",Roboto,sans-serif;background:#f3f5f8;color:#1f2329}
header{background:#1677ff;color:#fff;padding:14px 20px;display:flex;flex-wrap:wrap;gap:6px 12px;justify-content:space-between;align-items:center}
header .brand{font-weight:600;font-size:17px}
header .brand span{font-weight:400;opacity:.85;margin-left:6px}
header .sandbox{background:rgba(255,255,255,.2);border-radius:12px;padding:2px 10px;font-size:12px;white-space:nowrap}
main{max-width:760px;margin:0 auto;padding:18px 14px 40px}
.card{background:#fff;border-radius:12px;padding:18px 20px;margin-bottom:14px;box-shadow:0 1px 3px rgba(0,0,0,.06)}
h1,h2{margin:0 0 12px;font-weight:600}
h1{font-size:21px}h2{font-size:17px}
small{font-weight:400;color:#8a919f;margin-left:6px;font-size:.8em}
dl{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:6px 16px;margin:0}
dt{color:#8a919f}dd{margin:0;min-width:0;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:14px}
.id{overflow-wrap:anywhere}
.nowrap{white-space:nowrap}
@media (max-width:560px){dl{grid-template-columns:minmax(0,1fr);gap:0}dt{margin-top:8px;font-size:13px}dt:first-child{margin-top:0}}
.hint{color:#646a73;margin:0 0 12px}
.personas{display:grid;grid-template-columns:repeat(auto-fill,minmax(210px,1fr));gap:10px}
.persona{display:flex;flex-direction:column;align-items:flex-start;gap:3px;text-align:left;border:1px solid #dee0e3;background:#fff;border-radius:10px;padding:12px;cursor:pointer;font:inherit;color:inherit}
.persona:hover,.persona:focus{border-color:#1677ff;box-shadow:0 0 0 3px rgba(22,119,255,.15);outline:none}
.persona .name{font-weight:600}
.persona .meta{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;color:#8a919f}
.persona .desc{font-size:13px;color:#646a73}
.badge{display:inline-block;white-space:nowrap;border-radius:6px;padding:1px 8px;font-size:12px;font-weight:600;background:#f0f1f5;color:#646a73}
.badge.ok{background:#e8f7ee;color:#1a7f45}.badge.bad{background:#fdecec;color:#c4302b}.badge.wait{background:#fff5e0;color:#a66300}
.actions{display:flex;gap:10px;flex-wrap:wrap;margin-top:14px}
.btn{white-space:nowrap;border:0;border-radius:8px;padding:10px 18px;font:inherit;font-weight:600;cursor:pointer}
.btn.primary{background:#1677ff;color:#fff}.btn.danger{background:#fff;color:#c4302b;border:1px solid #f1b7b4}
.btn.ok{background:#1a7f45;color:#fff}.btn.bad{background:#c4302b;color:#fff}
.result{text-align:center}
.result .icon{width:56px;height:56px;border-radius:50%;margin:0 auto 10px;display:flex;align-items:center;justify-content:center;font-size:30px;font-weight:700;color:#fff;background:#8a919f}
.icon.ok{background:#1a7f45}.icon.bad{background:#c4302b}.icon.wait{background:#d48806}
dd.plain{font-family:inherit;font-size:inherit}
.result .outcome{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:20px;font-weight:700;margin:6px 0}
footer{text-align:center;color:#8a919f;font-size:12px;padding:10px}
.error{border-left:4px solid #c4302b}
a{color:#1677ff}
pre.cmd{margin:8px 0 0;padding:10px 12px;background:#f6f7f9;border-radius:8px;white-space:pre-wrap;overflow-wrap:anywhere;font:13px/1.5 ui-monospace,Menlo,Consolas,monospace}
table{border-collapse:collapse;width:100%;font-size:14px}
th,td{text-align:left;padding:7px 8px;border-bottom:1px solid #eef0f3;vertical-align:top}th{color:#8a919f;font-weight:400;white-space:nowrap}
td.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px}
td .desc{font-size:13px;color:#646a73}
@media (max-width:560px){table,tbody,tr,td{display:block}tr.head{display:none}tr{padding:8px 0;border-bottom:1px solid #eef0f3}td{border:0;padding:2px 0}td[data-label]::before{content:attr(data-label);display:inline-block;min-width:7.5em;color:#8a919f;font:12px/1.55 -apple-system,BlinkMacSystemFont,"PingFang SC","Microsoft YaHei","Segoe UI",Roboto,sans-serif}}
ul.links{margin:0;padding-left:20px}ul.links li{margin:3px 0}
"#;

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n\
         <style>{STYLE}</style>\n</head>\n<body>\n<header><div class=\"brand\">支付宝 · 芝麻职得<span>Zhima Jobworth</span></div>\
         <div class=\"sandbox\">沙箱 Sandbox</div></header>\n<main>\n{body}</main>\n\
         <footer>jobworth sandbox · 本地模拟，不涉及真实支付宝账户 · local emulation, no real Alipay account</footer>\n\
         </body>\n</html>\n",
        escape(title)
    )
}

fn html(status: StatusCode, text: String) -> Response {
    let mut res = (status, Html(text)).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

fn error_page(err: &ApiError, back: Option<&str>) -> Response {
    let title = match err.status() {
        StatusCode::NOT_FOUND => "未找到 Not found",
        StatusCode::CONFLICT => "无法执行 Not possible",
        s if s.is_server_error() => "系统错误 System error",
        _ => "无法打开受理台 The desk cannot be opened",
    };
    let mut body = format!(
        "<section class=\"card error\" data-error=\"{}\">\n<h1>{}</h1>\n<p class=\"hint\">错误码 Code: <code>{}</code></p>\n<p>{}</p>\n",
        escape(err.code()),
        escape(title),
        escape(err.code()),
        escape(err.message())
    );
    if let Some(back) = back {
        let _ = writeln!(body, "<p><a href=\"{}\">返回受理台 Back to the desk</a></p>", escape(back));
    }
    body.push_str("</section>\n");
    html(err.status(), page(title, &body))
}

fn badge_class(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Success => "ok",
        Outcome::Pending => "wait",
        Outcome::Failed | Outcome::Error(_) => "bad",
    }
}

fn result_class(result: &str) -> Outcome {
    match result {
        "SUCCESS" => Outcome::Success,
        "FAILED" => Outcome::Failed,
        "WAITING_VERIFY" => Outcome::Pending,
        _ => Outcome::Error(""),
    }
}

fn state_label(desk: &Desk) -> &'static str {
    match (desk.state, desk.persona.is_some()) {
        (DeskState::Pending, false) => "待用户确认 Waiting for the user",
        (DeskState::Pending, true) => "审核中 Under review",
        (DeskState::Cancelled, _) => "已取消 Cancelled",
        _ => "已完成 Completed",
    }
}

/// A word for a POSIX shell: as is when it is plain, single-quoted otherwise.
fn shell_word(s: &str) -> String {
    let plain = !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:/=@%+,".contains(&b));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The `jobworth query` a merchant's backend would run for this desk, the key files left as the
/// walkthrough names them: the command, then each flag with its value.
fn query_command(state: &AppState, d: &Desk, user_id: Option<&str>) -> Vec<(&'static str, String)> {
    let user = user_id.map_or_else(|| "\"$USER_ID\"".to_owned(), shell_word);
    vec![
        ("jobworth", "query".to_owned()),
        ("--endpoint", shell_word(state.base_url())),
        ("--app-id", shell_word(&d.app_id)),
        ("--conn-key", shell_word(&d.conn_key)),
        ("--once-token", shell_word(&d.once_token)),
        ("--service-id", shell_word(&d.service_id)),
        ("--query-type", "exact".to_owned()),
        ("--identity-type", shell_word(&d.identity_type)),
        ("--user-id", user),
        ("--private-key", "keys/app_private_key.pem".to_owned()),
        ("--alipay-public-key", "keys/alipay_public_key.pem".to_owned()),
    ]
}

/// Longest command word kept on one line; longer ones may wrap anywhere.
const UNBROKEN_WORD: usize = 36;

/// The card a tester copies from: the token pair and the query that reads the result. The
/// command is one line that wraps only between its words (a hyphen is no place to break a flag).
fn query_card(state: &AppState, d: &Desk, user_id: Option<&str>) -> String {
    let word = |w: &str| {
        let class = if w.chars().count() <= UNBROKEN_WORD { "nowrap" } else { "id" };
        format!("<span class=\"{class}\">{}</span>", escape(w))
    };
    let words: Vec<String> = query_command(state, d, user_id)
        .iter()
        .map(|(flag, value)| format!("{} {}", word(flag), word(value)))
        .collect();
    format!(
        "<section class=\"card\" data-section=\"query\">\n<h2>商户查询<small>Query it as the merchant</small></h2>\n\
         <p class=\"hint\">沙箱测试值，可直接复制。Sandbox test values, shown so you can copy them.</p>\n<dl>\n\
         <dt>conn_key</dt><dd class=\"id\" data-field=\"query_conn_key\">{}</dd>\n\
         <dt>once_token</dt><dd class=\"id\" data-field=\"once_token\">{}</dd>\n</dl>\n\
         <pre class=\"cmd\" data-field=\"query_command\"><code>{}</code></pre>\n</section>\n",
        escape(&d.conn_key),
        escape(&d.once_token),
        words.join(" "),
    )
}

fn render(state: &AppState, d: &Desk, app_name: Option<&str>) -> String {
    let id = escape(&d.desk_id);
    let mut b = String::with_capacity(8 * 1024);
    let merchant = app_name.map_or(String::new(), |n| {
        format!("<dt>商户 Merchant</dt><dd class=\"plain\" data-field=\"merchant\">{}</dd>\n", escape(n))
    });
    let _ = write!(
        b,
        "<section class=\"card\" data-desk-id=\"{id}\" data-state=\"{}\">\n<h1>身份认证<small>Identity verification</small></h1>\n<dl>\n\
         {merchant}<dt>商户应用 Merchant app</dt><dd class=\"id\" data-field=\"app_id\">{}</dd>\n\
         <dt>认证身份 Identity</dt><dd data-field=\"identity_type\">{} {}</dd>\n\
         <dt>协议号 conn_key</dt><dd class=\"id\" data-field=\"conn_key\">{}</dd>\n\
         <dt>信用服务 Service id</dt><dd class=\"id\" data-field=\"service_id\">{}</dd>\n\
         <dt>状态 Status</dt><dd class=\"plain\" data-field=\"state\"><span class=\"label\">{}</span></dd>\n</dl>\n</section>\n",
        escape(d.state.as_str()),
        escape(&d.app_id),
        escape(&d.identity_type),
        escape(identity_type_label(&d.identity_type)),
        escape(&d.conn_key),
        escape(&d.service_id),
        state_label(d),
    );
    let persona = d.persona.as_deref().and_then(personas::find);
    match (d.state, persona) {
        (DeskState::Pending, None) => {
            let _ = write!(
                b,
                "<section class=\"card\">\n<h2>选择测试用户<small>Choose a test user</small></h2>\n\
                 <p class=\"hint\">商户请求核验您的职业身份。选择一位测试用户完成授权与认证。<br>\
                 The merchant asks to verify a professional identity. Pick the test user who completes it.</p>\n\
                 <form method=\"post\" action=\"/desk/{id}/complete\" class=\"personas\">\n"
            );
            for p in PERSONAS {
                let o = p.outcome();
                let _ = writeln!(
                    b,
                    "<button type=\"submit\" name=\"persona\" value=\"{0}\" data-persona=\"{0}\" class=\"persona\">\
                     <span class=\"name\">{1}</span><span class=\"meta\">{2}</span><span class=\"meta\">{3}</span>\
                     <span class=\"desc\">{4}</span><span class=\"badge {5}\">{6}</span></button>",
                    escape(p.persona),
                    escape(p.name),
                    escape(p.user_id),
                    escape(&alipay_v3::mask(p.cert_no)),
                    escape(p.description),
                    badge_class(o),
                    escape(o.as_str()),
                );
            }
            let _ = write!(
                b,
                "</form>\n<div class=\"actions\"><form method=\"post\" action=\"/desk/{id}/cancel\">\
                 <button type=\"submit\" class=\"btn danger\" data-action=\"cancel\">取消 Cancel</button></form></div>\n</section>\n"
            );
        }
        (DeskState::Pending, Some(p)) => {
            let _ = write!(
                b,
                "<section class=\"card result\" data-outcome=\"WAITING_VERIFY\">\n<div class=\"icon wait\"><svg viewBox=\"0 0 24 24\" width=\"30\" height=\"30\" aria-hidden=\"true\"><circle cx=\"6\" cy=\"12\" r=\"2\" fill=\"#fff\"/><circle cx=\"12\" cy=\"12\" r=\"2\" fill=\"#fff\"/><circle cx=\"18\" cy=\"12\" r=\"2\" fill=\"#fff\"/></svg></div>\n\
                 <h2>等待审核<small>Waiting for review</small></h2>\n<p class=\"outcome\">WAITING_VERIFY</p>\n\
                 <p>{} 已提交认证，结果待定。商户查询将得到 WAITING_VERIFY / PROCESSING，直到在此判定。<br>\
                 {} submitted; queries get WAITING_VERIFY / PROCESSING until you resolve it here.</p>\n\
                 <form method=\"post\" action=\"/desk/{id}/resolve\" class=\"actions\" style=\"justify-content:center\">\
                 <button type=\"submit\" name=\"identity_result\" value=\"SUCCESS\" class=\"btn ok\" data-action=\"resolve-success\">判定通过 Resolve SUCCESS</button>\
                 <button type=\"submit\" name=\"identity_result\" value=\"FAILED\" class=\"btn bad\" data-action=\"resolve-failed\">判定不通过 Resolve FAILED</button>\
                 </form>\n<form method=\"post\" action=\"/desk/{id}/cancel\" class=\"actions\" style=\"justify-content:center\">\
                 <button type=\"submit\" class=\"btn danger\" data-action=\"cancel\">取消 Cancel</button></form>\n</section>\n",
                escape(p.name),
                escape(p.name),
            );
            b.push_str(&query_card(state, d, Some(p.user_id)));
        }
        _ => {
            let result = desk::identity_result(d);
            let (icon, title) = match result_class(result) {
                Outcome::Success => ("<div class=\"icon ok\"><svg viewBox=\"0 0 24 24\" width=\"30\" height=\"30\" aria-hidden=\"true\"><path d=\"M5 12.5l4.5 4.5L19 7.5\" fill=\"none\" stroke=\"#fff\" stroke-width=\"3\" stroke-linecap=\"round\" stroke-linejoin=\"round\"/></svg></div>", "认证通过<small>Verified</small>"),
                Outcome::Failed => ("<div class=\"icon bad\"><svg viewBox=\"0 0 24 24\" width=\"28\" height=\"28\" aria-hidden=\"true\"><path d=\"M6 6l12 12M18 6L6 18\" fill=\"none\" stroke=\"#fff\" stroke-width=\"3\" stroke-linecap=\"round\"/></svg></div>", "认证未通过<small>Not verified</small>"),
                _ if d.state == DeskState::Cancelled => {
                    ("<div class=\"icon\"><svg viewBox=\"0 0 24 24\" width=\"28\" height=\"28\" aria-hidden=\"true\"><path d=\"M6 6l12 12M18 6L6 18\" fill=\"none\" stroke=\"#fff\" stroke-width=\"3\" stroke-linecap=\"round\"/></svg></div>", "已取消<small>Cancelled by the user</small>")
                }
                _ => ("<div class=\"icon bad\"><svg viewBox=\"0 0 24 24\" width=\"28\" height=\"28\" aria-hidden=\"true\"><path d=\"M12 5v9\" stroke=\"#fff\" stroke-width=\"3\" stroke-linecap=\"round\"/><circle cx=\"12\" cy=\"19\" r=\"1.8\" fill=\"#fff\"/></svg></div>", "认证未完成<small>Refused</small>"),
            };
            let who = persona.map_or(String::new(), |p| format!("<p>测试用户 Test user: {}</p>\n", escape(p.name)));
            let expired = d
                .became_terminal_at
                .is_some_and(|at| at.saturating_add(duration_ms(state.cfg().token_ttl)) <= now_ms());
            let token = if d.consumed {
                "结果已被商户读取，令牌已失效 · The merchant has read the result; the token is used up."
            } else if expired {
                "令牌已过期 · The token has expired."
            } else if matches!(result, "SUCCESS" | "FAILED") {
                "商户可查询一次结果 · The merchant can now read this result once."
            } else {
                "商户查询将得到此错误码 · Merchant queries get this error code."
            };
            let _ = write!(
                b,
                "<section class=\"card result\" data-outcome=\"{}\">\n{icon}\n<h2>{title}</h2>\n\
                 <p class=\"outcome\">{}</p>\n{who}<p class=\"hint\" data-field=\"token\">{token}</p>\n</section>\n",
                escape(result),
                escape(result),
            );
            b.push_str(&query_card(state, d, persona.map(|p| p.user_id)));
        }
    }
    page("芝麻职得受理台 · Jobworth acceptance desk", &b)
}

/// `GET /desk?<order string>`
pub(crate) async fn open_page(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let Some(order) = query.filter(|q| !q.trim().is_empty()) else {
        return error_page(
            &ApiError::Invalid("打开受理台需要签名的订单串 · /desk needs a signed order string after '?'".into()),
            None,
        );
    };
    match desk::open(&state, &order).await {
        Ok((d, _)) => show(&state, &d).await,
        Err(e) => error_page(&e, None),
    }
}

/// The desk page, with the merchant's registered name.
async fn show(state: &AppState, d: &Desk) -> Response {
    match state.store().app(&d.app_id).await {
        Ok(app) => html(StatusCode::OK, render(state, d, app.as_ref().and_then(|a| a.name.as_deref()))),
        Err(e) => error_page(&e.into(), None),
    }
}

/// `GET /desk/{desk_id}`
pub(crate) async fn show_page(State(state): State<AppState>, Path(desk_id): Path<String>) -> Response {
    match state.store().desk(&desk_id).await {
        Ok(Some(d)) => show(&state, &d).await,
        Ok(None) => error_page(&ApiError::NotFound("没有这个受理台 · no such desk".into()), None),
        Err(e) => error_page(&e.into(), None),
    }
}

/// How many apps and desks the index lists.
const INDEX_APPS: u32 = 50;
const INDEX_DESKS: u32 = 20;

fn short_id(id: &str) -> String {
    match id.char_indices().nth(8) {
        Some((i, _)) => format!("{}…", &id[..i]),
        None => id.to_owned(),
    }
}

fn index_body(state: &AppState, apps: &[AppRecord], desks: &[Desk]) -> String {
    let mut b = String::with_capacity(8 * 1024);
    let _ = write!(
        b,
        "<section class=\"card\" data-section=\"links\">\n<h1>沙箱<small>Sandbox at {}</small></h1>\n\
         <ul class=\"links\">\n\
         <li><a href=\"/sandbox/inspector\">请求检查器 Request inspector</a> — every request and why it was refused</li>\n\
         <li><a href=\"/personas\">测试用户 Personas</a> — the test users and what a query gets for each \
         (<a href=\"/sandbox/personas\">JSON</a>)</li>\n\
         <li><a href=\"/sandbox/openapi.json\">OpenAPI</a> — every route of the sandbox</li>\n</ul>\n</section>\n",
        escape(state.base_url()),
    );
    b.push_str("<section class=\"card\" data-section=\"apps\">\n<h2>应用<small>Registered apps</small></h2>\n");
    if apps.is_empty() {
        b.push_str(
            "<p class=\"hint\">还没有应用 · No app yet: register one with <code>POST /sandbox/apps</code>.</p>\n",
        );
    } else {
        b.push_str(
            "<table>\n<tr class=\"head\"><th>app_id</th><th>名称 Name</th><th>模式 Mode</th><th>AES</th></tr>\n",
        );
        for a in apps {
            let mode = if a.app_cert_sn.is_some() { "key / cert" } else { "no key" };
            let aes = if a.encrypt_key.is_some() { "on" } else { "off" };
            let _ = writeln!(
                b,
                "<tr data-app-id=\"{0}\"><td class=\"mono id\" data-label=\"app_id\">{0}</td>\
                 <td data-label=\"名称 Name\">{1}</td><td class=\"nowrap\" data-label=\"模式 Mode\">{2}</td>\
                 <td data-label=\"AES\">{3}</td></tr>",
                escape(&a.app_id),
                escape(a.name.as_deref().unwrap_or("")),
                mode,
                aes,
            );
        }
        b.push_str("</table>\n");
    }
    b.push_str(
        "</section>\n<section class=\"card\" data-section=\"desks\">\n<h2>受理台<small>Recent desks</small></h2>\n",
    );
    if desks.is_empty() {
        b.push_str("<p class=\"hint\">还没有受理台 · No desk yet: open one with <code>GET /desk?&lt;order string&gt;</code> or <code>POST /sandbox/desk</code>.</p>\n");
    } else {
        b.push_str(
            "<table>\n<tr class=\"head\"><th>desk</th><th>app_id</th><th>状态 State</th><th>结果 Result</th></tr>\n",
        );
        for d in desks {
            let _ = writeln!(
                b,
                "<tr data-desk-id=\"{0}\"><td class=\"mono\" data-label=\"desk\"><a href=\"/desk/{1}\" title=\"{0}\">{2}</a></td>\
                 <td class=\"mono id\" data-label=\"app_id\">{3}</td><td data-label=\"状态 State\">{4}</td>\
                 <td class=\"mono id\" data-label=\"结果 Result\">{5}</td></tr>",
                escape(&d.desk_id),
                escape(&alipay_v3::query::encode_uri_component(&d.desk_id)),
                escape(&short_id(&d.desk_id)),
                escape(&d.app_id),
                state_label(d),
                escape(desk::identity_result(d)).replace('_', "_<wbr>"),
            );
        }
        b.push_str("</table>\n");
    }
    b.push_str("</section>\n");
    b
}

/// `GET /` — what this sandbox holds: apps (no keys), recent desks, and where to look next.
pub(crate) async fn index_page(State(state): State<AppState>) -> Response {
    let listed = async {
        Ok::<_, crate::store::StoreError>((
            state.store().apps(INDEX_APPS).await?,
            state.store().recent_desks(INDEX_DESKS).await?,
        ))
    };
    match listed.await {
        Ok((apps, desks)) => {
            html(StatusCode::OK, page("芝麻职得沙箱 · Jobworth sandbox", &index_body(&state, &apps, &desks)))
        }
        Err(e) => error_page(&e.into(), None),
    }
}

/// `GET /personas` — the test users and the outcome each one gives.
pub(crate) async fn personas_page() -> Response {
    let mut b = String::with_capacity(4 * 1024);
    b.push_str(
        "<section class=\"card\" data-section=\"personas\">\n<h1>测试用户<small>Personas</small></h1>\n\
         <p class=\"hint\">在受理台选择其一；商户查询得到右列的结果。Pick one at the desk; the merchant's query gets the outcome shown. \
         (<a href=\"/sandbox/personas\">JSON</a>)</p>\n\
         <table>\n<tr class=\"head\"><th>persona</th><th>名字 Name</th><th>user_id</th><th>结果 Outcome</th></tr>\n",
    );
    for p in PERSONAS {
        let o = p.outcome();
        let _ = writeln!(
            b,
            "<tr data-persona-row=\"{0}\"><td class=\"mono nowrap\" data-label=\"persona\">{0}</td>\
             <td data-label=\"名字 Name\">{1}<br><span class=\"desc\">{2}</span></td>\
             <td class=\"mono id\" data-label=\"user_id\">{3}</td>\
             <td data-label=\"结果 Outcome\"><span class=\"badge {4}\">{5}</span></td></tr>",
            escape(p.persona),
            escape(p.name),
            escape(p.description),
            escape(p.user_id),
            badge_class(o),
            escape(o.as_str()),
        );
    }
    b.push_str("</table>\n</section>\n");
    html(StatusCode::OK, page("测试用户 · Personas", &b))
}

fn form_field(body: &Result<Bytes, BytesRejection>, name: &str) -> Option<String> {
    let bytes = body.as_ref().ok()?;
    let text = std::str::from_utf8(bytes).ok()?;
    alipay_v3::query::parse_query(text).ok()?.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

fn after_action(desk_id: &str, result: Result<Desk, ApiError>) -> Response {
    let back = format!("/desk/{}", alipay_v3::query::encode_uri_component(desk_id));
    match result {
        Ok(_) => Redirect::to(&back).into_response(),
        Err(e) => error_page(&e, Some(&back)),
    }
}

/// `POST /desk/{desk_id}/complete` (form field `persona`)
pub(crate) async fn complete_form(
    State(state): State<AppState>,
    Path(desk_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let persona = form_field(&body, "persona").unwrap_or_default();
    after_action(&desk_id, desk::complete(&state, &desk_id, &persona).await)
}

/// `POST /desk/{desk_id}/resolve` (form field `identity_result`)
pub(crate) async fn resolve_form(
    State(state): State<AppState>,
    Path(desk_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = form_field(&body, "identity_result").unwrap_or_default();
    after_action(&desk_id, desk::resolve(&state, &desk_id, &result).await)
}

/// `POST /desk/{desk_id}/cancel`
pub(crate) async fn cancel_form(State(state): State<AppState>, Path(desk_id): Path<String>) -> Response {
    after_action(&desk_id, desk::cancel(&state, &desk_id).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(escape(r#"<a href="x">'&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
        assert_eq!(escape("中文"), "中文");
    }
}
