//! The answer cache: (name, type) to [`Outcome`] until its TTL runs out.
//!
//! Positive TTLs are clamped to `[min_ttl, max_ttl]`; negative ones
//! (NXDOMAIN, NODATA: RFC 2308 §5) to at most `negative_max_ttl`, and a
//! negative answer without an SOA (TTL 0) is not stored. The cache holds at
//! most `capacity` entries: expired ones go first, then the one closest to
//! expiry. Time comes in as `now`; this module must not read a clock or
//! know about queries.

use super::answer::Outcome;
use crate::proto::RType;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The key of a query and of a cache entry: lower-case dotted name, type.
pub type Key = (String, RType);

/// How long answers are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachePolicy {
    /// Shortest lifetime of a positive answer.
    pub min_ttl: Duration,
    /// Longest lifetime of a positive answer.
    pub max_ttl: Duration,
    /// Longest lifetime of a negative answer.
    pub negative_max_ttl: Duration,
    /// Most entries held.
    pub capacity: usize,
}

impl Default for CachePolicy {
    fn default() -> Self {
        CachePolicy {
            min_ttl: Duration::ZERO,
            max_ttl: Duration::from_secs(86_400),
            negative_max_ttl: Duration::from_secs(3 * 3600),
            capacity: 1024,
        }
    }
}

/// The cache.
#[derive(Debug, Default)]
pub struct Cache {
    policy: CachePolicy,
    entries: HashMap<Key, (Outcome, Instant)>,
}

impl Cache {
    /// An empty cache with `policy`.
    pub fn new(policy: CachePolicy) -> Self {
        Cache {
            policy,
            entries: HashMap::new(),
        }
    }

    /// The live outcome for `key`, with its TTL set to the seconds left.
    pub fn get(&mut self, key: &Key, now: Instant) -> Option<Outcome> {
        let (outcome, expires) = self.entries.get(key)?;
        let left = expires.checked_duration_since(now).filter(|d| !d.is_zero());
        let Some(left) = left else {
            self.entries.remove(key);
            return None;
        };
        let secs = u32::try_from(left.as_secs()).unwrap_or(u32::MAX);
        Some(with_ttl(outcome.clone(), secs))
    }

    /// Stores `outcome` for `key` for its clamped TTL.
    pub fn insert(&mut self, key: Key, outcome: Outcome, now: Instant) {
        let lifetime = self.lifetime(&outcome);
        if lifetime.is_zero() || self.policy.capacity == 0 {
            return;
        }
        if self.entries.len() >= self.policy.capacity && !self.entries.contains_key(&key) {
            self.make_room(now);
        }
        self.entries.insert(key, (outcome, now + lifetime));
    }

    fn lifetime(&self, outcome: &Outcome) -> Duration {
        let ttl = Duration::from_secs(u64::from(outcome.ttl()));
        match outcome {
            Outcome::NxDomain { .. } | Outcome::NoData { .. } => {
                ttl.min(self.policy.negative_max_ttl)
            }
            _ => ttl.clamp(
                self.policy.min_ttl,
                self.policy.max_ttl.max(self.policy.min_ttl),
            ),
        }
    }

    fn make_room(&mut self, now: Instant) {
        self.entries.retain(|_, (_, expires)| *expires > now);
        if self.entries.len() < self.policy.capacity {
            return;
        }
        let oldest = self
            .entries
            .iter()
            .min_by_key(|(_, (_, e))| *e)
            .map(|(k, _)| k.clone());
        if let Some(key) = oldest {
            self.entries.remove(&key);
        }
    }

    /// Entries held (live or not yet swept).
    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

fn with_ttl(outcome: Outcome, secs: u32) -> Outcome {
    match outcome {
        Outcome::Addrs {
            canonical, addrs, ..
        } => Outcome::Addrs {
            canonical,
            addrs,
            ttl: secs,
        },
        Outcome::Alias { target, .. } => Outcome::Alias { target, ttl: secs },
        Outcome::NxDomain { .. } => Outcome::NxDomain { ttl: secs },
        Outcome::NoData { .. } => Outcome::NoData { ttl: secs },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: &str) -> Key {
        (n.to_string(), RType::A)
    }

    #[test]
    fn negative_lifetime_capped_and_zero_not_stored() {
        let policy = CachePolicy {
            negative_max_ttl: Duration::from_secs(10),
            ..CachePolicy::default()
        };
        let mut cache = Cache::new(policy);
        let now = Instant::now();
        cache.insert(key("nx"), Outcome::NxDomain { ttl: 3600 }, now);
        cache.insert(key("zero"), Outcome::NoData { ttl: 0 }, now);
        assert_eq!(cache.len(), 1);
        assert!(
            cache
                .get(&key("nx"), now + Duration::from_secs(9))
                .is_some()
        );
        assert_eq!(cache.get(&key("nx"), now + Duration::from_secs(10)), None);
        assert_eq!(cache.len(), 0, "an expired entry is dropped when read");
    }

    #[test]
    fn capacity_evicts_expired_then_soonest_to_expire() {
        let policy = CachePolicy {
            capacity: 2,
            ..CachePolicy::default()
        };
        let mut cache = Cache::new(policy);
        let now = Instant::now();
        cache.insert(key("a"), Outcome::NxDomain { ttl: 5 }, now);
        cache.insert(key("b"), Outcome::NxDomain { ttl: 50 }, now);
        cache.insert(key("c"), Outcome::NxDomain { ttl: 20 }, now);
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.get(&key("a"), now), None);
        cache.insert(
            key("d"),
            Outcome::NxDomain { ttl: 100 },
            now + Duration::from_secs(30),
        );
        assert_eq!(cache.len(), 2);
        assert!(
            cache
                .get(&key("b"), now + Duration::from_secs(30))
                .is_some()
        );
        assert!(
            cache
                .get(&key("d"), now + Duration::from_secs(30))
                .is_some()
        );
    }
}
