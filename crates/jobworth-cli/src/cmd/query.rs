//! `jobworth query`: one signed, verified call to `GET /v3/zhima/customer/jobworth/authentication`
//! (职得身份认证查询接口) through the SDK.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::ValueEnum;
use jobworth::DEFAULT_ENDPOINT;
use zeroize::Zeroizing;

use crate::cmd::{load_private_key, read_input_text, secret_input, Secret};
use crate::error::{CliError, Exit};
use crate::inspect;
use crate::output::{self, print_fields, ErrorJson, Palette};

/// How to reach and authenticate against the gateway (or a sandbox). Every flag also reads an
/// environment variable so credentials need not be typed on the command line.
/// Help heading of the three certificate-mode flags.
const CERT_MODE: &str = "Certificate mode (all three, instead of --alipay-public-key)";

/// `Debug` is written by hand: the struct holds the AES key and the app auth token.
#[derive(clap::Args)]
pub struct ConnectionArgs {
    /// Gateway base URL; point it at a sandbox, e.g. http://127.0.0.1:8340
    #[arg(long, env = "ALIPAY_ENDPOINT", value_name = "URL", default_value = DEFAULT_ENDPOINT, help_heading = "Connection")]
    pub endpoint: String,
    /// Your app's APPID
    #[arg(long, env = "ALIPAY_APP_ID", value_name = "APP_ID", help_heading = "Connection")]
    pub app_id: String,
    /// Path of the app private key: PEM or bare base64, PKCS#8 or PKCS#1
    #[arg(long, env = "ALIPAY_PRIVATE_KEY", value_name = "PATH", help_heading = "Connection")]
    pub private_key: PathBuf,
    /// Key mode: path of the Alipay public key (SPKI PEM or bare base64) that verifies responses
    #[arg(long, env = "ALIPAY_PUBLIC_KEY", value_name = "PATH", help_heading = "Connection")]
    pub alipay_public_key: Option<PathBuf>,
    /// Certificate mode: path of your app certificate (appCertPublicKey_*.crt)
    #[arg(long, env = "ALIPAY_APP_CERT", value_name = "PATH", help_heading = CERT_MODE)]
    pub app_cert: Option<PathBuf>,
    /// Certificate mode: path of the Alipay certificate (alipayCertPublicKey_RSA2.crt)
    #[arg(long, env = "ALIPAY_CERT", value_name = "PATH", help_heading = CERT_MODE)]
    pub alipay_cert: Option<PathBuf>,
    /// Certificate mode: path of the Alipay root certificate bundle (alipayRootCert.crt)
    #[arg(long, env = "ALIPAY_ROOT_CERT", value_name = "PATH", help_heading = CERT_MODE)]
    pub alipay_root_cert: Option<PathBuf>,
    /// AES content-encryption key (base64), if your app has one configured; responses are then decrypted
    #[arg(
        long,
        env = "ALIPAY_ENCRYPT_KEY",
        value_name = "BASE64",
        hide_env_values = true,
        value_parser = zeroizing,
        help_heading = "Connection"
    )]
    pub encrypt_key: Option<Zeroizing<String>>,
    /// app_auth_token when calling on behalf of another merchant (third-party apps); visible in `ps`:
    /// prefer ALIPAY_APP_AUTH_TOKEN or --app-auth-token-file
    #[arg(long, value_name = "TOKEN", value_parser = zeroizing, help_heading = "Connection")]
    pub app_auth_token: Option<Zeroizing<String>>,
    /// File holding the app_auth_token (one trailing newline ignored); env: ALIPAY_APP_AUTH_TOKEN
    #[arg(long, value_name = "PATH", help_heading = "Connection")]
    pub app_auth_token_file: Option<PathBuf>,
    /// Give up when no answer arrives within SECS seconds (exit 4)
    #[arg(long, value_name = "SECS", value_parser = parse_timeout, default_value = DEFAULT_TIMEOUT_SECS, help_heading = "Connection")]
    pub timeout: Option<Duration>,
    /// Which settings came from environment variables (filled in after parsing).
    #[arg(skip)]
    pub origins: Origins,
}

/// `--timeout`'s default, the SDK's (a unit test keeps the two equal).
const DEFAULT_TIMEOUT_SECS: &str = "10";

/// The connection settings a file or a value is read for: argument id, flag, environment variable.
const SETTINGS: [(&str, &str, &str); 8] = [
    ("endpoint", "--endpoint", "ALIPAY_ENDPOINT"),
    ("app_id", "--app-id", "ALIPAY_APP_ID"),
    ("private_key", "--private-key", "ALIPAY_PRIVATE_KEY"),
    ("alipay_public_key", "--alipay-public-key", "ALIPAY_PUBLIC_KEY"),
    ("app_cert", "--app-cert", "ALIPAY_APP_CERT"),
    ("alipay_cert", "--alipay-cert", "ALIPAY_CERT"),
    ("alipay_root_cert", "--alipay-root-cert", "ALIPAY_ROOT_CERT"),
    ("encrypt_key", "--encrypt-key", "ALIPAY_ENCRYPT_KEY"),
];

