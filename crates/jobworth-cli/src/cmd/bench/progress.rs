//! The progress line on stderr while bench runs.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The `\r` status line on stderr; silent when stderr is not a terminal.
pub(super) struct Progress {
    enabled: bool,
}

pub(super) struct Ticker {
    stop: Arc<AtomicBool>,
    handle: tokio::task::JoinHandle<()>,
}

impl Ticker {
    pub(super) async fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.handle.await;
    }
}

impl Progress {
    pub(super) fn new(enabled: bool) -> Self {
        Progress { enabled }
    }

    pub(super) fn line(&self, text: &str) {
        if self.enabled {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K{text}");
            let _ = err.flush();
        }
    }

    pub(super) fn clear(&self) {
        self.line("");
    }

    pub(super) fn spawn_ticker(&self, done: Arc<AtomicU64>, started: Instant, total: Duration) -> Option<Ticker> {
        if !self.enabled {
            return None;
        }
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = tokio::spawn(async move {
            while !flag.load(Ordering::Relaxed) {
                let secs = started.elapsed().as_secs_f64();
                let n = done.load(Ordering::Relaxed);
                let bar_width = 24usize;
                let filled = ((secs / total.as_secs_f64()).min(1.0) * bar_width as f64) as usize;
                Progress { enabled: true }.line(&format!(
                    "[{}{}] {secs:5.1}/{:.0}s  {n} requests  {:.0} req/s",
                    "#".repeat(filled),
                    " ".repeat(bar_width - filled),
                    total.as_secs_f64(),
                    n as f64 / secs.max(1e-3)
                ));
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
        Some(Ticker { stop, handle })
    }
}
