//! Opening MQTT client connections: options and `mqtt://` / `mqtts://`
//! URLs.

use std::time::Duration;

use lws_core::{Connect, Context, Cx, RetryPolicy, Token};

use crate::event::MqttError;
use crate::proto::{QoS, Will};
use crate::reconnect::Start;

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
    /// Reconnect with backoff (see [`reconnect`](Self::reconnect));
    /// `None` (default): never.
    pub reconnect: Option<RetryPolicy>,
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
            reconnect: None,
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

    /// Reconnect by `policy` (delay table, jitter, conceal count: C's
    /// `lws_retry_bo_t`) when a connect fails (DNS, TCP, TLS, CONNACK
    /// refused or missing) or a connection is lost, unless the handler
    /// disconnected, closed it, or called
    /// [`MqttCx::stop_reconnecting`](crate::MqttCx::stop_reconnecting), or
    /// the context is stopping. A concealed failure is reported only as
    /// [`MqttEvent::Reconnecting`](crate::MqttEvent::Reconnecting) (a lost
    /// connection still gets its `Closed` first); when the policy gives up
    /// the failure is reported as without a policy, then
    /// [`MqttEvent::GaveUp`](crate::MqttEvent::GaveUp). Each connection has
    /// its own token; the handler's session and a persistent MQTT session
    /// move to the next one. `Connected` starts the delay table over.
    pub fn reconnect(mut self, policy: RetryPolicy) -> Self {
        self.reconnect = Some(policy);
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
    let start = Start::new(opts, bare, port, tls);
    Ok(Start::connect(bare, port, tls, start).protocol(protocol))
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
