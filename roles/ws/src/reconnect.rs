//! Reconnecting WebSocket clients: what happens when a client with a
//! reconnect policy ([`ClientOptions::reconnect`](crate::ClientOptions::reconnect))
//! fails to connect or loses its connection.
//!
//! The policy is lws-core's [`RetryPolicy`] (C's `lws_retry_bo_t`); its
//! [`Backoff`] travels with the client from one connection to the next,
//! inside the setup each new connection carries, together with the
//! handler's session. A failure the policy conceals becomes a
//! `Reconnecting` event and a closure on the context's scheduler that
//! opens the next connection (bound to the same protocol, as it runs as
//! that protocol); a failure it does not conceal is reported as it would be
//! without a policy, then `GaveUp`. Success starts the delay table over.
//! This module must not read clocks or sockets: the delay runs on the
//! context's timers, so a test's `ManualClock` drives it.

use lws_core::{Backoff, CloseReason, ConnCx, RetryDecision, RetryPolicy};

use crate::ClientError;
use crate::client::ClientSetup;
use crate::event::{WsEvent, WsHandler, WsProtocol};
use crate::role::{Phase, WsRole};

/// A client's reconnect state: consecutive failures and the jitter's
/// random numbers.
pub(crate) struct Retry {
    backoff: Backoff,
    rng: fastrand::Rng,
}

impl Retry {
    pub(crate) fn new(policy: RetryPolicy) -> Self {
        Retry {
            backoff: policy.backoff(),
            rng: fastrand::Rng::new(),
        }
    }
}

impl<H: WsHandler> WsRole<H> {
    /// The handshake succeeded: start the delay table over, and keep the
    /// setup for a reconnect should this connection be lost.
    pub(crate) fn keep_for_reconnect(&mut self, mut setup: ClientSetup) {
        if let Some(r) = setup.retry.as_mut() {
            r.backoff.reset();
            self.redial = Some(Box::new(setup));
        }
    }

    /// The connect failed (DNS, TCP, TLS, or closed locally while it ran).
    pub(crate) fn connect_error(
        &mut self,
        cx: &mut ConnCx<'_>,
        p: &mut WsProtocol<H>,
        err: &std::io::Error,
    ) {
        let e = match lws_core::dns_error(err) {
            Some(dns) => ClientError::Dns {
                host: match &self.phase {
                    Phase::ClientConnecting(s) | Phase::ClientAwait(s, _) => s.name.clone(),
                    _ => String::new(),
                },
                error: dns.clone(),
            },
            None => ClientError::Connect(err.to_string()),
        };
        if err.kind() == std::io::ErrorKind::ConnectionAborted {
            self.no_reconnect = true; // closed locally while connecting
        }
        match std::mem::replace(&mut self.phase, Phase::Done) {
            Phase::ClientConnecting(setup) | Phase::ClientAwait(setup, _) => {
                self.client_failed(cx, p, setup, Some(e))
            }
            _ => self.emit(cx, p, WsEvent::ConnectError(&e)),
        }
    }

    /// The connection closed: if before the server's answer (timeout, peer
    /// gone), that is a failed connect. Returns whether it was.
    pub(crate) fn closed_before_answer(
        &mut self,
        cx: &mut ConnCx<'_>,
        p: &mut WsProtocol<H>,
        why: &CloseReason,
    ) -> bool {
        if *why == CloseReason::ContextStopping {
            self.no_reconnect = true;
        }
        if !matches!(
            self.phase,
            Phase::ClientConnecting(_) | Phase::ClientAwait(..)
        ) {
            return false;
        }
        if let Phase::ClientConnecting(setup) | Phase::ClientAwait(setup, _) =
            std::mem::replace(&mut self.phase, Phase::Done)
        {
            let e = ClientError::Handshake(format!("closed before the answer: {why}"));
            self.client_failed(cx, p, setup, Some(e));
        }
        true
    }

    /// The client of `setup` failed: it could not connect (`error`) or
    /// lost its open connection (`None`; `Closed` was reported). Report,
    /// or conceal and reconnect, as its policy says.
    pub(crate) fn client_failed(
        &mut self,
        cx: &mut ConnCx<'_>,
        p: &mut WsProtocol<H>,
        mut setup: Box<ClientSetup>,
        error: Option<ClientError>,
    ) {
        let decision = match setup.retry.as_mut() {
            Some(r) if !self.no_reconnect => {
                Some((r.backoff.next(&mut r.rng), r.backoff.failures()))
            }
            _ => None,
        };
        match decision {
            Some((RetryDecision::Retry(after), failures)) => {
                log::debug!(
                    "{:?}: ws client failed ({error:?}), again in {after:?}",
                    cx.token()
                );
                self.emit(cx, p, WsEvent::Reconnecting { after, failures });
                if self.no_reconnect {
                    return;
                }
                setup.carried = Some(Box::new(std::mem::take(&mut self.session)));
                let connect = setup.renewed().into_connect();
                cx.cx().schedule(after, move |cx| cx.connect(connect));
            }
            Some((RetryDecision::GiveUp, failures)) => {
                if let Some(e) = &error {
                    self.emit(cx, p, WsEvent::ConnectError(e));
                }
                self.emit(cx, p, WsEvent::GaveUp { failures });
            }
            None => {
                if let Some(e) = &error {
                    self.emit(cx, p, WsEvent::ConnectError(e));
                }
            }
        }
    }
}
