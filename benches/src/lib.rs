//! Shared pieces of the benchmarks: a closed-loop echo load client (its own
//! code, on mio, independent of the library under test), an in-process echo
//! server, and figure formatting.

pub mod load;
pub mod server;
pub mod ws;

/// Parse `--name value` pairs from the command line with defaults.
pub fn arg<T: std::str::FromStr>(name: &str, default: T) -> T {
    let mut args = std::env::args();
    while let Some(a) = args.next() {
        if a == name {
            if let Some(v) = args.next().and_then(|v| v.parse().ok()) {
                return v;
            }
            eprintln!("bad value for {name}");
            std::process::exit(2);
        }
    }
    default
}

pub fn arg_str(name: &str) -> Option<String> {
    let mut args = std::env::args();
    while let Some(a) = args.next() {
        if a == name {
            return args.next();
        }
    }
    None
}
