//! Drives the Autobahn testsuite's fuzzingserver with the lws-rs
//! WebSocket client: asks for the case count, runs every case (echoing
//! what the server sends), then asks the server to write its reports.
//!
//!     wstest -m fuzzingserver -s fuzzingserver.json   # listening on 127.0.0.1:9001
//!     cargo run --release --example ws-autobahn-client -- --url ws://127.0.0.1:9001

mod common;

use lws::ws::client::{self, ClientOptions};
use lws::ws::{Message, WsConfig, WsCx, WsEvent, WsHandler, WsProtocol};
use lws::{Context, VhostBuilder};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    Count,
    Case(u32),
    Report,
}

struct Driver {
    base: String,
    agent: String,
    step: Step,
    cases: u32,
}

impl Driver {
    fn url(&self) -> String {
        match self.step {
            Step::Count => format!("{}/getCaseCount", self.base),
            Step::Case(i) => format!("{}/runCase?case={i}&agent={}", self.base, self.agent),
            Step::Report => format!("{}/updateReports?agent={}", self.base, self.agent),
        }
    }
}

impl WsHandler for Driver {
    type Session = ();

    fn on_event(&mut self, cx: &mut WsCx<'_, '_>, _: &mut (), ev: WsEvent<'_>) {
        match ev {
            WsEvent::Message(Message::Text(t)) if self.step == Step::Count => {
                self.cases = t.trim().parse().unwrap_or(0);
                println!("autobahn: {} cases", self.cases);
            }
            WsEvent::Message(Message::Text(t)) => drop(cx.send_text(t)),
            WsEvent::Message(Message::Binary(b)) => drop(cx.send_binary(b)),
            WsEvent::Closed { .. } | WsEvent::ConnectError(_) => {
                self.step = match self.step {
                    Step::Count if self.cases > 0 => Step::Case(1),
                    Step::Case(i) if i < self.cases => Step::Case(i + 1),
                    Step::Case(_) => Step::Report,
                    Step::Count | Step::Report => return cx.conn().cx().stop(),
                };
                let url = self.url();
                if let Err(e) =
                    client::connect_from(cx.conn().cx(), &url, "autobahn", ClientOptions::default())
                {
                    eprintln!("{url}: {e}");
                    cx.conn().cx().stop();
                }
            }
            _ => {}
        }
    }
}

fn main() {
    common::init_logging();
    let cli = common::Cli::client(
        "ws-autobahn-client",
        "run the Autobahn fuzzingserver cases with the lws-rs client",
    )
    .opt("--url", "URL", "fuzzingserver URL")
    .opt("--agent", "NAME", "agent name in the reports")
    .default("--url", "ws://127.0.0.1:9001")
    .default("--agent", "lws-rs")
    .parse();
    let driver = Driver {
        base: cli
            .get("--url")
            .unwrap_or_default()
            .trim_end_matches('/')
            .to_owned(),
        agent: cli.get("--agent").unwrap_or("lws-rs").to_owned(),
        step: Step::Count,
        cases: 0,
    };
    let first = driver.url();
    let config = WsConfig {
        max_message: 64 << 20,
        ..WsConfig::default()
    };
    let proto = WsProtocol::new(driver).config(config);
    let mut ctx = Context::builder()
        .vhost(VhostBuilder::new("default").protocol("autobahn", proto))
        .build()
        .unwrap_or_else(|e| common::die("startup", e));
    client::connect(&mut ctx, &first, "autobahn", ClientOptions::default())
        .unwrap_or_else(|e| common::die("--url", e));
    common::stop_on_signals(ctx.remote());
    if let Err(e) = lws::loops::run(cli.loop_name(), &mut ctx) {
        common::die("event loop", e);
    }
}
