//! The client against a scripted fake broker on loopback: keep-alive, the
//! QoS 2 receiver rules, and broken or hostile brokers. Every case must end
//! in the named close, never a panic or a hang.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::{read_packet, run_client};
use lws_role_mqtt::{MqttEvent, MqttOptions};

const LIMIT: Duration = Duration::from_secs(15);
const CONNACK: [u8; 4] = [0x20, 2, 0, 0];

/// A broker that accepts one client, checks its CONNECT, then runs `script`.
fn fake<T: Send + 'static>(
    script: impl FnOnce(TcpStream) -> T + Send + 'static,
) -> (String, JoinHandle<T>) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("mqtt://{}", l.local_addr().expect("addr"));
    let h = std::thread::spawn(move || {
        let (mut s, _) = l.accept().expect("accept");
        let (first, body) = read_packet(&mut s, Duration::from_secs(5)).expect("CONNECT");
        assert_eq!(first, 0x10, "CONNECT first");
        assert_eq!(
            &body[..7],
            &[0, 4, b'M', b'Q', b'T', b'T', 4],
            "protocol name and level"
        );
        script(s)
    });
    (url, h)
}

#[test]
fn pings_every_keep_alive_and_reads_the_answers() {
    let (url, broker) = fake(|mut s| {
        s.write_all(&CONNACK).expect("connack");
        let t0 = Instant::now();
        let mut pings = Vec::new();
        for _ in 0..3 {
            let (first, body) = read_packet(&mut s, Duration::from_secs(3)).expect("a PINGREQ");
            assert_eq!((first, body.len()), (0xC0, 0), "PINGREQ");
            pings.push(t0.elapsed());
            s.write_all(&[0xD0, 0]).expect("pingresp");
        }
        pings
    });
    let opts = MqttOptions::new("ka").keep_alive(Duration::from_secs(1));
    let log = run_client(&url, opts, LIMIT, |_, _| {});
    let pings = broker.join().expect("broker");
    assert_eq!(pings.len(), 3);
    assert!(
        pings[0] >= Duration::from_millis(900),
        "first ping after one keep-alive: {pings:?}"
    );
    // The broker hung up after the third PINGRESP: that, not a timeout,
    // ended the connection, so every PINGRESP was taken as an answer.
    assert_eq!(
        log.last().map(String::as_str),
        Some("closed peer closed"),
        "{log:?}"
    );
}

#[test]
fn no_pingresp_closes_with_timeout() {
    let (url, broker) = fake(|mut s| {
        s.write_all(&CONNACK).expect("connack");
        let mut buf = [0u8; 64];
        while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
    });
    let opts = MqttOptions::new("ka").keep_alive(Duration::from_secs(1));
    let t0 = Instant::now();
    let log = run_client(&url, opts, LIMIT, |_, _| {});
    broker.join().expect("broker");
    assert_eq!(
        log.last().map(String::as_str),
        Some("closed timeout"),
        "{log:?}"
    );
    assert!(
        t0.elapsed() < Duration::from_secs(8),
        "closed after {:?}",
        t0.elapsed()
    );
}

#[test]
fn qos2_message_delivered_once_with_pubrec_and_pubcomp() {
    let (url, broker) = fake(|mut s| {
        s.write_all(&CONNACK).expect("connack");
        // PUBLISH QoS 2 id 7, then the same again with DUP, then PUBREL.
        let publish = [0x34, 8, 0, 1, b't', 0, 7, b'a', b'b', b'c'];
        let mut dup = publish;
        dup[0] |= 0x08;
        s.write_all(&publish).expect("publish");
        s.write_all(&dup).expect("dup");
        let a = read_packet(&mut s, Duration::from_secs(5)).expect("PUBREC 1");
        let b = read_packet(&mut s, Duration::from_secs(5)).expect("PUBREC 2");
        s.write_all(&[0x62, 2, 0, 7]).expect("pubrel");
        let c = read_packet(&mut s, Duration::from_secs(5)).expect("PUBCOMP");
        vec![a, b, c]
    });
    let log = run_client(&url, MqttOptions::new("q2"), LIMIT, |cx, ev| {
        if let MqttEvent::Message { .. } = ev {
            cx.conn().set_timer(Duration::from_millis(300), 1);
        }
        if let MqttEvent::Timer(1) = ev {
            cx.disconnect();
        }
    });
    let got = broker.join().expect("broker");
    assert_eq!(
        got,
        vec![(0x50, vec![0, 7]), (0x50, vec![0, 7]), (0x70, vec![0, 7])],
        "PUBREC for each copy, PUBCOMP for the PUBREL"
    );
    let messages = log.iter().filter(|l| l.starts_with("message")).count();
    assert_eq!(messages, 1, "delivered once: {log:?}");
}

