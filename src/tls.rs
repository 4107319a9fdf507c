//! TLS backends compiled in, by name: the same choice the loops module
//! offers for event loops, so programs (and the examples' `--tls-lib`)
//! can pick a backend at run time.
//!
//! This module only selects; it must not configure TLS itself.

use lws_core::SharedTlsBackend;

/// The names of the TLS backends compiled in, the default first.
pub fn names() -> &'static [&'static str] {
    &[
        #[cfg(feature = "tls-rustls")]
        "rustls",
        #[cfg(feature = "tls-openssl")]
        "openssl",
    ]
}

/// The backend called `name`, if it is compiled in.
pub fn by_name(name: &str) -> Option<SharedTlsBackend> {
    match name {
        #[cfg(feature = "tls-rustls")]
        "rustls" => Some(lws_tls_rustls::RustlsBackend::shared()),
        #[cfg(feature = "tls-openssl")]
        "openssl" => Some(lws_tls_openssl::OpensslBackend::shared()),
        _ => None,
    }
}

/// The default backend: the first of [`names`].
pub fn default_backend() -> Option<SharedTlsBackend> {
    names().first().and_then(|n| by_name(n))
}
