//! A host that re-enters its GLib `MainContext` from inside the library:
//! a handler or a `with_context` closure runs `MainContext::iteration`
//! (a modal dialog's nested main loop, or the "flush pending events" idiom
//! `while ctx.pending() { ctx.iteration(false) }`). The library's state is
//! busy then, so what its sources observe must wait, not be lost: a timer
//! due meanwhile still fires, a descriptor that became ready is still
//! served, a stop still completes, and the nested loop does not spin on
//! the library's sources. Also: calls into the attachment from inside its
//! own callbacks are refused or deferred, never a panic, and dropping the
//! attachment removes its sources from the host context.

use std::cell::{Cell, RefCell};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::rc::Rc;
use std::time::{Duration, Instant};

use glib::{ControlFlow, MainContext, Priority, Source};
use lws_conformance::peer::{self, Echo};
use lws_core::{ConnCx, Context};
use lws_loop_glib::GlibAttached;
use lws_role_raw::{RawEvent, RawHandler};

/// A nested flush that dispatches this many times has found a source that
/// is always ready: it would never end.
const SPIN_LIMIT: usize = 10_000;
/// Failure bound for waiting on an event (a bug fails, not hangs).
const LIMIT: Duration = Duration::from_secs(20);

/// The host's context, owned by this thread, with a 5 ms timer of its own
/// (so blocking iterations return, and to show the host keeps working).
struct Host {
    main: MainContext,
    ticks: Rc<Cell<u32>>,
    timer: Source,
}

impl Host {
    fn new() -> Host {
        let main = MainContext::new();
        let ticks = Rc::new(Cell::new(0u32));
        let t = glib::thread_guard::ThreadGuard::new(ticks.clone());
        let timer = glib::timeout_source_new(
            Duration::from_millis(5),
            None,
            Priority::DEFAULT,
            move || {
                t.get_ref().set(t.get_ref().get() + 1);
                ControlFlow::Continue
            },
        );
        timer.attach(Some(&main));
        Host { main, ticks, timer }
    }

    /// Iterate until `done`, failing after [`LIMIT`].
    fn run_until(&self, what: &str, mut done: impl FnMut() -> bool) {
        let end = Instant::now() + LIMIT;
        while !done() {
            assert!(Instant::now() < end, "{what}: not within {LIMIT:?}");
            self.main.iteration(true);
        }
    }

    /// The host keeps ticking.
    fn still_ticks(&self) {
        let t = self.ticks.get();
        self.run_until("host timer ticks", || self.ticks.get() >= t + 3);
    }

    fn attach(&self, ctx: Context) -> (GlibAttached, Rc<RefCell<Option<Context>>>) {
        let back: Rc<RefCell<Option<Context>>> = Rc::default();
        let b = back.clone();
        let lws = GlibAttached::attach(ctx, &self.main, move |c| *b.borrow_mut() = Some(c));
        (lws, back)
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        self.timer.destroy();
    }
}

/// The flush idiom: dispatch while anything is pending. Returns how many
/// dispatches it took ([`SPIN_LIMIT`] if it never ended).
fn flush(main: &MainContext) -> usize {
    let mut n = 0;
    while main.pending() && n < SPIN_LIMIT {
        main.iteration(false);
        n += 1;
    }
    n
}

/// Iterate `main` (nested) until `at` has passed and then dispatch what is
/// ready: a GLib timeout due by `at` has been dispatched by then.
fn iterate_past(main: &MainContext, at: Instant) {
    while Instant::now() < at + Duration::from_millis(2) {
        main.iteration(true);
    }
    flush(main);
}

#[test]
fn timer_due_during_nested_iteration_still_fires() {
    let host = Host::new();
    let _owner = host.main.acquire().expect("acquire host context");
    let (ctx, _) = peer::tcp_server(Echo::default());
    let (lws, back) = host.attach(ctx);
    let fired = Rc::new(Cell::new(false));
    let f = fired.clone();
    let due = lws
        .with_context(|ctx| {
            ctx.with_cx(|cx| {
                cx.schedule(Duration::from_millis(20), move |_| f.set(true));
                cx.now() + Duration::from_millis(20)
            })
        })
        .expect("attached");
    // The timer's source fires inside this nested loop, while the context
    // is busy running the closure.
    lws.with_context(|_| iterate_past(&host.main, due))
        .expect("attached");
    host.run_until("timer due during the nested loop fires", || fired.get());
    host.still_ticks();
    lws.with_context(Context::stop).expect("attached");
    host.run_until("on_stopped", || back.borrow().is_some());
    assert_eq!(lws.sources(), 0);
}

