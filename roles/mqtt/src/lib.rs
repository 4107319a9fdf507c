//! # lws-role-mqtt: MQTT 3.1.1 client
//!
//! [`proto`] is the pure codec (no I/O, no state); the role drives one
//! client connection through CONNECT/CONNACK, keep-alive (PINGREQ every
//! keep-alive period, closed if no PINGRESP by the next), subscriptions and
//! the QoS 1 and 2 exchanges, and reports typed [`MqttEvent`]s to the
//! user's [`MqttHandler`]. Bad input from the broker closes the connection
//! with a `CloseReason::Protocol` naming the rule broken; it never panics.
//!
//! Not here (yet): MQTT 5, a broker role, resending unacknowledged QoS 1/2
//! publishes of a persistent session after a reconnect.

pub mod client;
mod event;
pub mod proto;
mod role;

pub use client::{MqttOptions, connect, connect_from};
pub use event::{MqttError, MqttEvent};
pub use proto::{ConnectReturn, QoS, SubackCode};
pub use role::{MqttCx, MqttHandler, MqttProtocol};
