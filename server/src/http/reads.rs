//! Heavy reads per remote address: the summary, the exports and the board
//! pictures. Each can be megabytes, and even a cached one costs the server a
//! copy into the socket; a loop of them from one key-holder would take the
//! core every table shares. So each address gets a budget (GCRA, from the
//! `governor` crate): `--heavy-reads-per-minute` sustained, bursts of
//! [`HEAVY_READ_BURST`]. The web client never asks for these in a loop (the
//! plenary follows the live summary stream), so people never meet it.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Heavy reads one address may make at once, before the per-minute rate
/// applies: a person downloading every format of the workbook in a row.
pub const HEAVY_READ_BURST: u32 = 10;

/// The per-address budget of heavy reads.
pub struct HeavyReads {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
}

/// A heavy read refused: try again after `retry_after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("this address asks for summaries and exports too often; try again in {} s", retry_secs(*.retry_after))]
pub struct TooOften {
    pub retry_after: Duration,
}

impl From<TooOften> for crate::http::error::AppError {
    fn from(refused: TooOften) -> Self {
        crate::http::error::AppError::RetryLater {
            message: refused.to_string(),
            retry_after_secs: retry_secs(refused.retry_after),
            code: None,
        }
    }
}

impl HeavyReads {
    /// `per_minute` sustained per address (at least 1), bursts of [`HEAVY_READ_BURST`].
    pub fn new(per_minute: u32) -> HeavyReads {
        let rate = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(HEAVY_READ_BURST).unwrap_or(NonZeroU32::MIN);
        HeavyReads {
            limiter: RateLimiter::keyed(Quota::per_minute(rate).allow_burst(burst)),
        }
    }

    /// Counts one heavy read from `address`, or says when it may come back.
    pub fn check(&self, address: IpAddr) -> Result<(), TooOften> {
        self.limiter
            .check_key(&address)
            .map_err(|not_until| TooOften {
                retry_after: not_until.wait_time_from(DefaultClock::default().now()),
            })
    }

    /// Forgets addresses whose budget is whole again.
    pub fn sweep(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

/// Whole seconds to wait, at least one (what `Retry-After` carries).
pub fn retry_secs(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_gets_its_burst_then_waits_and_others_are_not_touched() {
        let reads = HeavyReads::new(1);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        for _ in 0..HEAVY_READ_BURST {
            assert!(reads.check(a).is_ok());
        }
        let refused = reads.check(a).unwrap_err();
        assert!(refused.retry_after <= Duration::from_secs(60));
        assert!(retry_secs(refused.retry_after) >= 1);
        assert!(reads.check(b).is_ok(), "another address has its own budget");
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_secs(Duration::ZERO), 1);
        assert_eq!(retry_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_secs(Duration::from_secs(2)), 2);
        assert_eq!(retry_secs(Duration::from_millis(2001)), 3);
    }
}
