//! Connection addressing: generational tokens, and the interest/readiness
//! vocabulary shared with loop adapters.
//!
//! A [`Token`] packs a slot index and a generation. When a connection closes
//! its slot's generation moves on, so a token kept by user code or queued in
//! a loop is simply not found any more: it can never reach the connection
//! that later reuses the slot.

use slotmap::{Key, KeyData, new_key_type};

new_key_type! {
    /// Key of a connection slot in the context's table.
    pub(crate) struct ConnKey;
}

/// Identifies one connection for its whole life, and never another.
///
/// Loop adapters store it as the `u64` user data of their watchers
/// ([`Token::into_raw`] / [`Token::from_raw`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Token(u64);

impl Token {
    /// Rebuild a token from the value a loop stored. Any value is accepted;
    /// one that names no live connection is ignored by the context.
    pub const fn from_raw(raw: u64) -> Self {
        Token(raw)
    }

    /// The value a loop adapter stores with its watcher.
    pub const fn into_raw(self) -> u64 {
        self.0
    }

    pub(crate) fn key(self) -> ConnKey {
        KeyData::from_ffi(self.0).into()
    }
}

impl From<ConnKey> for Token {
    fn from(key: ConnKey) -> Self {
        Token(key.data().as_ffi())
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // index:generation reads better in logs than the packed value.
        write!(f, "Token({}v{})", self.0 & 0xffff_ffff, self.0 >> 32)
    }
}

/// What a watcher should wait for on a file descriptor.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Interest {
    pub readable: bool,
    pub writable: bool,
}

impl Interest {
    pub const NONE: Interest = Interest {
        readable: false,
        writable: false,
    };
    pub const READABLE: Interest = Interest {
        readable: true,
        writable: false,
    };
    pub const WRITABLE: Interest = Interest {
        readable: false,
        writable: true,
    };
    pub const BOTH: Interest = Interest {
        readable: true,
        writable: true,
    };
}

/// What a loop observed on a file descriptor.
///
/// `hangup` and `error` need no interest: the core reads (or checks the
/// socket error) to learn what happened and closes with the right reason.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Readiness {
    pub readable: bool,
    pub writable: bool,
    pub hangup: bool,
    pub error: bool,
}

impl Readiness {
    pub const READABLE: Readiness = Readiness {
        readable: true,
        writable: false,
        hangup: false,
        error: false,
    };
    pub const WRITABLE: Readiness = Readiness {
        readable: false,
        writable: true,
        hangup: false,
        error: false,
    };

    /// Whether the core should attempt a read (data, EOF or an error to collect).
    pub fn wants_read(self) -> bool {
        self.readable || self.hangup || self.error
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use slotmap::SlotMap;

    #[test]
    fn stale_token_never_reaches_reused_slot() {
        let mut map: SlotMap<ConnKey, u32> = SlotMap::with_key();
        let first = Token::from(map.insert(1));
        map.remove(first.key());
        let second = Token::from(map.insert(2));
        assert_ne!(first, second, "reused slot must get a new generation");
        assert!(map.get(first.key()).is_none());
        assert_eq!(map.get(second.key()), Some(&2));
    }

    #[test]
    fn garbage_token_is_not_found() {
        let mut map: SlotMap<ConnKey, u32> = SlotMap::with_key();
        map.insert(1);
        for raw in [0, u64::MAX, 0x1_0000_0000, 12345] {
            assert!(
                map.get(Token::from_raw(raw).key()).is_none(),
                "raw {raw:#x}"
            );
        }
    }
}
