//! Reading Redis 7.0's multi-part append-only file: the manifest naming its files, and the
//! commands of one file run through the engine. The native server does the file work around
//! these (src/bin/server/aof.rs); they are here, free of I/O, so that they can be fuzzed.

use crate::engine::propagate::{Propagated, StreamEncoder, TO_AOF};
use crate::engine::ClientId;
use crate::protocol::inline::split_args;
use crate::protocol::resp::parse_request;
use crate::Engine;

/// One line of the manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestFile {
    /// The file name in the AOF directory.
    pub name: String,
    /// Its generation.
    pub seq: u64,
    /// `b` base, `h` history (replaced by a rewrite, never loaded), `i` incremental.
    pub kind: u8,
}

/// The files a manifest names, in order, or why it is malformed (Redis texts).
pub fn parse_manifest(text: &str) -> Result<Vec<ManifestFile>, String> {
    let mut files = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let words = split_args(line.as_bytes()).map_err(|_| "Invalid AOF manifest file format")?;
        let mut name = None;
        let mut seq = None;
        let mut kind = None;
        for pair in words.chunks(2) {
            let [k, v] = pair else {
                return Err("Invalid AOF manifest file format".into());
            };
            let v = String::from_utf8_lossy(v).into_owned();
            match k.as_slice() {
                b"file" => name = Some(v),
                b"seq" => seq = v.parse::<u64>().ok(),
                b"type" => kind = v.bytes().next(),
                _ => {}
            }
        }
        match (name, seq, kind) {
            (Some(name), Some(seq), Some(kind @ (b'b' | b'h' | b'i'))) => {
                if name.contains('/') {
                    return Err("File can't be a path, just a filename".into());
                }
                files.push(ManifestFile { name, seq, kind })
            }
            _ => return Err("Invalid AOF manifest file format".into()),
        }
    }
    Ok(files)
}

/// A manifest naming `files`.
pub fn manifest_text(files: &[ManifestFile]) -> String {
    files
        .iter()
        .map(|f| format!("file {} seq {} type {}\n", f.name, f.seq, f.kind as char))
        .collect()
}

/// How reading one AOF file went.
#[derive(Debug, PartialEq, Eq)]
pub enum AofRead {
    /// Every command ran, and no transaction was left open.
    Complete,
    /// The file ends inside a command (at byte `at`) or inside a transaction begun at byte
    /// `multi_since`, whose commands were queued but never executed.
    Cut {
        at: usize,
        multi_since: Option<usize>,
    },
    /// Something that is no command where one should start.
    Bad,
    /// A command the server does not know.
    UnknownCommand(Vec<u8>),
}

/// Runs the commands of one AOF file's `bytes` as `client` (the loading client). Annotations
/// (`#TS:...` lines) are skipped.
pub fn read_aof(engine: &mut Engine, client: ClientId, bytes: &[u8], now_ms: i64) -> AofRead {
    let mut at = 0;
    let mut multi_since = None;
    let mut commands = 0u64;
    while at < bytes.len() {
        engine.loading_commands(commands, at as u64);
        commands += 1;
        if bytes[at] == b'#' {
            match bytes[at..].iter().position(|&b| b == b'\n') {
                Some(end) => {
                    at += end + 1;
                    continue;
                }
                None => break,
            }
        }
        if bytes[at] != b'*' {
            return AofRead::Bad;
        }
        match parse_request(&bytes[at..]) {
            Ok(Some((argv, used))) => {
                if argv.is_empty() {
                    return AofRead::Bad;
                }
                if crate::commands::find(&argv[0]).is_none() {
                    return AofRead::UnknownCommand(argv[0].clone());
                }
                if argv[0].eq_ignore_ascii_case(b"multi") {
                    multi_since = Some(at);
                } else if argv[0].eq_ignore_ascii_case(b"exec") {
                    multi_since = None;
                }
                engine.execute(client, &argv, now_ms);
                at += used;
            }
            Ok(None) => break,
            Err(_) => return AofRead::Bad,
        }
    }
    if at >= bytes.len() && multi_since.is_none() {
        AofRead::Complete
    } else {
        AofRead::Cut { at, multi_since }
    }
}

/// Writes what the engine propagated into an incremental file, as Redis appends it: the
/// commands meant for the AOF (not a script's writes after `redis.set_repl(redis.REPL_REPLICA)`),
/// a `SELECT` whenever the database changes, and with `aof-timestamp-enabled yes` a `#TS:`
/// annotation when a new second began. The native server and the page both write through it.
#[derive(Clone, Debug, Default)]
pub struct AofWriter {
    encoder: StreamEncoder,
    /// The second of the last `#TS:` annotation written.
    annotated_s: i64,
}

impl AofWriter {
    /// A new incremental file begins: its first command selects its database again.
    pub fn new_file(&mut self) {
        self.encoder = StreamEncoder::default();
    }

    /// Appends to `out` what `props` records in the AOF at `now_s` (seconds since the epoch);
    /// returns how many bytes that was (0: nothing for the AOF, `out` unchanged).
    pub fn append(
        &mut self,
        engine: &Engine,
        props: &[Propagated],
        now_s: i64,
        out: &mut Vec<u8>,
    ) -> usize {
        let start = out.len();
        if engine.config.get_named("aof-timestamp-enabled") == "yes" && now_s > self.annotated_s {
            out.extend_from_slice(format!("#TS:{now_s}\r\n").as_bytes());
            self.annotated_s = now_s;
        }
        let annotated = out.len();
        for p in props.iter().filter(|p| p.targets & TO_AOF != 0) {
            self.encoder.encode(p, out);
        }
        if out.len() == annotated {
            // Nothing for the AOF: the annotation waits for what it would stamp.
            if annotated > start {
                self.annotated_s = 0;
            }
            out.truncate(start);
        }
        out.len() - start
    }
}

/// The name of base file `seq` of the AOF named `name`: `<name>.<seq>.base.rdb`, or
/// `.base.aof` when the base is commands.
pub fn base_file(name: &str, seq: u64, rdb: bool) -> ManifestFile {
    ManifestFile {
        name: format!("{name}.{seq}.base.{}", if rdb { "rdb" } else { "aof" }),
        seq,
        kind: b'b',
    }
}

/// Incremental file `seq` of the AOF named `name`: `<name>.<seq>.incr.aof`.
pub fn incr_file(name: &str, seq: u64) -> ManifestFile {
    ManifestFile {
        name: format!("{name}.{seq}.incr.aof"),
        seq,
        kind: b'i',
    }
}

/// The contents of a rewrite's base file at `now_ms`: the dataset as an RDB snapshot, or with
/// `aof-use-rdb-preamble no` as the commands that rebuild it (after a `#TS:` annotation with
/// `aof-timestamp-enabled yes`). Returns whether it is an RDB file, and its bytes.
pub fn base_bytes(engine: &Engine, now_ms: i64) -> (bool, Vec<u8>) {
    if engine.config.get_named("aof-use-rdb-preamble") != "no" {
        return (true, engine.snapshot(now_ms));
    }
    let mut bytes = Vec::new();
    if engine.config.get_named("aof-timestamp-enabled") == "yes" {
        bytes.extend_from_slice(format!("#TS:{}\r\n", now_ms.div_euclid(1000)).as_bytes());
    }
    bytes.extend(engine.rewrite_commands());
    (false, bytes)
}
