//! Persistent sessions (`clean_session(false)`) across reconnects, against
//! a scripted broker on loopback that drops the first connection with a
//! publish unacknowledged: with the session present, the next connection
//! resends it (DUP set, same identifier) and its completion is reported;
//! without it, the unacknowledged publish is dropped.
//!
//! These tests must not bind anything but 127.0.0.1 or wait without bound.

mod common;

use std::io::Write;
use std::net::TcpListener;
use std::time::Duration;

use common::read_packet;
use lws_core::{Context, RunLoop, VhostBuilder};
use lws_role_mqtt::{MqttCx, MqttEvent, MqttHandler, MqttOptions, MqttProtocol, QoS};

const WAIT: Duration = Duration::from_secs(5);

/// What the broker saw of the resent PUBLISH: (DUP flag, id, payload tail).
type Resent = Option<(bool, u16, Vec<u8>)>;

/// Accept twice. First connection: take the QoS 1 PUBLISH, drop the
/// connection without PUBACK. Second: CONNACK with `session_present`,
/// then (if present) expect the PUBLISH again and acknowledge it.
fn broker(session_present: bool) -> (String, std::thread::JoinHandle<(Vec<u8>, Resent)>) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("mqtt://{}", l.local_addr().expect("addr"));
    let h = std::thread::spawn(move || {
        let (mut s, _) = l.accept().expect("accept 1");
        let (_, connect) = read_packet(&mut s, WAIT).expect("CONNECT 1");
        let flags = connect.get(7).copied().unwrap_or(0);
        s.write_all(&[0x20, 2, 0, 0]).expect("CONNACK 1");
        let (first, body) = read_packet(&mut s, WAIT).expect("PUBLISH");
        assert_eq!(first & 0xf6, 0x32, "QoS 1 PUBLISH");
        drop(s); // no PUBACK
        let (mut s, _) = l.accept().expect("accept 2");
        read_packet(&mut s, WAIT).expect("CONNECT 2");
        s.write_all(&[0x20, 2, u8::from(session_present), 0])
            .expect("CONNACK 2");
        if !session_present {
            return (vec![flags], None);
        }
        let (first, again) = read_packet(&mut s, WAIT).expect("resent PUBLISH");
        let id_at = 2 + usize::from(u16::from_be_bytes([again[0], again[1]]));
        let id = u16::from_be_bytes([again[id_at], again[id_at + 1]]);
        let orig_id = {
            let at = 2 + usize::from(u16::from_be_bytes([body[0], body[1]]));
            u16::from_be_bytes([body[at], body[at + 1]])
        };
        assert_eq!(id, orig_id, "same packet identifier");
        s.write_all(&[0x40, 2, (id >> 8) as u8, id as u8])
            .expect("PUBACK");
        // Wait for the client to go away.
        let _ = read_packet(&mut s, WAIT);
        (
            vec![flags],
            Some((first & 0x08 != 0, id, again[id_at + 2..].to_vec())),
        )
    });
    (url, h)
}

struct Resume {
    url: String,
    log: Vec<String>,
    connects: u32,
    qos: QoS,
}

fn opts() -> MqttOptions {
    MqttOptions::new("lws-persistent").clean_session(false)
}

impl MqttHandler for Resume {
    type Session = ();
    fn on_event(&mut self, cx: &mut MqttCx<'_, '_>, _: &mut (), ev: MqttEvent<'_>) {
        match ev {
            MqttEvent::Connected { session_present } => {
                self.connects += 1;
                self.log.push(format!(
                    "connected {} present={session_present} in_flight={}",
                    self.connects,
                    cx.in_flight()
                ));
                if self.connects == 1 {
                    let id = cx.publish("t/1", b"kept", self.qos, false);
                    self.log.push(format!("published {id:?}"));
                } else if cx.in_flight() == 0 {
                    cx.disconnect();
                }
            }
            MqttEvent::Published { packet_id } => {
                self.log.push(format!("completed {packet_id}"));
                cx.disconnect();
            }
            MqttEvent::Closed(_) if self.connects == 1 => {
                self.log.push("dropped".into());
                lws_role_mqtt::client::connect_from(cx.conn().cx(), &self.url, "mqtt", opts())
                    .expect("reconnect");
            }
            MqttEvent::Closed(_) | MqttEvent::ConnectError(_) => cx.conn().cx().stop(),
            _ => {}
        }
    }
}

