//! The dataset as the commands that rebuild it: the base of an append-only file written with
//! `aof-use-rdb-preamble no`, as Redis 7.0's `rewriteAppendOnlyFileRio` writes it. Function
//! libraries first (FUNCTION LOAD), then for each database holding keys a SELECT and, for each
//! key: SET, or RPUSH / SADD / ZADD / HMSET with at most 64 elements per command, or a stream's
//! XADDs, XSETID, XGROUP CREATE and its consumers (XGROUP CREATECONSUMER, or XCLAIM ... FORCE
//! for each pending entry), then PEXPIREAT when the key has an expiry. Keys already expired are
//! written too, with their expiry: they expire again when loaded.

use super::propagate::encode_command;
use super::Engine;
use crate::types::stream::{Stream, StreamId};
use crate::types::Value;

/// Elements per variadic command (Redis's AOF_REWRITE_ITEMS_PER_CMD).
const ITEMS_PER_CMD: usize = 64;

fn id(id: &StreamId) -> Vec<u8> {
    format!("{}-{}", id.ms, id.seq).into_bytes()
}

/// `verb key` followed by `items` (each one or more arguments), at most 64 items a command.
fn batched(out: &mut Vec<u8>, verb: &[u8], key: &[u8], items: impl Iterator<Item = Vec<Vec<u8>>>) {
    let mut cmd: Vec<Vec<u8>> = Vec::new();
    let mut n = 0;
    for item in items {
        if n == 0 {
            cmd = vec![verb.to_vec(), key.to_vec()];
        }
        cmd.extend(item);
        n += 1;
        if n == ITEMS_PER_CMD {
            encode_command(&cmd, out);
            n = 0;
        }
    }
    if n > 0 {
        encode_command(&cmd, out);
    }
}

fn stream(out: &mut Vec<u8>, key: &[u8], s: &Stream) {
    if !s.is_empty() {
        for (entry_id, fields) in s.iter() {
            let mut cmd = vec![b"XADD".to_vec(), key.to_vec(), id(entry_id)];
            for (f, v) in fields {
                cmd.push(f.clone());
                cmd.push(v.clone());
            }
            encode_command(&cmd, out);
        }
    } else {
        // An empty stream: added and trimmed away at once.
        encode_command(
            &[&b"XADD"[..], key, b"MAXLEN", b"0", b"0-1", b"x", b"y"],
            out,
        );
    }
    encode_command(
        &[
            b"XSETID".to_vec(),
            key.to_vec(),
            id(&s.last_id),
            b"ENTRIESADDED".to_vec(),
            s.entries_added.to_string().into_bytes(),
            b"MAXDELETEDID".to_vec(),
            id(&s.max_deleted_id),
        ],
        out,
    );
    for (name, group) in &s.groups {
        encode_command(
            &[
                b"XGROUP".to_vec(),
                b"CREATE".to_vec(),
                key.to_vec(),
                name.clone(),
                id(&group.last_id),
                b"ENTRIESREAD".to_vec(),
                group.entries_read.to_string().into_bytes(),
            ],
            out,
        );
        for (consumer, c) in &group.consumers {
            if c.pel.is_empty() {
                encode_command(
                    &[&b"XGROUP"[..], b"CREATECONSUMER", key, name, consumer],
                    out,
                );
                continue;
            }
            for pending in &c.pel {
                let Some(nack) = group.pel.get(pending) else {
                    continue;
                };
                encode_command(
                    &[
                        b"XCLAIM".to_vec(),
                        key.to_vec(),
                        name.clone(),
                        consumer.clone(),
                        b"0".to_vec(),
                        id(pending),
                        b"TIME".to_vec(),
                        nack.delivery_time.to_string().into_bytes(),
                        b"RETRYCOUNT".to_vec(),
                        nack.delivery_count.to_string().into_bytes(),
                        b"JUSTID".to_vec(),
                        b"FORCE".to_vec(),
                    ],
                    out,
                );
            }
        }
    }
}

impl Engine {
    /// The commands that rebuild every database and function library, as RESP.
    pub fn rewrite_commands(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for lib in self.scripts.libraries.values() {
            encode_command(&[&b"FUNCTION"[..], b"LOAD", &lib.code], &mut out);
        }
        for (n, db) in self.dbs.iter().enumerate() {
            let mut keys = db.iter_with_expiry().peekable();
            if keys.peek().is_none() {
                continue;
            }
            encode_command(&[b"SELECT".to_vec(), n.to_string().into_bytes()], &mut out);
            for (key, entry, expire_at) in keys {
                match &entry.value {
                    Value::Str(bytes, _) => {
                        encode_command(&[&b"SET"[..], key, bytes.as_slice()], &mut out);
                    }
                    Value::List(list) => {
                        batched(
                            &mut out,
                            b"RPUSH",
                            key,
                            list.iter().map(|e| vec![e.to_vec()]),
                        );
                    }
                    Value::Set(set) => {
                        batched(
                            &mut out,
                            b"SADD",
                            key,
                            set.iter().map(|m| vec![m.into_owned()]),
                        );
                    }
                    Value::ZSet(z) => batched(
                        &mut out,
                        b"ZADD",
                        key,
                        z.iter().map(|(m, score)| {
                            vec![crate::util::fmt_g17(score).into_bytes(), m.to_vec()]
                        }),
                    ),
                    Value::Hash(h) => batched(
                        &mut out,
                        b"HMSET",
                        key,
                        h.iter().map(|(f, v)| vec![f.to_vec(), v.to_vec()]),
                    ),
                    Value::Stream(s) => stream(&mut out, key, s),
                }
                if let Some(at) = expire_at {
                    encode_command(
                        &[
                            b"PEXPIREAT".to_vec(),
                            key.to_vec(),
                            at.to_string().into_bytes(),
                        ],
                        &mut out,
                    );
                }
            }
        }
        out
    }
}
