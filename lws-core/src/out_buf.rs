//! Per-connection output that the socket did not take yet.
//!
//! The buffer is empty (and unallocated) for an idle connection. Bytes are
//! consumed from the front by advancing an offset; the storage is compacted
//! only when it is fully drained, so a partial write never moves memory.

/// Pending output of one connection.
#[derive(Debug, Default)]
pub(crate) struct OutBuf {
    buf: Vec<u8>,
    pos: usize,
}

/// Above this capacity a drained buffer is released, so one large write does
/// not pin memory on an otherwise idle connection.
const KEEP_CAPACITY: usize = 16 * 1024;

impl OutBuf {
    pub fn is_empty(&self) -> bool {
        self.pos == self.buf.len()
    }

    pub fn len(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn pending(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// Mark `n` bytes from the front as written.
    pub fn consume(&mut self, n: usize) {
        debug_assert!(n <= self.len());
        self.pos = (self.pos + n).min(self.buf.len());
        if self.is_empty() {
            self.clear();
        }
    }

    pub fn clear(&mut self) {
        self.pos = 0;
        if self.buf.capacity() > KEEP_CAPACITY {
            self.buf = Vec::new();
        } else {
            self.buf.clear();
        }
    }
}

impl std::io::Write for OutBuf {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.push(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consumes_from_the_front_in_order() {
        let mut b = OutBuf::default();
        b.push(b"hello ");
        b.push(b"world");
        b.consume(3);
        assert_eq!(b.pending(), b"lo world");
        b.consume(8);
        assert!(b.is_empty());
        assert_eq!(b.len(), 0);
    }

    #[test]
    fn large_drained_buffer_is_released() {
        let mut b = OutBuf::default();
        b.push(&vec![0; KEEP_CAPACITY * 2]);
        b.consume(KEEP_CAPACITY * 2);
        assert_eq!(b.buf.capacity(), 0);
    }
}
