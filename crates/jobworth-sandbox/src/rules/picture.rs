//! `POST /v3/zhima/customer/jobworth/picture/upload`: a picture (base64 JPG or PNG, at most
//! 1 MB decoded) for job data or a posting to refer to by its `pic_id`.
//!
//! Order: the body (`INVALID_PARAMETER` when it is not JSON, `ILLEGAL_ARGUMENT` for a field of
//! the wrong type) → `content` and `pic_type` present, `content` base64 (`ILLEGAL_ARGUMENT`) →
//! decoded size (`PICTURE_UPLOAD_LIMIT_ERROR`) → magic bytes (`PICTURE_TYPE_ERROR`) → stored,
//! its metadata visible at `GET /sandbox/apps/{app_id}/pictures`.

use base64::Engine as _;
use jobworth_wire::code::family;
use jobworth_wire::family::picture::{
    self, PictureBody, PictureError, PictureFormat, PictureUploaded, MAX_PICTURE_BYTES,
};

use super::work_card::illegal;
use super::{encode, Call};
use crate::error::ApiError;
use crate::store::NewPicture;

/// Runs the call; returns the JSON body of a 200 answer.
pub(crate) async fn upload(call: &Call<'_>, body: PictureBody) -> Result<Vec<u8>, ApiError> {
    let Call { state, app, .. } = *call;
    let content =
        body.content.as_deref().filter(|c| !c.is_empty()).ok_or_else(|| illegal("参数非法 (content is required)"))?;
    let pic_type =
        body.pic_type.as_ref().ok_or_else(|| illegal("参数非法 (pic_type is required, e.g. JOB_DATA_UPLOAD)"))?;
    // Four base64 characters per three bytes: anything longer than this cannot be within the limit.
    if content.len() > MAX_PICTURE_BYTES.div_ceil(3) * 4 + 1024 {
        return Err(too_large(content.len() / 4 * 3));
    }
    let compact: String = content.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let image = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|_| illegal("参数非法 (content is not base64)"))?;
    let format = picture::check(&image).map_err(|e| match e {
        PictureError::TooLarge(n) => too_large(n),
        _ => ApiError::business(family::PICTURE_TYPE_ERROR, "图片类型错误 (content is neither a JPG nor a PNG)"),
    })?;
    let media_type = match format {
        PictureFormat::Jpg => "image/jpeg",
        PictureFormat::Png => "image/png",
    };
    let size = image.len();
    let new = NewPicture {
        app_id: app.app_id.clone(),
        pic_type: Some(pic_type.as_str().to_owned()),
        media_type,
        content: image,
    };
    let pic_id = state.store().insert_picture(new).await?;
    tracing::info!(app_id = %app.app_id, size, media_type, "picture uploaded");
    encode(&PictureUploaded { pic_id: Some(pic_id), ..Default::default() })
}

fn too_large(bytes: usize) -> ApiError {
    ApiError::business(
        family::PICTURE_UPLOAD_LIMIT_ERROR,
        format!("图片超过大小限制 (the picture has about {bytes} bytes; at most {MAX_PICTURE_BYTES} are accepted)"),
    )
}
