//! HTTP/1.1 static file benchmark with wrk: lws-rs serving a 1 KiB file,
//! and, when Debian's `libwebsockets-test-server` is installed, lws-rs and
//! the C libwebsockets test server serving the same ~1 KiB file from the
//! same directory in the same run. Prints requests/s and errors. With
//! `h2load` installed it also loads the same file over HTTP/2 (cleartext,
//! prior knowledge; 50 connections x 10 concurrent streams).
//!
//!     cargo run --release -p lws-benches --bin http-bench -- --duration 10

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::Duration;

use lws::http::{HttpProtocol, Mount, NotFound};
use lws_benches::{arg, server};

const C_LWS: &str = "libwebsockets-test-server";
const C_LWS_DIR: &str = "/usr/share/libwebsockets-test-server";

/// Serve `dir` with lws-rs on the native loop, on its own thread.
fn start_lws(dir: &Path) -> server::Running {
    let dir = dir.to_path_buf();
    server::start_with("poll", None, move || {
        HttpProtocol::new(NotFound)
            .mount(Mount::dir("/", &dir))
            .expect("mount")
    })
}

struct Wrk {
    rps: f64,
    errors: u64,
}

fn wrk(url: &str, secs: u64) -> Option<Wrk> {
    let out = Command::new("wrk")
        .args(["-t1", "-c50", &format!("-d{secs}s"), url])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let rps = text
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))?
        .trim()
        .parse()
        .ok()?;
    let mut errors = 0;
    for l in text.lines() {
        if let Some(rest) = l.trim().strip_prefix("Non-2xx or 3xx responses:") {
            errors += rest.trim().parse::<u64>().unwrap_or(1);
        }
        if let Some(rest) = l.trim().strip_prefix("Socket errors:") {
            errors += rest
                .split(',')
                .filter_map(|p| p.split_whitespace().last()?.parse::<u64>().ok())
                .sum::<u64>();
        }
    }
    Some(Wrk { rps, errors })
}

struct CServer(Child);

impl Drop for CServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start the C test server bound to loopback (`--interface lo`).
fn start_c_lws() -> Option<(CServer, u16)> {
    let port = TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let child = Command::new(C_LWS)
        .args(["--port", &port.to_string(), "--interface", "lo", "-d", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let server = CServer(child);
    for _ in 0..100 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some((server, port));
        }
        thread::sleep(Duration::from_millis(50));
    }
    None
}

fn line(name: &str, w: &Option<Wrk>) {
    match w {
        Some(w) => println!("  {name:<34} {:>10.0} req/s  errors {}", w.rps, w.errors),
        None => println!("  {name:<34} (wrk failed)"),
    }
}

/// `h2load` for `secs` seconds: requests/s and failed requests.
fn h2load(url: &str, secs: u64) -> Option<Wrk> {
    let out = Command::new("h2load")
        .args([
            "-c",
            "50",
            "-m",
            "10",
            "-t",
            "1",
            "-D",
            &secs.to_string(),
            url,
        ])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let rps = text
        .lines()
        .find_map(|l| l.strip_prefix("finished in "))?
        .split(", ")
        .nth(1)?
        .strip_suffix(" req/s")?
        .parse()
        .ok()?;
    let failed = text
        .lines()
        .find_map(|l| l.strip_prefix("requests: "))?
        .split(", ")
        .find_map(|p| p.strip_suffix(" failed"))?
        .parse()
        .ok()?;
    Some(Wrk {
        rps,
        errors: failed,
    })
}

fn main() {
    let secs = arg("--duration", 10u64);
    let tmp: PathBuf = std::env::temp_dir().join(format!("lws-http-bench-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("tmp");
    let kib: Vec<u8> = (0..1024u32).map(|i| b'a' + (i % 26) as u8).collect();
    std::fs::write(tmp.join("1k.txt"), kib).expect("file");

    println!("wrk -t1 -c50 -d{secs}s, static files, release build");
    let srv = start_lws(&tmp);
    let addr = srv.addr;
    line(
        "lws-rs      /1k.txt (1,024 B)",
        &wrk(&format!("http://{addr}/1k.txt"), secs),
    );
    if Command::new("h2load").arg("--version").output().is_ok() {
        let r = h2load(&format!("http://{addr}/1k.txt"), secs);
        match r {
            Some(w) => println!(
                "  {:<34} {:>10.0} req/s  errors {}  (h2load -c50 -m10, HTTP/2)",
                "lws-rs      /1k.txt (1,024 B)", w.rps, w.errors
            ),
            None => println!("  HTTP/2: h2load failed"),
        }
    }
    srv.remote.stop();
    let _ = srv.thread.join();

    if Path::new(C_LWS_DIR).join("favicon.ico").exists() {
        let srv = start_lws(Path::new(C_LWS_DIR));
        let addr = srv.addr;
        let ours = wrk(&format!("http://{addr}/favicon.ico"), secs);
        srv.remote.stop();
        let _ = srv.thread.join();
        let theirs = start_c_lws()
            .and_then(|(_srv, port)| wrk(&format!("http://127.0.0.1:{port}/favicon.ico"), secs));
        line("lws-rs      /favicon.ico (1,406 B)", &ours);
        line("C lws 4.1.6 /favicon.ico (1,406 B)", &theirs);
        if let (Some(a), Some(b)) = (&ours, &theirs) {
            println!("  ratio lws-rs / C libwebsockets: {:.2}x", a.rps / b.rps);
        }
    } else {
        println!("  ({C_LWS} not installed: C comparison skipped)");
    }
    let _ = std::fs::remove_dir_all(&tmp);
}
