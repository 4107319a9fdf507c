//! Building vhosts and their listeners.
//!
//! Vhosts that listen on the same address share one listening socket (as in
//! libwebsockets): a TLS client's SNI name, or later the HTTP `Host`, picks
//! the vhost. Port 0 always gets a listener of its own. A shared listener
//! serves either TLS for all its vhosts or for none.

use super::{Context, Inert};
use crate::conn::{Conn, ConnIo, ConnState};
use crate::error::{Error, Result};
use crate::socket::{self, Endpoint, ListenOpts};
use crate::tls::{TlsAcceptor, TlsVhost};
use crate::token::ConnKey;
use crate::vhost::{Vhost, VhostBuilder};

/// A listening socket and the vhosts it serves (first one is the default).
pub(crate) struct Listener {
    pub key: ConnKey,
    pub vhosts: Vec<u16>,
    /// Index in the context's host table.
    pub group: u16,
    pub acceptor: Option<Box<dyn TlsAcceptor>>,
}

impl Context {
    pub(super) fn add_vhost(&mut self, vb: VhostBuilder) -> Result<()> {
        if self.vhosts.iter().any(|v| v.name == vb.name) {
            return Err(Error::DuplicateVhost(vb.name));
        }
        if vb.protocols.is_empty() {
            return Err(Error::NoProtocols(vb.name));
        }
        let mut names = vec![vb.name.clone()];
        names.extend(vb.aliases);
        self.hosts
            .add_vhost_protocols(vb.protocols.iter().map(|p| p.name.clone()).collect());
        self.vhosts.push(Vhost {
            name: vb.name,
            protocols: vb.protocols,
            policy: vb.policy,
            listen: vb.listen,
            bound: Vec::new(),
            names,
            tls: vb.tls,
        });
        Ok(())
    }

    /// Group listen endpoints across vhosts, bind one socket per group and
    /// build its TLS acceptor.
    pub(super) fn bind_listeners(&mut self) -> Result<()> {
        let mut groups: Vec<(Endpoint, Vec<u16>)> = Vec::new();
        for (vi, v) in self.vhosts.iter().enumerate() {
            for ep in &v.listen {
                let shareable = !matches!(ep, Endpoint::Tcp(a) if a.port() == 0);
                match groups.iter_mut().find(|(e, _)| shareable && *e == *ep) {
                    Some((_, members)) => members.push(vi as u16),
                    None => groups.push((ep.clone(), vec![vi as u16])),
                }
            }
        }
        for (ep, members) in groups {
            self.bind_group(&ep, members)?;
        }
        Ok(())
    }

    fn bind_group(&mut self, ep: &Endpoint, members: Vec<u16>) -> Result<()> {
        let first = &self.vhosts[members[0] as usize];
        let opts = ListenOpts {
            backlog: first.policy.backlog,
            reuse_port: first.policy.reuse_port,
        };
        let acceptor = self.group_acceptor(ep, &members)?;
        let sock = socket::listen(ep, opts).map_err(|source| Error::Listen {
            endpoint: ep.to_string(),
            source,
        })?;
        if let Some(bound) = socket::local_endpoint(&sock) {
            for &m in &members {
                self.vhosts[m as usize].bound.push(bound.clone());
            }
        }
        let io = ConnIo::new(sock, members[0], 0, ConnState::Listening, self.now);
        let key = self.conns.insert(Conn {
            role: Box::new(Inert),
            io,
        });
        let table = members
            .iter()
            .map(|&m| {
                let v = &self.vhosts[m as usize];
                (m, v.name.clone(), v.names.clone())
            })
            .collect();
        let group = self.hosts.add_group(table);
        self.listeners.push(Listener {
            key,
            vhosts: members,
            group,
            acceptor,
        });
        self.reconcile(key);
        Ok(())
    }

    fn group_acceptor(
        &self,
        ep: &Endpoint,
        members: &[u16],
    ) -> Result<Option<Box<dyn TlsAcceptor>>> {
        let tls: Vec<TlsVhost<'_>> = members
            .iter()
            .map(|&m| &self.vhosts[m as usize])
            .filter_map(|v| {
                v.tls.as_ref().map(|spec| TlsVhost {
                    vhost: &v.name,
                    names: &v.names,
                    spec,
                })
            })
            .collect();
        if tls.is_empty() {
            return Ok(None);
        }
        if tls.len() != members.len() {
            return Err(Error::MixedTls(ep.to_string()));
        }
        let backend = self
            .tls_backend
            .as_ref()
            .ok_or_else(|| Error::NoTlsBackend(tls[0].vhost.to_owned()))?;
        Ok(Some(backend.acceptor(&tls)?))
    }

    pub(super) fn listener(&self, key: ConnKey) -> Option<&Listener> {
        self.listeners.iter().find(|l| l.key == key)
    }
}
