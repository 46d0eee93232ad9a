//! The reply a command produces, and its encodings on the wire.
//!
//! `Reply` is a superset of RESP3. Every variant has a RESP2 form too, chosen exactly as Redis 7.0
//! downgrades it for a client that did not say `HELLO 3`: maps flatten to arrays, sets become
//! arrays, doubles become bulk strings, booleans become integers, the null becomes `$-1` or `*-1`.

use std::borrow::Cow;

/// One reply, before it is encoded for a given protocol version.
///
/// Equality sees through [`Reply::Bulks`]: it equals the [`Reply::Array`] of the same bulk
/// strings, since both are the same reply on the wire.
#[derive(Clone, Debug)]
pub enum Reply {
    /// `+OK` — a status line. Never contains `\r` or `\n`.
    Status(Cow<'static, str>),
    /// `-ERR ...` — the full error line, prefix included (`ERR`, `WRONGTYPE`, ...).
    Error(Cow<'static, str>),
    /// `:42`
    Integer(i64),
    /// `$3\r\nabc` — binary safe.
    Bulk(Vec<u8>),
    /// A missing value: `$-1` in RESP2, `_` in RESP3.
    Nil,
    /// A missing aggregate: `*-1` in RESP2, `_` in RESP3 (BLPOP timeout, EXEC abort ...).
    NilArray,
    /// `*N` followed by N replies.
    Array(Vec<Reply>),
    /// `*N` followed by N bulk strings, kept in one buffer: a long array of elements (LRANGE)
    /// without an allocation for each.
    Bulks(Bulks),
    /// `%N` in RESP3, a flat array of 2N replies in RESP2.
    Map(Vec<(Reply, Reply)>),
    /// `~N` in RESP3, an array in RESP2.
    Set(Vec<Reply>),
    /// `,1.5` in RESP3, a bulk string in RESP2 (formatted as Redis formats doubles).
    Double(f64),
    /// A double Redis prints in a form of its own (GEO coordinates: 17 decimals, trailing
    /// zeros dropped): `,<text>` in RESP3, a bulk string in RESP2.
    DoubleText(String),
    /// `#t` in RESP3, `:1` / `:0` in RESP2.
    Bool(bool),
    /// `=N\r\ntxt:...` in RESP3, a bulk string in RESP2.
    Verbatim(&'static str, Vec<u8>),
    /// `>N` in RESP3 (out-of-band messages), an array in RESP2.
    Push(Vec<Reply>),
    /// `(digits` in RESP3 (a big number), a bulk string in RESP2.
    BigNum(String),
    /// `|N` in RESP3: out-of-band attributes that precede the reply they describe (a RESP2
    /// client gets nothing for them).
    Attribute(Vec<(Reply, Reply)>),
    /// Several replies to one command, sent one after another (SUBSCRIBE a b answers once per
    /// channel). Encoded as the concatenation of its parts.
    Multi(Vec<Reply>),
}

/// The elements of a [`Reply::Bulks`]: their bytes one after another, and where each ends.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Bulks {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Bulks {
    /// Room for `count` elements of `bytes` bytes in all, bounded by what the caller holds.
    pub fn with_capacity(count: usize, bytes: usize) -> Bulks {
        Bulks {
            bytes: Vec::with_capacity(bytes),
            ends: Vec::with_capacity(count),
        }
    }

    /// The elements of `items`, walked twice: their sizes first, so that each buffer is
    /// allocated once.
    pub fn from_slices<'a, I>(items: I) -> Bulks
    where
        I: Iterator<Item = &'a [u8]> + Clone,
    {
        let (count, bytes) = items.clone().fold((0, 0), |(n, b), e| (n + 1, b + e.len()));
        let mut out = Bulks::with_capacity(count, bytes);
        items.for_each(|e| out.push(e));
        out
    }

    /// Appends one element.
    pub fn push(&mut self, b: &[u8]) {
        self.bytes.extend_from_slice(b);
        self.ends.push(self.bytes.len());
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Every element's bytes, one after another.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The elements in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        let mut start = 0;
        self.ends.iter().map(move |&end| {
            let b = &self.bytes[start..end];
            start = end;
            b
        })
    }

    /// The same reply as an array of [`Reply::Bulk`]s, for code that walks replies.
    pub fn to_replies(&self) -> Vec<Reply> {
        self.iter().map(Reply::bulk).collect()
    }
}

impl<B: AsRef<[u8]>> FromIterator<B> for Bulks {
    fn from_iter<I: IntoIterator<Item = B>>(items: I) -> Bulks {
        let mut out = Bulks::default();
        for b in items {
            out.push(b.as_ref());
        }
        out
    }
}

impl PartialEq for Reply {
    fn eq(&self, other: &Reply) -> bool {
        use Reply::*;
        match (self, other) {
            (Status(a), Status(b)) | (Error(a), Error(b)) => a == b,
            (Integer(a), Integer(b)) => a == b,
            (Bulk(a), Bulk(b)) => a == b,
            (Nil, Nil) | (NilArray, NilArray) => true,
            (Array(a), Array(b)) | (Set(a), Set(b)) | (Push(a), Push(b)) | (Multi(a), Multi(b)) => {
                a == b
            }
            (Bulks(a), Bulks(b)) => a == b,
            (Bulks(a), Array(b)) | (Array(b), Bulks(a)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| matches!(y, Bulk(v) if v == x))
            }
            (Map(a), Map(b)) | (Attribute(a), Attribute(b)) => a == b,
            (Double(a), Double(b)) => a == b,
            (DoubleText(a), DoubleText(b)) | (BigNum(a), BigNum(b)) => a == b,
            (Bool(a), Bool(b)) => a == b,
            (Verbatim(f, a), Verbatim(g, b)) => f == g && a == b,
            _ => false,
        }
    }
}

impl Reply {
    /// The `+OK` status.
    pub const fn ok() -> Reply {
        Reply::Status(Cow::Borrowed("OK"))
    }

