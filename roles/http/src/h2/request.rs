//! A decoded HTTP/2 header list to a validated request head (RFC 9113
//! §8.2 and §8.3): pseudo-header rules, field name and value rules, and
//! the connection-specific fields HTTP/2 forbids. Every rejection names
//! the rule; the connection resets the stream with PROTOCOL_ERROR.
//!
//! Pure: this module must not hold connection state.

use crate::parse::fields::{self, Headers};
use crate::parse::{BodyFraming, RequestHead, Version};

/// Limits on one request's header list.
#[derive(Clone, Copy, Debug)]
pub struct HeadLimits {
    /// `:path` length (414 when exceeded).
    pub max_uri: usize,
    /// Number of regular fields.
    pub max_headers: usize,
}

/// Why a header list is not a valid request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Malformed {
    /// RFC 9113 rule broken: reset the stream (PROTOCOL_ERROR).
    Rule(&'static str),
    /// Valid but over a limit: answer with this status.
    Status(u16),
}

/// Connection-specific fields HTTP/2 forbids (RFC 9113 §8.2.2), in
/// requests (malformed) and responses (dropped from what the user sets).
pub(crate) const CONNECTION_SPECIFIC: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
];

fn valid_name(n: &[u8]) -> bool {
    !n.is_empty()
        && n.iter().all(|&b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b"!#$%&'*+-.^_`|~".contains(&b)
        })
}

/// RFC 9113 §8.2.1: no NUL, CR or LF; no leading or trailing space/tab.
fn valid_value(v: &[u8]) -> bool {
    !v.iter().any(|&b| b == 0 || b == b'\r' || b == b'\n')
        && !v.first().is_some_and(|b| *b == b' ' || *b == b'\t')
        && !v.last().is_some_and(|b| *b == b' ' || *b == b'\t')
}

/// Validate a request header list. `end_stream`: the HEADERS frame ended
/// the stream (no body follows).
pub fn request_head(
    list: Vec<(Vec<u8>, Vec<u8>)>,
    end_stream: bool,
    limits: &HeadLimits,
) -> Result<RequestHead, Malformed> {
    let (mut method, mut scheme, mut path, mut authority) = (None, None, None, None);
    let mut regular: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, value) in list {
        if !valid_value(&value) {
            return Err(Malformed::Rule("invalid character in a field value"));
        }
        if let Some(pseudo) = name.strip_prefix(b":") {
            if !regular.is_empty() {
                return Err(Malformed::Rule("pseudo-header after a regular field"));
            }
            let slot = match pseudo {
                b"method" => &mut method,
                b"scheme" => &mut scheme,
                b"path" => &mut path,
                b"authority" => &mut authority,
                _ => return Err(Malformed::Rule("unknown or response pseudo-header")),
            };
            if slot.is_some() {
                return Err(Malformed::Rule("duplicate pseudo-header"));
            }
            let text = String::from_utf8(value)
                .map_err(|_| Malformed::Rule("pseudo-header is not UTF-8"))?;
            *slot = Some(text);
            continue;
        }
        if !valid_name(&name) {
            return Err(Malformed::Rule("invalid or upper-case field name"));
        }
        // Checked ASCII above.
        let name = String::from_utf8(name).map_err(|_| Malformed::Rule("field name"))?;
        if CONNECTION_SPECIFIC.contains(&name.as_str()) {
            return Err(Malformed::Rule("connection-specific field"));
        }
        if name == "te" && !value.eq_ignore_ascii_case(b"trailers") {
            return Err(Malformed::Rule("TE other than \"trailers\""));
        }
        regular.push((name, value));
    }
    let method = method.ok_or(Malformed::Rule(":method missing"))?;
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Malformed::Rule("invalid :method"));
    }
    let target = match (method.as_str(), scheme, path) {
        // RFC 9113 §8.5: CONNECT names only the authority to tunnel to.
        // Whether it is served is the server's call (501 by default).
        ("CONNECT", None, None) => authority
            .clone()
            .ok_or(Malformed::Rule("CONNECT without :authority"))?,
        ("CONNECT", _, _) => return Err(Malformed::Rule("CONNECT with :scheme or :path")),
        (_, None, _) => return Err(Malformed::Rule(":scheme missing")),
        (_, _, None) => return Err(Malformed::Rule(":path missing")),
        (_, Some(scheme), Some(path)) => {
            if path.is_empty() {
                return Err(Malformed::Rule("empty :path"));
            }
            if (scheme == "http" || scheme == "https")
                && !path.starts_with('/')
                && !(path == "*" && method == "OPTIONS")
            {
                return Err(Malformed::Rule(":path is not origin-form"));
            }
            path
        }
    };
    let path = target;
    if path.len() > limits.max_uri {
        return Err(Malformed::Status(414));
    }
    if regular.len() > limits.max_headers {
        return Err(Malformed::Status(431));
    }
    let headers = Headers::from_pairs(regular);
    let host_hdr = headers.get_str("host").map(str::to_owned);
    let host = match (authority, host_hdr) {
        (Some(a), Some(h)) if !a.eq_ignore_ascii_case(&h) => {
            return Err(Malformed::Rule(":authority and Host disagree"));
        }
        (Some(a), _) => Some(a),
        (None, h) => h,
    };
    if let Some(h) = &host
        && !fields::valid_authority(h)
    {
        return Err(Malformed::Status(400));
    }
    let lengths: Vec<&[u8]> = headers.get_all("content-length").collect();
    let length = match lengths.as_slice() {
        [] => None,
        [one] => Some(fields::content_length(one).ok_or(Malformed::Rule("bad content-length"))?),
        [first, rest @ ..] => {
            if rest.iter().any(|v| v != first) {
                return Err(Malformed::Rule("conflicting content-length"));
            }
            Some(fields::content_length(first).ok_or(Malformed::Rule("bad content-length"))?)
        }
    };
    if end_stream && length.is_some_and(|n| n > 0) {
        return Err(Malformed::Rule("content-length with no DATA"));
    }
    let framing = match (end_stream, length) {
        (true, _) => BodyFraming::None,
        (false, Some(n)) => BodyFraming::Length(n),
        // A body delimited by END_STREAM.
        (false, None) => BodyFraming::Chunked,
    };
    Ok(RequestHead {
        method,
        target: path,
        version: Version::Http2,
        headers,
        framing,
        keep_alive: true,
        expect_continue: false,
        host,
        upgrade: None,
    })
}

