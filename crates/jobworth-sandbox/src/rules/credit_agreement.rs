//! `GET /v3/zhima/credit/payafteruse/creditagreement/query`: the step-1 agreement behind an
//! `out_agreement_no` (the desk's `conn_key`), as the desks of that number left it.
//!
//! * No desk of this app has the number (or the id): `CREDIT_AGREEMENT_NOT_EXIST`.
//! * Desks exist, none authorized or declined yet: `CREDIT_AUTH_NOT_EXIST`.
//! * A desk of the number was authorized (and not declined): `agreement_status` `VALID`.
//! * Every finished desk of the number was declined: `INVALID`. A declined desk still leaves an
//!   agreement the user was shown and refused; answering `INVALID` rather than "not exist" lets
//!   the merchant tell "the user said no" from "this number never reached Alipay".
//! * `out_agreement_no` and `credit_agreement_id` of two different agreements: `ILLEGAL_QUERY`.
//!
//! The agreement's id is the id of the number's first desk, so it stays the same across the
//! number's later desks.

use jobworth_wire::code::family;
use jobworth_wire::family::credit_agreement::{AgreementStatus, CreditAgreement, CreditAgreementParams};

use super::{encode, invalid, Call};
use crate::error::ApiError;
use crate::personas;
use crate::store::{Authorization, DeskState};

/// The parameters, in the official SDKs' order.
pub(crate) const NAMES: &[&str] = &["out_agreement_no", "credit_agreement_id"];

fn not_exist() -> ApiError {
    ApiError::business(
        family::CREDIT_AGREEMENT_NOT_EXIST,
        "协议不存在 (no step 1 of this app has this out_agreement_no / credit_agreement_id)",
    )
}

/// Runs the query; returns the JSON body of a 200 answer.
pub(crate) async fn query(call: &Call<'_>, p: CreditAgreementParams) -> Result<Vec<u8>, ApiError> {
    let Call { state, app, .. } = *call;
    let store = state.store();
    // The id is preferred when both are sent, as the official documentation says.
    let conn_key = match (p.credit_agreement_id.as_deref(), p.out_agreement_no.as_deref()) {
        (Some(id), given) => {
            let desk = store.authorization(&app.app_id, id).await?.ok_or_else(not_exist)?;
            if given.is_some_and(|g| g != desk.conn_key) {
                return Err(ApiError::business(
                    family::ILLEGAL_QUERY,
                    "非法查询 (out_agreement_no is not the number of credit_agreement_id)",
                ));
            }
            desk.conn_key
        }
        (None, Some(no)) => no.to_owned(),
        (None, None) => return Err(invalid("参数有误 (out_agreement_no or credit_agreement_id is required)")),
    };
    let desks = store.authorizations(&app.app_id, &conn_key).await?;
    let first = desks.first().ok_or_else(not_exist)?;
    let authorized = desks.iter().rev().find(|d| d.persona.is_some() && d.state != DeskState::Cancelled);
    let declined = desks.iter().rev().find(|d| d.state == DeskState::Cancelled);
    let (status, desk): (AgreementStatus, &Authorization) = match (authorized, declined) {
        (Some(d), _) => (AgreementStatus::Valid, d),
        (None, Some(d)) => (AgreementStatus::Invalid, d),
        (None, None) => {
            return Err(ApiError::business(
                family::CREDIT_AUTH_NOT_EXIST,
                "授权不存在 (the user has not authorized at the desk of this out_agreement_no yet)",
            ))
        }
    };
    let persona = desk.persona.as_deref().and_then(personas::find);
    let at = desk.authorized_at.or(desk.finished_at);
    let answer = CreditAgreement {
        agreement_status: Some(status),
        alipay_user_id: persona.map(|p| p.user_id.to_owned()),
        biz_time: at.map(|ms| alipay_v3::order::shanghai_timestamp(ms.div_euclid(1000))),
        credit_agreement_id: Some(first.desk_id.clone()),
        ext_info: None,
        open_id: persona.map(|p| p.open_id.to_owned()),
        out_agreement_no: Some(conn_key),
    };
    encode(&answer)
}
