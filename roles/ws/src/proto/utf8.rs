//! Incremental UTF-8 validation for text messages arriving in fragments.
//!
//! Fails as soon as an impossible byte appears (RFC 6455 section 8.1 and
//! Autobahn's "fail fast" cases), even in the middle of a fragment or of a
//! sequence split across fragments; holds at most 3 bytes between calls.

use crate::proto::error::WsError;

/// Validator state between fragments of one message.
#[derive(Debug, Default, Clone)]
pub struct Utf8Validator {
    pending: [u8; 4],
    len: usize,
}

impl Utf8Validator {
    pub fn new() -> Self {
        Self::default()
    }

    /// Validate the next piece of the message.
    pub fn feed(&mut self, mut data: &[u8]) -> Result<(), WsError> {
        if self.len > 0 {
            // Complete the sequence held from the previous piece.
            let need = seq_len(self.pending[0]).ok_or(WsError::InvalidUtf8)?;
            let take = (need - self.len).min(data.len());
            self.pending[self.len..self.len + take].copy_from_slice(&data[..take]);
            self.len += take;
            data = &data[take..];
            match std::str::from_utf8(&self.pending[..self.len]) {
                Ok(_) => self.len = 0,
                Err(e) if e.error_len().is_none() => return Ok(()), // still a valid prefix
                Err(_) => return Err(WsError::InvalidUtf8),
            }
        }
        match std::str::from_utf8(data) {
            Ok(_) => Ok(()),
            Err(e) if e.error_len().is_some() => Err(WsError::InvalidUtf8),
            Err(e) => {
                let tail = &data[e.valid_up_to()..];
                self.pending[..tail.len()].copy_from_slice(tail);
                self.len = tail.len();
                Ok(())
            }
        }
    }

    /// The message ended: no sequence may be left incomplete.
    pub fn finish(&mut self) -> Result<(), WsError> {
        let ok = self.len == 0;
        self.len = 0;
        if ok {
            Ok(())
        } else {
            Err(WsError::InvalidUtf8)
        }
    }
}

fn seq_len(first: u8) -> Option<usize> {
    match first {
        0xc2..=0xdf => Some(2),
        0xe0..=0xef => Some(3),
        0xf0..=0xf4 => Some(4),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::Utf8Validator;

    fn split_everywhere(bytes: &[u8]) -> Vec<bool> {
        (0..=bytes.len())
            .map(|cut| {
                let mut v = Utf8Validator::new();
                v.feed(&bytes[..cut]).is_ok() && v.feed(&bytes[cut..]).is_ok() && v.finish().is_ok()
            })
            .collect()
    }

    #[test]
    fn rfc3629_valid_text_passes_at_every_split() {
        let text = "κόσμε, €, 𝄞, ASCII".as_bytes();
        assert!(split_everywhere(text).iter().all(|ok| *ok));
    }

    #[test]
    fn rfc3629_invalid_sequences_fail_at_every_split() {
        let bad: [&[u8]; 7] = [
            b"\xc0\xaf",         // overlong
            b"\xe0\x80\xaf",     // overlong
            b"\xed\xa0\x80",     // surrogate U+D800
            b"\xf4\x90\x80\x80", // > U+10FFFF
            b"\xff",             // never valid
            b"\xce\xba\xe1\xbd", // truncated at end
            b"\x80",             // lone continuation
        ];
        for b in bad {
            assert!(split_everywhere(b).iter().all(|ok| !*ok), "{b:?}");
        }
    }

    #[test]
    fn autobahn_6_fail_fast_on_the_first_impossible_byte() {
        let mut v = Utf8Validator::new();
        assert!(
            v.feed(b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5")
                .is_ok()
        );
        assert!(
            v.feed(b"\xf4\x90").is_err(),
            "F4 90 can never start a valid sequence"
        );
        let mut v = Utf8Validator::new();
        assert!(v.feed(b"\xed").is_ok());
        assert!(
            v.feed(b"\xa0").is_err(),
            "surrogate detected before the sequence completes"
        );
    }
}