/// Where the connection settings came from, so that a message names the environment variable a
/// user set rather than a flag they never typed.
#[derive(Debug, Default, Clone)]
pub struct Origins {
    from_env: Vec<&'static str>,
    endpoint_is_default: bool,
}

impl Origins {
    /// Reads the sources from the subcommand's matches.
    pub fn record(&mut self, matches: &clap::ArgMatches) {
        use clap::parser::ValueSource;
        for (id, _, _) in SETTINGS {
            match matches.value_source(id) {
                Some(ValueSource::EnvVariable) => self.from_env.push(id),
                Some(ValueSource::DefaultValue) if id == "endpoint" => self.endpoint_is_default = true,
                _ => {}
            }
        }
    }
}

/// Environment form of `--app-auth-token` (read by hand so that a conflict with the flag or the
/// file form is an error, not a silent precedence).
pub const APP_AUTH_TOKEN_ENV: &str = "ALIPAY_APP_AUTH_TOKEN";
/// Environment form of `--cert-no`.
pub const CERT_NO_ENV: &str = "ALIPAY_CERT_NO";

/// Secret flag values are held in buffers that are wiped on drop.
fn zeroizing(s: &str) -> Result<Zeroizing<String>, std::convert::Infallible> {
    Ok(Zeroizing::new(s.to_string()))
}

fn redacted<T>(v: &Option<T>) -> Option<&'static str> {
    v.as_ref().map(|_| "<redacted>")
}

impl fmt::Debug for ConnectionArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionArgs")
            .field("endpoint", &self.endpoint)
            .field("app_id", &self.app_id)
            .field("private_key", &self.private_key)
            .field("alipay_public_key", &self.alipay_public_key)
            .field("app_cert", &self.app_cert)
            .field("alipay_cert", &self.alipay_cert)
            .field("alipay_root_cert", &self.alipay_root_cert)
            .field("encrypt_key", &redacted(&self.encrypt_key))
            .field("app_auth_token", &redacted(&self.app_auth_token))
            .field("app_auth_token_file", &self.app_auth_token_file)
            .field("timeout", &self.timeout)
            .field("origins", &self.origins)
            .finish()
    }
}

/// `--query-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum QueryTypeArg {
    /// Exact query: a user identifier is required and must be the verified user's
    Exact,
    /// Fuzzy query: user identifiers are optional; those given must match
    Dim,
}

/// `--cert-type` (the Java SDK's certType strings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CertTypeArg {
    /// Resident identity card (身份证)
    #[value(name = "0")]
    IdCard,
    /// Passport (护照)
    #[value(name = "1")]
    Passport,
    /// Home-return permit (回乡证)
    #[value(name = "2")]
    HomeReturnPermit,
    /// Hong Kong / Macau travel permit (港澳往来通行证)
    #[value(name = "3")]
    HkMacauTravelPermit,
    /// Taiwan travel permit (台湾往来通行证)
    #[value(name = "4")]
    TaiwanTravelPermit,
    /// Hong Kong / Macau documents (港澳证件)
    #[value(name = "5")]
    HkMacauDocument,
}

/// The query's parameters, named as on the wire. `Debug` masks `cert_no`.
#[derive(clap::Args)]
pub struct QueryArgs {
    /// conn_key: the out_agreement_no of step 1 (the order string)
    #[arg(long, value_name = "KEY", help_heading = "Query")]
    pub conn_key: String,
    #[command(flatten, next_help_heading = "Query")]
    pub token: OnceTokenArgs,
    /// query_type
    #[arg(long, value_name = "TYPE", value_enum, help_heading = "Query")]
    pub query_type: Option<QueryTypeArg>,
    /// identity_type: 04 (or `teacher`), or another numeric code agreed with Zhima
    #[arg(long, value_name = "CODE", value_parser = parse_identity_type, help_heading = "Query")]
    pub identity_type: Option<String>,
    /// service_id: the credit service id (zm_service_id of step 1)
    #[arg(long, value_name = "ID", help_heading = "Query")]
    pub service_id: String,
    /// user_id of the user (2088…)
    #[arg(long, value_name = "ID", help_heading = "Query")]
    pub user_id: Option<String>,
    /// open_id of the user
    #[arg(long, value_name = "ID", help_heading = "Query")]
    pub open_id: Option<String>,
    #[command(flatten, next_help_heading = "Query")]
    pub cert: CertArgs,
}

/// The single-use once_token of an authorization in one of three forms. `Debug` hides it.
#[derive(clap::Args)]
pub struct OnceTokenArgs {
    /// once_token: the single-use token of this authorization (a terminal result, or the résumé, is read once
    /// with it). Visible in `ps`: prefer ALIPAY_ONCE_TOKEN or --once-token-file
    #[arg(long, value_name = "TOKEN", value_parser = zeroizing)]
    pub once_token: Option<Zeroizing<String>>,
    /// File holding the once_token (one trailing newline ignored); env: ALIPAY_ONCE_TOKEN
    #[arg(long, value_name = "PATH")]
    pub once_token_file: Option<PathBuf>,
}

