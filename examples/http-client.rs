//! HTTP/1.1 client: fetch a URL, print the status line, headers and body.
//! Follows redirects with `--follow N`; `--data TEXT` makes it a POST.
//!
//!     cargo run --example http-client -- --url http://127.0.0.1:7681/

mod common;

use std::io::Write;

use lws::http::client::{
    self, ClientCx, ClientEvent, ClientRequest, HttpClientHandler, HttpClientProtocol,
};
use lws::{Context, VhostBuilder};

#[derive(Default)]
struct Print {
    failed: bool,
}

impl HttpClientHandler for Print {
    type Session = ();

    fn on_event(&mut self, cx: &mut ClientCx<'_, '_>, _: &mut (), ev: ClientEvent<'_>) {
        match ev {
            ClientEvent::Response(head) => {
                println!(
                    "HTTP/1.{} {} {}",
                    head.minor_version, head.status, head.reason
                );
                for (name, value) in head.headers.iter() {
                    println!("{name}: {}", String::from_utf8_lossy(value));
                }
                println!();
            }
            ClientEvent::Body(data) => {
                let _ = std::io::stdout().write_all(data);
            }
            ClientEvent::Done => cx.conn().cx().stop(),
            ClientEvent::Error(e) => {
                eprintln!("request failed: {e}");
                self.failed = true;
                cx.conn().cx().stop();
            }
            _ => {}
        }
    }
}

fn main() {
    common::init_logging();
    let cli = common::Cli::client("http-client", "fetch a URL and print the response")
        .opt("--url", "URL", "http:// or https:// URL to fetch")
        .opt("--data", "TEXT", "send TEXT as a POST body")
        .opt("--follow", "N", "follow up to N redirects")
        .default("--url", "http://127.0.0.1:7681/")
        .default("--follow", "5")
        .parse();
    let url = cli.get("--url").unwrap_or_default();
    let req = match cli.get("--data") {
        Some(d) => ClientRequest::post(url, d.as_bytes().to_vec()),
        None => ClientRequest::get(url),
    };
    let req = req
        .unwrap_or_else(|e| common::die("--url", e))
        .follow_redirects(cli.parsed("--follow"));
    let vhost =
        VhostBuilder::new("default").protocol("client", HttpClientProtocol::new(Print::default()));
    let mut ctx = Context::builder()
        .vhost(vhost)
        .build()
        .unwrap_or_else(|e| common::die("startup", e));
    client::send(&mut ctx, "client", req).unwrap_or_else(|e| common::die("request", e));
    common::stop_on_signals(ctx.remote());
    if let Err(e) = lws::loops::run(cli.loop_name(), &mut ctx) {
        common::die("event loop", e);
    }
    let failed = ctx
        .protocol_mut::<HttpClientProtocol<Print>>("default", "client")
        .is_some_and(|p| p.handler().failed);
    std::process::exit(i32::from(failed));
}
