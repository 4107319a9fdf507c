//! The public face of the context's asynchronous resolver: its settings,
//! the result of an explicit lookup, and how a DNS failure travels inside
//! the `io::Error` of a connect error.
//!
//! The resolver itself is the sans-IO `lws_dns` crate; the context drives
//! it (`context/dns.rs`). This module holds only types and must not do I/O.

use std::io;
use std::net::IpAddr;
use std::time::Duration;

use lws_dns::{ConfigPaths, DnsError, FamilyPref};

/// How the context's resolver is set up ([`ContextBuilder::dns`](crate::ContextBuilder::dns)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsConfig {
    /// Where `resolv.conf` and `hosts` are read from (once, when the
    /// context is built). Default: `/etc/resolv.conf` and `/etc/hosts`.
    pub paths: ConfigPaths,
    /// Which address families connects and lookups ask for, in order.
    /// Default: both, IPv6 first (RFC 6724).
    pub family: FamilyPref,
    /// Happy Eyeballs (RFC 8305 §5) Connection Attempt Delay: a connect to
    /// a name with several addresses starts the next attempt this long
    /// after the previous one while none has connected (at once when one
    /// fails). Default 250 ms; at least 10 ms. [`Connect::attempt_delay`](crate::Connect::attempt_delay)
    /// overrides it per connection.
    pub attempt_delay: Duration,
    /// Happy Eyeballs (RFC 8305 §3) Resolution Delay: when the other
    /// family's addresses (A, with IPv6 preferred) arrive first, how long
    /// to wait for the preferred family's before connecting. Default 50 ms.
    pub resolution_delay: Duration,
}

impl Default for DnsConfig {
    fn default() -> Self {
        DnsConfig {
            paths: ConfigPaths::default(),
            family: FamilyPref::PreferV6,
            attempt_delay: Duration::from_millis(250),
            resolution_delay: Duration::from_millis(50),
        }
    }
}

impl DnsConfig {
    /// Read the two files from other paths (tests, containers).
    pub fn with_paths(
        resolv_conf: impl Into<std::path::PathBuf>,
        hosts: impl Into<std::path::PathBuf>,
    ) -> Self {
        DnsConfig {
            paths: ConfigPaths {
                resolv_conf: resolv_conf.into(),
                hosts: hosts.into(),
            },
            ..DnsConfig::default()
        }
    }

    /// Ask for these address families.
    pub fn family(mut self, family: FamilyPref) -> Self {
        self.family = family;
        self
    }

    /// Set the Happy Eyeballs Connection Attempt Delay (default 250 ms).
    pub fn attempt_delay(mut self, delay: Duration) -> Self {
        self.attempt_delay = delay;
        self
    }

    /// Set the Happy Eyeballs Resolution Delay (default 50 ms).
    pub fn resolution_delay(mut self, delay: Duration) -> Self {
        self.resolution_delay = delay;
        self
    }
}

/// The result of [`Cx::lookup`](crate::Cx::lookup) or
/// [`Context::lookup`](crate::Context::lookup), delivered to the protocol
/// that asked (or was named) as
/// [`ContextEvent::Lookup`](crate::ContextEvent::Lookup).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    /// The id given to `lookup`.
    pub id: u64,
    /// The name asked for.
    pub name: String,
    /// The addresses in the resolver's order, or why there are none.
    pub result: Result<Vec<IpAddr>, DnsError>,
}

/// The DNS failure behind a connect error, if that is what it was: a
/// connection to a host name that could not be resolved ends with an
/// `io::Error` carrying the [`DnsError`] (of kind `NotFound` for NXDOMAIN
/// and no address, `TimedOut` for a timeout, `Other` otherwise).
pub fn dns_error(err: &io::Error) -> Option<&DnsError> {
    err.get_ref()?.downcast_ref::<DnsError>()
}

/// Wrap a resolver failure for the connect-error path.
pub(crate) fn dns_io_error(e: DnsError) -> io::Error {
    let kind = match e {
        DnsError::NxDomain | DnsError::NoAddress => io::ErrorKind::NotFound,
        DnsError::Timeout => io::ErrorKind::TimedOut,
        DnsError::Refused => io::ErrorKind::ConnectionRefused,
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_error_round_trips_through_io_error() {
        let e = dns_io_error(DnsError::NxDomain);
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        assert_eq!(dns_error(&e), Some(&DnsError::NxDomain));
        let t = dns_io_error(DnsError::Timeout);
        assert_eq!(t.kind(), io::ErrorKind::TimedOut);
        let plain = io::Error::new(io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(dns_error(&plain), None);
    }
}
