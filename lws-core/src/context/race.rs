//! Connecting a client to a host name's addresses: the Happy Eyeballs race
//! (RFC 8305) of one `Dialing` connection, with the planner of
//! `eyeballs.rs` deciding what to try and when.
//!
//! The user's connection keeps its slot and token throughout and has no
//! descriptor while it dials. Each attempt is a slot of its own in state
//! `Attempt(owner)` with the inert role, watched for writability and
//! bounded by the connect timeout. The first attempt to connect wins: its
//! descriptor is duplicated into the owner's slot (a new descriptor number,
//! so no loop ever sees one descriptor re-registered under another token),
//! every attempt slot is closed through the ordinary `Unwatch` path, the
//! lookup is dropped if still running, and the owner goes on as any
//! client connect that completed (TLS handshake or open). Losing attempts
//! produce no event. The last possible attempt goes straight into the
//! owner's slot, as a connect to an address literal does, so a name with
//! one address costs nothing extra. This file must not decide the order or
//! timing of attempts (that is the planner's job).

use std::io;
use std::net::{IpAddr, SocketAddr};

use lws_dns::{DnsError, LookupId};

use super::{Context, Inert, RunState};
use crate::conn::{Conn, ConnIo, ConnState, Dial};
use crate::cx::TimerEntry;
use crate::dns::dns_io_error;
use crate::eyeballs::Step;
use crate::role::CloseReason;
use crate::socket::{self, Endpoint, Socket};
use crate::token::ConnKey;

impl Context {
    /// Addresses (or the failure) for dialing connection `key`'s lookup
    /// `id`: one family's early (`complete` false), or the whole answer.
    pub(super) fn race_answer(
        &mut self,
        key: ConnKey,
        id: LookupId,
        result: Result<Vec<IpAddr>, DnsError>,
        complete: bool,
    ) {
        let now = self.now;
        let Some(dial) = self.dial_mut(key).filter(|d| d.lookup == Some(id)) else {
            return;
        };
        if complete {
            dial.lookup = None;
        }
        match result {
            Ok(addrs) => dial.race.add(&addrs, complete, now),
            Err(e) => dial.race.resolve_failed(dns_io_error(e)),
        }
        self.race_step(key);
    }

    fn dial_mut(&mut self, key: ConnKey) -> Option<&mut Dial> {
        let conn = self.conns.get_mut(key)?;
        if conn.io.state != ConnState::Dialing {
            return None;
        }
        conn.io.dial.as_deref_mut()
    }

    /// Do what the race says now: start attempts, arm its timer, or fail.
    pub(super) fn race_step(&mut self, key: ConnKey) {
        while self.run == RunState::Running {
            let now = self.now;
            let Some(dial) = self.dial_mut(key) else {
                return;
            };
            let last = dial.race.is_last();
            let port = dial.port;
            match dial.race.poll(now) {
                Step::Start(ip) => self.start_attempt(key, SocketAddr::new(ip, port), last),
                Step::WaitUntil(at) => {
                    let old = dial.timer.take();
                    if let Some(t) = old {
                        self.sched.cancel(t);
                    }
                    let id = self.sched.insert(at, TimerEntry::Race(key));
                    if let Some(d) = self.dial_mut(key) {
                        d.timer = Some(id);
                    }
                    return;
                }
                Step::Failed(e) => return self.connect_failed(key, e),
                Step::Idle => return,
            }
        }
    }

    /// The race's timer fired.
    pub(super) fn race_timer(&mut self, key: ConnKey) {
        if let Some(d) = self.dial_mut(key) {
            d.timer = None;
            self.race_step(key);
        }
    }

