//! `POST /v3/zhima/customer/jobworth/picture/upload` (职得图片上传): a JPG or PNG of at most
//! 1 MB, base64 in `content`; the answer's `pic_id` is what job data refers to.

use std::fmt;

use crate::family::{outcome_fields, wire_model, Endpoint, Verb};
use crate::values::wire_enum;
use crate::ErrorCode;

/// The v3 path.
pub const PATH: &str = "/v3/zhima/customer/jobworth/picture/upload";

/// The OpenAPI method name.
pub const METHOD: &str = "zhima.customer.jobworth.picture.upload";

/// The endpoint and its documented error codes.
pub const ENDPOINT: Endpoint = Endpoint {
    verb: Verb::Post,
    path: PATH,
    method: METHOD,
    error_codes: &[
        ErrorCode::IllegalArgument,
        ErrorCode::PictureUploadLimitError,
        ErrorCode::PictureTypeError,
        ErrorCode::SystemError,
    ],
};

/// The largest picture accepted: 1 MB (1 048 576 bytes) of image, before base64.
pub const MAX_PICTURE_BYTES: usize = 1024 * 1024;

wire_enum! {
    /// `pic_type`: what the picture is for.
    ///
    /// ```
    /// use jobworth_wire::family::picture::PicType;
    /// assert_eq!(PicType::from("JOB_DATA_UPLOAD"), PicType::JobDataUpload);
    /// ```
    PicType {
        /// `JOB_DATA_UPLOAD`: a picture job data refers to (a photo, a certificate).
        JobDataUpload = "JOB_DATA_UPLOAD",
    }
}

/// The image formats the endpoint takes, told by their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PictureFormat {
    /// JPEG (`FF D8 FF`).
    Jpg,
    /// PNG (`89 50 4E 47 0D 0A 1A 0A`).
    Png,
}

impl PictureFormat {
    /// The format of `image` by its magic bytes, or `None` when it is neither JPG nor PNG.
    ///
    /// ```
    /// use jobworth_wire::family::picture::PictureFormat;
    /// assert_eq!(PictureFormat::sniff(b"\x89PNG\r\n\x1a\n...."), Some(PictureFormat::Png));
    /// assert_eq!(PictureFormat::sniff(b"GIF89a"), None);
    /// ```
    pub fn sniff(image: &[u8]) -> Option<Self> {
        if image.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(PictureFormat::Jpg)
        } else if image.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(PictureFormat::Png)
        } else {
            None
        }
    }

    /// `"jpg"` or `"png"`.
    ///
    /// ```
    /// use jobworth_wire::family::picture::PictureFormat;
    /// assert_eq!(PictureFormat::Png.as_str(), "png");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            PictureFormat::Jpg => "jpg",
            PictureFormat::Png => "png",
        }
    }
}

impl fmt::Display for PictureFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a picture cannot be uploaded, with the code the gateway answers for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PictureError {
    /// Larger than [`MAX_PICTURE_BYTES`].
    #[error("the picture has {0} bytes, at most {MAX_PICTURE_BYTES} are accepted")]
    TooLarge(usize),
    /// Neither JPG nor PNG.
    #[error("the picture is neither a JPG nor a PNG")]
    NotJpgOrPng,
}

impl PictureError {
    /// The code the gateway answers for the same picture.
    ///
    /// ```
    /// use jobworth_wire::{family::picture::PictureError, ErrorCode};
    /// assert_eq!(PictureError::TooLarge(2_000_000).code(), ErrorCode::PictureUploadLimitError);
    /// ```
    pub fn code(&self) -> ErrorCode {
        match self {
            PictureError::TooLarge(_) => ErrorCode::PictureUploadLimitError,
            PictureError::NotJpgOrPng => ErrorCode::PictureTypeError,
        }
    }
}

/// The documented checks of an image (decoded, not base64): at most 1 MB, JPG or PNG. Size is
/// checked first.
///
/// ```
/// use jobworth_wire::{family::picture::{check, PictureError, PictureFormat}, ErrorCode};
/// assert_eq!(check(&[0xFF, 0xD8, 0xFF, 0xE0]), Ok(PictureFormat::Jpg));
/// assert_eq!(check(b"BM").unwrap_err().code(), ErrorCode::PictureTypeError);
/// ```
pub fn check(image: &[u8]) -> Result<PictureFormat, PictureError> {
    if image.len() > MAX_PICTURE_BYTES {
        return Err(PictureError::TooLarge(image.len()));
    }
    PictureFormat::sniff(image).ok_or(PictureError::NotJpgOrPng)
}

wire_model! {
    /// The JSON body. `Debug` leaves out the picture itself.
    PictureBody {
        /// `content`: the image, base64.
        content: String as redacted,
        /// `pic_type`: what the picture is for.
        pic_type: PicType,
    }
}

wire_model! {
    /// The answer.
    PictureUploaded {
        /// `pic_id`: the id job data refers to.
        pic_id: String,
        /// `sub_code`: the business outcome when the picture was not taken.
        sub_code: ErrorCode,
        /// `sub_msg`: the text of `sub_code`.
        sub_msg: String,
    }
}

outcome_fields!(PictureUploaded);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::family::Outcome;

    #[test]
    fn body_and_answer_round_trip() {
        let wire = r#"{"content":"/9j/4A==","pic_type":"JOB_DATA_UPLOAD"}"#;
        let b: PictureBody = serde_json::from_str(wire).unwrap();
        assert_eq!(b.pic_type, Some(PicType::JobDataUpload));
        assert_eq!(serde_json::to_string(&b).unwrap(), wire);
        assert!(!format!("{b:?}").contains("/9j/4A=="));
        let other: PictureBody = serde_json::from_str(r#"{"pic_type":"AVATAR"}"#).unwrap();
        assert_eq!(serde_json::to_string(&other).unwrap(), r#"{"pic_type":"AVATAR"}"#);

        let wire = r#"{"pic_id":"p1","sub_code":"PICTURE_TYPE_ERROR","sub_msg":"type"}"#;
        let a: PictureUploaded = serde_json::from_str(wire).unwrap();
        assert_eq!(a.sub_code(), Some(&ErrorCode::PictureTypeError));
        assert_eq!(serde_json::to_string(&a).unwrap(), wire);
    }

    #[test]
    fn the_documented_limits() {
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.resize(MAX_PICTURE_BYTES, 0);
        assert_eq!(check(&png), Ok(PictureFormat::Png));
        png.push(0);
        assert_eq!(check(&png), Err(PictureError::TooLarge(MAX_PICTURE_BYTES + 1)));
        assert_eq!(check(&png).unwrap_err().code(), ErrorCode::PictureUploadLimitError);
        assert_eq!(check(b""), Err(PictureError::NotJpgOrPng));
        assert_eq!(check(b"\xFF\xD8"), Err(PictureError::NotJpgOrPng));
        assert_eq!(check(b"GIF89a"), Err(PictureError::NotJpgOrPng));
    }
}