fn hostile(reply: &'static [u8], opts: MqttOptions) -> Vec<String> {
    let (url, broker) = fake(move |mut s| {
        let _ = s.write_all(reply);
        let mut buf = [0u8; 64];
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
    });
    let log = run_client(&url, opts, LIMIT, |_, _| {});
    broker.join().expect("broker");
    log
}

#[test]
fn hostile_brokers_get_a_named_protocol_close() {
    let cases: &[(&[u8], &str)] = &[
        (
            &[0x30, 3, 0, 1, b't'],
            "closed protocol error: first packet from the broker is not CONNACK (3.2.0-1)",
        ),
        (
            &[0x20, 2, 0x80, 0],
            "closed protocol error: CONNACK: reserved acknowledge flags set (3.2.2.1)",
        ),
        (
            &[0x20, 2, 0, 0, 0xF0, 0],
            "closed protocol error: reserved packet type 15",
        ),
        (
            &[0x20, 2, 0, 0, 0x82, 6, 0, 1, 0, 1, b't', 0],
            "closed protocol error: a client-to-server packet from the broker",
        ),
        (
            &[0x20, 2, 0, 0, 0x20, 2, 0, 0],
            "closed protocol error: second CONNACK",
        ),
        (
            &[0x20, 2, 0, 0, 0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F],
            "closed protocol error: remaining length longer than 4 bytes (2.2.3)",
        ),
        (
            &[0x20, 2, 0, 0, 0x30, 0x80, 0x89, 0x7A],
            "closed protocol error: packet of 2000004 bytes exceeds the limit of 1024",
        ),
        (
            &[0x20, 2, 0, 0, 0x32, 5, 0, 1, b't', 0, 0],
            "closed protocol error: packet identifier 0 (2.3.1-1)",
        ),
    ];
    for (reply, want) in cases {
        let mut opts = MqttOptions::new("h");
        opts.max_packet = 1024;
        let log = hostile(reply, opts);
        assert_eq!(
            log.last().map(String::as_str),
            Some(*want),
            "{reply:02x?}: {log:?}"
        );
        assert!(!log.iter().any(|l| l.starts_with("message")), "{log:?}");
    }
}

#[test]
fn silent_broker_hits_the_connack_timeout() {
    let mut opts = MqttOptions::new("slow");
    opts.connack_timeout = Duration::from_millis(300);
    let log = hostile(&[], opts);
    assert_eq!(log, vec!["closed timeout".to_owned()]);
}

#[test]
fn refused_and_unreachable_are_reported() {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let log = run_client(
        &format!("mqtt://127.0.0.1:{port}"),
        MqttOptions::new("x"),
        LIMIT,
        |_, _| {},
    );
    assert_eq!(log, vec!["connect error ConnectionRefused".to_owned()]);
    let err = lws_role_mqtt::connect(
        &mut lws_core::Context::builder()
            .vhost(lws_core::VhostBuilder::new("default").protocol(
                "mqtt",
                lws_role_mqtt::MqttProtocol::new(common::Script::silent()),
            ))
            .build()
            .expect("ctx"),
        "http://127.0.0.1/",
        "mqtt",
        MqttOptions::new("x"),
    )
    .expect_err("not an mqtt URL");
    assert!(err.to_string().contains("mqtt:// or mqtts://"), "{err}");
}

