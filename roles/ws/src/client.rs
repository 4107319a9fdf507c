//! WebSocket clients: open a connection for a `ws://` or `wss://` URL,
//! send the upgrade request, validate the server's 101 (accept key,
//! subprotocol, permessage-deflate parameters).

use lws_core::{CloseReason, ConnCx, Connect, Context, Cx, Disposition, RetryPolicy, Token};
use lws_role_http::parse::response::parse_response;

use crate::event::{WsHandler, WsProtocol};
use crate::proto::deflate::{self, Deflater, Inflater};
use crate::proto::frame::Side;
use crate::proto::handshake::{accept_key, client_key};
use crate::role::{Phase, WsRole};
use crate::rx::Receiver;
use crate::tx::Sender;

/// Why a client connection could not be started.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    #[error("invalid WebSocket URL {0:?} (ws:// or wss://)")]
    BadUrl(String),
    /// The host name could not be resolved (NXDOMAIN, SERVFAIL, timeout,
    /// no address).
    #[error("cannot resolve {host}: {error}")]
    Dns {
        host: String,
        error: lws_core::DnsError,
    },
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("WebSocket handshake failed: {0}")]
    Handshake(String),
}

/// Options for a client connection.
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    /// Subprotocols to offer, in preference order.
    pub subprotocols: Vec<String>,
    /// Extra request headers (e.g. `Origin`, authentication).
    pub headers: Vec<(String, String)>,
    /// Reconnect with backoff after a failed connect or a lost connection
    /// (see [`reconnect`](Self::reconnect)); `None` (default): never.
    pub reconnect: Option<RetryPolicy>,
}

impl ClientOptions {
    /// Reconnect by `policy` (delay table, jitter, conceal count: C's
    /// `lws_retry_bo_t`) when the connect fails (DNS, TCP, TLS, handshake)
    /// or the open connection is lost, unless the handler closed it,
    /// called [`WsCx::stop_reconnecting`](crate::WsCx::stop_reconnecting),
    /// or the context is stopping. A concealed failure is not reported:
    /// the handler gets [`WsEvent::Reconnecting`](crate::WsEvent::Reconnecting)
    /// instead of `ConnectError` (a lost open connection still gets its
    /// `Closed` first). When the policy gives up, the failure is reported
    /// as without a policy, then [`WsEvent::GaveUp`](crate::WsEvent::GaveUp).
    /// Each new connection has a new token; the handler's session moves to
    /// it. Success (`Established`) starts the delay table over.
    pub fn reconnect(mut self, policy: RetryPolicy) -> Self {
        self.reconnect = Some(policy);
        self
    }
}

/// What a client connection carries to its role (and, with a reconnect
/// policy, on to the next connection).
pub(crate) struct ClientSetup {
    /// The host name in the URL (no brackets, no port).
    pub(crate) name: String,
    host: String,
    path: String,
    key: String,
    port: u16,
    tls: bool,
    opts: ClientOptions,
    /// The reconnect state, with `opts.reconnect`.
    pub(crate) retry: Option<crate::reconnect::Retry>,
    /// The session of the previous connection, moved to this one.
    pub(crate) carried: Option<Box<dyn std::any::Any>>,
}

impl std::fmt::Debug for ClientSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientSetup")
            .field("name", &self.name)
            .field("port", &self.port)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl ClientSetup {
    /// The connect for this setup: resolved by the context on its loop (a
    /// DNS failure arrives as `ConnectError(ClientError::Dns)`). Without a
    /// protocol named, a connect from a callback (or a closure it
    /// scheduled) binds to that callback's protocol.
    pub(crate) fn into_connect(self) -> Connect {
        let (name, tls, port) = (self.name.clone(), self.tls, self.port);
        let mut c = Connect::host(name.as_str(), port).payload(Box::new(self));
        if tls {
            c = c.tls(name);
        }
        c
    }

    /// The same client again, with a fresh handshake key.
    pub(crate) fn renewed(mut self) -> Self {
        self.key = client_key();
        self
    }
}

fn parse_url(url: &str) -> Result<(bool, String, u16, String), ClientError> {
    let bad = || ClientError::BadUrl(url.to_owned());
    let u = url::Url::parse(url).map_err(|_| bad())?;
    let tls = match u.scheme() {
        "ws" => false,
        "wss" => true,
        _ => return Err(bad()),
    };
    let host = u
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(bad)?
        .to_owned();
    let port = u.port().unwrap_or(if tls { 443 } else { 80 });
    let mut path = u.path().to_owned();
    if let Some(q) = u.query() {
        path.push('?');
        path.push_str(q);
    }
    Ok((tls, host, port, path))
}

fn build(url: &str, protocol: &str, opts: ClientOptions) -> Result<Connect, ClientError> {
    let (tls, host, port, path) = parse_url(url)?;
    let bare = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let host_header = if (tls && port == 443) || (!tls && port == 80) {
        host
    } else {
        format!("{host}:{port}")
    };
    let retry = opts.reconnect.clone().map(crate::reconnect::Retry::new);
    let setup = ClientSetup {
        name: bare,
        host: host_header,
        path,
        key: client_key(),
        port,
        tls,
        opts,
        retry,
        carried: None,
    };
    Ok(setup.into_connect().protocol(protocol))
}

