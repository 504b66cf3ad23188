//! The rows of the store as Rust values, and the one mapping between enum values and their
//! text in the database.

use alipay_v3::keys::PublicKey;
use alipay_v3::KeyError;
use jobworth_wire::{CodeFamily, ErrorCode, IdentityResult};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef, Postgres};
use sqlx::sqlite::{Sqlite, SqliteArgumentValue, SqliteTypeInfo, SqliteValueRef};

/// The persisted key material of the sandbox (one row). Its private keys are wiped when it is
/// dropped and never shown by `Debug`.
#[derive(Clone, sqlx::FromRow)]
pub struct KeyRow {
    /// PKCS#8 DER of the Alipay signing key.
    pub alipay_key_pkcs8: Vec<u8>,
    /// PKCS#8 DER of the root CA key.
    pub root_key_pkcs8: Vec<u8>,
    /// Root certificate PEM.
    pub root_cert_pem: String,
    /// Alipay certificate PEM (issued by the root over the Alipay key).
    pub alipay_cert_pem: String,
}

impl Drop for KeyRow {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.alipay_key_pkcs8.zeroize();
        self.root_key_pkcs8.zeroize();
    }
}

impl std::fmt::Debug for KeyRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRow")
            .field("alipay_key_pkcs8", &"<redacted>")
            .field("root_key_pkcs8", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// A registered app. `Debug` leaves out its AES key.
#[derive(Clone, sqlx::FromRow)]
pub struct AppRecord {
    /// `app_id`
    pub app_id: String,
    /// SPKI DER of the app's public key.
    pub public_key_spki: Option<Vec<u8>>,
    /// base64 AES key.
    pub encrypt_key: Option<String>,
    /// App certificate PEM issued by the sandbox CA.
    pub app_cert_pem: Option<String>,
    /// SN of that certificate.
    pub app_cert_sn: Option<String>,
    /// Display name, shown on the desk as the merchant.
    pub name: Option<String>,
}

impl std::fmt::Debug for AppRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppRecord")
            .field("app_id", &self.app_id)
            .field("public_key_spki", &self.public_key_spki.as_ref().map(|k| k.len()))
            .field("encrypt_key", &self.encrypt_key.as_ref().map(|_| "<redacted>"))
            .field("app_cert_sn", &self.app_cert_sn)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// An app as requests use it: the record, and its public key parsed once per read.
#[derive(Debug)]
pub struct App {
    /// The stored row.
    pub record: AppRecord,
    /// `public_key_spki` parsed; `None` when no key is registered.
    pub public_key: Option<Result<PublicKey, KeyError>>,
}

impl App {
    pub(super) fn new(record: AppRecord) -> Self {
        let public_key = record.public_key_spki.as_deref().map(PublicKey::from_spki_der);
        App { record, public_key }
    }
}

/// Where a desk stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeskState {
    /// Opened, or completed by the `pending` persona and not yet resolved.
    Pending,
    /// A result (or a persona error outcome) is known.
    Terminal,
    /// The user declined.
    Cancelled,
}

/// What a finished desk holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeskResult {
    /// `SUCCESS` or `FAILED`: the verdict that the token's one consuming query reads.
    Verdict(IdentityResult),
    /// The business error every query of the token gets: a persona's outcome, or
    /// `USER_NOT_AUTHORIZE` once the user declined.
    Refusal(ErrorCode),
}

impl DeskResult {
    /// The wire value, as stored.
    pub fn as_str(&self) -> &str {
        match self {
            DeskResult::Verdict(r) => r.as_str(),
            DeskResult::Refusal(c) => c.as_str(),
        }
    }
}

/// A value kept in a TEXT column: its spelling in the database is decided here and nowhere else.
/// Text this build does not know is a decoding error (the read fails), never a guess.
trait TextColumn: Sized {
    /// What the value is, for the decoding error.
    const WHAT: &'static str;
    fn to_text(&self) -> &str;
    fn from_text(text: &str) -> Option<Self>;
}

impl DeskState {
    /// `pending`, `terminal` or `cancelled`, as stored (and shown on the desk page).
    pub fn as_str(self) -> &'static str {
        match self {
            DeskState::Pending => "pending",
            DeskState::Terminal => "terminal",
            DeskState::Cancelled => "cancelled",
        }
    }
}

impl TextColumn for DeskState {
    const WHAT: &'static str = "desk state";

    fn to_text(&self) -> &str {
        self.as_str()
    }

    fn from_text(text: &str) -> Option<Self> {
        [DeskState::Pending, DeskState::Terminal, DeskState::Cancelled].into_iter().find(|s| s.to_text() == text)
    }
}

impl TextColumn for DeskResult {
    const WHAT: &'static str = "desk result";

    fn to_text(&self) -> &str {
        self.as_str()
    }

    fn from_text(text: &str) -> Option<Self> {
        let verdict = IdentityResult::from(text);
        if verdict.is_terminal() && verdict.as_str() == text {
            return Some(DeskResult::Verdict(verdict));
        }
        let code = ErrorCode::from(text);
        (code.family() == Some(CodeFamily::Jobworth)).then_some(DeskResult::Refusal(code))
    }
}

