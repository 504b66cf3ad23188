//! The rest of the Jobworth family over real HTTP on loopback: work card, cloud résumé, job
//! data, pictures, positions, credit agreement; signed and verified like the query, in key,
//! certificate and AES modes. Expected values are literal wire strings.

use std::time::Duration;

use base64::Engine as _;
use jobworth_testkit::app::App;
use jobworth_testkit::fixtures::{app_key, APP_ID as APP, TEACHER_CERT, TEACHER_OPEN, TEACHER_USER};
use jobworth_testkit::http::Resp;
use jobworth_testkit::sandbox::{start_with, start_with_aes_app, start_with_app as setup, Harness};
use jobworth_testkit::signed::{order_string, Req};
use serde_json::{json, Value};

const INFO: &str = "/v3/zhima/customer/jobworth/info/query";
const RESUME: &str = "/v3/zhima/customer/jobworth/cloudresume/query";
const JOBDATA: &str = "/v3/zhima/customer/jobworth/jobdata/add";
const PICTURE: &str = "/v3/zhima/customer/jobworth/picture/upload";
const POSITION: &str = "/v3/zhima/customer/jobworth/position/add";
const AGREEMENT: &str = "/v3/zhima/credit/payafteruse/creditagreement/query";

const NOT_TEACHER_USER: &str = "2088102146225102";
const BLACKLISTED_USER: &str = "2088102146225104";
const NO_ZHIMA_USER: &str = "2088102146225105";
const NO_JOBWORTH_USER: &str = "2088102146225106";

fn get(path: &str, pairs: &[(&str, &str)]) -> Req {
    Req::get_params(path, pairs)
}

fn post(path: &str, body: &Value) -> Req {
    Req::post(path, body.to_string())
}