/// Echo, and on "nest" from one connection: make another connection's
/// descriptor ready (its peer socket is `other`), let the nested loop see
/// it, then flush the host context as a GTK app would.
struct Nester {
    main: MainContext,
    ticks: Rc<Cell<u32>>,
    other: Option<TcpStream>,
    opened: usize,
    flushed: Option<usize>,
}

impl RawHandler for Nester {
    type Session = ();

    fn on_event(&mut self, cx: &mut ConnCx<'_>, _: &mut (), ev: RawEvent<'_>) {
        match ev {
            RawEvent::Opened(_) => self.opened += 1,
            RawEvent::Rx(b"nest") => {
                if let Some(other) = self.other.as_mut() {
                    other.write_all(b"ping").expect("write to the other peer");
                }
                // Nested blocking iterations for two host ticks: the other
                // descriptor, readable since the write above, is polled.
                let t = self.ticks.get();
                while self.ticks.get() < t + 2 {
                    self.main.iteration(true);
                }
                self.flushed = Some(flush(&self.main));
                let _ = cx.write(b"nest");
            }
            RawEvent::Rx(data) => {
                let _ = cx.write(data);
            }
            _ => {}
        }
    }
}

/// Read `want` bytes from a non-blocking client while the host iterates.
fn read_while_iterating(host: &Host, s: &mut TcpStream, want: usize) -> Vec<u8> {
    s.set_nonblocking(true).expect("nonblocking");
    let mut got = Vec::new();
    host.run_until("reply from the library", || {
        let mut buf = [0u8; 64];
        match s.read(&mut buf) {
            Ok(0) => panic!("EOF before the reply"),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) => panic!("read: {e}"),
        }
        got.len() >= want
    });
    got
}

#[test]
fn descriptor_ready_during_nested_flush_is_served_and_not_spun_on() {
    let host = Host::new();
    let _owner = host.main.acquire().expect("acquire host context");
    let nester = Nester {
        main: host.main.clone(),
        ticks: host.ticks.clone(),
        other: None,
        opened: 0,
        flushed: None,
    };
    let (ctx, addr) = peer::tcp_server(nester);
    let (lws, back) = host.attach(ctx);
    let mut a = peer::connect(addr);
    let mut b = peer::connect(addr);
    let opened = || {
        lws.with_context(|c| peer::handler::<Nester>(c).opened)
            .expect("attached")
    };
    host.run_until("both connections accepted", || opened() == 2);
    let b_peer = b.try_clone().expect("clone");
    lws.with_context(|c| peer::handler::<Nester>(c).other = Some(b_peer))
        .expect("attached");

    peer::send(&mut a, b"nest");
    assert_eq!(read_while_iterating(&host, &mut a, 4), b"nest");
    let flushed = lws
        .with_context(|c| peer::handler::<Nester>(c).flushed)
        .expect("attached")
        .expect("the handler nested");
    assert!(
        flushed < SPIN_LIMIT,
        "the nested flush never ended: a library source stayed ready"
    );
    // What the other connection sent during the nested loop is served.
    assert_eq!(read_while_iterating(&host, &mut b, 4), b"ping");
    // And its descriptor is watched again afterwards.
    peer::send(&mut b, b"again");
    assert_eq!(read_while_iterating(&host, &mut b, 5), b"again");

    lws.with_context(Context::stop).expect("attached");
    host.run_until("on_stopped", || back.borrow().is_some());
    assert_eq!(lws.sources(), 0);
    host.still_ticks();
    assert!(flush(&host.main) < SPIN_LIMIT);
}

