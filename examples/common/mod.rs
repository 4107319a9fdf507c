//! What every example shares: the common command line (`--port`, `--bind`,
//! `--loop`, `--help`, plus per-example options), the "listening on" line
//! scripts wait for, logging, and graceful shutdown on SIGINT/SIGTERM.
#![allow(dead_code)]

#[cfg(feature = "tls-rustls")]
pub mod tls;
#[cfg(feature = "role-ws")]
pub mod web_demo;

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::process::exit;

use lws::{Endpoint, Remote};

/// A declared option: flag, value name (empty for a switch), help.
type Opt = (&'static str, &'static str, &'static str);

pub struct Cli {
    name: &'static str,
    about: &'static str,
    opts: Vec<Opt>,
    values: BTreeMap<&'static str, String>,
}

impl Cli {
    /// A command line with `--port` (default `port`), `--bind`, `--loop`.
    pub fn server(name: &'static str, about: &'static str, port: u16) -> Cli {
        let mut cli = Cli::client(name, about);
        cli.opts
            .push(("--port", "N", "TCP port to listen on; 0 picks a free one"));
        cli.opts
            .push(("--bind", "ADDR", "address to bind (default 127.0.0.1)"));
        cli.values.insert("--port", port.to_string());
        cli.values.insert("--bind", "127.0.0.1".into());
        cli
    }

    /// A command line with `--loop` only.
    pub fn client(name: &'static str, about: &'static str) -> Cli {
        let mut values = BTreeMap::new();
        values.insert(
            "--loop",
            lws::loops::names()
                .first()
                .copied()
                .unwrap_or("poll")
                .to_owned(),
        );
        let opts = vec![("--loop", "NAME", "event loop to run on")];
        Cli {
            name,
            about,
            opts,
            values,
        }
    }

    /// Declare `--tls-lib NAME`: the TLS backend, one of those compiled in
    /// (`lws::tls::names()`), the first by default.
    pub fn tls_lib(self) -> Cli {
        let first = lws::tls::names().first().copied().unwrap_or("none");
        self.opt(
            "--tls-lib",
            "NAME",
            "TLS backend: rustls, or openssl if compiled in",
        )
        .default("--tls-lib", first)
    }

    /// Declare an extra option; `value` empty means a switch.
    pub fn opt(mut self, flag: &'static str, value: &'static str, help: &'static str) -> Cli {
        self.opts.push((flag, value, help));
        self
    }

    pub fn default(mut self, flag: &'static str, value: &str) -> Cli {
        self.values.insert(flag, value.to_owned());
        self
    }

    pub fn parse(mut self) -> Cli {
        let mut args = std::env::args().skip(1);
        while let Some(a) = args.next() {
            if a == "--help" || a == "-h" {
                self.usage(0);
            }
            let Some(&(flag, value, _)) = self.opts.iter().find(|o| o.0 == a) else {
                eprintln!("{}: unknown argument {a:?}", self.name);
                self.usage(2);
            };
            let v = if value.is_empty() {
                "1".to_owned()
            } else {
                args.next().unwrap_or_else(|| {
                    eprintln!("{}: {flag} needs a value ({value})", self.name);
                    self.usage(2)
                })
            };
            self.values.insert(flag, v);
        }
        self
    }

    fn usage(&self, code: i32) -> ! {
        println!(
            "{} - {}\n\nusage: {} [options]\n",
            self.name, self.about, self.name
        );
        for (flag, value, help) in &self.opts {
            let shown = format!("{flag} {value}");
            let default = self
                .values
                .get(flag)
                .map(|d| format!(" [{d}]"))
                .unwrap_or_default();
            println!("  {shown:<18} {help}{default}");
        }
        println!("\nloops in this build: {}", lws::loops::names().join(", "));
        exit(code)
    }

    pub fn get(&self, flag: &str) -> Option<&str> {
        self.values.get(flag).map(String::as_str)
    }

    pub fn flag(&self, flag: &str) -> bool {
        self.values.contains_key(flag)
    }

    /// The value of `flag` parsed, or exit with a clear message.
    pub fn parsed<T: std::str::FromStr>(&self, flag: &str) -> T
    where
        T::Err: std::fmt::Display,
    {
        let raw = self.get(flag).unwrap_or("");
        raw.parse().unwrap_or_else(|e| {
            eprintln!("{}: bad {flag} {raw:?}: {e}", self.name);
            exit(2)
        })
    }

    /// `--bind` and `--port` as a TCP endpoint.
    pub fn listen(&self) -> Endpoint {
        let ip: IpAddr = self.parsed("--bind");
        Endpoint::Tcp(SocketAddr::new(ip, self.parsed("--port")))
    }

    pub fn loop_name(&self) -> &str {
        self.get("--loop").unwrap_or("poll")
    }
}

/// Log to stderr; `RUST_LOG` overrides the default `warn`.
pub fn init_logging() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
}

/// The one line scripts wait for.
pub fn announce(scheme: &str, ep: &Endpoint) {
    match ep {
        Endpoint::Tcp(a) => println!("listening on {scheme}://{a}/"),
        Endpoint::Unix(p) => println!("listening on unix:{}", p.display()),
    }
}

/// First SIGINT/SIGTERM: graceful stop. Second: exit at once.
pub fn stop_on_signals(remote: Remote) {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = match signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cannot install signal handlers: {e}");
            return;
        }
    };
    std::thread::spawn(move || {
        let mut seen = 0;
        for _ in signals.forever() {
            seen += 1;
            if seen > 1 {
                exit(130);
            }
            remote.stop();
        }
    });
}

/// Exit with the error's message.
pub fn die(what: &str, e: impl std::fmt::Display) -> ! {
    eprintln!("{what}: {e}");
    exit(1)
}
