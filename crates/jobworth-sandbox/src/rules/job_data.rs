//! `POST /v3/zhima/customer/jobworth/jobdata/add`: job data pushed back to the user's work card.
//!
//! Order: the body (`INVALID_PARAMETER` when it is not JSON, `ILLEGAL_ARGUMENT` for a field of
//! the wrong type) → `job_data_list` present and not empty (`INVALID_PARAMETER`), at most
//! [`MAX_ITEMS`] (`ILLEGAL_ARGUMENT`) → whom it is about: a user identifier or a `conn_key` of
//! this app (`INVALID_PARAMETER` when neither, `ILLEGAL_ARGUMENT` when malformed or unknown) →
//! each item: pictures it names were uploaded by this app, salary ranges read as ranges
//! (`ILLEGAL_ARGUMENT`) → stored, visible at `GET /sandbox/apps/{app_id}/job-data`.

use jobworth_wire::family::job_data::{JobDataAdded, JobDataBody};

use super::work_card::{identify, illegal};
use super::{encode, invalid, salary_range_ok, Call};
use crate::error::ApiError;
use crate::store::{JobDataSubject, NewJobData};
use crate::workcard;

/// Most items one call may push.
pub(crate) const MAX_ITEMS: usize = 100;

/// Runs the call; returns the JSON body of a 200 answer.
pub(crate) async fn add(call: &Call<'_>, body: JobDataBody) -> Result<Vec<u8>, ApiError> {
    let Call { state, app, .. } = *call;
    let items = body
        .job_data_list
        .as_deref()
        .filter(|l| !l.is_empty())
        .ok_or_else(|| invalid("参数有误 (job_data_list is required and must not be empty)"))?;
    if items.len() > MAX_ITEMS {
        return Err(illegal(format!("参数非法 (job_data_list has {} items; at most {MAX_ITEMS})", items.len())));
    }
    let store = state.store();
    let named = identify(
        state,
        body.user_id.as_deref(),
        body.open_id.as_deref(),
        body.cert_no.as_deref(),
        body.cert_type.as_ref(),
    )?;
    let conn_key = body.conn_key.as_deref().filter(|c| !c.is_empty());
    if let Some(c) = conn_key {
        if !store.conn_key_exists(&app.app_id, c).await? {
            return Err(illegal("参数非法 (conn_key is not the out_agreement_no of a step 1 of this app)"));
        }
    } else if named.is_none() {
        return Err(invalid("参数有误 (user_id, open_id, cert_no + cert_type or conn_key is required)"));
    }
    for (i, item) in items.iter().enumerate() {
        for (field, pic) in [("head_pic_id", &item.head_pic_id), ("certificate_pic_id", &item.certificate_pic_id)] {
            if let Some(pic) = pic.as_deref().filter(|p| !p.is_empty()) {
                if !store.picture_exists(&app.app_id, pic).await? {
                    return Err(illegal(format!(
                        "参数非法 (job_data_list[{i}].{field} is not a pic_id picture/upload gave this app)"
                    )));
                }
            }
        }
        if !salary_range_ok(item.salary_min.as_deref(), item.salary_max.as_deref()) {
            return Err(illegal(format!("参数非法 (job_data_list[{i}]: salary_min is above salary_max)")));
        }
    }
    let items_json = serde_json::to_string(items).map_err(|e| ApiError::Internal(format!("encoding items: {e}")))?;
    let subject = JobDataSubject {
        conn_key: conn_key.map(str::to_owned),
        user_id: body.user_id.clone(),
        open_id: body.open_id.clone(),
        cert_type: body.cert_type.as_ref().map(|t| t.as_str().to_owned()),
        cert_no_shown: body.cert_no.as_deref().map(alipay_v3::mask),
        user_name: body.user_name.clone(),
    };
    let new = NewJobData { app_id: app.app_id.clone(), subject, items: items_json };
    let acceptance_id = store.insert_job_data(new).await?;
    tracing::info!(app_id = %app.app_id, items = items.len(), "job data pushed");
    let persona = named.flatten().filter(|p| p.card.is_some());
    let answer = JobDataAdded {
        acceptance_id: Some(acceptance_id),
        url: persona.map(|p| workcard::update_url(state, &app.app_id, p)),
        ..Default::default()
    };
    encode(&answer)
}
