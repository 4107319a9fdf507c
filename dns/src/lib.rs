//! lws-dns: a sans-IO asynchronous stub resolver.
#![forbid(unsafe_code)]

pub mod proto;
pub mod config;
