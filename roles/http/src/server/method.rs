//! Which request methods reach a handler (RFC 9110 §9), decided once for
//! both HTTP versions, before any handler or mount sees the request:
//! - method names are case-sensitive (§9.1): `get` is not `GET`;
//! - a method the server does not know is answered 501 (§15.6.2);
//! - `CONNECT` (§9.3.6) is for proxies: 501 unless the protocol opted in
//!   ([`crate::HttpProtocol::allow_connect`]).
//!
//! What a mount answers to a known method it does not serve (405 with
//! `Allow`, §15.5.6) is in `files`. This module must not look at paths.

use crate::server::config::ServerConfig;

/// The methods every server knows (RFC 9110 §9.3 and PATCH, RFC 5789),
/// `CONNECT` aside. Handlers may implement any of them; a handler that
/// does not answers what it likes (the example handlers: 404).
pub const STANDARD: &[&str] = &[
    "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH",
];

/// What a static mount serves, as listed in its `Allow` header.
pub const MOUNT_ALLOW: &str = "GET, HEAD, OPTIONS";

/// The status to refuse `method` with before any handler sees it, or
/// `None` if it goes on (to a mount or the handler).
pub(crate) fn refusal(method: &str, config: &ServerConfig) -> Option<u16> {
    if method == "CONNECT" {
        return (!config.connect).then_some(501);
    }
    let known = STANDARD.contains(&method) || config.methods.iter().any(|m| m == method);
    (!known).then_some(501)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One row per RFC rule: (rule, method, config change, expected).
    #[test]
    fn each_method_rule() {
        let plain = ServerConfig::default();
        let with_connect = ServerConfig {
            connect: true,
            ..ServerConfig::default()
        };
        let with_dav = ServerConfig {
            methods: vec!["PROPFIND".into()],
            ..ServerConfig::default()
        };
        let rows: &[(&str, &str, &ServerConfig, Option<u16>)] = &[
            ("§9.3.1 GET is known", "GET", &plain, None),
            ("§9.3 every standard method", "TRACE", &plain, None),
            ("RFC 5789 PATCH", "PATCH", &plain, None),
            ("§9.1 case-sensitive: get", "get", &plain, Some(501)),
            ("§9.1 case-sensitive: Post", "Post", &plain, Some(501)),
            ("§15.6.2 unknown method: 501", "BREW", &plain, Some(501)),
            (
                "§15.6.2 a WebDAV method by default",
                "PROPFIND",
                &plain,
                Some(501),
            ),
            ("a method the protocol added", "PROPFIND", &with_dav, None),
            (
                "added methods are case-sensitive",
                "propfind",
                &with_dav,
                Some(501),
            ),
            (
                "§9.3.6 CONNECT without opt-in",
                "CONNECT",
                &plain,
                Some(501),
            ),
            ("§9.3.6 CONNECT with opt-in", "CONNECT", &with_connect, None),
            (
                "§9.3.6 connect is not CONNECT",
                "connect",
                &with_connect,
                Some(501),
            ),
        ];
        for (rule, method, config, want) in rows {
            assert_eq!(refusal(method, config), *want, "{rule}");
        }
    }
}
