//! `jobworth order-string`: the signed step-1 order string for `zhima.credit.payafteruse.creditagreement.sign`
//! (step 1), built locally and never sent to the gateway — the Alipay app opens the acceptance desk with it.

use std::path::PathBuf;

use crate::cmd::{load_private_key, query::parse_identity_type};
use crate::error::CliError;

#[derive(Debug, clap::Args)]
#[command(after_help = "The output is one line: URL-encoded parameters in the order the official SDKs' sdkExecute \
    emits them, RSA2 signature last. Hand it to the Alipay app (or POST it as {\"order_str\": ...} to the sandbox's \
    /sandbox/desk). The out_agreement_no you choose here is the conn_key of the later `jobworth query`.")]
pub struct Args {
    /// Your app's APPID
    #[arg(long, env = "ALIPAY_APP_ID", value_name = "APP_ID")]
    pub app_id: String,
    /// Path of the app private key (PEM or bare base64, PKCS#8 or PKCS#1) that signs the order string
    #[arg(long, env = "ALIPAY_PRIVATE_KEY", value_name = "PATH")]
    pub private_key: PathBuf,
    /// Your id for this authorization; becomes the conn_key of the query
    #[arg(long, value_name = "ID")]
    pub out_agreement_no: String,
    /// Credit service id (zm_service_id) assigned to your product package; the query's --service-id
    #[arg(long, value_name = "ID")]
    pub service_id: String,
    /// Single-use token to put into extra_param.onceToken (otherwise Alipay issues one at the desk)
    #[arg(long, value_name = "TOKEN")]
    pub once_token: Option<String>,
    /// Identity to verify, put into extra_param.identityType: 04 (or `teacher`), or another numeric code
    #[arg(long, value_name = "CODE", value_parser = parse_identity_type)]
    pub identity_type: Option<String>,
    /// The private key's path came from ALIPAY_PRIVATE_KEY (filled in after parsing).
    #[arg(skip)]
    pub private_key_from_env: bool,
}

pub fn run(args: Args) -> Result<(), CliError> {
    let label = if args.private_key_from_env {
        "ALIPAY_PRIVATE_KEY (environment variable for --private-key)"
    } else {
        "--private-key"
    };
    let key = load_private_key(&args.private_key, label)?;
    let order = builder(&args).sign(&key).map_err(CliError::config)?;
    println!("{order}");
    Ok(())
}

/// The SDK's step-1 builder filled from the flags; the timestamp defaults to now (Asia/Shanghai).
fn builder(args: &Args) -> jobworth::OrderStringBuilder {
    let mut b = jobworth::OrderString::builder()
        .app_id(&args.app_id)
        .out_agreement_no(&args.out_agreement_no)
        .service_id(&args.service_id);
    if let Some(t) = &args.once_token {
        b = b.once_token(t);
    }
    if let Some(t) = &args.identity_type {
        b = b.identity_type(t.as_str());
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../alipay-v3/tests/fixtures/");

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!("{FIXTURES}{name}")).unwrap()
    }

    fn args(once_token: Option<&str>, identity_type: Option<&str>) -> Args {
        Args {
            app_id: "2021000122671080".into(),
            private_key: "unused".into(),
            out_agreement_no: "conn-7f3c1e2a".into(),
            service_id: "2019120400000000000004450100".into(),
            once_token: once_token.map(Into::into),
            identity_type: identity_type.map(Into::into),
            private_key_from_env: false,
        }
    }

    /// Vector V-ORDER: what alipay-sdk 4.14.0's sdkExecute produced for the same inputs, byte for byte.
    #[test]
    fn reproduces_the_node_sdk_vector() {
        let vectors: serde_json::Value = serde_json::from_str(&fixture("vectors.json")).unwrap();
        let v = &vectors["v2_order_string"]["vectors"][0];
        assert_eq!(v["id"], "V-ORDER");
        let key = alipay_v3::keys::PrivateKey::parse(&fixture("app-private-key-pkcs1.pem")).unwrap();
        let order = builder(&args(Some("tok-9b1d"), None)).timestamp_epoch_secs(1_717_756_911).sign(&key).unwrap();
        assert_eq!(order, v["order_string"].as_str().unwrap());
    }

    #[test]
    fn extra_param_is_a_json_string_and_absent_when_empty() {
        let key = alipay_v3::keys::PrivateKey::parse(&fixture("app-private-key-pkcs1.pem")).unwrap();
        let public = alipay_v3::keys::PublicKey::parse(&fixture("app-public-key.pem")).unwrap();
        let order = builder(&args(None, Some("04"))).sign(&key).unwrap();
        let params = alipay_v3::order::verify_order_string(&order, &public).unwrap();
        let biz: serde_json::Value = serde_json::from_str(params.get("biz_content").unwrap()).unwrap();
        assert_eq!(biz["extra_param"], r#"{"identityType":"04"}"#);
        let order = builder(&args(None, None)).sign(&key).unwrap();
        let params = alipay_v3::order::verify_order_string(&order, &public).unwrap();
        assert_eq!(
            params.get("biz_content").unwrap(),
            r#"{"out_agreement_no":"conn-7f3c1e2a","zm_service_id":"2019120400000000000004450100"}"#
        );
    }
}
