//! The other endpoints of the Jobworth product family, one subcommand each, on the connection
//! flags, output forms and exit codes of `jobworth query`: `work-card`, `cloud-resume`,
//! `job-data add`, `picture upload`, `position add`, `credit-agreement`.

use std::fmt;
use std::path::{Path, PathBuf};

use jobworth::family::{JobWorthJobdata, JobWorthPositionInfo, PictureContent};
use serde_json::Value;

use crate::cmd::query::{report_error, with_json_errors, CertArgs, ConnectionArgs, OnceTokenArgs, NO_HEADING};
use crate::cmd::{read_input_file, read_input_text};
use crate::error::CliError;
use crate::output::{print_fields, Palette};

const EXITS: &str = "Exit codes: 0 answered, 2 usage or configuration error, 3 API error (an error status, or a \
    200 whose sub_code says the call was not carried out), 4 transport, timeout, verification or decryption failure.";

/// How a request names its user: uid, or ID document (the uid wins when both are sent).
/// `Debug` hides `user_name` and `cert_no`.
#[derive(clap::Args)]
pub struct UserArgs {
    /// user_id of the user (2088…)
    #[arg(long, value_name = "ID", help_heading = "User")]
    pub user_id: Option<String>,
    /// open_id of the user
    #[arg(long, value_name = "ID", help_heading = "User")]
    pub open_id: Option<String>,
    /// user_name: the user's name
    #[arg(long, value_name = "NAME", help_heading = "User")]
    pub user_name: Option<String>,
    /// conn_key: the out_agreement_no of step 1 (the order string)
    #[arg(long, value_name = "KEY", help_heading = "User")]
    pub conn_key: Option<String>,
    #[command(flatten, next_help_heading = "User")]
    pub cert: CertArgs,
}

impl fmt::Debug for UserArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserArgs")
            .field("user_id", &self.user_id)
            .field("open_id", &self.open_id)
            .field("user_name", &self.user_name.as_ref().map(|_| "<redacted>"))
            .field("conn_key", &self.conn_key)
            .field("cert", &self.cert)
            .finish()
    }
}

/// `request = request.field(v)` for each optional field of `args` that is set (the builder's
/// setter of the same name).
macro_rules! set_each {
    ($request:ident, $args:expr; $($field:ident),+ $(,)?) => {
        $(if let Some(v) = &$args.$field {
            $request = $request.$field(v.clone());
        })+
    };
}

/// The user's fields on a family builder that names one.
macro_rules! with_user {
    ($request:expr, $user:expr) => {{
        let user: &UserArgs = $user;
        let mut request = $request;
        set_each!(request, user; user_id, open_id, user_name, conn_key);
        if let (Some(no), Some(t)) = (user.cert.cert_no()?, user.cert.cert_type) {
            request = request.cert(t.to_sdk(), no.as_str());
        }
        request
    }};
}

/// `--visitor-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum VisitorTypeArg {
    /// A company (the recruiter's organisation)
    #[value(name = "C")]
    Company,
    /// A person
    #[value(name = "P")]
    Person,
}

#[derive(Debug, clap::Args)]
#[command(after_help = format!("{EXITS}\n\nExample against a local sandbox:\n  jobworth work-card --endpoint \
    http://127.0.0.1:8340 --app-id 2021000000000001 \\\n    --private-key app_private_key.pem --alipay-public-key \
    alipay_public_key.pem --user-id 2088... --has-html true"))]
pub struct WorkCardArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    #[command(flatten)]
    pub user: UserArgs,
    /// back_url: where the work-card page returns to
    #[arg(long, value_name = "URL", help_heading = "Work card")]
    pub back_url: Option<String>,
    /// ka_visitor_id: your id of the visitor
    #[arg(long, value_name = "ID", help_heading = "Work card")]
    pub ka_visitor_id: Option<String>,
    /// visitor_type: C (company) or P (person)
    #[arg(long, value_name = "TYPE", value_enum, help_heading = "Work card")]
    pub visitor_type: Option<VisitorTypeArg>,
    /// visitor_name: the visitor's name
    #[arg(long, value_name = "NAME", help_heading = "Work card")]
    pub visitor_name: Option<String>,
    /// company_certificate: the visiting company's registration number
    #[arg(long, value_name = "NUMBER", help_heading = "Work card")]
    pub company_certificate: Option<String>,
    /// visitor_url: a link about the visitor
    #[arg(long, value_name = "URL", help_heading = "Work card")]
    pub visitor_url: Option<String>,
    /// has_button: show the card's button
    #[arg(long, value_name = "BOOL", help_heading = "Work card")]
    pub has_button: Option<bool>,
    /// has_number: show the card's number
    #[arg(long, value_name = "BOOL", help_heading = "Work card")]
    pub has_number: Option<bool>,
    /// has_qr_code: show the card's QR code
    #[arg(long, value_name = "BOOL", help_heading = "Work card")]
    pub has_qr_code: Option<bool>,
    /// has_html: answer with an html_url too
    #[arg(long, value_name = "BOOL", help_heading = "Work card")]
    pub has_html: Option<bool>,
    /// job_id: the job the card is shown for
    #[arg(long, value_name = "ID", help_heading = "Work card")]
    pub job_id: Option<String>,
    /// industry_id: the industry the card is shown for
    #[arg(long, value_name = "ID", help_heading = "Work card")]
    pub industry_id: Option<String>,
    /// cloud_resume_scene: the résumé scene the card is part of
    #[arg(long, value_name = "SCENE", help_heading = "Work card")]
    pub cloud_resume_scene: Option<String>,
    /// Print the verified answer (or the API error) as one JSON object on stdout, wire field names
    #[arg(long, help_heading = NO_HEADING)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
