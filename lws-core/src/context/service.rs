//! The entry points a loop calls: readiness, timers and forced service.
//!
//! Level-triggered loops get one read per readable event (fair to other
//! connections; the loop reports again if more is waiting). Edge-triggered
//! loops get reads until the descriptor would block, bounded by a budget
//! after which the connection is queued for forced service.

use std::io;
use std::time::Instant;

use super::{Context, RunState};
use crate::conn::ConnState;
use crate::cx::{Cx, TimerEntry};
use crate::protocol::ContextEvent;
use crate::role::CloseReason;
use crate::socket::Socket;
use crate::token::{ConnKey, Readiness, Token};

/// Reads per event for edge-triggered loops before yielding.
const EDGE_READ_BUDGET: usize = 16;
/// Level-triggered loops read again (up to this many times) only while
/// each read fills the buffer: bulk transfers then need far fewer loop
/// turns, while small messages still cost one read per event.
const LEVEL_READ_BUDGET: usize = 4;

enum ReadOutcome {
    Data(usize),
    Datagram(usize, std::net::SocketAddr),
    Eof,
    WouldBlock,
    Failed(io::Error),
}

impl Context {
    /// The descriptor behind `token` is ready. Stale tokens are ignored.
    pub fn service_io(&mut self, token: Token, readiness: Readiness) {
        self.now = self.clock_now();
        let key = token.key();
        let Some(conn) = self.conns.get(key) else {
            return;
        };
        match conn.io.state {
            ConnState::Listening => self.accept_ready(key),
            ConnState::Waker => self.waker_ready(key),
            ConnState::Connecting => self.finish_connect(key),
            ConnState::Dns(..) => self.dns_ready(key, readiness),
            ConnState::Attempt(owner) => self.attempt_ready(key, owner),
            ConnState::Dialing => {}
            _ if conn.io.rx_paused && (readiness.hangup || readiness.error) => {
                // Not reading, yet the loop keeps reporting the hang-up
                // (level-triggered): the connection is gone, close it.
                let reason = match conn.io.socket.take_error() {
                    Ok(Some(e)) | Err(e) => CloseReason::Io(e.kind()),
                    Ok(None) => CloseReason::PeerClosed,
                };
                self.close_conn(key, reason);
            }
            _ => {
                if readiness.wants_read() {
                    match conn.io.tls.is_some() {
                        true => self.tls_read_ready(key),
                        false => self.read_ready(key),
                    }
                }
                if readiness.writable || readiness.error {
                    self.write_ready(key);
                }
            }
        }
        self.process_ops();
    }

    /// Run every scheduler entry due at `now`, in deadline order (with a
    /// [`ManualClock`](crate::ManualClock), at the clock's time instead).
    ///
    /// Afterwards the next deadline is always re-announced with
    /// `IoCmd::Timer`, even if unchanged: a loop's one-shot timer that fired
    /// a little early (millisecond-granular loops) must be re-armed.
    pub fn service_timers(&mut self, now: Instant) {
        let now = self.clock.as_ref().map_or(now, |c| c.now());
        self.now = now;
        self.announced = None;
        let mark = self.sched.mark();
        while let Some((_, entry)) = self.sched.pop_due(now, mark) {
            self.fire(entry);
            self.process_ops();
        }
        self.dns_timers(now);
        self.process_ops();
    }

    /// How long a readiness-polling loop may block, given the timer
    /// deadline it was last told (`EventLib::set_timer`): zero while forced
    /// service is pending, else until the deadline (`None`: no timer).
    pub fn poll_wait(&self, deadline: Option<Instant>) -> Option<std::time::Duration> {
        if self.wants_forced_service() {
            return Some(std::time::Duration::ZERO);
        }
        deadline.map(|d| d.saturating_duration_since(self.clock_now()))
    }

    /// After a readiness-polling loop's wait and its descriptor events:
    /// run the timers if `deadline` has passed, then forced service.
    pub fn after_poll(&mut self, deadline: Option<Instant>) {
        let now = self.clock_now();
        if deadline.is_some_and(|d| d <= now) {
            self.service_timers(now);
        }
        if self.wants_forced_service() {
            self.service_forced();
        }
    }

