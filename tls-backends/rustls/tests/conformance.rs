//! The TLS backend suite (`lws_conformance::tls`) with rustls serving and
//! connecting. The cross-backend runs live in the other backends' crates.

use lws_conformance::tls::Backends;
use lws_tls_rustls::RustlsBackend;

lws_conformance::tls_backend_suite!(Backends::same(RustlsBackend::shared()));
