//! One HTTP/2 stream as a handler's exchange: what `HttpCx` calls on
//! HTTP/2 (respond, streamed bodies, `Writable` requests, pausing the
//! request body, cancelling), turned into HEADERS and DATA on the
//! stream, with the same framing rules as HTTP/1 (the library sets
//! `content-length`; a short or long body is an error) and the
//! connection's parking cap applied to streamed writes.
//!
//! It must not run handlers or read frames: the role does.

use crate::h2::conn::{H2Conn, StreamGone};
use crate::h2::frame::ErrorCode;
use crate::server::exchange::HttpError;
use crate::server::files::FileSend;
use crate::server::request::Request;

/// Where a stream's response stands.
#[derive(Debug)]
pub(crate) enum H2Resp {
    NotStarted,
    Streaming { remaining: Option<u64> },
    File(FileSend),
    Done,
}

/// The response side of one stream, as `HttpCx` drives it.
#[derive(Debug)]
pub(crate) struct StreamState {
    pub(super) resp: H2Resp,
    pub(super) wants_writable: bool,
    pub(super) paused: bool,
}

/// What `HttpCx` holds for an HTTP/2 exchange.
pub(crate) struct StreamCx<'c> {
    pub(super) conn: &'c mut H2Conn,
    pub(super) id: u32,
    pub(super) st: &'c mut StreamState,
}

/// Queue a response head: `headers` without any `content-length` of
/// theirs (the library frames), plus `content-length: length` when given;
/// END_STREAM when `no_body`.
pub(super) fn send_head(
    conn: &mut H2Conn,
    id: u32,
    status: u16,
    headers: &[(&str, &str)],
    length: Option<u64>,
    no_body: bool,
) -> Result<(), StreamGone> {
    let len = length.map(|n| n.to_string());
    let mut fields: Vec<(&str, &str)> = headers
        .iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case("content-length"))
        .copied()
        .collect();
    if let Some(l) = &len {
        fields.push(("content-length", l));
    }
    conn.send_head(id, status, &fields, no_body)
}

impl StreamCx<'_> {
    pub fn id(&self) -> u32 {
        self.id
    }

    pub fn respond(
        &mut self,
        req: &Request,
        status: u16,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<(), HttpError> {
        if !matches!(self.st.resp, H2Resp::NotStarted) {
            return Err(HttpError::AlreadyResponded);
        }
        let length = (status >= 200 && status != 204 && status != 304).then_some(body.len() as u64);
        let no_body = req.bodiless_response(status) || body.is_empty();
        send_head(self.conn, self.id, status, headers, length, no_body)?;
        if !no_body {
            self.conn.send_data(self.id, body, true)?;
        }
        self.st.resp = H2Resp::Done;
        Ok(())
    }

    pub fn start_response(
        &mut self,
        req: &Request,
        status: u16,
        headers: &[(&str, &str)],
        length: Option<u64>,
    ) -> Result<(), HttpError> {
        if !matches!(self.st.resp, H2Resp::NotStarted) {
            return Err(HttpError::AlreadyResponded);
        }
        let no_body = req.bodiless_response(status) || length == Some(0);
        send_head(self.conn, self.id, status, headers, length, no_body)?;
        self.st.resp = match no_body {
            true => H2Resp::Done,
            false => H2Resp::Streaming { remaining: length },
        };
        Ok(())
    }

    pub fn write_body(&mut self, data: &[u8]) -> Result<(), HttpError> {
        let H2Resp::Streaming { remaining } = &mut self.st.resp else {
            return Err(HttpError::NotStreaming);
        };
        if data.is_empty() {
            return Ok(());
        }
        if !self.conn.may_park(data.len()) {
            // At the connection's cap: nothing written, Writable follows.
            self.st.wants_writable = true;
            return Err(HttpError::Write(lws_core::Error::OutputLimit {
                pending: self.conn.parked(),
                attempted: data.len(),
                limit: self.conn.max_parked(),
            }));
        }
        if let Some(left) = remaining {
            let n = data.len() as u64;
            if n > *left {
                return Err(HttpError::BodyTooLong { excess: n - *left });
            }
            *left -= n;
        }
        self.conn.send_data(self.id, data, false)?;
        Ok(())
    }

    pub fn finish(&mut self) -> Result<(), HttpError> {
        let H2Resp::Streaming { remaining } = self.st.resp else {
            return Err(HttpError::NotStreaming);
        };
        self.st.resp = H2Resp::Done;
        if let Some(missing) = remaining.filter(|m| *m > 0) {
            // The peer would wait for bytes that never come.
            self.conn.reset(self.id, ErrorCode::Internal);
            return Err(HttpError::BodyIncomplete { missing });
        }
        self.conn.send_data(self.id, &[], true)?;
        Ok(())
    }

    pub fn request_writable(&mut self) {
        self.st.wants_writable = true;
    }

    pub fn pause_body(&mut self, paused: bool) {
        self.st.paused = paused;
    }

    pub fn response_done(&self) -> bool {
        matches!(self.st.resp, H2Resp::Done)
    }

    /// Reset the stream unless its response is complete.
    pub fn cancel(&mut self) {
        if !self.response_done() {
            self.conn.reset(self.id, ErrorCode::Cancel);
            self.st.resp = H2Resp::Done;
        }
    }
}
