//! The client state machine for one connection: CONNECT/CONNACK,
//! keep-alive, subscriptions, and the QoS 1 and 2 exchanges (4.3), plus
//! the protocol wrapper around the user's handler.

use std::collections::{HashMap, HashSet};
use std::marker::PhantomData;

use lws_core::{
    CloseReason, ConnCx, ContextEvent, Cx, Disposition, Origin, Protocol, Role, downcast_protocol,
};

use crate::client::MqttOptions;
use crate::event::{MqttError, MqttEvent};
use crate::proto::{self, Connect, ConnectReturn, Decoder, Packet, Publish, QoS};

/// The keep-alive timer's id; user timers (any other id) are passed on
/// as [`MqttEvent::Timer`].
const PING_TIMER: u64 = u64::MAX - 1;

/// User code for MQTT client connections. `Session` is per connection;
/// `&mut self` is shared by every connection of the protocol.
pub trait MqttHandler: 'static {
    type Session: Default + 'static;

    fn on_event(
        &mut self,
        cx: &mut MqttCx<'_, '_>,
        session: &mut Self::Session,
        event: MqttEvent<'_>,
    );

    /// Context-wide events (waker, protocol timers, stopping).
    fn on_context_event(&mut self, _cx: &mut Cx<'_>, _event: &ContextEvent) {}
}

/// Registers an [`MqttHandler`] as a protocol on a vhost.
///
/// It also keeps the session state of connections made with
/// `clean_session(false)` across reconnects, by client identifier: QoS 1/2
/// publishes not yet acknowledged and QoS 2 messages received but not yet
/// released. When the broker reports the session present, the next
/// connection resends them (PUBLISH with DUP, or PUBREL) in their original
/// order (MQTT 3.1.1 §4.4); when it does not, they are discarded.
#[derive(Debug)]
pub struct MqttProtocol<H> {
    handler: H,
    sessions: HashMap<String, Stored>,
}

/// The part of a connection's state a persistent session keeps between
/// connections.
#[derive(Debug, Default)]
struct Stored {
    next_id: u16,
    /// Send order of the next publish, for resending in order.
    next_seq: u64,
    outgoing: HashMap<u16, Pending>,
    /// QoS 2 messages received and delivered, awaiting PUBREL (4.3.3).
    incoming: HashSet<u16>,
}

impl<H: MqttHandler> MqttProtocol<H> {
    pub fn new(handler: H) -> Self {
        MqttProtocol {
            handler,
            sessions: HashMap::new(),
        }
    }

    /// Unacknowledged QoS 1/2 publishes kept for a persistent session
    /// that is not connected now.
    pub fn stored_in_flight(&self, client_id: &str) -> usize {
        self.sessions.get(client_id).map_or(0, |s| s.outgoing.len())
    }

    pub fn handler(&self) -> &H {
        &self.handler
    }

    pub fn handler_mut(&mut self) -> &mut H {
        &mut self.handler
    }
}

impl<H: MqttHandler> Protocol for MqttProtocol<H> {
    fn new_role(&mut self, origin: Origin) -> Box<dyn Role> {
        let opts = match origin {
            Origin::Client(Some(p)) => p.downcast::<MqttOptions>().map(|b| *b).ok(),
            _ => None,
        };
        let mut st = State::new(opts);
        let persistent = st.opts.as_ref().filter(|o| !o.clean_session);
        if let Some(stored) = persistent.and_then(|o| self.sessions.remove(&o.client_id)) {
            st.kept = stored;
        }
        Box::new(MqttRole::<H> {
            session: H::Session::default(),
            st,
            _h: PhantomData,
        })
    }

    fn on_context_event(&mut self, cx: &mut Cx<'_>, event: &ContextEvent) {
        self.handler.on_context_event(cx, event);
    }
}

/// An outgoing QoS 1/2 publish waiting for its acknowledgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// Named after the acknowledgement awaited.
enum Outgoing {
    Puback,
    Pubrec,
    Pubcomp,
}

