//! `MarketState`: what the market keeps between requests, held by `AppState`
//! (kept apart from the handlers so the state does not import them).

/// Uploads read at once: each holds up to `--max-upload-bytes` in memory
/// while its body arrives, so this bounds what uploads can take together.
pub const MAX_CONCURRENT_UPLOADS: usize = 4;

/// The market's server state: the upload slots, and one upload at a time
/// through the quota check.
pub struct MarketState {
    pub upload_slots: tokio::sync::Semaphore,
    pub uploads: tokio::sync::Mutex<()>,
}

impl MarketState {
    /// A place to receive an upload's body in, or 429 while
    /// [`MAX_CONCURRENT_UPLOADS`] are being received (here or forwarded on).
    pub fn upload_slot(
        &self,
    ) -> Result<tokio::sync::SemaphorePermit<'_>, crate::http::error::AppError> {
        self.upload_slots
            .try_acquire()
            .map_err(|_| crate::http::error::AppError::RetryLater {
                message: "other uploads are being received: try again in a moment".into(),
                retry_after_secs: 2,
                code: Some("uploads-busy"),
            })
    }
}

impl Default for MarketState {
    fn default() -> Self {
        Self {
            upload_slots: tokio::sync::Semaphore::new(MAX_CONCURRENT_UPLOADS),
            uploads: tokio::sync::Mutex::new(()),
        }
    }
}
