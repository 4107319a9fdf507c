//! The close path and context shutdown.
//!
//! Closing is a small state machine: a graceful close first offers the role
//! a protocol-level close (`ClosingViaProtocol`), then flushes pending output
//! (`Draining`), both bounded by the vhost's close timeout; then `finalize`
//! tells the role, removes the slot and hands the descriptor to the loop
//! inside an `Unwatch`, so it is closed only after its watcher is gone.

use super::{Context, RunState};
use crate::conn::ConnState;
use crate::cx::TimerEntry;
use crate::io_cmd::{Closing, IoCmd};
use crate::protocol::ContextEvent;
use crate::role::CloseReason;
use crate::token::ConnKey;

impl Context {
    /// Close `key` for `reason`, gracefully if the reason allows.
    pub(super) fn close_conn(&mut self, key: ConnKey, reason: CloseReason) {
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        match &conn.io.state {
            ConnState::Closed => {}
            ConnState::Listening | ConnState::Waker | ConnState::Dns(..) => {
                self.finalize(key, reason)
            }
            ConnState::Attempt(owner) => {
                let owner = *owner;
                let e = std::io::Error::other(reason.to_string());
                self.attempt_failed_in_slot(key, owner, e);
            }
            ConnState::Dialing | ConnState::Connecting => {
                let e =
                    std::io::Error::new(std::io::ErrorKind::ConnectionAborted, reason.to_string());
                self.connect_failed(key, e);
            }
            ConnState::TlsHandshake if conn.io.client => {
                let e =
                    std::io::Error::new(std::io::ErrorKind::ConnectionAborted, reason.to_string());
                self.connect_failed(key, e);
            }
            ConnState::TlsHandshake => self.finalize(key, reason),
            ConnState::Draining(_) | ConnState::ClosingViaProtocol(_) if !reason.is_graceful() => {
                self.finalize(key, reason)
            }
            ConnState::Draining(_) => {}
            ConnState::ClosingViaProtocol(_) => self.drain_then_finalize(key, reason),
            ConnState::Open => self.close_open(key, reason),
        }
    }

    fn close_open(&mut self, key: ConnKey, reason: CloseReason) {
        if !reason.is_graceful() {
            return self.finalize(key, reason);
        }
        if reason != CloseReason::PeerClosed {
            let started = self
                .call(key, |role, cx, p| role.close_via_protocol(cx, p, &reason))
                .unwrap_or(false);
            if started {
                let Some(conn) = self.conns.get_mut(key) else {
                    return;
                };
                conn.io.state = ConnState::ClosingViaProtocol(reason);
                self.arm_close_timeout(key);
                if let Some(r) = self.conns.get_mut(key).and_then(|c| c.io.close_req.take()) {
                    return self.close_conn(key, r);
                }
                return self.reconcile(key);
            }
        }
        self.drain_then_finalize(key, reason);
    }

    fn drain_then_finalize(&mut self, key: ConnKey, reason: CloseReason) {
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        if reason != CloseReason::PeerClosed
            && let Some(tls) = conn.io.tls.as_mut()
        {
            tls.send_close_notify();
            let _ = conn.io.pump_tls();
        }
        if conn.io.out.is_empty() || reason == CloseReason::PeerClosed && conn.io.flush().is_err() {
            return self.finalize(key, reason);
        }
        conn.io.state = ConnState::Draining(reason);
        conn.io.want_writable = false;
        self.arm_close_timeout(key);
        self.reconcile(key);
    }

    fn arm_close_timeout(&mut self, key: ConnKey) {
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        if let Some(t) = conn.io.timeout.take() {
            self.sched.cancel(t);
        }
        let after = self.vhosts[conn.io.vhost as usize].policy.close_timeout;
        conn.io.timeout = Some(
            self.sched
                .insert(self.now + after, TimerEntry::Timeout(key)),
        );
    }

    /// Remove the connection: last role call, timers, descriptor.
    pub(super) fn finalize(&mut self, key: ConnKey, reason: CloseReason) {
        let Some(mut conn) = self.conns.remove(key) else {
            return;
        };
        for t in [conn.io.timeout.take(), conn.io.idle.take()]
            .into_iter()
            .flatten()
        {
            self.sched.cancel(t);
        }
        let notify = matches!(
            conn.io.state,
            ConnState::Open | ConnState::ClosingViaProtocol(_) | ConnState::Draining(_)
        );
        let user_conn = !matches!(
            conn.io.state,
            ConnState::Listening | ConnState::Waker | ConnState::Dns(..) | ConnState::Attempt(_)
        );
        if let Some(dial) = conn.io.dial.take() {
            self.drop_dial(*dial);
        }
        conn.io.state = ConnState::Closed;
        if notify {
            log::debug!("{:?}: closed ({reason})", Self::token_of(key));
            let Context {
                vhosts,
                ops,
                sched,
                now,
                hosts,
                ..
            } = self;
            let cx = crate::cx::Cx {
                ops,
                sched,
                now: *now,
                origin: None,
            };
            super::dispatch::lend(&mut conn, key, vhosts, cx, hosts, |role, cx, p| {
                role.on_close(cx, p, &reason)
            });
        }
        if user_conn {
            self.stats.connections -= 1;
            self.stats.closed += 1;
        }
        let io = conn.io;
        if let crate::socket::Socket::UnixListener(l) = &io.socket {
            crate::socket::unlink_listener_path(l);
        }
        match io.registered {
            Some(_) => self.io_cmds.push_back(IoCmd::Unwatch {
                fd: io.socket.fd(),
                token: Self::token_of(key),
                closing: Some(Closing(io.socket)),
            }),
            None => drop(io.socket),
        }
        self.check_stopped();
    }

    /// Begin a graceful shutdown: listeners close at once, connections are
    /// closed gracefully (protocol close, flush), and whatever is still open
    /// after the stop grace period is closed hard.
    pub fn stop(&mut self) {
        if self.run != RunState::Running {
            return;
        }
        log::info!("context stopping");
        self.now = self.clock_now();
        self.run = RunState::Stopping;
        self.dns_shutdown();
        self.broadcast(&ContextEvent::Stopping);
        let keys: Vec<ConnKey> = self
            .conns
            .keys()
            .filter(|k| Some(*k) != self.waker)
            .collect();
        for key in keys {
            self.close_conn(key, CloseReason::ContextStopping);
        }
        self.process_ops();
        self.sched
            .insert(self.now + self.stop_grace, TimerEntry::StopGrace);
        self.check_stopped();
    }

    /// Close everything that is left, now.
    pub(super) fn stop_now(&mut self) {
        let keys: Vec<ConnKey> = self
            .conns
            .keys()
            .filter(|k| Some(*k) != self.waker)
            .collect();
        for key in keys {
            self.finalize(key, CloseReason::ContextStopping);
        }
        self.check_stopped();
    }

    fn check_stopped(&mut self) {
        if self.run != RunState::Stopping {
            return;
        }
        let only_waker = self.conns.len() == usize::from(self.waker.is_some());
        if !only_waker {
            return;
        }
        self.run = RunState::Stopped;
        self.sched.clear();
        self.forced.clear();
        self.writable_now.clear();
        if let Some(w) = self.waker.take() {
            self.finalize(w, CloseReason::ContextStopping);
        }
        log::info!("context stopped");
    }
}