/// Decodes stored text as `T`: unknown text is an error that shows (a bounded part of) it.
fn decode_text<T: TextColumn>(text: &str) -> Result<T, BoxDynError> {
    T::from_text(text).ok_or_else(|| {
        let shown: String = text.chars().filter(|c| !c.is_control()).take(40).collect();
        format!("unknown {} {shown:?}", T::WHAT).into()
    })
}

macro_rules! text_columns {
    ($($t:ty),+) => {$(
        impl sqlx::Type<Sqlite> for $t {
            fn type_info() -> SqliteTypeInfo {
                <str as sqlx::Type<Sqlite>>::type_info()
            }

            fn compatible(ty: &SqliteTypeInfo) -> bool {
                <str as sqlx::Type<Sqlite>>::compatible(ty)
            }
        }

        impl<'q> sqlx::Encode<'q, Sqlite> for $t {
            fn encode_by_ref(&self, buf: &mut Vec<SqliteArgumentValue<'q>>) -> Result<IsNull, BoxDynError> {
                <String as sqlx::Encode<'q, Sqlite>>::encode(self.to_text().to_owned(), buf)
            }
        }

        impl<'r> sqlx::Decode<'r, Sqlite> for $t {
            fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
                decode_text(<&str as sqlx::Decode<'r, Sqlite>>::decode(value)?)
            }
        }

        impl sqlx::Type<Postgres> for $t {
            fn type_info() -> PgTypeInfo {
                <str as sqlx::Type<Postgres>>::type_info()
            }

            fn compatible(ty: &PgTypeInfo) -> bool {
                <str as sqlx::Type<Postgres>>::compatible(ty)
            }
        }

        impl sqlx::Encode<'_, Postgres> for $t {
            fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
                <&str as sqlx::Encode<'_, Postgres>>::encode(self.to_text(), buf)
            }
        }

        impl<'r> sqlx::Decode<'r, Postgres> for $t {
            fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
                decode_text(<&str as sqlx::Decode<'r, Postgres>>::decode(value)?)
            }
        }
    )+};
}

text_columns!(DeskState, DeskResult);

/// One desk / verification.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Desk {
    /// Random id (32 hex).
    pub desk_id: String,
    /// Merchant app.
    pub app_id: String,
    /// `out_agreement_no` of step 1.
    pub conn_key: String,
    /// The single-use token.
    pub once_token: String,
    /// Identity type the token was issued for.
    pub identity_type: String,
    /// `zm_service_id` of step 1.
    pub service_id: String,
    /// The order string that opened the desk (absent for fixture shortcuts).
    pub order_str: Option<String>,
    /// Persona that completed the desk.
    pub persona: Option<String>,
    /// Where the desk stands.
    pub state: DeskState,
    /// The verdict or refusal, once known.
    pub result: Option<DeskResult>,
    /// When the state became terminal/cancelled (epoch ms).
    pub became_terminal_at: Option<i64>,
    /// Whether a terminal result was read.
    pub consumed: bool,
}

/// What a new desk is made of.
#[derive(Debug, Clone)]
pub struct NewDesk<'a> {
    /// Merchant app.
    pub app_id: &'a str,
    /// `conn_key`
    pub conn_key: &'a str,
    /// `once_token`
    pub once_token: &'a str,
    /// Identity type.
    pub identity_type: &'a str,
    /// Service id.
    pub service_id: &'a str,
    /// SHA-256 hex of the order string, for idempotent re-opening.
    pub order_hash: Option<&'a str>,
    /// The order string.
    pub order_str: Option<&'a str>,
}

/// A row read together with its table's change counter.
#[derive(sqlx::FromRow)]
pub(super) struct Generational<T> {
    #[sqlx(flatten)]
    pub row: T,
    pub generation: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_no_key_material() {
        let row = KeyRow {
            alipay_key_pkcs8: b"PRIVATE-ALIPAY".to_vec(),
            root_key_pkcs8: b"PRIVATE-ROOT".to_vec(),
            root_cert_pem: String::new(),
            alipay_cert_pem: String::new(),
        };
        let app = AppRecord {
            app_id: "app".into(),
            public_key_spki: None,
            encrypt_key: Some("c2VjcmV0LWFlcy1rZXk=".into()),
            app_cert_pem: None,
            app_cert_sn: None,
            name: None,
        };
        let shown = format!("{row:?} {app:?}");
        for secret in ["PRIVATE", "80, 82, 73", "c2VjcmV0LWFlcy1rZXk="] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }

    #[test]
    fn stored_text_round_trips_and_unknown_text_is_refused() {
        for s in [DeskState::Pending, DeskState::Terminal, DeskState::Cancelled] {
            assert_eq!(DeskState::from_text(s.to_text()), Some(s));
        }
        for text in ["SUCCESS", "FAILED", "USER_NOT_AUTHORIZE", "JOB_WORTH_BLACK_LIST", "RISK_INTERCEPT"] {
            assert_eq!(DeskResult::from_text(text).map(|r| r.to_text().to_owned()).as_deref(), Some(text));
        }
        assert_eq!(DeskResult::from_text("SUCCESS"), Some(DeskResult::Verdict(IdentityResult::Success)));
        for text in ["WAITING_VERIFY", "T", "invalid-signature", "SOMETHING_NEW", ""] {
            assert_eq!(DeskResult::from_text(text), None, "{text}");
        }
        assert_eq!(DeskState::from_text("Pending"), None);
    }
}
