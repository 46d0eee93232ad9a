//! The stream group's entry commands: XADD, XLEN, XRANGE, XREVRANGE, XDEL, XTRIM, XSETID,
//! XREAD (with BLOCK through the engine's blocking machinery). Consumer groups live in
//! stream_groups.rs.

use super::args;
use super::spec::*;
use crate::engine::Ctx;
use crate::error::{self, CmdError, CmdResult};
use crate::protocol::Reply;
use crate::types::stream::{Fields, Stream, StreamId};
use crate::types::Value;

/// The stream group's commands.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("xadd", -5, &[WRITE, DENYOOM, FAST], xadd).tips(&["nondeterministic_output"]).key_specs(&[KeySpec::new(&[RW, UPDATE], index(1), range(0, 1, 0)).notes("UPDATE instead of INSERT because of the optional trimming feature")]).doc(Group::Stream, "5.0.0", &[Arg::key("key", 0), Arg::token("nomkstream", "NOMKSTREAM").optional().since("6.2.0"), Arg::block("trim", &[Arg::oneof("strategy", &[Arg::token("maxlen", "MAXLEN"), Arg::token("minid", "MINID").since("6.2.0")]), Arg::oneof("operator", &[Arg::token("equal", "="), Arg::token("approximately", "~")]).optional(), Arg::string("threshold"), Arg::integer("count").with_token("LIMIT").optional().since("6.2.0")]).optional(), Arg::oneof("id_or_auto", &[Arg::token("auto_id", "*"), Arg::string("id")]), Arg::block("field_value", &[Arg::string("field"), Arg::string("value")]).multiple()], "Appends an entry to a stream, creating it if needed, and optionally trims it.").complexity("O(1) to add; O(N) to trim N entries."),
    CommandSpec::new("xlen", 2, &[READONLY, FAST], xlen).key_specs(&[KeySpec::new(&[RO], index(1), range(0, 1, 0))]).doc(Group::Stream, "5.0.0", &[Arg::key("key", 0)], "Counts the entries of a stream.").complexity("O(1)"),
    CommandSpec::new("xrange", -4, &[READONLY], xrange).key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))]).doc(Group::Stream, "5.0.0", &[Arg::key("key", 0), Arg::string("start"), Arg::string("end"), Arg::integer("count").with_token("COUNT").optional()], "Lists a stream's entries between two IDs, oldest first.").complexity("O(N), N being the entries in the reply (O(1) for a fixed COUNT)."),
    CommandSpec::new("xrevrange", -4, &[READONLY], xrevrange).key_specs(&[KeySpec::new(&[RO, ACCESS], index(1), range(0, 1, 0))]).doc(Group::Stream, "5.0.0", &[Arg::key("key", 0), Arg::string("end"), Arg::string("start"), Arg::integer("count").with_token("COUNT").optional()], "Lists a stream's entries between two IDs, newest first.").complexity("O(N), N being the entries in the reply (O(1) for a fixed COUNT)."),
    CommandSpec::new("xdel", -3, &[WRITE, FAST], xdel).key_specs(&[KeySpec::new(&[RW, DELETE], index(1), range(0, 1, 0))]).doc(Group::Stream, "5.0.0", &[Arg::key("key", 0), Arg::string("id").multiple()], "Deletes entries of a stream by ID.").complexity("O(1) per entry deleted, whatever the stream's size."),
    CommandSpec::new("xtrim", -4, &[WRITE], xtrim).tips(&["nondeterministic_output"]).key_specs(&[KeySpec::new(&[RW, DELETE], index(1), range(0, 1, 0))]).doc(Group::Stream, "5.0.0", &[Arg::key("key", 0), Arg::block("trim", &[Arg::oneof("strategy", &[Arg::token("maxlen", "MAXLEN"), Arg::token("minid", "MINID").since("6.2.0")]), Arg::oneof("operator", &[Arg::token("equal", "="), Arg::token("approximately", "~")]).optional(), Arg::string("threshold"), Arg::integer("count").with_token("LIMIT").optional().since("6.2.0")])], "Removes a stream's oldest entries, down to a length or up to an ID.").complexity("O(N), N being the entries removed (cheap per entry: whole nodes are freed at once)."),
    CommandSpec::new("xread", -4, &[READONLY, BLOCKING], xread).key_specs(&[KeySpec::new(&[RO, ACCESS], keyword("STREAMS", 1), range(-1, 1, 2))]).doc(Group::Stream, "5.0.0", &[Arg::integer("count").with_token("COUNT").optional(), Arg::integer("milliseconds").with_token("BLOCK").optional(), Arg::block("streams", &[Arg::key("key", 0).multiple(), Arg::string("id").multiple()]).with_token("STREAMS")], "Reads entries newer than the given IDs from one or more streams, optionally waiting for them.").complexity("Per stream: O(N) for N entries in the reply (O(1) for a fixed COUNT); with BLOCK, serving M waiting clients costs the writer O(M)."),
    CommandSpec::new("xsetid", -3, &[WRITE, DENYOOM, FAST], xsetid).key_specs(&[KeySpec::new(&[RW, UPDATE], index(1), range(0, 1, 0))]).doc(Group::Stream, "5.0.0", &[Arg::key("key", 0), Arg::string("last-id"), Arg::integer("entries_added").with_token("ENTRIESADDED").optional().since("7.0.0"), Arg::string("max_deleted_entry_id").with_token("MAXDELETEDID").optional().since("7.0.0")], "Sets a stream's last ID and, optionally, its added-entries counter and largest deleted ID.").complexity("O(1)"),
];

