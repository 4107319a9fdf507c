//! Reconnecting MQTT clients: what happens when a client with a reconnect
//! policy ([`MqttOptions::reconnect`]) fails to connect or loses its
//! connection.
//!
//! The policy is lws-core's [`RetryPolicy`] (C's `lws_retry_bo_t`). A
//! connection that never got an accepting CONNACK (connect, DNS or TLS
//! failure, CONNACK refused or not received, closed before it) is a failed
//! connect: concealed, it is only a `Reconnecting` event; when the policy
//! gives up it is reported as without a policy (`ConnectError`, or
//! `Refused` and `Closed`), then `GaveUp`. A connection lost after
//! `Connected` always reports `Closed`, then `Reconnecting` or `GaveUp`.
//! `Connected` starts the delay table over. The next connection is opened
//! by a closure on the context's scheduler running as the same protocol,
//! and takes the handler's session and (for `clean_session(false)`) the
//! stored MQTT session with it. This module must not read clocks or
//! sockets: delays run on the context's timers, so a test's `ManualClock`
//! drives them.

use std::any::Any;
use std::io;

use lws_core::{Backoff, CloseReason, ConnCx, Connect, Protocol, RetryDecision};

use crate::api::MqttHandler;
use crate::client::MqttOptions;
use crate::event::MqttEvent;
use crate::machine::MqttRole;
use crate::proto::ConnectReturn;

/// Where a client connects, and its reconnect state (with a policy only).
pub(crate) struct Redial {
    host: String,
    port: u16,
    tls: bool,
    backoff: Backoff,
    rng: fastrand::Rng,
}

/// What a client connect carries to its role.
pub(crate) struct Start {
    pub opts: MqttOptions,
    pub redial: Option<Redial>,
    /// The previous connection's handler session.
    pub carried: Option<Box<dyn Any>>,
}

impl Start {
    pub(crate) fn new(opts: MqttOptions, host: &str, port: u16, tls: bool) -> Self {
        let redial = opts.reconnect.as_ref().map(|policy| Redial {
            host: host.to_owned(),
            port,
            tls,
            backoff: policy.backoff(),
            rng: fastrand::Rng::new(),
        });
        Start {
            opts,
            redial,
            carried: None,
        }
    }

    /// The connect to `host`:`port`, resolved by the context on its loop.
    /// Without a protocol named, it binds to the protocol of the callback
    /// (or scheduled closure) that opens it.
    pub(crate) fn connect(host: &str, port: u16, tls: bool, start: Start) -> Connect {
        let mut c = Connect::host(host, port).payload(Box::new(start));
        if tls {
            c = c.tls(host);
        }
        c
    }
}

/// How a client failed.
pub(crate) enum Failure<'a> {
    /// The connect itself (DNS, TCP, TLS).
    Connect(&'a io::Error),
    /// Closed before an accepting CONNACK (refused with this code, if any).
    NoSession {
        refused: Option<ConnectReturn>,
        reason: &'a CloseReason,
    },
    /// Lost after `Connected` (`Closed` already reported).
    Lost,
}

impl<H: MqttHandler> MqttRole<H> {
    /// Success: the next failure starts the delay table over.
    pub(crate) fn connected(&mut self) {
        if let Some(r) = self.redial.as_mut() {
            r.backoff.reset();
        }
    }

    /// Conceal and reconnect, or report (then `GaveUp`), as the policy
    /// says; without one, or when reconnecting is off, just report.
    pub(crate) fn failed(
        &mut self,
        conn: &mut ConnCx<'_>,
        proto: &mut dyn Protocol,
        f: Failure<'_>,
    ) {
        let decision = match self.redial.as_mut() {
            Some(r) if !self.st.no_reconnect => {
                Some((r.backoff.next(&mut r.rng), r.backoff.failures()))
            }
            _ => None,
        };
        match decision {
            Some((RetryDecision::Retry(after), failures)) => {
                self.emit(conn, proto, MqttEvent::Reconnecting { after, failures });
                if !self.st.no_reconnect {
                    self.schedule_reconnect(conn, after);
                }
            }
            Some((RetryDecision::GiveUp, failures)) => {
                self.report(conn, proto, f);
                self.emit(conn, proto, MqttEvent::GaveUp { failures });
            }
            None => self.report(conn, proto, f),
        }
    }

    fn report(&mut self, conn: &mut ConnCx<'_>, proto: &mut dyn Protocol, f: Failure<'_>) {
        match f {
            Failure::Connect(e) => self.emit(conn, proto, MqttEvent::ConnectError(e)),
            Failure::NoSession { refused, reason } => {
                if let Some(code) = refused {
                    self.emit(conn, proto, MqttEvent::Refused(code));
                }
                self.emit(conn, proto, MqttEvent::Closed(reason));
            }
            Failure::Lost => {}
        }
    }

    /// Open the next connection after `after`, with this one's options,
    /// reconnect state and handler session.
    fn schedule_reconnect(&mut self, conn: &mut ConnCx<'_>, after: std::time::Duration) {
        let (Some(redial), Some(opts)) = (self.redial.take(), self.st.opts.clone()) else {
            return;
        };
        let (host, port, tls) = (redial.host.clone(), redial.port, redial.tls);
        let start = Start {
            opts,
            redial: Some(redial),
            carried: Some(Box::new(std::mem::take(&mut self.session))),
        };
        let connect = Start::connect(&host, port, tls, start);
        conn.cx().schedule(after, move |cx| cx.connect(connect));
    }
}
