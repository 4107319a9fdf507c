//! Request head parsing, as strict as nginx by RFC 9112.
//!
//! `httparse` tokenizes the request line and header fields (zero-copy,
//! rejecting bare CR, obs-fold, whitespace before the colon and control
//! characters); this module enforces the message-level rules on top and
//! decides the body framing. Every rejection carries the status the server
//! must answer with. It allocates only the owned [`RequestHead`] it returns
//! and must never panic on any input.

use crate::parse::error::HeadError;
use crate::parse::fields::{self, Headers};

/// Limits applied while parsing a request head.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Request line plus header fields (431 when exceeded).
    pub max_head: usize,
    /// Request target length (414 when exceeded).
    pub max_uri: usize,
    /// Number of header fields (431 when exceeded).
    pub max_headers: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_head: 16 * 1024,
            max_uri: 8 * 1024,
            max_headers: 100,
        }
    }
}

/// HTTP version of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    Http10,
    Http11,
    /// A request that arrived on an HTTP/2 stream.
    Http2,
}

/// How the request body is delimited (RFC 9112 section 6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyFraming {
    None,
    Length(u64),
    Chunked,
}

/// A parsed, validated request head.
#[derive(Clone, Debug)]
pub struct RequestHead {
    pub method: String,
    pub target: String,
    pub version: Version,
    pub headers: Headers,
    pub framing: BodyFraming,
    /// The connection persists after this exchange (version default and
    /// `Connection` tokens).
    pub keep_alive: bool,
    /// `Expect: 100-continue` was sent.
    pub expect_continue: bool,
    /// The `Host` value (absent only for HTTP/1.0 requests without one).
    pub host: Option<String>,
    /// `Upgrade` value, when `Connection` also lists `upgrade`.
    pub upgrade: Option<String>,
}

/// Parse a request head at the start of `buf`.
///
/// `Ok(None)`: incomplete (and within limits) - read more. `Ok(Some((head,
/// n)))`: the head took `n` bytes; the body (if any) starts at `n`.
pub fn parse_request(
    buf: &[u8],
    limits: &Limits,
) -> Result<Option<(RequestHead, usize)>, HeadError> {
    let mut storage = vec![httparse::EMPTY_HEADER; limits.max_headers];
    let mut req = httparse::Request::new(&mut storage);
    let status = match req.parse(buf) {
        Ok(s) => s,
        Err(httparse::Error::TooManyHeaders) => return Err(HeadError::TooManyHeaders),
        Err(httparse::Error::Version) => return Err(version_error(buf)),
        Err(e) => return Err(HeadError::Malformed(e.to_string())),
    };
    let httparse::Status::Complete(len) = status else {
        return partial_within_limits(buf, limits).map(|()| None);
    };
    if len > limits.max_head {
        return Err(HeadError::HeadTooLarge);
    }
    let (Some(method), Some(target), Some(minor)) = (req.method, req.path, req.version) else {
        return Err(HeadError::Malformed("incomplete request line".into()));
    };
    if target.len() > limits.max_uri {
        return Err(HeadError::UriTooLong);
    }
    let version = if minor == 1 {
        Version::Http11
    } else {
        Version::Http10
    };
    check_target(method, target)?;
    let headers = Headers::from_httparse(req.headers);
    let head = finish(method, target, version, headers)?;
    Ok(Some((head, len)))
}

/// While the head is incomplete, refuse to buffer past the limits.
fn partial_within_limits(buf: &[u8], limits: &Limits) -> Result<(), HeadError> {
    let line_end = buf.iter().position(|&b| b == b'\n');
    if line_end.is_none() && buf.len() > limits.max_uri + 64 {
        return Err(HeadError::UriTooLong);
    }
    if buf.len() > limits.max_head {
        return Err(HeadError::HeadTooLarge);
    }
    Ok(())
}

/// A well-formed but unsupported version is 505; garbage is 400.
fn version_error(buf: &[u8]) -> HeadError {
    let line = buf.split(|&b| b == b'\n').next().unwrap_or(&[]);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let parts: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
    let [_, _, version] = parts.as_slice() else {
        return HeadError::Malformed("invalid request line".into());
    };
    match *version {
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            HeadError::VersionNotSupported
        }
        [b'H', b'T', b'T', b'P', b'/', major] if major.is_ascii_digit() => {
            HeadError::VersionNotSupported
        }
        _ => HeadError::Malformed("invalid HTTP version".into()),
    }
}

