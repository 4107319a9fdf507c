//! The opening handshake (RFC 6455 section 4): accept keys, server-side
//! request validation, subprotocol selection, client keys.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha1::{Digest, Sha1};

const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// `Sec-WebSocket-Accept` for a client's `Sec-WebSocket-Key`.
pub fn accept_key(client_key: &str) -> String {
    let mut h = Sha1::new();
    h.update(client_key.trim().as_bytes());
    h.update(GUID.as_bytes());
    STANDARD.encode(h.finalize())
}

/// A fresh random `Sec-WebSocket-Key`.
pub fn client_key() -> String {
    let mut raw = [0u8; 16];
    // A key needs to be unpredictable, not secret; fall back to time.
    if getrandom::fill(&mut raw).is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        raw[..16].copy_from_slice(&t.as_nanos().to_le_bytes());
    }
    STANDARD.encode(raw)
}

/// Why an upgrade request is refused, and the HTTP status to refuse with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    #[error("not a WebSocket upgrade: {0}")]
    NotUpgrade(&'static str),
    #[error("unsupported Sec-WebSocket-Version (only 13)")]
    Version,
    #[error("invalid Sec-WebSocket-Key")]
    Key,
    #[error("Sec-WebSocket-Accept does not match the key")]
    Accept,
    #[error("server answered {0} instead of 101")]
    Status(u16),
    #[error("server selected a subprotocol or extension that was not offered")]
    Unoffered,
}

impl HandshakeError {
    pub fn status(&self) -> u16 {
        match self {
            HandshakeError::Version => 426,
            _ => 400,
        }
    }
}

/// Check a server-side upgrade request; returns the client key.
/// `get`: header lookup (first value, case-insensitive name).
pub fn validate_request<'a>(
    method: &str,
    get: impl Fn(&str) -> Option<&'a str>,
) -> Result<&'a str, HandshakeError> {
    if method != "GET" {
        return Err(HandshakeError::NotUpgrade("method is not GET"));
    }
    let has = |name: &str, token: &str| {
        get(name).is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    };
    if !has("upgrade", "websocket") {
        return Err(HandshakeError::NotUpgrade("no Upgrade: websocket"));
    }
    if !has("connection", "upgrade") {
        return Err(HandshakeError::NotUpgrade("no Connection: upgrade"));
    }
    if get("sec-websocket-version").map(str::trim) != Some("13") {
        return Err(HandshakeError::Version);
    }
    let key = get("sec-websocket-key")
        .map(str::trim)
        .ok_or(HandshakeError::Key)?;
    match STANDARD.decode(key) {
        Ok(raw) if raw.len() == 16 => Ok(key),
        _ => Err(HandshakeError::Key),
    }
}

/// The first protocol the client offered that the server supports
/// (server preference breaks no ties: the client's order wins).
pub fn select_subprotocol<'a>(offered: Option<&str>, supported: &'a [String]) -> Option<&'a str> {
    offered?.split(',').map(str::trim).find_map(|o| {
        supported
            .iter()
            .find(|s| s.eq_ignore_ascii_case(o))
            .map(String::as_str)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6455_1_3_accept_key_example() {
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn rfc6455_4_2_1_request_requirements() {
        let ok = |h: &str| match h {
            "upgrade" => Some("WebSocket"),
            "connection" => Some("keep-alive, Upgrade"),
            "sec-websocket-version" => Some("13"),
            "sec-websocket-key" => Some("dGhlIHNhbXBsZSBub25jZQ=="),
            _ => None,
        };
        assert_eq!(validate_request("GET", ok), Ok("dGhlIHNhbXBsZSBub25jZQ=="));
        assert!(validate_request("POST", ok).is_err());
        let v8 = |h: &str| {
            if h == "sec-websocket-version" {
                Some("8")
            } else {
                ok(h)
            }
        };
        assert_eq!(
            validate_request("GET", v8).map_err(|e| e.status()),
            Err(426)
        );
        let short_key = |h: &str| {
            if h == "sec-websocket-key" {
                Some("c2hvcnQ=")
            } else {
                ok(h)
            }
        };
        assert_eq!(validate_request("GET", short_key), Err(HandshakeError::Key));
    }

    #[test]
    fn client_key_is_16_random_bytes() {
        let (a, b) = (client_key(), client_key());
        assert_ne!(a, b);
        assert_eq!(STANDARD.decode(&a).map(|r| r.len()), Ok(16));
    }

    #[test]
    fn rfc6455_4_2_2_subprotocol_selection() {
        let supported = vec!["chat".to_owned(), "echo".to_owned()];
        assert_eq!(
            select_subprotocol(Some("superchat, Echo"), &supported),
            Some("echo")
        );
        assert_eq!(select_subprotocol(Some("x"), &supported), None);
        assert_eq!(select_subprotocol(None, &supported), None);
    }
}