/// The argument as C string functions see it: up to its first NUL byte.
pub(super) fn c_str(arg: &[u8]) -> &[u8] {
    arg.iter().position(|b| *b == 0).map_or(arg, |p| &arg[..p])
}

/// An unsigned 64-bit number as Redis's `string2ull` reads it: a canonical integer that is
/// not negative, or else anything `strtoull` consumes whole (spaces, a sign, leading zeros,
/// values past i64; a '-' wraps around as strtoull does).
fn parse_u64(s: &[u8]) -> Option<u64> {
    if let Some(v) = crate::util::parse_i64(s) {
        return u64::try_from(v).ok();
    }
    let mut p = s
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))
        .unwrap_or(s.len());
    let mut neg = false;
    match s.get(p) {
        Some(b'-') => {
            neg = true;
            p += 1;
        }
        Some(b'+') => p += 1,
        _ => {}
    }
    let digits = s.get(p..)?;
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u64 = 0;
    for d in digits {
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

/// Parses a stream ID argument: `ms-seq`, `ms` (sequence `missing_seq`), `-` and `+` unless
/// `strict`, and `ms-*` when `star` is allowed (XADD). Returns the ID and whether the
/// sequence was given (false only for `ms-*`).
pub(super) fn parse_id(
    arg: &[u8],
    strict: bool,
    missing_seq: u64,
    star: bool,
) -> Result<(StreamId, bool), CmdError> {
    if arg.len() > 127 {
        return Err(error::STREAM_ID_INVALID);
    }
    let s = c_str(arg);
    if s == b"-" || s == b"+" {
        if strict {
            return Err(error::STREAM_ID_INVALID);
        }
        return Ok((
            if s == b"-" {
                StreamId::MIN
            } else {
                StreamId::MAX
            },
            true,
        ));
    }
    match s.iter().position(|b| *b == b'-') {
        Some(dash) => {
            let ms = parse_u64(&s[..dash]).ok_or(error::STREAM_ID_INVALID)?;
            let rest = &s[dash + 1..];
            if star && rest == b"*" {
                return Ok((StreamId::new(ms, 0), false));
            }
            let seq = parse_u64(rest).ok_or(error::STREAM_ID_INVALID)?;
            Ok((StreamId::new(ms, seq), true))
        }
        None => {
            let ms = parse_u64(s).ok_or(error::STREAM_ID_INVALID)?;
            Ok((StreamId::new(ms, missing_seq), true))
        }
    }
}

/// A range bound: an ID, or `(ID` excluding it (not `(-` / `(+`).
pub(super) fn parse_bound(arg: &[u8], missing_seq: u64) -> Result<(StreamId, bool), CmdError> {
    if arg.len() > 1 && arg[0] == b'(' {
        let (id, _) = parse_id(&arg[1..], true, missing_seq, false)?;
        Ok((id, true))
    } else {
        let (id, _) = parse_id(arg, false, missing_seq, false)?;
        Ok((id, false))
    }
}

/// One entry as replies show it: `[id, [field, value, ...]]`.
pub(super) fn entry_reply(id: StreamId, fields: &Fields) -> Reply {
    let mut flat = Vec::with_capacity(fields.len() * 2);
    for (f, v) in fields {
        flat.push(Reply::Bulk(f.clone()));
        flat.push(Reply::Bulk(v.clone()));
    }
    Reply::Array(vec![Reply::Bulk(id.to_bytes()), Reply::Array(flat)])
}

/// The trimming (and, for XADD, creation and ID) options shared by XADD and XTRIM.
#[derive(Default)]
struct AddTrim {
    maxlen: Option<u64>,
    minid: Option<StreamId>,
    approx: bool,
    /// Work cap in entries for approximate trimming (0: none).
    limit: u64,
    nomkstream: bool,
    /// The explicit ID and whether its sequence was given; None for `*`.
    id: Option<(StreamId, bool)>,
    /// Index of the ID argument (XADD).
    idpos: usize,
    /// Index of the MAXLEN/MINID threshold argument.
    threshold_at: usize,
}

impl AddTrim {
    fn trims(&self) -> bool {
        self.maxlen.is_some() || self.minid.is_some()
    }
}

/// Parses XADD's or XTRIM's options from argv[2] on, with Redis's checks in Redis's order.
/// `node_max_entries` is `stream-node-max-entries`, which sets the default LIMIT of `~`.
/// `obey`: the command comes from an append-only file being loaded (or a primary), whose
/// trimming was rewritten exact: LIMIT is neither checked nor enforced.
fn parse_add_trim(
    argv: &[Vec<u8>],
    xadd: bool,
    node_max_entries: u64,
    obey: bool,
) -> Result<AddTrim, CmdError> {
    let mut a = AddTrim::default();
    let mut limit_given = false;
    let argc = argv.len();
    let mut i = 2;
    while i < argc {
        let more = argc - 1 - i;
        let opt = &argv[i];
        if xadd && opt.as_slice() == b"*" {
            break;
        }
        let maxlen = args::is(opt, "maxlen");
        if (maxlen || args::is(opt, "minid")) && more > 0 {
            if a.trims() {
                return Err(error::MAXLEN_AND_MINID);
            }
            a.approx = false;
            let next = argv[i + 1].as_slice();
            if more >= 2 && next == b"~" {
                a.approx = true;
                i += 1;
            } else if more >= 2 && next == b"=" {
                i += 1;
            }
            let val = &argv[i + 1];
            if maxlen {
                let n = args::int(val)?;
                a.maxlen = Some(u64::try_from(n).map_err(|_| error::MAXLEN_NEGATIVE)?);
            } else {
                a.minid = Some(parse_id(val, true, 0, false)?.0);
            }
            i += 1;
            a.threshold_at = i;
        } else if args::is(opt, "limit") && more > 0 {
            let n = args::int(&argv[i + 1])?;
            a.limit = u64::try_from(n).map_err(|_| error::TRIM_LIMIT_NEGATIVE)?;
            limit_given = true;
            i += 1;
        } else if xadd && args::is(opt, "nomkstream") {
            a.nomkstream = true;
        } else if xadd {
            a.id = Some(parse_id(opt, true, 0, true)?);
            break;
        } else {
            return Err(error::SYNTAX);
        }
        i += 1;
    }
    a.idpos = i;
    if a.limit != 0 && !a.trims() {
        return Err(error::LIMIT_WITHOUT_STRATEGY);
    }
    if !xadd && !a.trims() {
        return Err(error::XTRIM_NO_STRATEGY);
    }
    if obey {
        a.limit = 0;
    } else if limit_given {
        if !a.approx {
            return Err(error::LIMIT_WITHOUT_APPROX);
        }
    } else if a.approx {
        // Redis's default work cap: 100 nodes' worth of entries, kept within 1..=1000000
        // (10000 when nodes have no entry limit).
        a.limit = match node_max_entries.saturating_mul(100) {
            0 => 10_000,
            n => n.min(1_000_000),
        };
    } else {
        a.limit = 0;
    }
    Ok(a)
}

fn trim(st: &mut Stream, a: &AddTrim) -> u64 {
    st.trim(a.maxlen, a.minid, a.approx, a.limit)
}

/// `prop` with an approximate trim (`~`, LIMIT) rewritten as the exact one it came to, as
/// Redis propagates it: `=` and the stream's length (MAXLEN) or its first ID, deleted entries
/// a node still holds included (MINID), so that replaying trims exactly the same.
fn exact_trim(prop: &mut [Vec<u8>], st: &Stream, a: &AddTrim) {
    if !a.approx {
        return;
    }
    prop[a.threshold_at - 1] = b"=".to_vec();
    prop[a.threshold_at] = if a.maxlen.is_some() {
        st.len().to_string().into_bytes()
    } else {
        st.first_node_id()
            .unwrap_or(StreamId::new(u64::MAX, u64::MAX))
            .to_bytes()
    };
}

/// The stream at `key` for writing; WRONGTYPE for another type.
fn stream_mut<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Result<Option<&'a mut Stream>, CmdError> {
    match ctx.lookup_write(key) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::Stream(s) => Ok(Some(s)),
            _ => Err(error::WRONGTYPE),
        },
    }
}