/// Trailers may carry no pseudo-header (RFC 9113 §8.1).
pub fn check_trailers(list: &[(Vec<u8>, Vec<u8>)]) -> Result<(), Malformed> {
    for (n, v) in list {
        if n.starts_with(b":") {
            return Err(Malformed::Rule("pseudo-header in trailers"));
        }
        if !valid_name(n) || !valid_value(v) {
            return Err(Malformed::Rule("invalid trailer field"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: HeadLimits = HeadLimits {
        max_uri: 64,
        max_headers: 4,
    };

    fn list(fields: &[(&str, &str)]) -> Vec<(Vec<u8>, Vec<u8>)> {
        fields
            .iter()
            .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect()
    }

    fn get() -> Vec<(&'static str, &'static str)> {
        vec![
            (":method", "GET"),
            (":scheme", "https"),
            (":path", "/a?b"),
            (":authority", "example.test"),
        ]
    }

    fn check(fields: &[(&str, &str)], end: bool) -> Result<RequestHead, Malformed> {
        request_head(list(fields), end, &LIMITS)
    }

    fn with(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
        let mut f = get();
        f.extend_from_slice(extra);
        f
    }

    #[test]
    fn a_valid_request() {
        let h = check(&with(&[("accept", "*/*")]), true).expect("valid");
        assert_eq!((h.method.as_str(), h.target.as_str()), ("GET", "/a?b"));
        assert_eq!(h.host.as_deref(), Some("example.test"));
        assert_eq!(h.version, Version::Http2);
        assert_eq!(h.framing, BodyFraming::None);
        let h = check(&with(&[("content-length", "5")]), false).expect("valid");
        assert_eq!(h.framing, BodyFraming::Length(5));
        assert_eq!(
            check(&get(), false).expect("ok").framing,
            BodyFraming::Chunked
        );
    }

    /// One row per RFC 9113 rule enforced: (why, fields, end_stream).
    #[test]
    fn each_rule_rejects_its_violation() {
        let rule = |f: &[(&str, &str)], end: bool| match check(f, end) {
            Err(Malformed::Rule(r)) => r,
            other => panic!("{f:?}: expected a rule violation, got {other:?}"),
        };
        let no_method: Vec<_> = get().into_iter().skip(1).collect();
        let no_path: Vec<_> = get().into_iter().filter(|f| f.0 != ":path").collect();
        let no_scheme: Vec<_> = get().into_iter().filter(|f| f.0 != ":scheme").collect();
        let mut late_pseudo = vec![("accept", "*/*")];
        late_pseudo.extend(get());
        type Row<'a> = (&'a str, Vec<(&'a str, &'a str)>, bool);
        let rows: Vec<Row<'_>> = vec![
            ("§8.3.1 :method required", no_method, true),
            ("§8.3.1 :path required", no_path, true),
            ("§8.3.1 :scheme required", no_scheme, true),
            ("§8.3 pseudo before regular", late_pseudo, true),
            ("§8.3 no unknown pseudo", with(&[(":foo", "x")]), true),
            ("§8.3 no response pseudo", with(&[(":status", "200")]), true),
            (
                "§8.3 no duplicate pseudo",
                with(&[(":method", "GET")]),
                true,
            ),
            ("§8.2 lower-case names", with(&[("Accept", "x")]), true),
            (
                "§8.2.2 no connection",
                with(&[("connection", "close")]),
                true,
            ),
            (
                "§8.2.2 no transfer-encoding",
                with(&[("transfer-encoding", "chunked")]),
                true,
            ),
            ("§8.2.2 no upgrade", with(&[("upgrade", "websocket")]), true),
            ("§8.2.2 no keep-alive", with(&[("keep-alive", "5")]), true),
            ("§8.2.2 TE only trailers", with(&[("te", "gzip")]), true),
            (
                "§8.2.1 no CR/LF/NUL in values",
                with(&[("x", "a\r\nb")]),
                true,
            ),
            ("§8.2.1 no leading space", with(&[("x", " a")]), true),
            ("§8.2.1 no trailing tab", with(&[("x", "a\t")]), true),
            (
                "§8.1.1 content-length with END_STREAM",
                with(&[("content-length", "3")]),
                true,
            ),
            (
                "§8.1.1 conflicting content-length",
                with(&[("content-length", "3"), ("content-length", "4")]),
                false,
            ),
            (
                "§8.1.1 bad content-length",
                with(&[("content-length", "x")]),
                false,
            ),
        ];
        for (why, fields, end) in rows {
            let r = rule(&fields, end);
            assert!(!r.is_empty(), "{why}");
        }
        let mut empty_path = get();
        empty_path[2] = (":path", "");
        rule(&empty_path, true);
        let mut relative = get();
        relative[2] = (":path", "a/b");
        rule(&relative, true);
        let mut star = get();
        star[0] = (":method", "OPTIONS");
        star[2] = (":path", "*");
        assert!(check(&star, true).is_ok(), "OPTIONS * is allowed");
        assert!(check(&with(&[("te", "trailers")]), true).is_ok());
        assert!(check(&with(&[("host", "Example.test")]), true).is_ok());
        rule(&with(&[("host", "other.test")]), true);
    }

    #[test]
    fn limits_answer_with_a_status() {
        let mut long = get();
        let path = format!("/{}", "a".repeat(70));
        long[2] = (":path", path.as_str());
        assert_eq!(check(&long, true).err(), Some(Malformed::Status(414)));
        let many = with(&[("a", "1"), ("b", "2"), ("c", "3"), ("d", "4"), ("e", "5")]);
        assert_eq!(check(&many, true).err(), Some(Malformed::Status(431)));
    }

    /// RFC 9113 §8.5: CONNECT carries `:authority` only; the head parses
    /// (the server decides whether CONNECT is served), other shapes are
    /// malformed.
    #[test]
    fn connect_carries_only_an_authority() {
        let connect = [(":method", "CONNECT"), (":authority", "example.test:443")];
        let h = check(&connect, false).expect("valid CONNECT");
        assert_eq!(
            (h.method.as_str(), h.target.as_str()),
            ("CONNECT", "example.test:443")
        );
        assert!(check(&connect[..1], false).is_err(), "no :authority");
        let mut with_path = connect.to_vec();
        with_path.push((":path", "/"));
        assert!(check(&with_path, false).is_err(), ":path");
        let mut with_scheme = connect.to_vec();
        with_scheme.push((":scheme", "https"));
        assert!(check(&with_scheme, false).is_err(), ":scheme");
    }

    #[test]
    fn trailers_carry_no_pseudo_headers() {
        assert!(check_trailers(&list(&[("x-sum", "1")])).is_ok());
        assert!(check_trailers(&list(&[(":path", "/")])).is_err());
    }
}
