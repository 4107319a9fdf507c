//! How connections come to exist: accepted, adopted, or opened as clients.

use std::io;
use std::time::Duration;

use super::{Context, RunState};
use crate::conn::{Conn, ConnIo, ConnState};
use crate::cx::TimerEntry;
use crate::error::{Error, Result};
use crate::protocol::Origin;
use crate::socket::{self, Adopt, Connect, Socket};
use crate::token::{ConnKey, Token};

/// How long a listener that ran out of descriptors stays paused.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

impl Context {
    /// Adopt a descriptor the application opened or accepted itself. The
    /// connection's role receives its open event, then any read buffer given
    /// with [`Adopt::read_buffer`], before anything read from the descriptor.
    pub fn adopt(&mut self, adopt: Adopt) -> Result<Token> {
        if self.run != RunState::Running {
            return Err(Error::Stopping);
        }
        let vhost = self.vhost_index(adopt.vhost.as_deref())?;
        let protocol = self.protocol_index(vhost, adopt.protocol.as_deref())?;
        adopt.prepare().map_err(Error::Adopt)?;
        let key = self.open_conn(
            adopt.socket,
            vhost,
            protocol,
            Origin::Adopted,
            ConnState::Open,
        );
        if !adopt.preload.is_empty() {
            let data = adopt.preload;
            if self
                .conns
                .get(key)
                .is_some_and(|c| c.io.state == ConnState::Open)
            {
                self.dispatch(key, |role, cx, p| role.on_rx(cx, p, &data));
            }
        }
        self.process_ops();
        Ok(Self::token_of(key))
    }

    /// Open a client connection. The returned token identifies it; a failure
    /// to connect is delivered to its role as a connect error.
    pub fn connect(&mut self, connect: Connect) -> Result<Token> {
        self.now = std::time::Instant::now();
        let t = self.connect_from(connect, None);
        self.process_ops();
        t
    }

    pub(super) fn connect_from(&mut self, c: Connect, origin: Option<(u16, u16)>) -> Result<Token> {
        if self.run != RunState::Running {
            return Err(Error::Stopping);
        }
        let (vhost, protocol) = match (c.vhost.as_deref(), origin) {
            (None, Some((v, p))) if c.protocol.is_none() => (v, p),
            (None, Some((v, _))) => (v, self.protocol_index(v, c.protocol.as_deref())?),
            (name, _) => {
                let v = self.vhost_index(name)?;
                (v, self.protocol_index(v, c.protocol.as_deref())?)
            }
        };
        let (sock, result) = socket::start_connect(&c.endpoint)?;
        let state = match result {
            Ok(true) => ConnState::Open,
            _ => ConnState::Connecting,
        };
        let key = self.open_conn(sock, vhost, protocol, Origin::Client, state);
        if let Err(e) = result {
            self.connect_failed(key, e);
        } else if let Some(conn) = self.conns.get_mut(key)
            && conn.io.state == ConnState::Connecting
        {
            let deadline = self.now + c.timeout;
            conn.io.timeout = Some(self.sched.insert(deadline, TimerEntry::Timeout(key)));
        }
        Ok(Self::token_of(key))
    }

    /// Create the slot, the role and the watcher; an `Open` connection gets
    /// its idle timer and open event.
    fn open_conn(
        &mut self,
        socket: Socket,
        vhost: u16,
        protocol: u16,
        origin: Origin,
        state: ConnState,
    ) -> ConnKey {
        let v = &mut self.vhosts[vhost as usize];
        let role = v.protocols[protocol as usize].handler.new_role(origin);
        let mut io = ConnIo::new(socket, vhost, protocol, state, self.now);
        io.out_limit = v.policy.output_limit;
        let key = self.conns.insert(Conn { role, io });
        self.stats.opened += 1;
        self.stats.connections += 1;
        self.reconcile(key);
        if self
            .conns
            .get(key)
            .is_some_and(|c| c.io.state == ConnState::Open)
        {
            self.established(key);
        }
        key
    }

    /// The connection became usable: arm its idle timer, tell its role.
    fn established(&mut self, key: ConnKey) {
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        conn.io.last_rx = self.now;
        if let Some(idle) = self.vhosts[conn.io.vhost as usize].policy.idle_timeout {
            conn.io.idle = Some(self.sched.insert(self.now + idle, TimerEntry::Idle(key)));
        }
        self.dispatch(key, |role, cx, p| role.on_open(cx, p));
    }

    pub(super) fn accept_ready(&mut self, key: ConnKey) {
        let Some(conn) = self.conns.get(key) else {
            return;
        };
        let vhost = conn.io.vhost;
        let budget = self.vhosts[vhost as usize].policy.accept_budget;
        for _ in 0..budget {
            let Some(conn) = self.conns.get(key) else {
                return;
            };
            match conn.io.socket.accept() {
                Ok(sock) => {
                    self.open_conn(sock, vhost, 0, Origin::Accepted, ConnState::Open);
                    self.process_ops();
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if is_transient_accept_error(&e) => continue,
                Err(e) => {
                    // Out of descriptors or memory: a level-triggered loop
                    // would spin on the pending connection, so pause.
                    log::warn!(
                        "accept on {:?}: {e}; pausing {ACCEPT_BACKOFF:?}",
                        conn.io.socket
                    );
                    if let Some(c) = self.conns.get_mut(key) {
                        c.io.rx_paused = true;
                    }
                    let at = self.now + ACCEPT_BACKOFF;
                    self.sched.insert(at, TimerEntry::ResumeListener(key));
                    self.reconcile(key);
                    return;
                }
            }
        }
        if self.edge_triggered {
            self.forced.push(key);
        }
    }

    pub(super) fn finish_connect(&mut self, key: ConnKey) {
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        let err = match conn.io.socket.take_error() {
            Ok(e) => e,
            Err(e) => Some(e),
        };
        if let Some(e) = err {
            return self.connect_failed(key, e);
        }
        if let Some(t) = conn.io.timeout.take() {
            self.sched.cancel(t);
        }
        conn.io.state = ConnState::Open;
        self.reconcile(key);
        self.established(key);
    }

    /// Tell the role its connect failed, then free the slot (no close event).
    pub(super) fn connect_failed(&mut self, key: ConnKey, err: io::Error) {
        log::debug!("{:?}: connect failed: {err}", Self::token_of(key));
        self.call(key, |role, cx, p| role.on_connect_error(cx, p, &err));
        self.finalize(key, crate::role::CloseReason::Io(err.kind()));
    }
}

fn is_transient_accept_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::Interrupted
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}
