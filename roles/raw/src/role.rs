//! The raw role state machine and the protocol wrapper around a handler.

use std::marker::PhantomData;

use lws_core::{
    CloseReason, ConnCx, ContextEvent, Cx, Disposition, Origin, Protocol, Role, downcast_protocol,
};

use crate::event::{OpenKind, RawEvent};

/// User code for raw connections.
///
/// `Session` is the per-connection state, created (by `Default`) when the
/// connection is and dropped when it closes; `&mut self` is shared by every
/// connection of the protocol (per-vhost state).
pub trait RawHandler: 'static {
    type Session: Default + 'static;

    fn on_event(&mut self, cx: &mut ConnCx<'_>, session: &mut Self::Session, event: RawEvent<'_>);

    /// Context-wide events (waker, protocol timers, stopping).
    fn on_context_event(&mut self, _cx: &mut Cx<'_>, _event: &ContextEvent) {}
}

/// A handler from a closure, for connections that need no session state.
pub struct FnHandler<F>(F);

impl<F> std::fmt::Debug for FnHandler<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FnHandler")
    }
}

impl<F: FnMut(&mut ConnCx<'_>, RawEvent<'_>) + 'static> RawHandler for FnHandler<F> {
    type Session = ();

    fn on_event(&mut self, cx: &mut ConnCx<'_>, _: &mut (), event: RawEvent<'_>) {
        (self.0)(cx, event)
    }
}

/// Registers a [`RawHandler`] as a protocol on a vhost.
#[derive(Debug)]
pub struct RawProtocol<H> {
    handler: H,
}

impl<H: RawHandler> RawProtocol<H> {
    pub fn new(handler: H) -> Self {
        RawProtocol { handler }
    }

    pub fn handler(&self) -> &H {
        &self.handler
    }

    pub fn handler_mut(&mut self) -> &mut H {
        &mut self.handler
    }
}

impl<F: FnMut(&mut ConnCx<'_>, RawEvent<'_>) + 'static> RawProtocol<FnHandler<F>> {
    /// A protocol from a closure receiving every event.
    pub fn from_fn(f: F) -> Self {
        RawProtocol {
            handler: FnHandler(f),
        }
    }
}

impl<H: RawHandler> Protocol for RawProtocol<H> {
    fn new_role(&mut self, origin: Origin) -> Box<dyn Role> {
        let kind = match origin {
            Origin::Accepted => OpenKind::Accepted,
            Origin::Client(_) => OpenKind::Connected,
            _ => OpenKind::Adopted,
        };
        Box::new(RawRole::<H> {
            session: H::Session::default(),
            kind,
            _h: PhantomData,
        })
    }

    fn on_context_event(&mut self, cx: &mut Cx<'_>, event: &ContextEvent) {
        self.handler.on_context_event(cx, event);
    }
}

struct RawRole<H: RawHandler> {
    session: H::Session,
    kind: OpenKind,
    _h: PhantomData<fn() -> H>,
}

impl<H: RawHandler> RawRole<H> {
    fn emit(&mut self, cx: &mut ConnCx<'_>, proto: &mut dyn Protocol, ev: RawEvent<'_>) {
        match downcast_protocol::<RawProtocol<H>>(proto) {
            Some(p) => p.handler.on_event(cx, &mut self.session, ev),
            None => log::error!("raw role bound to a protocol of another type"),
        }
    }
}

impl<H: RawHandler> Role for RawRole<H> {
    fn name(&self) -> &'static str {
        "raw"
    }

    fn on_open(&mut self, cx: &mut ConnCx<'_>, proto: &mut dyn Protocol) -> Disposition {
        self.emit(cx, proto, RawEvent::Opened(self.kind));
        Disposition::Continue
    }

    fn on_rx(&mut self, cx: &mut ConnCx<'_>, proto: &mut dyn Protocol, data: &[u8]) -> Disposition {
        self.emit(cx, proto, RawEvent::Rx(data));
        Disposition::Continue
    }

    fn on_datagram(
        &mut self,
        cx: &mut ConnCx<'_>,
        proto: &mut dyn Protocol,
        data: &[u8],
        from: std::net::SocketAddr,
    ) -> Disposition {
        self.emit(cx, proto, RawEvent::Datagram { data, from });
        Disposition::Continue
    }

    fn on_writable(&mut self, cx: &mut ConnCx<'_>, proto: &mut dyn Protocol) -> Disposition {
        self.emit(cx, proto, RawEvent::Writable);
        Disposition::Continue
    }

    fn on_timer(&mut self, cx: &mut ConnCx<'_>, proto: &mut dyn Protocol, id: u64) -> Disposition {
        self.emit(cx, proto, RawEvent::Timer(id));
        Disposition::Continue
    }

    fn on_connect_error(
        &mut self,
        cx: &mut ConnCx<'_>,
        proto: &mut dyn Protocol,
        err: &std::io::Error,
    ) {
        self.emit(cx, proto, RawEvent::ConnectError(err));
    }

    fn on_close(&mut self, cx: &mut ConnCx<'_>, proto: &mut dyn Protocol, reason: &CloseReason) {
        self.emit(cx, proto, RawEvent::Closed(reason));
    }
}