/// A QoS 1/2 publish sent and not yet completed.
#[derive(Debug, Clone)]
struct Pending {
    awaiting: Outgoing,
    /// Send order, for resending in the original order.
    seq: u64,
    publish: Publish,
}

/// Session state of one connection.
#[derive(Debug)]
pub struct State {
    opts: Option<MqttOptions>,
    dec: Decoder,
    connected: bool,
    kept: Stored,
    subs: HashSet<u16>,
    unsubs: HashSet<u16>,
    ping_outstanding: bool,
    disconnecting: bool,
}

impl State {
    fn new(opts: Option<MqttOptions>) -> Self {
        let max = opts.as_ref().map_or(1 << 20, |o| o.max_packet);
        State {
            opts,
            dec: Decoder::new(max),
            connected: false,
            kept: Stored::default(),
            subs: HashSet::new(),
            unsubs: HashSet::new(),
            ping_outstanding: false,
            disconnecting: false,
        }
    }

    /// A packet identifier not in use by any exchange (2.3.1).
    fn alloc_id(&mut self) -> u16 {
        loop {
            self.kept.next_id = self.kept.next_id.wrapping_add(1).max(1);
            let id = self.kept.next_id;
            if !self.kept.outgoing.contains_key(&id)
                && !self.subs.contains(&id)
                && !self.unsubs.contains(&id)
            {
                return id;
            }
        }
    }
}

fn send(conn: &mut ConnCx<'_>, p: &Packet) -> Result<(), MqttError> {
    let mut buf = Vec::new();
    proto::encode(p, &mut buf)?;
    conn.write(&buf)?;
    Ok(())
}

/// What a handler can do on its connection.
pub struct MqttCx<'c, 'a> {
    conn: &'c mut ConnCx<'a>,
    st: &'c mut State,
}

impl std::fmt::Debug for MqttCx<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MqttCx")
            .field("token", &self.conn.token())
            .finish()
    }
}

impl<'a> MqttCx<'_, 'a> {
    /// The underlying connection (token, timers, close, context).
    pub fn conn(&mut self) -> &mut ConnCx<'a> {
        self.conn
    }

    pub fn is_connected(&self) -> bool {
        self.st.connected
    }

    /// Publish; returns the packet identifier for QoS 1/2 (its completion
    /// is reported as [`MqttEvent::Published`]).
    pub fn publish(
        &mut self,
        topic: &str,
        payload: &[u8],
        qos: QoS,
        retain: bool,
    ) -> Result<Option<u16>, MqttError> {
        if !self.st.connected {
            return Err(MqttError::NotConnected);
        }
        let limit = self
            .st
            .opts
            .as_ref()
            .map_or(usize::MAX, |o| o.max_in_flight);
        if qos != QoS::AtMostOnce && self.st.kept.outgoing.len() >= limit {
            return Err(MqttError::TooManyInFlight(limit));
        }
        let packet_id = (qos != QoS::AtMostOnce).then(|| self.st.alloc_id());
        let publish = Publish {
            dup: false,
            qos,
            retain,
            topic: topic.to_owned(),
            packet_id,
            payload: payload.to_vec(),
        };
        send(self.conn, &Packet::Publish(publish.clone()))?;
        if let Some(id) = packet_id {
            let awaiting = match qos {
                QoS::AtLeastOnce => Outgoing::Puback,
                _ => Outgoing::Pubrec,
            };
            let seq = self.st.kept.next_seq;
            self.st.kept.next_seq += 1;
            self.st.kept.outgoing.insert(
                id,
                Pending {
                    awaiting,
                    seq,
                    publish,
                },
            );
        }
        Ok(packet_id)
    }

    /// Subscribe to topic filters; SUBACK arrives as [`MqttEvent::Subscribed`].
    pub fn subscribe(&mut self, filters: &[(&str, QoS)]) -> Result<u16, MqttError> {
        if !self.st.connected {
            return Err(MqttError::NotConnected);
        }
        let packet_id = self.st.alloc_id();
        let filters = filters.iter().map(|(f, q)| ((*f).to_owned(), *q)).collect();
        send(self.conn, &Packet::Subscribe { packet_id, filters })?;
        self.st.subs.insert(packet_id);
        Ok(packet_id)
    }

    /// Unsubscribe; UNSUBACK arrives as [`MqttEvent::Unsubscribed`].
    pub fn unsubscribe(&mut self, filters: &[&str]) -> Result<u16, MqttError> {
        if !self.st.connected {
            return Err(MqttError::NotConnected);
        }
        let packet_id = self.st.alloc_id();
        let filters = filters.iter().map(|f| (*f).to_owned()).collect();
        send(self.conn, &Packet::Unsubscribe { packet_id, filters })?;
        self.st.unsubs.insert(packet_id);
        Ok(packet_id)
    }

    /// Send DISCONNECT (the will is then discarded by the broker) and close
    /// once it is flushed.
    pub fn disconnect(&mut self) {
        if self.st.connected && !self.st.disconnecting {
            let _ = send(self.conn, &Packet::Disconnect);
        }
        self.st.disconnecting = true;
        self.conn.close(CloseReason::Normal);
    }

    /// QoS 1/2 publishes awaiting their acknowledgement.
    pub fn in_flight(&self) -> usize {
        self.st.kept.outgoing.len()
    }
}