/// `XADD key [NOMKSTREAM] [<MAXLEN | MINID> [= | ~] threshold [LIMIT count]] <* | id> field
/// value [field value ...]` → the new entry's ID, or nil with NOMKSTREAM on a missing key.
fn xadd(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let max_bytes = ctx.eng.config.stream_node_max_bytes();
    let max_entries = ctx.eng.config.stream_node_max_entries();
    let a = parse_add_trim(argv, true, max_entries, ctx.must_obey())?;
    let field_pos = a.idpos + 1;
    let nargs = argv.len().saturating_sub(field_pos);
    if field_pos > argv.len() || nargs < 2 || nargs % 2 == 1 {
        return Err(error::wrong_arity("xadd"));
    }
    if let Some((id, true)) = a.id {
        if id == StreamId::MIN {
            return Err(error::STREAM_ID_ZERO);
        }
    }
    let key = &argv[1];
    let now = ctx.now;
    if stream_mut(ctx, key)?.is_none() {
        if a.nomkstream {
            return Ok(Reply::Nil);
        }
        ctx.db()
            .set(key, Value::Stream(Box::new(Stream::new())), now);
    }
    let Some(st) = stream_mut(ctx, key)? else {
        return Ok(Reply::Nil);
    };
    let last = st.last_id;
    if last == StreamId::MAX {
        return Err(error::STREAM_EXHAUSTED);
    }
    let id = match a.id {
        None => {
            let ms = u64::try_from(now).unwrap_or(0);
            if ms > last.ms {
                StreamId::new(ms, 0)
            } else {
                last.incr().ok_or(error::STREAM_EXHAUSTED)?
            }
        }
        Some((given, false)) if given.ms == last.ms => {
            // Redis reports this case with its generic append failure text.
            if last.seq == u64::MAX {
                return Err(error::ELEMENTS_TOO_LARGE);
            }
            StreamId::new(last.ms, last.seq + 1)
        }
        Some((given, _)) => given,
    };
    if id <= last {
        return Err(error::STREAM_ID_SMALLER);
    }
    let fields: Fields = argv[field_pos..]
        .chunks(2)
        .map(|p| (p[0].clone(), p[1].clone()))
        .collect();
    st.append_limited(id, fields, max_bytes, max_entries);
    let trimmed = if a.trims() { trim(st, &a) } else { 0 };
    // Replayed with the ID this server chose (not `*` or `ms-*`) and the exact trim.
    let mut prop = None;
    if !matches!(a.id, Some((_, true))) || (a.trims() && a.approx) {
        let mut p = argv.to_vec();
        p[a.idpos] = id.to_bytes();
        if a.trims() {
            exact_trim(&mut p, st, &a);
        }
        prop = Some(p);
    }
    ctx.signal_modified(key);
    ctx.notify('t', "xadd", key);
    ctx.dirty(1);
    if trimmed > 0 {
        ctx.notify('t', "xtrim", key);
    }
    if let Some(p) = prop {
        ctx.propagate_as(p);
    }
    Ok(Reply::Bulk(id.to_bytes()))
}

