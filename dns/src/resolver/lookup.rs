//! The life of one lookup: literal and `/etc/hosts` answers, the search
//! list, one part per address family, CNAME follow-ups, joining queries in
//! flight, the cache, and the final event.
//!
//! Search order follows resolv.conf(5): a name ending in a dot is tried
//! alone; a name with at least `ndots` dots is tried as given first, then
//! with each search domain; other names with each search domain first.
//! NXDOMAIN and NODATA move to the next candidate; a server failure ends
//! the lookup. The work per lookup is bounded: at most `max_chain` CNAME
//! follow-ups per family and `max_queries` queries started or joined. This
//! module must not build or read messages.

use super::answer::Outcome;
use super::cache::Key;
use super::query::Query;
use super::{Answer, FamilyPref, LookupEvent, LookupId, PartialAnswer, Resolver};
use crate::DnsError;
use crate::proto::{Name, RType};
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// A lookup in progress.
#[derive(Debug)]
pub struct Lookup {
    pref: FamilyPref,
    candidates: Vec<Name>,
    next: usize,
    parts: Vec<Part>,
    queries: u16,
    saw_nodata: bool,
    /// Report the first family's addresses before the other family's
    /// answer ([`Resolver::lookup_with_partials`]); cleared once sent.
    partial: bool,
}

/// One address family of the current candidate.
#[derive(Debug)]
struct Part {
    qtype: RType,
    hops: u8,
    state: State,
}

#[allow(
    clippy::large_enum_variant,
    reason = "a Name is an inline 255-byte array; parts are few"
)]
#[derive(Debug, Clone)]
enum State {
    Waiting(Key),
    Found {
        canonical: Name,
        addrs: Vec<IpAddr>,
        ttl: u32,
    },
    Negative {
        nodata: bool,
    },
    Failed(DnsError),
}

impl FamilyPref {
    fn qtypes(self) -> &'static [RType] {
        match self {
            FamilyPref::V4Only => &[RType::A],
            FamilyPref::V6Only => &[RType::Aaaa],
            FamilyPref::PreferV6 => &[RType::Aaaa, RType::A],
            FamilyPref::PreferV4 => &[RType::A, RType::Aaaa],
        }
    }

    fn wants(self, ip: &IpAddr) -> bool {
        let qtype = if ip.is_ipv4() { RType::A } else { RType::Aaaa };
        self.qtypes().contains(&qtype)
    }
}

fn key(name: &Name, qtype: RType) -> Key {
    (name.to_string().to_ascii_lowercase(), qtype)
}

/// The names to try for `name`, in order (resolv.conf(5) `ndots`).
fn candidates(name: &str, ndots: u8, search: &[String]) -> Result<Vec<Name>, DnsError> {
    let as_given = Name::from_dotted(name).map_err(DnsError::InvalidName)?;
    if name.ends_with('.') || search.is_empty() {
        return Ok(vec![as_given]);
    }
    let dots = name.bytes().filter(|b| *b == b'.').count();
    let searched = search
        .iter()
        .filter_map(|d| Name::from_dotted(&format!("{name}.{d}")).ok());
    let mut list: Vec<Name> = Vec::new();
    if dots >= usize::from(ndots) {
        list.push(as_given.clone());
    }
    list.extend(searched);
    if dots < usize::from(ndots) {
        list.push(as_given);
    }
    list.dedup();
    Ok(list)
}

impl Resolver {
    pub(super) fn start_lookup(
        &mut self,
        id: LookupId,
        name: &str,
        pref: FamilyPref,
        partial: bool,
        now: Instant,
    ) {
        if let Some(result) = self.local_answer(name, pref) {
            self.events.push_back(LookupEvent { id, result });
            return;
        }
        let candidates = match candidates(name, self.ndots, &self.search) {
            Ok(list) => list,
            Err(e) => return self.events.push_back(LookupEvent { id, result: Err(e) }),
        };
        let lookup = Lookup {
            pref,
            candidates,
            next: 0,
            parts: Vec::new(),
            queries: 0,
            saw_nodata: false,
            partial,
        };
        self.lookups.insert(id, lookup);
        self.next_candidate(id, now);
    }

