//! What the MQTT role tells the user, and what can go wrong.

use lws_core::CloseReason;

use crate::proto::{ConnectReturn, EncodeError, QoS, SubackCode};

/// One thing that happened on an MQTT client connection.
#[derive(Debug)]
#[non_exhaustive]
pub enum MqttEvent<'a> {
    /// CONNACK accepted the connection; subscribe and publish from here.
    Connected { session_present: bool },
    /// The broker refused the connection (CONNACK return code); `Closed`
    /// follows.
    Refused(ConnectReturn),
    /// An application message arrived (QoS 1/2 already acknowledged as the
    /// protocol requires; a QoS 2 message is delivered once).
    Message {
        topic: &'a str,
        payload: &'a [u8],
        qos: QoS,
        retain: bool,
    },
    /// SUBACK for the SUBSCRIBE with this packet identifier.
    Subscribed {
        packet_id: u16,
        granted: &'a [SubackCode],
    },
    /// UNSUBACK for the UNSUBSCRIBE with this packet identifier.
    Unsubscribed { packet_id: u16 },
    /// A QoS 1 (PUBACK) or QoS 2 (PUBCOMP) publish completed.
    Published { packet_id: u16 },
    /// A timer set with `cx.conn().set_timer(after, id)` fired.
    Timer(u64),
    /// The TCP (or TLS) connection could not be made, or its host name not
    /// resolved: [`lws_core::dns_error`] gives the typed DNS failure. With a
    /// reconnect policy, only when the policy gives up.
    ConnectError(&'a std::io::Error),
    /// The connection closed; last event of this connection.
    Closed(&'a CloseReason),
    /// A client with a reconnect policy
    /// ([`MqttOptions::reconnect`](crate::MqttOptions::reconnect)) failed to
    /// connect or lost its connection, and the policy conceals it: a new
    /// connection (a new token; this session moves to it) is opened after
    /// `after`. `failures` counts consecutive failures. Call
    /// [`MqttCx::stop_reconnecting`](crate::MqttCx::stop_reconnecting) to
    /// stop here instead.
    Reconnecting {
        after: std::time::Duration,
        failures: u32,
    },
    /// The reconnect policy gave up after `failures` consecutive failures
    /// (the last one reported just before). Last event of this client.
    GaveUp { failures: u32 },
}

/// Why a request from the user could not be sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MqttError {
    #[error("not connected yet (wait for MqttEvent::Connected)")]
    NotConnected,
    #[error(transparent)]
    Encode(#[from] EncodeError),
    #[error("{0} QoS 1/2 exchanges already in flight")]
    TooManyInFlight(usize),
    #[error("{0} SUBSCRIBE/UNSUBSCRIBE packets already await their answer")]
    TooManySubscriptionsPending(usize),
    #[error("all 65,535 packet identifiers are in use (the broker has not acknowledged them)")]
    NoPacketId,
    #[error(transparent)]
    Write(#[from] lws_core::Error),
    #[error("bad URL {url:?}: {why}")]
    Url { url: String, why: &'static str },
    #[error("connect: {0}")]
    Connect(String),
}
