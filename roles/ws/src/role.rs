//! The WebSocket role bound to one connection: drives the handshake
//! (server side from an HTTP/1 upgrade, client side from a connect), then
//! the receiver and sender, control frames, the closing handshake and the
//! validity policy (idle ping, pong timeout).

use std::marker::PhantomData;
use std::time::Instant;

use lws_core::{CloseReason, ConnCx, Disposition, Origin, Protocol, Role, downcast_protocol};
use lws_role_http::UpgradeRequest;

use crate::client::{self, ClientSetup};
use crate::cx::WsCx;
use crate::event::{Message, WsEvent, WsHandler, WsProtocol};
use crate::proto::WsError;
use crate::proto::frame::Opcode;
use crate::rx::{Flow, Incoming, Receiver};
use crate::server;
use crate::tx::Sender;

/// Timer id of the validity check.
const VALIDITY_TIMER: u64 = 0x5753_5049_4e47; // "WSPING"

pub(crate) enum Phase {
    ServerHandshake(Box<UpgradeRequest>),
    ClientConnecting(Box<ClientSetup>),
    ClientAwait(Box<ClientSetup>, Vec<u8>),
    Open,
    /// We sent a close frame; waiting for the peer's.
    Closing,
    /// Handshake failed or handed off: no more events.
    Done,
}

pub(crate) struct WsRole<H: WsHandler> {
    pub(crate) session: H::Session,
    pub(crate) phase: Phase,
    pub(crate) rx: Option<Receiver>,
    pub(crate) tx: Option<Sender>,
    pub(crate) subprotocol: Option<String>,
    peer_close: Option<(u16, String)>,
    close_req: Option<(u16, String)>,
    ping_out: bool,
    last_rx: Option<Instant>,
    /// A client with a reconnect policy, once open: what the next
    /// connection needs should this one be lost.
    pub(crate) redial: Option<Box<ClientSetup>>,
    /// This client must not reconnect (closed locally, or asked not to).
    pub(crate) no_reconnect: bool,
    _h: PhantomData<fn() -> H>,
}

fn proto_of<H: WsHandler>(p: &mut dyn Protocol) -> Option<&mut WsProtocol<H>> {
    downcast_protocol::<WsProtocol<H>>(p)
}

impl<H: WsHandler> WsRole<H> {
    pub fn new(origin: Origin) -> Self {
        let mut session = None;
        let phase = match origin {
            Origin::Rebound(carry) => match carry.downcast::<UpgradeRequest>() {
                Ok(up) => Phase::ServerHandshake(up),
                Err(_) => Phase::Done,
            },
            Origin::Client(Some(p)) => match p.downcast::<ClientSetup>() {
                Ok(mut setup) => {
                    // A reconnect: the previous connection's session.
                    let carried = setup.carried.take().map(|c| c.downcast::<H::Session>());
                    session = carried.and_then(Result::ok).map(|s| *s);
                    Phase::ClientConnecting(setup)
                }
                Err(_) => Phase::Done,
            },
            _ => Phase::Done,
        };
        WsRole {
            session: session.unwrap_or_default(),
            phase,
            rx: None,
            tx: None,
            subprotocol: None,
            peer_close: None,
            close_req: None,
            ping_out: false,
            last_rx: None,
            redial: None,
            no_reconnect: false,
            _h: PhantomData,
        }
    }

    pub(crate) fn emit(&mut self, cx: &mut ConnCx<'_>, p: &mut WsProtocol<H>, ev: WsEvent<'_>) {
        let mut wcx = WsCx {
            conn: cx,
            tx: self.tx.as_mut(),
            subprotocol: self.subprotocol.as_deref(),
            close_req: &mut self.close_req,
            no_reconnect: &mut self.no_reconnect,
        };
        p.handler.on_event(&mut wcx, &mut self.session, ev);
    }

    /// The connection is open: tell the user, arm validity, take input.
    pub(crate) fn opened(
        &mut self,
        cx: &mut ConnCx<'_>,
        p: &mut WsProtocol<H>,
        leftover: &[u8],
    ) -> Disposition {
        self.phase = Phase::Open;
        self.last_rx = Some(cx.now());
        if let Some(every) = p.config.ping_interval {
            cx.set_timer(every, VALIDITY_TIMER);
        }
        self.emit(cx, p, WsEvent::Established);
        let d = self.after_user(cx, p);
        if !matches!(d, Disposition::Continue) || leftover.is_empty() {
            return d;
        }
        self.input(cx, p, leftover)
    }

