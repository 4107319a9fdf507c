//! The sorted timer scheduler (the `lws_sul` equivalent).
//!
//! Entries are kept in deadline order with microsecond-or-better resolution
//! (whatever [`Instant`] gives). Ties are broken by insertion order, so two
//! timers due at the same instant fire in the order they were set. Insert and
//! cancel are `O(log n)`; finding the next deadline is `O(log n)`.
//!
//! The scheduler only stores entries; it never runs them. The context pops
//! due entries and dispatches them, which keeps this module free of any
//! knowledge of connections or callbacks.

use std::collections::BTreeMap;
use std::time::Instant;

/// Names one scheduled entry, for cancelling it. Cancelling an entry that
/// already fired or was cancelled is a no-op.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct TimerId {
    at: Instant,
    seq: u64,
}

impl TimerId {
    /// When this entry is (or was) due.
    pub fn deadline(&self) -> Instant {
        self.at
    }
}

/// Timers sorted by deadline, then by insertion order.
#[derive(Debug)]
pub struct Scheduler<E> {
    entries: BTreeMap<TimerId, E>,
    next_seq: u64,
}

impl<E> Default for Scheduler<E> {
    fn default() -> Self {
        Scheduler {
            entries: BTreeMap::new(),
            next_seq: 0,
        }
    }
}

impl<E> Scheduler<E> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Schedule `entry` to be due at `at`.
    pub fn insert(&mut self, at: Instant, entry: E) -> TimerId {
        let id = TimerId {
            at,
            seq: self.next_seq,
        };
        self.next_seq += 1;
        self.entries.insert(id, entry);
        id
    }

    /// Remove a pending entry, returning it if it had not fired yet.
    pub fn cancel(&mut self, id: TimerId) -> Option<E> {
        self.entries.remove(&id)
    }

    /// Whether `id` is still pending.
    pub fn contains(&self, id: TimerId) -> bool {
        self.entries.contains_key(&id)
    }

    /// The earliest pending deadline.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.entries.first_key_value().map(|(id, _)| id.at)
    }

    /// A mark that [`Scheduler::pop_due`] uses to leave entries inserted
    /// after it for the next pass, so a callback that re-arms itself "now"
    /// cannot starve the loop.
    pub fn mark(&self) -> u64 {
        self.next_seq
    }

    /// Take the earliest entry due at or before `now` that was inserted
    /// before `mark`.
    pub fn pop_due(&mut self, now: Instant, mark: u64) -> Option<(TimerId, E)> {
        let (first, _) = self.entries.first_key_value()?;
        if first.at > now {
            return None;
        }
        if first.seq >= mark {
            // Inserted during this pass: look past it for older due entries.
            let key = *self
                .entries
                .range(..)
                .find(|(id, _)| id.at > now || id.seq < mark)?
                .0;
            if key.at > now {
                return None;
            }
            return self.entries.remove_entry(&key);
        }
        self.entries.pop_first()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Drop every entry.
    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn pops_in_deadline_order() {
        let t0 = Instant::now();
        let mut s = Scheduler::new();
        for (i, d) in [30u64, 10, 20, 0, 25].iter().enumerate() {
            s.insert(t0 + ms(*d), i);
        }
        let mark = s.mark();
        let order: Vec<_> =
            std::iter::from_fn(|| s.pop_due(t0 + ms(100), mark).map(|(_, e)| e)).collect();
        assert_eq!(order, vec![3, 1, 2, 4, 0]);
    }

    #[test]
    fn equal_deadlines_fire_in_insertion_order() {
        let t0 = Instant::now();
        let mut s = Scheduler::new();
        for i in 0..10 {
            s.insert(t0, i);
        }
        let mark = s.mark();
        let order: Vec<_> = std::iter::from_fn(|| s.pop_due(t0, mark).map(|(_, e)| e)).collect();
        assert_eq!(order, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn nothing_pops_before_its_deadline() {
        let t0 = Instant::now();
        let mut s = Scheduler::new();
        s.insert(t0 + Duration::from_micros(1), ());
        assert!(s.pop_due(t0, s.mark()).is_none());
        assert_eq!(s.next_deadline(), Some(t0 + Duration::from_micros(1)));
    }

    #[test]
    fn cancel_removes_and_is_idempotent() {
        let t0 = Instant::now();
        let mut s = Scheduler::new();
        let a = s.insert(t0, 'a');
        let b = s.insert(t0 + ms(1), 'b');
        assert_eq!(s.cancel(a), Some('a'));
        assert_eq!(s.cancel(a), None);
        assert_eq!(s.next_deadline(), Some(b.deadline()));
        assert!(s.contains(b));
    }

    #[test]
    fn entries_inserted_during_a_pass_wait_for_the_next() {
        let t0 = Instant::now();
        let mut s = Scheduler::new();
        s.insert(t0, 1);
        let mark = s.mark();
        let (_, first) = s.pop_due(t0, mark).expect("due");
        assert_eq!(first, 1);
        s.insert(t0, 2); // a callback re-arming itself "now"
        assert!(s.pop_due(t0, mark).is_none());
        assert_eq!(s.pop_due(t0, s.mark()).map(|(_, e)| e), Some(2));
    }

    #[test]
    fn older_due_entry_behind_a_new_one_still_fires() {
        let t0 = Instant::now();
        let mut s = Scheduler::new();
        s.insert(t0 + ms(5), "old");
        let mark = s.mark();
        s.insert(t0, "new");
        assert_eq!(s.pop_due(t0 + ms(5), mark).map(|(_, e)| e), Some("old"));
        assert!(s.pop_due(t0 + ms(5), mark).is_none());
    }
}
