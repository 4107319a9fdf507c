//! Close frame payloads (RFC 6455 sections 5.5.1 and 7.4).

use crate::proto::error::WsError;

/// Whether `code` may appear in a close frame on the wire: the defined
/// codes, IANA-registered 1012-1014, and the 3000-4999 ranges. 1004-1006
/// and 1015 are reserved for local use and never sent.
pub fn valid_wire_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// Parse a received close payload: `None` for an empty payload (no code).
pub fn parse_close(payload: &[u8]) -> Result<Option<(u16, &str)>, WsError> {
    match payload {
        [] => Ok(None),
        [_] => Err(WsError::Protocol("one-byte close payload")),
        [hi, lo, reason @ ..] => {
            let code = u16::from_be_bytes([*hi, *lo]);
            if !valid_wire_code(code) {
                return Err(WsError::Protocol("invalid close code"));
            }
            let reason = std::str::from_utf8(reason).map_err(|_| WsError::InvalidUtf8)?;
            Ok(Some((code, reason)))
        }
    }
}

/// Build a close payload; the reason is cut to fit 125 bytes on a UTF-8
/// character boundary.
pub fn close_payload(code: u16, reason: &str) -> Vec<u8> {
    let mut cut = reason.len().min(123);
    while !reason.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut out = Vec::with_capacity(2 + cut);
    out.extend_from_slice(&code.to_be_bytes());
    out.extend_from_slice(&reason.as_bytes()[..cut]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6455_7_4_close_codes() {
        for ok in [
            1000u16, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 3000, 3999, 4000, 4999,
        ] {
            assert!(parse_close(&ok.to_be_bytes()).is_ok(), "{ok}");
        }
        for bad in [
            0u16, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000,
        ] {
            assert_eq!(
                parse_close(&bad.to_be_bytes()).map_err(|e| e.close_code()),
                Err(1002),
                "{bad}"
            );
        }
    }

    #[test]
    fn rfc6455_5_5_1_payload_forms() {
        assert_eq!(parse_close(&[]), Ok(None));
        assert!(parse_close(&[3]).is_err());
        let mut p = 1000u16.to_be_bytes().to_vec();
        p.extend_from_slice(b"\xff");
        assert_eq!(parse_close(&p).map_err(|e| e.close_code()), Err(1007));
    }

    #[test]
    fn reason_is_truncated_on_a_char_boundary() {
        let p = close_payload(1000, &"é".repeat(100));
        assert!(p.len() <= 125);
        assert!(std::str::from_utf8(&p[2..]).is_ok());
    }
}