/// A 200 answer, signature verified: its JSON.
fn ok(r: &Resp, app: &App) -> Value {
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r.verify(&app.alipay_public_key());
    assert_eq!(r.header("content-type"), Some("application/json; charset=utf-8"));
    r.json()
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

/// A desk opened from a signed order string and not completed: `(desk_id, once_token)`.
async fn open_desk(h: &Harness, app: &App, conn_key: &str, token: &str) -> String {
    let order = order_string(APP, &app.key, conn_key, Some(json!({"onceToken": token})));
    let r = h.post_json("/sandbox/desk", &json!({"order_str": order})).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    r.json()["desk_id"].as_str().unwrap().to_string()
}

fn png(size: usize) -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
    b.resize(size.max(8), 0);
    b
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[tokio::test]
async fn work_card_links_open_the_card_pages() {
    let (h, app, alipay) = setup().await;
    let done = h.authenticate(&app, "conn-w", "tok-w", "teacher").await;
    let q = [("user_id", TEACHER_USER), ("has_number", "true"), ("has_qr_code", "true"), ("has_html", "true")];
    let v = ok(&h.send(&app, &get(INFO, &q)).await, &app);
    assert_eq!(keys(&v), ["acceptance_id", "html_url", "picture_url", "update_url", "url"]);
    assert_eq!(v["acceptance_id"], done["desk_id"]);
    let url = v["url"].as_str().unwrap();
    let prefix = format!("{}/workcard/{APP}/", h.base());
    assert!(url.starts_with(&prefix) && url.ends_with("?number=1&qr=1"), "{url}");
    assert_eq!(v["html_url"].as_str().unwrap(), url.replace("?number=1&qr=1", "?number=1&qr=1&embed=1"));

    // The card a person looks at: the name, the job, the number and a QR code (asked for); no button.
    let page = h.http.get(url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let text = page.text().await.unwrap();
    for s in ["王建国", "中学数学教师", "北京市朝阳区实验中学", "ZD110105202403150001", "data-field=\"qr\"", "<svg"]
    {
        assert!(text.contains(s), "{s}");
    }
    assert!(!text.contains("open-in-alipay"));
    let picture = h.http.get(v["picture_url"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(picture.headers()["content-type"], "image/svg+xml; charset=utf-8");
    assert!(picture.text().await.unwrap().contains("王建国"));

    // Without flags: no number, no QR, no html_url; the button and the back link when asked.
    let q = [("user_id", TEACHER_USER), ("has_button", "true"), ("back_url", "https://merchant.example/back")];
    let v = ok(&h.send(&app, &get(INFO, &q)).await, &app);
    assert!(v.get("html_url").is_none());
    let text = h.http.get(v["url"].as_str().unwrap()).send().await.unwrap().text().await.unwrap();
    assert!(!text.contains("ZD110105202403150001") && !text.contains("data-field=\"qr\""));
    assert!(text.contains("data-action=\"open-in-alipay\"") && text.contains("https://merchant.example/back"));

    // By document; the uid wins when both are set.
    let by_cert = [("cert_no", TEACHER_CERT), ("cert_type", "0")];
    assert_eq!(
        ok(&h.send(&app, &get(INFO, &by_cert)).await, &app)["url"],
        v["url"].as_str().unwrap().split('?').next().unwrap()
    );
    let both = [("user_id", NOT_TEACHER_USER), ("cert_no", TEACHER_CERT), ("cert_type", "0")];
    h.send(&app, &get(INFO, &both)).await.assert_error(400, "USER_NOT_AUTHORIZE", &alipay);
    let by_open = [("open_id", TEACHER_OPEN), ("conn_key", "conn-w"), ("cloud_resume_scene", "RESUME")];
    assert_eq!(ok(&h.send(&app, &get(INFO, &by_open)).await, &app)["scene_result"], true);
    let other_desk = [("user_id", TEACHER_USER), ("conn_key", "conn-other")];
    h.send(&app, &get(INFO, &other_desk)).await.assert_error(400, "USER_NOT_AUTHORIZE", &alipay);

    // A card id names nobody to another app, and an unknown one is a 404 page.
    let other = url.replace(&format!("/workcard/{APP}/"), "/workcard/2021000000000000/");
    assert_eq!(h.http.get(other).send().await.unwrap().status(), 404);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn work_card_refusals() {
    let (h, app, alipay) = setup().await;
    for (conn, persona) in [("c-b", "blacklisted"), ("c-z", "no-zhima"), ("c-j", "no-jobworth"), ("c-t", "teacher")] {
        h.authenticate(&app, conn, "tok", persona).await;
    }
    let send = |q: Vec<(&'static str, &'static str)>| {
        let (h, app) = (&h, &app);
        async move { h.send(app, &get(INFO, &q)).await }
    };
    send(vec![("user_id", BLACKLISTED_USER)]).await.assert_error(400, "BLACK_CONTROL", &alipay);
    let v = ok(&send(vec![("user_id", NO_ZHIMA_USER)]).await, &app);
    assert_eq!(keys(&v), ["acceptance_id", "sub_code", "sub_msg"]);
    assert_eq!(v["sub_code"], "USER_NOT_OPEN_ZHIMA");
    assert_eq!(v["sub_msg"], "用户没有开通芝麻");
    send(vec![("user_id", NO_JOBWORTH_USER)]).await.assert_error(400, "USER_NOT_AUTHORIZE", &alipay);
    send(vec![("user_id", NOT_TEACHER_USER)]).await.assert_error(400, "USER_NOT_AUTHORIZE", &alipay);
    send(vec![("user_id", "2088000000000000")]).await.assert_error(400, "USER_NOT_AUTHORIZE", &alipay);
    send(vec![("user_id", TEACHER_USER), ("job_id", "J999999")]).await.assert_error(400, "JOB_ID_NOT_MATCH", &alipay);
    assert_eq!(ok(&send(vec![("user_id", TEACHER_USER), ("job_id", "J001101")]).await, &app).get("sub_code"), None);
    send(vec![("has_button", "true")]).await.assert_error(400, "INVALID_PARAMETER", &alipay);
    send(vec![("cert_no", TEACHER_CERT)]).await.assert_error(400, "INVALID_PARAMETER", &alipay);
    send(vec![("user_id", TEACHER_USER), ("userId", "x")]).await.assert_error(400, "INVALID_PARAMETER", &alipay);
    send(vec![("user_id", TEACHER_USER), ("has_button", "yes")]).await.assert_error(400, "ILLEGAL_ARGUMENT", &alipay);
    send(vec![("cert_no", TEACHER_CERT), ("cert_type", "9")]).await.assert_error(400, "ILLEGAL_ARGUMENT", &alipay);
    send(vec![("cert_no", "110105198503151231"), ("cert_type", "0")]).await.assert_error(
        400,
        "ILLEGAL_ARGUMENT",
        &alipay,
    );
    send(vec![("user_id", TEACHER_USER), ("visitor_type", "X")]).await.assert_error(400, "ILLEGAL_ARGUMENT", &alipay);
    send(vec![("user_id", TEACHER_USER), ("back_url", "javascript:alert(1)")]).await.assert_error(
        400,
        "ILLEGAL_ARGUMENT",
        &alipay,
    );
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn cloud_resume_answers_once() {
    let (h, app, alipay) = setup().await;
    h.authenticate(&app, "conn-r", "tok-r", "teacher").await;
    let q = [("conn_key", "conn-r"), ("once_token", "tok-r")];
    let v = ok(&h.send(&app, &get(RESUME, &q)).await, &app);
    assert_eq!(
        keys(&v),
        [
            "birthday",
            "certificates",
            "education_experiences",
            "email",
            "gender",
            "intention_status",
            "person_desc",
            "phone",
            "position_intentions",
            "position_type",
            "residential_area",
            "skills",
            "user_name",
            "work_experiences",
            "work_start_date"
        ]
    );
    assert_eq!(v["user_name"], "王建国");
    assert_eq!(v["birthday"], "1985-03-15");
    assert_eq!(v["work_start_date"], 200909);
    assert_eq!(v["education_experiences"][0]["school_name"], "北京师范大学");
    assert_eq!(v["education_experiences"][0]["in_school_year"], 2003);
    assert_eq!(v["education_experiences"][0]["finish_school_month"], "7");
    assert_eq!(v["education_experiences"][0]["tong_zhao"], true);
    assert_eq!(v["work_experiences"][0]["company_name"], "北京市朝阳区实验中学");
    assert!(v["work_experiences"][0].get("work_end_time").is_none());
    assert_eq!(v["work_experiences"][1]["work_end_time"], 201406);
    assert_eq!(v["skills"][0]["skill_name"], "高中数学教学");
    assert_eq!(v["certificates"][0]["certificate_name"], "高级中学教师资格证");
    assert_eq!(v["position_intentions"][0]["salary_min"], "15000");
    // Once: the second read is refused; the identity query's own single read is untouched.
    h.send(&app, &get(RESUME, &q)).await.assert_error(400, "INVALID_PARAMETER", &alipay);
    assert_eq!(ok(&h.query(&app, "conn-r", "tok-r").await, &app)["identity_result"], "SUCCESS");

    // No résumé, no Zhima: the documented codes, every time (nothing is consumed).
    h.authenticate(&app, "conn-n", "tok-n", "no-jobworth").await;
    h.authenticate(&app, "conn-z", "tok-z", "no-zhima").await;
    for _ in 0..2 {
        let r = h.send(&app, &get(RESUME, &[("conn_key", "conn-n"), ("once_token", "tok-n")])).await;
        r.assert_error(400, "QUERY_DATA_IS_NULL", &alipay);
        let r = h.send(&app, &get(RESUME, &[("conn_key", "conn-z"), ("once_token", "tok-z")])).await;
        r.assert_error(400, "USER_NOT_OPEN_ZHIMA", &alipay);
    }
    // Before the user authorized, and after the user declined.
    let desk = open_desk(&h, &app, "conn-o", "tok-o").await;
    let open = [("conn_key", "conn-o"), ("once_token", "tok-o")];
    h.send(&app, &get(RESUME, &open)).await.assert_error(400, "USER_NOT_AUTHORIZE", &alipay);
    h.post_json(&format!("/sandbox/desk/{desk}/complete"), &json!({"persona": "pending"})).await;
    assert_eq!(ok(&h.send(&app, &get(RESUME, &open)).await, &app)["user_name"], "张伟");
    let desk = open_desk(&h, &app, "conn-x", "tok-x").await;
    h.post_json(&format!("/sandbox/desk/{desk}/cancel"), &json!({})).await;
    let r = h.send(&app, &get(RESUME, &[("conn_key", "conn-x"), ("once_token", "tok-x")])).await;
    r.assert_error(400, "USER_NOT_AUTHORIZE", &alipay);
    // Unknown pair, missing parameter.
    let r = h.send(&app, &get(RESUME, &[("conn_key", "conn-r"), ("once_token", "nope")])).await;
    r.assert_error(400, "INVALID_PARAMETER", &alipay);
    h.send(&app, &get(RESUME, &[("conn_key", "conn-r")])).await.assert_error(400, "INVALID_PARAMETER", &alipay);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn cloud_resume_expires_after_the_token_lifetime() {
    let h = start_with(|c| c.token_ttl = Duration::from_millis(600)).await;
    let app = h.register(APP, &app_key(), None).await;
    h.authenticate(&app, "conn-e", "tok-e", "teacher").await;
    h.authenticate(&app, "conn-l", "tok-l", "teacher").await;
    assert_eq!(
        ok(&h.send(&app, &get(RESUME, &[("conn_key", "conn-l"), ("once_token", "tok-l")])).await, &app)["gender"],
        "男"
    );
    tokio::time::sleep(Duration::from_millis(800)).await;
    let r = h.send(&app, &get(RESUME, &[("conn_key", "conn-e"), ("once_token", "tok-e")])).await;
    r.assert_error(400, "INVALID_PARAMETER", &app.alipay_public_key());
    h.sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_resume_has_one_winner_among_concurrent_reads() {
    let (h, app, _) = setup().await;
    h.authenticate(&app, "conn-c", "tok-c", "teacher").await;
    let h = std::sync::Arc::new(h);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let (h, app) = (h.clone(), app.clone());
        tasks.spawn(async move {
            h.send(&app, &get(RESUME, &[("conn_key", "conn-c"), ("once_token", "tok-c")])).await.status
        });
    }
    let mut statuses = Vec::new();
    while let Some(s) = tasks.join_next().await {
        statuses.push(s.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 400).count(), 15);
    std::sync::Arc::into_inner(h).unwrap().sandbox.shutdown().await;
}

#[tokio::test]
async fn job_data_is_stored_and_listed() {
    let (h, app, alipay) = setup().await;
    let pic = ok(
        &h.send(&app, &post(PICTURE, &json!({"content": b64(&png(64)), "pic_type": "JOB_DATA_UPLOAD"}))).await,
        &app,
    );
    let pic_id = pic["pic_id"].as_str().unwrap();
    let body = json!({
        "user_id": TEACHER_USER,
        "user_name": "王建国",
        "job_data_list": [
            {"type": "WORK", "company_name": "北京市朝阳区实验中学", "job_name": "高中数学教师", "salary_min": "15000",
             "salary_max": "20000", "head_pic_id": pic_id, "delivery_time": 1717756911},
            {"type": "CERTIFICATE", "certificate_name": "高级中学教师资格证", "certificate_pic_id": pic_id}
        ]
    });
    let v = ok(&h.send(&app, &post(JOBDATA, &body)).await, &app);
    assert_eq!(keys(&v), ["acceptance_id", "url"]);
    let acceptance = v["acceptance_id"].as_str().unwrap();
    assert_eq!(acceptance.len(), 32);
    let update = h.http.get(v["url"].as_str().unwrap()).send().await.unwrap().text().await.unwrap();
    assert!(update.contains("高中数学教师") && update.contains(acceptance), "{update}");

    let listed = h.get(&format!("/sandbox/apps/{APP}/job-data")).await;
    assert_eq!(listed.status, 200);
    let rows = listed.json();
    assert_eq!(rows.as_array().unwrap().len(), 1);
    assert_eq!(rows[0]["acceptance_id"], acceptance);
    assert_eq!(rows[0]["user_id"], TEACHER_USER);
    assert_eq!(rows[0]["job_data_list"][0]["company_name"], "北京市朝阳区实验中学");
    assert_eq!(rows[0]["job_data_list"][0]["delivery_time"], 1717756911);
    assert_eq!(rows[0]["job_data_list"][1]["type"], "CERTIFICATE");

    // By document (masked when listed), by conn_key alone; an unknown user is stored without a url.
    let by_cert = json!({"cert_no": TEACHER_CERT, "cert_type": "0", "job_data_list": [{"type": "SKILL", "skill_name": "课程设计"}]});
    assert!(ok(&h.send(&app, &post(JOBDATA, &by_cert)).await, &app)["url"].is_string());
    h.authenticate(&app, "conn-j", "tok", "teacher").await;
    let by_conn = json!({"conn_key": "conn-j", "job_data_list": [{"type": "SKILL", "skill_name": "命题"}]});
    assert!(ok(&h.send(&app, &post(JOBDATA, &by_conn)).await, &app).get("url").is_none());
    let rows = h.get(&format!("/sandbox/apps/{APP}/job-data")).await.json();
    assert_eq!(rows[1]["cert_no"], "1101**********1230");
    assert_eq!(rows[2]["conn_key"], "conn-j");

    let refused = [
        (json!({"user_id": TEACHER_USER}), "INVALID_PARAMETER"),
        (json!({"user_id": TEACHER_USER, "job_data_list": []}), "INVALID_PARAMETER"),
        (json!({"job_data_list": [{"type": "SKILL"}]}), "INVALID_PARAMETER"),
        (json!({"user_id": TEACHER_USER, "job_data_list": "x"}), "ILLEGAL_ARGUMENT"),
        (json!({"conn_key": "conn-unknown", "job_data_list": [{"type": "SKILL"}]}), "ILLEGAL_ARGUMENT"),
        (json!({"cert_no": TEACHER_CERT, "cert_type": "7", "job_data_list": [{"type": "SKILL"}]}), "ILLEGAL_ARGUMENT"),
        (json!({"user_id": TEACHER_USER, "job_data_list": [{"head_pic_id": "nope"}]}), "ILLEGAL_ARGUMENT"),
        (
            json!({"user_id": TEACHER_USER, "job_data_list": [{"salary_min": "9", "salary_max": "1"}]}),
            "ILLEGAL_ARGUMENT",
        ),
    ];
    for (body, code) in refused {
        h.send(&app, &post(JOBDATA, &body)).await.assert_error(400, code, &alipay);
    }
    h.send(&app, &Req::post(JOBDATA, "{not json")).await.assert_error(400, "INVALID_PARAMETER", &alipay);
    h.send(&app, &Req::post(JOBDATA, "")).await.assert_error(400, "INVALID_PARAMETER", &alipay);
    let many: Vec<Value> = (0..101).map(|_| json!({"type": "SKILL"})).collect();
    let r = h.send(&app, &post(JOBDATA, &json!({"user_id": TEACHER_USER, "job_data_list": many}))).await;
    r.assert_error(400, "ILLEGAL_ARGUMENT", &alipay);
    assert_eq!(h.get(&format!("/sandbox/apps/{APP}/job-data")).await.json().as_array().unwrap().len(), 3);
    assert_eq!(h.get("/sandbox/apps/2021000000000000/job-data").await.status, 404);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn pictures_are_checked_by_type_and_size() {
    let (h, app, alipay) = setup().await;
    let jpg = [0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F'];
    let v =
        ok(&h.send(&app, &post(PICTURE, &json!({"content": b64(&jpg), "pic_type": "JOB_DATA_UPLOAD"}))).await, &app);
    assert_eq!(keys(&v), ["pic_id"]);
    let limit = 1024 * 1024;
    let big = ok(
        &h.send(&app, &post(PICTURE, &json!({"content": b64(&png(limit)), "pic_type": "JOB_DATA_UPLOAD"}))).await,
        &app,
    );
    let listed = h.get(&format!("/sandbox/apps/{APP}/pictures")).await.json();
    assert_eq!(listed[0]["pic_id"], v["pic_id"]);
    assert_eq!(listed[0]["media_type"], "image/jpeg");
    assert_eq!(listed[0]["size"], 10);
    assert_eq!(listed[0]["pic_type"], "JOB_DATA_UPLOAD");
    assert_eq!(listed[0]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(listed[1]["pic_id"], big["pic_id"]);
    assert_eq!(listed[1]["media_type"], "image/png");
    assert_eq!(listed[1]["size"], limit);
    assert!(listed[0].get("content").is_none());

    let refused = [
        (json!({"content": b64(&png(limit + 1)), "pic_type": "JOB_DATA_UPLOAD"}), "PICTURE_UPLOAD_LIMIT_ERROR"),
        (json!({"content": b64(b"GIF89a\x01\x00"), "pic_type": "JOB_DATA_UPLOAD"}), "PICTURE_TYPE_ERROR"),
        (json!({"content": b64(b"%PDF-1.7"), "pic_type": "JOB_DATA_UPLOAD"}), "PICTURE_TYPE_ERROR"),
        (json!({"content": "***not base64***", "pic_type": "JOB_DATA_UPLOAD"}), "ILLEGAL_ARGUMENT"),
        (json!({"pic_type": "JOB_DATA_UPLOAD"}), "ILLEGAL_ARGUMENT"),
        (json!({"content": b64(&png(16))}), "ILLEGAL_ARGUMENT"),
        (json!({"content": 12, "pic_type": "JOB_DATA_UPLOAD"}), "ILLEGAL_ARGUMENT"),
    ];
    for (body, code) in refused {
        h.send(&app, &post(PICTURE, &body)).await.assert_error(400, code, &alipay);
    }
    assert_eq!(h.get(&format!("/sandbox/apps/{APP}/pictures")).await.json().as_array().unwrap().len(), 2);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn positions_are_stored_and_updated_by_their_ids() {
    let (h, app, alipay) = setup().await;
    let info = json!({"ka_position_id": "KA-1", "position_title": "高中数学教师", "company_name": "北京市朝阳区实验中学",
                      "work_city": "北京市", "salary_min": "15000", "salary_max": "25000", "salary_unit": "元/月", "count": 2});
    let v = ok(&h.send(&app, &post(POSITION, &json!({"jobworth_position_info": info}))).await, &app);
    assert_eq!(keys(&v), ["position_id"]);
    let id = v["position_id"].as_str().unwrap().to_string();
    let mut again = info.clone();
    again["count"] = json!("3");
    let v = ok(&h.send(&app, &post(POSITION, &json!({"jobworth_position_info": again}))).await, &app);
    assert_eq!(v["position_id"], id.as_str());
    let by_id =
        json!({"position_id": id, "position_title": "高中数学教师（已招满）", "company_name": "北京市朝阳区实验中学"});
    assert_eq!(
        ok(&h.send(&app, &post(POSITION, &json!({"jobworth_position_info": by_id}))).await, &app)["position_id"],
        id.as_str()
    );
    let other = json!({"position_title": "小学英语教师", "company_name": "深圳市南山区第二外国语学校"});
    let second = ok(&h.send(&app, &post(POSITION, &json!({"jobworth_position_info": other}))).await, &app);
    assert_ne!(second["position_id"], id.as_str());

    let rows = h.get(&format!("/sandbox/apps/{APP}/positions")).await.json();
    assert_eq!(rows.as_array().unwrap().len(), 2);
    assert_eq!(rows[0]["position_id"], id.as_str());
    assert_eq!(rows[0]["ka_position_id"], "KA-1");
    assert_eq!(rows[0]["jobworth_position_info"]["position_title"], "高中数学教师（已招满）");
    assert_eq!(rows[1]["jobworth_position_info"]["company_name"], "深圳市南山区第二外国语学校");

    let refused = [
        json!({}),
        json!({"jobworth_position_info": {"company_name": "x"}}),
        json!({"jobworth_position_info": {"position_title": "x"}}),
        json!({"jobworth_position_info": {"position_title": "x", "company_name": "y", "count": 0}}),
        json!({"jobworth_position_info": {"position_title": "x", "company_name": "y", "count": "many"}}),
        json!({"jobworth_position_info": {"position_title": "x", "company_name": "y", "salary_min": "9", "salary_max": "1"}}),
        json!({"jobworth_position_info": {"position_title": "x", "company_name": "y", "skip_url": "javascript:x"}}),
        json!({"jobworth_position_info": {"position_title": "x", "company_name": "y", "position_id": "nope"}}),
    ];
    for body in refused {
        h.send(&app, &post(POSITION, &body)).await.assert_error(400, "INVALID_PARAMETER", &alipay);
    }
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn credit_agreement_reflects_the_desk() {
    let (h, app, alipay) = setup().await;
    let q = |no: &'static str| get(AGREEMENT, &[("out_agreement_no", no)]);
    h.send(&app, &q("conn-a")).await.assert_error(400, "CREDIT_AGREEMENT_NOT_EXIST", &alipay);
    let desk = open_desk(&h, &app, "conn-a", "tok-a").await;
    h.send(&app, &q("conn-a")).await.assert_error(400, "CREDIT_AUTH_NOT_EXIST", &alipay);
    h.post_json(&format!("/sandbox/desk/{desk}/complete"), &json!({"persona": "teacher"})).await;
    let v = ok(&h.send(&app, &q("conn-a")).await, &app);
    assert_eq!(
        keys(&v),
        ["agreement_status", "alipay_user_id", "biz_time", "credit_agreement_id", "open_id", "out_agreement_no"]
    );
    assert_eq!(v["agreement_status"], "VALID");
    assert_eq!(v["alipay_user_id"], TEACHER_USER);
    assert_eq!(v["open_id"], TEACHER_OPEN);
    assert_eq!(v["out_agreement_no"], "conn-a");
    assert_eq!(v["credit_agreement_id"], desk.as_str());
    let biz_time = v["biz_time"].as_str().unwrap();
    assert_eq!(biz_time.len(), 19, "{biz_time}");
    assert_eq!(&biz_time[4..5], "-");
    // By id; both naming the same agreement; both naming two.
    let by_id = ok(&h.send(&app, &get(AGREEMENT, &[("credit_agreement_id", &desk)])).await, &app);
    assert_eq!(by_id, v);
    let both = ok(
        &h.send(&app, &get(AGREEMENT, &[("out_agreement_no", "conn-a"), ("credit_agreement_id", &desk)])).await,
        &app,
    );
    assert_eq!(both, v);
    let cancelled = open_desk(&h, &app, "conn-c", "tok-c").await;
    h.post_json(&format!("/sandbox/desk/{cancelled}/cancel"), &json!({})).await;
    let r = h.send(&app, &get(AGREEMENT, &[("out_agreement_no", "conn-c"), ("credit_agreement_id", &desk)])).await;
    r.assert_error(400, "ILLEGAL_QUERY", &alipay);
    // A declined desk leaves an agreement that is not in force.
    let v = ok(&h.send(&app, &q("conn-c")).await, &app);
    assert_eq!(keys(&v), ["agreement_status", "biz_time", "credit_agreement_id", "out_agreement_no"]);
    assert_eq!(v["agreement_status"], "INVALID");
    h.send(&app, &get(AGREEMENT, &[("credit_agreement_id", "nope")])).await.assert_error(
        400,
        "CREDIT_AGREEMENT_NOT_EXIST",
        &alipay,
    );
    h.send(&app, &get(AGREEMENT, &[])).await.assert_error(400, "INVALID_PARAMETER", &alipay);
    // Another app sees none of it.
    let other = h.register_new("2021000000000001", None).await;
    let r = h.send(&other, &q("conn-a")).await;
    r.assert_error(400, "CREDIT_AGREEMENT_NOT_EXIST", &other.alipay_public_key());
    h.sandbox.shutdown().await;
}

/// One request of each endpoint, for an app whose teacher verified under `conn`.
fn one_of_each(conn: &'static str, pic: &str) -> Vec<Req> {
    vec![
        get(INFO, &[("user_id", TEACHER_USER), ("conn_key", conn)]),
        get(RESUME, &[("conn_key", conn), ("once_token", "tok")]),
        post(JOBDATA, &json!({"user_id": TEACHER_USER, "job_data_list": [{"type": "SKILL", "skill_name": "板书"}]})),
        post(PICTURE, &json!({"content": pic, "pic_type": "JOB_DATA_UPLOAD"})),
        post(POSITION, &json!({"jobworth_position_info": {"position_title": "数学教师", "company_name": "实验中学"}})),
        get(AGREEMENT, &[("out_agreement_no", conn)]),
    ]
}

/// The field every endpoint's answer has, in order.
const ONE_FIELD: [&str; 6] = ["url", "user_name", "acceptance_id", "pic_id", "position_id", "agreement_status"];

#[tokio::test]
async fn every_endpoint_in_key_and_certificate_mode() {
    let (h, app, alipay) = setup().await;
    let sandbox_sn = app.registration["alipay_cert_sn"].as_str().unwrap().to_string();
    for (conn, cert) in [("conn-key", false), ("conn-cert", true)] {
        h.authenticate(&app, conn, "tok", "teacher").await;
        for (req, field) in one_of_each(conn, &b64(&png(32))).into_iter().zip(ONE_FIELD) {
            let req = Req { cert_sn: cert.then(|| app.app_cert_sn()), ..req };
            let r = h.send(&app, &req).await;
            assert!(ok(&r, &app).get(field).is_some(), "{} {field}", req.target);
            assert_eq!(r.header("alipay-sn"), cert.then_some(sandbox_sn.as_str()), "{}", req.target);
        }
    }
    // A wrong signature is refused on every endpoint, before any rule runs.
    let other = alipay_v3::keys::PrivateKey::generate().unwrap();
    let impostor = App { key: other, ..app.clone() };
    for req in one_of_each("conn-key", &b64(&png(32))) {
        h.send(&impostor, &req).await.assert_error(400, "invalid-signature", &alipay);
    }
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn every_endpoint_in_aes_mode() {
    let (h, app, aes) = start_with_aes_app().await;
    h.authenticate(&app, "conn-aes", "tok", "teacher").await;
    for (req, field) in one_of_each("conn-aes", &b64(&png(32))).into_iter().zip(ONE_FIELD) {
        let req = Req { encrypt: true, ..req };
        let r = h.send(&app, &req).await;
        assert_eq!(r.status, 200, "{} {}", req.target, String::from_utf8_lossy(&r.body));
        r.verify(&app.alipay_public_key());
        assert_eq!(r.header("content-type"), Some("text/plain"));
        let plain: Value =
            serde_json::from_str(&aes.decrypt_to_string(std::str::from_utf8(&r.body).unwrap()).unwrap()).unwrap();
        assert!(plain.get(field).is_some(), "{} {plain}", req.target);
    }
    // The decrypted body is what the rules read: a refusal of its content, not of its encryption.
    let r = h
        .send(
            &app,
            &Req { encrypt: true, ..post(PICTURE, &json!({"content": b64(b"GIF89a"), "pic_type": "JOB_DATA_UPLOAD"})) },
        )
        .await;
    r.assert_error(400, "PICTURE_TYPE_ERROR", &app.alipay_public_key());
    let listed = h.get(&format!("/sandbox/apps/{APP}/job-data")).await.json();
    assert_eq!(listed[0]["job_data_list"][0]["skill_name"], "板书");
    h.sandbox.shutdown().await;
}
