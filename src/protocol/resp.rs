//! RESP on the wire: the request parser a server uses, and a reply reader for clients and tests.
//!
//! The request parser follows redis-server: a buffer starting with `*` is a multibulk request,
//! anything else an inline command line. An incomplete request (`Ok(None)`) is kept apart from
//! an invalid one (`Err`), after which Redis replies with the error and closes the connection.

use super::inline::split_args;
use super::Reply;

/// Longest inline request or multibulk header line Redis accepts (PROTO_INLINE_MAX_SIZE).
pub const INLINE_MAX: usize = 64 * 1024;
/// Most arguments one multibulk request may declare (Redis checks against INT_MAX).
pub const MAX_MULTIBULK: i64 = i32::MAX as i64;
/// Longest bulk argument by default (proto-max-bulk-len).
pub const MAX_BULK: i64 = 512 * 1024 * 1024;

/// A request the server cannot parse: the text after `-ERR `... is `self.0` with its prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtocolError(pub String);

impl ProtocolError {
    fn new(what: &str) -> ProtocolError {
        ProtocolError(crate::error::protocol(what))
    }

    /// The error reply as redis-server sends it (`-ERR Protocol error: ...\r\n`). The text
    /// quotes the offending byte in `expected '$', got 'x'`; held as the `char` of the same
    /// number, it goes back on the wire as that one byte (Redis prints it raw, even `\xff`).
    pub fn to_wire(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.0.len() + 3);
        out.push(b'-');
        // Redis puts no line break inside an error line: `got '\r'` goes out as `got ' '`.
        out.extend(self.0.chars().map(|c| match c {
            '\r' | '\n' => b' ',
            c => u8::try_from(c).unwrap_or(b'?'),
        }));
        out.extend_from_slice(b"\r\n");
        out
    }
}

/// A complete request: its arguments (empty for a blank line or `*0`) and the bytes it used.
pub type Request = (Vec<Vec<u8>>, usize);

/// Parses one request from the start of `buf`. `Ok(None)`: more bytes are needed.
pub fn parse_request(buf: &[u8]) -> Result<Option<Request>, ProtocolError> {
    parse_request_limited(buf, MAX_BULK)
}

/// [`parse_request`] with a bulk length limit (the proto-max-bulk-len setting).
pub fn parse_request_limited(buf: &[u8], max_bulk: i64) -> Result<Option<Request>, ProtocolError> {
    let mut args = Vec::new();
    Ok(
        parse_request_into(buf, max_bulk, false, &mut args)?.map(|(argc, used)| {
            args.truncate(argc);
            (args, used)
        }),
    )
}

/// [`parse_request_limited`] into `args`, whose vectors are reused (a server parses every
/// request of a connection into the same ones, so steady traffic allocates nothing). Returns
/// the number of arguments (`args[..argc]`; any after them are spare) and the bytes used.
/// `unauthenticated`: the client must still authenticate, so, as Redis, a request of more
/// than 10 arguments or an argument over 16 KB is refused before it is read.
pub fn parse_request_into(
    buf: &[u8],
    max_bulk: i64,
    unauthenticated: bool,
    args: &mut Vec<Vec<u8>>,
) -> Result<Option<(usize, usize)>, ProtocolError> {
    match buf.first() {
        None => Ok(None),
        Some(b'*') => parse_multibulk(buf, max_bulk, unauthenticated, args),
        Some(_) => Ok(parse_inline(buf)?.map(|(words, used)| {
            let argc = words.len();
            args.splice(..argc.min(args.len()), words);
            (argc, used)
        })),
    }
}

fn parse_inline(buf: &[u8]) -> Result<Option<Request>, ProtocolError> {
    let Some(nl) = c_find(buf, 0, b'\n') else {
        if buf.len() > INLINE_MAX {
            return Err(ProtocolError::new(crate::error::PROTO_INLINE_TOO_BIG));
        }
        return Ok(None);
    };
    let mut line = &buf[..nl];
    if line.last() == Some(&b'\r') {
        line = &line[..line.len() - 1];
    }
    let args =
        split_args(line).map_err(|_| ProtocolError::new(crate::error::PROTO_UNBALANCED_QUOTES))?;
    Ok(Some((args, nl + 1)))
}