    /// A status line from a static string (`+PONG`, `+QUEUED`, ...).
    pub const fn status(s: &'static str) -> Reply {
        Reply::Status(Cow::Borrowed(s))
    }

    /// A bulk string from anything byte-like: an owned buffer is moved in, not copied.
    pub fn bulk(b: impl IntoBulk) -> Reply {
        Reply::Bulk(b.into_bulk())
    }

    /// An integer from any integer type that fits an i64 (lengths, counts, ...).
    pub fn int<T: TryInto<i64>>(n: T) -> Reply {
        Reply::Integer(n.try_into().unwrap_or(i64::MAX))
    }

    /// A bulk string or nil.
    pub fn bulk_or_nil(b: Option<impl IntoBulk>) -> Reply {
        match b {
            Some(b) => Reply::bulk(b),
            None => Reply::Nil,
        }
    }

    /// An array of bulk strings.
    pub fn bulks<I, B>(items: I) -> Reply
    where
        I: IntoIterator<Item = B>,
        B: IntoBulk,
    {
        Reply::Array(items.into_iter().map(Reply::bulk).collect())
    }

    /// An array of bulk strings in one buffer ([`Reply::Bulks`]): for long arrays of elements.
    pub fn bulk_array<I, B>(items: I) -> Reply
    where
        I: IntoIterator<Item = B>,
        B: AsRef<[u8]>,
    {
        Reply::Bulks(items.into_iter().collect())
    }

    /// How many replies this is on the wire (a [`Reply::Multi`] counts its parts).
    pub fn count(&self) -> usize {
        match self {
            // An attribute is part of the reply that follows it.
            Reply::Multi(parts) => parts
                .iter()
                .filter(|p| !matches!(p, Reply::Attribute(_)))
                .count(),
            _ => 1,
        }
    }

