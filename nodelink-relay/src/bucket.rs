//! Token buckets, with the clock passed in: for each player's messages, and for
//! failed joins per address, so that game codes cannot be enumerated.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::time::{Duration, Instant};

use crate::config::JoinRate;

/// Tokens that refill at `per_second`, up to `burst`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bucket {
    tokens: f64,
    refilled: Instant,
}

impl Bucket {
    /// A full bucket.
    pub(crate) fn full(burst: u32, now: Instant) -> Self {
        Self {
            tokens: f64::from(burst),
            refilled: now,
        }
    }

    fn refill(&mut self, per_second: f64, burst: u32, now: Instant) {
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.refilled = now;
        self.tokens = (self.tokens + elapsed * per_second).min(f64::from(burst));
    }

    /// Whether a token is there now, without taking it.
    pub(crate) fn has_token(&mut self, per_second: f64, burst: u32, now: Instant) -> bool {
        if per_second == f64::INFINITY {
            return true;
        }
        self.refill(per_second, burst, now);
        self.tokens >= 1.0
    }

    /// Takes a token; `false` when there was none.
    pub(crate) fn take(&mut self, per_second: f64, burst: u32, now: Instant) -> bool {
        if !self.has_token(per_second, burst, now) {
            return false;
        }
        if per_second != f64::INFINITY {
            self.tokens -= 1.0;
        }
        true
    }

    fn is_full(&mut self, per_second: f64, burst: u32, now: Instant) -> bool {
        self.refill(per_second, burst, now);
        self.tokens >= f64::from(burst)
    }
}

/// Failed joins (an unknown game code, a wrong token) per address. An address
/// whose bucket is empty is refused every join until a token refills, so trying
/// codes costs an attacker time, not the relay memory: the table holds at most
/// `capacity` addresses, forgetting refilled ones first.
#[derive(Debug)]
pub(crate) struct FailedJoins {
    rate: JoinRate,
    capacity: usize,
    buckets: HashMap<IpAddr, Bucket>,
    pruned: Option<Instant>,
}

impl FailedJoins {
    pub(crate) fn new(rate: JoinRate, capacity: usize) -> Self {
        Self {
            rate,
            capacity: capacity.max(1),
            buckets: HashMap::new(),
            pruned: None,
        }
    }

    /// Whether `ip` may try a join now.
    pub(crate) fn allows(&mut self, ip: IpAddr, now: Instant) -> bool {
        let JoinRate { per_second, burst } = self.rate;
        self.buckets
            .get_mut(&address_key(ip))
            .is_none_or(|bucket| bucket.has_token(per_second, burst, now))
    }

    /// Counts a failed join from `ip`.
    pub(crate) fn record(&mut self, ip: IpAddr, now: Instant) {
        let JoinRate { per_second, burst } = self.rate;
        let key = address_key(ip);
        if !self.buckets.contains_key(&key) {
            self.make_room(now);
        }
        let bucket = self
            .buckets
            .entry(key)
            .or_insert_with(|| Bucket::full(burst, now));
        bucket.take(per_second, burst, now);
    }

    /// Addresses tracked now.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.buckets.len()
    }

    /// Makes room for one more address: forgets the refilled buckets (which hold
    /// nothing a fresh one would not), at most once a second so that a flood of new
    /// addresses does not scan the table on every join; then, if still full, an
    /// arbitrary one, which an attacker with that many addresses gains nothing from.
    fn make_room(&mut self, now: Instant) {
        if self.buckets.len() < self.capacity {
            return;
        }
        let JoinRate { per_second, burst } = self.rate;
        let due = self
            .pruned
            .is_none_or(|pruned| now.saturating_duration_since(pruned) >= Duration::from_secs(1));
        if due {
            self.pruned = Some(now);
            self.buckets
                .retain(|_, bucket| !bucket.is_full(per_second, burst, now));
        }
        if self.buckets.len() >= self.capacity {
            if let Some(any) = self.buckets.keys().next().copied() {
                self.buckets.remove(&any);
            }
        }
    }
}

/// The unit an attacker pays for: an IPv4 address, or an IPv6 /64 (the block one
/// subscriber is given; its 2^64 addresses are one).
fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let bits = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(Ipv6Addr::from(bits))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(per_second: f64, burst: u32) -> JoinRate {
        JoinRate { per_second, burst }
    }

    #[test]
    fn a_bucket_empties_then_refills_at_its_rate() {
        let start = Instant::now();
        let mut bucket = Bucket::full(2, start);
        assert!(bucket.take(1.0, 2, start));
        assert!(bucket.take(1.0, 2, start));
        assert!(!bucket.take(1.0, 2, start));
        assert!(!bucket.has_token(1.0, 2, start + Duration::from_millis(900)));
        assert!(bucket.take(1.0, 2, start + Duration::from_secs(1)));
        // Never more than the burst, however long it rested.
        let later = start + Duration::from_secs(3600);
        assert!(bucket.take(1.0, 2, later));
        assert!(bucket.take(1.0, 2, later));
        assert!(!bucket.take(1.0, 2, later));
    }

    #[test]
    fn an_address_past_its_failures_is_refused_until_a_token_refills() {
        let start = Instant::now();
        let mut joins = FailedJoins::new(rate(0.5, 3), 100);
        let ip: IpAddr = "203.0.113.7".parse().unwrap();
        let other: IpAddr = "203.0.113.8".parse().unwrap();
        for _ in 0..3 {
            assert!(joins.allows(ip, start));
            joins.record(ip, start);
        }
        assert!(!joins.allows(ip, start));
        assert!(
            joins.allows(other, start),
            "other addresses are not affected"
        );
        assert!(!joins.allows(ip, start + Duration::from_millis(1900)));
        assert!(joins.allows(ip, start + Duration::from_secs(2)));
    }

    #[test]
    fn an_ipv6_subscriber_is_one_address() {
        let start = Instant::now();
        let mut joins = FailedJoins::new(rate(0.1, 1), 100);
        let first: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let same_block: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let next_block: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        joins.record(first, start);
        assert!(!joins.allows(same_block, start));
        assert!(joins.allows(next_block, start));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        joins.record(mapped, start);
        assert!(!joins.allows("192.0.2.1".parse().unwrap(), start));
    }

    #[test]
    fn the_table_is_bounded_and_forgets_refilled_addresses_first() {
        let start = Instant::now();
        let mut joins = FailedJoins::new(rate(1.0, 2), 4);
        let ip = |n: u8| IpAddr::from([198, 51, 100, n]);
        // Two addresses that will have refilled, two still empty.
        joins.record(ip(1), start);
        joins.record(ip(2), start);
        let later = start + Duration::from_secs(5);
        for n in [3, 4] {
            joins.record(ip(n), later);
            joins.record(ip(n), later);
        }
        assert_eq!(joins.len(), 4);
        joins.record(ip(5), later);
        assert_eq!(joins.len(), 3, "the two refilled addresses were forgotten");
        assert!(!joins.allows(ip(3), later), "the empty ones were kept");
        assert!(!joins.allows(ip(4), later));
        // Past the capacity with nothing refilled: still bounded.
        for n in 6..20 {
            joins.record(ip(n), later);
            assert!(joins.len() <= 4);
        }
    }
}
