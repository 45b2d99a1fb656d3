//! The reporting centre's rate limiter: reports per client address in the
//! last minute and hour, over which a proof-of-work challenge is asked, and
//! an hourly cap no challenge lifts.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Reports per client address in the last minute and hour. In memory, like
/// the login lockout: addresses are not written anywhere.
pub struct RateLimiter {
    buckets: Mutex<Buckets>,
    /// Most addresses tracked. A full map takes no new ones: they must
    /// solve a challenge instead, so a flood of fresh addresses costs work,
    /// not memory.
    cap: usize,
}

#[derive(Default)]
struct Buckets {
    seen: HashMap<IpAddr, Vec<Instant>>,
    /// When expired buckets were last dropped: a full map is swept at most
    /// once a second, not on every request.
    pruned: Option<Instant>,
}

/// Addresses a [`RateLimiter`] tracks by default.
const MAX_BUCKETS: usize = 100_000;
const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);

impl Default for RateLimiter {
    fn default() -> Self {
        RateLimiter::with_cap(MAX_BUCKETS)
    }
}

/// Whom a rate applies to: an IPv4 address, or an IPv6 /64 (one subscriber
/// usually holds a whole /64, so single addresses would be free to rotate).
/// Clients without a known address share one bucket.
pub fn rate_key(ip: Option<IpAddr>) -> IpAddr {
    match ip {
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
        Some(v4) => v4,
        None => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
    }
}

/// What the limiter says of one report.
#[derive(Debug, PartialEq)]
pub enum Rate {
    /// Within the limits (free, or with a solved challenge); counted.
    Admitted,
    /// Over the free rate and not solved: not counted.
    NeedsChallenge,
    /// Over the hourly cap: no solution helps.
    Refused,
}

impl RateLimiter {
    /// A limiter tracking at most `cap` addresses.
    pub fn with_cap(cap: usize) -> RateLimiter {
        RateLimiter {
            buckets: Mutex::default(),
            cap,
        }
    }

    /// Checks and counts one report in a single step under one lock, so
    /// parallel requests cannot all pass as free. `solved` (does a valid
    /// challenge solution come with it?) is asked only once the free rate
    /// is used up, so a solution is not spent on a free report. Only
    /// admitted reports are counted.
    pub fn admit(
        &self,
        ip: IpAddr,
        free_per_minute: u32,
        max_per_hour: u32,
        solved: impl FnOnce() -> bool,
    ) -> Rate {
        self.admit_at(Instant::now(), ip, free_per_minute, max_per_hour, solved)
    }

    /// Whether this address's next report, sent within the minute, would
    /// need a solved challenge (it has used its free rate, or all but one
    /// of it, so a form can start solving before it is asked). Counts
    /// nothing.
    pub fn near_limit(&self, ip: IpAddr, free_per_minute: u32) -> bool {
        let now = Instant::now();
        let b = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        match b.seen.get(&ip) {
            Some(ts) => {
                let last_minute = ts
                    .iter()
                    .filter(|t| now.duration_since(**t) < MINUTE)
                    .count();
                last_minute + 1 >= free_per_minute as usize
            }
            // Untracked because the map is full: every report pays.
            None => b.seen.len() >= self.cap || free_per_minute <= 1,
        }
    }