fn run(url: &str) -> Vec<String> {
    run_qos(url, QoS::AtLeastOnce)
}

fn run_qos(url: &str, qos: QoS) -> Vec<String> {
    let handler = Resume {
        url: url.to_owned(),
        log: Vec::new(),
        connects: 0,
        qos,
    };
    let mut ctx = Context::builder()
        .vhost(VhostBuilder::new("default").protocol("mqtt", MqttProtocol::new(handler)))
        .build()
        .expect("context");
    lws_role_mqtt::connect(&mut ctx, url, "mqtt", opts()).expect("connect");
    let remote = ctx.remote();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(15));
        remote.stop();
    });
    lws_loop_poll::PollLoop::new()
        .expect("loop")
        .run(&mut ctx)
        .expect("run");
    let p = ctx
        .protocol_mut::<MqttProtocol<Resume>>("default", "mqtt")
        .expect("protocol");
    std::mem::take(&mut p.handler_mut().log)
}

#[test]
fn unacknowledged_publish_is_resent_with_dup_when_the_session_is_present() {
    let (url, broker) = broker(true);
    let log = run(&url);
    let (flags, resent) = broker.join().expect("broker");
    assert_eq!(flags[0] & 0x02, 0, "CONNECT with clean session off");
    let (dup, id, payload) = resent.expect("resent");
    assert!(dup, "DUP set on the resend (3.3.1-1)");
    assert_eq!(payload, b"kept");
    assert_eq!(
        log,
        vec![
            "connected 1 present=false in_flight=0".to_owned(),
            format!("published Ok(Some({id}))"),
            "dropped".into(),
            "connected 2 present=true in_flight=1".into(),
            format!("completed {id}"),
        ]
    );
}

#[test]
fn stored_publishes_are_dropped_when_the_broker_lost_the_session() {
    let (url, broker) = broker(false);
    let log = run(&url);
    broker.join().expect("broker");
    assert_eq!(
        log[2..],
        ["dropped", "connected 2 present=false in_flight=0"]
    );
}

/// QoS 2 dropped after PUBREC/PUBREL: the next connection resends PUBREL
/// (not the PUBLISH) and completes on PUBCOMP (MQTT 3.1.1 §4.4).
#[test]
fn qos2_between_pubrec_and_pubcomp_resends_pubrel() {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("mqtt://{}", l.local_addr().expect("addr"));
    let broker = std::thread::spawn(move || {
        let (mut s, _) = l.accept().expect("accept 1");
        read_packet(&mut s, WAIT).expect("CONNECT 1");
        s.write_all(&[0x20, 2, 0, 0]).expect("CONNACK 1");
        let (first, body) = read_packet(&mut s, WAIT).expect("PUBLISH");
        assert_eq!(first & 0xf6, 0x34, "QoS 2 PUBLISH");
        let at = 2 + usize::from(u16::from_be_bytes([body[0], body[1]]));
        let id = [body[at], body[at + 1]];
        s.write_all(&[0x50, 2, id[0], id[1]]).expect("PUBREC");
        let (rel, rel_id) = read_packet(&mut s, WAIT).expect("PUBREL");
        assert_eq!((rel, rel_id.as_slice()), (0x62, &id[..]));
        drop(s); // no PUBCOMP
        let (mut s, _) = l.accept().expect("accept 2");
        read_packet(&mut s, WAIT).expect("CONNECT 2");
        s.write_all(&[0x20, 2, 1, 0]).expect("CONNACK 2");
        let again = read_packet(&mut s, WAIT).expect("resent");
        s.write_all(&[0x70, 2, id[0], id[1]]).expect("PUBCOMP");
        let _ = read_packet(&mut s, WAIT);
        (again, u16::from_be_bytes(id))
    });
    let log = run_qos(&url, QoS::ExactlyOnce);
    let ((first, body), id) = broker.join().expect("broker");
    assert_eq!(first, 0x62, "PUBREL resent, not the PUBLISH");
    assert_eq!(body, id.to_be_bytes());
    assert_eq!(
        log[3..],
        [
            "connected 2 present=true in_flight=1".to_owned(),
            format!("completed {id}"),
        ]
    );
}