struct MqttRole<H: MqttHandler> {
    session: H::Session,
    st: State,
    _h: PhantomData<fn() -> H>,
}

fn violation(why: impl Into<String>) -> Disposition {
    Disposition::Close(CloseReason::Protocol(why.into()))
}

impl<H: MqttHandler> MqttRole<H> {
    /// After CONNACK: with the broker holding our session, resend what
    /// it has not acknowledged, in the original order; without it, the
    /// stored state is void (the broker no longer knows those ids).
    fn resume(&mut self, conn: &mut ConnCx<'_>, session_present: bool) -> Result<(), MqttError> {
        let persistent = self.st.opts.as_ref().is_some_and(|o| !o.clean_session);
        if !(persistent && session_present) {
            if !self.st.kept.outgoing.is_empty() || !self.st.kept.incoming.is_empty() {
                log::info!(
                    "{:?}: broker has no session: {} unacknowledged publishes dropped",
                    conn.token(),
                    self.st.kept.outgoing.len()
                );
            }
            self.st.kept.outgoing.clear();
            self.st.kept.incoming.clear();
            return Ok(());
        }
        let mut order: Vec<&Pending> = self.st.kept.outgoing.values().collect();
        order.sort_by_key(|p| p.seq);
        for p in order {
            let packet = match (p.awaiting, p.publish.packet_id) {
                (Outgoing::Pubcomp, Some(id)) => Packet::Pubrel(id),
                _ => Packet::Publish(Publish {
                    dup: true,
                    ..p.publish.clone()
                }),
            };
            send(conn, &packet)?;
        }
        Ok(())
    }

    /// Keep a persistent session's state for the next connection.
    fn store(&mut self, proto: &mut dyn Protocol) {
        let Some(o) = self.st.opts.as_ref().filter(|o| !o.clean_session) else {
            return;
        };
        let Some(p) = downcast_protocol::<MqttProtocol<H>>(proto) else {
            return;
        };
        p.sessions
            .insert(o.client_id.clone(), std::mem::take(&mut self.st.kept));
    }

    fn emit(&mut self, conn: &mut ConnCx<'_>, proto: &mut dyn Protocol, ev: MqttEvent<'_>) {
        match downcast_protocol::<MqttProtocol<H>>(proto) {
            Some(p) => {
                let mut cx = MqttCx {
                    conn,
                    st: &mut self.st,
                };
                p.handler.on_event(&mut cx, &mut self.session, ev);
            }
            None => log::error!("mqtt role bound to a protocol of another type"),
        }
    }

