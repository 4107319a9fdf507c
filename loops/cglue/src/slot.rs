//! The callback data of one source, for C loops that carry one opaque
//! pointer per source (libev, sd-event): which adapter it serves (one
//! strong count, held until the slot is freed), what kind of source it is
//! and its token. The adapter boxes it, hands the pointer to C and frees
//! it with the source. No C calls here.

use lws_core::{LoopEvent, Readiness, Token};

use crate::{Link, Source, Watchers};

/// What kind of source a [`Slot`] belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Io,
    Timer,
    Forced,
}

/// One source's callback data.
pub struct Slot<W: Watchers> {
    link: Link<W>,
    kind: Kind,
    token: u64,
}

impl<W: Watchers> std::fmt::Debug for Slot<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slot").field("kind", &self.kind).finish()
    }
}

impl<W: Watchers> Slot<W> {
    /// The data of a new source for `what`, serving `link`.
    pub fn new(link: &Link<W>, what: &Source) -> Self {
        let (kind, token) = match *what {
            Source::Io { token, .. } => (Kind::Io, token.into_raw()),
            Source::Timer => (Kind::Timer, 0),
            Source::Forced => (Kind::Forced, 0),
        };
        Slot {
            link: link.clone(),
            kind,
            token,
        }
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// What this source observed (`r`: a descriptor's readiness), and the
    /// adapter to serve it: call [`crate::Adapter::serve`] after the last
    /// use of the slot, which serving may free.
    pub fn event(&self, r: Readiness) -> (Link<W>, LoopEvent) {
        let ev = match self.kind {
            Kind::Io => LoopEvent::Io(Token::from_raw(self.token), r),
            Kind::Timer => LoopEvent::Timer,
            Kind::Forced => LoopEvent::Forced,
        };
        (self.link.clone(), ev)
    }
}
