//! Replies as `redis-cli` 7.0 prints them on a terminal.
//!
//! A learner compares what the page shows with what they would see running `redis-cli`, so the
//! rendering follows redis-cli's TTY mode to the byte (checked against redis-cli 7.0.15 with
//! `--no-raw`, which forces that mode when piped, and in a real pseudo-terminal):
//!
//! - status lines as they are (`OK`), errors as `(error) ERR ...`, `(integer) 1`;
//! - bulk strings in double quotes with C-style escapes (`"a\n\x00"`), see [`quote`];
//! - `(nil)` for both nulls, `(empty array)`, `(empty hash)`, `(empty set)`, `(empty push)`;
//! - aggregates numbered `1) `, `1~ ` (sets) or `1# "key" => value` (maps); the numbers are
//!   right-aligned to the widest index, and a nested aggregate's lines are indented by the
//!   width of its parent's index plus two;
//! - a map value that spans several lines starts on a new line, indented;
//! - RESP3 doubles as `(double) 1.5`, booleans as `(true)` / `(false)`, verbatim strings raw;
//! - a top-level push message is shown as redis-cli's push handler shows it: numbered like an
//!   array, except client-side-caching invalidations, shown as `-> invalidate: 'k1', 'k2'`.
//!
//! Every line, the last one included, ends with `"\n"` (redis-cli writes `\n`; a terminal turns
//! it into a carriage return and line feed). A verbatim string is printed raw, so its own line
//! breaks appear as they are.
//!
//! The protocol matters: the engine answers with RESP3 shapes (maps, sets, doubles, booleans)
//! and the wire downgrades them for a RESP2 client, so a RESP2 client's redis-cli shows a map as
//! a flat numbered array and a double as a quoted string. [`render_for`] takes the client's
//! protocol; [`render`] shows the reply exactly as it is (what `redis-cli -3` shows).
//!
//! The command matters too: redis-cli prints the text reports (INFO, CLIENT LIST, LOLWUT,
//! MEMORY DOCTOR ...) raw, without quotes or `(error) `. [`render_command`] knows which, and is
//! what a terminal calls. Big numbers (RESP3 `(`) have no variant here: no Redis 7.0 command
//! sends one outside DEBUG PROTOCOL, and redis-cli 7.0 itself exits on them.
//!
//! Where redis-cli 7.0 cannot print a reply, this shows something useful instead: it exits with
//! `Error: Bad double value` on a NaN double (which no Redis 7.0 command sends); here that is
//! `(double) nan`. Text redis-cli copies raw (status, error, verbatim) is decoded as UTF-8 with
//! replacement characters, since the result is a Rust `String`; bulk strings are always escaped
//! to ASCII and lose nothing.

use super::reply::{format_double, Reply};

/// Renders `reply` as `redis-cli -3` prints it: every RESP3 type shown as itself.
pub fn render(reply: &Reply) -> String {
    let mut out = String::new();
    match reply {
        Reply::Push(items) if invalidated_keys(items).is_some() => {
            write_invalidate(items, &mut out);
        }
        Reply::Multi(parts) => parts.iter().for_each(|r| out.push_str(&render(r))),
        other => write_reply(other, "", &mut out),
    }
    out
}

/// Renders `reply` as redis-cli prints it to a client speaking protocol `proto`: for anything but
/// 3 the reply is first downgraded as the wire does for RESP2 (maps to flat arrays, sets and
/// pushes to arrays, doubles and verbatim strings to bulk strings, booleans to integers).
pub fn render_for(reply: &Reply, proto: u8) -> String {
    if proto == 3 {
        render(reply)
    } else {
        let mut out = String::new();
        write_reply(&downgrade(reply), "", &mut out);
        out
    }
}

/// Renders the reply to `argv` as redis-cli prints it to a client speaking `proto`: like
/// [`render_for`], except for the commands whose reports redis-cli prints raw (see
/// [`prints_raw`]). This is what a terminal wants.
pub fn render_command(argv: &[Vec<u8>], reply: &Reply, proto: u8) -> String {
    if !prints_raw(argv) {
        return render_for(reply, proto);
    }
    let mut out = String::new();
    if proto == 3 {
        write_raw(reply, &mut out);
    } else {
        write_raw(&downgrade(reply), &mut out);
    }
    out
}

