//! Transport-level behaviour against a raw TCP server on loopback: the exact request-target on
//! the wire, connection reuse, refused connections, silent servers and dropped connections.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use alipay_v3::sign::RequestTarget;
use alipay_v3::verify::{verify_request, AuthorizationHeader};
use jobworth::{CertType, Error, IdentityType, MaybeSentKind, NotSentKind, QueryType};
use jobworth_testkit::fixtures::*;
use jobworth_testkit::mock::*;
use jobworth_testkit::raw_server::*;

#[tokio::test]
async fn the_request_target_on_the_wire_is_byte_for_byte_what_was_signed() {
    let server = RawServer::start(RawMode::Respond(Arc::new(|_| signed_http(200, SUCCESS)))).await;
    let c = client(&format!("{}/", server.url())); // trailing slash tolerated
    let res = c
        .authentication_query()
        .conn_key("a b+c/d?e&f=g#h%中~")
        .once_token("\"<>'`{}|\\^")
        .query_type(QueryType::Dim)
        .identity_type(IdentityType::Other("0 4".into()))
        .service_id("s")
        .cert(CertType::Passport, "E1234567")
        .send()
        .await
        .unwrap();
    assert_eq!(res.user_id.as_deref(), Some("2088402562742105"));

    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    let expected = "/v3/zhima/customer/jobworth/authentication?conn_key=a%20b%2Bc%2Fd%3Fe%26f%3Dg%23h%25%E4%B8%AD~&once_token=%22%3C%3E%27%60%7B%7D%7C%5C%5E&query_type=dim&identity_type=0%204&service_id=s&cert_no=E1234567&cert_type=1";
    assert_eq!(r.request_line, format!("GET {expected} HTTP/1.1"));
    let auth = AuthorizationHeader::parse(r.header("authorization").unwrap()).unwrap();
    verify_request(&app_public(), &auth, &RequestTarget::new(&r.method, &r.target)).unwrap();
    assert!(r.header("user-agent").unwrap().starts_with("jobworth-rust/"));
}

#[tokio::test]
async fn connections_are_reused() {
    let server = RawServer::start(RawMode::Respond(Arc::new(|_| signed_http(200, SUCCESS)))).await;
    let c = client(&server.url());
    for i in 0..3 {
        c.authentication_query().conn_key(format!("c{i}")).once_token("t").send().await.unwrap();
    }
    // Clones share the pool.
    c.clone().request(http::Method::GET, "/v3/x").send().await.unwrap();
    assert_eq!(server.requests().len(), 4);
    assert_eq!(server.connections.load(Ordering::SeqCst), 1, "keep-alive connection reused");
}

#[tokio::test]
async fn refused_connection_is_not_sent_and_is_retried() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    }; // listener dropped: nothing listens on this port now
    let c = builder(&format!("http://127.0.0.1:{port}")).max_retries(2).build().unwrap();
    let e = c.authentication_query().conn_key("c").once_token("t").cert_no(CERT_NO).send().await.unwrap_err();
    match &e {
        Error::NotSent(n) => {
            assert_eq!(n.kind, NotSentKind::Connect);
            assert_eq!(n.request.as_ref().unwrap().attempts, 3, "nothing was sent, so every retry is safe");
        }
        other => panic!("{other:?}"),
    }
    assert!(e.is_retryable() && e.is_not_sent() && !e.token_may_be_consumed());
    let text = e.to_string();
    assert!(text.starts_with(&format!("request not sent: could not connect to http://127.0.0.1:{port}")), "{text}");
    assert!(!text.contains(CERT_NO) && !format!("{e:?}").contains(CERT_NO));
}

#[tokio::test]
async fn silent_server_times_out_as_maybe_sent() {
    let server = RawServer::start(RawMode::Silent).await;
    let c = builder(&server.url()).timeout(Duration::from_millis(250)).build().unwrap();

    let e = c.authentication_query().conn_key("c").once_token("t").cert_no(CERT_NO).send().await.unwrap_err();
    assert!(
        matches!(&e, Error::MaybeSent(m) if m.kind == MaybeSentKind::Timeout { after: Duration::from_millis(250) }),
        "{e:?}"
    );
    assert_eq!(server.requests().len(), 1, "an ambiguous query is not repeated");
    assert!(!e.to_string().contains(CERT_NO) && !format!("{e:?}").contains(CERT_NO));

    // The generic call repeats a timed-out request only when declared idempotent.
    let e = c.request(http::Method::GET, "/v3/x").send().await.unwrap_err();
    assert!(matches!(e, Error::MaybeSent(_)));
    assert_eq!(server.requests().len(), 2);
    let e = c.request(http::Method::GET, "/v3/x").idempotent(true).max_retries(1).send().await.unwrap_err();
    assert_eq!(e.request().unwrap().attempts, 2);
    assert_eq!(server.requests().len(), 4);
}

#[tokio::test]
async fn connection_dropped_after_the_request_is_maybe_sent() {
    let server = RawServer::start(RawMode::Drop).await;
    let c = client(&server.url());
    let e = c.authentication_query().conn_key("c").once_token("t").send().await.unwrap_err();
    assert!(matches!(&e, Error::MaybeSent(m) if m.kind == MaybeSentKind::ConnectionLost), "{e:?}");
    assert!(e.token_may_be_consumed());
    assert_eq!(server.requests().len(), 1);
    assert!(e.to_string().contains("the request may have reached Alipay"), "{e}");
}

#[tokio::test]
async fn paths_that_would_not_be_sent_as_signed_are_refused_before_sending() {
    let server = RawServer::start(RawMode::Respond(Arc::new(|_| signed_http(200, "{}")))).await;
    let c = client(&server.url());
    for bad in ["/v3/./x", "/v3/a b", "/v3/中", "v3/x", "/v3/x?a=1", "/v3/x#f"] {
        let e = c.request(http::Method::GET, bad).send().await.unwrap_err();
        assert!(matches!(&e, Error::NotSent(n) if n.kind == NotSentKind::InvalidRequest), "{bad}: {e:?}");
    }
    let e = c.request(http::Method::GET, "/v3/x").json(&serde_json::json!({})).send().await.unwrap_err();
    assert!(e.is_not_sent(), "GET carries no body: {e:?}");
    let e = c.request(http::Method::POST, "/v3/x").encrypt(true).send().await.unwrap_err();
    assert!(matches!(e, Error::Config(_)), "encryption without a key: {e:?}");
    assert!(server.requests().is_empty());
    // Percent-encoded paths are sent unchanged.
    c.request(http::Method::GET, "/v3/a%20b/%E4%B8%AD").send().await.unwrap();
    assert_eq!(server.requests()[0].target, "/v3/a%20b/%E4%B8%AD");
}
