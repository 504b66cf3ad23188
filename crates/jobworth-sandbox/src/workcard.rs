//! The work card (工作证) as a person sees it: the pages `info/query`'s links open.
//!
//! * `GET /workcard/{app_id}/{card_id}`: the card, in the desk pages' look (`?embed=1`: the card
//!   alone, for a merchant's iframe: `html_url`);
//! * `GET /workcard/{app_id}/{card_id}/picture`: the card as an SVG picture (`picture_url`);
//! * `GET /workcard/{app_id}/{card_id}/update`: the job data this app pushed for the user, which
//!   the user would confirm onto the card (`update_url`, and `jobdata/add`'s `url`).
//!
//! The display flags of the query travel in the link: `button`, `number`, `qr` (`1` shows the
//! open-in-Alipay button, the card number, the QR code) and `back` (the merchant's `back_url`).
//! A card id is stable per (app, user) and names nobody to another app.

use std::fmt::Write as _;

use alipay_v3::query::{encode_uri_component, parse_query};
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::pages::{escape, html, page_with_style};
use crate::personas::{Persona, WorkCard, PERSONAS};
use crate::rules::is_link;
use crate::state::AppState;

/// What the card shows beyond the person and the job.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Display {
    /// The open-in-Alipay button (`has_button`).
    pub button: bool,
    /// The card number (`has_number`).
    pub number: bool,
    /// The QR code of the card (`has_qr_code`).
    pub qr: bool,
    /// Where the back link goes (`back_url`).
    pub back: Option<String>,
}

impl Display {
    /// The flags as a query string (empty when there are none).
    fn to_query(&self) -> String {
        let mut pairs: Vec<String> = [("button", self.button), ("number", self.number), ("qr", self.qr)]
            .into_iter()
            .filter(|(_, on)| *on)
            .map(|(k, _)| format!("{k}=1"))
            .collect();
        if let Some(back) = &self.back {
            pairs.push(format!("back={}", encode_uri_component(back)));
        }
        pairs.join("&")
    }

    /// The flags of a page's query string; what does not parse is left off.
    fn from_query(raw: Option<&str>) -> (Self, bool) {
        let pairs = parse_query(raw.unwrap_or("")).unwrap_or_default();
        let on = |name: &str| pairs.iter().any(|(k, v)| k == name && v == "1");
        let back = pairs.iter().find(|(k, _)| k == "back").map(|(_, v)| v.clone()).filter(|v| is_link(v));
        (Display { button: on("button"), number: on("number"), qr: on("qr"), back }, on("embed"))
    }
}

/// The card id of a user for an app: the first 32 hex digits of SHA-256("work-card" LF app LF user).
fn card_id(app_id: &str, user_id: &str) -> String {
    let text = format!("work-card\n{app_id}\n{user_id}");
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes());
    alipay_v3::hex(&d.as_ref()[..16])
}

fn card_base(state: &AppState, app_id: &str, persona: &Persona) -> String {
    format!("{}/workcard/{}/{}", state.base_url(), encode_uri_component(app_id), card_id(app_id, persona.user_id))
}

/// The links of a card.
#[derive(Debug, Clone)]
pub(crate) struct Links {
    /// `url`: the card page.
    pub page: String,
    /// `html_url`: the card alone, to embed.
    pub html: String,
    /// `picture_url`: the card as a picture.
    pub picture: String,
    /// `update_url`: the data waiting to be put on the card.
    pub update: String,
}

fn with_query(url: String, query: &str) -> String {
    if query.is_empty() {
        url
    } else {
        format!("{url}?{query}")
    }
}

/// The links `info/query` answers for `persona`'s card, shown as `display` asks.
pub(crate) fn links(state: &AppState, app_id: &str, persona: &Persona, display: &Display) -> Links {
    let base = card_base(state, app_id, persona);
    let q = display.to_query();
    let embed = if q.is_empty() { "embed=1".to_owned() } else { format!("{q}&embed=1") };
    Links {
        page: with_query(base.clone(), &q),
        html: format!("{base}?{embed}"),
        picture: with_query(format!("{base}/picture"), &q),
        update: format!("{base}/update"),
    }
}

/// The update page of `persona`'s card for `app_id`.
pub(crate) fn update_url(state: &AppState, app_id: &str, persona: &Persona) -> String {
    format!("{}/update", card_base(state, app_id, persona))
}