    /// Frames in; events out; control frames answered.
    fn input(&mut self, cx: &mut ConnCx<'_>, p: &mut WsProtocol<H>, data: &[u8]) -> Disposition {
        self.last_rx = Some(cx.now());
        self.ping_out = false;
        let Some(mut rx) = self.rx.take() else {
            return Disposition::Continue;
        };
        let mut peer_closed = false;
        let result = rx.feed(data, &mut |item| {
            // After our close frame, data from the peer is dropped; only
            // its close matters.
            let closing = self.tx.as_ref().is_some_and(|t| t.close_sent);
            match item {
                Incoming::Message { .. } | Incoming::Fragment { .. } | Incoming::Pong(_)
                    if closing => {}
                Incoming::Message { text: true, data } => match std::str::from_utf8(data) {
                    Ok(s) => self.emit(cx, p, WsEvent::Message(Message::Text(s))),
                    Err(_) => return Flow::Stop, // validated already; cannot happen
                },
                Incoming::Message { text: false, data } => {
                    self.emit(cx, p, WsEvent::Message(Message::Binary(data)))
                }
                Incoming::Fragment {
                    text,
                    data,
                    first,
                    last,
                } => self.emit(
                    cx,
                    p,
                    WsEvent::Fragment {
                        text,
                        data,
                        first,
                        last,
                    },
                ),
                Incoming::Ping(payload) => {
                    if let Some(tx) = self.tx.as_mut().filter(|t| !t.close_sent) {
                        let _ = cx.write(&tx.control(Opcode::Pong, payload));
                    }
                }
                Incoming::Pong(payload) => self.emit(cx, p, WsEvent::Pong(payload)),
                Incoming::Close(c) => {
                    self.peer_close =
                        Some(c.map_or((1005, String::new()), |(code, r)| (code, r.to_owned())));
                    peer_closed = true;
                    return Flow::Stop;
                }
            }
            self.send_requested_close(cx, p);
            if cx.is_closing() {
                Flow::Stop
            } else {
                Flow::Continue
            }
        });
        self.rx = Some(rx);
        if let Err(e) = result {
            return self.fail(cx, e);
        }
        if peer_closed {
            return self.peer_closed(cx, p);
        }
        self.after_user(cx, p)
    }

    /// The peer sent a close: answer it, then end the connection (servers
    /// close TCP; clients wait briefly for the server to).
    fn peer_closed(&mut self, cx: &mut ConnCx<'_>, p: &WsProtocol<H>) -> Disposition {
        let code = self.peer_close.as_ref().map(|c| c.0).filter(|c| *c != 1005);
        if let Some(frame) = self.tx.as_mut().and_then(|t| t.close(code, "")) {
            let _ = cx.write(&frame);
        }
        self.phase = Phase::Closing;
        match self.rx.as_ref().map(|r| r.side()) {
            Some(crate::proto::frame::Side::Client) => {
                cx.set_timeout(Some(p.config.close_timeout));
                Disposition::Continue
            }
            _ => Disposition::Close(CloseReason::Normal),
        }
    }

    /// A protocol violation: send the close code, then close.
    fn fail(&mut self, cx: &mut ConnCx<'_>, e: WsError) -> Disposition {
        log::debug!("{:?}: websocket: {e}", cx.token());
        if let Some(frame) = self
            .tx
            .as_mut()
            .and_then(|t| t.close(Some(e.close_code()), ""))
        {
            let _ = cx.write(&frame);
        }
        self.peer_close
            .get_or_insert((e.close_code(), String::new()));
        self.phase = Phase::Closing;
        Disposition::Close(CloseReason::Protocol(e.to_string()))
    }

    /// Send the close frame the handler asked for, if any.
    fn send_requested_close(&mut self, cx: &mut ConnCx<'_>, p: &WsProtocol<H>) {
        let Some((code, reason)) = self.close_req.take() else {
            return;
        };
        if let Some(frame) = self.tx.as_mut().and_then(|t| t.close(Some(code), &reason)) {
            let _ = cx.write(&frame);
            self.phase = Phase::Closing;
            cx.set_timeout(Some(p.config.close_timeout));
        }
    }

    /// Apply a close the handler asked for.
    fn after_user(&mut self, cx: &mut ConnCx<'_>, p: &WsProtocol<H>) -> Disposition {
        self.send_requested_close(cx, p);
        Disposition::Continue
    }

    fn validity(&mut self, cx: &mut ConnCx<'_>, p: &WsProtocol<H>) -> Disposition {
        let (Some(every), Phase::Open) = (p.config.ping_interval, &self.phase) else {
            return Disposition::Continue;
        };
        if self.ping_out {
            return Disposition::Close(CloseReason::Timeout); // no answer in time
        }
        let idle = self
            .last_rx
            .map(|t| cx.now().saturating_duration_since(t))
            .unwrap_or(every);
        if idle >= every {
            if let Some(tx) = self.tx.as_mut().filter(|t| !t.close_sent) {
                let _ = cx.write(&tx.control(Opcode::Ping, b"lws"));
            }
            self.ping_out = true;
            cx.set_timer(p.config.pong_timeout, VALIDITY_TIMER);
        } else {
            cx.set_timer(every - idle, VALIDITY_TIMER);
        }
        Disposition::Continue
    }
}

