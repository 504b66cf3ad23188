//! `POST /v3/zhima/customer/jobworth/position/add`: a job posting.
//!
//! Its one documented code is `INVALID_PARAMETER`, so every refusal is one: a body that is not
//! JSON or has a field of the wrong type, no `jobworth_position_info`, no `position_title` or
//! `company_name`, a `count` below 1, a salary range that is not one, a `skip_url` that is not a
//! link, a `position_id` this app never got. A posting pushed again with the same
//! `ka_position_id` (or its `position_id`) is updated and keeps its id. Postings are visible at
//! `GET /sandbox/apps/{app_id}/positions`.

use jobworth_wire::family::position::{PositionAdded, PositionBody};

use super::{encode, invalid, is_link, salary_range_ok, Call};
use crate::error::ApiError;

/// Runs the call; returns the JSON body of a 200 answer.
pub(crate) async fn add(call: &Call<'_>, body: PositionBody) -> Result<Vec<u8>, ApiError> {
    let Call { state, app, .. } = *call;
    let info = body.jobworth_position_info.ok_or_else(|| invalid("参数有误 (jobworth_position_info is required)"))?;
    let set = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
    for (name, value) in [("position_title", &info.position_title), ("company_name", &info.company_name)] {
        if !set(value) {
            return Err(invalid(format!("参数有误 (jobworth_position_info.{name} is required)")));
        }
    }
    if info.count.is_some_and(|c| c < 1) {
        return Err(invalid("参数有误 (jobworth_position_info.count must be at least 1)"));
    }
    if !salary_range_ok(info.salary_min.as_deref(), info.salary_max.as_deref()) {
        return Err(invalid("参数有误 (jobworth_position_info: salary_min is above salary_max)"));
    }
    if info.skip_url.as_deref().is_some_and(|u| !is_link(u)) {
        return Err(invalid("参数有误 (jobworth_position_info.skip_url must be an http(s) or alipays:// URL)"));
    }
    let json = serde_json::to_string(&info).map_err(|e| ApiError::Internal(format!("encoding position: {e}")))?;
    let store = state.store();
    let position_id = match info.position_id.as_deref().filter(|p| !p.is_empty()) {
        Some(id) => {
            if !store.update_position(&app.app_id, id, json).await? {
                return Err(invalid("参数有误 (position_id is not a posting position/add gave this app)"));
            }
            id.to_owned()
        }
        None => {
            store.upsert_position(&app.app_id, info.ka_position_id.as_deref().filter(|k| !k.is_empty()), json).await?
        }
    };
    tracing::info!(app_id = %app.app_id, position_id = %position_id, "position pushed");
    encode(&PositionAdded { position_id: Some(position_id), ..Default::default() })
}