/// Finds `c` in `buf` from `from` on as redis-server does, with C's `strchr`: a NUL byte ends
/// the search, so a request line holding a NUL never completes (Redis waits for more input
/// until the line is too big, then answers with a protocol error).
fn c_find(buf: &[u8], from: usize, c: u8) -> Option<usize> {
    let at = buf.get(from..)?.iter().position(|&b| b == c || b == 0)? + from;
    (buf[at] == c).then_some(at)
}

/// [`line_end`] for a request header line, searched the way redis-server searches it.
fn request_line_end(buf: &[u8], from: usize) -> Option<usize> {
    let cr = c_find(buf, from, b'\r')?;
    // Redis wants one byte after the `\r` (it skips two without looking at the second).
    (cr + 1 < buf.len()).then_some(cr)
}

/// Finds the `\r\n`-terminated line starting at `from`; returns its end (index of `\r`).
fn line_end(buf: &[u8], from: usize) -> Option<usize> {
    let cr = buf[from..].iter().position(|&c| c == b'\r')? + from;
    if cr + 1 < buf.len() {
        Some(cr)
    } else {
        None
    }
}

/// A bulk argument at least this long gets a buffer of its own in Redis, allocated whole once
/// its length is known (PROTO_MBULK_BIG_ARG).
const BIG_ARG: usize = 32 * 1024;

/// How an incomplete request at the start of `buf` sits in Redis's query buffer: the bytes
/// CLIENT LIST shows as `qbuf`, and the bytes held. Redis moves complete arguments out of
/// the buffer as they arrive, and once the header of a big bulk argument is in it allocates
/// the whole argument and shows only the part received; otherwise both are `buf`'s length.
/// Looks at the headers of the first 1024 arguments at most.
pub fn pending_request_memory(buf: &[u8]) -> (usize, usize) {
    let whole = (buf.len(), buf.len());
    if buf.first() != Some(&b'*') {
        return whole;
    }
    let Some(end) = line_end(buf, 0) else {
        return whole;
    };
    let Some(count) = crate::util::parse_i64(&buf[1..end]) else {
        return whole;
    };
    let mut pos = end + 2;
    for _ in 0..count.clamp(0, 1024) {
        if pos >= buf.len() || buf[pos] != b'$' {
            return whole;
        }
        let Some(end) = line_end(buf, pos) else {
            return whole;
        };
        let Some(len) =
            crate::util::parse_i64(&buf[pos + 1..end]).and_then(|n| usize::try_from(n).ok())
        else {
            return whole;
        };
        let start = end + 2;
        if buf.len() < start.saturating_add(len).saturating_add(2) {
            if len < BIG_ARG {
                return whole;
            }
            return (
                buf.len() - start,
                start.saturating_add(len).saturating_add(2),
            );
        }
        pos = start + len + 2;
    }
    whole
}

/// Most arguments and longest argument a client that must still authenticate may send.
const UNAUTH_MAX_ARGS: i64 = 10;
const UNAUTH_MAX_BULK: i64 = 16384;

/// The header line almost every request is made of: `tag`, one to four digits without a
/// leading zero (or a lone `0`), then `\r` and at least one byte more, read in one pass.
/// Returns the number and the index of the `\r`; None for anything else, which the general
/// path (line search, then [`crate::util::parse_i64`]) reads, with the same result for
/// these lines.
#[inline]
fn short_header(buf: &[u8], pos: usize, tag: u8) -> Option<(i64, usize)> {
    let line = buf.get(pos..)?;
    if line.first() != Some(&tag) {
        return None;
    }
    let mut n = 0i64;
    let mut i = 1;
    loop {
        let &c = line.get(i)?;
        if c == b'\r' {
            break;
        }
        // A fifth digit, or a digit after a leading zero: the general path decides.
        if !c.is_ascii_digit() || i == 5 || (i > 1 && n == 0) {
            return None;
        }
        n = n * 10 + i64::from(c - b'0');
        i += 1;
    }
    (i > 1 && i + 1 < line.len()).then_some((n, pos + i))
}

