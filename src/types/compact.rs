//! A byte string in 24 bytes: short ones (up to [`CompactBytes::INLINE`] bytes) live inside
//! it with no allocation, longer ones in one exact-size allocation, and a string that grows
//! in place (APPEND, SETRANGE, SETBIT) keeps spare capacity so repeated growth stays amortized.
//!
//! Keys and string values are stored this way: `Vec<u8>` would cost its 24-byte header plus an
//! allocation for every key and every small value, where most keys and values Redis users
//! write (`user:1000`, `42`, `value:17`) fit inline.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::{Deref, DerefMut};

/// The length of an inline string. An enum rather than a `u8` so that the values it cannot
/// take tell the other representations apart, and the whole type stays 24 bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum InlineLen {
    L0,
    L1,
    L2,
    L3,
    L4,
    L5,
    L6,
    L7,
    L8,
    L9,
    L10,
    L11,
    L12,
    L13,
    L14,
    L15,
    L16,
    L17,
    L18,
    L19,
    L20,
    L21,
    L22,
}

const LENS: [InlineLen; CompactBytes::INLINE + 1] = {
    use InlineLen::*;
    [
        L0, L1, L2, L3, L4, L5, L6, L7, L8, L9, L10, L11, L12, L13, L14, L15, L16, L17, L18, L19,
        L20, L21, L22,
    ]
};

#[derive(Clone)]
enum Repr {
    Inline {
        len: InlineLen,
        buf: [u8; CompactBytes::INLINE],
    },
    /// Longer than inline, allocated at its exact size.
    Boxed(Box<[u8]>),
    /// Grown in place: keeps its spare capacity. Boxed so the whole type stays 24 bytes
    /// (a bare vector would leave no room for the inline form's tag).
    #[allow(clippy::box_collection)]
    Grown(Box<Vec<u8>>),
}

/// Copies `src` (at most [`CompactBytes::INLINE`] bytes) to the start of `dst` with two
/// copies of a fixed size that overlap, as memcpy implementations do for short lengths: the
/// same bytes as `copy_from_slice`, which for a length known only at run time calls memcpy
/// (in wasm a `memory.copy`, about 10 ns in V8 for a few bytes).
fn copy_short(dst: &mut [u8; CompactBytes::INLINE], src: &[u8]) {
    fn two<const N: usize>(dst: &mut [u8], src: &[u8]) {
        let n = src.len();
        let (head, tail) = (&src[..N], &src[n - N..]);
        dst[..N].copy_from_slice(head);
        dst[n - N..n].copy_from_slice(tail);
    }
    match src.len() {
        0 => {}
        1 => dst[0] = src[0],
        2..=3 => two::<2>(dst, src),
        4..=7 => two::<4>(dst, src),
        8..=15 => two::<8>(dst, src),
        16..=CompactBytes::INLINE => two::<16>(dst, src),
        // Longer strings are never inline.
        _ => {}
    }
}

/// A compact, binary-safe byte string (see the module documentation).
#[derive(Clone)]
pub struct CompactBytes(Repr);

impl CompactBytes {
    /// The longest string kept without an allocation.
    pub const INLINE: usize = 22;

    /// A copy of `bytes`.
    pub fn new(bytes: &[u8]) -> CompactBytes {
        if bytes.len() <= Self::INLINE {
            let mut buf = [0u8; Self::INLINE];
            copy_short(&mut buf, bytes);
            CompactBytes(Repr::Inline {
                len: LENS[bytes.len()],
                buf,
            })
        } else {
            CompactBytes(Repr::Boxed(bytes.into()))
        }
    }

