//! What an HTTP/1 client connection sends, and how to open one for it.

use std::time::Duration;

use lws_core::{Connect, DnsError};
use url::Url;

/// Why a client request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    #[error("invalid URL {0:?}")]
    BadUrl(String),
    #[error("unsupported URL scheme {0:?} (http and https only)")]
    Scheme(String),
    /// The host name could not be resolved (reported asynchronously, as
    /// the connection's error event).
    #[error("cannot resolve {host}: {error}")]
    Dns { host: String, error: DnsError },
    #[error("connection failed: {0}")]
    Connect(String),
    #[error("TLS failed: {0}")]
    Tls(String),
    #[error("invalid response from server: {0}")]
    BadResponse(String),
    #[error("response body exceeds {0} bytes")]
    TooLarge(u64),
    #[error("no response within {0:?}")]
    Timeout(Duration),
    #[error("connection closed before the response completed")]
    Incomplete,
    #[error("too many redirects")]
    TooManyRedirects,
}

/// How the request body is provided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestBody {
    None,
    /// Sent with the head.
    Bytes(Vec<u8>),
    /// Written by the handler with `ClientCx::write_body` on `Writable`
    /// events: with a `Content-Length` if known, else chunked.
    Stream(Option<u64>),
}

/// A request for a client connection to send.
#[derive(Debug, Clone)]
pub struct ClientRequest {
    pub(crate) method: String,
    pub(crate) url: Url,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: RequestBody,
    pub(crate) follow: u8,
    pub(crate) timeout: Duration,
    pub(crate) connect_timeout: Duration,
}

impl ClientRequest {
    pub fn new(method: &str, url: &str) -> Result<Self, ClientError> {
        let url = Url::parse(url).map_err(|_| ClientError::BadUrl(url.to_owned()))?;
        match url.scheme() {
            "http" | "https" => {}
            other => return Err(ClientError::Scheme(other.to_owned())),
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(ClientError::BadUrl(url.to_string()));
        }
        Ok(ClientRequest {
            method: method.to_ascii_uppercase(),
            url,
            headers: Vec::new(),
            body: RequestBody::None,
            follow: 0,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
        })
    }

    pub fn get(url: &str) -> Result<Self, ClientError> {
        Self::new("GET", url)
    }

    pub fn post(url: &str, body: impl Into<Vec<u8>>) -> Result<Self, ClientError> {
        Ok(Self::new("POST", url)?.body(RequestBody::Bytes(body.into())))
    }

    pub fn put(url: &str, body: impl Into<Vec<u8>>) -> Result<Self, ClientError> {
        Ok(Self::new("PUT", url)?.body(RequestBody::Bytes(body.into())))
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn body(mut self, body: RequestBody) -> Self {
        self.body = body;
        self
    }

    /// Follow up to `n` redirects (default 0: redirects are reported).
    pub fn follow_redirects(mut self, n: u8) -> Self {
        self.follow = n;
        self
    }

    /// Longest wait for response bytes once the request is sent.
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }

    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.connect_timeout = t;
        self
    }

    pub fn url(&self) -> &Url {
        &self.url
    }

    /// `scheme://host:port` this request must be sent to.
    pub(crate) fn origin(&self) -> (String, String, u16) {
        let host = self.url.host_str().unwrap_or("").to_owned();
        (
            self.url.scheme().to_owned(),
            host,
            self.url.port_or_known_default().unwrap_or(80),
        )
    }

    /// The `Connect` for this request's origin. Nothing is resolved here:
    /// the context resolves the host name on its own loop (IP literals and
    /// `/etc/hosts` names at once), and a DNS failure arrives as the
    /// connection's [`ClientError::Dns`] error event.
    pub(crate) fn connect(&self) -> Result<Connect, ClientError> {
        let (scheme, host, port) = self.origin();
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if bare.is_empty() {
            return Err(ClientError::BadUrl(self.url.to_string()));
        }
        let mut c = Connect::host(bare, port).timeout(self.connect_timeout);
        if scheme == "https" {
            c = c.tls(bare);
        }
        Ok(c)
    }

    /// Check that a connection can be opened for this request, without
    /// opening it. Host names are not resolved (that would block): a DNS
    /// failure is reported by the connection's error event.
    pub fn connect_check(&self) -> Result<(), ClientError> {
        self.connect().map(|_| ())
    }

    /// The request head (and inline body) bytes.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        let mut target = self.url.path().to_owned();
        if let Some(q) = self.url.query() {
            target.push('?');
            target.push_str(q);
        }
        out.extend_from_slice(format!("{} {target} HTTP/1.1\r\n", self.method).as_bytes());
        let has = |n: &str| self.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(n));
        if !has("host") {
            let host = match self.url.port() {
                Some(p) => format!("{}:{p}", self.url.host_str().unwrap_or("")),
                None => self.url.host_str().unwrap_or("").to_owned(),
            };
            out.extend_from_slice(format!("Host: {host}\r\n").as_bytes());
        }
        if !has("user-agent") {
            out.extend_from_slice(b"User-Agent: lws-rs\r\n");
        }
        for (k, v) in &self.headers {
            if !v.contains(['\r', '\n']) {
                out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
            }
        }
        match &self.body {
            RequestBody::None if matches!(self.method.as_str(), "POST" | "PUT" | "PATCH") => {
                out.extend_from_slice(b"Content-Length: 0\r\n")
            }
            RequestBody::None => {}
            RequestBody::Bytes(b) => {
                out.extend_from_slice(format!("Content-Length: {}\r\n", b.len()).as_bytes())
            }
            RequestBody::Stream(Some(n)) => {
                out.extend_from_slice(format!("Content-Length: {n}\r\n").as_bytes())
            }
            RequestBody::Stream(None) => out.extend_from_slice(b"Transfer-Encoding: chunked\r\n"),
        }
        out.extend_from_slice(b"\r\n");
        if let RequestBody::Bytes(b) = &self.body {
            out.extend_from_slice(b);
        }
    }

    /// The request to send for a redirect to `location` with `status`.
    pub(crate) fn redirected(&self, status: u16, location: &str) -> Result<Self, ClientError> {
        let url = self
            .url
            .join(location)
            .map_err(|_| ClientError::BadResponse(format!("bad Location {location:?}")))?;
        let mut next = self.clone();
        next.url = url;
        next.follow = self.follow.saturating_sub(1);
        let keep_method = matches!(status, 307 | 308);
        if !keep_method && next.method != "HEAD" {
            next.method = "GET".into();
            next.body = RequestBody::None;
        }
        Ok(next)
    }
}
