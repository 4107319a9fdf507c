//! MQTT 3.1.1 (OASIS standard, 2014) packets: pure encode/decode, no I/O,
//! no state. The role (`crate::role`) keeps the session state.
//!
//! Written here rather than taken from a crate: the maintained MQTT codecs
//! live inside async clients (rumqttc, with tokio) and the standalone ones
//! (mqttbytes, mqtt4bytes, embedded-mqtt) are unmaintained. The decoder is
//! incremental (bytes in any split) and bounded by a maximum packet size, and
//! every rule it enforces has a table test (`tests.rs`) and a fuzz target.

mod decode;
mod encode;
mod packet;
#[cfg(test)]
mod tests;

pub use decode::{DecodeError, Decoder};
pub use encode::{EncodeError, encode};
pub use packet::{Connect, ConnectReturn, Packet, Publish, QoS, SubackCode, Will};

/// Largest value the Remaining Length field can carry (4 bytes, 2.2.3).
pub const MAX_REMAINING: usize = 268_435_455;
