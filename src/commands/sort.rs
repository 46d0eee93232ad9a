//! SORT and SORT_RO: sort (or just read) a list, set or sorted set, optionally weighting each
//! element by other keys (BY), fetching other keys per element (GET), and storing the result.
//!
//! The rules follow Redis 7.0 exactly, down to the places where C strings leak through:
//! patterns and ALPHA comparisons stop at a NUL byte, scores are read with `strtod` (leading
//! spaces allowed, an empty string is 0), and equal numeric scores fall back to comparing the
//! elements bytewise so the order is always the same.

use std::cmp::Ordering;

use super::args;
use super::spec::*;
use crate::engine::Ctx;
use crate::error::{self, CmdError, CmdResult};
use crate::protocol::Reply;
use crate::types::list::End;
use crate::types::{List, Value};
use crate::util::pqsort::partial_sort;

/// The sort group's commands (group `generic`).
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("sort", -2, &[WRITE, DENYOOM], sort).getkeys(store_key).doc(Group::Generic, "1.0.0", &[Arg::key("key", 0), Arg::pattern("pattern").with_token("BY").key_spec(1).optional(), Arg::block("offset_count", &[Arg::integer("offset"), Arg::integer("count")]).with_token("LIMIT").optional(), Arg::pattern("pattern").with_token("GET").key_spec(1).optional().multiple().multiple_token(), Arg::oneof("order", &[Arg::token("asc", "ASC"), Arg::token("desc", "DESC")]).optional(), Arg::token("sorting", "ALPHA").optional(), Arg::key("destination", 2).with_token("STORE").optional()], "Sorts a list, set or sorted set (numerically or by bytes), optionally storing the result in a list.").acl(&[Acl::Dangerous, Acl::List, Acl::Set, Acl::Sortedset]).acl_not(&[Acl::Keyspace]).key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0)), KeySpec::new(&[RO, ACCESS], Begin::Unknown, Find::Unknown).notes("For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort"), KeySpec::new(&[OW, UPDATE], Begin::Unknown, Find::Unknown).notes("For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array")]).complexity("O(N+M*log(M)): N elements to sort, M elements in the reply; O(N) without sorting."),
    CommandSpec::new("sort_ro", -2, &[READONLY], sort_ro).doc(Group::Generic, "7.0.0", &[Arg::key("key", 0), Arg::pattern("pattern").with_token("BY").key_spec(1).optional(), Arg::block("offset_count", &[Arg::integer("offset"), Arg::integer("count")]).with_token("LIMIT").optional(), Arg::pattern("pattern").with_token("GET").key_spec(1).optional().multiple().multiple_token(), Arg::oneof("order", &[Arg::token("asc", "ASC"), Arg::token("desc", "DESC")]).optional(), Arg::token("sorting", "ALPHA").optional()], "Sorts a list, set or sorted set like SORT, without the STORE option (safe on replicas).").acl(&[Acl::Dangerous, Acl::List, Acl::Set, Acl::Sortedset]).acl_not(&[Acl::Keyspace]).key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0)), KeySpec::new(&[RO, ACCESS], Begin::Unknown, Find::Unknown).notes("For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort")]).complexity("O(N+M*log(M)): N elements to sort, M elements in the reply; O(N) without sorting."),
];

/// The index of SORT's STORE destination in a full command line (`line[0]` is `sort`), as
/// COMMAND GETKEYS finds it: LIMIT skips two words, BY and GET one, and the last STORE
/// followed by a word wins.
pub fn store_key_index(line: &[Vec<u8>]) -> Option<usize> {
    let mut found = None;
    let mut i = 2;
    while i < line.len() {
        let a = &line[i];
        if args::is(a, "limit") {
            i += 2;
        } else if args::is(a, "get") || args::is(a, "by") {
            i += 1;
        } else if args::is(a, "store") && i + 1 < line.len() {
            found = Some(i + 1);
            i += 1;
        }
        i += 1;
    }
    found
}

/// SORT's getkeys procedure: the STORE destination, written over.
fn store_key(line: &[Vec<u8>], out: &mut Vec<(usize, KeyFlags)>) {
    if let Some(i) = store_key_index(line) {
        out.push((
            i,
            KeySpec::new(&[OW, UPDATE], Begin::Unknown, Find::Unknown).flags,
        ));
    }
}