    /// [`RateLimiter::admit`] at a given time (tests move the clock).
    pub fn admit_at(
        &self,
        now: Instant,
        ip: IpAddr,
        free_per_minute: u32,
        max_per_hour: u32,
        solved: impl FnOnce() -> bool,
    ) -> Rate {
        let mut b = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if !b.seen.contains_key(&ip) && b.seen.len() >= self.cap {
            if b.pruned
                .is_none_or(|t| now.duration_since(t) >= Duration::from_secs(1))
            {
                b.seen
                    .retain(|_, ts| ts.iter().any(|t| now.duration_since(*t) < HOUR));
                b.pruned = Some(now);
            }
            if b.seen.len() >= self.cap {
                // Still full of live addresses: this one is not tracked, so
                // it pays with work for every report.
                return if solved() {
                    Rate::Admitted
                } else {
                    Rate::NeedsChallenge
                };
            }
        }
        let ts = b.seen.entry(ip).or_default();
        ts.retain(|t| now.duration_since(*t) < HOUR);
        let last_minute = ts
            .iter()
            .filter(|t| now.duration_since(**t) < MINUTE)
            .count();
        let rate = if ts.len() >= max_per_hour as usize {
            Rate::Refused
        } else if last_minute >= free_per_minute as usize && !solved() {
            Rate::NeedsChallenge
        } else {
            ts.push(now);
            Rate::Admitted
        };
        // A refused newcomer leaves no empty bucket behind.
        if ts.is_empty() {
            b.seen.remove(&ip);
        }
        rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_need_a_challenge_then_stop() {
        let l = RateLimiter::default();
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        for _ in 0..2 {
            // The free rate never asks for (and so never spends) a solution.
            assert_eq!(
                l.admit(ip, 2, 4, || panic!("asked for a solution")),
                Rate::Admitted
            );
        }
        assert_eq!(l.admit(ip, 2, 4, || false), Rate::NeedsChallenge);
        assert_eq!(
            l.admit(ip, 2, 4, || false),
            Rate::NeedsChallenge,
            "an unsolved request is not counted"
        );
        assert_eq!(l.admit(ip, 2, 4, || true), Rate::Admitted, "solved");
        assert_eq!(l.admit(ip, 2, 4, || true), Rate::Admitted);
        assert_eq!(l.admit(ip, 2, 4, || true), Rate::Refused, "the hourly cap");
        assert_eq!(
            l.admit("192.0.2.8".parse().unwrap(), 2, 4, || false),
            Rate::Admitted,
            "per address"
        );
        let fresh = RateLimiter::default();
        assert!(!fresh.near_limit(ip, 3), "a new address is far from it");
        fresh.admit(ip, 3, 10, || false);
        assert!(!fresh.near_limit(ip, 3));
        fresh.admit(ip, 3, 10, || false);
        assert!(fresh.near_limit(ip, 3), "the last free report is next");
        let key = |s: &str| rate_key(Some(s.parse().unwrap()));
        assert_eq!(
            key("2001:db8:1:2:aaaa::1"),
            key("2001:db8:1:2:bbbb::2"),
            "one /64"
        );
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:192.0.2.7"), key("192.0.2.7"));
        assert_eq!(rate_key(None), rate_key(None));
    }

    #[test]
    fn parallel_requests_cannot_all_pass_as_free() {
        let l = RateLimiter::default();
        let ip: IpAddr = "192.0.2.9".parse().unwrap();
        let start = std::sync::Barrier::new(16);
        let admitted: usize = std::thread::scope(|s| {
            let workers: Vec<_> = (0..16)
                .map(|_| {
                    s.spawn(|| {
                        start.wait();
                        l.admit(ip, 3, 100, || false) == Rate::Admitted
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| usize::from(w.join().unwrap_or(false)))
                .sum()
        });
        assert_eq!(
            admitted, 3,
            "exactly the free rate, however they interleave"
        );
    }

    #[test]
    fn the_limiter_map_stays_bounded() {
        let l = RateLimiter::with_cap(4);
        let addr = |i: u8| IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, i));
        for i in 0..4 {
            assert_eq!(l.admit(addr(i), 2, 4, || false), Rate::Admitted);
        }
        let fresh: IpAddr = "198.51.100.1".parse().unwrap();
        assert_eq!(
            l.admit(fresh, 2, 4, || false),
            Rate::NeedsChallenge,
            "full: a new address must prove work"
        );
        assert_eq!(l.admit(fresh, 2, 4, || true), Rate::Admitted);
        let size = || l.buckets.lock().unwrap().seen.len();
        assert_eq!(size(), 4, "and is not tracked");
        assert_eq!(
            l.admit(addr(0), 2, 4, || false),
            Rate::Admitted,
            "known addresses keep their budget"
        );
        // Two hours on, the buckets have expired and make room.
        let later = Instant::now() + Duration::from_secs(7200);
        assert_eq!(l.admit_at(later, fresh, 2, 4, || false), Rate::Admitted);
        assert_eq!(size(), 1);
    }
}