    /// Whether this reply is an error.
    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_))
    }

    /// Encodes for protocol version 2 or 3 (anything but 3 is treated as 2).
    pub fn encode(&self, proto: u8, out: &mut Vec<u8>) {
        if proto == 3 {
            self.encode_resp3(out)
        } else {
            self.encode_resp2(out)
        }
    }

    /// Encodes into a fresh buffer.
    pub fn to_resp(&self, proto: u8) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(proto, &mut out);
        out
    }

    fn encode_resp2(&self, out: &mut Vec<u8>) {
        match self {
            Reply::Status(s) => line(out, b'+', s.as_bytes()),
            Reply::Error(s) => line(out, b'-', s.as_bytes()),
            Reply::Integer(n) => int_line(out, b':', *n),
            Reply::Bulk(b) => bulk(out, b'$', b),
            Reply::Nil => out.extend_from_slice(b"$-1\r\n"),
            Reply::NilArray => out.extend_from_slice(b"*-1\r\n"),
            Reply::Bulks(b) => bulks(out, b),
            Reply::Array(items) | Reply::Set(items) | Reply::Push(items) => {
                header(out, b'*', items.len());
                items.iter().for_each(|r| r.encode_resp2(out));
            }
            Reply::Map(pairs) => {
                header(out, b'*', pairs.len() * 2);
                for (k, v) in pairs {
                    k.encode_resp2(out);
                    v.encode_resp2(out);
                }
            }
            Reply::Double(d) => bulk(out, b'$', format_double(*d).as_bytes()),
            Reply::DoubleText(t) => bulk(out, b'$', t.as_bytes()),
            Reply::Bool(b) => line(out, b':', if *b { b"1" } else { b"0" }),
            Reply::Verbatim(_, b) => bulk(out, b'$', b),
            Reply::BigNum(t) => bulk(out, b'$', t.as_bytes()),
            Reply::Attribute(_) => {}
            Reply::Multi(parts) => parts.iter().for_each(|r| r.encode_resp2(out)),
        }
    }

    fn encode_resp3(&self, out: &mut Vec<u8>) {
        match self {
            Reply::Nil | Reply::NilArray => out.extend_from_slice(b"_\r\n"),
            Reply::Array(items) => {
                header(out, b'*', items.len());
                items.iter().for_each(|r| r.encode_resp3(out));
            }
            Reply::Set(items) => {
                header(out, b'~', items.len());
                items.iter().for_each(|r| r.encode_resp3(out));
            }
            Reply::Push(items) => {
                header(out, b'>', items.len());
                items.iter().for_each(|r| r.encode_resp3(out));
            }
            Reply::Multi(parts) => parts.iter().for_each(|r| r.encode_resp3(out)),
            Reply::Map(pairs) => {
                header(out, b'%', pairs.len());
                for (k, v) in pairs {
                    k.encode_resp3(out);
                    v.encode_resp3(out);
                }
            }
            Reply::Attribute(pairs) => {
                header(out, b'|', pairs.len());
                for (k, v) in pairs {
                    k.encode_resp3(out);
                    v.encode_resp3(out);
                }
            }
            Reply::BigNum(t) => line(out, b'(', t.as_bytes()),
            Reply::Double(d) => line(out, b',', format_double(*d).as_bytes()),
            Reply::DoubleText(t) => line(out, b',', t.as_bytes()),
            Reply::Bool(b) => line(out, b'#', if *b { b"t" } else { b"f" }),
            Reply::Verbatim(fmt, b) => {
                let mut body = Vec::with_capacity(b.len() + 4);
                body.extend_from_slice(fmt.as_bytes());
                body.push(b':');
                body.extend_from_slice(b);
                bulk(out, b'=', &body)
            }
            other => other.encode_resp2(out),
        }
    }
}

fn line(out: &mut Vec<u8>, tag: u8, body: &[u8]) {
    out.reserve(body.len() + 3);
    out.push(tag);
    out.extend_from_slice(body);
    out.extend_from_slice(b"\r\n");
}

fn header(out: &mut Vec<u8>, tag: u8, len: usize) {
    int_line(out, tag, i64::try_from(len).unwrap_or(i64::MAX));
}

/// `tag`, `n` in decimal, CRLF: every integer reply and length header, written without a
/// formatter or a temporary string (they are on the path of every reply; an array of a
/// hundred elements writes a hundred of them).
fn int_line(out: &mut Vec<u8>, tag: u8, n: i64) {
    if (0..10).contains(&n) {
        // The common case (short elements, small counts): no digit loop.
        out.extend_from_slice(&[tag, b'0' + n as u8, b'\r', b'\n']);
        return;
    }
    let mut digits = [0u8; crate::util::I64_DIGITS];
    let digits = crate::util::i64_digits(n, &mut digits);
    out.reserve(digits.len() + 3);
    out.push(tag);
    out.extend_from_slice(digits);
    out.extend_from_slice(b"\r\n");
}

/// A bulk string: its header, the body and CRLF, with room made once.
fn bulk(out: &mut Vec<u8>, tag: u8, body: &[u8]) {
    out.reserve(body.len() + 16);
    header(out, tag, body.len());
    out.extend_from_slice(body);
    out.extend_from_slice(b"\r\n");
}