/// Whether redis-cli 7.0 prints the reply to `argv` raw, the way `--raw` would: the text
/// reports meant for reading (INFO, CLIENT LIST, CLIENT INFO, LOLWUT, MEMORY DOCTOR, LATENCY
/// DOCTOR, ...). Strings then come out unquoted, errors without `(error) `, and nothing is added
/// at the end (INFO's text ends with its own line break; an empty reply prints nothing).
pub fn prints_raw(argv: &[Vec<u8>]) -> bool {
    let Some(cmd) = argv.first() else {
        return false;
    };
    let is = |a: &[u8], name: &str| a.eq_ignore_ascii_case(name.as_bytes());
    let sub = |names: &[&str]| argv.get(1).is_some_and(|a| names.iter().any(|n| is(a, n)));
    let argc = argv.len();
    is(cmd, "info")
        || is(cmd, "lolwut")
        || (argc >= 2 && is(cmd, "debug") && sub(&["htstats", "htstats-key", "client-eviction"]))
        || (argc >= 2 && is(cmd, "memory") && sub(&["malloc-stats", "doctor"]))
        || (argc == 2 && is(cmd, "cluster") && sub(&["nodes", "info"]))
        || (argc >= 2 && is(cmd, "client") && sub(&["list", "info"]))
        || (argc == 3 && is(cmd, "latency") && sub(&["graph"]))
        || (argc == 2 && is(cmd, "latency") && sub(&["doctor"]))
        || (argc >= 2 && is(cmd, "proxy") && sub(&["info"]))
}

/// redis-cli's raw form: text as it is, aggregates one entry a line (a map entry as
/// `key value`), nothing for a null.
fn write_raw(reply: &Reply, out: &mut String) {
    match reply {
        Reply::Nil | Reply::NilArray => {}
        Reply::Error(s) => {
            out.push_str(s);
            out.push('\n');
        }
        Reply::Status(s) => out.push_str(s),
        Reply::Bulk(b) | Reply::Verbatim(_, b) => out.push_str(&String::from_utf8_lossy(b)),
        Reply::Bool(b) => out.push_str(if *b { "(true)" } else { "(false)" }),
        Reply::Integer(n) => out.push_str(&n.to_string()),
        Reply::Double(d) => out.push_str(&format_double(*d)),
        Reply::DoubleText(t) | Reply::BigNum(t) => out.push_str(t),
        Reply::Attribute(_) => {}
        Reply::Bulks(b) => {
            for (i, item) in b.iter().enumerate() {
                if i > 0 {
                    out.push('\n');
                }
                out.push_str(&String::from_utf8_lossy(item));
            }
        }
        Reply::Array(items) | Reply::Set(items) | Reply::Push(items) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push('\n');
                }
                write_raw(item, out);
            }
        }
        // Separate replies, printed one after the other.
        Reply::Multi(parts) => parts.iter().for_each(|r| write_raw(r, out)),
        Reply::Map(pairs) => {
            for (i, (k, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push('\n');
                }
                write_raw(k, out);
                out.push(' ');
                write_raw(v, out);
            }
        }
    }
}

/// The reply a RESP2 client receives for `reply`.
fn downgrade(reply: &Reply) -> Reply {
    match reply {
        Reply::Array(items) | Reply::Set(items) | Reply::Push(items) => {
            Reply::Array(items.iter().map(downgrade).collect())
        }
        Reply::Map(pairs) => Reply::Array(
            pairs
                .iter()
                .flat_map(|(k, v)| [downgrade(k), downgrade(v)])
                .collect(),
        ),
        Reply::Double(d) => Reply::Bulk(format_double(*d).into_bytes()),
        Reply::DoubleText(t) | Reply::BigNum(t) => Reply::Bulk(t.clone().into_bytes()),
        Reply::Bool(b) => Reply::Integer(i64::from(*b)),
        Reply::Verbatim(_, body) => Reply::Bulk(body.clone()),
        // A RESP2 client gets no attributes.
        Reply::Multi(parts) => Reply::Multi(
            parts
                .iter()
                .filter(|p| !matches!(p, Reply::Attribute(_)))
                .map(downgrade)
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Quotes a bulk string as redis-cli does: inside double quotes, `\\`, `\"`, `\n`, `\r`, `\t`,
/// `\a` and `\b` escaped by name, other bytes outside printable ASCII as `\xHH` (lower case).
/// Multi-byte UTF-8 is escaped byte by byte too (`é` shows as `"\xc3\xa9"`), as redis-cli shows it.
pub fn quote(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('"');
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x07 => out.push_str("\\a"),
            0x08 => out.push_str("\\b"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\x");
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xf)]));
            }
        }
    }
    out.push('"');
    out
}

