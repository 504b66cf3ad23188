//! The receipt sink: where a caller stores each signed answer before the call returns it.

use crate::token::{BoxFuture, StoreError};
use alipay_v3::receipt::Receipt;

/// Stores receipts. Set with [`ClientBuilder::receipt_sink`](crate::ClientBuilder::receipt_sink).
///
/// Called once per call, with the [`Receipt`] of the signed answer that `send()` is about to
/// return (a success or a signed error; answers that the client retries are not passed), and
/// awaited before `send()` returns: when `send()` has returned, the receipt is stored. Nothing
/// is called for calls without a signed answer (timeouts, refused signatures).
///
/// When `store` fails, `send()` returns [`Error::ReceiptNotStored`](crate::Error::ReceiptNotStored),
/// which carries the receipt and the outcome the call would have returned: nothing is lost, but
/// the caller decides whether to acknowledge a result that is not stored.
///
/// ```
/// use std::sync::Mutex;
/// use jobworth::{BoxFuture, Receipt, ReceiptSink, StoreError};
///
/// #[derive(Default)]
/// struct Kept(Mutex<Vec<Receipt>>);
///
/// impl ReceiptSink for Kept {
///     fn store<'a>(&'a self, receipt: &'a Receipt) -> BoxFuture<'a, Result<(), StoreError>> {
///         Box::pin(async move {
///             self.0.lock().map_err(|_| "poisoned")?.push(receipt.clone());
///             Ok(())
///         })
///     }
/// }
/// ```
pub trait ReceiptSink: Send + Sync {
    /// Stores `receipt` durably; `Ok` only once it is.
    fn store<'a>(&'a self, receipt: &'a Receipt) -> BoxFuture<'a, Result<(), StoreError>>;
}