/// The heading of an argument that follows a flattened group with its own heading: the default
/// section (`Options`), where it was before the group had one.
pub const NO_HEADING: Option<&str> = None;

/// Environment form of `--once-token`.
pub const ONCE_TOKEN_ENV: &str = "ALIPAY_ONCE_TOKEN";

impl OnceTokenArgs {
    /// The once_token from whichever form was given; one is required.
    pub fn token(&self) -> Result<Secret, CliError> {
        secret_input(
            "once_token",
            ("--once-token", self.once_token.as_deref().map(String::as_str)),
            ("--once-token-file", self.once_token_file.as_deref()),
            ONCE_TOKEN_ENV,
        )?
        .ok_or_else(|| {
            CliError::config(format!(
                "a once_token is required: --once-token-file PATH, {ONCE_TOKEN_ENV} or --once-token"
            ))
        })
    }
}

impl fmt::Debug for OnceTokenArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnceTokenArgs")
            .field("once_token", &redacted(&self.once_token))
            .field("once_token_file", &self.once_token_file)
            .finish()
    }
}

/// The user named by ID document: `cert_no` in one of three forms, and its `cert_type`. `Debug`
/// masks `cert_no`.
#[derive(clap::Args)]
pub struct CertArgs {
    /// cert_no: the user's document number (never printed in clear); needs --cert-type. Visible in
    /// `ps`: prefer ALIPAY_CERT_NO or --cert-no-file
    #[arg(long, value_name = "NUMBER", requires = "cert_type", value_parser = zeroizing)]
    pub cert_no: Option<Zeroizing<String>>,
    /// File holding the cert_no (one trailing newline ignored); needs --cert-type; env: ALIPAY_CERT_NO
    #[arg(long, value_name = "PATH", requires = "cert_type")]
    pub cert_no_file: Option<PathBuf>,
    /// cert_type of the cert_no (--cert-no, --cert-no-file or ALIPAY_CERT_NO)
    #[arg(long, value_name = "TYPE", value_enum)]
    pub cert_type: Option<CertTypeArg>,
}

impl fmt::Debug for CertArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertArgs")
            .field("cert_no", &self.cert_no.as_deref().map(|n| alipay_v3::mask(n)))
            .field("cert_no_file", &self.cert_no_file)
            .field("cert_type", &self.cert_type)
            .finish()
    }
}

impl fmt::Debug for QueryArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueryArgs")
            .field("conn_key", &self.conn_key)
            .field("token", &self.token)
            .field("query_type", &self.query_type)
            .field("identity_type", &self.identity_type)
            .field("service_id", &self.service_id)
            .field("user_id", &self.user_id)
            .field("open_id", &self.open_id)
            .field("cert", &self.cert)
            .finish()
    }
}

impl CertArgs {
    /// The cert_no from whichever form was given, checked against `--cert-type`.
    pub fn cert_no(&self) -> Result<Option<Secret>, CliError> {
        let no = secret_input(
            "cert_no",
            ("--cert-no", self.cert_no.as_deref().map(String::as_str)),
            ("--cert-no-file", self.cert_no_file.as_deref()),
            CERT_NO_ENV,
        )?;
        match (&no, self.cert_type) {
            (Some(_), None) => Err(CliError::config(format!("{CERT_NO_ENV} needs --cert-type"))),
            (None, Some(_)) => Err(CliError::config(format!(
                "--cert-type needs a cert_no: --cert-no, --cert-no-file PATH or {CERT_NO_ENV}"
            ))),
            _ => Ok(no),
        }
    }
}

#[derive(Debug, clap::Args)]
#[command(after_help = "Exit codes: 0 answered (any identity_result), 2 usage or configuration error, 3 API error \
    (code, message, trace id), 4 transport, timeout, verification or decryption failure.\n\n\
    Example against a local sandbox:\n  jobworth query --endpoint http://127.0.0.1:8340 --app-id 2021000000000001 \\\n    \
    --private-key app_private_key.pem --alipay-public-key alipay_public_key.pem \\\n    \
    --conn-key ORDER-1 --once-token TOKEN --service-id 2019120400000000000004450100 \\\n    \
    --query-type exact --identity-type 04 --user-id 2088...")]
pub struct Args {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    #[command(flatten)]
    pub query: QueryArgs,
    /// Print the verified response (or the API error) as one JSON object on stdout, wire field names
    #[arg(long, help_heading = NO_HEADING)]
    pub json: bool,
    /// Write the receipt of the signed answer (a result or a signed error) to FILE before printing it:
    /// JSON, mode 0600, never overwriting; it holds the request-target, once_token included
    #[arg(long, value_name = "FILE")]
    pub receipt: Option<PathBuf>,
}

