//! Masking (RFC 6455 section 5.3), eight bytes at a time.

/// XOR `data` with `key`, starting at byte `offset` of the masking stream
/// (so a payload can be unmasked in pieces). Returns the next offset.
pub fn apply_mask(data: &mut [u8], key: [u8; 4], offset: usize) -> usize {
    let start = offset % 4;
    let rotated = [
        key[start],
        key[(start + 1) % 4],
        key[(start + 2) % 4],
        key[(start + 3) % 4],
    ];
    let wide = u64::from_ne_bytes([
        rotated[0], rotated[1], rotated[2], rotated[3], rotated[0], rotated[1], rotated[2],
        rotated[3],
    ]);
    let mut chunks = data.chunks_exact_mut(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        c.copy_from_slice(&(u64::from_ne_bytes(w) ^ wide).to_ne_bytes());
    }
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= rotated[i % 4];
    }
    offset + data.len()
}

#[cfg(test)]
mod tests {
    use super::apply_mask;

    fn naive(data: &mut [u8], key: [u8; 4], offset: usize) {
        for (i, b) in data.iter_mut().enumerate() {
            *b ^= key[(offset + i) % 4];
        }
    }

    #[test]
    fn rfc6455_5_3_matches_naive_at_every_offset_and_length() {
        let key = [0x12, 0x34, 0x56, 0x78];
        for len in 0..40 {
            for offset in 0..8 {
                let orig: Vec<u8> = (0..len as u8).collect();
                let (mut a, mut b) = (orig.clone(), orig.clone());
                apply_mask(&mut a, key, offset);
                naive(&mut b, key, offset);
                assert_eq!(a, b, "len {len} offset {offset}");
            }
        }
    }

    #[test]
    fn unmasking_in_pieces_equals_all_at_once() {
        let key = [9, 8, 7, 6];
        let orig: Vec<u8> = (0..100u8).collect();
        let mut whole = orig.clone();
        apply_mask(&mut whole, key, 0);
        let mut pieces = orig.clone();
        let mut off = 0;
        for chunk in pieces.chunks_mut(7) {
            off = apply_mask(chunk, key, off);
        }
        assert_eq!(whole, pieces);
    }
}
