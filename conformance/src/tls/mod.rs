//! # The TLS backend suite: the same scenarios for every backend
//!
//! Each scenario takes a [`Backends`] pair: the backend serving and the
//! backend connecting. A backend crate runs the suite against itself, and
//! against the other backends in both directions, with one line each in
//! its tests:
//!
//! ```ignore
//! lws_conformance::tls_backend_suite!(Backends::same(OpensslBackend::shared()));
//! ```
//!
//! This module is the harness: a TLS echo server on its own thread (any
//! number of vhosts, one port, poll or mio loop), an lws TLS client run to
//! completion under a watchdog, and a plain rustls client on a std socket
//! for inspecting what the server presented. Certificates come from
//! `lws_tls_rustls::testcert` (rcgen), whichever backend is tested.
//!
//! Everything binds 127.0.0.1 only and every wait is bounded, so a bug
//! fails a test instead of hanging it. Nothing here asserts: scenarios do.

pub mod echo;
pub mod errors;
pub mod https;
pub mod interop;
pub mod session;
pub mod sni;

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, mpsc};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crate::peer::{self, Watchdog};
use lws_core::{
    CloseReason, ConnCx, Connect, Context, Endpoint, Remote, RunLoop, SharedTlsBackend,
    TlsClientSpec, TlsServerSpec, VhostBuilder,
};
use lws_loop_mio::MioLoop;
use lws_loop_poll::PollLoop;
use lws_role_raw::{OpenKind, RawEvent, RawHandler, RawProtocol};
use lws_tls_rustls::testcert::{TestCa, TestCert};

/// How long one client run may take before its watchdog stops it.
pub const LIMIT: Duration = Duration::from_secs(30);
/// How long to wait for one server-side report.
pub const REPORT: Duration = Duration::from_secs(10);

/// The backend serving and the backend connecting in a scenario.
#[derive(Clone)]
pub struct Backends {
    pub server: SharedTlsBackend,
    pub client: SharedTlsBackend,
}

impl std::fmt::Debug for Backends {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} server, {} client",
            self.server.name(),
            self.client.name()
        )
    }
}

impl Backends {
    /// One backend on both ends.
    pub fn same(backend: SharedTlsBackend) -> Self {
        Backends {
            server: backend.clone(),
            client: backend,
        }
    }

    pub fn pair(server: SharedTlsBackend, client: SharedTlsBackend) -> Self {
        Backends { server, client }
    }
}

/// Expand the whole TLS suite as `#[test]` functions for one [`Backends`]
/// pair.
#[macro_export]
macro_rules! tls_backend_suite {
    ($backends:expr) => {
        $crate::tls_backend_suite!(@tests $backends;
            echo_of_one_mebibyte_comes_back_intact => $crate::tls::echo::one_mebibyte,
            alpn_agreed_protocol_is_reported_on_both_sides => $crate::tls::echo::alpn_reported,
            no_alpn_offered_means_none_reported => $crate::tls::echo::no_alpn,
            paused_reader_echo_on_level_triggered_poll => $crate::tls::echo::paused_reader_poll,
            paused_reader_echo_on_edge_triggered_mio => $crate::tls::echo::paused_reader_mio,
            garbage_client_hello_closes_only_that_connection => $crate::tls::errors::garbage_client_hello,
            untrusted_server_certificate_is_a_connect_error => $crate::tls::errors::untrusted_certificate,
            wrong_server_name_for_the_certificate_is_a_connect_error => $crate::tls::errors::wrong_server_name,
            invalid_server_names_are_refused_by_connect => $crate::tls::errors::invalid_server_names,
            curl_https_with_cacert => $crate::tls::https::curl_with_cacert,
            curl_http2_over_alpn_h2 => $crate::tls::https::curl_h2_over_alpn,
            lws_client_over_tls_and_tls_failure_event => $crate::tls::https::lws_client_and_failure_event,
            lws_client_against_python_https_with_client_certificate => $crate::tls::https::python_server_with_client_certificate,
            python_ssl_client_echoes_a_line => $crate::tls::interop::python_ssl_client,
            openssl_s_client_echoes_a_line => $crate::tls::interop::openssl_s_client,
            openssl_s_client_rejects_a_server_it_cannot_verify => $crate::tls::interop::openssl_s_client_rejects,
            session_sni_maps_names_aliases_and_wildcards_to_their_vhost => $crate::tls::session::sni_mapping,
            session_alpn_is_agreed_and_a_mismatch_fails_the_handshake => $crate::tls::session::alpn_agreement,
            session_plaintext_flows_and_read_plain_is_zero_when_empty => $crate::tls::session::plaintext_flows,
            session_undelivered_plaintext_stops_ciphertext_intake => $crate::tls::session::intake_backpressure,
            session_close_notify_is_seen_and_reads_then_return_zero => $crate::tls::session::close_notify,
            session_garbage_is_a_handshake_error_with_an_alert_to_send => $crate::tls::session::garbage_alert,
            session_bad_certificates_and_keys_are_config_errors => $crate::tls::session::bad_server_config,
            session_client_configuration_errors_and_server_names => $crate::tls::session::bad_client_config,
            sni_name_selects_certificate_and_vhost_on_a_shared_port => $crate::tls::sni::selects_certificate_and_vhost,
            lws_client_sni_reaches_the_second_vhost => $crate::tls::sni::lws_client_reaches_second_vhost,
            unknown_sni_name_falls_back_to_the_first_vhost => $crate::tls::sni::unknown_name_falls_back,
            missing_sni_falls_back_to_the_first_vhost => $crate::tls::sni::missing_sni_falls_back,
            sni_match_ignores_ascii_case => $crate::tls::sni::ignores_ascii_case,
        );
    };
    (@tests $backends:expr; $($name:ident => $scenario:path),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                $scenario(&$backends);
            }
        )*
    };
}