/// `--identity-type`: the wire code. `teacher` is accepted as a name for `04`. Codes are
/// two-digit strings compared as text (`04`, not `4`), so a single digit gets its leading zero.
pub fn parse_identity_type(s: &str) -> Result<String, String> {
    if s.eq_ignore_ascii_case("teacher") {
        return Ok("04".into());
    }
    if !s.is_empty() && s.len() <= 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(format!("{s:0>2}"));
    }
    Err("expected a numeric identity type code such as 04 (teacher)".into())
}

fn parse_timeout(s: &str) -> Result<Duration, String> {
    let secs: f64 = s.parse().map_err(|_| "expected a number of seconds, e.g. 10 or 2.5".to_string())?;
    if !secs.is_finite() || secs <= 0.0 || secs > 86_400.0 {
        return Err("expected a number of seconds greater than 0 (at most 86400)".into());
    }
    Ok(Duration::from_secs_f64(secs))
}

pub async fn run(args: Box<Args>) -> Result<(), CliError> {
    let json = args.json;
    with_json_errors(json, send(args).await)
}

/// Under `--json`, a configuration error's object on stdout (exit 3 and 4 print their own).
pub fn with_json_errors(json: bool, result: Result<(), CliError>) -> Result<(), CliError> {
    if let Err(err) = &result {
        // Exit 3 and 4 print their own object; a configuration error gets one here.
        if let (true, Exit::Config) = (json, err.exit) {
            err.print_json(err.exit.json_code());
        }
    }
    result
}

async fn send(args: Box<Args>) -> Result<(), CliError> {
    let client = args.connection.build_client()?;
    let q = &args.query;
    let cert_no = q.cert.cert_no()?;
    // Checked here rather than by clap so that configuration mistakes are named first; without it
    // the gateway refuses the call (and the query's once_token is no closer to its result).
    let Some(query_type) = q.query_type else {
        return Err(CliError::config(
            "--query-type is required: exact (a user identifier given must be the verified \
             user's) or dim (identifiers optional)",
        ));
    };
    let once_token = q.token.token()?;
    let mut request =
        client.authentication_query().conn_key(&q.conn_key).once_token(once_token.as_str()).service_id(&q.service_id);
    request = request.query_type(query_type.to_sdk());
    if let Some(t) = &q.identity_type {
        request = request.identity_type(t.as_str());
    }
    if let Some(id) = &q.user_id {
        request = request.user_id(id);
    }
    if let Some(id) = &q.open_id {
        request = request.open_id(id);
    }
    if let (Some(no), Some(t)) = (&cert_no, q.cert.cert_type) {
        request = request.cert(t.to_sdk(), no.as_str());
    }
    // Reserved before sending: a receipt that cannot be stored is refused while nothing is spent.
    let pending = args.receipt.as_deref().map(crate::cmd::receipt::Pending::reserve).transpose()?;
    match request.send_with_receipt().await {
        Ok((result, receipt)) => {
            let stored = pending.map(|p| p.commit(&receipt)).transpose();
            print_result(&result, &args.connection.mode(), args.json)?;
            stored.map(|_| ())
        }
        Err(err) => {
            let stored = match (pending, err.receipt()) {
                (Some(p), Some(receipt)) => p.commit(receipt),
                _ => Ok(()),
            };
            let reported = report_error(err, &args.connection.endpoint, args.json);
            if let Err(not_stored) = stored {
                // The call's own exit status stays; the receipt's problem is said as well.
                output::print_error(not_stored.message.as_deref().unwrap_or("cannot store the receipt"));
            }
            Err(reported)
        }
    }
}

