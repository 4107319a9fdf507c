//! Throwaway certificates for tests and examples (feature `testcert`): a
//! CA and leaf certificates it signs, or a self-signed certificate, all
//! generated in memory with rcgen and returned as PEM strings.
//!
//! This module must not be used for real deployments, and must not write
//! keys anywhere: callers that need files (e.g. for `curl --cacert`) write
//! them to a temporary directory and delete them. No key is ever checked
//! into the repository.

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

/// A generated certificate authority.
pub struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    /// The CA certificate, PEM (give it to clients as their root).
    pub cert_pem: String,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa").finish_non_exhaustive()
    }
}

/// A leaf certificate and its key, PEM.
#[derive(Debug, Clone)]
pub struct TestCert {
    pub cert_pem: String,
    pub key_pem: String,
}

/// A self-signed certificate for `names` (for peers that can only be
/// told to accept self-signed certificates).
pub fn self_signed(names: &[&str]) -> Result<TestCert, rcgen::Error> {
    let mut params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())?;
    // OpenSSL treats a certificate as self-signed (rather than as one with
    // a missing issuer) only when it may sign certificates.
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let key = KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    Ok(TestCert {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

impl TestCa {
    pub fn new(name: &str) -> Result<Self, rcgen::Error> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let key = KeyPair::generate()?;
        let cert = params.self_signed(&key)?;
        Ok(TestCa {
            cert_pem: cert.pem(),
            issuer: Issuer::new(params, key),
        })
    }

    /// A leaf certificate for `names` (DNS names or IP addresses).
    pub fn leaf(&self, names: &[&str]) -> Result<TestCert, rcgen::Error> {
        let params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())?;
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(TestCert {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }
}
