//! Header fields: an owned, case-insensitive list, and the small grammar
//! helpers (token lists, Content-Length, authority) the parsers share.

/// Header fields in arrival order; names lower-cased.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers {
    fields: Vec<(String, Vec<u8>)>,
}

impl Headers {
    pub(crate) fn from_httparse(h: &[httparse::Header<'_>]) -> Self {
        let fields = h
            .iter()
            .map(|f| (f.name.to_ascii_lowercase(), f.value.to_vec()))
            .collect();
        Headers { fields }
    }

    /// Fields already validated and lower-cased (HTTP/2 header lists).
    #[cfg(feature = "http2")]
    pub(crate) fn from_pairs(fields: Vec<(String, Vec<u8>)>) -> Self {
        Headers { fields }
    }

    /// The first value of `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// The first value of `name` as text, if it is valid UTF-8.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// Every value of `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.fields
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.fields.iter().map(|(n, v)| (n.as_str(), v.as_slice()))
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Whether the comma-separated token list of `name` contains `token`.
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        tokens(self.get_all(name))
            .iter()
            .any(|t| t.eq_ignore_ascii_case(token))
    }
}

/// Comma-separated tokens across all values, trimmed and lower-cased,
/// empty elements dropped (RFC 9110 section 5.6.1).
pub fn tokens<'a>(values: impl Iterator<Item = &'a [u8]>) -> Vec<String> {
    values
        .flat_map(|v| v.split(|&b| b == b','))
        .map(|t| String::from_utf8_lossy(t.trim_ascii()).to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect()
}

/// `Content-Length = 1*DIGIT`, no sign, no list, no overflow.
pub fn content_length(v: &[u8]) -> Option<u64> {
    let v = v.trim_ascii();
    if v.is_empty() || v.len() > 19 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(v).ok()?.parse().ok()
}

/// `host [ ":" port ]` with a reg-name, IPv4 or bracketed IPv6 host.
pub fn valid_authority(s: &str) -> bool {
    let (host, port) = match s.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((v6, after)) => {
                if v6.parse::<std::net::Ipv6Addr>().is_err() {
                    return false;
                }
                ("x", after.strip_prefix(':'))
            }
            None => return false,
        },
        None => match s.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        },
    };
    let port_ok = port.is_none_or(|p| p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=%".contains(&b));
    port_ok && host_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc9110_5_6_1_token_lists_ignore_empty_elements() {
        let v: [&[u8]; 2] = [b" gzip, ,chunked ", b"Close"];
        assert_eq!(tokens(v.into_iter()), vec!["gzip", "chunked", "close"]);
    }

    #[test]
    fn rfc9110_8_6_content_length_is_digits_only() {
        assert_eq!(content_length(b"42"), Some(42));
        assert_eq!(content_length(b" 7 "), Some(7));
        for bad in [
            &b""[..],
            b"-1",
            b"+1",
            b"1,1",
            b"0x10",
            b"1 2",
            b"99999999999999999999",
        ] {
            assert_eq!(
                content_length(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn rfc9112_3_2_authority_forms() {
        for ok in [
            "example.com",
            "example.com:8080",
            "127.0.0.1",
            "[::1]:80",
            "a-b.c_d",
        ] {
            assert!(valid_authority(ok), "{ok}");
        }
        for bad in [
            "exa mple.com",
            "host:port",
            "[::1",
            "[zz]:1",
            "a/b",
            "",
            ":80",
            "h:123456",
        ] {
            assert!(!valid_authority(bad), "{bad}");
        }
    }
}