/// `XLEN key` → the number of entries (0 for a missing key).
fn xlen(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    match ctx.lookup_read(&argv[1]) {
        None => Ok(Reply::Integer(0)),
        Some(e) => match &e.value {
            Value::Stream(s) => Ok(Reply::Integer(s.len() as i64)),
            _ => Err(error::WRONGTYPE),
        },
    }
}

fn range_generic(ctx: &mut Ctx, argv: &[Vec<u8>], rev: bool) -> CmdResult {
    let (start_arg, end_arg) = if rev {
        (&argv[3], &argv[2])
    } else {
        (&argv[2], &argv[3])
    };
    let (mut start, start_ex) = parse_bound(start_arg, 0)?;
    let (mut end, end_ex) = parse_bound(end_arg, u64::MAX)?;
    if start_ex {
        start = start.incr().ok_or(error::STREAM_START_ID)?;
    }
    if end_ex {
        end = end.decr().ok_or(error::STREAM_END_ID)?;
    }
    let mut count: i64 = -1;
    let mut j = 4;
    while j < argv.len() {
        if args::is(&argv[j], "count") && j + 1 < argv.len() {
            count = args::int(&argv[j + 1])?.max(0);
            j += 2;
        } else {
            return Err(error::SYNTAX);
        }
    }
    let st = match ctx.lookup_read(&argv[1]) {
        None => return Ok(Reply::Array(Vec::new())),
        Some(e) => match &e.value {
            Value::Stream(s) => s,
            _ => return Err(error::WRONGTYPE),
        },
    };
    if count == 0 {
        return Ok(Reply::NilArray);
    }
    let limit = if count < 0 {
        0
    } else {
        usize::try_from(count).unwrap_or(usize::MAX)
    };
    Ok(Reply::Array(
        st.range(start, end, rev, limit)
            .into_iter()
            .map(|(id, f)| entry_reply(id, f))
            .collect(),
    ))
}

