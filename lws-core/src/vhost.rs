//! Virtual hosts: listen endpoints, named protocols and per-vhost policy.
//!
//! A vhost is configuration plus the protocol objects registered on it. The
//! first protocol registered is the default: accepted connections bind to
//! it. Listening sockets are opened by the context when it is built.

use std::time::Duration;

use crate::error::Error;
use crate::protocol::Protocol;
use crate::socket::Endpoint;
use crate::tls::TlsServerSpec;

/// Per-vhost policy applied to its connections.
#[derive(Clone, Debug)]
pub(crate) struct VhostPolicy {
    pub idle_timeout: Option<Duration>,
    pub output_limit: usize,
    pub close_timeout: Duration,
    pub backlog: i32,
    pub reuse_port: bool,
    pub accept_budget: usize,
    pub tls_handshake_timeout: Duration,
}

impl Default for VhostPolicy {
    fn default() -> Self {
        VhostPolicy {
            idle_timeout: Some(Duration::from_secs(300)),
            output_limit: 1024 * 1024,
            close_timeout: Duration::from_secs(5),
            backlog: 1024,
            reuse_port: false,
            accept_budget: 64,
            tls_handshake_timeout: Duration::from_secs(10),
        }
    }
}

pub(crate) struct ProtocolSlot {
    pub name: String,
    pub handler: Box<dyn Protocol>,
}

pub(crate) struct Vhost {
    pub name: String,
    pub protocols: Vec<ProtocolSlot>,
    pub policy: VhostPolicy,
    pub listen: Vec<Endpoint>,
    /// What the listeners actually bound (port 0 resolved).
    pub bound: Vec<Endpoint>,
    /// The vhost's name followed by its aliases: the host names it serves.
    pub names: Vec<String>,
    pub tls: Option<TlsServerSpec>,
}

impl Vhost {
    pub fn protocol_index(&self, name: &str) -> Result<u16, Error> {
        self.protocols
            .iter()
            .position(|p| p.name == name)
            .map(|i| i as u16)
            .ok_or_else(|| Error::NoSuchProtocol {
                vhost: self.name.clone(),
                protocol: name.to_owned(),
            })
    }
}

/// For each listener group: the vhosts sharing it and their host names.
#[derive(Debug, Default)]
pub(crate) struct HostTable {
    groups: Vec<Vec<(u16, String, Vec<String>)>>,
    /// Protocol names of each vhost, by vhost index.
    protocols: Vec<Vec<String>>,
}

impl HostTable {
    pub fn add_vhost_protocols(&mut self, names: Vec<String>) {
        self.protocols.push(names);
    }

    /// Whether vhost `vhost` has a protocol called `name`.
    pub fn has_protocol(&self, vhost: u16, name: &str) -> bool {
        self.protocols
            .get(vhost as usize)
            .is_some_and(|p| p.iter().any(|n| n == name))
    }

    pub fn add_group(&mut self, members: Vec<(u16, String, Vec<String>)>) -> u16 {
        self.groups.push(members);
        (self.groups.len() - 1) as u16
    }

    /// The vhost of `group` that serves `host` (by name, else the group's
    /// first vhost, as a default server), if it is not `current`.
    pub fn lookup(&self, group: u16, current: u16, host: &str) -> Option<&str> {
        let name = strip_port(host);
        let members = self.groups.get(group as usize)?;
        let owner = members
            .iter()
            .find(|(_, _, names)| names.iter().any(|n| n.eq_ignore_ascii_case(name)))
            .or(members.first())?;
        (owner.0 != current).then_some(owner.1.as_str())
    }
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host
            .split_once(']')
            .map_or(host, |(h, _)| h.trim_start_matches('['));
    }
    host.rsplit_once(':').map_or(host, |(h, _)| h)
}

/// Builder for one vhost.
///
/// ```
/// # use lws_core::VhostBuilder;
/// # use std::time::Duration;
/// let vh = VhostBuilder::new("default")
///     .listen("127.0.0.1:0".parse().unwrap())
///     .idle_timeout(Some(Duration::from_secs(30)));
/// ```
pub struct VhostBuilder {
    pub(crate) name: String,
    pub(crate) aliases: Vec<String>,
    pub(crate) tls: Option<TlsServerSpec>,
    pub(crate) listen: Vec<Endpoint>,
    pub(crate) protocols: Vec<ProtocolSlot>,
    pub(crate) policy: VhostPolicy,
}

impl std::fmt::Debug for VhostBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VhostBuilder")
            .field("name", &self.name)
            .field("listen", &self.listen)
            .field(
                "protocols",
                &self.protocols.iter().map(|p| &p.name).collect::<Vec<_>>(),
            )
            .field("policy", &self.policy)
            .finish()
    }
}

impl VhostBuilder {
    pub fn new(name: impl Into<String>) -> Self {
        VhostBuilder {
            name: name.into(),
            aliases: Vec::new(),
            tls: None,
            listen: Vec::new(),
            protocols: Vec::new(),
            policy: VhostPolicy::default(),
        }
    }

    /// Listen on `endpoint` (TCP address or Unix socket path); may be
    /// called more than once. Port 0 picks a free port.
    pub fn listen(mut self, endpoint: Endpoint) -> Self {
        self.listen.push(endpoint);
        self
    }

    /// Another host name this vhost answers for (TLS SNI, HTTP `Host`).
    pub fn alias(mut self, name: impl Into<String>) -> Self {
        self.aliases.push(name.into());
        self
    }

    /// Serve TLS on this vhost's listeners (needs a TLS backend on the
    /// context). Vhosts listening on the same address share one listener;
    /// the client's SNI name picks the vhost and its certificate.
    pub fn tls(mut self, spec: TlsServerSpec) -> Self {
        self.tls = Some(spec);
        self
    }

    /// How long a TLS handshake may take (default 10 s).
    pub fn tls_handshake_timeout(mut self, t: Duration) -> Self {
        self.policy.tls_handshake_timeout = t;
        self
    }

    /// Register a protocol by name. The first one is the default.
    pub fn protocol(mut self, name: impl Into<String>, handler: impl Protocol) -> Self {
        self.protocols.push(ProtocolSlot {
            name: name.into(),
            handler: Box::new(handler),
        });
        self
    }

    /// Close connections that receive nothing for this long (default 300 s;
    /// `None` disables). A peer that sends nothing holds resources for at
    /// most this long.
    pub fn idle_timeout(mut self, t: Option<Duration>) -> Self {
        self.policy.idle_timeout = t;
        self
    }

    /// Cap on output buffered per connection (default 1 MiB); see
    /// [`Error::OutputLimit`].
    pub fn output_limit(mut self, bytes: usize) -> Self {
        self.policy.output_limit = bytes;
        self
    }

    /// How long a graceful or protocol-level close may take (default 5 s).
    pub fn close_timeout(mut self, t: Duration) -> Self {
        self.policy.close_timeout = t;
        self
    }

    /// Listen backlog (default 1024).
    pub fn backlog(mut self, n: i32) -> Self {
        self.policy.backlog = n;
        self
    }

    /// Set `SO_REUSEPORT` so several service threads can each listen on
    /// the same port.
    pub fn reuse_port(mut self, on: bool) -> Self {
        self.policy.reuse_port = on;
        self
    }
}
