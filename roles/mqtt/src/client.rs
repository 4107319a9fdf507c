//! Opening MQTT client connections: options and `mqtt://` / `mqtts://`
//! URLs.

use std::time::Duration;

use lws_core::{Connect, Context, Cx, Token};

use crate::event::MqttError;
use crate::proto::{QoS, Will};

/// What the client sends in its CONNECT, and its local limits.
#[derive(Debug, Clone)]
pub struct MqttOptions {
    pub client_id: String,
    /// Keep-alive interval (whole seconds, at most 65,535; zero disables).
    pub keep_alive: Duration,
    pub clean_session: bool,
    pub will: Option<Will>,
    pub username: Option<String>,
    pub password: Option<Vec<u8>>,
    /// Largest packet accepted from the broker; larger ones close the
    /// connection.
    pub max_packet: usize,
    /// Most QoS 1/2 publishes awaiting their acknowledgement.
    pub max_in_flight: usize,
    /// Most SUBSCRIBE and UNSUBSCRIBE packets awaiting their SUBACK or
    /// UNSUBACK, together; past it `subscribe`/`unsubscribe` fail with
    /// [`MqttError::TooManySubscriptionsPending`].
    pub max_pending_subscriptions: usize,
    /// How long to wait for CONNACK.
    pub connack_timeout: Duration,
}

impl Default for MqttOptions {
    fn default() -> Self {
        MqttOptions {
            client_id: String::new(),
            keep_alive: Duration::from_secs(60),
            clean_session: true,
            will: None,
            username: None,
            password: None,
            max_packet: 1 << 20,
            max_in_flight: 1000,
            max_pending_subscriptions: 100,
            connack_timeout: Duration::from_secs(10),
        }
    }
}

impl MqttOptions {
    pub fn new(client_id: impl Into<String>) -> Self {
        MqttOptions {
            client_id: client_id.into(),
            ..Default::default()
        }
    }

    pub fn keep_alive(mut self, d: Duration) -> Self {
        self.keep_alive = d;
        self
    }

    pub fn credentials(mut self, user: impl Into<String>, password: impl Into<Vec<u8>>) -> Self {
        self.username = Some(user.into());
        self.password = Some(password.into());
        self
    }

    pub fn will(
        mut self,
        topic: impl Into<String>,
        payload: impl Into<Vec<u8>>,
        qos: QoS,
        retain: bool,
    ) -> Self {
        self.will = Some(Will {
            topic: topic.into(),
            payload: payload.into(),
            qos,
            retain,
        });
        self
    }

    pub fn clean_session(mut self, on: bool) -> Self {
        self.clean_session = on;
        self
    }
}

fn build(url: &str, protocol: &str, opts: MqttOptions) -> Result<Connect, MqttError> {
    let bad = |why| MqttError::Url {
        url: url.to_owned(),
        why,
    };
    let (tls, rest) = if let Some(r) = url.strip_prefix("mqtt://") {
        (false, r)
    } else if let Some(r) = url.strip_prefix("mqtts://") {
        (true, r)
    } else {
        return Err(bad("scheme must be mqtt:// or mqtts://"));
    };
    let authority = rest.split('/').next().unwrap_or_default();
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => {
            (h, p.parse::<u16>().map_err(|_| bad("bad port"))?)
        }
        _ => (authority, if tls { 8883 } else { 1883 }),
    };
    if host.is_empty() {
        return Err(bad("no host"));
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    // Resolved by the context on its loop; a DNS failure arrives as
    // `MqttEvent::ConnectError` (see `lws_core::dns_error`).
    let mut c = Connect::host(bare, port)
        .protocol(protocol)
        .payload(Box::new(opts));
    if tls {
        c = c.tls(bare);
    }
    Ok(c)
}

/// Open an MQTT connection to `url`, bound to `protocol` (an
/// [`MqttProtocol`](crate::MqttProtocol)) on the first vhost.
pub fn connect(
    ctx: &mut Context,
    url: &str,
    protocol: &str,
    opts: MqttOptions,
) -> Result<Token, MqttError> {
    ctx.connect(build(url, protocol, opts)?)
        .map_err(|e| MqttError::Connect(e.to_string()))
}

/// Open an MQTT connection from inside a callback.
pub fn connect_from(
    cx: &mut Cx<'_>,
    url: &str,
    protocol: &str,
    opts: MqttOptions,
) -> Result<(), MqttError> {
    cx.connect(build(url, protocol, opts)?);
    Ok(())
}