/// redis-cli copies status and error text with C string functions: it ends at a NUL byte.
fn c_text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end])
}

/// Writes one reply whose first line starts where the cursor is (the caller has already
/// written any index in front of it); `prefix` is the indentation of its further lines.
fn write_reply(reply: &Reply, prefix: &str, out: &mut String) {
    match reply {
        Reply::Status(s) => {
            out.push_str(&c_text(s.as_bytes()));
            out.push('\n');
        }
        Reply::Error(s) => {
            out.push_str("(error) ");
            out.push_str(&c_text(s.as_bytes()));
            out.push('\n');
        }
        Reply::Integer(n) => {
            out.push_str("(integer) ");
            out.push_str(&n.to_string());
            out.push('\n');
        }
        Reply::Bulk(b) => {
            out.push_str(&quote(b));
            out.push('\n');
        }
        Reply::Nil | Reply::NilArray => out.push_str("(nil)\n"),
        Reply::Double(d) => {
            out.push_str("(double) ");
            out.push_str(&format_double(*d));
            out.push('\n');
        }
        Reply::DoubleText(t) => {
            out.push_str("(double) ");
            out.push_str(t);
            out.push('\n');
        }
        Reply::Bool(b) => out.push_str(if *b { "(true)\n" } else { "(false)\n" }),
        Reply::BigNum(t) => {
            out.push_str("(big number) ");
            out.push_str(t);
            out.push('\n');
        }
        Reply::Attribute(pairs) => {
            // redis-cli prints attributes as a map marked with `#`, ahead of the reply.
            out.push_str("# ");
            write_map(pairs, prefix, out);
        }
        Reply::Verbatim(_, body) => {
            out.push_str(&String::from_utf8_lossy(body));
            out.push('\n');
        }
        Reply::Array(items) => write_list(items, ')', "(empty array)\n", prefix, out),
        Reply::Bulks(b) => write_list(&b.to_replies(), ')', "(empty array)\n", prefix, out),
        Reply::Push(items) => write_list(items, ')', "(empty push)\n", prefix, out),
        Reply::Set(items) => write_list(items, '~', "(empty set)\n", prefix, out),
        Reply::Map(pairs) => write_map(pairs, prefix, out),
        // Several replies where one was expected (SUBSCRIBE a b inside EXEC): one after another.
        Reply::Multi(parts) => parts.iter().for_each(|r| write_reply(r, prefix, out)),
    }
}

/// Decimal digits of the largest index of an aggregate with `n` entries.
fn index_width(n: usize) -> usize {
    n.to_string().len()
}

/// Writes the index of entry `i` (0-based) of an aggregate: its first entry follows whatever
/// the caller wrote on the current line, the others start a line with the parent's `prefix`.
fn write_index(i: usize, width: usize, sep: char, prefix: &str, out: &mut String) {
    if i > 0 {
        out.push_str(prefix);
    }
    out.push_str(&format!("{:>width$}{} ", i + 1, sep, width = width));
}

/// The indentation of an aggregate's nested lines: its own prefix plus its index column.
fn nested_prefix(prefix: &str, width: usize) -> String {
    let mut p = String::with_capacity(prefix.len() + width + 2);
    p.push_str(prefix);
    p.extend(std::iter::repeat_n(' ', width + 2));
    p
}

fn write_list(items: &[Reply], sep: char, empty: &str, prefix: &str, out: &mut String) {
    if items.is_empty() {
        out.push_str(empty);
        return;
    }
    let width = index_width(items.len());
    let inner = nested_prefix(prefix, width);
    for (i, item) in items.iter().enumerate() {
        write_index(i, width, sep, prefix, out);
        write_reply(item, &inner, out);
    }
}