fn parse_multibulk(
    buf: &[u8],
    max_bulk: i64,
    unauthenticated: bool,
    args: &mut Vec<Vec<u8>>,
) -> Result<Option<(usize, usize)>, ProtocolError> {
    let (count, end) = match short_header(buf, 0, b'*') {
        Some(header) => header,
        None => {
            let Some(end) = request_line_end(buf, 0) else {
                if buf.len() > INLINE_MAX {
                    return Err(ProtocolError::new(crate::error::PROTO_MBULK_TOO_BIG));
                }
                return Ok(None);
            };
            let count = crate::util::parse_i64(&buf[1..end])
                .filter(|n| *n <= MAX_MULTIBULK)
                .ok_or_else(|| ProtocolError::new(crate::error::PROTO_MBULK_LENGTH))?;
            (count, end)
        }
    };
    if unauthenticated && count > UNAUTH_MAX_ARGS {
        return Err(ProtocolError::new(crate::error::PROTO_UNAUTH_MBULK_LENGTH));
    }
    let mut pos = end + 2;
    if count <= 0 {
        return Ok(Some((0, pos)));
    }
    // The declared count is bounded above, but `args` only grows as arguments arrive.
    let mut argc = 0;
    for _ in 0..count {
        if pos >= buf.len() {
            return Ok(None);
        }
        let (len, end) = match short_header(buf, pos, b'$') {
            Some((len, end)) if len <= max_bulk => (len, end),
            _ => match bulk_header(buf, pos, max_bulk)? {
                Some(header) => header,
                None => return Ok(None),
            },
        };
        if unauthenticated && len > UNAUTH_MAX_BULK {
            return Err(ProtocolError::new(crate::error::PROTO_UNAUTH_BULK_LENGTH));
        }
        let len = len as usize;
        let start = end + 2;
        if buf.len() < start + len + 2 {
            return Ok(None);
        }
        let arg = &buf[start..start + len];
        match args.get_mut(argc) {
            Some(slot) => {
                slot.clear();
                slot.extend_from_slice(arg);
            }
            None => args.push(arg.to_vec()),
        }
        argc += 1;
        pos = start + len + 2;
    }
    Ok(Some((argc, pos)))
}

/// A bulk argument's header line at `pos` read the general way: its length and the index of
/// its `\r`; None while the line is not complete.
fn bulk_header(
    buf: &[u8],
    pos: usize,
    max_bulk: i64,
) -> Result<Option<(i64, usize)>, ProtocolError> {
    // Redis looks at the type byte only once the whole header line is in.
    let Some(end) = request_line_end(buf, pos) else {
        if buf.len() - pos > INLINE_MAX {
            return Err(ProtocolError::new(crate::error::PROTO_BULK_TOO_BIG));
        }
        return Ok(None);
    };
    let tag = buf[pos];
    if tag != b'$' {
        return Err(ProtocolError(crate::error::protocol_expected_dollar(tag)));
    }
    let len = crate::util::parse_i64(&buf[pos + 1..end])
        .filter(|n| (0..=max_bulk).contains(n))
        .ok_or_else(|| ProtocolError::new(crate::error::PROTO_BULK_LENGTH))?;
    Ok(Some((len, end)))
}

/// A reply the reader could not understand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadReply(pub String);

/// Reads one reply (RESP2 or RESP3) from the start of `buf`. `Ok(None)`: more bytes needed.
/// Attributes (`|`) are skipped.
pub fn parse_reply(buf: &[u8]) -> Result<Option<(Reply, usize)>, BadReply> {
    parse_nested(buf, 0)
}

/// Aggregates nested deeper than this are refused: no server sends them, and reading them
/// would take stack in proportion to what a hostile peer sends.
const MAX_REPLY_DEPTH: usize = 128;