/// `SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]
/// [STORE destination]` → array of the (sorted) elements, or of the GET values for each
/// (nil where a referenced key or field is missing); with STORE, the length of the list
/// stored at destination.
fn sort(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    sort_generic(ctx, argv, false)
}

/// `SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]` →
/// array of the (sorted) elements, or of the GET values for each; STORE is a syntax error.
fn sort_ro(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    sort_generic(ctx, argv, true)
}

/// The options of one SORT call.
struct Options<'a> {
    desc: bool,
    alpha: bool,
    limit_start: i64,
    limit_count: i64,
    store: Option<&'a [u8]>,
    by: Option<&'a [u8]>,
    /// BY names a pattern without `*`: elements keep their native order.
    dontsort: bool,
    gets: Vec<&'a [u8]>,
}

/// `full_access`: the user may read every key (BY and GET patterns name keys no ACL check
/// saw, so Redis refuses them otherwise).
fn parse_options(
    argv: &[Vec<u8>],
    readonly: bool,
    full_access: bool,
) -> Result<Options<'_>, CmdError> {
    let mut o = Options {
        desc: false,
        alpha: false,
        limit_start: 0,
        limit_count: -1,
        store: None,
        by: None,
        dontsort: false,
        gets: Vec::new(),
    };
    let mut j = 2;
    while j < argv.len() {
        let left = argv.len() - j - 1;
        let a = &argv[j];
        if args::is(a, "asc") {
            o.desc = false;
        } else if args::is(a, "desc") {
            o.desc = true;
        } else if args::is(a, "alpha") {
            o.alpha = true;
        } else if args::is(a, "limit") && left >= 2 {
            o.limit_start = crate::util::parse_i64(&argv[j + 1]).ok_or(error::NOT_INTEGER)?;
            o.limit_count = crate::util::parse_i64(&argv[j + 2]).ok_or(error::NOT_INTEGER)?;
            j += 2;
        } else if !readonly && args::is(a, "store") && left >= 1 {
            o.store = Some(&argv[j + 1]);
            j += 1;
        } else if args::is(a, "by") && left >= 1 {
            let pattern = &argv[j + 1];
            o.by = Some(pattern);
            // Redis looks for the `*` in a C string: a NUL byte ends the search. A BY without
            // one turns sorting off for good, even if a later BY has a `*`.
            if star_position(pattern).is_none() {
                o.dontsort = true;
            } else if !full_access {
                return Err(error::SORT_BY_NOPERM);
            }
            j += 1;
        } else if args::is(a, "get") && left >= 1 {
            if !full_access {
                return Err(error::SORT_GET_NOPERM);
            }
            o.gets.push(&argv[j + 1]);
            j += 1;
        } else {
            return Err(error::SYNTAX);
        }
        j += 1;
    }
    Ok(o)
}

/// The bytes of `s` up to its first NUL: what C string functions see.
fn c_str(s: &[u8]) -> &[u8] {
    match s.iter().position(|&b| b == 0) {
        Some(i) => &s[..i],
        None => s,
    }
}

/// Where the first `*` of a pattern is, as `strchr` finds it.
fn star_position(pattern: &[u8]) -> Option<usize> {
    c_str(pattern).iter().position(|&b| b == b'*')
}

/// The kind of value being sorted, which decides how elements are loaded.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    List,
    Set,
    ZSet,
}

/// A sort key computed for one element.
enum Weight {
    Score(f64),
    Bytes(Option<Vec<u8>>),
    None,
}