    /// Serve connections that have input no descriptor event will announce.
    pub fn service_forced(&mut self) {
        self.now = self.clock_now();
        for key in std::mem::take(&mut self.forced) {
            let Some(conn) = self.conns.get(key) else {
                continue;
            };
            if conn.io.state == ConnState::Listening {
                self.accept_ready(key); // budget ran out on an edge-triggered loop
                continue;
            }
            match self.conns.get(key).map(|c| c.io.tls.is_some()) {
                Some(true) => {
                    self.tls_deliver_plain(key);
                    if self.edge_triggered {
                        self.tls_read_ready(key);
                    }
                }
                Some(false) => self.read_ready(key),
                None => {}
            }
        }
        for key in std::mem::take(&mut self.writable_now) {
            self.writable_direct(key);
        }
        self.process_ops();
    }

    /// Deliver a requested writable without waiting for the loop, since the
    /// socket took everything last time. Should it now be full, the user's
    /// one write is still accepted whole (buffered) and the next writable
    /// waits for the loop: memory stays bounded exactly as with `POLLOUT`.
    fn writable_direct(&mut self, key: ConnKey) {
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        conn.io.queued_writable = false;
        let open = matches!(
            conn.io.state,
            ConnState::Open | ConnState::ClosingViaProtocol(_)
        );
        if !open || !conn.io.want_writable {
            return;
        }
        if !conn.io.out.is_empty() || !conn.io.maybe_writable {
            return self.reconcile(key); // wait for the loop after all
        }
        conn.io.want_writable = false;
        self.dispatch(key, |role, cx, p| role.on_writable(cx, p));
    }

    /// The loop could not watch (or re-watch) `token`'s descriptor: close
    /// that connection.
    pub fn watch_failed(&mut self, token: Token, err: io::Error) {
        let key = token.key();
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        log::warn!(
            "{token:?}: event loop refused fd {}: {err}",
            conn.io.socket.fd()
        );
        // A failed Watch left nothing registered; don't ask for an Unwatch.
        conn.io.registered = None;
        self.close_conn(key, CloseReason::WatchFailed(err.kind()));
        self.process_ops();
    }

    fn read_ready(&mut self, key: ConnKey) {
        let mut buf = std::mem::take(&mut self.rx_buf);
        let budget = if self.edge_triggered {
            EDGE_READ_BUDGET
        } else {
            LEVEL_READ_BUDGET
        };
        let mut spent = 0;
        while spent < budget {
            spent += 1;
            match self.read_once(key, &mut buf) {
                Some(ReadOutcome::Data(n)) => {
                    let data = &buf[..n];
                    self.dispatch(key, |role, cx, p| role.on_rx(cx, p, data));
                    if !self.edge_triggered && n < buf.len() {
                        // Level-triggered and the socket is drained: the
                        // loop reports any more, fairly, next turn.
                        spent = 0;
                        break;
                    }
                }
                Some(ReadOutcome::Datagram(n, from)) => {
                    let data = &buf[..n];
                    self.dispatch(key, |role, cx, p| role.on_datagram(cx, p, data, from));
                }
                Some(ReadOutcome::Eof) => {
                    self.close_conn(key, CloseReason::PeerClosed);
                    spent = 0;
                    break;
                }
                Some(ReadOutcome::Failed(e)) => {
                    self.close_conn(key, CloseReason::Io(e.kind()));
                    spent = 0;
                    break;
                }
                Some(ReadOutcome::WouldBlock) | None => {
                    spent = 0;
                    break;
                }
            }
        }
        if self.edge_triggered && spent == budget && self.conns.contains_key(key) {
            // Budget spent with data possibly left: no new edge will come.
            self.forced.push(key);
        }
        self.rx_buf = buf;
    }

    /// One read into `buf`; `None` when the connection is gone or must not
    /// read now.
    fn read_once(&mut self, key: ConnKey, buf: &mut [u8]) -> Option<ReadOutcome> {
        let conn = self.conns.get_mut(key)?;
        let readable = matches!(
            conn.io.state,
            ConnState::Open | ConnState::ClosingViaProtocol(_) | ConnState::Draining(_)
        );
        if !readable || conn.io.rx_paused {
            return None;
        }
        loop {
            let r = match &conn.io.socket {
                Socket::Udp(s) => s.recv_from(buf).map(|(n, a)| ReadOutcome::Datagram(n, a)),
                _ => conn.io.socket.read(buf).map(|n| match n {
                    0 => ReadOutcome::Eof,
                    n => ReadOutcome::Data(n),
                }),
            };
            let outcome = match r {
                Ok(o) => o,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => ReadOutcome::WouldBlock,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => ReadOutcome::Failed(e),
            };
            if matches!(outcome, ReadOutcome::Data(_) | ReadOutcome::Datagram(..)) {
                conn.io.last_rx = self.now;
                if matches!(conn.io.state, ConnState::Draining(_)) {
                    return Some(ReadOutcome::WouldBlock); // closing: input is dropped
                }
            }
            return Some(outcome);
        }
    }

