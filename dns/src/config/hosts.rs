//! `/etc/hosts` (hosts(5)): a pure parser over the file's text and the
//! table it yields. Each line is an address, a canonical name and aliases;
//! `#` starts a comment. Names match case-insensitively, without a trailing
//! dot. This module must not read files.

use std::collections::HashMap;
use std::net::IpAddr;

/// The hosts table: name to addresses, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hosts {
    names: HashMap<String, Vec<IpAddr>>,
}

impl Hosts {
    /// Parses the text of a hosts file; malformed lines are skipped.
    pub fn parse(text: &str) -> Self {
        let mut hosts = Hosts::default();
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("");
            let mut words = line.split_whitespace();
            let Some(ip) = words.next().and_then(parse_ip) else {
                continue;
            };
            for name in words {
                let list = hosts.names.entry(key(name)).or_default();
                if !list.contains(&ip) {
                    list.push(ip);
                }
            }
        }
        hosts
    }

    /// The addresses listed for `name`, in file order.
    pub fn lookup(&self, name: &str) -> &[IpAddr] {
        self.names.get(&key(name)).map_or(&[], Vec::as_slice)
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

fn key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

fn parse_ip(word: &str) -> Option<IpAddr> {
    word.split('%').next().unwrap_or(word).parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ips(list: &[&str]) -> Vec<IpAddr> {
        list.iter().filter_map(|s| s.parse().ok()).collect()
    }

    #[test]
    fn v4_v6_aliases_comments() {
        let hosts = Hosts::parse(
            "# header\n127.0.0.1\tlocalhost\n::1 localhost ip6-localhost # trailing\n\
             192.0.2.7 Web.Example web  # alias\n  \nbogus line\n2001:db8::7 web.example.\nfe80::1%lo link\n",
        );
        assert_eq!(hosts.lookup("localhost"), ips(&["127.0.0.1", "::1"]));
        assert_eq!(hosts.lookup("ip6-localhost"), ips(&["::1"]));
        assert_eq!(
            hosts.lookup("WEB.example."),
            ips(&["192.0.2.7", "2001:db8::7"])
        );
        assert_eq!(hosts.lookup("web"), ips(&["192.0.2.7"]));
        assert_eq!(hosts.lookup("link"), ips(&["fe80::1"]));
        assert!(hosts.lookup("bogus").is_empty() && hosts.lookup("line").is_empty());
        assert!(hosts.lookup("header").is_empty());
    }

    #[test]
    fn duplicates_kept_once() {
        let hosts = Hosts::parse("10.0.0.1 a\n10.0.0.1 a b\n");
        assert_eq!(hosts.lookup("a"), ips(&["10.0.0.1"]));
        assert!(Hosts::parse("").is_empty());
    }
}
