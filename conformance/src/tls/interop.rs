//! Real TLS peers against the lws echo server: Python's `ssl` module and
//! `openssl s_client`, each verifying the server against the test CA,
//! sending a line and reading it back. A peer that is not installed is
//! skipped with a printed reason; an installed one must succeed.
//!
//! These scenarios must not leave files or processes behind: the CA file lives
//! in a temporary directory removed on drop, and peers are killed.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;

use super::{Backends, REPORT, ca_and_leaf, serve};

/// A temporary directory holding the CA certificate, removed on drop.
struct CaFile {
    dir: PathBuf,
    path: PathBuf,
}

impl CaFile {
    fn new(tag: &str, pem: &str) -> CaFile {
        let dir = std::env::temp_dir().join(format!("lws-tls-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("ca.pem");
        std::fs::write(&path, pem).expect("ca file");
        CaFile { dir, path }
    }
}

impl Drop for CaFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

const PY_SSL: &str = r#"
import socket, ssl, sys
port, cafile = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=cafile)
with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
    with ctx.wrap_socket(raw, server_hostname="localhost") as s:
        s.sendall(b"hello from python ssl\n")
        got = b""
        while not got.endswith(b"\n"):
            chunk = s.recv(100)
            if not chunk:
                break
            got += chunk
        print(got.decode().strip(), s.version())
"#;

pub fn python_ssl_client(b: &Backends) {
    if !crate::peer::installed("python3") {
        return;
    }
    let (ca, leaf) = ca_and_leaf(&["localhost"]);
    let srv = serve(b, vec![("default", leaf)], 0, &[]);
    let ca_file = CaFile::new("py", &ca.cert_pem);
    let out = Command::new("python3")
        .args(["-c", PY_SSL, &srv.addr.port().to_string()])
        .arg(&ca_file.path)
        .output()
        .expect("python3");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("hello from python ssl TLSv1."), "{text}");
}

/// Run `openssl s_client` verifying `localhost` against `ca`, send `line`
/// and return the first line it prints back (with its stderr).
fn s_client_round_trip(port: u16, ca: &Path, line: &str) -> (Option<String>, String) {
    let mut child = Command::new("openssl")
        .args([
            "s_client",
            "-quiet",
            "-verify_return_error",
            "-verify_hostname",
        ])
        .args(["localhost", "-servername", "localhost", "-connect"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("-CAfile")
        .arg(ca)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("openssl");
    let mut stdin = child.stdin.take().expect("stdin");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut first = String::new();
        let _ = BufReader::new(stdout).read_line(&mut first);
        let _ = tx.send(first);
    });
    let _ = writeln!(stdin, "{line}");
    let echoed = rx.recv_timeout(REPORT).ok();
    let _ = child.kill();
    drop(stdin);
    let out = child.wait_with_output().expect("openssl exit");
    (echoed, String::from_utf8_lossy(&out.stderr).into_owned())
}

pub fn openssl_s_client(b: &Backends) {
    if !crate::peer::installed("openssl") {
        return;
    }
    let (ca, leaf) = ca_and_leaf(&["localhost"]);
    let srv = serve(b, vec![("default", leaf)], 0, &[]);
    let ca_file = CaFile::new("openssl", &ca.cert_pem);
    let (echoed, log) = s_client_round_trip(srv.addr.port(), &ca_file.path, "hello from openssl");
    assert_eq!(
        echoed.as_deref().map(str::trim_end),
        Some("hello from openssl"),
        "{log}"
    );
    assert!(!log.contains("verify error"), "{log}");
    assert_eq!(srv.next_opened().vhost, "default");
}

pub fn openssl_s_client_rejects(b: &Backends) {
    if !crate::peer::installed("openssl") {
        return;
    }
    let (_ca, leaf) = ca_and_leaf(&["localhost"]);
    let stranger = lws_tls_rustls::testcert::TestCa::new("stranger").expect("ca");
    let srv = serve(b, vec![("default", leaf)], 0, &[]);
    let ca_file = CaFile::new("openssl-bad", &stranger.cert_pem);
    let (echoed, log) = s_client_round_trip(srv.addr.port(), &ca_file.path, "nope");
    assert!(
        echoed.is_none_or(|l| l.trim_end() != "nope"),
        "no echo through an unverified server: {log}"
    );
    assert!(log.contains("verify"), "openssl says why: {log}");
}
