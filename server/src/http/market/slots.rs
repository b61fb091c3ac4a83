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

impl Default for MarketState {
    fn default() -> Self {
        Self {
            upload_slots: tokio::sync::Semaphore::new(MAX_CONCURRENT_UPLOADS),
            uploads: tokio::sync::Mutex::new(()),
        }
    }
}