/// `XRANGE key start end [COUNT count]` → `[[id, [field, value, ...]], ...]` ascending; a nil
/// array for COUNT 0 or less on an existing stream.
fn xrange(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    range_generic(ctx, argv, false)
}

/// `XREVRANGE key end start [COUNT count]` → entries as XRANGE, descending.
fn xrevrange(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    range_generic(ctx, argv, true)
}

/// `XDEL key id [id ...]` → the number of entries deleted.
fn xdel(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let key = &argv[1];
    if stream_mut(ctx, key)?.is_none() {
        return Ok(Reply::Integer(0));
    }
    // Every ID is checked before anything is deleted, so a bad one changes nothing.
    let ids = argv[2..]
        .iter()
        .map(|a| parse_id(a, true, 0, false).map(|p| p.0))
        .collect::<Result<Vec<_>, _>>()?;
    let Some(st) = stream_mut(ctx, key)? else {
        return Ok(Reply::Integer(0));
    };
    let mut deleted = 0u64;
    for id in ids {
        if st.delete(id) {
            if id > st.max_deleted_id {
                st.max_deleted_id = id;
            }
            deleted += 1;
        }
    }
    if deleted > 0 {
        st.refresh_first();
        ctx.signal_modified(key);
        ctx.notify('t', "xdel", key);
        ctx.dirty(deleted);
    }
    Ok(Reply::Integer(deleted as i64))
}

