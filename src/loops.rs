//! Pick an event loop by name at run time, among those compiled in.

use lws_core::{Context, Error};

/// Names of the loops compiled into this build, default first.
pub fn names() -> &'static [&'static str] {
    &[
        #[cfg(feature = "loop-poll")]
        "poll",
        #[cfg(feature = "loop-mio")]
        "mio",
        #[cfg(feature = "loop-polling")]
        "polling",
        #[cfg(feature = "loop-calloop")]
        "calloop",
        #[cfg(feature = "loop-glib")]
        "glib",
        #[cfg(feature = "loop-libuv")]
        "libuv",
        #[cfg(feature = "loop-libevent")]
        "libevent",
        #[cfg(feature = "loop-libev")]
        "libev",
        #[cfg(feature = "loop-sdevent")]
        "sd-event",
        #[cfg(feature = "loop-async-io")]
        "async-io",
        #[cfg(feature = "loop-uloop")]
        "uloop",
    ]
}

/// Run `ctx` on the owned loop called `name` until the context stops.
pub fn run(name: &str, ctx: &mut Context) -> Result<(), Error> {
    #[allow(unused_imports)]
    use lws_core::RunLoop;
    match name {
        #[cfg(feature = "loop-poll")]
        "poll" => crate::poll::PollLoop::new()?.run(ctx),
        #[cfg(feature = "loop-mio")]
        "mio" => crate::mio::MioLoop::new()?.run(ctx),
        #[cfg(feature = "loop-polling")]
        "polling" => crate::polling::PollingLoop::new()?.run(ctx),
        #[cfg(feature = "loop-calloop")]
        "calloop" => crate::calloop::CalloopLoop::new().run(ctx),
        #[cfg(feature = "loop-glib")]
        "glib" => crate::glib::GlibLoop::new().run(ctx),
        #[cfg(feature = "loop-libuv")]
        "libuv" => crate::libuv::UvLoop::new()?.run(ctx),
        #[cfg(feature = "loop-libevent")]
        "libevent" => crate::libevent::EvLoop::new()?.run(ctx),
        #[cfg(feature = "loop-libev")]
        "libev" => crate::libev::EvLoop::new()?.run(ctx),
        #[cfg(feature = "loop-sdevent")]
        "sd-event" => crate::sdevent::SdLoop::new()?.run(ctx),
        #[cfg(feature = "loop-async-io")]
        "async-io" => crate::async_io::AsyncIoLoop::new().run(ctx),
        #[cfg(feature = "loop-uloop")]
        "uloop" => crate::uloop::UloopLoop::new()?.run(ctx),
        other => Err(Error::Loop {
            lib: "lws",
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!(
                    "no loop named {other:?} in this build (have: {})",
                    names().join(", ")
                ),
            ),
        }),
    }
}
