//! The TLS read path: ciphertext from the socket into the session,
//! handshake completion (binding the vhost the SNI name selected), and
//! plaintext from the session to the role, honouring paused reads.

use std::io;

use super::Context;
use crate::conn::{ConnState, SocketReader};
use crate::protocol::Origin;
use crate::role::CloseReason;
use crate::token::ConnKey;

/// Ciphertext reads per event for edge-triggered loops.
const EDGE_TLS_BUDGET: usize = 16;

enum TlsRead {
    Data,
    Eof,
    WouldBlock,
}

impl Context {
    pub(super) fn tls_read_ready(&mut self, key: ConnKey) {
        let budget = if self.edge_triggered {
            EDGE_TLS_BUDGET
        } else {
            1
        };
        for _ in 0..budget {
            match self.tls_read_once(key) {
                Some(TlsRead::Data) => {}
                Some(TlsRead::Eof) => {
                    self.tls_deliver_plain(key);
                    return self.close_conn(key, CloseReason::PeerClosed);
                }
                Some(TlsRead::WouldBlock) | None => return,
            }
            self.tls_after_input(key);
        }
        if self.edge_triggered && self.conns.contains_key(key) {
            self.forced.push(key);
        }
    }

    /// One ciphertext read and processing step; `None` once the connection
    /// is gone.
    fn tls_read_once(&mut self, key: ConnKey) -> Option<TlsRead> {
        let conn = self.conns.get_mut(key)?;
        if conn.io.rx_paused && !matches!(conn.io.state, ConnState::Draining(_)) {
            // The role paused: leave ciphertext in the socket so TCP pushes
            // back, instead of filling the session's plaintext buffer.
            // Resuming forces a service (see `reconcile`).
            conn.io.tls_pending = true;
            return None;
        }
        let tls = conn.io.tls.as_mut()?;
        let r = loop {
            match tls.read_tls(&mut SocketReader(&mut conn.io.socket)) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                r => break r,
            }
        };
        let eof = match r {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Some(TlsRead::WouldBlock),
            Err(e) => {
                self.close_conn(key, CloseReason::Io(e.kind()));
                return None;
            }
        };
        if let Err(e) = tls.process() {
            // Send the alert if the socket takes it, then give up.
            let _ = conn.io.pump_tls();
            let _ = conn.io.flush();
            self.tls_failed(key, e.to_string());
            return None;
        }
        conn.io.last_rx = self.now;
        Some(if eof { TlsRead::Eof } else { TlsRead::Data })
    }

    /// Send what processing produced, finish a handshake, deliver plaintext.
    fn tls_after_input(&mut self, key: ConnKey) {
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        if conn.io.pump_tls().is_err() || conn.io.flush().is_err() {
            return self.close_conn(key, CloseReason::Io(io::ErrorKind::BrokenPipe));
        }
        let done = conn.io.state == ConnState::TlsHandshake
            && conn.io.tls.as_ref().is_some_and(|t| !t.is_handshaking());
        if done {
            self.tls_handshake_done(key);
        }
        self.tls_deliver_plain(key);
        let Some(conn) = self.conns.get(key) else {
            return;
        };
        if conn.io.tls.as_ref().is_some_and(|t| t.peer_closed()) && !conn.io.tls_pending {
            self.close_conn(key, CloseReason::PeerClosed);
        } else {
            self.reconcile(key);
        }
    }

    /// Hand decrypted input to the role until none is left or it pauses.
    pub(super) fn tls_deliver_plain(&mut self, key: ConnKey) {
        let mut buf = std::mem::take(&mut self.rx_buf);
        while let Some(conn) = self.conns.get_mut(key) {
            let open = matches!(
                conn.io.state,
                ConnState::Open | ConnState::ClosingViaProtocol(_)
            );
            let draining = matches!(conn.io.state, ConnState::Draining(_));
            if !open && !draining {
                break;
            }
            if conn.io.rx_paused && !draining {
                conn.io.tls_pending = true;
                break;
            }
            let n = match conn.io.tls.as_mut().map(|t| t.read_plain(&mut buf)) {
                Some(Ok(n)) if n > 0 => n,
                _ => {
                    conn.io.tls_pending = false;
                    break;
                }
            };
            if draining {
                continue; // closing: input is dropped
            }
            let data = &buf[..n];
            self.dispatch(key, |role, cx, p| role.on_rx(cx, p, data));
        }
        self.rx_buf = buf;
    }

    /// The handshake completed: bind the vhost SNI selected, open the role.
    fn tls_handshake_done(&mut self, key: ConnKey) {
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        if let Some(t) = conn.io.timeout.take() {
            self.sched.cancel(t);
        }
        let sni_vhost = conn.io.tls.as_ref().and_then(|t| t.vhost());
        let target = sni_vhost.and_then(|n| self.vhosts.iter().position(|v| v.name == n));
        conn.io.state = ConnState::Open;
        if !conn.io.client
            && let Some(v) = target.map(|v| v as u16)
            && v != conn.io.vhost
        {
            let role = self.vhosts[v as usize].protocols[0]
                .handler
                .new_role(Origin::Accepted);
            conn.role = role;
            conn.io.vhost = v;
            conn.io.protocol = 0;
            conn.io.out_limit = self.vhosts[v as usize].policy.output_limit;
        }
        self.reconcile(key);
        self.established(key);
    }

    /// A TLS failure: a client hears it as a connect error (before open) or
    /// a close; a server connection just closes.
    pub(super) fn tls_failed(&mut self, key: ConnKey, why: String) {
        let Some(conn) = self.conns.get(key) else {
            return;
        };
        log::debug!("{:?}: TLS failed: {why}", Self::token_of(key));
        if conn.io.client && conn.io.state == ConnState::TlsHandshake {
            let e = io::Error::new(io::ErrorKind::InvalidData, format!("TLS: {why}"));
            return self.connect_failed(key, e);
        }
        self.close_conn(key, CloseReason::Tls(why));
    }
}