/// `XTRIM key <MAXLEN | MINID> [= | ~] threshold [LIMIT count]` → the number of entries removed.
/// The arguments are checked before the key, as Redis does: a bad threshold is an error
/// even on a missing key or one of another type.
fn xtrim(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let key = &argv[1];
    let obey = ctx.must_obey();
    let a = parse_add_trim(argv, false, ctx.eng.config.stream_node_max_entries(), obey)?;
    let Some(st) = stream_mut(ctx, key)? else {
        return Ok(Reply::Integer(0));
    };
    let deleted = trim(st, &a);
    if deleted > 0 {
        let mut prop = argv.to_vec();
        exact_trim(&mut prop, st, &a);
        ctx.notify('t', "xtrim", key);
        ctx.signal_modified(key);
        ctx.dirty(deleted);
        if a.approx {
            ctx.propagate_as(prop);
        }
    }
    Ok(Reply::Integer(deleted as i64))
}

/// `XSETID key last-id [ENTRIESADDED entries_added] [MAXDELETEDID max_deleted_entry_id]` → OK.
/// Options are checked before the key, as Redis does; the last ID can never go below the top
/// entry or the largest deleted ID.
fn xsetid(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let id = parse_id(&argv[2], true, 0, false)?.0;
    let mut entries_added: Option<u64> = None;
    let mut max_deleted: StreamId = StreamId::MIN;
    let mut i = 3;
    while i < argv.len() {
        let more = i + 1 < argv.len();
        if args::is(&argv[i], "entriesadded") && more {
            let n = args::int(&argv[i + 1])?;
            entries_added = Some(u64::try_from(n).map_err(|_| error::ENTRIES_ADDED_NEGATIVE)?);
            i += 2;
        } else if args::is(&argv[i], "maxdeletedid") && more {
            max_deleted = parse_id(&argv[i + 1], true, 0, false)?.0;
            if id < max_deleted {
                return Err(error::XSETID_BELOW_MAXDELETED_ARG);
            }
            i += 2;
        } else {
            return Err(error::SYNTAX);
        }
    }
    let key = &argv[1];
    let Some(st) = stream_mut(ctx, key)? else {
        return Err(error::NO_SUCH_KEY);
    };
    // Redis 7.0 checks the new ID against the last entry only, not against the stream's
    // largest deleted ID.
    if !st.is_empty() {
        if id < st.last_live_id() {
            return Err(error::XSETID_BELOW_TOP);
        }
        if entries_added.is_some_and(|n| n < st.len() as u64) {
            return Err(error::XSETID_ENTRIES_ADDED);
        }
    }
    st.last_id = id;
    if let Some(n) = entries_added {
        st.entries_added = n;
    }
    if max_deleted != StreamId::MIN {
        st.max_deleted_id = max_deleted;
    }
    // No new entry: readers blocked on the stream keep waiting.
    ctx.signal_modified_no_wake(key);
    ctx.notify('t', "xsetid", key);
    ctx.dirty(1);
    Ok(Reply::ok())
}

/// What XREAD and XREADGROUP were asked for (they share one option grammar, as in Redis).
pub(super) struct ReadOptions {
    /// BLOCK: None when absent; Some(None) waits for ever, Some(Some(t)) until `t` (ms).
    pub block: Option<Option<i64>>,
    /// COUNT (0: no limit).
    pub count: usize,
    /// Index of the first key after STREAMS.
    pub streams_arg: usize,
    /// GROUP group consumer (XREADGROUP only).
    pub group: Option<(Vec<u8>, Vec<u8>)>,
    /// NOACK (XREADGROUP only).
    pub noack: bool,
}