impl<H: WsHandler> Role for WsRole<H> {
    fn name(&self) -> &'static str {
        "ws"
    }

    fn on_open(&mut self, cx: &mut ConnCx<'_>, p: &mut dyn Protocol) -> Disposition {
        let Some(p) = proto_of::<H>(p) else {
            return Disposition::Close(CloseReason::Normal);
        };
        match std::mem::replace(&mut self.phase, Phase::Done) {
            Phase::ServerHandshake(up) => server::handshake(self, cx, p, *up),
            Phase::ClientConnecting(setup) => client::send_request(self, cx, p, *setup),
            other => {
                self.phase = other;
                Disposition::Continue
            }
        }
    }

    fn on_rx(&mut self, cx: &mut ConnCx<'_>, p: &mut dyn Protocol, data: &[u8]) -> Disposition {
        let Some(p) = proto_of::<H>(p) else {
            return Disposition::Continue;
        };
        match std::mem::replace(&mut self.phase, Phase::Done) {
            Phase::ClientAwait(setup, mut buf) => {
                buf.extend_from_slice(data);
                client::read_response(self, cx, p, *setup, buf)
            }
            other @ (Phase::Open | Phase::Closing) => {
                self.phase = other;
                self.input(cx, p, data)
            }
            other => {
                self.phase = other;
                Disposition::Continue
            }
        }
    }

    fn on_writable(&mut self, cx: &mut ConnCx<'_>, p: &mut dyn Protocol) -> Disposition {
        let Some(p) = proto_of::<H>(p) else {
            return Disposition::Continue;
        };
        if matches!(self.phase, Phase::Open) {
            self.emit(cx, p, WsEvent::Writable);
        }
        self.after_user(cx, p)
    }

    fn on_timer(&mut self, cx: &mut ConnCx<'_>, p: &mut dyn Protocol, id: u64) -> Disposition {
        let Some(p) = proto_of::<H>(p) else {
            return Disposition::Continue;
        };
        if id == VALIDITY_TIMER {
            return self.validity(cx, p);
        }
        if matches!(self.phase, Phase::Open) {
            self.emit(cx, p, WsEvent::Timer(id));
        }
        self.after_user(cx, p)
    }

    fn on_timeout(&mut self, _cx: &mut ConnCx<'_>, _p: &mut dyn Protocol) -> Disposition {
        match self.phase {
            Phase::Closing => Disposition::Close(CloseReason::Normal),
            _ => Disposition::Close(CloseReason::Timeout),
        }
    }

    fn on_connect_error(
        &mut self,
        cx: &mut ConnCx<'_>,
        p: &mut dyn Protocol,
        err: &std::io::Error,
    ) {
        if let Some(p) = proto_of::<H>(p) {
            self.connect_error(cx, p, err);
        }
    }

    fn close_via_protocol(
        &mut self,
        cx: &mut ConnCx<'_>,
        p: &mut dyn Protocol,
        reason: &CloseReason,
    ) -> bool {
        if !matches!(self.phase, Phase::Open) {
            return false;
        }
        // Only a local close (the user's, the context's) reaches an open
        // connection here: it is never followed by a reconnect.
        self.no_reconnect = true;
        let code = if *reason == CloseReason::ContextStopping {
            1001
        } else {
            1000
        };
        let Some(frame) = self.tx.as_mut().and_then(|t| t.close(Some(code), "")) else {
            return false;
        };
        let _ = cx.write(&frame);
        self.phase = Phase::Closing;
        let _ = p;
        true
    }

    fn on_close(&mut self, cx: &mut ConnCx<'_>, p: &mut dyn Protocol, why: &CloseReason) {
        let Some(p) = proto_of::<H>(p) else { return };
        if self.closed_before_answer(cx, p, why) {
            return;
        }
        if matches!(self.phase, Phase::Done) || self.tx.is_none() {
            return; // never opened (or handshake refused): no Closed event
        }
        let (code, reason) = self.peer_close.take().unwrap_or((1006, String::new()));
        self.emit(
            cx,
            p,
            WsEvent::Closed {
                code,
                reason: &reason,
            },
        );
        if let Some(setup) = self.redial.take() {
            self.client_failed(cx, p, setup, None);
        }
    }
}