fn sort_generic(ctx: &mut Ctx, argv: &[Vec<u8>], readonly: bool) -> CmdResult {
    let full_access =
        super::find(&argv[0]).is_none_or(|cmd| ctx.eng.acl_reads_every_key(ctx.client, cmd, argv));
    let mut o = parse_options(argv, readonly, full_access)?;
    let key = &argv[1];

    // Load the elements. A missing key sorts as an empty list.
    let (kind, len) = match ctx.lookup_read(key).map(|e| &mut e.value) {
        None => (Kind::List, 0usize),
        Some(Value::List(l)) => (Kind::List, l.len()),
        Some(Value::Set(s)) => (Kind::Set, s.len()),
        Some(Value::ZSet(z)) => {
            // Redis converts a compact sorted set to a skiplist before sorting it.
            z.convert_to_skiplist();
            (Kind::ZSet, z.len())
        }
        Some(_) => return Err(error::WRONGTYPE),
    };

    // An unsorted set would give an order that depends on the hash table; when the result is
    // stored or a script reads it Redis sorts it by bytes instead, so replicas agree.
    let mut by = o.by;
    if o.dontsort && kind == Kind::Set && (o.store.is_some() || ctx.from_script) {
        o.dontsort = false;
        o.alpha = true;
        by = None;
    }

    // The window LIMIT selects, clamped to the elements there are (end < start: none).
    let n = len as i64;
    let mut start = o.limit_start.clamp(0, n);
    let count = o.limit_count.clamp(-1, n);
    let mut end = if count < 0 { n - 1 } else { start + count - 1 };
    if start >= n {
        start = n - 1;
        end = n - 2;
    }
    if end >= n {
        end = n - 1;
    }

    let elements: Vec<Vec<u8>> = if o.dontsort && kind != Kind::Set {
        // Native order (reversed by DESC), and only the window: it needs no sorting.
        let take = if end >= start {
            (end - start + 1) as usize
        } else {
            0
        };
        let skip = start.max(0) as usize;
        let window = load_native(ctx, key, kind, o.desc, skip, take);
        start = 0;
        end = window.len() as i64 - 1;
        window
    } else {
        load_all(ctx, key)
    };

    let elements = if o.dontsort {
        elements
    } else {
        match sort_elements(
            ctx,
            elements,
            by,
            o.alpha,
            o.desc,
            o.store.is_some(),
            (start, end),
        ) {
            Some(sorted) => sorted,
            None => return Err(error::SORT_NOT_DOUBLE),
        }
    };

    let window: &[Vec<u8>] = if end >= start && start >= 0 {
        let (s, e) = (start as usize, end as usize);
        elements.get(s..=e).unwrap_or(&[])
    } else {
        &[]
    };

    match o.store {
        None => {
            // Many GETs over a long window multiply: reserve only a bounded start.
            let wanted = window.len().saturating_mul(o.gets.len().max(1));
            let mut out = Vec::with_capacity(wanted.min(1 << 16));
            for el in window {
                if o.gets.is_empty() {
                    out.push(Reply::bulk(el));
                }
                for pattern in &o.gets {
                    out.push(match lookup_by_pattern(ctx, pattern, el) {
                        Some(v) => Reply::Bulk(v),
                        None => Reply::Nil,
                    });
                }
            }
            Ok(Reply::Array(out))
        }
        Some(dst) => {
            let mut list = List::new();
            for el in window {
                if o.gets.is_empty() {
                    list.push(End::Tail, el.clone());
                }
                for pattern in &o.gets {
                    // A missing value is stored as an empty string.
                    let v = lookup_by_pattern(ctx, pattern, el).unwrap_or_default();
                    list.push(End::Tail, v);
                }
            }
            let stored = list.len();
            let now = ctx.now;
            if stored > 0 {
                // An expired destination goes first (an `expired` event): the list is new.
                ctx.db().expire_if_needed(dst, now);
                ctx.db().set(dst, Value::List(Box::new(list)), now);
                ctx.signal_modified(dst);
                ctx.notify('l', "sortstore", dst);
                ctx.dirty(stored as u64);
            } else if ctx.db().delete(dst, now).is_some() {
                ctx.signal_modified(dst);
                ctx.notify('g', "del", dst);
                ctx.dirty(1);
            }
            Ok(Reply::int(stored))
        }
    }
}

/// Up to `take` elements of a list or sorted set in their own order (from the end when
/// `desc`), after skipping `skip`.
fn load_native(
    ctx: &mut Ctx,
    key: &[u8],
    kind: Kind,
    desc: bool,
    skip: usize,
    take: usize,
) -> Vec<Vec<u8>> {
    if take == 0 {
        return Vec::new();
    }
    match ctx.db().peek(key).map(|e| &e.value) {
        Some(Value::List(l)) if kind == Kind::List => {
            if desc {
                l.iter()
                    .rev()
                    .skip(skip)
                    .take(take)
                    .map(|e| e.to_vec())
                    .collect()
            } else {
                l.iter().skip(skip).take(take).map(|e| e.to_vec()).collect()
            }
        }
        Some(Value::ZSet(z)) if kind == Kind::ZSet => {
            // Start at the window by rank rather than walking to it.
            let len = z.len();
            if skip >= len {
                return Vec::new();
            }
            if desc {
                z.iter_rev_from(len - 1 - skip)
                    .take(take)
                    .map(|(m, _)| m.to_vec())
                    .collect()
            } else {
                z.iter_from(skip)
                    .take(take)
                    .map(|(m, _)| m.to_vec())
                    .collect()
            }
        }
        _ => Vec::new(),
    }
}

