//! # lws-role-mqtt: MQTT 3.1.1 client
//!
//! [`proto`] is the pure codec (no I/O, no state); the role drives one
//! client connection through CONNECT/CONNACK, keep-alive (PINGREQ every
//! keep-alive period, closed if no PINGRESP by the next), subscriptions and
//! the QoS 1 and 2 exchanges, and reports typed [`MqttEvent`]s to the
//! user's [`MqttHandler`]. Bad input from the broker closes the connection
//! with a `CloseReason::Protocol` naming the rule broken; it never panics.
//!
//! Modules: `api` (handler trait, protocol object and session store,
//! [`MqttCx`]), `session` (packet identifiers and exchanges in progress),
//! `machine` (the broker's packets, keep-alive, events). Local limits keep
//! a broker that never answers from growing the client without bound:
//! `MqttOptions::max_in_flight` QoS 1/2 publishes,
//! `MqttOptions::max_pending_subscriptions` SUBSCRIBE/UNSUBSCRIBE, and an
//! error ([`MqttError::NoPacketId`]) when all 65,535 identifiers are held.
//!
//! Clients can reconnect with backoff by an lws-core `RetryPolicy`
//! ([`MqttOptions::reconnect`], module `reconnect`).
//!
//! Not here (yet): MQTT 5, a broker role.
#![forbid(unsafe_code)]

mod api;
pub mod client;
mod event;
mod machine;
pub mod proto;
mod reconnect;
mod session;

pub use api::{MqttCx, MqttHandler, MqttProtocol};
pub use client::{MqttOptions, connect, connect_from};
pub use event::{MqttError, MqttEvent};
pub use proto::{ConnectReturn, QoS, SubackCode};