impl ConnectionArgs {
    /// Loads every configured file and builds the SDK client; each mistake becomes one exit-2 line
    /// naming the flag to fix.
    pub fn build_client(&self) -> Result<jobworth::Client, CliError> {
        let private_key = load_private_key(&self.private_key, &self.label("private_key"))?;
        let app_public = private_key.public_key();
        let mut builder =
            jobworth::Client::builder().endpoint(&self.endpoint).app_id(&self.app_id).private_key(private_key);

        let certs = [
            ("--app-cert", "ALIPAY_APP_CERT", &self.app_cert),
            ("--alipay-cert", "ALIPAY_CERT", &self.alipay_cert),
            ("--alipay-root-cert", "ALIPAY_ROOT_CERT", &self.alipay_root_cert),
        ];
        let given = certs.iter().filter(|c| c.2.is_some()).count();
        // Reported after the other settings are checked: the files may all be right but swapped.
        let mut own_key = None;
        match (&self.alipay_public_key, given) {
            (Some(_), n) if n > 0 => {
                return Err(CliError::config(
                    "both key mode (--alipay-public-key / ALIPAY_PUBLIC_KEY) and certificate mode \
                     (--app-cert, --alipay-cert, --alipay-root-cert) are configured; use one of them",
                ))
            }
            (Some(path), _) => {
                let label = self.label("alipay_public_key");
                let key = load_alipay_public_key(path, &label)?;
                own_key = not_the_app_key(&key, &app_public, &label, path).err();
                builder = builder.alipay_public_key(key);
            }
            (None, 0) => {
                return Err(CliError::config(
                    "no way to verify responses: pass --alipay-public-key PATH (or ALIPAY_PUBLIC_KEY), or certificate \
                     mode --app-cert, --alipay-cert and --alipay-root-cert",
                ))
            }
            (None, 3) => {
                let app = read_cert(&self.app_cert, &self.label("app_cert"), false)?;
                let (alipay_label, root_label) = (self.label("alipay_cert"), self.label("alipay_root_cert"));
                let alipay = read_cert(&self.alipay_cert, &alipay_label, false)?;
                let root = read_cert(&self.alipay_root_cert, &root_label, true)?;
                if let (Some(path), Ok(key)) = (&self.alipay_cert, alipay_v3::keys::PublicKey::parse(&alipay)) {
                    own_key = not_the_app_key(&key, &app_public, &alipay_label, path).err();
                }
                if let (Some(path), Ok(certs)) = (&self.alipay_root_cert, inspect::certificates(root.as_bytes())) {
                    if let Some(problem) = root_bundle_problem(&certs) {
                        return Err(CliError::config(format!("{root_label} {}: {}", path.display(), problem.what))
                            .with_hint(problem.fix));
                    }
                }
                builder = builder
                    .certificates(&app, &alipay, &root)
                    .map_err(|e| CliError::config(format!("certificate mode: {e}")))?;
            }
            (None, _) => {
                let missing: Vec<String> =
                    certs.iter().filter(|c| c.2.is_none()).map(|c| format!("{} ({})", c.0, c.1)).collect();
                return Err(CliError::config(format!(
                    "certificate mode is half-configured: also pass {}",
                    missing.join(" and ")
                )));
            }
        }

        if let Some(b64) = self.encrypt_key.as_deref() {
            // The key value itself never goes into the message.
            let key = alipay_v3::aes::AesKey::from_base64(b64.trim()).map_err(|_| {
                CliError::config(format!(
                    "{}: expected the AES key as base64 of 16, 24 or 32 bytes",
                    self.label_both("encrypt_key")
                ))
            })?;
            builder = builder.encrypt_key(key);
        }
        let token = secret_input(
            "app_auth_token",
            ("--app-auth-token", self.app_auth_token.as_deref().map(String::as_str)),
            ("--app-auth-token-file", self.app_auth_token_file.as_deref()),
            APP_AUTH_TOKEN_ENV,
        )?;
        if let Some(token) = token {
            builder = builder.app_auth_token(token.as_str());
        }
        if let Some(timeout) = self.timeout {
            builder = builder.timeout(timeout);
        }
        if let Some(err) = own_key {
            return Err(err);
        }
        builder.build().map_err(|e| CliError::config(format!("client configuration: {e}")))
    }

    /// How a message names a setting: its flag, or the environment variable it was read from.
    pub fn label(&self, id: &str) -> String {
        let Some((_, flag, env)) = SETTINGS.iter().find(|s| s.0 == id) else { return id.to_string() };
        if self.origins.from_env.contains(&id) {
            format!("{env} (environment variable for {flag})")
        } else {
            flag.to_string()
        }
    }

    /// Both names of a setting whose value is never shown: `--encrypt-key (ALIPAY_ENCRYPT_KEY)`,
    /// the one actually used first.
    fn label_both(&self, id: &str) -> String {
        let Some((_, flag, env)) = SETTINGS.iter().find(|s| s.0 == id) else { return id.to_string() };
        if self.origins.from_env.contains(&id) {
            format!("{env} (environment variable for {flag})")
        } else {
            format!("{flag} ({env})")
        }
    }

    /// Whether the endpoint was given (flag or environment) rather than left at the production default.
    pub fn endpoint_given(&self) -> bool {
        !self.origins.endpoint_is_default
    }

    /// The verification mode and whether AES is on, in words, e.g. `key mode, AES off`.
    pub fn mode(&self) -> String {
        let mode = if self.alipay_public_key.is_some() { "key mode" } else { "certificate mode" };
        let aes = if self.encrypt_key.is_some() { "AES on" } else { "AES off" };
        format!("{mode}, {aes}")
    }
}

/// Reads and parses the Alipay public key of key mode; `label` names the setting.
pub fn load_alipay_public_key(path: &Path, label: &str) -> Result<alipay_v3::keys::PublicKey, CliError> {
    let text = read_input_text(path, label, "Alipay public key")?;
    alipay_v3::keys::PublicKey::parse(&text).map_err(|e| {
        CliError::config(format!(
            "{label} {}: not a usable RSA public key ({e}); expected the Alipay public key as PEM (BEGIN PUBLIC KEY) \
             or bare base64",
            path.display()
        ))
    })
}

