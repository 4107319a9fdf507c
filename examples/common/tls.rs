//! TLS setup shared by the server examples: certificate and key from
//! `--cert`/`--key`, or a throwaway CA and certificate for localhost
//! generated at startup (its CA is written next to a temp file so clients
//! can trust it: `curl --cacert <path>`).

use lws::TlsServerSpec;
use lws::core::SharedTlsBackend;
use lws::rustls::testcert::TestCa;

use super::{Cli, die};

/// The backend `--tls-lib` names (see [`Cli::tls_lib`]).
pub fn backend(cli: &Cli) -> SharedTlsBackend {
    let name = cli.get("--tls-lib").unwrap_or("rustls");
    lws::tls::by_name(name).unwrap_or_else(|| {
        die(
            "--tls-lib",
            format!(
                "{name:?} is not compiled in (have: {:?})",
                lws::tls::names()
            ),
        )
    })
}

/// The server certificate for `--tls`, and ALPN `alpn`.
pub fn server_spec(cli: &Cli, alpn: &[&str]) -> TlsServerSpec {
    let spec = match (cli.get("--cert"), cli.get("--key")) {
        (Some(cert), Some(key)) => {
            TlsServerSpec::from_pem_files(cert, key).unwrap_or_else(|e| die("--cert/--key", e))
        }
        _ => generated(),
    };
    spec.alpn(alpn.iter().map(|a| a.as_bytes()))
}

fn generated() -> TlsServerSpec {
    let ca = TestCa::new("lws-rs example CA").unwrap_or_else(|e| die("generating a CA", e));
    let leaf = ca
        .leaf(&["localhost", "127.0.0.1", "::1"])
        .unwrap_or_else(|e| die("generating a certificate", e));
    let path = std::env::temp_dir().join(format!("lws-example-ca-{}.pem", std::process::id()));
    std::fs::write(&path, &ca.cert_pem).unwrap_or_else(|e| die("writing the CA", e));
    eprintln!(
        "generated a throwaway certificate for localhost; trust it with: --cacert {}",
        path.display()
    );
    TlsServerSpec::from_pem(leaf.cert_pem, leaf.key_pem)
}