    /// Takes `v` over: a short one is copied inline and its allocation freed, a long one is
    /// trimmed to its length.
    pub fn from_vec(v: Vec<u8>) -> CompactBytes {
        if v.len() <= Self::INLINE {
            Self::new(&v)
        } else {
            CompactBytes(Repr::Boxed(v.into_boxed_slice()))
        }
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, buf } => &buf[..*len as usize],
            Repr::Boxed(b) => b,
            Repr::Grown(v) => v,
        }
    }

    fn as_mut_slice(&mut self) -> &mut [u8] {
        match &mut self.0 {
            Repr::Inline { len, buf } => &mut buf[..*len as usize],
            Repr::Boxed(b) => b,
            Repr::Grown(v) => v,
        }
    }

    /// The bytes as an owned vector.
    pub fn into_vec(self) -> Vec<u8> {
        match self.0 {
            Repr::Inline { len, buf } => buf[..len as usize].to_vec(),
            Repr::Boxed(b) => b.into_vec(),
            Repr::Grown(v) => *v,
        }
    }

    /// The string as a vector that may change length; from now on it keeps spare capacity
    /// as a vector does, for strings modified in place again and again.
    pub fn make_mut(&mut self) -> &mut Vec<u8> {
        if !matches!(self.0, Repr::Grown(_)) {
            let v = std::mem::take(self).into_vec();
            self.0 = Repr::Grown(Box::new(v));
        }
        match &mut self.0 {
            Repr::Grown(v) => v,
            // Made a vector just above.
            _ => unreachable!(),
        }
    }

    /// Bytes allocated outside the 24 bytes of the value itself.
    pub fn heap_bytes(&self) -> usize {
        match &self.0 {
            Repr::Inline { .. } => 0,
            Repr::Boxed(b) => b.len(),
            Repr::Grown(v) => std::mem::size_of::<Vec<u8>>() + v.capacity(),
        }
    }
}

impl Default for CompactBytes {
    fn default() -> Self {
        CompactBytes::new(b"")
    }
}

impl Deref for CompactBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

/// In-place changes that keep the length (SETBIT within the string, HyperLogLog registers).
impl DerefMut for CompactBytes {
    fn deref_mut(&mut self) -> &mut [u8] {
        self.as_mut_slice()
    }
}

impl AsRef<[u8]> for CompactBytes {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl Borrow<[u8]> for CompactBytes {
    fn borrow(&self) -> &[u8] {
        self.as_slice()
    }
}

impl PartialEq for CompactBytes {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for CompactBytes {}

impl PartialEq<[u8]> for CompactBytes {
    fn eq(&self, other: &[u8]) -> bool {
        self.as_slice() == other
    }
}

impl Hash for CompactBytes {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}

impl fmt::Debug for CompactBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_slice()))
    }
}

impl From<Vec<u8>> for CompactBytes {
    fn from(v: Vec<u8>) -> Self {
        CompactBytes::from_vec(v)
    }
}

impl From<&[u8]> for CompactBytes {
    fn from(b: &[u8]) -> Self {
        CompactBytes::new(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_copies_are_slice_copies() {
        let src: Vec<u8> = (1..=CompactBytes::INLINE as u8).collect();
        for n in 0..=CompactBytes::INLINE {
            let mut dst = [0u8; CompactBytes::INLINE];
            copy_short(&mut dst, &src[..n]);
            let mut want = [0u8; CompactBytes::INLINE];
            want[..n].copy_from_slice(&src[..n]);
            assert_eq!(dst, want, "length {n}");
            assert_eq!(CompactBytes::new(&src[..n]).as_slice(), &src[..n]);
        }
    }

    #[test]
    fn twenty_four_bytes_and_short_strings_inline() {
        assert_eq!(std::mem::size_of::<CompactBytes>(), 24);
        let short = CompactBytes::new(b"key:123456");
        assert_eq!(short.heap_bytes(), 0);
        assert_eq!(&*short, b"key:123456");
        let edge = CompactBytes::new(&[7u8; CompactBytes::INLINE]);
        assert_eq!(edge.heap_bytes(), 0);
        let long = CompactBytes::from_vec(vec![1u8; 23]);
        assert_eq!(long.heap_bytes(), 23);
        assert_eq!(long.len(), 23);
        assert_eq!(CompactBytes::default().len(), 0);
    }

    #[test]
    fn growing_in_place_keeps_the_bytes() {
        let mut s = CompactBytes::new(b"abc");
        s.make_mut().extend_from_slice(&[b'x'; 30]);
        assert_eq!(s.len(), 33);
        assert_eq!(&s[..4], b"abcx");
        s.make_mut().truncate(2);
        assert_eq!(&*s, b"ab");
        s[0] = b'z';
        assert_eq!(s.clone().into_vec(), b"zb".to_vec());
        assert_eq!(s, CompactBytes::new(b"zb"));
    }
}
