//! `POST /v3/zhima/customer/jobworth/picture/upload` (职得图片上传), typed.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use jobworth_wire::family::picture::{self, PicType, PictureBody, PictureError, PictureFormat, PictureUploaded};

use super::{option_setters, Options};
use crate::client::Client;
use crate::error::{Error, NotSentError};

/// The picture to upload: the image's bytes, or the base64 text of them.
///
/// ```
/// use jobworth::family::PictureContent;
/// let from_bytes = PictureContent::from(vec![0xFF, 0xD8, 0xFF, 0xE0]);
/// let from_text = PictureContent::base64("/9j/4A==");
/// assert_eq!(from_bytes.to_base64(), from_text.to_base64());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub enum PictureContent {
    /// The image's bytes (encoded as base64 for sending).
    Bytes(Vec<u8>),
    /// The image as base64 text (sent as given, after the checks).
    Base64(String),
}

impl PictureContent {
    /// A picture given as base64 text.
    ///
    /// ```
    /// let p = jobworth::family::PictureContent::base64("/9j/4A==");
    /// assert_eq!(p.to_base64(), "/9j/4A==");
    /// ```
    pub fn base64(text: impl Into<String>) -> Self {
        PictureContent::Base64(text.into())
    }

    /// The base64 text that is sent.
    ///
    /// ```
    /// let p = jobworth::family::PictureContent::from(b"\x89PNG");
    /// assert_eq!(p.to_base64(), "iVBORw==");
    /// ```
    pub fn to_base64(&self) -> String {
        match self {
            PictureContent::Bytes(b) => base64::engine::general_purpose::STANDARD.encode(b),
            PictureContent::Base64(t) => t.clone(),
        }
    }

    /// The image's bytes (`None`: the base64 text does not decode).
    fn decoded(&self) -> Option<std::borrow::Cow<'_, [u8]>> {
        match self {
            PictureContent::Bytes(b) => Some(b.as_slice().into()),
            PictureContent::Base64(t) => alipay_v3::pem::decode_base64_lenient(t).map(Into::into),
        }
    }

    /// The documented checks: base64 that decodes, at most 1 MB, JPG or PNG.
    ///
    /// ```
    /// use jobworth::{family::{PictureContent, PictureFormat}, ErrorCode};
    /// assert_eq!(PictureContent::from(b"\x89PNG\r\n\x1a\n".to_vec()).check().unwrap(), PictureFormat::Png);
    /// let err = PictureContent::base64("R0lGODlh").check().unwrap_err();
    /// assert_eq!(err.code(), Some(ErrorCode::PictureTypeError));
    /// ```
    pub fn check(&self) -> Result<PictureFormat, PictureCheckError> {
        let image = self.decoded().ok_or(PictureCheckError::NotBase64)?;
        picture::check(&image).map_err(PictureCheckError::Picture)
    }
}

impl fmt::Debug for PictureContent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PictureContent::Bytes(b) => write!(f, "Bytes(<{} bytes>)", b.len()),
            PictureContent::Base64(t) => write!(f, "Base64(<{} characters>)", t.len()),
        }
    }
}

impl From<Vec<u8>> for PictureContent {
    fn from(b: Vec<u8>) -> Self {
        PictureContent::Bytes(b)
    }
}

impl From<&[u8]> for PictureContent {
    fn from(b: &[u8]) -> Self {
        PictureContent::Bytes(b.to_vec())
    }
}

impl<const N: usize> From<&[u8; N]> for PictureContent {
    fn from(b: &[u8; N]) -> Self {
        PictureContent::Bytes(b.to_vec())
    }
}

/// Why a picture was not sent: the check the gateway would have refused it by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PictureCheckError {
    /// The base64 text does not decode.
    #[error("the picture's content is not base64")]
    NotBase64,
    /// Too large, or not a JPG or PNG.
    #[error(transparent)]
    Picture(PictureError),
}