/// Parses `[COUNT n] [BLOCK ms] [GROUP g c] [NOACK] STREAMS key... id...` with Redis's errors;
/// GROUP and NOACK are refused unless `group_command` (XREADGROUP).
pub(super) fn read_options(
    ctx: &Ctx,
    argv: &[Vec<u8>],
    group_command: bool,
) -> Result<ReadOptions, CmdError> {
    let now = ctx.now;
    let argc = argv.len();
    let mut opts = ReadOptions {
        block: None,
        count: 0,
        streams_arg: 0,
        group: None,
        noack: false,
    };
    let mut i = 1;
    while i < argc {
        let more = argc - i - 1;
        let o = &argv[i];
        if args::is(o, "block") && more > 0 {
            if ctx.from_script {
                // Redis refuses rather than answering at once, as it does for EXEC.
                return Err(error::block_from_script(&argv[0]));
            }
            i += 1;
            let ms = args::int_or(&argv[i], error::TIMEOUT_NOT_INTEGER)?;
            if ms < 0 {
                return Err(error::TIMEOUT_NEGATIVE);
            }
            // Redis 7.0 adds the current time without an overflow check; a deadline that wraps
            // negative sorts last in its (unsigned) timeout table, so it never fires.
            let deadline = now.wrapping_add(ms);
            opts.block = Some(if ms == 0 || deadline < 0 {
                None
            } else {
                Some(deadline)
            });
        } else if args::is(o, "count") && more > 0 {
            i += 1;
            opts.count = usize::try_from(args::int(&argv[i])?.max(0)).unwrap_or(usize::MAX);
        } else if args::is(o, "streams") && more > 0 {
            opts.streams_arg = i + 1;
            if !(argc - opts.streams_arg).is_multiple_of(2) {
                return Err(error::XREAD_UNBALANCED);
            }
            break;
        } else if args::is(o, "group") && more >= 2 {
            if !group_command {
                return Err(error::XREAD_GROUP);
            }
            opts.group = Some((argv[i + 1].clone(), argv[i + 2].clone()));
            i += 2;
        } else if args::is(o, "noack") {
            if !group_command {
                return Err(error::XREAD_NOACK);
            }
            opts.noack = true;
        } else {
            return Err(error::SYNTAX);
        }
        i += 1;
    }
    if opts.streams_arg == 0 {
        return Err(error::SYNTAX);
    }
    Ok(opts)
}

/// `XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]` → per stream
/// with new entries, `[key, entries]` (RESP2) or a map key → entries (RESP3); a nil array when
/// nothing is new (after BLOCK's wait when given).
fn xread(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let argc = argv.len();
    let ReadOptions {
        block,
        count,
        streams_arg,
        ..
    } = read_options(ctx, argv, false)?;
    let nkeys = (argc - streams_arg) / 2;
    let keys = &argv[streams_arg..streams_arg + nkeys];
    let mut ids = Vec::with_capacity(nkeys);
    for (k, key) in keys.iter().enumerate() {
        let last = match ctx.lookup_read(key) {
            None => None,
            Some(e) => match &e.value {
                Value::Stream(s) => Some(s.last_id),
                _ => return Err(error::WRONGTYPE),
            },
        };
        let arg = &argv[streams_arg + nkeys + k];
        if arg.as_slice() == b"$" {
            ids.push(last.unwrap_or_default());
        } else if arg.as_slice() == b">" {
            return Err(error::XREAD_GT_ID);
        } else {
            ids.push(parse_id(arg, true, 0, false)?.0);
        }
    }
    let resp3 = ctx.eng.proto(ctx.client) >= 3;
    if let Some(ready) = ctx.ready_key.clone() {
        return serve_blocked(
            ctx,
            argv,
            streams_arg,
            keys,
            &ids,
            &ready,
            count,
            block.flatten(),
            resp3,
        );
    }
    let mut served: Vec<(Reply, Reply)> = Vec::new();
    for (key, gt) in keys.iter().zip(&ids) {
        let Some(Value::Stream(st)) = ctx.lookup_read(key).map(|e| &e.value) else {
            continue;
        };
        if st.is_empty() || st.last_live_id() <= *gt {
            continue;
        }
        let Some(start) = gt.incr() else { continue };
        let entries = st
            .range(start, StreamId::MAX, false, count)
            .into_iter()
            .map(|(id, f)| entry_reply(id, f))
            .collect();
        served.push((Reply::Bulk(key.clone()), Reply::Array(entries)));
    }
    if !served.is_empty() {
        return Ok(if resp3 {
            Reply::Map(served)
        } else {
            Reply::Array(
                served
                    .into_iter()
                    .map(|(k, v)| Reply::Array(vec![k, v]))
                    .collect(),
            )
        });
    }
    if let Some(deadline) = block {
        if ctx.can_block() {
            block_again(ctx, argv, streams_arg, keys, &ids, deadline);
        }
    }
    Ok(Reply::NilArray)
}

