//! Time as the store keeps it: epoch milliseconds in `i64`.

use std::time::Duration;

/// Current time in epoch milliseconds.
pub fn now_ms() -> i64 {
    i64::try_from(alipay_v3::now_millis()).unwrap_or(i64::MAX)
}

/// A duration in whole milliseconds, saturating.
pub fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
