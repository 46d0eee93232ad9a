//! Reading Redis 7.0's multi-part append-only file: the manifest naming its files, and the
//! commands of one file run through the engine. The native server does the file work around
//! these (src/bin/server/aof.rs); they are here, free of I/O, so that they can be fuzzed.

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
