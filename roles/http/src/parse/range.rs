//! `Range` (RFC 9110 section 14) and conditional requests (section 13) for
//! static files: pure functions over header values.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What to send for a `Range` header against a representation of `len` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeOutcome {
    /// Send the whole representation (no header, an invalid one, or several
    /// ranges: answered with the full body, which RFC 9110 permits).
    Full,
    /// Send bytes `start..=end` with 206.
    Partial { start: u64, end: u64 },
    /// 416 with `Content-Range: bytes */len`.
    Unsatisfiable,
}

/// Evaluate a `Range` header value.
pub fn evaluate_range(value: Option<&str>, len: u64) -> RangeOutcome {
    let Some(spec) = value.and_then(|v| v.trim().strip_prefix("bytes=")) else {
        return RangeOutcome::Full;
    };
    let mut parts = spec.split(',').map(str::trim).filter(|p| !p.is_empty());
    let (Some(one), None) = (parts.next(), parts.next()) else {
        return RangeOutcome::Full;
    };
    let Some((a, b)) = one.split_once('-') else {
        return RangeOutcome::Full;
    };
    let num = |s: &str| -> Option<u64> {
        if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
            None
        } else {
            s.parse().ok()
        }
    };
    match (a.is_empty(), num(a), num(b)) {
        // suffix range: the last `n` bytes
        (true, _, Some(0)) => RangeOutcome::Unsatisfiable,
        (true, _, Some(_)) if len == 0 => RangeOutcome::Unsatisfiable,
        (true, _, Some(n)) => RangeOutcome::Partial {
            start: len.saturating_sub(n),
            end: len - 1,
        },
        (false, Some(start), None) if b.is_empty() => {
            satisfiable(start, len.saturating_sub(1), len)
        }
        (false, Some(start), Some(end)) if end >= start => {
            satisfiable(start, end.min(len.saturating_sub(1)), len)
        }
        _ => RangeOutcome::Full,
    }
}

fn satisfiable(start: u64, end: u64, len: u64) -> RangeOutcome {
    if start >= len {
        RangeOutcome::Unsatisfiable
    } else {
        RangeOutcome::Partial { start, end }
    }
}

/// A strong validator from size and modification time (nanoseconds).
pub fn etag(len: u64, modified: SystemTime) -> String {
    let t = modified
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    format!("\"{len:x}-{:x}{:08x}\"", t.as_secs(), t.subsec_nanos())
}

/// Whether a GET/HEAD may be answered 304 (RFC 9110 section 13.2.2):
/// `If-None-Match` wins over `If-Modified-Since`.
pub fn not_modified(
    if_none_match: Option<&str>,
    if_modified_since: Option<&str>,
    etag: &str,
    modified: SystemTime,
) -> bool {
    if let Some(inm) = if_none_match {
        let inm = inm.trim();
        return inm == "*"
            || inm
                .split(',')
                .map(str::trim)
                .any(|t| t.strip_prefix("W/").unwrap_or(t) == etag);
    }
    let Some(since) = if_modified_since.and_then(|v| httpdate::parse_http_date(v.trim()).ok())
    else {
        return false;
    };
    // HTTP dates have one-second resolution.
    let secs = |t: SystemTime| {
        t.duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    };
    secs(modified) <= secs(since)
}

/// Whether `If-Range` (if present) still matches, so `Range` applies.
pub fn if_range_matches(if_range: Option<&str>, etag: &str, modified: SystemTime) -> bool {
    match if_range.map(str::trim) {
        None => true,
        Some(v) if v.starts_with('"') => v == etag,
        Some(v) => httpdate::parse_http_date(v).is_ok_and(|d| {
            let secs = |t: SystemTime| {
                t.duration_since(UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0)
            };
            secs(d) == secs(modified)
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc9110_14_1_2_byte_ranges() {
        use RangeOutcome::*;
        let r = |v: &str| evaluate_range(Some(v), 100);
        assert_eq!(r("bytes=0-9"), Partial { start: 0, end: 9 });
        assert_eq!(r("bytes=90-"), Partial { start: 90, end: 99 });
        assert_eq!(r("bytes=-10"), Partial { start: 90, end: 99 });
        assert_eq!(r("bytes=-500"), Partial { start: 0, end: 99 });
        assert_eq!(r("bytes=50-5000"), Partial { start: 50, end: 99 });
        assert_eq!(r("bytes=100-"), Unsatisfiable);
        assert_eq!(r("bytes=-0"), Unsatisfiable);
        assert_eq!(r("bytes=9-0"), Full, "invalid: ignored");
        assert_eq!(r("items=0-1"), Full, "other units: ignored");
        assert_eq!(r("bytes=0-1,5-6"), Full, "several ranges: full body");
        assert_eq!(r("bytes=x-1"), Full);
        assert_eq!(evaluate_range(None, 100), Full);
    }

    #[test]
    fn rfc9110_13_1_2_if_none_match_wins_and_matches_weakly() {
        let t = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let tag = etag(5, t);
        assert!(not_modified(Some(&tag), None, &tag, t));
        assert!(not_modified(
            Some(&format!("W/{tag}, \"x\"")),
            None,
            &tag,
            t
        ));
        assert!(not_modified(Some("*"), None, &tag, t));
        let later = httpdate::fmt_http_date(t + Duration::from_secs(10));
        assert!(
            !not_modified(Some("\"other\""), Some(&later), &tag, t),
            "INM present: IMS ignored"
        );
    }

    #[test]
    fn rfc9110_13_1_3_if_modified_since() {
        let t = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let tag = etag(5, t);
        assert!(not_modified(
            None,
            Some(&httpdate::fmt_http_date(t)),
            &tag,
            t
        ));
        assert!(!not_modified(
            None,
            Some(&httpdate::fmt_http_date(t - Duration::from_secs(1))),
            &tag,
            t
        ));
        assert!(!not_modified(None, Some("garbage"), &tag, t));
    }

    #[test]
    fn rfc9110_13_1_5_if_range() {
        let t = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let tag = etag(5, t);
        assert!(if_range_matches(None, &tag, t));
        assert!(if_range_matches(Some(&tag), &tag, t));
        assert!(!if_range_matches(Some("\"stale\""), &tag, t));
        assert!(if_range_matches(Some(&httpdate::fmt_http_date(t)), &tag, t));
    }
}
