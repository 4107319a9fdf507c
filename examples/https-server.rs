//! HTTPS server with a generated self-signed certificate: serves a
//! directory over TLS (rustls, sans-IO, so any `--loop` works). The CA to
//! trust is written to a temp file whose path is printed.
//!
//!     cargo run --example https-server -- --port 7443
//!     curl --cacert <printed path> https://localhost:7443/

mod common;

use lws::http::HttpProtocol;
use lws::{Context, VhostBuilder};

fn main() {
    common::init_logging();
    let cli = common::Cli::server("https-server", "serve a directory over HTTPS", 7443)
        .opt("--dir", "DIR", "directory to serve")
        .opt(
            "--tls",
            "",
            "accepted for symmetry: this server always uses TLS",
        )
        .opt("--cert", "PEM", "certificate chain (default: generated)")
        .opt("--key", "PEM", "private key")
        .tls_lib()
        .default(
            "--dir",
            concat!(env!("CARGO_MANIFEST_DIR"), "/examples/www"),
        )
        .parse();
    let files = HttpProtocol::files(cli.get("--dir").unwrap_or("."))
        .unwrap_or_else(|e| common::die("--dir", e));
    let vhost = VhostBuilder::new("localhost")
        .listen(cli.listen())
        .tls(common::tls::server_spec(&cli, &["h2", "http/1.1"]))
        .protocol("http", files);
    let mut ctx = Context::builder()
        .tls_backend(common::tls::backend(&cli))
        .vhost(vhost)
        .build()
        .unwrap_or_else(|e| common::die("startup", e));
    common::stop_on_signals(ctx.remote());
    for ep in ctx.bound_endpoints("localhost").unwrap_or_default() {
        common::announce("https", ep);
    }
    if let Err(e) = lws::loops::run(cli.loop_name(), &mut ctx) {
        common::die("event loop", e);
    }
}