/// The app's own public key where Alipay's belongs verifies nothing Alipay signs: refused before
/// anything is sent, since the failed verification would come only after the once_token is spent.
pub fn not_the_app_key(
    alipay: &alipay_v3::keys::PublicKey,
    app: &alipay_v3::keys::PublicKey,
    label: &str,
    path: &Path,
) -> Result<(), CliError> {
    if alipay != app {
        return Ok(());
    }
    Err(CliError::config(format!(
        "{label} {}: this is the app's own public key (the pair of the private key), not Alipay's",
        path.display()
    ))
    .with_hint(ALIPAY_KEY_FIX))
}

/// Where the Alipay public key comes from.
pub const ALIPAY_KEY_FIX: &str = "configure Alipay's public key: the 支付宝公钥 of the app in Alipay's console, or a \
    sandbox's alipay_public_key (POST /sandbox/apps answers it; GET /sandbox/alipay-public-key)";

/// A root bundle holds only self-signed root certificates; the Alipay or app certificate given
/// in its place makes every certificate-mode call fail with a wrong `alipay_root_cert_sn`.
pub fn root_bundle_problem(certs: &[inspect::Certificate]) -> Option<inspect::Problem> {
    let leaf = certs.iter().find(|c| !c.is_self_issued())?;
    Some(inspect::Problem {
        what: format!(
            "holds a certificate issued by {} rather than a self-signed root: this is not the root bundle",
            leaf.info.issuer_dn
        ),
        fix: "give the Alipay root certificate bundle (alipayRootCert.crt; a sandbox's alipay_root_cert), not the \
              Alipay or app certificate"
            .into(),
    })
}

/// Reads a certificate file and checks it parses, so a wrong file is named before the SDK sees it.
fn read_cert(path: &Option<PathBuf>, flag: &str, root: bool) -> Result<String, CliError> {
    let Some(path) = path else { return Err(CliError::config(format!("{flag} is required in certificate mode"))) };
    let text = read_input_text(path, flag, "certificate")?;
    let checked = if root { alipay_v3::cert::root_cert_sn(&text) } else { alipay_v3::cert::cert_sn(&text) };
    checked.map_err(|e| CliError::config(format!("{flag} {}: not a usable certificate ({e})", path.display())))?;
    Ok(text)
}

impl QueryTypeArg {
    fn to_sdk(self) -> jobworth::QueryType {
        jobworth::QueryType::from(wire_name(self).as_str())
    }
}

impl CertTypeArg {
    pub fn to_sdk(self) -> jobworth::CertType {
        jobworth::CertType::from(wire_name(self).as_str())
    }
}

/// The value as typed on the command line, which is the wire value.
fn wire_name(v: impl ValueEnum) -> String {
    v.to_possible_value().map(|p| p.get_name().to_string()).unwrap_or_default()
}