    /// An address literal, or the hosts table's addresses of the family.
    fn local_answer(&self, name: &str, pref: FamilyPref) -> Option<Result<Answer, DnsError>> {
        let literal = name.parse::<IpAddr>().ok().map(|ip| vec![ip]);
        let listed = literal.unwrap_or_else(|| self.hosts.lookup(name).to_vec());
        if listed.is_empty() {
            return None;
        }
        let mut addrs: Vec<IpAddr> = Vec::new();
        for qtype in pref.qtypes() {
            let family = |ip: &&IpAddr| ip.is_ipv4() == (*qtype == RType::A);
            addrs.extend(listed.iter().filter(family).filter(|ip| pref.wants(ip)));
        }
        if addrs.is_empty() {
            return name
                .parse::<IpAddr>()
                .is_ok()
                .then_some(Err(DnsError::NoAddress));
        }
        let name = name.trim_end_matches('.').to_string();
        Some(Ok(Answer {
            name,
            addrs,
            ttl: Duration::ZERO,
        }))
    }

    fn next_candidate(&mut self, id: LookupId, now: Instant) {
        let Some(lookup) = self.lookups.get_mut(&id) else {
            return;
        };
        let Some(name) = lookup.candidates.get(lookup.next).cloned() else {
            let error = if lookup.saw_nodata {
                DnsError::NoAddress
            } else {
                DnsError::NxDomain
            };
            return self.finish(id, Err(error));
        };
        lookup.next += 1;
        lookup.parts = lookup
            .pref
            .qtypes()
            .iter()
            .map(|&qtype| Part {
                qtype,
                hops: 0,
                state: State::Negative { nodata: false },
            })
            .collect();
        for idx in 0..lookup.parts.len() {
            self.resolve(id, idx, name.clone(), now);
        }
        self.settle(id, now);
    }

    /// Finds `name` for part `idx`: from the cache (following cached
    /// aliases), by joining a query in flight, or by starting one.
    fn resolve(&mut self, id: LookupId, idx: usize, mut name: Name, now: Instant) {
        loop {
            let Some(part) = self.lookups.get(&id).and_then(|l| l.parts.get(idx)) else {
                return;
            };
            let key = key(&name, part.qtype);
            let state = match self.cache.get(&key, now) {
                Some(outcome) => match self.follow(id, idx, outcome) {
                    Ok(target) => {
                        name = target;
                        continue;
                    }
                    Err(state) => state,
                },
                None => self.ask(id, &name, key, now),
            };
            return self.set_state(id, idx, state);
        }
    }

    /// The state an outcome puts a part in, or the alias to resolve next.
    #[allow(clippy::result_large_err, reason = "internal, moved once")]
    fn follow(&mut self, id: LookupId, idx: usize, outcome: Outcome) -> Result<Name, State> {
        let max_chain = self.transport.max_chain;
        let part = self.lookups.get_mut(&id).and_then(|l| l.parts.get_mut(idx));
        let Some(part) = part else {
            return Err(State::Failed(DnsError::Timeout));
        };
        match outcome {
            Outcome::Alias { .. } if part.hops >= max_chain => {
                Err(State::Failed(DnsError::AliasChainTooLong(max_chain)))
            }
            Outcome::Alias { target, .. } => {
                part.hops += 1;
                Ok(target)
            }
            Outcome::Addrs {
                canonical,
                addrs,
                ttl,
            } => Err(State::Found {
                canonical,
                addrs,
                ttl,
            }),
            Outcome::NxDomain { .. } => Err(State::Negative { nodata: false }),
            Outcome::NoData { .. } => Err(State::Negative { nodata: true }),
        }
    }

