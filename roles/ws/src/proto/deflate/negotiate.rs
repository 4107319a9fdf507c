//! permessage-deflate negotiation (RFC 7692 §5 and §7.1): the client's
//! offer, the server's choice among offers and its response, and the
//! client's check of that response. Window bits are negotiated both ways
//! (`server_max_window_bits`, `client_max_window_bits`, with and without
//! a value); nothing here compresses.

use super::{DeflateParams, NAME};
use crate::proto::error::WsError;

/// This endpoint's own wishes, from `WsConfig`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// No context takeover in either direction: ask the peer for it and
    /// do it ourselves (no zlib state kept between messages).
    pub no_context_takeover: bool,
    /// Largest LZ77 window for both directions (clamped to 9..=15): we
    /// compress with at most this and ask the peer to do the same.
    pub max_window_bits: u8,
}

impl Policy {
    fn bits(&self) -> u8 {
        self.max_window_bits.clamp(9, 15)
    }
}

/// One extension offer's (or response's) parameters, as parsed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Params {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    /// `Some(None)`: present without a value.
    client_max_window_bits: Option<Option<u8>>,
}

fn window_bits(v: Option<&str>) -> Result<u8, ()> {
    let v = v.ok_or(())?.trim().trim_matches('"');
    if v.is_empty() || v.len() > 2 || !v.bytes().all(|b| b.is_ascii_digit()) || v.starts_with('0') {
        return Err(());
    }
    match v.parse::<u8>() {
        Ok(n @ 8..=15) => Ok(n),
        _ => Err(()),
    }
}

/// Parse one `permessage-deflate; p; q=v` element's parameters.
fn parse_params(params: &[&str]) -> Result<Params, ()> {
    let mut o = Params::default();
    let mut seen = Vec::new();
    for p in params {
        let (name, value) = match p.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v)),
            None => (p.trim(), None),
        };
        if seen.contains(&name) {
            return Err(()); // duplicate parameter: invalid offer
        }
        seen.push(name);
        match (name, value) {
            ("server_no_context_takeover", None) => o.server_no_context_takeover = true,
            ("client_no_context_takeover", None) => o.client_no_context_takeover = true,
            ("server_max_window_bits", v) => o.server_max_window_bits = Some(window_bits(v)?),
            ("client_max_window_bits", None) => o.client_max_window_bits = Some(None),
            ("client_max_window_bits", v) => o.client_max_window_bits = Some(Some(window_bits(v)?)),
            _ => return Err(()),
        }
    }
    Ok(o)
}

/// Each non-empty element of a `Sec-WebSocket-Extensions` value: its
/// name and parameters.
fn elements(header: &str) -> impl Iterator<Item = (&str, Vec<&str>)> {
    header.split(',').filter_map(|ext| {
        let mut parts = ext.split(';').map(str::trim);
        let name = parts.next().filter(|n| !n.is_empty())?;
        Some((name, parts.collect()))
    })
}

/// Server side: accept the first valid permessage-deflate offer (RFC 7692
/// §5.1). Returns the parameters and the response header value; `None`
/// declines (no valid offer, or none at all).
///
/// Per parameter (§7.1.1, §7.1.2): `server_no_context_takeover` offered
/// or wanted by the policy is answered; `client_no_context_takeover` is
/// echoed, and asked for when the policy wants it; `server_max_window_bits=N`
/// is answered with min(N, ours), and ours is announced when below 15;
/// `client_max_window_bits[=M]` is answered with min(M, ours) when below
/// 15 (never when the client did not offer the parameter).
pub fn negotiate_server(header: Option<&str>, policy: Policy) -> Option<(DeflateParams, String)> {
    let want = policy.bits();
    let offer = elements(header?)
        .filter(|(name, _)| *name == NAME)
        .find_map(|(_, p)| parse_params(&p).ok())?;
    let our_reset = offer.server_no_context_takeover || policy.no_context_takeover;
    let peer_reset = offer.client_no_context_takeover || policy.no_context_takeover;
    let our_bits = offer.server_max_window_bits.map_or(want, |n| n.min(want));
    let peer_bits = match offer.client_max_window_bits {
        None => 15,
        Some(None) => want,
        Some(Some(m)) => m.min(want),
    };
    let mut resp = NAME.to_owned();
    if our_reset {
        resp.push_str("; server_no_context_takeover");
    }
    if peer_reset {
        resp.push_str("; client_no_context_takeover");
    }
    if offer.server_max_window_bits.is_some() || our_bits < 15 {
        resp.push_str(&format!("; server_max_window_bits={our_bits}"));
    }
    if offer.client_max_window_bits.is_some() && peer_bits < 15 {
        resp.push_str(&format!("; client_max_window_bits={peer_bits}"));
    }
    let params = DeflateParams {
        our_no_context_takeover: our_reset,
        peer_no_context_takeover: peer_reset,
        our_max_window_bits: our_bits,
        peer_max_window_bits: peer_bits,
    };
    Some((params, resp))
}

/// Client side: the offer to send (only when deflate is enabled).
pub fn client_offer(policy: Policy) -> String {
    let want = policy.bits();
    let mut s = format!("{NAME}; client_max_window_bits");
    if want < 15 {
        s.push_str(&format!("={want}; server_max_window_bits={want}"));
    }
    if policy.no_context_takeover {
        s.push_str("; client_no_context_takeover; server_no_context_takeover");
    }
    s
}

/// Client side: validate the server's `Sec-WebSocket-Extensions` (every
/// value joined) against what [`client_offer`] sent with `policy`.
/// `Ok(None)`: the server accepted no extension. An extension we did not
/// offer, permessage-deflate twice, or parameters outside our offer fail
/// the connection (RFC 6455 §4.1, RFC 7692 §5.1).
pub fn accept_client(header: &str, policy: Policy) -> Result<Option<DeflateParams>, WsError> {
    let mut found = None;
    for (name, params) in elements(header) {
        if name != NAME {
            return Err(WsError::Protocol(
                "server accepted an extension that was not offered",
            ));
        }
        if found.is_some() {
            return Err(WsError::Protocol("permessage-deflate accepted twice"));
        }
        found = Some(
            parse_params(&params)
                .map_err(|()| WsError::Protocol("bad permessage-deflate parameters"))?,
        );
    }
    let Some(r) = found else {
        return Ok(None);
    };
    let want = policy.bits();
    let peer_bits = match r.server_max_window_bits {
        None if want < 15 => {
            return Err(WsError::Protocol("server ignored server_max_window_bits"));
        }
        None => 15,
        Some(n) if n > want => {
            return Err(WsError::Protocol("server_max_window_bits above the offer"));
        }
        Some(n) => n,
    };
    let our_bits = match r.client_max_window_bits {
        None => want,
        Some(None) => {
            return Err(WsError::Protocol("client_max_window_bits without a value"));
        }
        Some(Some(m)) if m > want => {
            return Err(WsError::Protocol("client_max_window_bits above the offer"));
        }
        Some(Some(m)) => m,
    };
    if policy.no_context_takeover && !r.server_no_context_takeover {
        return Err(WsError::Protocol(
            "server ignored server_no_context_takeover",
        ));
    }
    Ok(Some(DeflateParams {
        our_no_context_takeover: r.client_no_context_takeover || policy.no_context_takeover,
        peer_no_context_takeover: r.server_no_context_takeover,
        our_max_window_bits: our_bits,
        peer_max_window_bits: peer_bits,
    }))
}

#[cfg(test)]
mod tests;