impl PictureCheckError {
    /// The code the gateway would answer for the same picture (`None` for base64 that does
    /// not decode, which it documents no code for).
    ///
    /// ```
    /// use jobworth::family::PictureContent;
    /// assert_eq!(PictureContent::base64("%%").check().unwrap_err().code(), None);
    /// ```
    pub fn code(&self) -> Option<crate::ErrorCode> {
        match self {
            PictureCheckError::NotBase64 => None,
            PictureCheckError::Picture(p) => Some(p.code()),
        }
    }
}

impl Client {
    /// Starts a picture upload (`zhima.customer.jobworth.picture.upload`): a JPG or PNG of at
    /// most 1 MB, given as bytes or base64, and what it is for. The answer's `pic_id` is what
    /// job data refers to (`head_pic_id`, `certificate_pic_id`).
    ///
    /// ```no_run
    /// use jobworth::family::PicType;
    /// # async fn run(client: jobworth::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// let photo = std::fs::read("photo.jpg")?;
    /// let uploaded = client.upload_picture(photo, PicType::JobDataUpload).send().await?;
    /// println!("{:?}", uploaded.pic_id);
    /// # Ok(()) }
    /// ```
    pub fn upload_picture(&self, content: impl Into<PictureContent>, pic_type: impl Into<PicType>) -> PictureUpload {
        PictureUpload {
            client: self.clone(),
            content: content.into(),
            pic_type: pic_type.into(),
            options: Options::default(),
        }
    }
}

/// A picture upload being assembled. Created by [`Client::upload_picture`]. The picture is
/// checked before it is sent (see [`PictureContent::check`]): one the gateway would refuse
/// with `PICTURE_UPLOAD_LIMIT_ERROR` or `PICTURE_TYPE_ERROR` is [`Error::NotSent`] whose
/// source is the [`PictureCheckError`].
#[must_use]
#[derive(Debug, Clone)]
pub struct PictureUpload {
    client: Client,
    content: PictureContent,
    pic_type: PicType,
    options: Options,
}

impl PictureUpload {
    option_setters!("upload_picture(vec![0xFF, 0xD8, 0xFF], \"JOB_DATA_UPLOAD\")");

    /// Checks the picture, then signs and sends it, verifies (and decrypts) the answer and
    /// parses it. A `sub_code` in the answer is [`Error::Business`]. It is not repeated after an
    /// attempt that may have been taken (timeout, lost connection, 5xx).
    ///
    /// ```no_run
    /// # async fn run(client: jobworth::Client, jpeg: Vec<u8>) -> Result<(), jobworth::Error> {
    /// let pic_id = client.upload_picture(jpeg, "JOB_DATA_UPLOAD").send().await?.pic_id;
    /// # let _ = pic_id; Ok(()) }
    /// ```
    pub async fn send(self) -> Result<PictureUploaded, Error> {
        self.send_with_receipt().await.map(|(answer, _)| answer)
    }

    /// [`send`](Self::send), also returning the answer's [`Receipt`](crate::Receipt), the signed
    /// evidence of it (an error about a signed answer carries its receipt: [`Error::receipt`]).
    ///
    /// ```no_run
    /// # async fn run(client: jobworth::Client) -> Result<(), jobworth::Error> {
    /// let (answer, receipt) = client.upload_picture(vec![0xFF, 0xD8, 0xFF], "JOB_DATA_UPLOAD").send_with_receipt().await?;
    /// println!("{answer:?} {}", receipt.alipay_nonce);
    /// # Ok(()) }
    /// ```
    pub async fn send_with_receipt(self) -> Result<(PictureUploaded, crate::Receipt), Error> {
        let format = self.content.check().map_err(|e| {
            let code = e.code().map(|c| format!(" (the gateway would answer {c})")).unwrap_or_default();
            let mut err = NotSentError::invalid(format!("picture not sent: {e}{code}"), None);
            err.source = Some(Arc::new(e));
            Error::from(err)
        })?;
        tracing::debug!(%format, "picture checked");
        let body = PictureBody { content: Some(self.content.to_base64()), pic_type: Some(self.pic_type) };
        let call = super::call(&picture::ENDPOINT, Vec::new(), Some(super::to_json(&body)?), self.options);
        super::send(&self.client, call).await
    }
}
