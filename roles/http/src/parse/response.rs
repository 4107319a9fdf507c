//! Response heads: serializing a server's, and parsing a client's.
//!
//! Servers never format status lines or framing headers by hand: they call
//! [`write_head`], which adds `Date`, the framing header and `Connection:
//! close` when needed. The client side parses with `httparse` and decides
//! the body framing per RFC 9112 section 6.3.

use std::time::SystemTime;

use crate::parse::error::HeadError;
use crate::parse::fields::{self, Headers};

/// How a response body is delimited on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponseFraming {
    /// No body (HEAD, 1xx, 204, 304) - but `Content-Length` may still be
    /// announced for HEAD.
    Empty,
    Length(u64),
    Chunked,
    /// HTTP/1.0 peers: the body ends when the connection closes.
    UntilClose,
}

/// The reason phrase for common status codes.
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Content Too Large",
        414 => "URI Too Long",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        426 => "Upgrade Required",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

/// Serialize a response head. `head_only_length`: for HEAD responses, the
/// `Content-Length` the GET would have had.
pub fn write_head(
    out: &mut Vec<u8>,
    status: u16,
    headers: &[(&str, &str)],
    framing: ResponseFraming,
    close: bool,
    head_only_length: Option<u64>,
) {
    out.extend_from_slice(format!("HTTP/1.1 {status} {}\r\n", reason(status)).as_bytes());
    out.extend_from_slice(b"Date: ");
    out.extend_from_slice(httpdate::fmt_http_date(SystemTime::now()).as_bytes());
    out.extend_from_slice(b"\r\n");
    for (name, value) in headers {
        // Header injection defence: values with CR/LF are dropped.
        if value.bytes().any(|b| b == b'\r' || b == b'\n') || name.is_empty() {
            continue;
        }
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    match (framing, head_only_length) {
        (ResponseFraming::Length(n), _) | (ResponseFraming::Empty, Some(n)) => {
            out.extend_from_slice(format!("Content-Length: {n}\r\n").as_bytes());
        }
        (ResponseFraming::Chunked, _) => out.extend_from_slice(b"Transfer-Encoding: chunked\r\n"),
        _ => {}
    }
    if close {
        out.extend_from_slice(b"Connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// A parsed response head (client side).
#[derive(Clone, Debug)]
pub struct ResponseHead {
    pub status: u16,
    pub reason: String,
    pub minor_version: u8,
    pub headers: Headers,
    pub framing: ResponseFraming,
    pub keep_alive: bool,
}

/// Parse a response head; `request_was_head` suppresses the body.
pub fn parse_response(
    buf: &[u8],
    request_was_head: bool,
    max_head: usize,
) -> Result<Option<(ResponseHead, usize)>, HeadError> {
    let mut storage = [httparse::EMPTY_HEADER; 100];
    let mut resp = httparse::Response::new(&mut storage);
    let status = match resp.parse(buf) {
        Ok(s) => s,
        Err(httparse::Error::TooManyHeaders) => return Err(HeadError::TooManyHeaders),
        Err(e) => return Err(HeadError::Malformed(e.to_string())),
    };
    let httparse::Status::Complete(len) = status else {
        return if buf.len() > max_head {
            Err(HeadError::HeadTooLarge)
        } else {
            Ok(None)
        };
    };
    let (Some(code), Some(minor)) = (resp.code, resp.version) else {
        return Err(HeadError::Malformed("incomplete status line".into()));
    };
    let headers = Headers::from_httparse(resp.headers);
    let conn = fields::tokens(headers.get_all("connection"));
    let keep_alive = match minor {
        1 => !conn.iter().any(|t| t == "close"),
        _ => conn.iter().any(|t| t == "keep-alive"),
    };
    let framing = response_framing(code, &headers, request_was_head)?;
    let reason = resp.reason.unwrap_or("").to_owned();
    Ok(Some((
        ResponseHead {
            status: code,
            reason,
            minor_version: minor,
            headers,
            framing,
            keep_alive,
        },
        len,
    )))
}

fn response_framing(code: u16, h: &Headers, head: bool) -> Result<ResponseFraming, HeadError> {
    if head || (100..200).contains(&code) || code == 204 || code == 304 {
        return Ok(ResponseFraming::Empty);
    }
    if h.get("transfer-encoding").is_some() {
        let te = fields::tokens(h.get_all("transfer-encoding"));
        return Ok(match te.last().map(String::as_str) {
            Some("chunked") => ResponseFraming::Chunked,
            _ => ResponseFraming::UntilClose,
        });
    }
    let mut cl = h.get_all("content-length");
    match (cl.next(), cl.next()) {
        (None, _) => Ok(ResponseFraming::UntilClose),
        (Some(v), None) => fields::content_length(v)
            .map(ResponseFraming::Length)
            .ok_or_else(|| HeadError::Malformed("invalid Content-Length".into())),
        (Some(a), Some(b)) if a == b && cl.all(|c| c == a) => fields::content_length(a)
            .map(ResponseFraming::Length)
            .ok_or_else(|| HeadError::Malformed("invalid Content-Length".into())),
        _ => Err(HeadError::Malformed("conflicting Content-Length".into())),
    }
}
