//! MQTT client: connects to `--url`, subscribes to `--sub` (if given),
//! publishes `--message` to `--pub` (if given) once subscribed, prints each
//! message received, and disconnects after `--count` of them (or once its
//! publish completed, when it subscribes to nothing).
//!
//!     cargo run --example mqtt-client -- --url mqtt://127.0.0.1:1883 --sub 'demo/#' --pub demo/hello --message hi

mod common;

use lws::mqtt::{MqttCx, MqttEvent, MqttHandler, MqttOptions, MqttProtocol, QoS};
use lws::{Context, TlsClientSpec, VhostBuilder};

struct Client {
    sub: Option<String>,
    publish: Option<(String, String)>,
    qos: QoS,
    want: usize,
    got: usize,
    failed: bool,
}

impl Client {
    fn publish(&mut self, cx: &mut MqttCx<'_, '_>) {
        if let Some((topic, msg)) = self.publish.take() {
            match cx.publish(&topic, msg.as_bytes(), self.qos, false) {
                Ok(_) => self.maybe_done(cx),
                Err(e) => {
                    eprintln!("publish failed: {e}");
                    self.failed = true;
                    cx.disconnect();
                }
            }
        }
    }
}

impl Client {
    /// Disconnect once everything asked for happened: the messages to
    /// receive arrived and our publish (QoS 1/2) completed.
    fn maybe_done(&mut self, cx: &mut MqttCx<'_, '_>) {
        let received = self.sub.is_none() || self.got >= self.want;
        if received && self.publish.is_none() && cx.in_flight() == 0 {
            cx.disconnect();
        }
    }
}

impl MqttHandler for Client {
    type Session = ();

    fn on_event(&mut self, cx: &mut MqttCx<'_, '_>, _: &mut (), ev: MqttEvent<'_>) {
        match ev {
            MqttEvent::Connected { .. } => {
                println!("connected");
                match self.sub.clone() {
                    Some(f) => {
                        if let Err(e) = cx.subscribe(&[(&f, self.qos)]) {
                            eprintln!("subscribe failed: {e}");
                            self.failed = true;
                            cx.disconnect();
                        }
                    }
                    None => self.publish(cx),
                }
            }
            MqttEvent::Subscribed { granted, .. } => {
                println!("subscribed: {granted:?}");
                self.publish(cx);
            }
            MqttEvent::Message { topic, payload, .. } => {
                println!("{topic} {}", String::from_utf8_lossy(payload));
                self.got += 1;
                self.maybe_done(cx);
            }
            MqttEvent::Published { packet_id } => {
                println!("published (packet {packet_id})");
                self.maybe_done(cx);
            }
            MqttEvent::Refused(code) => {
                eprintln!("broker refused: {code}");
                self.failed = true;
            }
            MqttEvent::ConnectError(e) => {
                eprintln!("connect failed: {e}");
                self.failed = true;
                cx.conn().cx().stop();
            }
            MqttEvent::Closed(reason) => {
                println!("closed: {reason}");
                cx.conn().cx().stop();
            }
            _ => {}
        }
    }
}

fn main() {
    common::init_logging();
    let cli = common::Cli::client(
        "mqtt-client",
        "MQTT 3.1.1 client: subscribe, publish, print",
    )
    .opt("--url", "URL", "mqtt:// or mqtts:// broker URL")
    .opt("--sub", "FILTER", "topic filter to subscribe to")
    .opt("--pub", "TOPIC", "topic to publish --message to")
    .opt("--message", "TEXT", "message to publish")
    .opt("--qos", "N", "QoS 0, 1 or 2 for both")
    .opt("--count", "N", "disconnect after N messages received")
    .opt("--client-id", "ID", "client identifier")
    .opt("--cacert", "PEM", "CA certificate to trust for mqtts://")
    .tls_lib()
    .default("--url", "mqtt://127.0.0.1:1883")
    .default("--message", "hello from lws-rs")
    .default("--qos", "1")
    .default("--count", "1")
    .default("--client-id", "lws-rs-example")
    .parse();
    let qos = QoS::from_bits(cli.parsed("--qos"))
        .unwrap_or_else(|| common::die("--qos", "must be 0, 1 or 2"));
    let client = Client {
        sub: cli.get("--sub").map(str::to_owned),
        publish: cli.get("--pub").map(|t| {
            (
                t.to_owned(),
                cli.get("--message").unwrap_or_default().to_owned(),
            )
        }),
        qos,
        want: cli.parsed("--count"),
        got: 0,
        failed: false,
    };
    let mut builder = Context::builder()
        .vhost(VhostBuilder::new("default").protocol("mqtt", MqttProtocol::new(client)))
        .tls_backend(common::tls::backend(&cli));
    if let Some(ca) = cli.get("--cacert") {
        let pem = std::fs::read(ca).unwrap_or_else(|e| common::die("--cacert", e));
        builder = builder.tls_client(TlsClientSpec {
            ca_pem: pem,
            ..Default::default()
        });
    }
    let mut ctx = builder
        .build()
        .unwrap_or_else(|e| common::die("startup", e));
    let opts = MqttOptions::new(cli.get("--client-id").unwrap_or_default());
    lws::mqtt::connect(&mut ctx, cli.get("--url").unwrap_or_default(), "mqtt", opts)
        .unwrap_or_else(|e| common::die("--url", e));
    common::stop_on_signals(ctx.remote());
    if let Err(e) = lws::loops::run(cli.loop_name(), &mut ctx) {
        common::die("event loop", e);
    }
    let failed = ctx
        .protocol_mut::<MqttProtocol<Client>>("default", "mqtt")
        .is_none_or(|p| {
            p.handler().failed || p.handler().got < p.handler().want && p.handler().sub.is_some()
        });
    std::process::exit(i32::from(failed));
}