#[test]
fn stop_timer_due_during_nested_iteration_completes_teardown() {
    let host = Host::new();
    let _owner = host.main.acquire().expect("acquire host context");
    let (ctx, addr) = peer::tcp_server(Echo::default());
    let (lws, back) = host.attach(ctx);
    let mut client = peer::connect(addr);
    peer::send(&mut client, b"hi");
    assert_eq!(read_while_iterating(&host, &mut client, 2), b"hi");
    let due = lws
        .with_context(|ctx| {
            ctx.with_cx(|cx| {
                cx.schedule(Duration::from_millis(20), |cx| cx.stop());
                cx.now() + Duration::from_millis(20)
            })
        })
        .expect("attached");
    lws.with_context(|_| iterate_past(&host.main, due))
        .expect("attached");
    host.run_until("teardown completes (on_stopped)", || {
        back.borrow().is_some()
    });
    assert_eq!(lws.sources(), 0, "stopped library left sources");
    // The client sees the close.
    client.set_nonblocking(false).expect("blocking");
    assert!(
        peer::read_to_eof(&mut client).is_ok_and(|rest| rest.is_empty()),
        "client saw a clean close"
    );
    host.still_ticks();
    assert!(flush(&host.main) < SPIN_LIMIT);
}

/// A handler that reaches the attachment itself (the host stored it where
/// the handler can see it) and calls into it from its own callback.
struct Reacher {
    lws: Rc<RefCell<Option<GlibAttached>>>,
    inner_with_context: Option<bool>,
    detached: Option<bool>,
}

impl RawHandler for Reacher {
    type Session = ();

    fn on_event(&mut self, cx: &mut ConnCx<'_>, _: &mut (), ev: RawEvent<'_>) {
        match ev {
            RawEvent::Rx(b"with") => {
                let r = self.lws.borrow().as_ref().map(|l| l.with_context(|_| ()));
                self.inner_with_context = r.map(|r| r.is_some());
                let _ = cx.write(b"with");
            }
            RawEvent::Rx(b"detach") => {
                let r = self.lws.borrow_mut().take().map(GlibAttached::detach);
                self.detached = r.map(|c| c.is_some());
            }
            _ => {}
        }
    }
}

#[test]
fn calls_from_inside_a_callback_are_refused_or_deferred_not_a_panic() {
    let host = Host::new();
    let _owner = host.main.acquire().expect("acquire host context");
    let slot: Rc<RefCell<Option<GlibAttached>>> = Rc::default();
    let reacher = Reacher {
        lws: slot.clone(),
        inner_with_context: None,
        detached: None,
    };
    let (ctx, addr) = peer::tcp_server(reacher);
    let (lws, back) = host.attach(ctx);
    *slot.borrow_mut() = Some(lws);
    let mut client = peer::connect(addr);
    peer::send(&mut client, b"with");
    assert_eq!(read_while_iterating(&host, &mut client, 4), b"with");
    let inner = slot
        .borrow()
        .as_ref()
        .and_then(|l| l.with_context(|c| peer::handler::<Reacher>(c).inner_with_context))
        .expect("attached");
    assert_eq!(
        inner,
        Some(false),
        "with_context from inside a callback returns None"
    );

    // Detach from inside a callback: nothing to hand back there, so the
    // sources go (and the context is dropped) once the callback returns.
    peer::send(&mut client, b"detach");
    client.set_nonblocking(false).expect("blocking");
    let eof = std::thread::spawn(move || peer::read_to_eof(&mut client));
    host.run_until("the detached context is gone", || eof.is_finished());
    assert!(
        eof.join().expect("reader").is_ok(),
        "client saw the close of the dropped context"
    );
    assert!(slot.borrow().is_none());
    assert!(back.borrow().is_none(), "on_stopped does not run on detach");
    host.still_ticks();
    assert!(flush(&host.main) < SPIN_LIMIT, "no library source left");
}

#[test]
fn dropping_the_attachment_removes_its_sources() {
    let host = Host::new();
    let _owner = host.main.acquire().expect("acquire host context");
    let (ctx, addr) = peer::tcp_server(Echo::default());
    let (lws, _back) = host.attach(ctx);
    let mut client = peer::connect(addr);
    peer::send(&mut client, b"hi");
    assert_eq!(read_while_iterating(&host, &mut client, 2), b"hi");
    drop(lws);
    // The context (and its descriptors) are gone: a source left on a closed
    // descriptor would be reported ready (invalid) on every iteration.
    assert!(flush(&host.main) < SPIN_LIMIT, "a library source was left");
    host.still_ticks();
    assert!(flush(&host.main) < SPIN_LIMIT, "a library source was left");
}
