//! What the user sees of the MQTT client role: the handler trait, the
//! protocol object that registers it on a vhost (and stores persistent
//! sessions between connections), and the per-connection handle
//! [`MqttCx`] that publishes, subscribes and disconnects. It starts
//! exchanges; it does not read packets (that is `machine`).

use std::collections::HashMap;
use std::marker::PhantomData;

use lws_core::{CloseReason, ConnCx, ContextEvent, Cx, Origin, Protocol, Role};

use crate::event::{MqttError, MqttEvent};
use crate::machine::MqttRole;
use crate::proto::{self, Packet, Publish, QoS};
use crate::reconnect::Start;
use crate::session::{Outgoing, Pending, State, Stored};

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
    pub(crate) handler: H,
    pub(crate) sessions: HashMap<String, Stored>,
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
        let start = match origin {
            Origin::Client(Some(p)) => p.downcast::<Start>().map(|b| *b).ok(),
            _ => None,
        };
        let (opts, redial, carried) = match start {
            Some(s) => (Some(s.opts), s.redial, s.carried),
            None => (None, None, None),
        };
        let mut st = State::new(opts);
        let persistent = st.opts.as_ref().filter(|o| !o.clean_session);
        if let Some(stored) = persistent.and_then(|o| self.sessions.remove(&o.client_id)) {
            st.kept = stored;
        }
        // A reconnect: the previous connection's handler session.
        let session = carried.and_then(|c| c.downcast::<H::Session>().ok());
        Box::new(MqttRole::<H> {
            session: session.map(|s| *s).unwrap_or_default(),
            st,
            redial,
            refused: None,
            _h: PhantomData,
        })
    }

    fn on_context_event(&mut self, cx: &mut Cx<'_>, event: &ContextEvent) {
        self.handler.on_context_event(cx, event);
    }
}

/// Encode and queue one packet.
pub(crate) fn send(conn: &mut ConnCx<'_>, p: &Packet) -> Result<(), MqttError> {
    let mut buf = Vec::new();
    proto::encode(p, &mut buf)?;
    conn.write(&buf)?;
    Ok(())
}

/// What a handler can do on its connection.
pub struct MqttCx<'c, 'a> {
    pub(crate) conn: &'c mut ConnCx<'a>,
    pub(crate) st: &'c mut State,
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
    /// is reported as [`MqttEvent::Published`]). Fails with
    /// [`MqttError::TooManyInFlight`] past `MqttOptions::max_in_flight`
    /// and with [`MqttError::NoPacketId`] when every identifier is held.
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
        let packet_id = match qos {
            QoS::AtMostOnce => None,
            _ => {
                self.st.check_in_flight()?;
                Some(self.st.alloc_id()?)
            }
        };
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
    /// Fails with [`MqttError::TooManySubscriptionsPending`] when
    /// `MqttOptions::max_pending_subscriptions` SUBSCRIBE/UNSUBSCRIBE
    /// packets already await their answer.
    pub fn subscribe(&mut self, filters: &[(&str, QoS)]) -> Result<u16, MqttError> {
        if !self.st.connected {
            return Err(MqttError::NotConnected);
        }
        self.st.check_pending_subscriptions()?;
        let packet_id = self.st.alloc_id()?;
        let filters = filters.iter().map(|(f, q)| ((*f).to_owned(), *q)).collect();
        send(self.conn, &Packet::Subscribe { packet_id, filters })?;
        self.st.subs.insert(packet_id);
        Ok(packet_id)
    }

    /// Unsubscribe; UNSUBACK arrives as [`MqttEvent::Unsubscribed`]. Shares
    /// the cap of [`subscribe`](Self::subscribe).
    pub fn unsubscribe(&mut self, filters: &[&str]) -> Result<u16, MqttError> {
        if !self.st.connected {
            return Err(MqttError::NotConnected);
        }
        self.st.check_pending_subscriptions()?;
        let packet_id = self.st.alloc_id()?;
        let filters = filters.iter().map(|f| (*f).to_owned()).collect();
        send(self.conn, &Packet::Unsubscribe { packet_id, filters })?;
        self.st.unsubs.insert(packet_id);
        Ok(packet_id)
    }

    /// A client with a reconnect policy: do not reconnect after this
    /// connection ends (in a [`MqttEvent::Reconnecting`] event: cancel that
    /// reconnect; no `GaveUp` follows).
    pub fn stop_reconnecting(&mut self) {
        self.st.no_reconnect = true;
    }

    /// Send DISCONNECT (the will is then discarded by the broker) and close
    /// once it is flushed; no reconnect follows.
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

    /// SUBSCRIBE and UNSUBSCRIBE packets awaiting their answer.
    pub fn pending_subscriptions(&self) -> usize {
        self.st.subs.len() + self.st.unsubs.len()
    }
}