/// Blocks the client, to be run again with the IDs resolved now, so `$` keeps meaning "after
/// what was last when the client blocked".
fn block_again(
    ctx: &mut Ctx,
    argv: &[Vec<u8>],
    streams_arg: usize,
    keys: &[Vec<u8>],
    ids: &[StreamId],
    deadline: Option<i64>,
) {
    let mut rerun = argv[..streams_arg + keys.len()].to_vec();
    rerun.extend(ids.iter().map(|id| id.to_bytes()));
    ctx.block_on_rerun(keys.to_vec(), deadline, Reply::NilArray, rerun);
}

/// A blocked XREAD woken by a change to `ready`: as Redis, it is served from that stream
/// alone, when its last ID (deleted entries included) passed the one waited after, even if
/// every newer entry is gone by now; otherwise it keeps waiting.
#[allow(clippy::too_many_arguments)]
fn serve_blocked(
    ctx: &mut Ctx,
    argv: &[Vec<u8>],
    streams_arg: usize,
    keys: &[Vec<u8>],
    ids: &[StreamId],
    ready: &[u8],
    count: usize,
    deadline: Option<i64>,
    resp3: bool,
) -> CmdResult {
    // A key named twice waits after the ID given with its first mention.
    let gt = keys
        .iter()
        .position(|k| k.as_slice() == ready)
        .and_then(|i| ids.get(i).copied());
    let entries = match (gt, ctx.lookup_read(ready).map(|e| &e.value)) {
        (Some(gt), Some(Value::Stream(st))) if st.last_id > gt => gt.incr().map(|start| {
            st.range(start, StreamId::MAX, false, count)
                .into_iter()
                .map(|(id, f)| entry_reply(id, f))
                .collect::<Vec<_>>()
        }),
        _ => None,
    };
    let Some(entries) = entries else {
        block_again(ctx, argv, streams_arg, keys, ids, deadline);
        return Ok(Reply::NilArray);
    };
    let key = Reply::Bulk(ready.to_vec());
    Ok(if resp3 {
        Reply::Map(vec![(key, Reply::Array(entries))])
    } else {
        Reply::Array(vec![Reply::Array(vec![key, Reply::Array(entries)])])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_like_redis() {
        assert_eq!(
            parse_id(b"5", true, 0, false),
            Ok((StreamId::new(5, 0), true))
        );
        assert_eq!(
            parse_id(b"5-*", true, 0, true),
            Ok((StreamId::new(5, 0), false))
        );
        assert!(parse_id(b"5-*", true, 0, false).is_err());
        assert!(parse_id(b"-", true, 0, false).is_err());
        assert_eq!(parse_id(b"+", false, 0, false), Ok((StreamId::MAX, true)));
        assert_eq!(
            parse_id(b"18446744073709551615-1", true, 0, false),
            Ok((StreamId::new(u64::MAX, 1), true))
        );
        assert!(parse_id(b"18446744073709551616", true, 0, false).is_err());
        assert!(parse_id(b"-1", true, 0, false).is_err());
        assert_eq!(parse_u64(b" +007"), Some(7));
    }
}