    /// Start one attempt: in its own slot, or (`last`) in the owner's.
    fn start_attempt(&mut self, owner: ConnKey, addr: SocketAddr, last: bool) {
        log::debug!("{:?}: connecting to {addr}", Self::token_of(owner));
        let (sock, connected) = match socket::start_connect(&Endpoint::Tcp(addr)) {
            Ok((sock, Ok(done))) => (sock, done),
            Ok((_, Err(e))) | Err(e) => return self.note_failure(owner, e), // the caller steps on
        };
        if connected {
            return self.race_won(owner, sock);
        }
        let Some(conn) = self.conns.get_mut(owner) else {
            return;
        };
        let timeout = conn.io.dial.as_ref().map(|d| d.timeout).unwrap_or_default();
        let deadline = self.now + timeout;
        if last {
            // Nothing can follow it: connect as a literal address would.
            let dial = conn.io.dial.take();
            conn.io.socket = sock;
            conn.io.state = ConnState::Connecting;
            conn.io.timeout = Some(self.sched.insert(deadline, TimerEntry::Timeout(owner)));
            if let Some(d) = dial {
                self.drop_dial(*d);
            }
            return self.reconcile(owner);
        }
        let mut io = ConnIo::new(
            sock,
            conn.io.vhost,
            conn.io.protocol,
            ConnState::Attempt(owner),
            self.now,
        );
        io.client = true;
        let key = self.conns.insert(Conn {
            role: Box::new(Inert),
            io,
        });
        if let Some(c) = self.conns.get_mut(key) {
            c.io.timeout = Some(self.sched.insert(deadline, TimerEntry::Timeout(key)));
        }
        if let Some(d) = self.dial_mut(owner) {
            d.attempts.push(key);
        }
        self.reconcile(key);
    }

    /// An attempt slot is writable: connected, or failed.
    pub(super) fn attempt_ready(&mut self, key: ConnKey, owner: ConnKey) {
        let Some(conn) = self.conns.get(key) else {
            return;
        };
        let dup = match conn.io.socket.take_error() {
            Ok(Some(e)) | Err(e) => Err(e),
            Ok(None) => duplicate(&conn.io.socket),
        };
        self.finalize(key, CloseReason::Normal);
        if let Some(d) = self.dial_mut(owner) {
            d.attempts.retain(|k| *k != key);
        }
        match dup {
            Ok(sock) => self.race_won(owner, sock),
            Err(e) => self.race_lost(owner, e),
        }
    }

    /// An attempt slot timed out or its descriptor was refused by the loop.
    pub(super) fn attempt_failed_in_slot(&mut self, key: ConnKey, owner: ConnKey, e: io::Error) {
        self.finalize(key, CloseReason::Normal);
        if let Some(d) = self.dial_mut(owner) {
            d.attempts.retain(|k| *k != key);
        }
        self.race_lost(owner, e);
    }

    /// One attempt failed: the race moves on.
    fn race_lost(&mut self, owner: ConnKey, e: io::Error) {
        self.note_failure(owner, e);
        self.race_step(owner);
    }

    fn note_failure(&mut self, owner: ConnKey, e: io::Error) {
        log::debug!("{:?}: attempt failed: {e}", Self::token_of(owner));
        let now = self.now;
        if let Some(d) = self.dial_mut(owner) {
            d.race.attempt_failed(e, now);
        }
    }

    /// `sock` connected first: it becomes the owner's descriptor, the
    /// rest of the race is dropped, and the connect completes.
    fn race_won(&mut self, owner: ConnKey, sock: Socket) {
        let Some(conn) = self.conns.get_mut(owner) else {
            return;
        };
        let Some(dial) = conn.io.dial.take() else {
            return;
        };
        conn.io.socket = sock;
        conn.io.state = ConnState::Connecting;
        self.drop_dial(*dial);
        self.finish_connect(owner);
    }

    /// Forget a race: its timer, its lookup and its attempt slots.
    pub(super) fn drop_dial(&mut self, dial: Dial) {
        if let Some(t) = dial.timer {
            self.sched.cancel(t);
        }
        if let Some(id) = dial.lookup {
            self.cancel_resolve(id);
        }
        for k in dial.attempts {
            self.finalize(k, CloseReason::Normal);
        }
        self.dns_pump();
    }
}

/// A second descriptor for a connected attempt's socket, for the owner's
/// slot (the attempt's own is closed once its watcher is gone).
fn duplicate(s: &Socket) -> io::Result<Socket> {
    match s {
        Socket::Tcp(t) => t.try_clone().map(Socket::Tcp),
        _ => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "not a TCP attempt",
        )),
    }
}
