//! In-process token-bucket rate limiting for login and submission, keyed per IP and per
//! account.
//!
//! Each key owns a bucket of `burst` tokens refilled at `per_minute`; a request takes one token
//! or is refused with the time until the next one. The buckets live in this process only: with
//! several replicas on PostgreSQL each replica limits on its own, so the effective limit is
//! multiplied by the replica count (a shared limiter in the store is a known gap). The map is
//! bounded: when it grows past [`MAX_KEYS`], buckets that have refilled completely (and so
//! carry no information) are dropped, then the oldest ones.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Most keys tracked at once.
pub const MAX_KEYS: usize = 100_000;

/// A sustained rate and a burst size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    /// Tokens added per minute.
    pub per_minute: u32,
    /// Bucket size.
    pub burst: u32,
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// A set of token buckets sharing one rate.
#[derive(Debug)]
pub struct RateLimiter {
    rate: Rate,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    /// A limiter with this rate.
    #[must_use]
    pub fn new(rate: Rate) -> Self {
        RateLimiter {
            rate,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn per_second(&self) -> f64 {
        f64::from(self.rate.per_minute.max(1)) / 60.0
    }

    /// Takes a token for every key, or none at all: returns how long to wait when any key's
    /// bucket is empty.
    pub fn check(&self, keys: &[String], now: Instant) -> Result<(), Duration> {
        let burst = f64::from(self.rate.burst.max(1));
        let per_second = self.per_second();
        // A poisoned lock only means another thread panicked mid-update; the map is still usable.
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() > MAX_KEYS {
            prune(&mut buckets, burst, per_second, now);
        }
        let mut wait = Duration::ZERO;
        let mut refilled = Vec::with_capacity(keys.len());
        for key in keys {
            let b = buckets.get(key).copied().unwrap_or(Bucket {
                tokens: burst,
                updated: now,
            });
            let elapsed = now.saturating_duration_since(b.updated).as_secs_f64();
            let tokens = (b.tokens + elapsed * per_second).min(burst);
            if tokens < 1.0 {
                wait = wait.max(Duration::from_secs_f64((1.0 - tokens) / per_second));
            }
            refilled.push(tokens);
        }
        if wait > Duration::ZERO {
            return Err(wait.max(Duration::from_secs(1)));
        }
        for (key, tokens) in keys.iter().zip(refilled) {
            buckets.insert(
                key.clone(),
                Bucket {
                    tokens: tokens - 1.0,
                    updated: now,
                },
            );
        }
        Ok(())
    }
}

fn prune(buckets: &mut HashMap<String, Bucket>, burst: f64, per_second: f64, now: Instant) {
    buckets.retain(|_, b| {
        b.tokens + now.saturating_duration_since(b.updated).as_secs_f64() * per_second < burst
    });
    if buckets.len() > MAX_KEYS {
        let mut ages: Vec<(Instant, String)> = buckets
            .iter()
            .map(|(k, b)| (b.updated, k.clone()))
            .collect();
        ages.sort();
        let excess = buckets.len() - MAX_KEYS / 2;
        for (_, key) in ages.into_iter().take(excess) {
            buckets.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(k: &[&str]) -> Vec<String> {
        k.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn a_burst_is_allowed_then_refused_until_a_token_refills() {
        let limiter = RateLimiter::new(Rate {
            per_minute: 60,
            burst: 3,
        });
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limiter.check(&keys(&["ip:1"]), t0).is_ok());
        }
        let wait = limiter.check(&keys(&["ip:1"]), t0).unwrap_err();
        assert!(
            wait >= Duration::from_secs(1) && wait <= Duration::from_secs(2),
            "{wait:?}"
        );
        assert!(
            limiter
                .check(&keys(&["ip:1"]), t0 + Duration::from_secs(1))
                .is_ok()
        );
    }

    #[test]
    fn an_empty_account_bucket_refuses_even_from_a_fresh_ip_and_takes_nothing() {
        let limiter = RateLimiter::new(Rate {
            per_minute: 1,
            burst: 1,
        });
        let t0 = Instant::now();
        assert!(limiter.check(&keys(&["acct:a", "ip:1"]), t0).is_ok());
        assert!(limiter.check(&keys(&["acct:a", "ip:2"]), t0).is_err());
        // ip:2 was not charged by the refused attempt.
        assert!(limiter.check(&keys(&["acct:b", "ip:2"]), t0).is_ok());
    }
}
