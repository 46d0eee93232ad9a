//! The values a key can hold. Data structures only: they know nothing of commands or replies.

pub mod acl;
pub mod backlog;
pub mod bitmap;
pub mod compact;
pub mod digest;
pub mod geo;
pub mod hash;
pub mod hll;
pub mod list;
pub mod listpack;
pub mod set;
pub mod stream;
pub mod zset;

pub use compact::CompactBytes;
pub use hash::Hash;
pub use list::List;
pub use set::Set;
pub use stream::Stream;
pub use zset::ZSet;

/// How a string value is stored, as `OBJECT ENCODING` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StrEncoding {
    /// A decimal integer that fits an i64 (Redis keeps it as a machine integer).
    Int,
    /// A short string (44 bytes or less) allocated with its header.
    Embstr,
    /// Anything else, and every string modified in place (APPEND, SETRANGE, SETBIT).
    Raw,
}

/// Strings at or below this length are `embstr` when created whole.
pub const EMBSTR_LIMIT: usize = 44;

impl StrEncoding {
    /// The encoding Redis's `tryObjectEncoding` gives a freshly created string value.
    pub fn for_new(bytes: &[u8]) -> StrEncoding {
        if bytes.len() <= 20 && crate::util::parse_i64(bytes).is_some() {
            StrEncoding::Int
        } else {
            StrEncoding::for_created(bytes)
        }
    }

    /// The encoding of a string created from bytes without trying integer encoding
    /// (INCRBYFLOAT results, GETRANGE ...): embstr when short, raw otherwise.
    pub fn for_created(bytes: &[u8]) -> StrEncoding {
        if bytes.len() <= EMBSTR_LIMIT {
            StrEncoding::Embstr
        } else {
            StrEncoding::Raw
        }
    }

    /// The name `OBJECT ENCODING` prints.
    pub fn name(self) -> &'static str {
        match self {
            StrEncoding::Int => "int",
            StrEncoding::Embstr => "embstr",
            StrEncoding::Raw => "raw",
        }
    }
}

/// A value stored under a key: 32 bytes. Strings are compact (short ones inline, see
/// [`CompactBytes`]); the aggregates are boxed, so a keyspace of small strings does not pay for
/// the size of a hash table header in every entry.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A binary-safe string and the encoding Redis would report for it.
    Str(CompactBytes, StrEncoding),
    /// A set (`intset` or `hashtable`).
    Set(Box<Set>),
    /// A list (always `quicklist` in Redis 7.0).
    List(Box<List>),
    /// A hash (`listpack` or `hashtable`).
    Hash(Box<Hash>),
    /// A sorted set.
    ZSet(Box<ZSet>),
    /// A stream.
    Stream(Box<Stream>),
}

impl Value {
    /// A string value encoded as SET would encode it.
    pub fn string(bytes: Vec<u8>) -> Value {
        let enc = StrEncoding::for_new(&bytes);
        Value::Str(CompactBytes::from_vec(bytes), enc)
    }

    /// The name `TYPE` prints.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(..) => "string",
            Value::Set(_) => "set",
            Value::List(_) => "list",
            Value::Hash(_) => "hash",
            Value::ZSet(_) => "zset",
            Value::Stream(_) => "stream",
        }
    }

    /// The name `OBJECT ENCODING` prints.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            Value::Str(_, enc) => enc.name(),
            Value::Set(s) => s.encoding_name(),
            Value::List(_) => "quicklist",
            Value::Hash(h) => h.encoding_name(),
            Value::ZSet(z) => z.encoding_name(),
            Value::Stream(_) => "stream",
        }
    }

    /// The string bytes, if this is a string.
    pub fn as_str(&self) -> Option<&[u8]> {
        match self {
            Value::Str(b, _) => Some(b),
            _ => None,
        }
    }

    /// A rough count of the bytes this value occupies, for INFO memory and MEMORY USAGE.
    pub fn approx_bytes(&self) -> usize {
        match self {
            Value::Str(b, _) => b.len() + 16,
            Value::Set(s) => s.approx_bytes(),
            Value::List(l) => l.approx_bytes(),
            Value::Hash(h) => h.approx_bytes(),
            Value::ZSet(z) => z.approx_bytes(),
            Value::Stream(s) => s.approx_bytes(),
        }
    }
}