#[command(after_help = format!("{EXITS}\n\nThe once_token answers the résumé once, within 5 minutes of the \
    authorization; it is never printed.\n\nExample:\n  ALIPAY_ONCE_TOKEN=... jobworth cloud-resume --endpoint \
    http://127.0.0.1:8340 --app-id 2021000000000001 \\\n    --private-key app_private_key.pem --alipay-public-key \
    alipay_public_key.pem --conn-key ORDER-1"))]
pub struct CloudResumeArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// conn_key: the out_agreement_no of step 1 (the order string)
    #[arg(long, value_name = "KEY", help_heading = "Résumé")]
    pub conn_key: String,
    #[command(flatten, next_help_heading = "Résumé")]
    pub token: OnceTokenArgs,
    /// Print the verified answer (or the API error) as one JSON object on stdout, wire field names
    #[arg(long, help_heading = NO_HEADING)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
#[command(after_help = format!("{EXITS}\n\nJOBS.json holds the job_data_list: a JSON array of records (one \
    object is one record), wire field names (type, company_name, job_name, …)."))]
pub struct JobDataAddArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    #[command(flatten)]
    pub user: UserArgs,
    /// JSON file with the job_data_list records
    #[arg(long, value_name = "JOBS.json", help_heading = "Job data")]
    pub file: PathBuf,
    /// Print the verified answer (or the API error) as one JSON object on stdout, wire field names
    #[arg(long, help_heading = NO_HEADING)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
#[command(after_help = format!("{EXITS}\n\nThe picture is checked first: a JPG or PNG of at most 1 MB; any \
    other is refused with exit 2 before anything is sent."))]
pub struct PictureUploadArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// The picture file (JPG or PNG, at most 1 MB)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// pic_type: what the picture is for
    #[arg(long, value_name = "TYPE", default_value = "JOB_DATA_UPLOAD", help_heading = "Picture")]
    pub pic_type: String,
    /// Print the verified answer (or the API error) as one JSON object on stdout, wire field names
    #[arg(long, help_heading = NO_HEADING)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
#[command(after_help = format!("{EXITS}\n\nPOS.json holds the jobworth_position_info object, wire field names \
    (company_name, position_name, …)."))]
pub struct PositionAddArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// JSON file with the jobworth_position_info object
    #[arg(long, value_name = "POS.json", help_heading = "Position")]
    pub file: PathBuf,
    /// Print the verified answer (or the API error) as one JSON object on stdout, wire field names
    #[arg(long, help_heading = NO_HEADING)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("agreement").required(true).args(["out_agreement_no", "credit_agreement_id"])))]
#[command(after_help = EXITS)]
pub struct CreditAgreementArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// out_agreement_no: your agreement number (the conn_key of step 1)
    #[arg(long, value_name = "NO", help_heading = "Agreement")]
    pub out_agreement_no: Option<String>,
    /// credit_agreement_id: Zhima's agreement id
    #[arg(long, value_name = "ID", help_heading = "Agreement")]
    pub credit_agreement_id: Option<String>,
    /// Print the verified answer (or the API error) as one JSON object on stdout, wire field names
    #[arg(long, help_heading = NO_HEADING)]
    pub json: bool,
}

pub async fn work_card(args: WorkCardArgs) -> Result<(), CliError> {
    with_json_errors(args.json, send_work_card(&args).await)
}

async fn send_work_card(a: &WorkCardArgs) -> Result<(), CliError> {
    let client = a.connection.build_client()?;
    let mut request = with_user!(client.work_card_info(), &a.user);
    set_each!(request, a; back_url, ka_visitor_id, visitor_name, company_certificate, visitor_url, job_id,
        industry_id, cloud_resume_scene, has_button, has_number, has_qr_code, has_html);
    if let Some(t) = a.visitor_type {
        let code = match t {
            VisitorTypeArg::Company => "C",
            VisitorTypeArg::Person => "P",
        };
        request = request.visitor_type(code);
    }
    finish(request.send().await, "work card", &a.connection, a.json)
}

pub async fn cloud_resume(args: CloudResumeArgs) -> Result<(), CliError> {
    with_json_errors(args.json, send_cloud_resume(&args).await)
}

async fn send_cloud_resume(a: &CloudResumeArgs) -> Result<(), CliError> {
    let client = a.connection.build_client()?;
    let token = a.token.token()?;
    let result = client.cloud_resume(&a.conn_key, token.as_str()).send().await;
    finish(result, "cloud résumé", &a.connection, a.json)
}