fn print_result(result: &jobworth::AuthenticationResult, mode: &str, json: bool) -> Result<(), CliError> {
    if json {
        let text = serde_json::to_string(result).map_err(|e| CliError::failure(format!("cannot encode JSON: {e}")))?;
        println!("{text}");
        return Ok(());
    }
    let p = Palette::stdout();
    let identity = result.identity_result.as_str();
    let painted = match identity {
        "SUCCESS" => p.green(identity),
        "FAILED" => p.red(identity),
        _ => p.yellow(identity),
    };
    let mut rows = vec![("identity_result", painted)];
    let optional = [
        ("token_status", result.token_status.as_ref().map(|t| t.as_str().to_string())),
        ("user_id", result.user_id.clone()),
        ("open_id", result.open_id.clone()),
        ("merchant_identity_id", result.merchant_identity_id.clone()),
        ("identity_result_skip_url", result.identity_result_skip_url.clone()),
    ];
    rows.extend(optional.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
    rows.push(("mode", mode.to_string()));
    println!("{}", p.bold("verified response"));
    print_fields(&p, &rows);
    if identity == "WAITING_VERIFY" {
        println!("{}", p.dim("verification is still pending: query again later with the same once_token"));
    }
    Ok(())
}

/// Prints what the user needs to know about `err` and maps it to its exit status (3 refused, 4 no usable answer).
pub fn report_error(err: jobworth::Error, endpoint: &str, json: bool) -> CliError {
    if let Some(business) = business_of(&err) {
        return report_business(business, &err, json);
    }
    if let Some(api) = err.as_api() {
        if json {
            // The SDK serialises an API error as the wire's error object (with the HTTP status).
            match serde_json::to_string(api) {
                Ok(text) => println!("{text}"),
                Err(e) => return CliError::failure(format!("cannot encode JSON: {e}")),
            }
        }
        let p = Palette::stderr();
        eprintln!(
            "{} the API answered {} (HTTP {}): {}",
            p.red(&p.bold("error:")),
            p.bold(api.code.as_str()),
            api.response.status.as_u16(),
            api.message
        );
        eprintln!("  trace id: {}", api.response.trace_id.as_deref().unwrap_or("(none)"));
        if matches!(err, jobworth::Error::TokenPossiblyConsumed { .. }) {
            // The note says what the code's hint would, and more.
            eprintln!("  note: {err}");
        } else if let Some(hint) = api.code.hint().and_then(|h| hint_beyond(&api.message, h)) {
            eprintln!("  hint: {hint}");
        }
        return CliError::silent(Exit::Api);
    }
    if let jobworth::Error::Config(e) = err {
        return CliError::config(e);
    }
    // Transport, timeout, verification, decryption and decoding failures: the answer (if any) was not used.
    let failure = Failure::of(&err, endpoint);
    if json {
        ErrorJson {
            code: failure.code,
            message: &failure.message,
            hint: failure.hint.as_deref(),
            exit: Exit::Transport.code(),
            http_status: failure.http_status,
            trace_id: err.trace_id(),
        }
        .print();
    }
    failure.print(&err);
    CliError::silent(Exit::Transport)
}

/// The business outcome of a verified 200 answer (`sub_code`), also as the last answer of a
/// token that an earlier ambiguous attempt may have spent.
fn business_of(err: &jobworth::Error) -> Option<&jobworth::BusinessError> {
    match err {
        jobworth::Error::Business(b) => Some(b),
        jobworth::Error::TokenPossiblyConsumed { last, .. } => business_of(last),
        _ => None,
    }
}

/// A `sub_code` answer is the API's refusal (exit 3): `--json` prints the verified answer itself,
/// which carries `sub_code` and `sub_msg`.
fn report_business(b: &jobworth::BusinessError, err: &jobworth::Error, json: bool) -> CliError {
    if json {
        match serde_json::from_slice::<serde_json::Value>(&b.body).and_then(|v| serde_json::to_string(&v)) {
            Ok(text) => println!("{text}"),
            Err(e) => return CliError::failure(format!("cannot encode JSON: {e}")),
        }
    }
    let p = Palette::stderr();
    let message = if b.message.is_empty() { String::new() } else { format!(": {}", b.message) };
    eprintln!(
        "{} the API answered sub_code {} (HTTP {}){message}",
        p.red(&p.bold("error:")),
        p.bold(b.code.as_str()),
        b.response.status.as_u16()
    );
    eprintln!("  trace id: {}", b.response.trace_id.as_deref().unwrap_or("(none)"));
    if matches!(err, jobworth::Error::TokenPossiblyConsumed { .. }) {
        eprintln!("  note: {err}");
    } else if let Some(hint) = b.code.hint().and_then(|h| hint_beyond(&b.message, h)) {
        eprintln!("  hint: {hint}");
    }
    CliError::silent(Exit::Api)
}

/// The clauses of a code's `hint` (separated by `; `) that the server's message does not already
/// say, so that advice is not given twice.
fn hint_beyond(message: &str, hint: &str) -> Option<String> {
    let fresh: Vec<&str> = hint
        .split("; ")
        .filter(|clause| {
            let core = clause.split(" (").next().unwrap_or(clause).trim();
            core.is_empty() || !message.contains(core)
        })
        .collect();
    (!fresh.is_empty()).then(|| fresh.join("; "))
}

/// An exit-4 failure as a message and, apart from it, the advice: printed like an API error.
struct Failure {
    code: &'static str,
    message: String,
    hint: Option<String>,
    http_status: Option<u16>,
}

impl Failure {
    fn of(err: &jobworth::Error, endpoint: &str) -> Failure {
        use jobworth::{Error, MaybeSentKind, VerificationKind as V};
        let (code, http_status) = match err {
            Error::NotSent(_) => ("not-sent", None),
            Error::MaybeSent(e) => match e.kind {
                MaybeSentKind::Timeout { .. } => ("timeout", None),
                MaybeSentKind::ResponseTooLarge { .. } => ("response-too-large", None),
                _ => ("connection-lost", None),
            },
            Error::Verification(e) => ("verification-failed", Some(e.response.status.as_u16())),
            Error::Decryption(e) => ("decryption-failed", Some(e.response.status.as_u16())),
            Error::Decode(e) => ("decode-failed", Some(e.response.status.as_u16())),
            _ => (Exit::Transport.json_code(), None),
        };
        let status = http_status.map(|s| format!(" (HTTP {s})")).unwrap_or_default();
        let split = |what: String, hint: &str| (what, Some(hint.to_string()));
        let (message, hint) = match err {
            Error::Verification(e) => {
                let (what, hint) = match &e.kind {
                    V::BadSignature => split(
                        "alipay-signature does not match the answer".into(),
                        "the answer was altered, or another key than the configured Alipay public key signed it; \
                         `jobworth doctor` with the same flags checks the configuration",
                    ),
                    V::SnMismatch { expected, received } => split(
                        format!("alipay-sn {received} is not the configured Alipay certificate {expected}"),
                        "configure the current Alipay public-key certificate of this endpoint \
                         (alipayCertPublicKey_RSA2.crt; a sandbox's alipay_cert)",
                    ),
                    V::MissingHeader(h) => split(
                        format!("the answer has no {h} header (unsigned answer refused)"),
                        "check that --endpoint is an Alipay v3 gateway or a jobworth sandbox",
                    ),
                    V::NotAnErrorBody => split(
                        "a correctly signed answer arrived under an error status, but its body is not an error".into(),
                        "the status was changed on the way, so whether Alipay processed the request is unknown",
                    ),
                    V::TimestampOutOfWindow { skew_ms, window } => split(
                        format!(
                            "alipay-timestamp is {} s {} this machine's clock, outside the allowed ±{} s",
                            skew_ms.unsigned_abs() / 1000,
                            if *skew_ms < 0 { "behind" } else { "ahead of" },
                            window.as_secs()
                        ),
                        "a replayed answer or a wrong clock: check NTP (`jobworth doctor --endpoint URL` measures the skew)",
                    ),
                    V::UserMismatch { field } => split(
                        format!("the answer names another {field} than the query"),
                        "it belongs to another request and was not used",
                    ),
                    _ => (err.to_string(), None),
                };
                // Which side the configured certificate is of comes first: it is the fix.
                let hint = match (&e.environment, hint) {
                    (Some(env), Some(hint)) => Some(format!("{env}; {hint}")),
                    (Some(env), None) => Some(env.to_string()),
                    (None, hint) => hint,
                };
                (format!("response verification failed{status}: {what}"), hint)
            }
            Error::Decryption(e) => (
                format!("the verified answer did not decrypt{status}: {}", e.source),
                Some("check that --encrypt-key is the AES key registered for this app".into()),
            ),
            other => (other.to_string(), plain_http_hint(endpoint, &other.to_string())),
        };
        Failure { code, message, hint, http_status }
    }

    /// `error:` line, then the ids, the hint and the once_token note, one per line (the rest of
    /// the SDK's one-line text, for the failures it splits).
    fn print(&self, err: &jobworth::Error) {
        output::print_error(&self.message);
        let split = matches!(err, jobworth::Error::Verification(_) | jobworth::Error::Decryption(_));
        if split {
            if let Some(t) = err.trace_id() {
                eprintln!("  trace id: {t}");
            }
            if let Some(r) = err.request() {
                eprintln!("  request: {r}");
            }
        }
        if let Some(hint) = &self.hint {
            eprintln!("  hint: {hint}");
        }
        if split && err.request().is_some_and(|r| r.single_use_token) {
            eprintln!(
                "  note: the once_token may already have been consumed by this request: querying again may answer \
                 TOKEN_INVALID, and then a new step 1 (new conn_key and once_token) is needed"
            );
        }
    }
}

/// TLS spoken to a plain-http server fails with rustls' "received corrupt message of type
/// InvalidContentType"; the fix is the scheme.
pub fn plain_http_hint(endpoint: &str, error: &str) -> Option<String> {
    let rest = endpoint.trim().strip_prefix("https://")?;
    let tls_to_plain = ["InvalidContentType", "corrupt message", "wrong version number"];
    tls_to_plain
        .iter()
        .any(|t| error.contains(t))
        .then(|| format!("the server speaks plain http, not TLS: use http://{rest}"))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    #[test]
    fn small_rules() {
        assert_eq!(super::parse_timeout(super::DEFAULT_TIMEOUT_SECS).unwrap(), jobworth::DEFAULT_TIMEOUT);
        assert_eq!(super::parse_identity_type("4").unwrap(), "04");
        assert_eq!(super::parse_identity_type("04").unwrap(), "04");
        assert_eq!(super::parse_identity_type("123").unwrap(), "123");
        let hint =
            "the once_token is unknown, expired or already used; start a new step 1 (new conn_key and once_token)";
        assert_eq!(
            super::hint_beyond("the terminal result was already read; start a new step 1", hint).unwrap(),
            "the once_token is unknown, expired or already used"
        );
        assert_eq!(super::hint_beyond("token无效", hint).unwrap(), hint);
        assert!(super::plain_http_hint("http://x", "InvalidContentType").is_none());
        assert!(super::plain_http_hint("https://x:1", "connection refused").is_none());
        assert_eq!(
            super::plain_http_hint("https://x:1", "corrupt message").unwrap(),
            "the server speaks plain http, not TLS: use http://x:1"
        );
    }

    #[test]
    fn debug_of_the_arguments_hides_secrets() {
        let cli = crate::cli::Cli::try_parse_from([
            "jobworth",
            "query",
            "--app-id",
            "1",
            "--private-key",
            "k.pem",
            "--conn-key",
            "c",
            "--once-token",
            "t",
            "--service-id",
            "s",
            "--encrypt-key",
            "c2VjcmV0LWFlcy1rZXk=",
            "--app-auth-token",
            "202406BBsecrettoken",
            "--cert-type",
            "0",
            "--cert-no",
            "110105200002290021",
        ])
        .unwrap();
        let shown = format!("{cli:?}");
        for secret in ["c2VjcmV0LWFlcy1rZXk=", "202406BBsecrettoken", "110105200002290021"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(shown.contains("1101**********0021") && shown.contains("k.pem"), "{shown}");
    }
}
