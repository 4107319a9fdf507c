//! Incremental chunked transfer coding (RFC 9112 section 7.1).
//!
//! The decoder is a byte-level state machine: feed it any split of the
//! input, even one byte at a time, and it hands back slices of that input
//! holding chunk data (no copy). It is strict where leniency enables request
//! smuggling: hex digits only (no sign, no `0x`, at most 16 digits), CRLF
//! required after every size line and every chunk (a bare LF or CR is an
//! error), chunk extensions and the trailer section are bounded, and the
//! decoded total is checked against a limit as it grows, not at the end.

use crate::parse::error::ChunkError;

/// Longest accepted chunk-ext (all extensions of one size line).
const MAX_EXTENSION: usize = 4096;
/// Longest accepted trailer section.
const MAX_TRAILER: usize = 8192;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Size {
        value: u64,
        digits: u8,
    },
    /// After the digits: optional whitespace, then `;` and extensions.
    Ext {
        len: usize,
        seen_semicolon: bool,
    },
    SizeLf {
        size: u64,
    },
    Data {
        remaining: u64,
    },
    DataCr,
    DataLf,
    /// A trailer field line (`len` bytes so far, `colon` seen, name valid).
    Trailer {
        len: usize,
        colon: bool,
    },
    TrailerLf,
    EndLf,
    Done,
}

/// What one decode step produced.
#[derive(Debug, PartialEq, Eq)]
pub enum Chunk<'a> {
    /// Body bytes (a slice of the input).
    Data(&'a [u8]),
    /// The last chunk and trailer section were read; the body is complete.
    End,
}

/// Decoder for one chunked body.
#[derive(Clone, Debug)]
pub struct ChunkedDecoder {
    state: State,
    total: u64,
    max_body: u64,
    trailer_total: usize,
    /// The size of the chunk whose extensions are being read.
    ext_size: u64,
}

impl ChunkedDecoder {
    /// A decoder refusing bodies over `max_body` decoded bytes (413).
    pub fn new(max_body: u64) -> Self {
        ChunkedDecoder {
            state: State::Size {
                value: 0,
                digits: 0,
            },
            total: 0,
            max_body,
            trailer_total: 0,
            ext_size: 0,
        }
    }

    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Decoded body bytes so far.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Consume framing from `input` up to the next data or the end.
    /// Returns how many bytes were consumed and what they produced
    /// (`None`: framing only, or more input needed). Call again with the
    /// rest of the input while it is not empty.
    pub fn decode<'a>(
        &mut self,
        input: &'a [u8],
    ) -> Result<(usize, Option<Chunk<'a>>), ChunkError> {
        let mut i = 0;
        while i < input.len() {
            if let State::Data { remaining } = self.state {
                let n = remaining.min((input.len() - i) as u64) as usize;
                let left = remaining - n as u64;
                self.state = if left == 0 {
                    State::DataCr
                } else {
                    State::Data { remaining: left }
                };
                return Ok((i + n, Some(Chunk::Data(&input[i..i + n]))));
            }
            self.state = self.step(input[i])?;
            i += 1;
            if self.state == State::Done {
                return Ok((i, Some(Chunk::End)));
            }
        }
        Ok((i, None))
    }

    /// Advance the framing state machine by one byte.
    fn step(&mut self, b: u8) -> Result<State, ChunkError> {
        Ok(match self.state {
            State::Size { value, digits } => match b {
                b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F' => {
                    if digits >= 16 {
                        return Err(ChunkError::SizeOverflow);
                    }
                    let d = (b as char).to_digit(16).unwrap_or(0) as u64;
                    State::Size {
                        value: (value << 4) | d,
                        digits: digits + 1,
                    }
                }
                _ if digits == 0 => return Err(ChunkError::BadSize),
                b'\r' => State::SizeLf { size: value },
                b'\n' => return Err(ChunkError::BareLineEnding),
                b';' => self.ext(value, 1, true)?,
                b' ' | b'\t' => self.ext(value, 1, false)?,
                _ => return Err(ChunkError::BadSize),
            },
            State::Ext {
                len,
                seen_semicolon,
            } => match b {
                b'\r' => State::SizeLf {
                    size: self.pending_size(),
                },
                b'\n' => return Err(ChunkError::BareLineEnding),
                b';' => self.ext(self.pending_size(), len + 1, true)?,
                b' ' | b'\t' => self.ext(self.pending_size(), len + 1, seen_semicolon)?,
                // Only whitespace may stand between the size and the first `;`.
                _ if !seen_semicolon => return Err(ChunkError::BadSize),
                0x21..=0x7e | 0x80..=0xff => self.ext(self.pending_size(), len + 1, true)?,
                _ => return Err(ChunkError::BadSize),
            },
            State::SizeLf { size } => match b {
                b'\n' if size == 0 => State::Trailer {
                    len: 0,
                    colon: false,
                },
                b'\n' => {
                    self.total = self
                        .total
                        .checked_add(size)
                        .ok_or(ChunkError::SizeOverflow)?;
                    if self.total > self.max_body {
                        return Err(ChunkError::TooLarge);
                    }
                    State::Data { remaining: size }
                }
                _ => return Err(ChunkError::BareLineEnding),
            },
            State::DataCr => match b {
                b'\r' => State::DataLf,
                _ => return Err(ChunkError::MissingCrlf),
            },
            State::DataLf => match b {
                b'\n' => State::Size {
                    value: 0,
                    digits: 0,
                },
                _ => return Err(ChunkError::MissingCrlf),
            },
            State::Trailer { len, colon } => self.trailer(b, len, colon)?,
            State::TrailerLf => match b {
                b'\n' => State::Trailer {
                    len: 0,
                    colon: false,
                },
                _ => return Err(ChunkError::BareLineEnding),
            },
            State::EndLf => match b {
                b'\n' => State::Done,
                _ => return Err(ChunkError::BareLineEnding),
            },
            State::Data { .. } | State::Done => return Err(ChunkError::BadSize),
        })
    }

    /// The size parsed before extensions began.
    fn pending_size(&self) -> u64 {
        self.ext_size
    }

    fn ext(&mut self, size: u64, len: usize, seen_semicolon: bool) -> Result<State, ChunkError> {
        if len > MAX_EXTENSION {
            return Err(ChunkError::ExtensionTooLong);
        }
        self.ext_size = size;
        Ok(State::Ext {
            len,
            seen_semicolon,
        })
    }

    fn trailer(&mut self, b: u8, len: usize, colon: bool) -> Result<State, ChunkError> {
        self.trailer_total += 1;
        if self.trailer_total > MAX_TRAILER {
            return Err(ChunkError::TrailerTooLarge);
        }
        Ok(match b {
            b'\r' if len == 0 => State::EndLf,
            b'\r' if colon => State::TrailerLf,
            b'\r' | b'\n' => return Err(ChunkError::BadTrailer),
            b':' if len > 0 && !colon => State::Trailer {
                len: len + 1,
                colon: true,
            },
            _ if !colon && !is_tchar(b) => return Err(ChunkError::BadTrailer),
            0x00..=0x08 | 0x0a..=0x1f | 0x7f => return Err(ChunkError::BadTrailer),
            _ => State::Trailer {
                len: len + 1,
                colon,
            },
        })
    }
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Write the size line of a chunk of `len` bytes (`len == 0`: the last
/// chunk, followed by the empty trailer section).
pub fn encode_chunk_header(out: &mut Vec<u8>, len: usize) {
    if len == 0 {
        out.extend_from_slice(b"0\r\n\r\n");
    } else {
        out.extend_from_slice(format!("{len:x}\r\n").as_bytes());
    }
}