    fn write_ready(&mut self, key: ConnKey) {
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        conn.io.maybe_writable = true;
        match conn.io.flush() {
            Err(e) => return self.close_conn(key, CloseReason::Io(e.kind())),
            Ok(false) => return self.reconcile(key),
            Ok(true) => {}
        }
        if let ConnState::Draining(reason) = &conn.io.state {
            let reason = reason.clone();
            return self.finalize(key, reason);
        }
        if std::mem::take(&mut conn.io.want_writable) {
            self.dispatch(key, |role, cx, p| role.on_writable(cx, p));
        } else {
            self.reconcile(key);
        }
    }

    fn waker_ready(&mut self, key: ConnKey) {
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        let Socket::Waker(rx) = &mut conn.io.socket else {
            return;
        };
        let (posted, stop) = self.remote.drain(rx);
        for f in posted {
            let mut cx = Cx {
                ops: &mut self.ops,
                sched: &mut self.sched,
                now: self.now,
                origin: None,
            };
            f(&mut cx);
            self.process_ops();
        }
        if self.run != RunState::Stopped {
            self.broadcast(&ContextEvent::Wake);
        }
        if stop {
            self.stop();
        }
    }

    fn fire(&mut self, entry: TimerEntry) {
        match entry {
            TimerEntry::Timeout(key) => self.timeout_fired(key),
            TimerEntry::Idle(key) => self.idle_check(key),
            TimerEntry::ConnTimer(key, id) => {
                if matches!(
                    self.conns.get(key).map(|c| &c.io.state),
                    Some(ConnState::Open)
                ) {
                    self.dispatch(key, |role, cx, p| role.on_timer(cx, p, id));
                }
            }
            TimerEntry::ProtocolTimer {
                vhost,
                protocol,
                id,
            } => self.notify_protocol(vhost, protocol, &ContextEvent::Timer(id)),
            TimerEntry::Callback(f, origin) => {
                let mut cx = Cx {
                    ops: &mut self.ops,
                    sched: &mut self.sched,
                    now: self.now,
                    origin,
                };
                f(&mut cx);
            }
            TimerEntry::Race(key) => self.race_timer(key),
            TimerEntry::ResumeListener(key) => {
                if let Some(c) = self.conns.get_mut(key) {
                    c.io.rx_paused = false;
                    self.reconcile(key);
                }
            }
            TimerEntry::StopGrace => self.stop_now(),
        }
    }

    fn timeout_fired(&mut self, key: ConnKey) {
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        conn.io.timeout = None;
        match conn.io.state {
            ConnState::Connecting => {
                let e = io::Error::new(io::ErrorKind::TimedOut, "connect timed out");
                self.attempt_failed(key, e);
            }
            ConnState::Attempt(owner) => {
                let e = io::Error::new(io::ErrorKind::TimedOut, "connect timed out");
                self.attempt_failed_in_slot(key, owner, e);
            }
            ConnState::TlsHandshake => self.tls_failed(key, "handshake timed out".into()),
            ConnState::ClosingViaProtocol(_) | ConnState::Draining(_) => {
                self.finalize(key, CloseReason::Timeout)
            }
            ConnState::Open => self.dispatch(key, |role, cx, p| role.on_timeout(cx, p)),
            _ => {}
        }
    }

    /// Close if nothing arrived for the idle timeout, else re-arm for the
    /// remaining time (cheaper than re-arming on every read).
    fn idle_check(&mut self, key: ConnKey) {
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        conn.io.idle = None;
        let Some(limit) = self.vhosts[conn.io.vhost as usize].policy.idle_timeout else {
            return;
        };
        let due = conn.io.last_rx + limit;
        if due <= self.now {
            log::debug!("{:?}: idle for {limit:?}, closing", Self::token_of(key));
            self.close_conn(key, CloseReason::IdleTimeout);
        } else {
            conn.io.idle = Some(self.sched.insert(due, TimerEntry::Idle(key)));
        }
    }
}
