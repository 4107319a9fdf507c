//! The in-memory transport an OpenSSL session runs over.
//!
//! OpenSSL reads ciphertext the core gave it from `inbound` and writes
//! ciphertext for the core into `outbound`. Reading an empty inbound
//! buffer is `WouldBlock`, which OpenSSL reports as `WANT_READ`: the
//! session then waits for the core's next `read_tls`. Writing never
//! blocks; the core drains `outbound` after every operation and bounds the
//! connection's pending output itself.
//!
//! This module must not touch sockets.

use std::io::{self, Read, Write};

#[derive(Debug, Default)]
pub(crate) struct MemIo {
    inbound: Vec<u8>,
    /// How much of `inbound` OpenSSL has consumed.
    consumed: usize,
    pub outbound: Vec<u8>,
}

impl MemIo {
    /// Append up to `max` bytes read from `rd` (the socket).
    pub fn fill_from(&mut self, rd: &mut dyn Read, max: usize) -> io::Result<usize> {
        if self.consumed == self.inbound.len() {
            self.inbound.clear();
            self.consumed = 0;
        }
        let start = self.inbound.len();
        self.inbound.resize(start + max, 0);
        let r = rd.read(&mut self.inbound[start..]);
        self.inbound.truncate(start + *r.as_ref().unwrap_or(&0));
        r
    }
}

impl Read for MemIo {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let avail = &self.inbound[self.consumed..];
        if avail.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = avail.len().min(buf.len());
        buf[..n].copy_from_slice(&avail[..n]);
        self.consumed += n;
        Ok(n)
    }
}

impl Write for MemIo {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.outbound.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
