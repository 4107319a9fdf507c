//! The scenarios, grouped by what they exercise. Each is a plain function
//! taking a [`Runner`](crate::Runner).

pub mod adopt;
pub mod client;
pub mod close;
pub mod dns;
mod dns_peer;
pub mod echo;
pub mod eyeballs;
pub mod flow;
pub mod h2;
pub mod timers;
pub mod waker;
pub mod web;