/// Every element of a list, set or sorted set, in the order Redis loads them before sorting.
fn load_all(ctx: &mut Ctx, key: &[u8]) -> Vec<Vec<u8>> {
    match ctx.db().peek(key).map(|e| &e.value) {
        Some(Value::List(l)) => l.iter().map(|e| e.to_vec()).collect(),
        Some(Value::Set(s)) => s.iter().map(|e| e.into_owned()).collect(),
        Some(Value::ZSet(z)) => z.iter().map(|(m, _)| m.to_vec()).collect(),
        _ => Vec::new(),
    }
}

/// Sorts the elements by their weights; None when a numeric weight is not a number.
fn sort_elements(
    ctx: &mut Ctx,
    elements: Vec<Vec<u8>>,
    by: Option<&[u8]>,
    alpha: bool,
    desc: bool,
    store: bool,
    window: (i64, i64),
) -> Option<Vec<Vec<u8>>> {
    let mut bad_score = false;
    let mut weighted: Vec<(Vec<u8>, Weight)> = Vec::with_capacity(elements.len());
    for el in elements {
        let by_value = match by {
            Some(pattern) => lookup_by_pattern(ctx, pattern, &el),
            None => None,
        };
        let weight = if alpha {
            match by {
                Some(_) => Weight::Bytes(by_value),
                None => Weight::None,
            }
        } else {
            let source = match (by, &by_value) {
                (Some(_), Some(v)) => Some(v.as_slice()),
                (Some(_), None) => None,
                (None, _) => Some(el.as_slice()),
            };
            match source {
                // A missing weight key counts as 0.
                None => Weight::Score(0.0),
                Some(s) => match sort_score(s) {
                    Some(v) => Weight::Score(v),
                    None => {
                        bad_score = true;
                        Weight::Score(0.0)
                    }
                },
            }
        };
        weighted.push((el, weight));
    }
    if bad_score {
        return None;
    }
    let mut cmp = |a: &(Vec<u8>, Weight), b: &(Vec<u8>, Weight)| {
        let ord = compare(a, b, store);
        if desc {
            ord.reverse()
        } else {
            ord
        }
    };
    let last = weighted.len() as i64 - 1;
    let (start, end) = window;
    if by.is_some() && (start != 0 || end != last) {
        // Redis sorts only what the window needs when it sorts BY other keys; elements with
        // equal weights then land where that quicksort leaves them, so its steps are reproduced.
        partial_sort(&mut weighted, start, end, &mut cmp);
    } else {
        // A stable sort, as glibc's qsort is for arrays that fit in memory: elements that
        // compare equal (same ALPHA weight) keep their loading order, in DESC too.
        weighted.sort_by(cmp);
    }
    Some(weighted.into_iter().map(|(el, _)| el).collect())
}

/// Redis's element comparison: numeric weights, ties broken by the elements' bytes; ALPHA
/// compares as C strings (`strcoll` in the C locale) unless the result is stored, when the
/// whole binary strings are compared; a missing BY value sorts first.
fn compare(a: &(Vec<u8>, Weight), b: &(Vec<u8>, Weight), store: bool) -> Ordering {
    let text = |x: &[u8], y: &[u8]| {
        if store {
            x.cmp(y)
        } else {
            c_str(x).cmp(c_str(y))
        }
    };
    match (&a.1, &b.1) {
        (Weight::Score(x), Weight::Score(y)) => match x.partial_cmp(y) {
            Some(Ordering::Equal) | None => a.0.cmp(&b.0),
            Some(o) => o,
        },
        (Weight::Bytes(x), Weight::Bytes(y)) => match (x, y) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(x), Some(y)) => text(x, y),
        },
        _ => text(&a.0, &b.0),
    }
}

/// A weight read as C `strtod` reads it in SORT: up to the first NUL, leading white space
/// allowed, nothing after the number; an empty string is 0; NaN, overflow and underflow
/// (subnormal results included) are errors.
fn sort_score(s: &[u8]) -> Option<f64> {
    let s = c_str(s);
    if s.is_empty() {
        return Some(0.0);
    }
    let r = crate::util::strtod::strtod(s);
    (r.len == s.len() && !r.value.is_nan() && !r.erange).then_some(r.value)
}

