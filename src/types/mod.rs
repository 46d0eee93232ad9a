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

/// The free effort above which Redis frees a value in the background (LAZYFREE_THRESHOLD).
pub const LAZYFREE_THRESHOLD: usize = 64;

impl Value {
    /// A string value encoded as SET would encode it.
    pub fn string(bytes: Vec<u8>) -> Value {
        let enc = StrEncoding::for_new(&bytes);
        Value::Str(CompactBytes::from_vec(bytes), enc)
    }

    /// [`Value::string`] of a copy of `bytes`: a short one goes inline with no vector made
    /// and freed on the way.
    pub fn string_from(bytes: &[u8]) -> Value {
        Value::Str(CompactBytes::new(bytes), StrEncoding::for_new(bytes))
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

    /// How much work freeing this value is, as Redis estimates it to decide whether UNLINK and
    /// the lazy-free settings free it in the background (above [`LAZYFREE_THRESHOLD`]): one
    /// per element of a hash table or skip list, one per quicklist node of a list (nodes as
    /// `list-max-listpack-size` sizes them), a stream's radix tree nodes plus its consumer
    /// groups times the first group's pending entries, and 1 for anything in one allocation.
    pub fn free_effort(&self, list_max_listpack_size: i64) -> usize {
        match self {
            Value::Str(..) => 1,
            Value::List(l) => {
                if list_max_listpack_size > 0 {
                    let per = usize::try_from(list_max_listpack_size).unwrap_or(usize::MAX);
                    return l.len().div_ceil(per).max(1);
                }
                let class = list_max_listpack_size.clamp(-5, -1).unsigned_abs() as u32;
                let node_bytes = 4096usize << (class - 1);
                // An element's listpack header and back-length: a few bytes besides its own.
                let bytes: usize = l.iter().map(|e| e.len() + 3).sum();
                bytes.div_ceil(node_bytes).max(1)
            }
            Value::Set(s) if s.encoding_name() == "hashtable" => s.len(),
            Value::Hash(h) if h.encoding_name() == "hashtable" => h.len(),
            Value::ZSet(z) if z.encoding_name() == "skiplist" => z.len(),
            Value::Stream(st) => {
                let groups = st.groups.len();
                let pel = st.groups.values().next().map_or(0, |g| g.pel.len());
                st.radix_tree_nodes() + groups * (1 + pel)
            }
            _ => 1,
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