    fn arm_ping(&mut self, conn: &mut ConnCx<'_>) {
        if let Some(o) = &self.st.opts
            && !o.keep_alive.is_zero()
        {
            conn.set_timer(o.keep_alive, PING_TIMER);
        }
    }

    fn handle(
        &mut self,
        conn: &mut ConnCx<'_>,
        proto: &mut dyn Protocol,
        p: Packet,
    ) -> Disposition {
        if !self.st.connected && !matches!(p, Packet::Connack { .. }) {
            return violation("first packet from the broker is not CONNACK (3.2.0-1)");
        }
        match p {
            Packet::Connack {
                session_present,
                code,
            } => {
                if self.st.connected {
                    return violation("second CONNACK");
                }
                conn.set_timeout(None);
                if code != ConnectReturn::Accepted {
                    self.emit(conn, proto, MqttEvent::Refused(code));
                    return Disposition::Close(CloseReason::Protocol(format!("CONNACK: {code}")));
                }
                self.st.connected = true;
                if let Err(e) = self.resume(conn, session_present) {
                    return violation(format!("resending the session: {e}"));
                }
                self.arm_ping(conn);
                self.emit(conn, proto, MqttEvent::Connected { session_present });
            }
            Packet::Publish(pb) => {
                match (pb.qos, pb.packet_id) {
                    (QoS::AtMostOnce, _) => {}
                    (QoS::AtLeastOnce, Some(id)) => {
                        if let Err(e) = send(conn, &Packet::Puback(id)) {
                            return violation(format!("PUBACK: {e}"));
                        }
                    }
                    (QoS::ExactlyOnce, Some(id)) => {
                        if let Err(e) = send(conn, &Packet::Pubrec(id)) {
                            return violation(format!("PUBREC: {e}"));
                        }
                        // Method B (4.3.3): deliver once, drop repeats
                        // until PUBREL releases the identifier.
                        if !self.st.kept.incoming.insert(id) {
                            return Disposition::Continue;
                        }
                    }
                    _ => return violation("QoS 1/2 PUBLISH without identifier"),
                }
                self.emit(
                    conn,
                    proto,
                    MqttEvent::Message {
                        topic: &pb.topic,
                        payload: &pb.payload,
                        qos: pb.qos,
                        retain: pb.retain,
                    },
                );
            }
            Packet::Pubrel(id) => {
                self.st.kept.incoming.remove(&id);
                if let Err(e) = send(conn, &Packet::Pubcomp(id)) {
                    return violation(format!("PUBCOMP: {e}"));
                }
            }
            Packet::Puback(id) => self.complete(conn, proto, id, Outgoing::Puback),
            Packet::Pubcomp(id) => self.complete(conn, proto, id, Outgoing::Pubcomp),
            Packet::Pubrec(id) => {
                if let Some(p) = self.st.kept.outgoing.get_mut(&id)
                    && p.awaiting == Outgoing::Pubrec
                {
                    p.awaiting = Outgoing::Pubcomp;
                }
                // PUBREL also answers a repeated PUBREC (4.3.3).
                if let Err(e) = send(conn, &Packet::Pubrel(id)) {
                    return violation(format!("PUBREL: {e}"));
                }
            }
            Packet::Suback { packet_id, codes } => {
                if self.st.subs.remove(&packet_id) {
                    self.emit(
                        conn,
                        proto,
                        MqttEvent::Subscribed {
                            packet_id,
                            granted: &codes,
                        },
                    );
                } else {
                    log::debug!("{:?}: SUBACK for unknown id {packet_id}", conn.token());
                }
            }
            Packet::Unsuback(packet_id) => {
                if self.st.unsubs.remove(&packet_id) {
                    self.emit(conn, proto, MqttEvent::Unsubscribed { packet_id });
                }
            }
            Packet::Pingresp => self.st.ping_outstanding = false,
            Packet::Connect(_)
            | Packet::Subscribe { .. }
            | Packet::Unsubscribe { .. }
            | Packet::Pingreq
            | Packet::Disconnect => return violation("a client-to-server packet from the broker"),
        }
        Disposition::Continue
    }

