//! Protocols: the user's handlers, registered per vhost by name.
//!
//! A protocol object lives as long as its vhost and is shared by every
//! connection bound to it (it is the place for per-vhost state, like
//! libwebsockets' per-vhost data). For each new connection it creates the
//! role that will drive that connection. Role crates wrap a typed user
//! handler in a type implementing [`Protocol`]; users rarely implement it
//! directly.

use std::any::Any;

use crate::cx::Cx;
use crate::role::Role;

/// How a connection came to be bound to a protocol.
#[derive(Debug)]
#[non_exhaustive]
pub enum Origin {
    /// Accepted on one of the vhost's listeners.
    Accepted,
    /// Handed over by the application.
    Adopted,
    /// Opened as a client connection, with the payload given to
    /// [`Connect::payload`](crate::Connect::payload), if any.
    Client(Option<Box<dyn Any>>),
    /// Re-bound from another role, with what that role handed over.
    Rebound(Box<dyn Any>),
}

/// Context-wide events, delivered to every protocol of every vhost (or, for
/// timers, to the protocol that set them).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ContextEvent {
    /// The waker was triggered ([`Remote::wake`](crate::Remote::wake)), the
    /// `LWS_CALLBACK_EVENT_WAIT_CANCELLED` equivalent.
    Wake,
    /// A protocol timer set with [`Cx::set_protocol_timer`] fired.
    Timer(u64),
    /// The context began a graceful shutdown.
    Stopping,
    /// A lookup started with [`Cx::lookup`] finished.
    Lookup(crate::dns::Lookup),
}

/// A named handler registered on a vhost.
#[allow(unused_variables)]
pub trait Protocol: Any {
    /// Create the role for a connection bound to this protocol.
    fn new_role(&mut self, origin: Origin) -> Box<dyn Role>;

    /// A context-wide event.
    fn on_context_event(&mut self, cx: &mut Cx<'_>, event: &ContextEvent) {}
}

/// Reach the concrete protocol type behind a `dyn Protocol`.
pub fn downcast_protocol<P: Protocol>(p: &mut dyn Protocol) -> Option<&mut P> {
    let any: &mut dyn Any = p;
    any.downcast_mut::<P>()
}