pub async fn job_data_add(args: JobDataAddArgs) -> Result<(), CliError> {
    with_json_errors(args.json, send_job_data(&args).await)
}

async fn send_job_data(a: &JobDataAddArgs) -> Result<(), CliError> {
    let value: Value = read_json(&a.file, "--file", "job data")?;
    let records: Vec<JobWorthJobdata> = match value {
        Value::Array(items) => items.into_iter().map(serde_json::from_value).collect(),
        one => serde_json::from_value(one).map(|r| vec![r]),
    }
    .map_err(|e| CliError::config(format!("--file {}: not job data records: {e}", a.file.display())))?;
    let client = a.connection.build_client()?;
    let request = with_user!(client.add_job_data(records), &a.user);
    finish(request.send().await, "job data added", &a.connection, a.json)
}

pub async fn picture_upload(args: PictureUploadArgs) -> Result<(), CliError> {
    with_json_errors(args.json, send_picture(&args).await)
}

async fn send_picture(a: &PictureUploadArgs) -> Result<(), CliError> {
    let content = PictureContent::from(read_input_file(&a.file, "", "picture")?);
    // Refused here, as a usage error, rather than by the SDK as a failure to send.
    if let Err(e) = content.check() {
        let code = e.code().map(|c| format!(" (the gateway would answer {c})")).unwrap_or_default();
        return Err(CliError::config(format!("{}: {e}{code}", a.file.display()))
            .with_hint("upload a JPG or PNG of at most 1 MB"));
    }
    let client = a.connection.build_client()?;
    let result = client.upload_picture(content, a.pic_type.as_str()).send().await;
    finish(result, "picture uploaded", &a.connection, a.json)
}

pub async fn position_add(args: PositionAddArgs) -> Result<(), CliError> {
    with_json_errors(args.json, send_position(&args).await)
}

async fn send_position(a: &PositionAddArgs) -> Result<(), CliError> {
    let value: Value = read_json(&a.file, "--file", "position")?;
    let info: JobWorthPositionInfo = serde_json::from_value(value).map_err(|e| {
        CliError::config(format!("--file {}: not a jobworth_position_info object: {e}", a.file.display()))
    })?;
    let client = a.connection.build_client()?;
    finish(client.add_position(info).send().await, "position added", &a.connection, a.json)
}

pub async fn credit_agreement(args: CreditAgreementArgs) -> Result<(), CliError> {
    with_json_errors(args.json, send_credit_agreement(&args).await)
}

async fn send_credit_agreement(a: &CreditAgreementArgs) -> Result<(), CliError> {
    let client = a.connection.build_client()?;
    let mut request = client.credit_agreement();
    if let Some(no) = &a.out_agreement_no {
        request = request.out_agreement_no(no);
    }
    if let Some(id) = &a.credit_agreement_id {
        request = request.credit_agreement_id(id);
    }
    finish(request.send().await, "credit agreement", &a.connection, a.json)
}

/// Reads a JSON file given to `flag`; a file that is no JSON is a usage error naming the place.
fn read_json(path: &Path, flag: &str, what: &str) -> Result<Value, CliError> {
    let text = read_input_text(path, flag, what)?;
    serde_json::from_str(&text).map_err(|e| CliError::config(format!("{flag} {}: not JSON: {e}", path.display())))
}

/// Prints a verified answer (`--json`: the object; otherwise its fields) or reports the error.
fn finish<T: serde::Serialize>(
    result: Result<T, jobworth::Error>,
    title: &str,
    connection: &ConnectionArgs,
    json: bool,
) -> Result<(), CliError> {
    let answer = result.map_err(|e| report_error(e, &connection.endpoint, json))?;
    let value = serde_json::to_value(&answer).map_err(|e| CliError::failure(format!("cannot encode JSON: {e}")))?;
    if json {
        println!("{value}");
        return Ok(());
    }
    let p = Palette::stdout();
    let mut rows = Vec::new();
    if let Value::Object(fields) = &value {
        for (k, v) in fields {
            flatten(k, v, &mut rows);
        }
    }
    let mode = connection.mode();
    let mut shown: Vec<(&str, String)> = rows.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    shown.push(("mode", mode));
    println!("{}", p.bold(&format!("verified response: {title}")));
    print_fields(&p, &shown);
    Ok(())
}

/// One row per scalar; nested values by path (`education_experiences[0].school_name`). A
/// token the answer carries is shown masked (`--json` has it whole).
fn flatten(path: &str, v: &Value, rows: &mut Vec<(String, String)>) {
    match v {
        Value::Object(fields) => {
            for (k, v) in fields {
                flatten(&format!("{path}.{k}"), v, rows);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                flatten(&format!("{path}[{i}]"), v, rows);
            }
        }
        Value::String(s) if path.ends_with("token") => rows.push((path.to_string(), alipay_v3::mask(s))),
        Value::String(s) => rows.push((path.to_string(), s.clone())),
        other => rows.push((path.to_string(), other.to_string())),
    }
}
