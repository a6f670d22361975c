//! Rate limits against brute force and floods: failed log-ins per account and per
//! client address, registrations per address, new listings per seller.
//!
//! Counters are in memory, per app server: with N servers behind a balancer an
//! attacker gets at most N times the budget, which still stops password guessing.

use crate::error::AppError;
use std::{
    collections::{HashMap, VecDeque},
    net::{IpAddr, SocketAddr},
    sync::Mutex,
    time::{Duration, Instant},
};

/// At most `max` events per `window`.
#[derive(Clone, Copy, Debug)]
pub struct Limit {
    pub max: usize,
    pub window: Duration,
}

impl Limit {
    pub const fn per_minutes(max: usize, minutes: u64) -> Self {
        Limit {
            max,
            window: Duration::from_secs(minutes * 60),
        }
    }
}

/// The limits in force (configurable so tests and benchmarks can set their own).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub login_failures_per_account: Limit,
    pub login_failures_per_address: Limit,
    pub registrations_per_address: Limit,
    pub listings_per_seller: Limit,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            login_failures_per_account: Limit::per_minutes(5, 15),
            login_failures_per_address: Limit::per_minutes(30, 15),
            registrations_per_address: Limit::per_minutes(10, 60),
            listings_per_seller: Limit::per_minutes(60, 60),
        }
    }
}

/// Keys tracked at most; past this, the stalest keys are dropped (bounded memory under a flood).
const MAX_KEYS: usize = 100_000;

/// Sliding-window counters by key ("login:alice", "ip:203.0.113.9", ...).
#[derive(Debug, Default)]
pub struct RateLimiter {
    events: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl RateLimiter {
    /// `Err(wait)` when `key` already had `limit.max` events in the window.
    pub fn check(&self, key: &str, limit: Limit) -> Result<(), Duration> {
        let now = Instant::now();
        let mut events = self.events.lock().unwrap_or_else(|e| e.into_inner());
        let Some(times) = events.get_mut(key) else {
            return Ok(());
        };
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= limit.window)
        {
            times.pop_front();
        }
        if times.len() >= limit.max {
            let oldest = *times.front().unwrap_or(&now);
            return Err(limit.window.saturating_sub(now.duration_since(oldest)));
        }
        Ok(())
    }

    /// Records one event for `key`.
    pub fn record(&self, key: &str, limit: Limit) {
        let now = Instant::now();
        let mut events = self.events.lock().unwrap_or_else(|e| e.into_inner());
        if events.len() >= MAX_KEYS && !events.contains_key(key) {
            events.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < limit.window)
            });
            if events.len() >= MAX_KEYS {
                events.clear();
            }
        }
        let times = events.entry(key.to_owned()).or_default();
        times.push_back(now);
        while times.len() > limit.max {
            times.pop_front();
        }
    }

    /// `check`, then `record` if allowed.
    pub fn take(&self, key: &str, limit: Limit) -> Result<(), Duration> {
        self.check(key, limit)?;
        self.record(key, limit);
        Ok(())
    }

    pub fn clear(&self, key: &str) {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}

/// "Try again in 12 minutes." (rounded up; at least one minute).
pub fn too_many(what: &str, wait: Duration) -> AppError {
    let minutes = wait.as_secs().div_ceil(60).max(1);
    let unit = if minutes == 1 { "minute" } else { "minutes" };
    AppError::TooManyRequests(format!("{what} Try again in {minutes} {unit}."))
}

/// The client's address: the socket's peer, or — only when the server is configured to
/// sit behind a proxy — the address that proxy appended last to `X-Forwarded-For`
/// (earlier entries are whatever the client claimed).
pub fn client_ip(peer: Option<SocketAddr>, headers: &http::HeaderMap, trust_proxy: bool) -> IpAddr {
    if trust_proxy {
        if let Some(ip) = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse::<IpAddr>().ok())
        {
            return ip;
        }
    }
    peer.map_or(IpAddr::from([0, 0, 0, 0]), |p| p.ip())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_allows_max_events_then_says_how_long_to_wait() {
        let limiter = RateLimiter::default();
        let limit = Limit::per_minutes(3, 15);
        for _ in 0..3 {
            assert!(limiter.take("k", limit).is_ok());
        }
        let wait = limiter.check("k", limit).unwrap_err();
        assert!(wait > Duration::from_secs(14 * 60) && wait <= limit.window);
        assert!(limiter.check("other", limit).is_ok(), "keys are separate");
        limiter.clear("k");
        assert!(limiter.check("k", limit).is_ok());
    }

    #[test]
    fn old_events_leave_the_window() {
        let limiter = RateLimiter::default();
        let limit = Limit {
            max: 1,
            window: Duration::from_millis(30),
        };
        limiter.record("k", limit);
        assert!(limiter.check("k", limit).is_err());
        std::thread::sleep(Duration::from_millis(40));
        assert!(limiter.check("k", limit).is_ok());
    }

    #[test]
    fn messages_round_up_to_minutes() {
        let message = too_many("Too many attempts.", Duration::from_secs(61)).to_string();
        assert_eq!(message, "Too many attempts. Try again in 2 minutes.");
        let message = too_many("Too many attempts.", Duration::from_secs(5)).to_string();
        assert_eq!(message, "Too many attempts. Try again in 1 minute.");
    }

    #[test]
    fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
        let mut headers = http::HeaderMap::new();
        headers.insert("x-forwarded-for", "1.1.1.1, 203.0.113.9".parse().unwrap());
        let peer: SocketAddr = "10.0.0.2:5000".parse().unwrap();
        assert_eq!(
            client_ip(Some(peer), &headers, false),
            "10.0.0.2".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            client_ip(Some(peer), &headers, true),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
    }
}