/// RFC 9112 section 3.2: the form of the target must suit the method.
fn check_target(method: &str, target: &str) -> Result<(), HeadError> {
    let ok = match target.as_bytes().first() {
        Some(b'/') => method != "CONNECT",
        Some(b'*') => target == "*" && method == "OPTIONS",
        Some(_) if method == "CONNECT" => fields::valid_authority(target),
        Some(_) => target.starts_with("http://") || target.starts_with("https://"),
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(HeadError::Malformed(format!(
            "invalid request target for {method}"
        )))
    }
}

fn finish(
    method: &str,
    target: &str,
    version: Version,
    headers: Headers,
) -> Result<RequestHead, HeadError> {
    let host = host(&headers, version)?;
    let framing = framing(&headers, version)?;
    let conn = fields::tokens(headers.get_all("connection"));
    let keep_alive = match version {
        Version::Http11 | Version::Http2 => !conn.iter().any(|t| t == "close"),
        Version::Http10 => {
            conn.iter().any(|t| t == "keep-alive") && !conn.iter().any(|t| t == "close")
        }
    };
    let expect_continue = match headers.get("expect") {
        None => false,
        Some(v) if v.eq_ignore_ascii_case(b"100-continue") => true,
        Some(_) => return Err(HeadError::ExpectationFailed),
    };
    let upgrade = match headers.get("upgrade") {
        Some(v) if conn.iter().any(|t| t == "upgrade") => {
            Some(String::from_utf8_lossy(v).into_owned())
        }
        _ => None,
    };
    Ok(RequestHead {
        method: method.to_owned(),
        target: target.to_owned(),
        version,
        headers,
        framing,
        keep_alive,
        expect_continue,
        host,
        upgrade,
    })
}

/// RFC 9112 section 3.2: HTTP/1.1 requests carry exactly one valid Host.
fn host(headers: &Headers, version: Version) -> Result<Option<String>, HeadError> {
    let mut all = headers.get_all("host");
    let first = all.next();
    if all.next().is_some() {
        return Err(HeadError::Malformed("duplicate Host header".into()));
    }
    match first {
        None if version == Version::Http11 => {
            Err(HeadError::Malformed("missing Host header".into()))
        }
        None => Ok(None),
        Some(v) => match std::str::from_utf8(v) {
            Ok(h) if h.is_empty() || fields::valid_authority(h) => Ok(Some(h.to_ascii_lowercase())),
            _ => Err(HeadError::Malformed("invalid Host header".into())),
        },
    }
}

/// RFC 9112 section 6: Transfer-Encoding and Content-Length.
fn framing(headers: &Headers, version: Version) -> Result<BodyFraming, HeadError> {
    let te: Vec<String> = fields::tokens(headers.get_all("transfer-encoding"));
    let mut cl = headers.get_all("content-length");
    let first_cl = cl.next();
    if cl.next().is_some() {
        return Err(HeadError::Malformed("duplicate Content-Length".into()));
    }
    if headers.get("transfer-encoding").is_some() {
        if first_cl.is_some() {
            return Err(HeadError::Malformed(
                "both Transfer-Encoding and Content-Length".into(),
            ));
        }
        if version == Version::Http10 {
            return Err(HeadError::Malformed(
                "Transfer-Encoding in an HTTP/1.0 request".into(),
            ));
        }
        return transfer_coding(&te);
    }
    match first_cl {
        None => Ok(BodyFraming::None),
        Some(v) => match fields::content_length(v) {
            Some(0) => Ok(BodyFraming::None),
            Some(n) => Ok(BodyFraming::Length(n)),
            None => Err(HeadError::Malformed("invalid Content-Length".into())),
        },
    }
}

fn transfer_coding(te: &[String]) -> Result<BodyFraming, HeadError> {
    match te {
        [] => Err(HeadError::Malformed("empty Transfer-Encoding".into())),
        [only] if only == "chunked" => Ok(BodyFraming::Chunked),
        codings if codings.iter().filter(|c| *c == "chunked").count() > 1 => Err(
            HeadError::Malformed("chunked applied more than once".into()),
        ),
        codings if codings.last().is_some_and(|c| c != "chunked") => Err(HeadError::Malformed(
            "chunked is not the final transfer coding".into(),
        )),
        _ => Err(HeadError::UnsupportedCoding),
    }
}
