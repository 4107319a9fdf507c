//! The request as the user sees it.

use crate::parse::{Headers, RequestHead, Version};

/// A request head, validated.
#[derive(Debug, Clone)]
pub struct Request {
    pub(crate) head: RequestHead,
}

impl Request {
    pub fn method(&self) -> &str {
        &self.head.method
    }

    /// The request target as sent (path and query, or absolute form).
    pub fn target(&self) -> &str {
        &self.head.target
    }

    /// The path part of the target, still percent-encoded.
    pub fn path(&self) -> &str {
        let t = self.head.target.as_str();
        let t = match t.find("://") {
            Some(i) => t[i + 3..].find('/').map_or("/", |j| &t[i + 3 + j..]),
            None => t,
        };
        t.split(['?', '#']).next().unwrap_or("/")
    }

    /// The query string (without `?`), if any.
    pub fn query(&self) -> Option<&str> {
        self.head
            .target
            .split_once('?')
            .map(|(_, q)| q.split('#').next().unwrap_or(q))
    }

    pub fn version(&self) -> Version {
        self.head.version
    }

    pub fn headers(&self) -> &Headers {
        &self.head.headers
    }

    /// The first value of a header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.headers.get_str(name)
    }

    /// The `Host` (lower-cased, with port if sent).
    pub fn host(&self) -> Option<&str> {
        self.head.host.as_deref()
    }

    /// The protocol requested in `Upgrade` (with `Connection: upgrade`).
    pub fn upgrade(&self) -> Option<&str> {
        self.head.upgrade.as_deref()
    }

    /// Whether the request has a body.
    pub fn has_body(&self) -> bool {
        self.head.framing != crate::parse::BodyFraming::None
    }

    pub fn is_head(&self) -> bool {
        self.head.method == "HEAD"
    }

    /// Whether a response with `status` to this request carries no body
    /// (HEAD, 1xx, 204, 304), whatever length it announces.
    pub(crate) fn bodiless_response(&self, status: u16) -> bool {
        self.is_head() || status == 304 || status == 204 || status < 200
    }
}
