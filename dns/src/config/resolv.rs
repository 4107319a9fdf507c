//! `/etc/resolv.conf` (resolv.conf(5)): a pure parser over the file's text.
//!
//! Understood: `nameserver` (IPv4 or IPv6, at most [`MAX_NAMESERVERS`] as
//! in glibc; as an extension `IP:port` / `[IPv6]:port` for test servers on
//! other ports), `search` and `domain` (the last one wins, as in glibc),
//! and `options ndots:N timeout:N attempts:N rotate` with glibc's caps.
//! Unknown keywords and options are ignored; a bad value leaves the default.
//! This module must not read files or know what the values do.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

/// Most nameservers used (glibc's `MAXNS`).
pub const MAX_NAMESERVERS: usize = 3;
/// Most search domains used (glibc's `MAXDNSRCH`).
pub const MAX_SEARCH: usize = 6;

/// What resolv.conf says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvConf {
    /// Servers asked, in order (127.0.0.1:53 when the file names none).
    pub nameservers: Vec<SocketAddr>,
    /// Domains appended to relative names.
    pub search: Vec<String>,
    /// Names with at least this many dots are tried as given first (max 15).
    pub ndots: u8,
    /// How long to wait for each try (1 to 30 s, default 5).
    pub timeout: Duration,
    /// Rounds over all servers (1 to 5, default 2).
    pub attempts: u8,
    /// Start each query at the next server instead of the first.
    pub rotate: bool,
}

impl Default for ResolvConf {
    fn default() -> Self {
        ResolvConf {
            nameservers: vec![SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 53)],
            search: Vec::new(),
            ndots: 1,
            timeout: Duration::from_secs(5),
            attempts: 2,
            rotate: false,
        }
    }
}

impl ResolvConf {
    /// Parses the text of a resolv.conf file.
    pub fn parse(text: &str) -> Self {
        let mut conf = ResolvConf {
            nameservers: Vec::new(),
            ..ResolvConf::default()
        };
        for line in text.lines() {
            let line = line.split(['#', ';']).next().unwrap_or("");
            let mut words = line.split_whitespace();
            match words.next() {
                Some("nameserver") => conf.add_nameserver(words.next()),
                Some("search") => conf.search = search_list(words),
                Some("domain") => conf.search = search_list(words.take(1)),
                Some("options") => words.for_each(|o| conf.apply_option(o)),
                _ => {}
            }
        }
        if conf.nameservers.is_empty() {
            conf.nameservers = ResolvConf::default().nameservers;
        }
        conf
    }

    fn add_nameserver(&mut self, word: Option<&str>) {
        if self.nameservers.len() >= MAX_NAMESERVERS {
            return;
        }
        if let Some(addr) = word.and_then(parse_server) {
            self.nameservers.push(addr);
        }
    }

    fn apply_option(&mut self, option: &str) {
        let (key, value) = option.split_once(':').unwrap_or((option, ""));
        let number = value.parse::<u32>().ok();
        match (key, number) {
            ("ndots", Some(n)) => self.ndots = n.min(15) as u8,
            ("timeout", Some(n)) => self.timeout = Duration::from_secs(u64::from(n.clamp(1, 30))),
            ("attempts", Some(n)) => self.attempts = n.clamp(1, 5) as u8,
            ("rotate", _) => self.rotate = true,
            _ => {}
        }
    }
}

fn search_list<'a>(words: impl Iterator<Item = &'a str>) -> Vec<String> {
    words
        .map(|w| w.trim_end_matches('.').to_ascii_lowercase())
        .filter(|w| !w.is_empty())
        .take(MAX_SEARCH)
        .collect()
}

/// `1.2.3.4`, `::1`, `fe80::1%eth0` (the zone is dropped), or with a port
/// `1.2.3.4:5353` / `[::1]:5353`.
fn parse_server(word: &str) -> Option<SocketAddr> {
    let bare = word.split('%').next().unwrap_or(word);
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Some(SocketAddr::new(ip, 53));
    }
    word.parse::<SocketAddr>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn nameservers_v4_v6_port_and_limit() {
        let conf = ResolvConf::parse(
            "# comment\nnameserver 192.0.2.1\nnameserver  ::1 \nnameserver [::1]:5353\nnameserver 10.0.0.1\n",
        );
        assert_eq!(
            conf.nameservers,
            [sa("192.0.2.1:53"), sa("[::1]:53"), sa("[::1]:5353")]
        );
        let conf = ResolvConf::parse(
            "nameserver 127.0.0.1:5300\nnameserver fe80::1%eth0\nnameserver bogus\n",
        );
        assert_eq!(conf.nameservers, [sa("127.0.0.1:5300"), sa("[fe80::1]:53")]);
    }

    #[test]
    fn defaults_when_empty() {
        assert_eq!(ResolvConf::parse(""), ResolvConf::default());
        assert_eq!(ResolvConf::parse("").nameservers, [sa("127.0.0.1:53")]);
    }

    #[test]
    fn search_and_domain_last_wins() {
        let conf = ResolvConf::parse("domain a.example\nsearch B.example. c.example ; x\n");
        assert_eq!(conf.search, ["b.example", "c.example"]);
        let conf = ResolvConf::parse("search b.example c.example\ndomain a.example x.example\n");
        assert_eq!(conf.search, ["a.example"]);
        let many = ResolvConf::parse("search a b c d e f g h\n");
        assert_eq!(many.search.len(), MAX_SEARCH);
    }

    #[test]
    fn options_parsed_and_capped() {
        let conf = ResolvConf::parse("options ndots:3 timeout:2 attempts:4 rotate edns0\n");
        assert_eq!(
            (conf.ndots, conf.timeout, conf.attempts, conf.rotate),
            (3, Duration::from_secs(2), 4, true)
        );
        let conf =
            ResolvConf::parse("options ndots:99 timeout:0 attempts:9\noptions timeout:999\n");
        assert_eq!(
            (conf.ndots, conf.timeout, conf.attempts),
            (15, Duration::from_secs(30), 5)
        );
        let conf = ResolvConf::parse("options ndots:x timeout: attempts\n");
        assert_eq!(
            (conf.ndots, conf.timeout, conf.attempts),
            (1, Duration::from_secs(5), 2)
        );
    }
}
