//! The client state machine for one connection: CONNECT/CONNACK,
//! keep-alive, the broker's packets (acknowledgements, SUBACK/UNSUBACK,
//! incoming publishes and the QoS 1 and 2 exchanges of 4.3), resending a
//! persistent session, and the events reported to the handler. It owns no
//! user-facing API (that is `api`) and keeps no bookkeeping of its own
//! (that is `session`).

use std::marker::PhantomData;

use lws_core::{CloseReason, ConnCx, Disposition, Protocol, Role, downcast_protocol};

use crate::api::{MqttCx, MqttHandler, MqttProtocol, send};
use crate::event::{MqttError, MqttEvent};
use crate::proto::{Connect, ConnectReturn, Packet, Publish, QoS};
use crate::reconnect::{Failure, Redial};
use crate::session::{Outgoing, Pending, State};

/// The keep-alive timer's id; user timers (any other id) are passed on
/// as [`MqttEvent::Timer`].
const PING_TIMER: u64 = u64::MAX - 1;

pub(crate) struct MqttRole<H: MqttHandler> {
    pub session: H::Session,
    pub st: State,
    /// Where to reconnect, with a reconnect policy.
    pub redial: Option<Redial>,
    /// A CONNACK refusal not reported yet (concealed by the policy).
    pub refused: Option<ConnectReturn>,
    pub _h: PhantomData<fn() -> H>,
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

    pub(crate) fn emit(
        &mut self,
        conn: &mut ConnCx<'_>,
        proto: &mut dyn Protocol,
        ev: MqttEvent<'_>,
    ) {
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
                    match self.redial.is_some() {
                        true => self.refused = Some(code), // reported if not concealed
                        false => self.emit(conn, proto, MqttEvent::Refused(code)),
                    }
                    return Disposition::Close(CloseReason::Protocol(format!("CONNACK: {code}")));
                }
                self.st.connected = true;
                self.connected();
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
        if err.kind() == std::io::ErrorKind::ConnectionAborted {
            self.st.no_reconnect = true; // closed locally while connecting
        }
        self.failed(conn, proto, Failure::Connect(err));
    }

    fn on_close(&mut self, conn: &mut ConnCx<'_>, proto: &mut dyn Protocol, reason: &CloseReason) {
        let was_connected = std::mem::take(&mut self.st.connected);
        self.store(proto);
        // Local closes (DISCONNECT, the user's close, the context stopping)
        // are never followed by a reconnect.
        if self.st.disconnecting
            || matches!(reason, CloseReason::Normal | CloseReason::ContextStopping)
        {
            self.st.no_reconnect = true;
        }
        if was_connected {
            self.emit(conn, proto, MqttEvent::Closed(reason));
            return self.failed(conn, proto, Failure::Lost);
        }
        let refused = self.refused.take();
        self.failed(conn, proto, Failure::NoSession { refused, reason });
    }
}