    fn complete(
        &mut self,
        conn: &mut ConnCx<'_>,
        proto: &mut dyn Protocol,
        id: u16,
        want: Outgoing,
    ) {
        if self.st.kept.outgoing.get(&id).map(|p| p.awaiting) == Some(want) {
            self.st.kept.outgoing.remove(&id);
            self.emit(conn, proto, MqttEvent::Published { packet_id: id });
        } else {
            log::debug!("{:?}: acknowledgement for unknown id {id}", conn.token());
        }
    }
}

impl<H: MqttHandler> Role for MqttRole<H> {
    fn name(&self) -> &'static str {
        "mqtt"
    }

    fn on_open(&mut self, conn: &mut ConnCx<'_>, _proto: &mut dyn Protocol) -> Disposition {
        let Some(o) = &self.st.opts else {
            return violation(
                "MQTT is client-only here: connect with lws_role_mqtt::client::connect",
            );
        };
        let keep_alive = u16::try_from(o.keep_alive.as_secs()).unwrap_or(u16::MAX);
        let connect = Packet::Connect(Connect {
            client_id: o.client_id.clone(),
            keep_alive,
            clean_session: o.clean_session,
            will: o.will.clone(),
            username: o.username.clone(),
            password: o.password.clone(),
        });
        conn.set_timeout(Some(o.connack_timeout));
        match send(conn, &connect) {
            Ok(()) => Disposition::Continue,
            Err(e) => violation(format!("CONNECT: {e}")),
        }
    }

    fn on_rx(
        &mut self,
        conn: &mut ConnCx<'_>,
        proto: &mut dyn Protocol,
        data: &[u8],
    ) -> Disposition {
        self.st.dec.feed(data);
        loop {
            match self.st.dec.next_packet() {
                Ok(Some(p)) => match self.handle(conn, proto, p) {
                    Disposition::Continue => {}
                    other => return other,
                },
                Ok(None) => return Disposition::Continue,
                Err(e) => return violation(e.to_string()),
            }
            if conn.is_closing() {
                return Disposition::Continue;
            }
        }
    }

    fn on_timer(
        &mut self,
        conn: &mut ConnCx<'_>,
        proto: &mut dyn Protocol,
        id: u64,
    ) -> Disposition {
        if id != PING_TIMER {
            self.emit(conn, proto, MqttEvent::Timer(id));
            return Disposition::Continue;
        }
        if !self.st.connected {
            return Disposition::Continue;
        }
        if self.st.ping_outstanding {
            // 3.1.2.10: no PINGRESP within a keep-alive period.
            return Disposition::Close(CloseReason::Timeout);
        }
        if let Err(e) = send(conn, &Packet::Pingreq) {
            return violation(format!("PINGREQ: {e}"));
        }
        self.st.ping_outstanding = true;
        self.arm_ping(conn);
        Disposition::Continue
    }

    fn on_connect_error(
        &mut self,
        conn: &mut ConnCx<'_>,
        proto: &mut dyn Protocol,
        err: &std::io::Error,
    ) {
        // Stored first: a handler reconnecting from this event finds it.
        self.store(proto);
        self.emit(conn, proto, MqttEvent::ConnectError(err));
    }

    fn on_close(&mut self, conn: &mut ConnCx<'_>, proto: &mut dyn Protocol, reason: &CloseReason) {
        self.st.connected = false;
        self.store(proto);
        self.emit(conn, proto, MqttEvent::Closed(reason));
    }
}
