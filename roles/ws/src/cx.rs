//! The handle a WebSocket handler acts through.

use lws_core::{CloseReason, ConnCx, Token};

use crate::proto::frame::Opcode;
use crate::tx::Sender;

/// Why a send failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    #[error("the connection is not open (handshake pending or closing)")]
    NotOpen,
    #[error(transparent)]
    Protocol(#[from] crate::proto::WsError),
    #[error(transparent)]
    Write(#[from] lws_core::Error),
}

pub struct WsCx<'c, 'a> {
    pub(crate) conn: &'c mut ConnCx<'a>,
    pub(crate) tx: Option<&'c mut Sender>,
    pub(crate) subprotocol: Option<&'c str>,
    /// Set when the handler asked to close: (code, reason).
    pub(crate) close_req: &'c mut Option<(u16, String)>,
    /// Set when this client must not reconnect.
    pub(crate) no_reconnect: &'c mut bool,
}

impl std::fmt::Debug for WsCx<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsCx")
            .field("token", &self.conn.token())
            .finish()
    }
}

impl<'a> WsCx<'_, 'a> {
    pub fn conn(&mut self) -> &mut ConnCx<'a> {
        self.conn
    }

    pub fn token(&self) -> Token {
        self.conn.token()
    }

    /// The subprotocol agreed in the handshake, if any.
    pub fn subprotocol(&self) -> Option<&str> {
        self.subprotocol
    }

    /// Whether permessage-deflate is in use on this connection.
    pub fn compression(&self) -> bool {
        self.tx.as_deref().is_some_and(Sender::compressing)
    }

    fn tx(&mut self) -> Result<&mut Sender, SendError> {
        match self.tx.as_deref_mut() {
            Some(tx) if !tx.close_sent => Ok(tx),
            _ => Err(SendError::NotOpen),
        }
    }

    /// Send a text message (one frame; compressed if negotiated).
    pub fn send_text(&mut self, text: &str) -> Result<(), SendError> {
        self.send_message(true, text.as_bytes())
    }

    /// Send a binary message.
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), SendError> {
        self.send_message(false, data)
    }

    fn send_message(&mut self, text: bool, data: &[u8]) -> Result<(), SendError> {
        let tx = match self.tx.as_deref_mut() {
            Some(tx) if !tx.close_sent => tx,
            _ => return Err(SendError::NotOpen),
        };
        let frame = tx.message(text, data)?;
        Ok(self.conn.write_parts(&frame.parts())?)
    }

    /// Send one fragment of a message sent in pieces; `last` ends it.
    pub fn send_fragment(&mut self, text: bool, data: &[u8], last: bool) -> Result<(), SendError> {
        let frame = self.tx()?.fragment(text, data, last)?;
        Ok(self.conn.write_parts(&frame.parts())?)
    }

    /// Send a ping (payload up to 125 bytes).
    pub fn ping(&mut self, payload: &[u8]) -> Result<(), SendError> {
        let frame = self.tx()?.control(Opcode::Ping, payload);
        Ok(self.conn.write(&frame)?)
    }

    /// Start the closing handshake with `code` and `reason`. A client
    /// with a reconnect policy does not reconnect after a close it asked for.
    pub fn close(&mut self, code: u16, reason: &str) {
        *self.no_reconnect = true;
        self.close_req
            .get_or_insert_with(|| (code, reason.to_owned()));
    }

    /// A client with a reconnect policy: do not reconnect after this
    /// connection ends (in a [`WsEvent::Reconnecting`](crate::WsEvent::Reconnecting)
    /// event: cancel that reconnect; no `GaveUp` follows).
    pub fn stop_reconnecting(&mut self) {
        *self.no_reconnect = true;
    }

    /// Ask for a `Writable` event.
    pub fn request_writable(&mut self) {
        self.conn.request_writable();
    }

    /// Bytes queued but not yet sent.
    pub fn pending_output(&self) -> usize {
        self.conn.pending_output()
    }

    /// Drop the connection without a closing handshake (no reconnect
    /// follows).
    pub fn abort(&mut self) {
        *self.no_reconnect = true;
        self.conn.close(CloseReason::Normal);
    }
}