/// The persona and card a (app, card id) pair names.
fn find(app_id: &str, id: &str) -> Option<(&'static Persona, &'static WorkCard)> {
    PERSONAS.iter().find(|p| card_id(app_id, p.user_id) == id).and_then(|p| p.card.map(|c| (p, c)))
}

fn not_found() -> Response {
    let body = "<section class=\"card error\" data-error=\"not-found\">\n<h1>未找到工作证 No such work card</h1>\n\
                <p>链接无效，或该用户没有工作证。The link is not valid, or the user has no work card.</p>\n</section>\n";
    html(StatusCode::NOT_FOUND, page_with_style("未找到 Not found", "", body))
}

/// The name shown on the card: the résumé's, else the persona's.
fn display_name(p: &Persona) -> &'static str {
    p.resume.map_or(p.name, |r| r.user_name)
}

const STYLE: &str = r#"
.workcard{padding:0;overflow:hidden;max-width:560px;margin:0 auto 14px}
.workcard~.card{max-width:560px;margin-left:auto;margin-right:auto}
.wc-head{background:linear-gradient(120deg,#1677ff,#0e5fd8);color:#fff;padding:14px 20px;display:flex;justify-content:space-between;align-items:center;gap:10px}
.wc-head .title{font-weight:600;font-size:17px}.wc-head .title small{color:rgba(255,255,255,.8)}
.wc-head .badge{background:rgba(255,255,255,.95);color:#1a7f45}
.wc-body{display:flex;gap:18px;padding:18px 20px;align-items:flex-start}
.avatar{flex:none;width:72px;height:72px;border-radius:50%;background:#e6efff;color:#1677ff;display:flex;align-items:center;justify-content:center;font-size:32px;font-weight:600}
.wc-main{flex:1;min-width:0}
.wc-name{font-size:22px;font-weight:600;margin:2px 0}
.wc-job{color:#646a73;margin-bottom:10px}
ul.verified{list-style:none;margin:12px 0 0;padding:0;display:flex;flex-wrap:wrap;gap:6px}
ul.verified li{background:#e8f7ee;color:#1a7f45;border-radius:6px;padding:2px 8px;font-size:13px;white-space:nowrap}
.qr{flex:none;text-align:center;font-size:12px;color:#8a919f}.qr svg{display:block;width:112px;height:112px}
.wc-foot{padding:0 20px 18px}.wc-foot .actions{margin-top:0}
a.btn{display:inline-block;text-decoration:none}a.btn.plain{background:#f0f1f5;color:#1f2329}
@media (max-width:560px){.wc-body{flex-wrap:wrap}.qr{width:100%}.qr svg{margin:0 auto}}
body.embed main{padding:8px}body.embed header,body.embed footer{display:none}
"#;

/// A QR code of `text` as inline SVG, or nothing when the text does not fit in one.
fn qr_svg(text: &str) -> String {
    use qrcodegen::{QrCode, QrCodeEcc};
    let Ok(qr) = QrCode::encode_text(text, QrCodeEcc::Medium) else { return String::new() };
    let n = qr.size();
    let mut path = String::new();
    for y in 0..n {
        for x in 0..n {
            if qr.get_module(x, y) {
                let _ = write!(path, "M{},{}h1v1h-1z", x + 2, y + 2);
            }
        }
    }
    format!(
        "<svg viewBox=\"0 0 {0} {0}\" role=\"img\" aria-label=\"工作证二维码 QR code of the work card\" \
         shape-rendering=\"crispEdges\"><rect width=\"{0}\" height=\"{0}\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#1f2329\"/></svg>",
        n + 4
    )
}

fn card_html(state: &AppState, app_id: &str, p: &Persona, c: &WorkCard, d: &Display) -> String {
    let name = display_name(p);
    let initial: String = name.chars().next().map(String::from).unwrap_or_default();
    let mut b = String::with_capacity(4096);
    let _ = write!(
        b,
        "<section class=\"card workcard\" data-card=\"{}\">\n<div class=\"wc-head\"><div class=\"title\">芝麻工作证<small>Zhima work card</small></div>\
         <span class=\"badge\">已认证 Verified</span></div>\n<div class=\"wc-body\">\n<div class=\"avatar\" aria-hidden=\"true\">{}</div>\n\
         <div class=\"wc-main\">\n<div class=\"wc-name\" data-field=\"name\">{}</div>\n<div class=\"wc-job\" data-field=\"job\">{} · {}</div>\n<dl>\n\
         <dt>单位 Employer</dt><dd class=\"plain\" data-field=\"employer\">{}</dd>\n\
         <dt>城市 City</dt><dd class=\"plain\" data-field=\"city\">{}</dd>\n\
         <dt>从业始于 Since</dt><dd class=\"plain\" data-field=\"since\">{}</dd>\n",
        escape(&card_id(app_id, p.user_id)),
        escape(&initial),
        escape(name),
        escape(c.job_name),
        escape(c.profession_name),
        escape(c.employer),
        escape(c.city),
        escape(c.since),
    );
    if d.number {
        let _ = writeln!(b, "<dt>编号 Card no.</dt><dd class=\"id\" data-field=\"card_no\">{}</dd>", escape(c.card_no));
    }
    b.push_str("</dl>\n<ul class=\"verified\" data-field=\"verified\">");
    for v in c.verified {
        let _ = write!(b, "<li>✓ {}</li>", escape(v));
    }
    b.push_str("</ul>\n</div>\n");
    let page_url =
        format!("{}/workcard/{}/{}", state.base_url(), encode_uri_component(app_id), card_id(app_id, p.user_id));
    if d.qr {
        let _ = writeln!(b, "<div class=\"qr\" data-field=\"qr\">{}扫码查看 Scan to view</div>", qr_svg(&page_url));
    }
    b.push_str("</div>\n");
    let mut actions = String::new();
    if d.button {
        let open = format!("alipays://platformapi/startapp?appId=20000067&url={}", encode_uri_component(&page_url));
        let _ = write!(
            actions,
            "<a class=\"btn primary\" data-action=\"open-in-alipay\" href=\"{}\">在支付宝中查看 Open in Alipay</a>",
            escape(&open)
        );
    }
    if let Some(back) = &d.back {
        let _ = write!(
            actions,
            "<a class=\"btn plain\" data-action=\"back\" href=\"{}\">返回商户 Back to the merchant</a>",
            escape(back)
        );
    }
    if !actions.is_empty() {
        let _ = writeln!(b, "<div class=\"wc-foot\"><div class=\"actions\">{actions}</div></div>");
    }
    b.push_str("</section>\n");
    b
}

/// `GET /workcard/{app_id}/{card_id}`
pub(crate) async fn card_page(
    State(state): State<AppState>,
    Path((app_id, id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Response {
    let Some((p, c)) = find(&app_id, &id) else { return not_found() };
    let (display, embed) = Display::from_query(query.as_deref());
    let mut body = card_html(&state, &app_id, p, c, &display);
    if !embed {
        let _ = write!(
            body,
            "<section class=\"card\" data-section=\"about\">\n<h2>关于此页<small>About this page</small></h2>\n\
             <p class=\"hint\">这是沙箱中的测试用户工作证，由 info/query 返回的链接打开；显示项随 has_button、has_number、has_qr_code 而定。\
             <br>A sandbox test user's work card, opened from the links info/query answers; what it shows follows has_button, \
             has_number and has_qr_code.</p>\n<ul class=\"links\"><li><a href=\"{0}/picture\">图片 Picture</a></li>\
             <li><a href=\"{0}/update\">待更新的职业数据 Data waiting to be added</a></li></ul>\n</section>\n",
            escape(&format!("/workcard/{}/{}", encode_uri_component(&app_id), id)),
        );
    }
    let mut text = page_with_style("芝麻工作证 · Zhima work card", STYLE, &body);
    if embed {
        text = text.replacen("<body>", "<body class=\"embed\">", 1);
    }
    html(StatusCode::OK, text)
}

/// `GET /workcard/{app_id}/{card_id}/picture`: the card as SVG.
pub(crate) async fn card_picture(Path((app_id, id)): Path<(String, String)>, RawQuery(query): RawQuery) -> Response {
    let Some((p, c)) = find(&app_id, &id) else { return not_found() };
    let (display, _) = Display::from_query(query.as_deref());
    let mut lines = vec![
        format!("{} · {}", c.job_name, c.profession_name),
        format!("单位 {}", c.employer),
        format!("城市 {}  ·  从业始于 {}", c.city, c.since),
        format!("已核验 {}", c.verified.join("、")),
    ];
    if display.number {
        lines.push(format!("编号 {}", c.card_no));
    }
    let mut svg = String::from(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"360\" viewBox=\"0 0 640 360\" \
         font-family=\"PingFang SC, Microsoft YaHei, sans-serif\">\n\
         <rect width=\"640\" height=\"360\" rx=\"24\" fill=\"#fff\" stroke=\"#dee0e3\"/>\n\
         <path d=\"M0 24a24 24 0 0 1 24-24h592a24 24 0 0 1 24 24v48H0z\" fill=\"#1677ff\"/>\n\
         <text x=\"28\" y=\"46\" fill=\"#fff\" font-size=\"22\" font-weight=\"600\">芝麻工作证 Zhima work card</text>\n\
         <circle cx=\"80\" cy=\"150\" r=\"44\" fill=\"#e6efff\"/>\n",
    );
    let name = display_name(p);
    let initial: String = name.chars().next().map(String::from).unwrap_or_default();
    let _ = writeln!(
        svg,
        "<text x=\"80\" y=\"164\" fill=\"#1677ff\" font-size=\"40\" text-anchor=\"middle\">{}</text>\n\
         <text x=\"150\" y=\"138\" fill=\"#1f2329\" font-size=\"30\" font-weight=\"600\">{}</text>",
        escape(&initial),
        escape(name)
    );
    for (i, line) in lines.iter().enumerate() {
        let _ = writeln!(
            svg,
            "<text x=\"150\" y=\"{}\" fill=\"#646a73\" font-size=\"17\">{}</text>",
            176 + i * 32,
            escape(line)
        );
    }
    svg.push_str("</svg>\n");
    let mut res = (StatusCode::OK, svg).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("image/svg+xml; charset=utf-8"));
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// `GET /workcard/{app_id}/{card_id}/update`: the job data this app pushed for the user.
pub(crate) async fn update_page(State(state): State<AppState>, Path((app_id, id)): Path<(String, String)>) -> Response {
    let Some((p, c)) = find(&app_id, &id) else { return not_found() };
    let rows = match state.store().job_data(&app_id).await {
        Ok(rows) => rows,
        Err(e) => {
            tracing::error!(error = %e, "reading job data");
            Vec::new()
        }
    };
    let mut body = card_html(&state, &app_id, p, c, &Display::default());
    body.push_str(
        "<section class=\"card\" data-section=\"job-data\">\n<h2>待更新的职业数据<small>Data the merchant pushed</small></h2>\n\
         <p class=\"hint\">商户通过 jobdata/add 回流的数据，用户确认后更新到工作证。Job data the merchant pushed with jobdata/add; \
         the user confirms it onto the card.</p>\n",
    );
    let mine: Vec<_> = rows
        .iter()
        .filter(|r| r.subject.user_id.as_deref() == Some(p.user_id) || r.subject.open_id.as_deref() == Some(p.open_id))
        .collect();
    if mine.is_empty() {
        body.push_str("<p data-field=\"empty\">暂无数据 · Nothing pushed yet.</p>\n");
    } else {
        body.push_str(
            "<table>\n<tr class=\"head\"><th>受理号 Acceptance</th><th>类型 Type</th><th>内容 Content</th></tr>\n",
        );
        for r in mine {
            let items: Vec<serde_json::Value> = serde_json::from_str(&r.items).unwrap_or_default();
            for item in items {
                let text = |k: &str| item.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
                let content =
                    ["job_name", "company_name", "school_name", "certificate_name", "skill_name", "work_desc"]
                        .iter()
                        .map(|k| text(k))
                        .filter(|v| !v.is_empty())
                        .collect::<Vec<_>>()
                        .join(" · ");
                let _ = writeln!(
                    body,
                    "<tr data-acceptance=\"{0}\"><td class=\"mono\" data-label=\"受理号\">{0}</td><td data-label=\"类型\">{1}</td>\
                     <td data-label=\"内容\">{2}</td></tr>",
                    escape(&r.acceptance_id),
                    escape(&text("type")),
                    escape(&content)
                );
            }
        }
        body.push_str("</table>\n");
    }
    body.push_str("</section>\n");
    html(StatusCode::OK, page_with_style("更新工作证 · Update the work card", STYLE, &body))
}
