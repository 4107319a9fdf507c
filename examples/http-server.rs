//! HTTP/1.1 (and HTTP/2) server: serves a directory (the main demo) and
//! answers `POST /upload` with the size of the body it streamed in. The
//! library answers the rest: 405 to other methods on the served files,
//! 501 to unknown methods.
//!
//!     cargo run --example http-server -- --port 7681 --dir examples/www
//!     curl http://127.0.0.1:7681/
//!
//! With `--tls` it serves HTTPS (a generated certificate unless `--cert`
//! and `--key` are given).

mod common;

use lws::http::{HttpCx, HttpEvent, HttpHandler, HttpProtocol, Mount};
use lws::{Context, VhostBuilder};

/// Handles what the file mount does not: uploads, and 404 for the rest.
struct Upload;

impl HttpHandler for Upload {
    /// Bytes of this request's body (state is per request).
    type Exchange = u64;

    fn on_event(&mut self, cx: &mut HttpCx<'_, '_>, received: &mut u64, ev: HttpEvent<'_>) {
        match ev {
            HttpEvent::Body(data) => *received += data.len() as u64,
            HttpEvent::BodyEnd => {
                let is_upload = cx
                    .request()
                    .is_some_and(|r| r.method() == "POST" && r.path() == "/upload");
                let result = if is_upload {
                    cx.respond(
                        200,
                        &[("Content-Type", "text/plain")],
                        format!("received {received} bytes\n").as_bytes(),
                    )
                } else {
                    cx.respond(404, &[("Content-Type", "text/plain")], b"404 Not Found\n")
                };
                if let Err(e) = result {
                    log::warn!("response failed: {e}");
                }
            }
            _ => {}
        }
    }
}

fn main() {
    common::init_logging();
    let cli = common::Cli::server("http-server", "serve a directory over HTTP/1.1", 7681)
        .opt("--dir", "DIR", "directory to serve")
        .opt("--tls", "", "serve HTTPS")
        .opt(
            "--cert",
            "PEM",
            "certificate chain for --tls (default: generated)",
        )
        .opt("--key", "PEM", "private key for --tls")
        .tls_lib()
        .default(
            "--dir",
            concat!(env!("CARGO_MANIFEST_DIR"), "/examples/www"),
        )
        .parse();
    let dir = cli.get("--dir").unwrap_or(".").to_owned();
    let http = HttpProtocol::new(Upload)
        .mount(Mount::dir("/", &dir))
        .unwrap_or_else(|e| common::die("--dir", e));
    let mut vhost = VhostBuilder::new("default")
        .listen(cli.listen())
        .protocol("http", http);
    let mut builder = Context::builder();
    if cli.flag("--tls") {
        vhost = vhost.tls(common::tls::server_spec(&cli, &["h2", "http/1.1"]));
        builder = builder.tls_backend(common::tls::backend(&cli));
    }
    let scheme = if cli.flag("--tls") { "https" } else { "http" };
    let mut ctx = builder
        .vhost(vhost)
        .build()
        .unwrap_or_else(|e| common::die("startup", e));
    common::stop_on_signals(ctx.remote());
    for ep in ctx.bound_endpoints("default").unwrap_or_default() {
        common::announce(scheme, ep);
    }
    if let Err(e) = lws::loops::run(cli.loop_name(), &mut ctx) {
        common::die("event loop", e);
    }
}