/// A broker that answers CONNACK, then reads and never acknowledges
/// anything; returns how many packets of each type it read.
fn never_acks(url_out: &mut String) -> JoinHandle<std::collections::BTreeMap<u8, usize>> {
    let (url, h) = fake(|mut s| {
        s.write_all(&CONNACK).expect("connack");
        let mut seen = std::collections::BTreeMap::new();
        while let Some((first, _)) = read_packet(&mut s, Duration::from_secs(10)) {
            *seen.entry(first & 0xF0).or_insert(0) += 1;
        }
        seen
    });
    *url_out = url;
    h
}

#[test]
fn all_packet_ids_held_is_an_error_not_a_hang() {
    let mut url = String::new();
    let broker = never_acks(&mut url);
    let opts = MqttOptions {
        max_in_flight: usize::MAX,
        ..MqttOptions::new("ids")
    };
    let result = std::rc::Rc::new(std::cell::RefCell::new((0usize, String::new())));
    let r = result.clone();
    // Publish in batches, one per timer tick, so the output is flushed
    // between them.
    let log = run_client(&url, opts, Duration::from_secs(60), move |cx, ev| {
        if !matches!(ev, MqttEvent::Connected { .. } | MqttEvent::Timer(1)) {
            return;
        }
        for _ in 0..4096 {
            match cx.publish("t", b"", lws_role_mqtt::QoS::AtLeastOnce, false) {
                Ok(_) => r.borrow_mut().0 += 1,
                Err(e) => {
                    let sub = cx.subscribe(&[("s", lws_role_mqtt::QoS::AtMostOnce)]);
                    r.borrow_mut().1 = format!("{e}; subscribe: {sub:?}");
                    cx.disconnect();
                    return;
                }
            }
        }
        cx.conn().set_timer(Duration::ZERO, 1);
    });
    let seen = broker.join().expect("broker");
    let (published, err) = result.borrow().clone();
    assert_eq!(published, 65_535, "{err} {log:?}");
    assert!(err.contains("all 65,535 packet identifiers"), "{err}");
    assert!(err.contains("NoPacketId"), "{err}");
    assert_eq!(seen.get(&0x30), Some(&65_535), "{seen:?}");
    assert_eq!(seen.get(&0x80), None, "no SUBSCRIBE sent: {seen:?}");
    assert_eq!(
        log.last().map(String::as_str),
        Some("closed closed locally"),
        "{log:?}"
    );
}

#[test]
fn unanswered_subscribes_are_capped() {
    let mut url = String::new();
    let broker = never_acks(&mut url);
    let opts = MqttOptions {
        max_pending_subscriptions: 3,
        ..MqttOptions::new("subs")
    };
    let result = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let r = result.clone();
    let log = run_client(&url, opts, LIMIT, move |cx, ev| {
        if let MqttEvent::Connected { .. } = ev {
            let q = lws_role_mqtt::QoS::AtMostOnce;
            let mut out = r.borrow_mut();
            out.push(cx.subscribe(&[("a", q)]).map_err(|e| e.to_string()));
            out.push(cx.unsubscribe(&["a"]).map_err(|e| e.to_string()));
            out.push(cx.subscribe(&[("b", q)]).map_err(|e| e.to_string()));
            out.push(cx.unsubscribe(&["b"]).map_err(|e| e.to_string()));
            out.push(cx.subscribe(&[("c", q)]).map_err(|e| e.to_string()));
            assert_eq!(cx.pending_subscriptions(), 3);
            cx.disconnect();
        }
    });
    let seen = broker.join().expect("broker");
    let got = result.borrow().clone();
    assert_eq!(got[..3], [Ok(1), Ok(2), Ok(3)], "{log:?}");
    for e in &got[3..] {
        assert_eq!(
            e.as_ref().err().map(String::as_str),
            Some("3 SUBSCRIBE/UNSUBSCRIBE packets already await their answer")
        );
    }
    assert_eq!((seen.get(&0x80), seen.get(&0xA0)), (Some(&2), Some(&1)));
}