fn write_map(pairs: &[(Reply, Reply)], prefix: &str, out: &mut String) {
    if pairs.is_empty() {
        out.push_str("(empty hash)\n");
        return;
    }
    let width = index_width(pairs.len());
    let inner = nested_prefix(prefix, width);
    for (i, (key, value)) in pairs.iter().enumerate() {
        write_index(i, width, '#', prefix, out);
        write_reply(key, &inner, out);
        // The value joins the key's last line.
        out.pop();
        out.push_str(" => ");
        if spans_lines(value) {
            // Starting a multi-line value on its own line keeps its entries aligned.
            out.push('\n');
            out.push_str(&inner);
        }
        write_reply(value, &inner, out);
    }
}

/// Whether an aggregate renders on more than one line (verbatim strings with line breaks do
/// not count: redis-cli decides on the reply's shape alone).
fn spans_lines(reply: &Reply) -> bool {
    match reply {
        Reply::Array(items) | Reply::Set(items) | Reply::Push(items) => match items.as_slice() {
            [] => false,
            [only] => spans_lines(only),
            _ => true,
        },
        Reply::Map(pairs) => match pairs.as_slice() {
            [] => false,
            [(_, v)] => spans_lines(v),
            _ => true,
        },
        Reply::Bulks(b) => b.len() > 1,
        _ => false,
    }
}

/// The keys of a client-side-caching invalidation push (`invalidate` and an array of keys), which
/// redis-cli shows on one line.
fn invalidated_keys(items: &[Reply]) -> Option<&[Reply]> {
    match items {
        [Reply::Bulk(kind), Reply::Array(keys)]
            if kind.starts_with(b"invalidate")
                && keys.iter().all(|k| matches!(k, Reply::Bulk(_))) =>
        {
            Some(keys)
        }
        _ => None,
    }
}

