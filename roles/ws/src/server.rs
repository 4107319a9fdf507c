//! The server side of the opening handshake: validate the upgraded HTTP/1
//! request, let the handler refuse it or add headers, pick the subprotocol
//! and permessage-deflate parameters, answer 101.

use lws_core::{CloseReason, ConnCx, Disposition};
use lws_role_http::UpgradeRequest;
use lws_role_http::parse::response::{ResponseFraming, write_head};

use crate::event::{WsHandler, WsProtocol};
use crate::proto::deflate::{self, Deflater, Inflater};
use crate::proto::frame::Side;
use crate::proto::handshake::{accept_key, validate_request};
use crate::role::WsRole;
use crate::rx::Receiver;
use crate::tx::Sender;

/// Refuse the upgrade with an HTTP status and close.
fn refuse(cx: &mut ConnCx<'_>, status: u16, extra: &[(&str, &str)]) -> Disposition {
    let body = format!(
        "{status} {}\n",
        lws_role_http::parse::response::reason(status)
    );
    let mut out = Vec::new();
    let mut headers = vec![("Content-Type", "text/plain")];
    headers.extend_from_slice(extra);
    write_head(
        &mut out,
        status,
        &headers,
        ResponseFraming::Length(body.len() as u64),
        true,
        None,
    );
    out.extend_from_slice(body.as_bytes());
    let _ = cx.write(&out);
    Disposition::Close(CloseReason::Protocol(format!(
        "websocket upgrade refused: {status}"
    )))
}

pub(crate) fn handshake<H: WsHandler>(
    role: &mut WsRole<H>,
    cx: &mut ConnCx<'_>,
    p: &mut WsProtocol<H>,
    up: UpgradeRequest,
) -> Disposition {
    let req = &up.request;
    let key = match validate_request(req.method(), |h| req.header(h)) {
        Ok(k) => k.to_owned(),
        Err(e) => {
            log::debug!("{:?}: {e}", cx.token());
            return refuse(cx, e.status(), &[("Sec-WebSocket-Version", "13")]);
        }
    };
    let mut extra = Vec::new();
    if let Err(status) = p.handler.on_handshake(req, &mut extra) {
        return refuse(cx, status, &[]);
    }
    let offered: Vec<String> = req
        .headers()
        .get_all("sec-websocket-protocol")
        .flat_map(|v| {
            String::from_utf8_lossy(v)
                .split(',')
                .map(|s| s.trim().to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    role.subprotocol = p
        .name
        .as_ref()
        .filter(|n| offered.iter().any(|o| o.eq_ignore_ascii_case(n)))
        .cloned();
    let exts: Vec<String> = req
        .headers()
        .get_all("sec-websocket-extensions")
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .collect();
    let deflate = match p.config.deflate {
        true => deflate::negotiate_server(Some(&exts.join(", ")), p.config.deflate_policy()),
        false => None,
    };
    let mut out = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n",
        accept_key(&key)
    );
    if let Some(sp) = &role.subprotocol {
        out.push_str(&format!("Sec-WebSocket-Protocol: {sp}\r\n"));
    }
    if let Some((_, resp)) = &deflate {
        out.push_str(&format!("Sec-WebSocket-Extensions: {resp}\r\n"));
    }
    for (k, v) in &extra {
        if !k.contains(['\r', '\n', ':']) && !v.contains(['\r', '\n']) {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    out.push_str("\r\n");
    if cx.write(out.as_bytes()).is_err() {
        return Disposition::Close(CloseReason::Normal);
    }
    let (deflater, inflater) = match &deflate {
        Some((params, _)) => (Some(Deflater::new(params)), Some(Inflater::new(params))),
        None => (None, None),
    };
    role.rx = Some(Receiver::new(
        Side::Server,
        p.config.max_message,
        p.config.streaming,
        inflater,
    ));
    role.tx = Some(Sender::new(Side::Server, deflater));
    role.opened(cx, p, &up.leftover)
}