/// [`parse_reply`] of a reply nested `depth` aggregates deep.
fn parse_nested(buf: &[u8], depth: usize) -> Result<Option<(Reply, usize)>, BadReply> {
    if depth > MAX_REPLY_DEPTH {
        return Err(BadReply("reply nested too deeply".into()));
    }
    let Some(&tag) = buf.first() else {
        return Ok(None);
    };
    // The line starts after the type byte (which may itself be a `\r`).
    let Some(end) = line_end(buf, 1) else {
        return Ok(None);
    };
    let line = &buf[1..end];
    let text = || String::from_utf8_lossy(line).into_owned();
    let num = || -> Result<i64, BadReply> {
        std::str::from_utf8(line)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| BadReply(format!("bad number {:?}", String::from_utf8_lossy(line))))
    };
    let after = end + 2;
    let reply = match tag {
        b'+' => (Reply::Status(text().into()), after),
        b'-' => (Reply::Error(text().into()), after),
        b':' => (Reply::Integer(num()?), after),
        b'(' => (Reply::BigNum(text()), after),
        b'_' => (Reply::Nil, after),
        b'#' => (Reply::Bool(line == b"t"), after),
        b',' => {
            let d = match line {
                b"inf" => f64::INFINITY,
                b"-inf" => f64::NEG_INFINITY,
                _ => text()
                    .parse()
                    .map_err(|_| BadReply(format!("bad double {}", text())))?,
            };
            (Reply::Double(d), after)
        }
        b'$' | b'=' | b'!' => {
            let n = num()?;
            if n < 0 {
                (Reply::Nil, after)
            } else {
                let n = n as usize;
                if buf.len() < after + n + 2 {
                    return Ok(None);
                }
                let body = buf[after..after + n].to_vec();
                let r = match tag {
                    b'=' => Reply::Verbatim("txt", body.get(4..).unwrap_or_default().to_vec()),
                    b'!' => Reply::Error(String::from_utf8_lossy(&body).into_owned().into()),
                    _ => Reply::Bulk(body),
                };
                (r, after + n + 2)
            }
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let n = num()?;
            if n < 0 {
                return Ok(Some((Reply::NilArray, after)));
            }
            // A map's count is of pairs; a count too large to double can never complete.
            let items = if matches!(tag, b'%' | b'|') {
                n.saturating_mul(2)
            } else {
                n
            };
            let mut pos = after;
            let mut out = Vec::new();
            for _ in 0..items {
                match parse_nested(&buf[pos..], depth + 1)? {
                    Some((r, used)) => {
                        out.push(r);
                        pos += used;
                    }
                    None => return Ok(None),
                }
            }
            let r = match tag {
                b'~' => Reply::Set(out),
                b'>' => Reply::Push(out),
                b'%' => {
                    let mut pairs = Vec::new();
                    let mut it = out.into_iter();
                    while let (Some(k), Some(v)) = (it.next(), it.next()) {
                        pairs.push((k, v));
                    }
                    Reply::Map(pairs)
                }
                b'|' => {
                    // An attribute precedes the real reply: skip it.
                    return Ok(parse_nested(&buf[pos..], depth)?.map(|(r, used)| (r, pos + used)));
                }
                _ => Reply::Array(out),
            };
            (r, pos)
        }
        other => return Err(BadReply(format!("unknown reply type {:?}", other as char))),
    };
    Ok(Some(reply))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<Vec<u8>> {
        v.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    /// Every line the one-pass header reader accepts, the general reading (line search, then
    /// the strict integer parse) reads the same: all strings of up to six bytes over an
    /// alphabet of digits, signs, line ends and a NUL.
    #[test]
    fn short_header_agrees_with_the_general_path() {
        let alphabet = b"$*019-\r\n\0x";
        let mut line = Vec::new();
        let mut accepted = 0;
        for len in 1..=6u32 {
            for mut code in 0..alphabet.len().pow(len) {
                line.clear();
                for _ in 0..len {
                    line.push(alphabet[code % alphabet.len()]);
                    code /= alphabet.len();
                }
                for tag in [b'$', b'*'] {
                    let Some((n, end)) = short_header(&line, 0, tag) else {
                        continue;
                    };
                    accepted += 1;
                    assert_eq!(request_line_end(&line, 0), Some(end), "{line:?}");
                    assert_eq!(line[0], tag);
                    assert_eq!(crate::util::parse_i64(&line[1..end]), Some(n), "{line:?}");
                }
            }
        }
        assert!(accepted > 1000);
        // Five digits and leading zeros go the general way.
        assert_eq!(short_header(b"$12345\r\n", 0, b'$'), None);
        assert_eq!(short_header(b"$01\r\n", 0, b'$'), None);
        assert_eq!(short_header(b"$0\r\n", 0, b'$'), Some((0, 2)));
        assert_eq!(short_header(b"$9999\r", 0, b'$'), None);
    }

    #[test]
    fn pending_request_as_redis_buffers_it() {
        assert_eq!(pending_request_memory(b"*2\r\n$3\r\nfoo"), (11, 11));
        assert_eq!(pending_request_memory(b"PING"), (4, 4));
        // A big argument counts whole once its header is in; only its bytes show.
        let mut big = b"*2\r\n$3\r\nset\r\n$40000\r\n".to_vec();
        let header = big.len();
        big.extend_from_slice(&[b'v'; 100]);
        assert_eq!(pending_request_memory(&big), (100, header + 40002));
        assert_eq!(pending_request_memory(b"*1\r\n$-5\r\n"), (9, 9));
    }

    #[test]
    fn multibulk_and_inline() {
        let buf = b"*2\r\n$3\r\nGET\r\n$1\r\na\r\nPING\r\n";
        let (a, used) = parse_request(buf).unwrap().unwrap();
        assert_eq!(a, args(&["GET", "a"]));
        let (b, used2) = parse_request(&buf[used..]).unwrap().unwrap();
        assert_eq!(b, args(&["PING"]));
        assert_eq!(used + used2, buf.len());
    }

    #[test]
    fn incomplete_is_not_an_error() {
        let full = b"*2\r\n$3\r\nGET\r\n$1\r\na\r\n";
        for cut in 0..full.len() {
            assert_eq!(parse_request(&full[..cut]), Ok(None), "cut at {}", cut);
        }
        assert_eq!(parse_request(b"PING"), Ok(None));
    }

    #[test]
    fn reused_argument_buffers() {
        let mut args = Vec::new();
        let buf =
            b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n*1\r\n$4\r\nPING\r\nGET  a\r\n*0\r\n";
        let (argc, used) = parse_request_into(buf, MAX_BULK, false, &mut args)
            .unwrap()
            .unwrap();
        assert_eq!(&args[..argc], &self::args(&["SET", "k", "value"])[..]);
        let mut pos = used;
        let (argc, used) = parse_request_into(&buf[pos..], MAX_BULK, false, &mut args)
            .unwrap()
            .unwrap();
        assert_eq!(&args[..argc], &self::args(&["PING"])[..]);
        assert_eq!(args.len(), 3, "spare vectors are kept");
        pos += used;
        let (argc, used) = parse_request_into(&buf[pos..], MAX_BULK, false, &mut args)
            .unwrap()
            .unwrap();
        assert_eq!(&args[..argc], &self::args(&["GET", "a"])[..]);
        pos += used;
        assert_eq!(
            parse_request_into(&buf[pos..], MAX_BULK, false, &mut args),
            Ok(Some((0, 4)))
        );
        assert_eq!(
            parse_request_into(b"*2\r\n$3\r\nGET\r\n", MAX_BULK, false, &mut args),
            Ok(None)
        );
    }

    #[test]
    fn protocol_errors() {
        let e = |b: &[u8]| parse_request(b).unwrap_err().0;
        assert_eq!(e(b"*x\r\n"), "ERR Protocol error: invalid multibulk length");
        assert_eq!(
            e(b"*1\r\nx\r\n"),
            "ERR Protocol error: expected '$', got 'x'"
        );
        // Not before the header line is complete.
        assert_eq!(parse_request(b"*2\r\nECHOx"), Ok(None));
        assert_eq!(
            e(b"*1\r\n$-3\r\n"),
            "ERR Protocol error: invalid bulk length"
        );
        assert_eq!(
            e(b"\"abc\r\n"),
            "ERR Protocol error: unbalanced quotes in request"
        );
        assert_eq!(parse_request(b"*0\r\n"), Ok(Some((vec![], 4))));
        assert_eq!(parse_request(b"*-1\r\n"), Ok(Some((vec![], 5))));
        assert_eq!(
            parse_request(b"*1\r\n\xff\r\n").unwrap_err().to_wire(),
            b"-ERR Protocol error: expected '$', got '\xff'\r\n"
        );
        assert_eq!(
            parse_request(b"*1\r\n\r\n").unwrap_err().to_wire(),
            b"-ERR Protocol error: expected '$', got ' '\r\n"
        );
    }

    /// redis-server looks for line ends with strchr, which a NUL byte stops: such a line waits
    /// for more input, then fails as too big (checked against redis-server 7.0.15).
    #[test]
    fn nul_bytes_hide_line_ends() {
        let big = vec![b'a'; INLINE_MAX];
        let with = |head: &[u8]| [head, &big[..]].concat();
        assert_eq!(parse_request(b"\x00PING\r\n"), Ok(None));
        assert_eq!(parse_request(b"PI\x00NG\r\n"), Ok(None));
        assert_eq!(parse_request(b"*1\x00\r\n"), Ok(None));
        assert_eq!(parse_request(b"*1\r\n$4\x00\r\nPING\r\n"), Ok(None));
        let e = |b: &[u8]| parse_request(b).unwrap_err().0;
        assert_eq!(
            e(&with(b"\x00PING\r\n")),
            "ERR Protocol error: too big inline request"
        );
        assert_eq!(
            e(&with(b"*1\x00\r\n")),
            "ERR Protocol error: too big mbulk count string"
        );
        assert_eq!(
            e(&with(b"*1\r\n$4\x00\r\n")),
            "ERR Protocol error: too big bulk count string"
        );
        // A NUL inside a bulk payload is data, read by length.
        let (a, _) = parse_request(b"*1\r\n$2\r\n\x00\r\r\n").unwrap().unwrap();
        assert_eq!(a, vec![b"\x00\r".to_vec()]);
    }

    #[test]
    fn replies_round_trip() {
        let r = Reply::Array(vec![
            Reply::bulk("a"),
            Reply::Integer(-3),
            Reply::Nil,
            Reply::Map(vec![(Reply::status("k"), Reply::Double(1.5))]),
            Reply::Set(vec![Reply::Bool(true)]),
        ]);
        let bytes = r.to_resp(3);
        let (back, used) = parse_reply(&bytes).unwrap().unwrap();
        assert_eq!(used, bytes.len());
        assert_eq!(back, r);
        assert_eq!(parse_reply(&bytes[..bytes.len() - 1]), Ok(None));
    }

    /// Found by the fuzzer: a map or attribute count too large to double overflowed.
    #[test]
    fn deeply_nested_replies_are_refused_not_recursed_into() {
        let mut deep = b"*1\r\n".repeat(100_000);
        deep.extend_from_slice(b":1\r\n");
        assert!(parse_reply(&deep).is_err());
        let mut fine = b"*1\r\n".repeat(MAX_REPLY_DEPTH);
        fine.extend_from_slice(b":1\r\n");
        assert!(matches!(parse_reply(&fine), Ok(Some((_, n))) if n == fine.len()));
    }

    #[test]
    fn huge_map_counts_wait_for_more() {
        for buf in [
            &b"%9223372036854775807\r\n"[..],
            b"|9223372036854775807\r\n",
            b"%4611686018427387904\r\n+a\r\n",
            b"*9223372036854775807\r\n:1\r\n",
        ] {
            assert_eq!(
                parse_reply(buf),
                Ok(None),
                "{:?}",
                String::from_utf8_lossy(buf)
            );
        }
    }
}

#[cfg(test)]
mod unauthenticated_tests {
    use super::*;

    fn parse(buf: &[u8], unauth: bool) -> Result<Option<(usize, usize)>, ProtocolError> {
        parse_request_into(buf, MAX_BULK, unauth, &mut Vec::new())
    }

    #[test]
    fn clients_that_must_authenticate_send_small_requests_only() {
        let text = |r: Result<Option<(usize, usize)>, ProtocolError>| r.err().map(|e| e.0);
        assert_eq!(
            text(parse(b"*100\r\n", true)).as_deref(),
            Some("ERR Protocol error: unauthenticated multibulk length")
        );
        assert_eq!(
            text(parse(b"*1\r\n$100000000\r\n", true)).as_deref(),
            Some("ERR Protocol error: unauthenticated bulk length")
        );
        assert!(parse(b"*10\r\n", true).is_ok());
        assert!(parse(b"*100\r\n", false).is_ok());
        assert!(parse(b"*1\r\n$16384\r\n", true).is_ok());
    }
}