fn write_invalidate(items: &[Reply], out: &mut String) {
    out.push_str("-> invalidate: ");
    let keys = invalidated_keys(items).unwrap_or(&[]);
    for (i, key) in keys.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        if let Reply::Bulk(k) = key {
            out.push('\'');
            out.push_str(&c_text(k));
            out.push('\'');
        }
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Reply {
        Reply::bulk(s)
    }

    fn arr(items: Vec<Reply>) -> Reply {
        Reply::Array(items)
    }

    // Every expected string below was captured from redis-cli 7.0.15 (`--no-raw`, and `-3` for
    // RESP3 types) against a server sending the same reply.

    #[test]
    fn scalars() {
        assert_eq!(render(&Reply::ok()), "OK\n");
        assert_eq!(
            render(&Reply::Error(
                "ERR unknown command 'foo', with args beginning with: ".into()
            )),
            "(error) ERR unknown command 'foo', with args beginning with: \n"
        );
        assert_eq!(render(&Reply::Integer(-5)), "(integer) -5\n");
        assert_eq!(
            render(&Reply::Integer(i64::MIN)),
            "(integer) -9223372036854775808\n"
        );
        assert_eq!(render(&b("1")), "\"1\"\n");
        assert_eq!(render(&b("")), "\"\"\n");
        assert_eq!(render(&Reply::Nil), "(nil)\n");
        assert_eq!(render(&Reply::NilArray), "(nil)\n");
        assert_eq!(render(&Reply::Double(1.5)), "(double) 1.5\n");
        assert_eq!(render(&Reply::Double(2.75)), "(double) 2.75\n");
        assert_eq!(render(&Reply::Double(f64::INFINITY)), "(double) inf\n");
        assert_eq!(render(&Reply::Double(f64::NEG_INFINITY)), "(double) -inf\n");
        assert_eq!(render(&Reply::Bool(true)), "(true)\n");
        assert_eq!(render(&Reply::Bool(false)), "(false)\n");
        assert_eq!(
            render(&Reply::Verbatim(
                "txt",
                b"This is a verbatim\nstring".to_vec()
            )),
            "This is a verbatim\nstring\n"
        );
        assert_eq!(render(&Reply::Verbatim("mkd", b"# hi".to_vec())), "# hi\n");
    }

    #[test]
    fn escaping() {
        assert_eq!(
            render(&Reply::bulk(b"a\x00b\n\r\t\x07\x08\\\"\xc3\xa9\x7f\x1b ~")),
            "\"a\\x00b\\n\\r\\t\\a\\b\\\\\\\"\\xc3\\xa9\\x7f\\x1b ~\"\n"
        );
        assert_eq!(
            render(&Reply::bulk("caf\u{e9} \u{20ac}")),
            "\"caf\\xc3\\xa9 \\xe2\\x82\\xac\"\n"
        );
        let all: Vec<u8> = (0..=255).collect();
        let expected = concat!(
            r##""\x00\x01\x02\x03\x04\x05\x06\a\b\t\n\x0b\x0c\r\x0e\x0f\x10\x11\x12\x13\x14\x15"##,
            r##"\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJ"##,
            r##"KLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\x7f\x80\x81\x82\x83\x84\x85\x86"##,
            r##"\x87\x88\x89\x8a\x8b\x8c\x8d\x8e\x8f\x90\x91\x92\x93\x94\x95\x96\x97\x98\x99\x9a\x9b"##,
            r##"\x9c\x9d\x9e\x9f\xa0\xa1\xa2\xa3\xa4\xa5\xa6\xa7\xa8\xa9\xaa\xab\xac\xad\xae\xaf\xb0"##,
            r##"\xb1\xb2\xb3\xb4\xb5\xb6\xb7\xb8\xb9\xba\xbb\xbc\xbd\xbe\xbf\xc0\xc1\xc2\xc3\xc4\xc5"##,
            r##"\xc6\xc7\xc8\xc9\xca\xcb\xcc\xcd\xce\xcf\xd0\xd1\xd2\xd3\xd4\xd5\xd6\xd7\xd8\xd9\xda"##,
            r##"\xdb\xdc\xdd\xde\xdf\xe0\xe1\xe2\xe3\xe4\xe5\xe6\xe7\xe8\xe9\xea\xeb\xec\xed\xee\xef"##,
            r#"\xf0\xf1\xf2\xf3\xf4\xf5\xf6\xf7\xf8\xf9\xfa\xfb\xfc\xfd\xfe\xff""#,
            "\n"
        );
        assert_eq!(render(&Reply::Bulk(all)), expected);
    }

    #[test]
    fn empty_aggregates() {
        assert_eq!(render(&arr(vec![])), "(empty array)\n");
        assert_eq!(render(&Reply::Map(vec![])), "(empty hash)\n");
        assert_eq!(render(&Reply::Set(vec![])), "(empty set)\n");
        assert_eq!(render(&Reply::Push(vec![])), "(empty push)\n");
    }

    #[test]
    fn nested_arrays() {
        let r = arr(vec![
            b("a"),
            arr(vec![b("b"), arr(vec![]), arr(vec![b("c"), Reply::Nil])]),
            Reply::Integer(3),
        ]);
        assert_eq!(
            render(&r),
            "1) \"a\"\n2) 1) \"b\"\n   2) (empty array)\n   3) 1) \"c\"\n      2) (nil)\n3) (integer) 3\n"
        );
        let r = arr(vec![Reply::status("QUEUED"), Reply::ok()]);
        assert_eq!(render(&r), "1) QUEUED\n2) OK\n");
        let r = arr(vec![Reply::Error("ERR inner".into()), Reply::Integer(1)]);
        assert_eq!(render(&r), "1) (error) ERR inner\n2) (integer) 1\n");
        let r = arr(vec![Reply::Nil, Reply::NilArray, arr(vec![])]);
        assert_eq!(render(&r), "1) (nil)\n2) (nil)\n3) (empty array)\n");
    }

    #[test]
    fn index_alignment() {
        let r = arr((0..12).map(|k| b(&format!("v{k}"))).collect());
        let expected: String = (0..12)
            .map(|k| format!("{:>2}) \"v{k}\"\n", k + 1))
            .collect();
        assert_eq!(render(&r), expected);
        assert!(expected.starts_with(" 1) \"v0\"\n"));
        let r = arr((0..10).map(|_| arr(vec![b("a"), b("b")])).collect());
        let expected: String = (1..=10)
            .map(|k| format!("{k:>2}) 1) \"a\"\n    2) \"b\"\n"))
            .collect();
        assert_eq!(render(&r), expected);
        let r = arr((0..100).map(Reply::Integer).collect());
        let text = render(&r);
        assert!(text.starts_with("  1) (integer) 0\n  2) (integer) 1\n"));
        assert!(text.ends_with(" 99) (integer) 98\n100) (integer) 99\n"));
    }

    /// Three levels of twelve entries, some of them arrays: captured verbatim (first outer entry
    /// and the start of the second).
    #[test]
    fn three_levels_of_twelve() {
        let r = arr((0..12)
            .map(|a| {
                arr((0..12)
                    .map(|b2| {
                        if b2 % 5 == 0 {
                            arr((0..12).map(|c| b(&format!("x{a}.{b2}.{c}"))).collect())
                        } else {
                            Reply::Integer(b2)
                        }
                    })
                    .collect())
            })
            .collect());
        let text = render(&r);
        let expected_start = concat!(
            " 1)  1)  1) \"x0.0.0\"\n",
            "         2) \"x0.0.1\"\n",
            "         3) \"x0.0.2\"\n",
            "         4) \"x0.0.3\"\n",
            "         5) \"x0.0.4\"\n",
            "         6) \"x0.0.5\"\n",
            "         7) \"x0.0.6\"\n",
            "         8) \"x0.0.7\"\n",
            "         9) \"x0.0.8\"\n",
            "        10) \"x0.0.9\"\n",
            "        11) \"x0.0.10\"\n",
            "        12) \"x0.0.11\"\n",
            "     2) (integer) 1\n",
            "     3) (integer) 2\n",
            "     4) (integer) 3\n",
            "     5) (integer) 4\n",
            "     6)  1) \"x0.5.0\"\n",
            "         2) \"x0.5.1\"\n",
            "         3) \"x0.5.2\"\n",
            "         4) \"x0.5.3\"\n",
            "         5) \"x0.5.4\"\n",
            "         6) \"x0.5.5\"\n",
            "         7) \"x0.5.6\"\n",
            "         8) \"x0.5.7\"\n",
            "         9) \"x0.5.8\"\n",
            "        10) \"x0.5.9\"\n",
            "        11) \"x0.5.10\"\n",
            "        12) \"x0.5.11\"\n",
            "     7) (integer) 6\n",
            "     8) (integer) 7\n",
            "     9) (integer) 8\n",
            "    10) (integer) 9\n",
            "    11)  1) \"x0.10.0\"\n",
            "         2) \"x0.10.1\"\n",
            "         3) \"x0.10.2\"\n",
            "         4) \"x0.10.3\"\n",
            "         5) \"x0.10.4\"\n",
            "         6) \"x0.10.5\"\n",
            "         7) \"x0.10.6\"\n",
            "         8) \"x0.10.7\"\n",
            "         9) \"x0.10.8\"\n",
            "        10) \"x0.10.9\"\n",
            "        11) \"x0.10.10\"\n",
            "        12) \"x0.10.11\"\n",
            "    12) (integer) 11\n",
            " 2)  1)  1) \"x1.0.0\"\n",
            "         2) \"x1.0.1\"\n",
        );
        assert!(text.starts_with(expected_start), "{text}");
        assert!(
            text.ends_with("        12) \"x11.10.11\"\n    12) (integer) 11\n"),
            "{text}"
        );
        assert_eq!(text.lines().count(), 12 * (3 * 12 + 9));
    }

    #[test]
    fn maps() {
        let r = Reply::Map(vec![
            (b("k1"), b("v1")),
            (b("k2"), arr(vec![b("a"), b("b")])),
            (
                b("k3"),
                Reply::Map(vec![
                    (b("x"), Reply::Integer(1)),
                    (b("y"), Reply::Map(vec![])),
                ]),
            ),
        ]);
        assert_eq!(
            render(&r),
            concat!(
                "1# \"k1\" => \"v1\"\n",
                "2# \"k2\" => \n",
                "   1) \"a\"\n",
                "   2) \"b\"\n",
                "3# \"k3\" => \n",
                "   1# \"x\" => (integer) 1\n",
                "   2# \"y\" => (empty hash)\n",
            )
        );
        let r = Reply::Map(vec![
            (b("a"), Reply::Set(vec![b("m"), b("n")])),
            (b("b"), Reply::Map(vec![(b("x"), Reply::Integer(1))])),
            (b("c"), arr(vec![arr(vec![b("p"), b("q")])])),
            (
                b("d"),
                Reply::Map(vec![
                    (b("x"), Reply::Integer(1)),
                    (b("y"), Reply::Integer(2)),
                ]),
            ),
            (b("e"), Reply::Verbatim("txt", b"a\nb".to_vec())),
            (b("f"), arr(vec![Reply::Nil])),
        ]);
        assert_eq!(
            render(&r),
            concat!(
                "1# \"a\" => \n",
                "   1~ \"m\"\n",
                "   2~ \"n\"\n",
                "2# \"b\" => 1# \"x\" => (integer) 1\n",
                "3# \"c\" => \n",
                "   1) 1) \"p\"\n",
                "      2) \"q\"\n",
                "4# \"d\" => \n",
                "   1# \"x\" => (integer) 1\n",
                "   2# \"y\" => (integer) 2\n",
                "5# \"e\" => a\n",
                "b\n",
                "6# \"f\" => 1) (nil)\n",
            )
        );
        // A multi-line key: the arrow follows its last line.
        let r = Reply::Map(vec![(arr(vec![b("a"), b("b")]), b("v"))]);
        assert_eq!(render(&r), "1# 1) \"a\"\n   2) \"b\" => \"v\"\n");
        let r = Reply::Map(
            (0..12)
                .map(|k| {
                    let inner = Reply::Map(vec![(b("q"), arr(vec![b("z")]))]);
                    (b(&format!("k{k}")), arr(vec![b("a"), inner]))
                })
                .collect(),
        );
        let expected: String = (0..12)
            .map(|k| {
                format!(
                    "{:>2}# \"k{k}\" => \n    1) \"a\"\n    2) 1# \"q\" => 1) \"z\"\n",
                    k + 1
                )
            })
            .collect();
        assert_eq!(render(&r), expected);
        let r = Reply::Map(
            (0..12)
                .map(|k| (b(&format!("k{k}")), Reply::Integer(k)))
                .collect(),
        );
        let text = render(&r);
        assert!(text.starts_with(" 1# \"k0\" => (integer) 0\n"));
        assert!(text.ends_with("\n12# \"k11\" => (integer) 11\n"));
    }

    #[test]
    fn sets_and_mixed() {
        let r = Reply::Set(vec![
            b("a"),
            b("b"),
            Reply::Set(vec![Reply::Integer(1), Reply::Integer(2)]),
        ]);
        assert_eq!(
            render(&r),
            "1~ \"a\"\n2~ \"b\"\n3~ 1~ (integer) 1\n   2~ (integer) 2\n"
        );
        let r = Reply::Set(vec![arr(vec![b("a"), b("b")]), arr(vec![])]);
        assert_eq!(render(&r), "1~ 1) \"a\"\n   2) \"b\"\n2~ (empty array)\n");
        let r = arr(vec![
            Reply::Map(vec![(b("k"), b("v")), (b("k2"), b("v2"))]),
            Reply::Set(vec![b("s")]),
        ]);
        assert_eq!(
            render(&r),
            "1) 1# \"k\" => \"v\"\n   2# \"k2\" => \"v2\"\n2) 1~ \"s\"\n"
        );
        let r = arr(vec![
            Reply::Map(vec![(b("k"), arr(vec![b("a"), b("b")]))]),
            b("t"),
        ]);
        assert_eq!(
            render(&r),
            "1) 1# \"k\" => \n      1) \"a\"\n      2) \"b\"\n2) \"t\"\n"
        );
        let r = arr(vec![
            Reply::Verbatim("txt", b"hello\nworld".to_vec()),
            b("z"),
        ]);
        assert_eq!(render(&r), "1) hello\nworld\n2) \"z\"\n");
    }

    #[test]
    fn push_messages() {
        let r = Reply::Push(vec![b("message"), b("ch"), b("hi")]);
        assert_eq!(render(&r), "1) \"message\"\n2) \"ch\"\n3) \"hi\"\n");
        let r = Reply::Push(vec![b("message"), arr(vec![b("a"), b("b")])]);
        assert_eq!(render(&r), "1) \"message\"\n2) 1) \"a\"\n   2) \"b\"\n");
        let r = Reply::Push(vec![b("invalidate"), arr(vec![b("k1"), b("k2")])]);
        assert_eq!(render(&r), "-> invalidate: 'k1', 'k2'\n");
        let r = Reply::Push(vec![b("invalidate"), Reply::Nil]);
        assert_eq!(render(&r), "1) \"invalidate\"\n2) (nil)\n");
    }

    /// redis-cli prints these reports raw (captured from redis-cli 7.0.15 `--no-raw`).
    #[test]
    fn raw_reports() {
        let argv =
            |s: &str| -> Vec<Vec<u8>> { s.split(' ').map(|w| w.as_bytes().to_vec()).collect() };
        for raw in [
            "info",
            "INFO keyspace",
            "info everything x",
            "lolwut",
            "client list",
            "CLIENT LIST id 1",
            "client info x",
            "memory doctor x",
            "memory malloc-stats",
            "debug htstats 0",
            "debug htstats-key k",
            "debug client-eviction",
            "cluster info",
            "cluster nodes",
            "latency doctor",
            "latency graph command",
            "proxy info",
        ] {
            assert!(prints_raw(&argv(raw)), "{raw}");
        }
        for tty in [
            "get info",
            "client getname",
            "client trackinginfo",
            "cluster nodes x",
            "latency graph",
            "latency doctor x",
            "debug listpack k",
            "memory usage k",
            "client",
        ] {
            assert!(!prints_raw(&argv(tty)), "{tty}");
        }
        let info = Reply::bulk("# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n");
        assert_eq!(
            render_command(&argv("info keyspace"), &info, 2),
            "# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n"
        );
        let v = Reply::Verbatim("txt", b"id=3 addr=127.0.0.1:5 \n".to_vec());
        assert_eq!(
            render_command(&argv("client list"), &v, 3),
            "id=3 addr=127.0.0.1:5 \n"
        );
        assert_eq!(
            render_command(&argv("client list id 99"), &Reply::bulk(""), 2),
            ""
        );
        let e = Reply::Error("ERR Unknown client type 'bad'".into());
        assert_eq!(
            render_command(&argv("client list type bad"), &e, 2),
            "ERR Unknown client type 'bad'\n"
        );
        assert_eq!(
            render_command(&argv("get a"), &e, 2),
            "(error) ERR Unknown client type 'bad'\n"
        );
        // Raw aggregates: one entry a line, a map entry as `key value`, nothing for nulls.
        let m = Reply::Map(vec![
            (
                Reply::bulk("a"),
                Reply::Array(vec![Reply::Integer(1), Reply::Nil, Reply::Double(1.5)]),
            ),
            (Reply::bulk("b"), Reply::Bool(true)),
        ]);
        assert_eq!(render_command(&argv("info"), &m, 3), "a 1\n\n1.5\nb (true)");
        assert_eq!(render_command(&argv("info"), &m, 2), "a\n1\n\n1.5\nb\n1");
    }

    #[test]
    fn resp2_view() {
        // `redis-cli` without -3 against the same server: the RESP2 encodings.
        let m = Reply::Map(vec![
            (Reply::Integer(0), Reply::Bool(false)),
            (Reply::Integer(1), Reply::Bool(true)),
        ]);
        assert_eq!(
            render_for(&m, 2),
            "1) (integer) 0\n2) (integer) 0\n3) (integer) 1\n4) (integer) 1\n"
        );
        assert_eq!(
            render_for(&m, 3),
            "1# (integer) 0 => (false)\n2# (integer) 1 => (true)\n"
        );
        assert_eq!(render_for(&Reply::Double(2.75), 2), "\"2.75\"\n");
        assert_eq!(render_for(&Reply::Bool(true), 2), "(integer) 1\n");
        assert_eq!(
            render_for(
                &Reply::Verbatim("txt", b"This is a verbatim\nstring".to_vec()),
                2
            ),
            "\"This is a verbatim\\nstring\"\n"
        );
        let s = Reply::Set(vec![Reply::Integer(0), Reply::Integer(1)]);
        assert_eq!(render_for(&s, 2), "1) (integer) 0\n2) (integer) 1\n");
        assert_eq!(render_for(&Reply::Map(vec![]), 2), "(empty array)\n");
        let p = Reply::Push(vec![b("invalidate"), arr(vec![b("k")])]);
        assert_eq!(render_for(&p, 2), "1) \"invalidate\"\n2) 1) \"k\"\n");
    }
}
