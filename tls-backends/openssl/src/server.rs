//! The server side: one OpenSSL context per vhost sharing a listener, and
//! the [`Acceptor`] making a session per accepted connection.
//!
//! Every session starts on the first vhost's context. Its servername
//! callback runs while OpenSSL reads the ClientHello: it finds the vhost
//! owning the SNI name (`lws_core::sni_name_matches`, vhosts in order),
//! switches the session to that vhost's context (certificate, key, ALPN
//! list) and records the vhost's index on the session, which reports it
//! after the handshake. No or an unknown name stays on the first vhost.
//!
//! This module must not do I/O; it builds contexts and sessions only.

use lws_core::{TlsAcceptor, TlsError, TlsSession, TlsVhost, sni_name_matches};
use openssl::ssl::{
    AlpnError, NameType, Ssl, SslAcceptor, SslAcceptorBuilder, SslContext, SslMethod, SslRef,
};

use crate::identity::set_identity;
use crate::session::{ServedBy, Session};

/// Makes server sessions for one listener.
pub(crate) struct Acceptor {
    /// The first vhost's context, carrying the servername callback.
    first: SslContext,
    served_by: ServedBy,
}

impl Acceptor {
    /// Parse every vhost's certificate and key and build their contexts.
    /// The first vhost answers clients without (or with an unknown) SNI
    /// name.
    pub fn new(vhosts: &[TlsVhost<'_>]) -> Result<Self, TlsError> {
        if vhosts.is_empty() {
            return Err(TlsError::Config("no TLS vhosts for this listener".into()));
        }
        let index = Ssl::new_ex_index::<usize>()
            .map_err(|e| TlsError::Config(crate::stack("OpenSSL ex_data index", &e)))?;
        // The others first: the first context's callback switches to them.
        let others = vhosts[1..]
            .iter()
            .map(|v| vhost_context(v).map(|b| b.build().into_context()))
            .collect::<Result<Vec<_>, _>>()?;
        let names: Vec<Vec<String>> = vhosts
            .iter()
            .map(|v| v.names.iter().map(|n| n.to_ascii_lowercase()).collect())
            .collect();
        let mut first = vhost_context(&vhosts[0])?;
        first.set_servername_callback(move |ssl: &mut SslRef, _alert| {
            let Some(sni) = ssl.servername(NameType::HOST_NAME).map(str::to_owned) else {
                return Ok(()); // no SNI: the first vhost
            };
            let owner = names
                .iter()
                .position(|ns| ns.iter().any(|n| sni_name_matches(n, &sni)));
            if let Some(i) = owner.filter(|&i| i > 0) {
                // Switching contexts only fails on allocation failure;
                // the client then gets the first vhost's certificate.
                if ssl.set_ssl_context(&others[i - 1]).is_ok() {
                    ssl.set_ex_data(index, i);
                }
            }
            Ok(())
        });
        Ok(Acceptor {
            first: first.build().into_context(),
            served_by: ServedBy {
                names: vhosts.iter().map(|v| v.vhost.to_owned()).collect(),
                index,
            },
        })
    }
}

/// One vhost's context: Mozilla's "intermediate" settings (TLS 1.2 and
/// 1.3), its certificate chain and key (checked to match), its ALPN list.
fn vhost_context(v: &TlsVhost<'_>) -> Result<SslAcceptorBuilder, TlsError> {
    let who = format!("vhost {:?}", v.vhost);
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server())
        .map_err(|e| TlsError::Config(crate::stack(&format!("{who} TLS context"), &e)))?;
    set_identity(&mut b, &v.spec.cert_chain_pem, &v.spec.key_pem, &who)?;
    if !v.spec.alpn.is_empty() {
        crate::alpn_wire(&v.spec.alpn)?; // validates the list
        let ours = v.spec.alpn.clone();
        b.set_alpn_select_callback(move |_, offered| {
            // RFC 7301 §3.2: no protocol in common is a fatal alert.
            select_alpn(&ours, offered).ok_or(AlpnError::ALERT_FATAL)
        });
    }
    Ok(b)
}

/// Our most preferred protocol among those the client `offered` (TLS
/// wire format, read defensively: a truncated list ends the scan), as a
/// slice of `offered`.
fn select_alpn<'a>(ours: &[Vec<u8>], offered: &'a [u8]) -> Option<&'a [u8]> {
    let mut theirs = Vec::new();
    let mut rest = offered;
    while let Some((&len, tail)) = rest.split_first() {
        let Some((proto, tail)) = tail.split_at_checked(usize::from(len)) else {
            break;
        };
        theirs.push(proto);
        rest = tail;
    }
    ours.iter()
        .find_map(|p| theirs.iter().find(|t| **t == p.as_slice()).copied())
}

impl TlsAcceptor for Acceptor {
    fn accept(&self) -> Box<dyn TlsSession> {
        match Ssl::new(&self.first) {
            Ok(mut ssl) => {
                ssl.set_accept_state();
                Box::new(Session::new(ssl, Some(self.served_by.clone())))
            }
            Err(e) => Box::new(Session::broken(crate::stack("TLS server session", &e))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::select_alpn;

    #[test]
    fn server_preference_wins_and_bad_lists_do_not_panic() {
        let ours = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        assert_eq!(select_alpn(&ours, b"\x08http/1.1\x02h2"), Some(&b"h2"[..]));
        assert_eq!(select_alpn(&ours, b"\x08http/1.1"), Some(&b"http/1.1"[..]));
        assert_eq!(select_alpn(&ours, b"\x06spdy/3"), None);
        assert_eq!(select_alpn(&ours, b""), None);
        assert_eq!(select_alpn(&ours, b"\x09http/1.1"), None, "truncated");
        assert_eq!(select_alpn(&ours, b"\x00\x02h2"), Some(&b"h2"[..]));
    }

    /// Any client list (here: every 1- to 3-byte list over a small
    /// alphabet, and pseudo-random longer ones): no panic, and a selection
    /// is always one of ours, sliced out of the client's bytes.
    #[test]
    fn arbitrary_client_lists_never_panic_and_select_only_ours() {
        let ours = vec![b"h2".to_vec(), b"a".to_vec()];
        let alphabet = [0u8, 1, 2, 3, b'a', b'h', b'2', 255];
        let mut lists: Vec<Vec<u8>> = Vec::new();
        for &x in &alphabet {
            for &y in &alphabet {
                for &z in &alphabet {
                    lists.extend([vec![x], vec![x, y], vec![x, y, z]]);
                }
            }
        }
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..2000 {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
            let len = (seed >> 58) as usize;
            lists.push(
                (0..len)
                    .map(|i| alphabet[((seed >> (i % 60)) & 7) as usize])
                    .collect(),
            );
        }
        for offered in &lists {
            if let Some(sel) = select_alpn(&ours, offered) {
                assert!(ours.iter().any(|p| p.as_slice() == sel), "{offered:?}");
                let start = sel.as_ptr() as usize - offered.as_ptr() as usize;
                assert!(start >= 1 && offered[start - 1] as usize == sel.len());
            }
        }
    }
}
