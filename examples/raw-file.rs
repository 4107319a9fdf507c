//! Raw file adoption: read a pipe (or tty) on the event loop. By default it
//! adopts standard input; `--fifo PATH` opens a named pipe instead. Prints
//! each chunk as it arrives and exits at end of file.
//!
//!     printf 'one\ntwo\n' | cargo run --example raw-file

mod common;

use std::os::fd::{AsFd, OwnedFd};

use lws::raw::{RawEvent, RawProtocol};
use lws::{Adopt, CloseReason, Context, VhostBuilder};

fn main() {
    common::init_logging();
    let cli = common::Cli::client(
        "raw-file",
        "read a pipe or tty on the event loop (default: stdin)",
    )
    .opt("--fifo", "PATH", "read this named pipe instead of stdin")
    .parse();
    let fd: OwnedFd = match cli.get("--fifo") {
        Some(path) => std::fs::File::open(path)
            .unwrap_or_else(|e| common::die(path, e))
            .into(),
        None => std::io::stdin()
            .as_fd()
            .try_clone_to_owned()
            .unwrap_or_else(|e| common::die("stdin", e)),
    };
    let mut total = 0usize;
    let reader = RawProtocol::from_fn(move |cx, ev| match ev {
        RawEvent::Rx(data) => {
            total += data.len();
            print!("{}", String::from_utf8_lossy(data));
        }
        RawEvent::Closed(reason) => {
            match reason {
                CloseReason::PeerClosed => eprintln!("end of file after {total} bytes"),
                CloseReason::WatchFailed(_) => {
                    eprintln!(
                        "cannot watch this descriptor ({reason}); regular files are not pollable, pipe them instead"
                    )
                }
                other => eprintln!("closed: {other}"),
            }
            cx.cx().stop();
        }
        _ => {}
    });
    let mut ctx = Context::builder()
        .vhost(
            VhostBuilder::new("default")
                .protocol("reader", reader)
                .idle_timeout(None),
        )
        .build()
        .unwrap_or_else(|e| common::die("startup", e));
    ctx.adopt(Adopt::file(fd))
        .unwrap_or_else(|e| common::die("adopt", e));
    common::stop_on_signals(ctx.remote());
    if let Err(e) = lws::loops::run(cli.loop_name(), &mut ctx) {
        common::die("event loop", e);
    }
}
