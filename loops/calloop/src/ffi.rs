//! Registering the embedded loop's descriptor with calloop: the only
//! unsafe code in this crate.

use calloop::{Interest, Mode, Poll, Token};
use lws_loop_poll::PollLoop;

pub(crate) fn register(poll: &mut Poll, lws: &PollLoop, token: Token) -> calloop::Result<()> {
    // SAFETY: calloop requires the descriptor to outlive its registration.
    // It is owned by `lws`, which lives inside the `LwsSource` that calloop
    // unregisters before dropping (on removal, or with the whole loop).
    unsafe { poll.register(lws, Interest::READ, Mode::Level, token) }
}
