//! Rate limits against brute force and floods: failed log-ins per account and per
//! client address, registrations per address, new listings and photo uploads per user.
//!
//! Counters are in memory, per app server: with N servers behind a balancer an
//! attacker gets at most N times the budget, which still stops password guessing.

use crate::{config::Limit, error::AppError};
use std::{
    collections::VecDeque,
    net::{IpAddr, SocketAddr},
    sync::Mutex,
    time::{Duration, Instant},
};

/// Keys tracked at most; past this, the least recently used key is dropped to make room
/// (bounded memory under a flood, without wiping every other counter).
const MAX_KEYS: usize = 100_000;

/// Sliding-window counters by key ("login-account:42", "login-address:203.0.113.9", ...).
#[derive(Debug)]
pub struct RateLimiter {
    events: Mutex<lru::LruCache<String, VecDeque<Instant>>>,
}

impl Default for RateLimiter {
    fn default() -> Self {
        Self::with_capacity(MAX_KEYS)
    }
}

/// Drops the events that have left the window; `Err(wait)` when `limit.max` remain.
fn within(times: &mut VecDeque<Instant>, limit: Limit, now: Instant) -> Result<(), Duration> {
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

impl RateLimiter {
    /// A limiter that tracks at most `keys` keys.
    pub fn with_capacity(keys: usize) -> Self {
        let keys = std::num::NonZeroUsize::new(keys).unwrap_or(std::num::NonZeroUsize::MIN);
        RateLimiter {
            events: Mutex::new(lru::LruCache::new(keys)),
        }
    }

    fn table(&self) -> std::sync::MutexGuard<'_, lru::LruCache<String, VecDeque<Instant>>> {
        self.events.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `Err(wait)` when `key` already had `limit.max` events in the window.
    pub fn check(&self, key: &str, limit: Limit) -> Result<(), Duration> {
        match self.table().get_mut(key) {
            Some(times) => within(times, limit, Instant::now()),
            None => Ok(()),
        }
    }

    /// Checks and records in one step: of any number of requests racing for the last
    /// place in the window, exactly one gets it. An attempt that turns out not to count
    /// (a successful log-in) gives its place back with `refund`.
    pub fn take(&self, key: &str, limit: Limit) -> Result<(), Duration> {
        let now = Instant::now();
        let mut table = self.table();
        let times = table.get_or_insert_mut(key.to_owned(), VecDeque::new);
        within(times, limit, now)?;
        times.push_back(now);
        Ok(())
    }

    /// Gives back the latest event taken for `key`.
    pub fn refund(&self, key: &str) {
        if let Some(times) = self.table().get_mut(key) {
            times.pop_back();
        }
    }

    pub fn clear(&self, key: &str) {
        self.table().pop(key);
    }
}

/// The part of a client address that rate limits count by: the address itself for IPv4,
/// its /64 network for IPv6 (one subscriber usually holds a whole /64, so counting single
/// IPv6 addresses would give each client billions of budgets).
pub fn address_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let network = u128::from(v6) & !((1u128 << 64) - 1);
                format!("{}/64", std::net::Ipv6Addr::from(network))
            }
        },
    }
}

/// "Try again in 12 minutes." (rounded up; at least one minute).
pub fn too_many(what: &str, wait: Duration) -> AppError {
    let minutes = wait.as_secs().div_ceil(60).max(1);
    let unit = if minutes == 1 { "minute" } else { "minutes" };
    AppError::TooManyRequests {
        message: format!("{what} Try again in {minutes} {unit}."),
        retry_after: wait.as_secs().max(1),
    }
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

/// [`client_ip`] inside a server function, from the request Leptos put in its context
/// (the accept loop puts the peer address in the request's extensions as `ConnectInfo`).
pub fn server_fn_client_ip(trust_proxy: bool) -> IpAddr {
    let parts = leptos::prelude::use_context::<http::request::Parts>();
    let peer = parts.as_ref().and_then(|parts| {
        parts
            .extensions
            .get::<axum::extract::ConnectInfo<SocketAddr>>()
            .map(|info| info.0)
    });
    let headers = parts.map(|parts| parts.headers).unwrap_or_default();
    client_ip(peer, &headers, trust_proxy)
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
        assert!(limiter.take("k", limit).is_ok());
        assert!(limiter.check("k", limit).is_err());
        std::thread::sleep(Duration::from_millis(40));
        assert!(limiter.check("k", limit).is_ok());
    }

    #[test]
    fn racing_takes_get_exactly_the_places_left() {
        let limiter = std::sync::Arc::new(RateLimiter::default());
        let limit = Limit::per_minutes(5, 15);
        let granted = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..32)
                .map(|_| scope.spawn(|| limiter.take("k", limit).is_ok()))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap())
                .filter(|ok| *ok)
                .count()
        });
        assert_eq!(granted, 5);
        limiter.refund("k");
        assert!(limiter.take("k", limit).is_ok(), "a refund frees one place");
        assert!(limiter.take("k", limit).is_err());
    }

    #[test]
    fn a_full_table_forgets_the_least_recently_used_key_only() {
        let limiter = RateLimiter::with_capacity(3);
        let limit = Limit::per_minutes(1, 15);
        for key in ["a", "b", "c"] {
            assert!(limiter.take(key, limit).is_ok());
        }
        assert!(
            limiter.check("a", limit).is_err(),
            "touching a makes b the oldest"
        );
        assert!(limiter.take("d", limit).is_ok());
        assert!(limiter.check("b", limit).is_ok(), "b was evicted");
        for kept in ["a", "c", "d"] {
            assert!(limiter.check(kept, limit).is_err(), "{kept} kept its count");
        }
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64_network() {
        let key = |ip: &str| address_key(ip.parse().unwrap());
        assert_eq!(key("203.0.113.9"), "203.0.113.9");
        assert_eq!(key("::ffff:203.0.113.9"), "203.0.113.9");
        assert_eq!(
            key("2001:db8:1:2:aaaa::1"),
            key("2001:db8:1:2:ffff:ffff:ffff:ffff")
        );
        assert_eq!(key("2001:db8:1:2::5"), "2001:db8:1:2::/64");
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
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
