//! Domain names: the fixed-size [`Name`] value, reading a possibly
//! compressed name out of a message (RFC 1035 §4.1.4) and building one from
//! dotted text.
//!
//! A name lives in a 255-byte array in wire form (length-prefixed labels,
//! ending with the root's zero), so decoding never allocates. Reading follows
//! compression pointers only backwards (strictly before the pointer itself,
//! which makes loops impossible) and at most [`MAX_POINTERS`] times; labels
//! are at most 63 bytes and the whole name at most 255 (RFC 1035 §2.3.4).
//! This module must not know about records or messages beyond the offset it
//! is handed.

use super::ProtoError;
use std::fmt;

/// Longest name in wire form, root label included (RFC 1035 §2.3.4).
pub const MAX_NAME_LEN: usize = 255;
/// Longest label (RFC 1035 §2.3.4).
pub const MAX_LABEL_LEN: usize = 63;
/// Most compression pointers followed while reading one name.
pub const MAX_POINTERS: usize = 64;

/// A domain name in wire form; compares ASCII case-insensitively.
#[derive(Clone)]
pub struct Name {
    len: u8,
    wire: [u8; MAX_NAME_LEN],
}

impl Name {
    /// The root name (`.`).
    pub fn root() -> Self {
        let mut wire = [0; MAX_NAME_LEN];
        wire[0] = 0;
        Name { len: 1, wire }
    }

    /// Builds a name from dotted text (`www.example.com`, a trailing dot
    /// optional). No escapes: a label is the bytes between dots.
    pub fn from_dotted(text: &str) -> Result<Self, ProtoError> {
        let text = text.strip_suffix('.').unwrap_or(text);
        let mut name = Name::root();
        if text.is_empty() {
            return Ok(name);
        }
        let mut len = 0;
        for label in text.split('.') {
            name.push_label(&mut len, label.as_bytes())?;
        }
        name.finish(len)?;
        Ok(name)
    }

    fn push_label(&mut self, len: &mut usize, label: &[u8]) -> Result<(), ProtoError> {
        if label.is_empty() {
            return Err(ProtoError::EmptyLabel);
        }
        if label.len() > MAX_LABEL_LEN {
            return Err(ProtoError::LabelTooLong(label.len()));
        }
        let end = *len + 1 + label.len();
        if end + 1 > MAX_NAME_LEN {
            return Err(ProtoError::NameTooLong);
        }
        self.wire[*len] = label.len() as u8;
        self.wire[*len + 1..end].copy_from_slice(label);
        *len = end;
        Ok(())
    }

    fn finish(&mut self, len: usize) -> Result<(), ProtoError> {
        if len + 1 > MAX_NAME_LEN {
            return Err(ProtoError::NameTooLong);
        }
        self.wire[len] = 0;
        self.len = (len + 1) as u8;
        Ok(())
    }

    /// The name in wire form, root zero included.
    pub fn wire(&self) -> &[u8] {
        &self.wire[..usize::from(self.len)]
    }

    /// The labels, first to last (the root excluded).
    pub fn labels(&self) -> impl Iterator<Item = &[u8]> {
        let mut at = 0;
        std::iter::from_fn(move || {
            let n = usize::from(*self.wire.get(at)?);
            if n == 0 {
                return None;
            }
            let label = self.wire.get(at + 1..at + 1 + n)?;
            at += 1 + n;
            Some(label)
        })
    }

    /// Whether this is the root name.
    pub fn is_root(&self) -> bool {
        self.len == 1
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Self) -> bool {
        self.wire().eq_ignore_ascii_case(other.wire())
    }
}
impl Eq for Name {}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_root() {
            return f.write_str(".");
        }
        for (i, label) in self.labels().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            f.write_str(&String::from_utf8_lossy(label))?;
        }
        Ok(())
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Name({self})")
    }
}

/// Reads the name starting at `start` in `msg`; returns it and the offset
/// just past it in the original position (after the first pointer, if any).
pub fn read_name(msg: &[u8], start: usize) -> Result<(Name, usize), ProtoError> {
    let mut name = Name::root();
    let mut len = 0;
    let mut at = start;
    let mut end = None;
    let mut pointers = 0;
    loop {
        let &n = msg.get(at).ok_or(ProtoError::Truncated)?;
        match n & 0xC0 {
            0x00 if n == 0 => break,
            0x00 => {
                let label = msg.get(at + 1..at + 1 + usize::from(n));
                name.push_label(&mut len, label.ok_or(ProtoError::Truncated)?)?;
                at += 1 + usize::from(n);
            }
            0xC0 => {
                let &lo = msg.get(at + 1).ok_or(ProtoError::Truncated)?;
                let target = usize::from(u16::from_be_bytes([n & 0x3F, lo]));
                pointers += 1;
                if target >= at || pointers > MAX_POINTERS {
                    return Err(ProtoError::BadPointer(at));
                }
                end.get_or_insert(at + 2);
                at = target;
            }
            _ => return Err(ProtoError::BadLabelType(n)),
        }
    }
    name.finish(len)?;
    Ok((name, end.unwrap_or(at + 1)))
}
