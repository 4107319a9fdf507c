//! Lending a connection to its role, and applying what comes back.
//!
//! `call` builds the [`ConnCx`] from disjoint parts of the context (the
//! connection, its vhost's protocol, the op queue and the scheduler), so a
//! role can write to its own socket while its protocol object is borrowed.
//! `settle` then applies the [`Disposition`] and any close request, and
//! re-syncs the connection's watcher interest. Queued [`Op`]s are applied by
//! `process_ops` once the outermost entry point is done with its event.

use super::Context;
use crate::conn::{Conn, ConnState};
use crate::cx::{ConnCx, Cx, Op};
use crate::io_cmd::IoCmd;
use crate::protocol::{ContextEvent, Origin, Protocol};
use crate::role::{CloseReason, Disposition, Role};
use crate::token::ConnKey;
use crate::vhost::{HostTable, Vhost};

/// Run `f` with the role, a `ConnCx` and the protocol of `conn`.
pub(super) fn lend<R>(
    conn: &mut Conn,
    key: ConnKey,
    vhosts: &mut [Vhost],
    mut cx: Cx<'_>,
    hosts: &HostTable,
    f: impl FnOnce(&mut dyn Role, &mut ConnCx<'_>, &mut dyn Protocol) -> R,
) -> R {
    let Conn { role, io } = conn;
    cx.origin = Some((io.vhost, io.protocol));
    let proto = &mut *vhosts[io.vhost as usize].protocols[io.protocol as usize].handler;
    let mut cx = ConnCx {
        cx,
        io,
        token: key.into(),
        hosts,
    };
    f(&mut **role, &mut cx, proto)
}

impl Context {
    /// Lend connection `key` to its role; `None` if it no longer exists.
    pub(super) fn call<R>(
        &mut self,
        key: ConnKey,
        f: impl FnOnce(&mut dyn Role, &mut ConnCx<'_>, &mut dyn Protocol) -> R,
    ) -> Option<R> {
        let Context {
            conns,
            vhosts,
            sched,
            ops,
            now,
            hosts,
            ..
        } = self;
        let conn = conns.get_mut(key)?;
        let cx = Cx {
            ops,
            sched,
            now: *now,
            origin: None,
        };
        Some(lend(conn, key, vhosts, cx, hosts, f))
    }

    /// `call`, then apply the returned disposition.
    pub(super) fn dispatch(
        &mut self,
        key: ConnKey,
        f: impl FnOnce(&mut dyn Role, &mut ConnCx<'_>, &mut dyn Protocol) -> Disposition,
    ) {
        if let Some(d) = self.call(key, f) {
            self.settle(key, d);
        }
    }

    /// Apply a disposition and any close request, then re-sync interest.
    pub(super) fn settle(&mut self, key: ConnKey, d: Disposition) {
        match d {
            Disposition::Continue => {}
            Disposition::Close(reason) => {
                if let Some(c) = self.conns.get_mut(key) {
                    c.io.close_req.get_or_insert(reason);
                }
            }
            Disposition::Transition(role) => return self.swap_role(key, role, None),
            Disposition::Rebind { protocol, carry } => return self.rebind(key, &protocol, carry),
            Disposition::MoveVhost { vhost, replay } => {
                return self.move_vhost(key, &vhost, replay);
            }
        }
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        match conn.io.close_req.take() {
            Some(reason) => self.close_conn(key, reason),
            None => self.reconcile(key),
        }
    }

    fn swap_role(&mut self, key: ConnKey, role: Box<dyn Role>, protocol: Option<u16>) {
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        log::trace!(
            "{:?}: role {} -> {}",
            Self::token_of(key),
            conn.role.name(),
            role.name()
        );
        conn.role = role;
        if let Some(p) = protocol {
            conn.io.protocol = p;
        }
        if let Some(reason) = conn.io.close_req.take() {
            return self.close_conn(key, reason);
        }
        self.dispatch(key, |role, cx, p| role.on_open(cx, p));
    }

    fn rebind(&mut self, key: ConnKey, name: &str, carry: Box<dyn std::any::Any>) {
        let Some(conn) = self.conns.get(key) else {
            return;
        };
        let vhost = &mut self.vhosts[conn.io.vhost as usize];
        match vhost.protocol_index(name) {
            Ok(p) => {
                let role = vhost.protocols[p as usize]
                    .handler
                    .new_role(Origin::Rebound(carry));
                self.swap_role(key, role, Some(p));
            }
            Err(e) => {
                log::warn!("{:?}: {e}", Self::token_of(key));
                self.close_conn(key, CloseReason::Protocol(e.to_string()));
            }
        }
    }

    /// Move `key` to the vhost named `name`, replaying `replay` to its new
    /// role.
    fn move_vhost(&mut self, key: ConnKey, name: &str, replay: Vec<u8>) {
        let Some(v) = self.vhosts.iter().position(|v| v.name == name) else {
            return self.close_conn(key, CloseReason::Protocol(format!("no vhost {name:?}")));
        };
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        let vhost = &mut self.vhosts[v];
        conn.role = vhost.protocols[0].handler.new_role(Origin::Accepted);
        conn.io.vhost = v as u16;
        conn.io.protocol = 0;
        conn.io.out_limit = vhost.policy.output_limit;
        log::debug!("{:?}: moved to vhost {name}", Self::token_of(key));
        self.dispatch(key, |role, cx, p| role.on_open(cx, p));
        if !replay.is_empty() {
            self.dispatch(key, |role, cx, p| role.on_rx(cx, p, &replay));
        }
    }

    /// Make the loop watch what the connection needs now.
    pub(super) fn reconcile(&mut self, key: ConnKey) {
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        let io = &mut conn.io;
        if matches!(io.state, ConnState::Dialing) {
            return; // no descriptor yet
        }
        if io.tls_pending && !io.rx_paused {
            io.tls_pending = false; // tls_deliver_plain sets it again if needed
            self.forced.push(key);
        }
        if io.want_writable && io.maybe_writable && io.out.is_empty() && !io.queued_writable {
            io.queued_writable = true;
            self.writable_now.push(key);
        }
        let want = conn.io.desired_interest();
        let (fd, token) = (conn.io.socket.fd(), Self::token_of(key));
        match conn.io.registered {
            None => self.io_cmds.push_back(IoCmd::Watch {
                fd,
                token,
                interest: want,
            }),
            Some(cur) if cur != want => self.io_cmds.push_back(IoCmd::Modify {
                fd,
                token,
                interest: want,
            }),
            Some(_) => return,
        }
        conn.io.registered = Some(want);
    }

    /// Deliver a context event to every protocol of every vhost.
    pub(super) fn broadcast(&mut self, ev: &ContextEvent) {
        let Context {
            vhosts,
            ops,
            sched,
            now,
            ..
        } = self;
        for (vi, v) in vhosts.iter_mut().enumerate() {
            for (pi, p) in v.protocols.iter_mut().enumerate() {
                let origin = Some((vi as u16, pi as u16));
                let mut cx = Cx {
                    ops: &mut *ops,
                    sched: &mut *sched,
                    now: *now,
                    origin,
                };
                p.handler.on_context_event(&mut cx, ev);
            }
        }
        self.process_ops();
    }

    /// Deliver a context event to one protocol.
    pub(super) fn notify_protocol(&mut self, vhost: u16, protocol: u16, ev: &ContextEvent) {
        let Context {
            vhosts,
            ops,
            sched,
            now,
            ..
        } = self;
        let Some(slot) = vhosts
            .get_mut(vhost as usize)
            .and_then(|v| v.protocols.get_mut(protocol as usize))
        else {
            return;
        };
        let mut cx = Cx {
            ops,
            sched,
            now: *now,
            origin: Some((vhost, protocol)),
        };
        slot.handler.on_context_event(&mut cx, ev);
    }

    /// Apply everything callbacks queued, until nothing more is queued.
    pub(super) fn process_ops(&mut self) {
        while !self.ops.is_empty() {
            let ops = std::mem::take(&mut self.ops);
            for op in ops {
                self.apply_op(op);
            }
        }
    }

    fn apply_op(&mut self, op: Op) {
        match op {
            Op::RequestWritable(t) => self.request_writable(t.key()),
            Op::Close(t, reason) => self.close_conn(t.key(), reason),
            Op::WritableAll { vhost, protocol } => {
                let keys: Vec<ConnKey> = self
                    .conns
                    .iter()
                    .filter(|(_, c)| c.io.vhost == vhost && c.io.protocol == protocol)
                    .map(|(k, _)| k)
                    .collect();
                for k in keys {
                    self.request_writable(k);
                }
            }
            Op::Connect { connect, origin } => {
                if let Err(e) = self.connect_from(connect, origin) {
                    log::warn!("connect: {e}");
                }
            }
            Op::Adopt(a) => {
                if let Err(e) = self.adopt(a) {
                    log::warn!("adopt: {e}");
                }
            }
            Op::Lookup {
                name,
                id,
                vhost,
                protocol,
            } => self.lookup_for(vhost, protocol, id, name),
            Op::Stop => self.stop(),
        }
    }

    fn request_writable(&mut self, key: ConnKey) {
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        if matches!(
            conn.io.state,
            ConnState::Open | ConnState::ClosingViaProtocol(_)
        ) {
            conn.io.want_writable = true;
            self.reconcile(key);
        }
    }
}
