//! The byte format of the structure-aware fuzz inputs, in both directions.
//!
//! Inputs are read through `arbitrary::Unstructured` one byte at a time (a missing byte reads
//! as 0), so every byte string is some input, and the seed generator can write the bytes of a
//! chosen input with [`Encoder`]. `arbitrary`'s derived encodings are not meant to be written
//! by hand; this one is, so the committed seeds say what they mean.

use arbitrary::Unstructured;

/// One byte of input; an exhausted input reads as zeros, which always ends lists and strings.
pub fn byte(u: &mut Unstructured<'_>) -> u8 {
    u.bytes(1).map_or(0, |b| b[0])
}

/// A choice among `n` alternatives (`n` ≥ 1).
pub fn pick(u: &mut Unstructured<'_>, n: usize) -> usize {
    usize::from(byte(u)) % n.max(1)
}

/// A length of at most `max` (≤ 255).
pub fn len(u: &mut Unstructured<'_>, max: usize) -> usize {
    usize::from(byte(u)) % (max + 1)
}

/// A little-endian u16.
pub fn u16_le(u: &mut Unstructured<'_>) -> u16 {
    u16::from_le_bytes([byte(u), byte(u)])
}

/// A little-endian i64.
pub fn i64_le(u: &mut Unstructured<'_>) -> i64 {
    let mut b = [0u8; 8];
    for slot in &mut b {
        *slot = byte(u);
    }
    i64::from_le_bytes(b)
}

/// Whether an optional part is present.
pub fn flag(u: &mut Unstructured<'_>) -> bool {
    byte(u) & 1 == 1
}

/// A string of at most `max` bytes, read as lossy UTF-8.
pub fn text(u: &mut Unstructured<'_>, max: usize) -> String {
    let n = len(u, max);
    let bytes: Vec<u8> = (0..n).map(|_| byte(u)).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Writes the bytes that [`byte`], [`pick`] and friends read back as the same values.
#[derive(Debug, Default)]
pub struct Encoder {
    pub bytes: Vec<u8>,
}

impl Encoder {
    pub fn byte(&mut self, b: u8) {
        self.bytes.push(b);
    }

    /// Writes choice `i`; the reader must offer more than `i` alternatives.
    pub fn pick(&mut self, i: usize) {
        self.byte(u8::try_from(i).unwrap_or(u8::MAX));
    }

    pub fn len(&mut self, n: usize) {
        self.pick(n);
    }

    pub fn u16_le(&mut self, v: u16) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }

    pub fn i64_le(&mut self, v: i64) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }

    pub fn flag(&mut self, on: bool) {
        self.byte(u8::from(on));
    }

    /// Writes a string that [`text`] reads back unchanged (it must be short enough).
    pub fn text(&mut self, s: &str) {
        self.len(s.len());
        self.bytes.extend_from_slice(s.as_bytes());
    }
}
