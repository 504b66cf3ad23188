//! The README's Rust example is this file's snippet, verbatim (checked below), and it runs here
//! against a spawned sandbox — so the README cannot drift from the SDK's real API.

use jobworth_testkit::process::start_authorized;

/// The binary under test (only this crate's tests know where it is).
const BIN: &str = env!("CARGO_BIN_EXE_jobworth");

// README-SNIPPET-START
use std::path::Path;

use jobworth::{Client, Error, ErrorCode, IdentityResult, IdentityType, QueryType};

/// Step 3 of the flow: the verified result for a user who went through the desk, or `None` when
/// the once_token is spent (a terminal result is returned exactly once).
async fn verified_result(
    endpoint: &str,
    app_id: &str,
    keys: &Path,
    conn_key: &str,
    once_token: &str,
    user_id: &str,
) -> Result<Option<IdentityResult>, Box<dyn std::error::Error>> {
    let client = Client::builder()
        .endpoint(endpoint) // default: https://openapi.alipay.com
        .app_id(app_id)
        .private_key_pem(&std::fs::read_to_string(keys.join("app_private_key.pem"))?)?
        .alipay_public_key_pem(&std::fs::read_to_string(keys.join("alipay_public_key.pem"))?)?
        .build()?;
    let answer = client
        .authentication_query()
        .conn_key(conn_key)
        .once_token(once_token)
        .query_type(QueryType::Exact)
        .identity_type(IdentityType::Teacher)
        .service_id("2019120400000000000004450100")
        .user_id(user_id)
        .send()
        .await;
    match answer {
        Ok(result) => Ok(Some(result.identity_result)),
        Err(Error::Api(e)) if e.code == ErrorCode::TokenInvalid => Ok(None),
        Err(e) => Err(e.into()),
    }
}
// README-SNIPPET-END

#[test]
fn readme_example_is_this_code_and_it_works() {
    let this = include_str!("readme.rs");
    let start = this.find("// README-SNIPPET-START\n").unwrap() + "// README-SNIPPET-START\n".len();
    let end = this.find("// README-SNIPPET-END").unwrap();
    let snippet = &this[start..end];
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    assert!(readme.contains(&format!("```rust\n{snippet}```")), "README.md shows tests/readme.rs's snippet verbatim");

    let (sandbox, app, auth) = start_authorized(BIN, "2021000000000201", "teacher");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let run = || {
        rt.block_on(verified_result(
            &sandbox.base_url,
            &app.app_id,
            app.dir.path(),
            &auth.conn_key,
            &auth.once_token,
            &auth.user_id,
        ))
        .unwrap()
    };
    assert_eq!(run(), Some(IdentityResult::Success));
    assert_eq!(run(), None, "the second read finds the token spent");
}