/// Which event loop runs the server.
#[derive(Debug, Clone, Copy)]
pub enum Loop {
    /// Level-triggered.
    Poll,
    /// Edge-triggered.
    Mio,
}

/// A connection the server opened: the vhost whose handler saw it, and
/// the ALPN protocol it reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    pub vhost: String,
    pub alpn: Option<Vec<u8>>,
}

#[derive(Debug)]
pub struct Server {
    pub addr: SocketAddr,
    remote: Remote,
    thread: Option<JoinHandle<()>>,
    opened: mpsc::Receiver<Opened>,
}

impl Server {
    /// The next connection the server opened (after its handshake).
    pub fn next_opened(&self) -> Opened {
        self.opened
            .recv_timeout(REPORT)
            .expect("server reported an opened connection")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.remote.stop();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The conformance echo (back-pressure included), reporting every opened
/// connection with its vhost tag and ALPN.
struct TaggedEcho {
    tag: String,
    report: mpsc::Sender<Opened>,
    inner: peer::Echo,
}

impl RawHandler for TaggedEcho {
    type Session = Vec<u8>;
    fn on_event(&mut self, cx: &mut ConnCx<'_>, queued: &mut Vec<u8>, ev: RawEvent<'_>) {
        if let RawEvent::Opened(_) = ev {
            let _ = self.report.send(Opened {
                vhost: self.tag.clone(),
                alpn: cx.alpn().map(<[u8]>::to_vec),
            });
        }
        self.inner.on_event(cx, queued, ev);
    }
}

pub fn spec(cert: &TestCert, alpn: &[&str]) -> TlsServerSpec {
    TlsServerSpec::from_pem(cert.cert_pem.clone(), cert.key_pem.clone())
        .alpn(alpn.iter().map(|a| a.as_bytes()))
}

/// TLS echo vhosts `(name, cert)`, in order, all on 127.0.0.1:`port` (0:
/// any free port), served by the poll loop.
pub fn serve(
    b: &Backends,
    vhosts: Vec<(&'static str, TestCert)>,
    port: u16,
    alpn: &[&str],
) -> Server {
    serve_on(b, Loop::Poll, vhosts, port, alpn)
}

pub fn serve_on(
    b: &Backends,
    lp: Loop,
    vhosts: Vec<(&'static str, TestCert)>,
    port: u16,
    alpn: &[&str],
) -> Server {
    let (tx, rx) = mpsc::channel();
    let (otx, orx) = mpsc::channel();
    let specs: Vec<_> = vhosts
        .iter()
        .map(|(name, cert)| (*name, spec(cert, alpn)))
        .collect();
    let backend = b.server.clone();
    let thread = thread::spawn(move || {
        let mut b = Context::builder().tls_backend(backend);
        for (name, spec) in specs.iter().cloned() {
            let echo = TaggedEcho {
                tag: name.to_owned(),
                report: otx.clone(),
                inner: peer::Echo::default(),
            };
            b = b.vhost(
                VhostBuilder::new(name)
                    .listen(Endpoint::Tcp(SocketAddr::from(([127, 0, 0, 1], port))))
                    .tls(spec)
                    .protocol("echo", RawProtocol::new(echo)),
            );
        }
        let mut ctx = b.build().expect("server context");
        let addr = match ctx.bound_endpoints(specs[0].0).expect("vhost").first() {
            Some(Endpoint::Tcp(a)) => *a,
            other => panic!("no TCP listener: {other:?}"),
        };
        tx.send((addr, ctx.remote())).expect("report address");
        match lp {
            Loop::Poll => PollLoop::new().expect("poll").run(&mut ctx),
            Loop::Mio => MioLoop::new().expect("mio").run(&mut ctx),
        }
        .expect("server loop");
    });
    let (addr, remote) = rx.recv_timeout(REPORT).expect("server up");
    Server {
        addr,
        remote,
        thread: Some(thread),
        opened: orx,
    }
}

/// An lws TLS client: sends `payload` once connected, collects the echo,
/// stops when it has it all, on a connect error, or when closed.
#[derive(Debug, Default)]
pub struct Client {
    pub payload: Vec<u8>,
    /// Do not read for this long after connecting (back-pressure tests).
    pub pause: Option<Duration>,
    pub got: Vec<u8>,
    pub alpn: Option<Vec<u8>>,
    pub error: Option<(io::ErrorKind, String)>,
    pub closed: Option<CloseReason>,
}

impl RawHandler for Client {
    type Session = ();
    fn on_event(&mut self, cx: &mut ConnCx<'_>, _: &mut (), ev: RawEvent<'_>) {
        match ev {
            RawEvent::Opened(OpenKind::Connected) => {
                self.alpn = cx.alpn().map(<[u8]>::to_vec);
                if let Some(pause) = self.pause {
                    cx.pause_rx(true);
                    cx.set_timer(pause, 1);
                }
                let data = std::mem::take(&mut self.payload);
                cx.write(&data).expect("first write is accepted whole");
                self.payload = data;
            }
            RawEvent::Timer(1) => cx.pause_rx(false),
            RawEvent::Rx(d) => {
                self.got.extend_from_slice(d);
                if self.got.len() >= self.payload.len() {
                    cx.close(CloseReason::Normal);
                }
            }
            RawEvent::ConnectError(e) => {
                self.error = Some((e.kind(), e.to_string()));
                cx.cx().stop();
            }
            RawEvent::Closed(r) => {
                self.closed = Some(r.clone());
                cx.cx().stop();
            }
            _ => {}
        }
    }
}

pub fn client_spec(ca_pem: &str, alpn: &[&str]) -> TlsClientSpec {
    TlsClientSpec {
        ca_pem: ca_pem.as_bytes().to_vec(),
        alpn: alpn.iter().map(|a| a.as_bytes().to_vec()).collect(),
        ..Default::default()
    }
}

/// Run `handler` on one TLS connection to completion (or [`LIMIT`]).
pub fn run_client(b: &Backends, spec: TlsClientSpec, connect: Connect, handler: Client) -> Client {
    let mut ctx = Context::builder()
        .tls_backend(b.client.clone())
        .tls_client(spec)
        .vhost(VhostBuilder::new("c").protocol("c", RawProtocol::new(handler)))
        .build()
        .expect("client context");
    let _dog = Watchdog::arm(ctx.remote(), LIMIT);
    ctx.connect(connect.protocol("c")).expect("connect");
    PollLoop::new()
        .expect("loop")
        .run(&mut ctx)
        .expect("client loop");
    let p = ctx
        .protocol_mut::<RawProtocol<Client>>("c", "c")
        .expect("client protocol");
    std::mem::take(p.handler_mut())
}

/// Echo `payload` through `addr` with an lws client trusting `ca_pem`.
pub fn echo(b: &Backends, addr: SocketAddr, ca_pem: &str, sni: &str, payload: &[u8]) -> Client {
    let handler = Client {
        payload: payload.to_vec(),
        ..Default::default()
    };
    run_client(
        b,
        client_spec(ca_pem, &[]),
        Connect::new(addr).tls(sni),
        handler,
    )
}

pub fn ca_and_leaf(names: &[&str]) -> (TestCa, TestCert) {
    let ca = TestCa::new("lws test CA").expect("ca");
    let leaf = ca.leaf(names).expect("leaf");
    (ca, leaf)
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("probe port")
        .port()
}

pub fn der_of(pem: &str) -> Vec<u8> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::from_pem_slice(pem.as_bytes())
        .expect("pem")
        .to_vec()
}

/// Handshake with a plain rustls client on a std socket, verifying the
/// server as `name` against `ca_pem` (sending `name` as SNI only if
/// `send_sni`), echo one byte, and return the leaf certificate's DER.
pub fn peer_cert(addr: SocketAddr, ca_pem: &str, name: &str, send_sni: bool) -> Vec<u8> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls::pki_types::CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(c.expect("ca")).expect("add root");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    cfg.enable_sni = send_sni;
    let name = rustls::pki_types::ServerName::try_from(name.to_owned()).expect("name");
    let conn = rustls::ClientConnection::new(Arc::new(cfg), name).expect("conn");
    let sock = TcpStream::connect(addr).expect("connect");
    sock.set_read_timeout(Some(REPORT)).expect("timeout");
    let mut tls = rustls::StreamOwned::new(conn, sock);
    tls.write_all(b"x").expect("handshake and write");
    let mut b = [0u8; 1];
    tls.read_exact(&mut b).expect("echo");
    tls.conn
        .peer_certificates()
        .and_then(|c| c.first())
        .map(|c| c.to_vec())
        .expect("peer certificate")
}