/// Open a WebSocket client connection bound to `protocol` on the first vhost.
pub fn connect(
    ctx: &mut Context,
    url: &str,
    protocol: &str,
    opts: ClientOptions,
) -> Result<Token, ClientError> {
    ctx.connect(build(url, protocol, opts)?)
        .map_err(|e| ClientError::Connect(e.to_string()))
}

/// Open a WebSocket client connection from inside a callback.
pub fn connect_from(
    cx: &mut Cx<'_>,
    url: &str,
    protocol: &str,
    opts: ClientOptions,
) -> Result<(), ClientError> {
    cx.connect(build(url, protocol, opts)?);
    Ok(())
}

pub(crate) fn send_request<H: WsHandler>(
    role: &mut WsRole<H>,
    cx: &mut ConnCx<'_>,
    p: &WsProtocol<H>,
    setup: ClientSetup,
) -> Disposition {
    let mut req = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {}\r\nSec-WebSocket-Version: 13\r\n",
        setup.path, setup.host, setup.key,
    );
    if p.config.deflate {
        req.push_str(&format!(
            "Sec-WebSocket-Extensions: {}\r\n",
            deflate::client_offer(p.config.deflate_policy())
        ));
    }
    if !setup.opts.subprotocols.is_empty() {
        req.push_str(&format!(
            "Sec-WebSocket-Protocol: {}\r\n",
            setup.opts.subprotocols.join(", ")
        ));
    }
    for (k, v) in &setup.opts.headers {
        if !k.contains(['\r', '\n', ':']) && !v.contains(['\r', '\n']) {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    req.push_str("\r\n");
    // A failed write closes the connection: a handshake failure (`on_close`).
    role.phase = Phase::ClientAwait(Box::new(setup), Vec::new());
    if cx.write(req.as_bytes()).is_err() {
        return Disposition::Close(CloseReason::Normal);
    }
    cx.set_timeout(Some(std::time::Duration::from_secs(10)));
    Disposition::Continue
}

/// Fail the handshake: report it once (or reconnect, by the policy),
/// close without a `Closed` event.
fn handshake_failed<H: WsHandler>(
    role: &mut WsRole<H>,
    cx: &mut ConnCx<'_>,
    p: &mut WsProtocol<H>,
    setup: ClientSetup,
    why: &str,
) -> Disposition {
    role.phase = Phase::Done;
    let e = ClientError::Handshake(why.to_owned());
    let close = CloseReason::Protocol(e.to_string());
    role.client_failed(cx, p, Box::new(setup), Some(e));
    Disposition::Close(close)
}

pub(crate) fn read_response<H: WsHandler>(
    role: &mut WsRole<H>,
    cx: &mut ConnCx<'_>,
    p: &mut WsProtocol<H>,
    setup: ClientSetup,
    buf: Vec<u8>,
) -> Disposition {
    match check_response(role, p, &setup, &buf) {
        Ok(n) => {
            cx.set_timeout(None);
            role.keep_for_reconnect(setup);
            role.opened(cx, p, &buf[n..])
        }
        Err(None) => {
            role.phase = Phase::ClientAwait(Box::new(setup), buf);
            Disposition::Continue
        }
        Err(Some(why)) => handshake_failed(role, cx, p, setup, &why),
    }
}

/// Check the server's answer; on success set up the receiver and sender
/// and return the length of the response head. `Err(None)`: incomplete.
fn check_response<H: WsHandler>(
    role: &mut WsRole<H>,
    p: &WsProtocol<H>,
    setup: &ClientSetup,
    buf: &[u8],
) -> Result<usize, Option<String>> {
    let fail = |why: &str| Err(Some(why.to_owned()));
    let (head, n) = match parse_response(buf, false, 16 * 1024) {
        Ok(Some(h)) => h,
        Ok(None) => return Err(None),
        Err(e) => return fail(&e.to_string()),
    };
    if head.status != 101 {
        return fail(&format!("server answered {}", head.status));
    }
    let h = &head.headers;
    let token = |name: &str, t: &str| h.has_token(name, t);
    if !token("upgrade", "websocket") || !token("connection", "upgrade") {
        return fail("missing Upgrade/Connection headers");
    }
    if h.get_str("sec-websocket-accept").map(str::trim) != Some(accept_key(&setup.key).as_str()) {
        return fail("Sec-WebSocket-Accept does not match");
    }
    role.subprotocol = h
        .get_str("sec-websocket-protocol")
        .map(|s| s.trim().to_owned());
    if let Some(sp) = &role.subprotocol
        && !setup
            .opts
            .subprotocols
            .iter()
            .any(|o| o.eq_ignore_ascii_case(sp))
    {
        return fail("server chose a subprotocol that was not offered");
    }
    let exts: Vec<String> = h
        .get_all("sec-websocket-extensions")
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .collect();
    let exts = exts.join(", ");
    let params = match deflate::accept_client(&exts, p.config.deflate_policy()) {
        // RFC 6455 §4.1: an extension the client did not offer.
        Ok(Some(_)) if !p.config.deflate => {
            return fail("server selected an extension that was not offered");
        }
        Ok(params) => params,
        Err(e) => return fail(&e.to_string()),
    };
    let (deflater, inflater) = match &params {
        Some(pr) => (Some(Deflater::new(pr)), Some(Inflater::new(pr))),
        None => (None, None),
    };
    role.rx = Some(Receiver::new(
        Side::Client,
        p.config.max_message,
        p.config.streaming,
        inflater,
    ));
    role.tx = Some(Sender::new(Side::Client, deflater));
    Ok(n)
}
