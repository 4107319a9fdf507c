//! The TLS backend suite (`lws_conformance::tls`) with OpenSSL on both
//! ends, and across backends: OpenSSL serving rustls clients, and rustls
//! serving OpenSSL clients.

use lws_conformance::tls::Backends;
use lws_tls_openssl::OpensslBackend;
use lws_tls_rustls::RustlsBackend;

mod openssl_both_ends {
    use super::*;
    lws_conformance::tls_backend_suite!(Backends::same(OpensslBackend::shared()));
}

mod openssl_server_rustls_client {
    use super::*;
    lws_conformance::tls_backend_suite!(Backends::pair(
        OpensslBackend::shared(),
        RustlsBackend::shared()
    ));
}

mod rustls_server_openssl_client {
    use super::*;
    lws_conformance::tls_backend_suite!(Backends::pair(
        RustlsBackend::shared(),
        OpensslBackend::shared()
    ));
}