/// The value a BY or GET pattern names for `element`: `#` is the element itself; otherwise
/// the first `*` is replaced by the element to make a key, and a `->field` suffix after the
/// `*` reads that field of a hash. None for a pattern without `*`, a missing key or field,
/// or a key of another type.
fn lookup_by_pattern(ctx: &mut Ctx, pattern: &[u8], element: &[u8]) -> Option<Vec<u8>> {
    if pattern.first() == Some(&b'#') && (pattern.len() == 1 || pattern[1] == 0) {
        return Some(element.to_vec());
    }
    let star = star_position(pattern)?;
    // The field arrow is searched as a C string after the star, and needs a non-NUL byte
    // after it; the field itself runs to the end of the whole pattern.
    let after = c_str(&pattern[star + 1..]);
    let field = after
        .windows(2)
        .position(|w| w == b"->")
        .filter(|&i| i + 2 < after.len())
        .map(|i| star + 1 + i);
    let (key_tail, field) = match field {
        Some(arrow) => (&pattern[star + 1..arrow], Some(&pattern[arrow + 2..])),
        None => (&pattern[star + 1..], None),
    };
    let mut key = Vec::with_capacity(star + element.len() + key_tail.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(element);
    key.extend_from_slice(key_tail);
    let entry = ctx.lookup_read(&key)?;
    match (field, &entry.value) {
        (None, Value::Str(v, _)) => Some(v.to_vec()),
        (Some(f), Value::Hash(h)) => h.get(f).map(|v| v.to_vec()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(words: &str) -> Vec<Vec<u8>> {
        words.split(' ').map(|w| w.as_bytes().to_vec()).collect()
    }

    #[test]
    fn store_key_follows_getkeys_rules() {
        assert_eq!(store_key_index(&line("sort a")), None);
        assert_eq!(store_key_index(&line("sort a store b")), Some(3));
        assert_eq!(store_key_index(&line("sort a store")), None);
        assert_eq!(store_key_index(&line("sort a limit store d")), None);
        assert_eq!(store_key_index(&line("sort a get store store c")), Some(5));
        assert_eq!(store_key_index(&line("sort a store b store c")), Some(5));
    }

    #[test]
    fn partial_sort_places_ties_like_redis() {
        // Weights of 1..=7 (0 for a missing one): Redis replies 1 7 2 3 5 6 4 to the
        // window 0..=5 (the first element's weight missing, the fourth's larger).
        let mut v: Vec<(u8, u8)> = vec![(1, 0), (2, 1), (3, 1), (4, 2), (5, 1), (6, 1), (7, 1)];
        partial_sort(&mut v, 0, 5, &mut |a, b| a.1.cmp(&b.1));
        let order: Vec<u8> = v.iter().map(|e| e.0).collect();
        assert_eq!(order, [1, 7, 2, 3, 5, 6, 4]);
    }

    #[test]
    fn partial_sort_sorts_the_window() {
        let mut seed = 7u64;
        for n in [0usize, 1, 6, 7, 8, 41, 100, 1000] {
            let data: Vec<u64> = (0..n)
                .map(|_| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    (seed >> 33) % 50
                })
                .collect();
            let mut sorted = data.clone();
            sorted.sort();
            for (start, end) in [
                (0i64, n as i64 - 1),
                (3, 9),
                (n as i64 / 2, n as i64 / 2 + 5),
            ] {
                let mut v = data.clone();
                partial_sort(&mut v, start, end, &mut |a, b| a.cmp(b));
                let lo = (start.max(0) as usize).min(n);
                let hi = ((end + 1).max(0) as usize).min(n);
                if lo < hi {
                    assert_eq!(
                        v[lo..hi],
                        sorted[lo..hi],
                        "n {} window {}..={}",
                        n,
                        start,
                        end
                    );
                }
            }
        }
    }

    #[test]
    fn scores_read_like_strtod() {
        assert_eq!(sort_score(b""), Some(0.0));
        assert_eq!(sort_score(b" 5"), Some(5.0));
        assert_eq!(sort_score(b"5 "), None);
        assert_eq!(sort_score(b"   "), None);
        assert_eq!(sort_score(b"2\x00zz"), Some(2.0));
        assert_eq!(sort_score(b"1e-310"), None);
        assert_eq!(sort_score(b"1e400"), None);
        assert_eq!(sort_score(b"nan"), None);
        assert_eq!(sort_score(b"0x10"), Some(16.0));
        assert_eq!(sort_score(b"-inf"), Some(f64::NEG_INFINITY));
    }
}
