//! The client against a real mosquitto 2 broker on loopback, and against
//! mosquitto's own command-line clients.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{Broker, TempDir, run_client, run_client_with};
use lws_core::TlsClientSpec;
use lws_role_mqtt::{MqttEvent, MqttOptions, QoS};
use lws_tls_rustls::RustlsBackend;
use lws_tls_rustls::testcert::TestCa;

const LIMIT: Duration = Duration::from_secs(20);

#[test]
fn publish_and_receive_at_qos_0_1_2() {
    let Some(broker) = Broker::start("allow_anonymous true") else {
        return;
    };
    let mut sent = false;
    let mut got = 0;
    let log = run_client(
        &broker.url(),
        MqttOptions::new("lws-qos"),
        LIMIT,
        move |cx, ev| match ev {
            MqttEvent::Connected { .. } => {
                cx.subscribe(&[("lws/qos/#", QoS::ExactlyOnce)])
                    .expect("subscribe");
            }
            MqttEvent::Subscribed { .. } if !sent => {
                sent = true;
                for (i, q) in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce]
                    .into_iter()
                    .enumerate()
                {
                    cx.publish(
                        &format!("lws/qos/{i}"),
                        format!("m{i}").as_bytes(),
                        q,
                        false,
                    )
                    .expect("publish");
                }
            }
            MqttEvent::Message { .. } => {
                got += 1;
                if got == 3 {
                    cx.unsubscribe(&["lws/qos/#"]).expect("unsubscribe");
                }
            }
            MqttEvent::Unsubscribed { .. } => {
                assert_eq!(cx.in_flight(), 0, "every QoS 1/2 publish completed first");
                cx.disconnect();
            }
            _ => {}
        },
    );
    let mut messages: Vec<&String> = log.iter().filter(|l| l.starts_with("message")).collect();
    messages.sort();
    assert_eq!(
        messages,
        [
            "message lws/qos/0 m0 AtMostOnce retain=false",
            "message lws/qos/1 m1 AtLeastOnce retain=false",
            "message lws/qos/2 m2 ExactlyOnce retain=false"
        ],
        "{log:?}"
    );
    assert_eq!(
        log.iter().filter(|l| *l == "published").count(),
        2,
        "{log:?}"
    );
    assert!(
        log.contains(&"subscribed [Granted(ExactlyOnce)]".to_owned()),
        "{log:?}"
    );
    assert!(log.contains(&"unsubscribed".to_owned()), "{log:?}");
    assert_eq!(
        log.last().map(String::as_str),
        Some("closed closed locally"),
        "{log:?}"
    );
}

#[test]
fn interop_with_mosquitto_pub_and_sub() {
    if !lws_conformance::peer::installed("mosquitto_pub") {
        return;
    }
    let Some(broker) = Broker::start("allow_anonymous true") else {
        return;
    };
    let port = broker.port.to_string();
    let p = port.clone();
    // mosquitto_pub -> lws: published once our subscription is in place.
    let log = run_client(
        &broker.url(),
        MqttOptions::new("lws-interop"),
        LIMIT,
        move |cx, ev| match ev {
            MqttEvent::Connected { .. } => {
                cx.subscribe(&[("lws/in", QoS::ExactlyOnce)])
                    .expect("subscribe");
            }
            MqttEvent::Subscribed { .. } => {
                let published = Command::new("mosquitto_pub")
                    .args([
                        "-h",
                        "127.0.0.1",
                        "-p",
                        &p,
                        "-q",
                        "2",
                        "-t",
                        "lws/in",
                        "-m",
                        "from mosquitto_pub",
                    ])
                    .status()
                    .expect("mosquitto_pub (Debian package mosquitto-clients)");
                assert!(published.success(), "mosquitto_pub failed");
            }
            MqttEvent::Message { .. } => {
                // lws -> mosquitto_sub: a retained QoS 1 message it reads later.
                cx.publish("lws/out", b"retained by lws", QoS::AtLeastOnce, true)
                    .expect("publish");
            }
            MqttEvent::Published { .. } => cx.disconnect(),
            _ => {}
        },
    );
    assert!(
        log.contains(&"message lws/in from mosquitto_pub ExactlyOnce retain=false".to_owned()),
        "{log:?}"
    );
    let out = Command::new("mosquitto_sub")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-t",
            "lws/out",
            "-C",
            "1",
            "-W",
            "5",
            "-v",
        ])
        .output()
        .expect("mosquitto_sub (Debian package mosquitto-clients)");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "lws/out retained by lws"
    );
}

#[test]
fn refused_connection_reports_the_return_code() {
    let Some(broker) = Broker::start("allow_anonymous false") else {
        return;
    };
    let log = run_client(
        &broker.url(),
        MqttOptions::new("lws-refused"),
        LIMIT,
        |_, _| {},
    );
    assert_eq!(
        log.first().map(String::as_str),
        Some("refused NotAuthorized"),
        "{log:?}"
    );
    assert!(
        log.last()
            .is_some_and(|l| l.starts_with("closed protocol error: CONNACK")),
        "{log:?}"
    );
}

#[test]
fn mqtts_with_a_verified_broker_certificate() {
    let ca = TestCa::new("lws mqtt test CA").expect("ca");
    let leaf = ca.leaf(&["127.0.0.1", "localhost"]).expect("leaf");
    let dir = TempDir::new();
    let (cert, key) = (dir.0.join("cert.pem"), dir.0.join("key.pem"));
    std::fs::write(&cert, &leaf.cert_pem).expect("cert");
    std::fs::write(&key, &leaf.key_pem).expect("key");
    let Some(broker) = Broker::start(&format!(
        "allow_anonymous true\ncertfile {}\nkeyfile {}",
        cert.display(),
        key.display()
    )) else {
        return;
    };
    let url = format!("mqtts://127.0.0.1:{}", broker.port);
    let ca_pem = ca.cert_pem.clone().into_bytes();
    let log = run_client_with(
        &url,
        MqttOptions::new("lws-tls"),
        LIMIT,
        move |b| {
            b.tls_backend(RustlsBackend::shared())
                .tls_client(TlsClientSpec {
                    ca_pem,
                    ..Default::default()
                })
        },
        |cx, ev| match ev {
            MqttEvent::Connected { .. } => {
                cx.subscribe(&[("lws/tls", QoS::AtLeastOnce)])
                    .expect("subscribe");
            }
            MqttEvent::Subscribed { .. } => {
                cx.publish("lws/tls", b"over TLS", QoS::AtLeastOnce, false)
                    .expect("publish");
            }
            MqttEvent::Message { .. } => cx.disconnect(),
            _ => {}
        },
    );
    assert!(
        log.contains(&"message lws/tls over TLS AtLeastOnce retain=false".to_owned()),
        "{log:?}"
    );
    // The same broker, the client trusting only the system roots: refused.
    let log = run_client_with(
        &url,
        MqttOptions::new("lws-untrusted"),
        LIMIT,
        |b| b.tls_backend(RustlsBackend::shared()),
        |_, _| {},
    );
    assert!(!log.iter().any(|l| l.starts_with("connected")), "{log:?}");
    assert!(
        log.iter()
            .any(|l| l.starts_with("connect error") || l.starts_with("closed TLS")),
        "{log:?}"
    );
}
