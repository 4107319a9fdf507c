//! How connections come to exist: accepted, adopted, or opened as clients,
//! with a TLS handshake first where the listener or the connect asks for it.

use std::io;
use std::time::Duration;

use super::{Context, RunState};
use crate::conn::{Conn, ConnIo, ConnState};
use crate::cx::TimerEntry;
use crate::error::{Error, Result};
use crate::protocol::Origin;
use crate::socket::{self, Adopt, Connect, Dest, Socket};
use crate::tls::TlsSession;
use crate::token::{ConnKey, Token};

/// How long a listener that ran out of descriptors stays paused.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Where a new connection is bound and how it starts.
pub(super) struct NewConn {
    pub vhost: u16,
    pub protocol: u16,
    pub origin: Origin,
    pub state: ConnState,
    pub tls: Option<Box<dyn TlsSession>>,
    /// The listener group, for accepted connections.
    pub group: Option<u16>,
}

impl Context {
    /// Adopt a descriptor the application opened or accepted itself. The
    /// connection's role receives its open event, then any read buffer given
    /// with [`Adopt::read_buffer`], before anything read from the descriptor.
    pub fn adopt(&mut self, adopt: Adopt) -> Result<Token> {
        if self.run != RunState::Running {
            return Err(Error::Stopping);
        }
        self.now = self.clock_now();
        let vhost = self.vhost_index(adopt.vhost.as_deref())?;
        let protocol = self.protocol_index(vhost, adopt.protocol.as_deref())?;
        adopt.prepare().map_err(Error::Adopt)?;
        let new = NewConn {
            vhost,
            protocol,
            origin: Origin::Adopted,
            state: ConnState::Open,
            tls: None,
            group: None,
        };
        let key = self.open_conn(adopt.socket, new);
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
    /// to connect (refused, timed out, TLS) is delivered to its role as a
    /// connect error.
    pub fn connect(&mut self, connect: Connect) -> Result<Token> {
        self.now = self.clock_now();
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
        let payload = c.payload;
        let tls = match &c.tls {
            Some(name) => Some(self.connector()?.connect(name)?),
            None => None,
        };
        let endpoint = match c.dest {
            Dest::Endpoint(ep) => ep,
            Dest::Host(name, port) => {
                let new = NewConn {
                    vhost,
                    protocol,
                    origin: Origin::Client(payload),
                    state: ConnState::Dialing,
                    tls,
                    group: None,
                };
                let key = self.open_conn(Socket::Pending, new);
                self.dial_host(key, &name, port, c.timeout, c.attempt_delay);
                return Ok(Self::token_of(key));
            }
        };
        let (sock, result) = socket::start_connect(&endpoint)?;
        let state = match (&result, tls.is_some()) {
            (Ok(true), true) => ConnState::TlsHandshake,
            (Ok(true), false) => ConnState::Open,
            _ => ConnState::Connecting,
        };
        let key = self.open_conn(
            sock,
            NewConn {
                vhost,
                protocol,
                origin: Origin::Client(payload),
                state,
                tls,
                group: None,
            },
        );
        if let Err(e) = result {
            self.attempt_failed(key, e);
        } else if let Some(conn) = self.conns.get_mut(key)
            && conn.io.state == ConnState::Connecting
        {
            let deadline = self.now + c.timeout;
            conn.io.timeout = Some(self.sched.insert(deadline, TimerEntry::Timeout(key)));
        }
        Ok(Self::token_of(key))
    }

    /// The client TLS connector, built on first use.
    fn connector(&mut self) -> Result<&dyn crate::tls::TlsConnector> {
        if self.connector.is_none() {
            let backend = self
                .tls_backend
                .as_ref()
                .ok_or_else(|| Error::NoTlsBackend("client".into()))?;
            self.connector = Some(backend.connector(&self.tls_client)?);
        }
        match &self.connector {
            Some(c) => Ok(&**c),
            None => Err(Error::NoTlsBackend("client".into())),
        }
    }

    /// Create the slot, the role and the watcher. An `Open` connection gets
    /// its idle timer and open event; a TLS one starts its handshake.
    pub(super) fn open_conn(&mut self, socket: Socket, new: NewConn) -> ConnKey {
        let client = matches!(new.origin, Origin::Client(_));
        let v = &mut self.vhosts[new.vhost as usize];
        let role = v.protocols[new.protocol as usize]
            .handler
            .new_role(new.origin);
        let handshake_timeout = v.policy.tls_handshake_timeout;
        let mut io = ConnIo::new(socket, new.vhost, new.protocol, new.state, self.now);
        io.out_limit = v.policy.output_limit;
        io.tls = new.tls;
        io.client = client;
        io.group = new.group;
        let key = self.conns.insert(Conn { role, io });
        self.stats.opened += 1;
        self.stats.connections += 1;
        match self.conns.get(key).map(|c| c.io.state.clone()) {
            Some(ConnState::Open) => {
                self.reconcile(key);
                self.established(key);
            }
            Some(ConnState::TlsHandshake) => self.start_handshake(key, handshake_timeout),
            _ => self.reconcile(key),
        }
        key
    }

    /// Arm the handshake timeout and send what the session has (a client's
    /// ClientHello).
    fn start_handshake(&mut self, key: ConnKey, timeout: Duration) {
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        conn.io.state = ConnState::TlsHandshake;
        if let Some(t) = conn.io.timeout.take() {
            self.sched.cancel(t);
        }
        conn.io.timeout = Some(
            self.sched
                .insert(self.now + timeout, TimerEntry::Timeout(key)),
        );
        if conn.io.pump_tls().is_err() || conn.io.flush().is_err() {
            let e = io::Error::new(io::ErrorKind::BrokenPipe, "TLS handshake send failed");
            return self.tls_failed(key, e.to_string());
        }
        self.reconcile(key);
    }

    /// The connection became usable: arm its idle timer, tell its role.
    pub(super) fn established(&mut self, key: ConnKey) {
        // The service's cached `now` may predate this connection (one
        // wake-up can accept a whole backlog): idle time counts from here.
        self.now = self.clock_now();
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
        let Some(l) = self.listener(key) else { return };
        let (vhost, group) = (l.vhosts[0], l.group);
        let budget = self.vhosts[vhost as usize].policy.accept_budget;
        for _ in 0..budget {
            let Some(conn) = self.conns.get(key) else {
                return;
            };
            match conn.io.socket.accept() {
                Ok(sock) => {
                    let tls = self
                        .listener(key)
                        .and_then(|l| l.acceptor.as_ref())
                        .map(|a| a.accept());
                    let state = if tls.is_some() {
                        ConnState::TlsHandshake
                    } else {
                        ConnState::Open
                    };
                    let new = NewConn {
                        vhost,
                        protocol: 0,
                        origin: Origin::Accepted,
                        state,
                        tls,
                        group: Some(group),
                    };
                    self.open_conn(sock, new);
                    self.process_ops();
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if is_transient_accept_error(&e) => continue,
                Err(e) => return self.pause_listener(key, e),
            }
        }
        if self.edge_triggered {
            self.forced.push(key);
        }
    }

    /// Out of descriptors or memory: a level-triggered loop would spin on
    /// the pending connection, so stop accepting for a moment.
    fn pause_listener(&mut self, key: ConnKey, e: io::Error) {
        log::warn!("accept: {e}; pausing the listener for {ACCEPT_BACKOFF:?}");
        if let Some(c) = self.conns.get_mut(key) {
            c.io.rx_paused = true;
        }
        self.sched
            .insert(self.now + ACCEPT_BACKOFF, TimerEntry::ResumeListener(key));
        self.reconcile(key);
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
            return self.attempt_failed(key, e);
        }
        if let Some(t) = conn.io.timeout.take() {
            self.sched.cancel(t);
        }
        if conn.io.tls.is_some() {
            let timeout = self.vhosts[conn.io.vhost as usize]
                .policy
                .tls_handshake_timeout;
            return self.start_handshake(key, timeout);
        }
        conn.io.state = ConnState::Open;
        self.reconcile(key);
        self.established(key);
    }

    /// The connect in the connection's own slot failed (an address
    /// literal, or the last address of a name): report it.
    pub(super) fn attempt_failed(&mut self, key: ConnKey, err: io::Error) {
        self.connect_failed(key, err);
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