    /// Joins or starts the query for `key`, within the lookup's budget.
    fn ask(&mut self, id: LookupId, name: &Name, key: Key, now: Instant) -> State {
        let max = self.max_queries;
        let Some(lookup) = self.lookups.get_mut(&id) else {
            return State::Failed(DnsError::Timeout);
        };
        if lookup.queries >= max {
            return State::Failed(DnsError::TooManyQueries(max));
        }
        if self.transport.servers.is_empty() {
            return State::Failed(DnsError::Timeout);
        }
        lookup.queries += 1;
        let query = self.queries.entry(key.clone()).or_insert_with(|| {
            let q = Query::start(name.clone(), key.1, &mut self.transport, now);
            self.sockets.insert(q.socket, key.clone());
            q
        });
        query.waiters.push(id);
        State::Waiting(key)
    }

    fn set_state(&mut self, id: LookupId, idx: usize, state: State) {
        if let Some(part) = self.lookups.get_mut(&id).and_then(|l| l.parts.get_mut(idx)) {
            part.state = state;
        }
    }

    /// A query finished: cache its outcome and move its waiters on.
    pub(super) fn query_done(
        &mut self,
        key: Key,
        waiters: Vec<LookupId>,
        result: Result<Outcome, DnsError>,
        now: Instant,
    ) {
        if let Ok(outcome) = &result {
            self.cache.insert(key.clone(), outcome.clone(), now);
        }
        for id in waiters {
            let Some(lookup) = self.lookups.get(&id) else {
                continue;
            };
            let waiting = |p: &Part| matches!(&p.state, State::Waiting(k) if *k == key);
            let Some(idx) = lookup.parts.iter().position(waiting) else {
                continue;
            };
            match result.clone() {
                Err(e) => self.set_state(id, idx, State::Failed(e)),
                Ok(outcome) => match self.follow(id, idx, outcome) {
                    Ok(target) => self.resolve(id, idx, target, now),
                    Err(state) => self.set_state(id, idx, state),
                },
            }
            self.settle(id, now);
        }
    }

    /// When every part of the current candidate is decided: answer, fail,
    /// or try the next candidate.
    fn settle(&mut self, id: LookupId, now: Instant) {
        let Some(lookup) = self.lookups.get_mut(&id) else {
            return;
        };
        if lookup
            .parts
            .iter()
            .any(|p| matches!(p.state, State::Waiting(_)))
        {
            return self.report_partial(id);
        }
        let mut answer: Option<Answer> = None;
        let mut failure = None;
        for part in &lookup.parts {
            match &part.state {
                State::Found {
                    canonical,
                    addrs,
                    ttl,
                } => {
                    let ttl = Duration::from_secs(u64::from(*ttl));
                    let a = answer.get_or_insert_with(|| Answer {
                        name: canonical.to_string(),
                        addrs: Vec::new(),
                        ttl,
                    });
                    a.addrs.extend(addrs);
                    a.ttl = a.ttl.min(ttl);
                }
                State::Failed(e) => failure = failure.or(Some(e.clone())),
                State::Negative { nodata } => lookup.saw_nodata |= nodata,
                State::Waiting(_) => {}
            }
        }
        match (answer, failure) {
            (Some(answer), _) => self.finish(id, Ok(answer)),
            (None, Some(error)) => self.finish(id, Err(error)),
            (None, None) => self.next_candidate(id, now),
        }
    }

    /// One family found while another is still asked: report it once, if
    /// the lookup wants that. The lookup's final answer is then certain to
    /// be a success of this candidate, holding these addresses too.
    fn report_partial(&mut self, id: LookupId) {
        let Some(lookup) = self.lookups.get_mut(&id).filter(|l| l.partial) else {
            return;
        };
        let found = lookup.parts.iter().find_map(|p| match &p.state {
            State::Found { addrs, .. } => Some(addrs.clone()),
            _ => None,
        });
        if let Some(addrs) = found {
            lookup.partial = false;
            self.partials.push_back(PartialAnswer { id, addrs });
        }
    }

    fn finish(&mut self, id: LookupId, result: Result<Answer, DnsError>) {
        if self.lookups.remove(&id).is_some() {
            self.events.push_back(LookupEvent { id, result });
        }
    }
}