/// An array of bulk strings from one buffer, with room made once for all of it.
fn bulks(out: &mut Vec<u8>, b: &Bulks) {
    out.reserve(b.bytes().len() + 16 * (b.len() + 1));
    header(out, b'*', b.len());
    for e in b.iter() {
        header(out, b'$', e.len());
        out.extend_from_slice(e);
        out.extend_from_slice(b"\r\n");
    }
}

/// Formats a double as Redis 7.0 replies with it: `%.17g`, and `inf` / `-inf` / `nan`.
pub fn format_double(d: f64) -> String {
    crate::util::fmt_g17(d)
}

/// Bytes a bulk string reply is made of: owned buffers (`Vec<u8>`, `String`) are moved, the
/// rest copied.
pub trait IntoBulk {
    fn into_bulk(self) -> Vec<u8>;
}

impl IntoBulk for Vec<u8> {
    fn into_bulk(self) -> Vec<u8> {
        self
    }
}

impl IntoBulk for String {
    fn into_bulk(self) -> Vec<u8> {
        self.into_bytes()
    }
}

impl IntoBulk for Cow<'_, [u8]> {
    fn into_bulk(self) -> Vec<u8> {
        self.into_owned()
    }
}

impl<T: AsRef<[u8]> + ?Sized> IntoBulk for &T {
    fn into_bulk(self) -> Vec<u8> {
        self.as_ref().to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bulks_are_an_array_of_bulk_strings() {
        let items = ["a", "", "h\u{e9}llo", "x\r\ny"];
        let flat = Reply::Bulks(items.iter().collect());
        let array = Reply::bulks(items);
        assert_eq!(flat, array);
        assert_eq!(array, flat);
        assert_ne!(flat, Reply::bulks(["a"]));
        assert_ne!(flat, Reply::Set(array_items(&array)));
        for proto in [2, 3] {
            assert_eq!(flat.to_resp(proto), array.to_resp(proto));
            assert_eq!(
                crate::protocol::render::render_for(&flat, proto),
                crate::protocol::render::render_for(&array, proto)
            );
        }
        let Reply::Bulks(b) = &flat else {
            unreachable!()
        };
        assert_eq!(b.iter().collect::<Vec<_>>(), items.map(str::as_bytes));
        assert_eq!(Bulks::from_slices(items.iter().map(|s| s.as_bytes())), *b);
        let empty = Reply::Bulks(Bulks::default());
        assert_eq!(empty.to_resp(2), b"*0\r\n");
        assert_eq!(empty, Reply::Array(Vec::new()));
    }

    fn array_items(r: &Reply) -> Vec<Reply> {
        match r {
            Reply::Array(v) => v.clone(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn resp2_downgrades_resp3_types() {
        let r = Reply::Map(vec![(Reply::bulk("a"), Reply::Double(1.5))]);
        assert_eq!(r.to_resp(2), b"*2\r\n$1\r\na\r\n$3\r\n1.5\r\n");
        assert_eq!(r.to_resp(3), b"%1\r\n$1\r\na\r\n,1.5\r\n");
        assert_eq!(Reply::Nil.to_resp(2), b"$-1\r\n");
        assert_eq!(Reply::NilArray.to_resp(2), b"*-1\r\n");
        assert_eq!(Reply::Nil.to_resp(3), b"_\r\n");
        assert_eq!(Reply::Bool(true).to_resp(2), b":1\r\n");
        assert_eq!(Reply::Bool(false).to_resp(3), b"#f\r\n");
        assert_eq!(
            Reply::Verbatim("txt", b"hi".to_vec()).to_resp(3),
            b"=6\r\ntxt:hi\r\n"
        );
    }

    #[test]
    fn integers_and_lengths() {
        for n in [0, 7, -1, 10, -10, 1234567890, i64::MAX, i64::MIN] {
            assert_eq!(
                Reply::Integer(n).to_resp(2),
                format!(":{n}\r\n").into_bytes()
            );
        }
        let long = vec![b'x'; 12345];
        assert!(Reply::Bulk(long).to_resp(2).starts_with(b"$12345\r\nxx"));
        assert_eq!(Reply::Array(vec![]).to_resp(3), b"*0\r\n");
    }
}
