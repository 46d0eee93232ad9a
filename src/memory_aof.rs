//! The page's append-only file: Redis 7.0's multi-part AOF kept in memory, so that a learner
//! sees what the log records (the RESP a redis-server appends) and what BGREWRITEAOF compacts
//! it into.
//!
//! It is the native server's AOF (src/bin/server/aof.rs) without the files: the same
//! propagation taken from the engine and written by the same [`AofWriter`], the same base
//! ([`base_bytes`]: an RDB snapshot, or the commands with `aof-use-rdb-preamble no`), the same
//! file names and manifest, and INFO persistence's `aof_*` fields kept the same way. The host
//! calls [`MemoryAof::step`] after every command and tick, as the server's event loop calls
//! its `aof_step`.
//!
//! Its memory is bounded: when the incremental file passes [`MemoryAof::cap`] (4 MB unless
//! changed), the page rewrites the AOF on its own, as Redis's `auto-aof-rewrite-*` rules do
//! with bigger figures; the view says so. The log is never cut: what it holds is always what
//! a redis-server would have written.

use crate::aof::ManifestFile;
use crate::aof::{base_bytes, base_file, incr_file, manifest_text, read_aof, AofRead, AofWriter};
use crate::protocol::render::quote;
use crate::protocol::resp::parse_request;
use crate::Engine;

/// The incremental file's size past which the page rewrites the AOF on its own.
pub const INCR_CAP: usize = 4 << 20;

/// Why the last rewrite happened, and what it did (for the panel).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RewriteNote {
    /// BGREWRITEAOF, `appendonly` turned on, the incremental file past the cap, or the data
    /// replaced by a load.
    pub reason: &'static str,
    /// The AOF's size (base and incremental files) before.
    pub before: usize,
    /// The new base file's size.
    pub after: usize,
}

/// An append-only file held in memory.
pub struct MemoryAof {
    /// Appending (`appendonly yes`).
    active: bool,
    /// The generation of the current files (0: none yet).
    seq: u64,
    /// The files the manifest names.
    files: Vec<ManifestFile>,
    /// The base file's bytes.
    base: Vec<u8>,
    /// Whether the base is an RDB file (else commands).
    base_rdb: bool,
    /// Keys and function libraries in the base, when it is an RDB file (its summary).
    base_keys: u64,
    base_functions: usize,
    /// The incremental file's bytes.
    incr: Vec<u8>,
    writer: AofWriter,
    /// The engine's `data_replaced` the files describe.
    data_replaced: u64,
    /// The incremental file's size past which the page rewrites on its own.
    pub cap: usize,
    /// The last rewrite.
    pub last_rewrite: Option<RewriteNote>,
    /// Why the last DEBUG LOADAOF failed, if it did.
    pub load_error: Option<String>,
}

impl Default for MemoryAof {
    fn default() -> Self {
        MemoryAof {
            active: false,
            seq: 0,
            files: Vec::new(),
            base: Vec::new(),
            base_rdb: false,
            base_keys: 0,
            base_functions: 0,
            incr: Vec::new(),
            writer: AofWriter::default(),
            data_replaced: 0,
            cap: INCR_CAP,
            last_rewrite: None,
            load_error: None,
        }
    }
}

/// One command (or annotation) of a file, as the panel shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AofEntry {
    /// Its RESP lines, each of which ends with CRLF in the file (`*3`, `$3`, `SET` ...); bytes
    /// that are not printable ASCII are written `\xHH` (`\r`, `\n`, `\t` as such).
    pub resp: Vec<String>,
    /// The command on one line, its arguments quoted as MONITOR and redis-cli quote them.
    pub command: String,
}

/// One file of the AOF, as the panel shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AofFileView {
    pub name: String,
    /// `b` base or `i` incremental, as the manifest says.
    pub kind: u8,
    /// An RDB base (summarised by `keys` and `functions`, not shown).
    pub rdb: bool,
    /// Its size in bytes.
    pub size: usize,
    pub keys: u64,
    pub functions: usize,
    /// The commands shown: all of them, or the last ones (incremental) / the first ones
    /// (base) that fit in the limit asked for.
    pub entries: Vec<AofEntry>,
    /// Bytes of the file not shown (before the entries of an incremental file, after those of
    /// a base).
    pub omitted: usize,
}

/// The whole AOF, as the panel shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AofView {
    /// Whether commands are appended (`appendonly yes`).
    pub enabled: bool,
    /// `appenddirname`.
    pub dir: String,
    /// The manifest's file name and text.
    pub manifest_name: String,
    pub manifest: String,
    pub files: Vec<AofFileView>,
    /// INFO's `aof_rewrites`.
    pub rewrites: u64,
    pub last_rewrite: Option<RewriteNote>,
    /// The incremental file's size past which the page rewrites on its own.
    pub cap: usize,
    pub load_error: Option<String>,
}

impl MemoryAof {
    /// Whether commands are appended now.
    pub fn active(&self) -> bool {
        self.active
    }

    /// The base file's bytes.
    pub fn base(&self) -> &[u8] {
        &self.base
    }

    /// The incremental file's bytes.
    pub fn incremental(&self) -> &[u8] {
        &self.incr
    }

    /// The manifest's text.
    pub fn manifest(&self) -> String {
        manifest_text(&self.files)
    }

    /// After a command or a tick: the AOF turned on or off as `appendonly` now says, fed what
    /// the engine propagated, rewritten when BGREWRITEAOF asked (or the data was replaced, or
    /// the incremental file passed the cap), loaded again for DEBUG LOADAOF.
    pub fn step(&mut self, engine: &mut Engine, now_ms: i64) {
        engine.persist.aof_host = true;
        let want = engine.config.appendonly;
        if want && !self.active {
            // CONFIG SET appendonly yes: the AOF starts from a rewrite of the data.
            engine.persist.aof_rewrite_requested = false;
            engine.set_propagation(true);
            self.active = true;
            self.rewrite(engine, now_ms, "appendonly turned on");
            engine.persist.aof_on_disk = true;
        } else if !want && self.active {
            self.feed(engine, now_ms);
            engine.set_propagation(false);
            self.active = false;
        }
        let requested = {
            let p = &mut engine.persist;
            let r = p.aof_rewrite_requested || p.aof_rewrite_scheduled;
            p.aof_rewrite_requested = false;
            p.aof_rewrite_scheduled = false;
            r
        };
        if !self.active {
            if requested {
                // BGREWRITEAOF with appendonly off: a base alone, as Redis 7.0 writes it.
                self.rewrite(engine, now_ms, "BGREWRITEAOF");
                engine.persist.aof_on_disk = true;
            }
            if std::mem::take(&mut engine.persist.aof_load_requested) {
                self.load_again(engine, now_ms);
            }
            return;
        }
        self.feed(engine, now_ms);
        if std::mem::take(&mut engine.persist.aof_load_requested) {
            self.load_again(engine, now_ms);
        }
        if requested {
            self.rewrite(engine, now_ms, "BGREWRITEAOF");
        } else if engine.data_replaced != self.data_replaced {
            // A snapshot or a primary's data was loaded: the log restarts from it, as Redis
            // restarts its AOF after a replica's full sync.
            self.rewrite(engine, now_ms, "the data was replaced by a load");
        } else if self.incr.len() > self.cap {
            self.rewrite(
                engine,
                now_ms,
                "the incremental file passed the page's bound",
            );
        }
    }

    /// Appends what the engine propagated since the last call.
    fn feed(&mut self, engine: &mut Engine, now_ms: i64) {
        let props = engine.take_propagated();
        if props.is_empty() {
            return;
        }
        self.writer
            .append(engine, &props, now_ms.div_euclid(1000), &mut self.incr);
        self.report(engine);
    }

    /// A new generation: a base holding the whole dataset and, while appending, an empty
    /// incremental file; the manifest names them and nothing else.
    fn rewrite(&mut self, engine: &mut Engine, now_ms: i64, reason: &'static str) {
        let before = self.base.len() + self.incr.len();
        let name = engine.config.get_named("appendfilename").to_string();
        self.seq += 1;
        let (rdb, bytes) = base_bytes(engine, now_ms);
        self.base = bytes;
        self.base_rdb = rdb;
        self.base_keys = engine.dbs.iter().map(|d| d.len() as u64).sum();
        self.base_functions = engine.scripts.libraries.len();
        self.files = vec![base_file(&name, self.seq, rdb)];
        self.incr = Vec::new();
        self.writer.new_file();
        if self.active {
            self.files.push(incr_file(&name, self.seq));
        }
        self.data_replaced = engine.data_replaced;
        engine.persist.aof_rewrite_finished(true);
        engine.persist.aof_last_rewrite_time_sec = 0;
        self.last_rewrite = Some(RewriteNote {
            reason,
            before,
            after: self.base.len(),
        });
        self.report(engine);
    }

    /// INFO persistence's sizes: the base, and the base with the incremental file.
    fn report(&self, engine: &mut Engine) {
        engine.persist.aof_base_size = self.base.len() as u64;
        engine.persist.aof_current_size = (self.base.len() + self.incr.len()) as u64;
    }

    /// DEBUG LOADAOF: the data emptied and loaded back from the base and incremental file.
    fn load_again(&mut self, engine: &mut Engine, now_ms: i64) {
        self.load_error = None;
        if self.seq == 0 {
            return;
        }
        let was = engine.propagation.enabled;
        engine.set_propagation(false);
        let result = self.load_into(engine, now_ms);
        engine.set_propagation(was);
        engine.dirty = 0;
        // What was loaded is what the files say: no rewrite follows.
        self.data_replaced = engine.data_replaced;
        if let Err(e) = result {
            self.load_error = Some(e);
        }
    }

    fn load_into(&self, engine: &mut Engine, now_ms: i64) -> Result<(), String> {
        let base_name = self.files.first().map_or("", |f| f.name.as_str());
        if self.base_rdb {
            engine.load_aof_preamble(&self.base, now_ms).map_err(|e| {
                format!("Bad file format reading the append only file {base_name}: {e}")
            })?;
        } else {
            engine.replace_data(Vec::new(), now_ms);
            engine.scripts.libraries = Default::default();
            engine.scripts.fvm = None;
        }
        let client = engine.open_client(now_ms);
        if let Some(c) = engine.client_mut(client) {
            // The loading client is the server itself: no password applies to it.
            c.authenticated = true;
            c.replaying = true;
        }
        for db in &mut engine.dbs {
            db.no_expiry = true;
        }
        let mut result = Ok(());
        let mut parts: Vec<(&str, &[u8])> = Vec::new();
        if !self.base_rdb {
            parts.push((base_name, &self.base));
        }
        if let Some(f) = self.files.iter().find(|f| f.kind == b'i') {
            parts.push((f.name.as_str(), &self.incr));
        }
        for (name, bytes) in parts {
            if read_aof(engine, client, bytes, now_ms) != AofRead::Complete {
                result = Err(format!(
                    "Bad file format reading the append only file {name}"
                ));
                break;
            }
        }
        for db in &mut engine.dbs {
            db.no_expiry = false;
        }
        engine.close_client(client);
        result
    }

    /// The AOF as the panel shows it, at most about `limit` bytes of each file's commands;
    /// None before it ever existed.
    pub fn view(&self, engine: &Engine, limit: usize) -> Option<AofView> {
        if self.seq == 0 {
            return None;
        }
        let dir = engine.config.get_named("appenddirname").to_string();
        let name = engine.config.get_named("appendfilename").to_string();
        let files = self
            .files
            .iter()
            .map(|f| {
                let incremental = f.kind == b'i';
                let bytes = if incremental { &self.incr } else { &self.base };
                let rdb = !incremental && self.base_rdb;
                let (entries, omitted) = if rdb {
                    (Vec::new(), 0)
                } else {
                    entries(bytes, limit, incremental)
                };
                AofFileView {
                    name: f.name.clone(),
                    kind: f.kind,
                    rdb,
                    size: bytes.len(),
                    keys: if rdb { self.base_keys } else { 0 },
                    functions: if rdb { self.base_functions } else { 0 },
                    entries,
                    omitted,
                }
            })
            .collect();
        Some(AofView {
            enabled: self.active,
            dir,
            manifest_name: format!("{name}.manifest"),
            manifest: self.manifest(),
            files,
            rewrites: engine.persist.aof_rewrites,
            last_rewrite: self.last_rewrite.clone(),
            cap: self.cap,
            load_error: self.load_error.clone(),
        })
    }
}

/// A file's commands (and `#TS:` annotations) as entries: the first ones within `limit`
/// bytes, or with `tail` the last ones; with the number of bytes left out.
fn entries(bytes: &[u8], limit: usize, tail: bool) -> (Vec<AofEntry>, usize) {
    // Where each command starts: the shown part begins and ends on a command.
    let mut starts = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        starts.push(at);
        at += match bytes[at] {
            b'#' => bytes[at..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(bytes.len() - at, |n| n + 1),
            _ => match parse_request(&bytes[at..]) {
                Ok(Some((_, used))) if used > 0 => used,
                _ => bytes.len() - at,
            },
        };
    }
    starts.push(bytes.len());
    let (from, to) = if tail {
        let from = starts
            .iter()
            .copied()
            .find(|&s| bytes.len() - s <= limit)
            .unwrap_or(bytes.len());
        (from, bytes.len())
    } else {
        let to = starts
            .iter()
            .copied()
            .take_while(|&s| s <= limit)
            .last()
            .unwrap_or(0);
        (0, to)
    };
    let mut out = Vec::new();
    for w in starts.windows(2) {
        let (s, e) = (w[0], w[1]);
        if s < from || e > to {
            continue;
        }
        out.push(entry(&bytes[s..e]));
    }
    (out, bytes.len() - (to - from))
}

/// One command's (or annotation's) entry.
fn entry(bytes: &[u8]) -> AofEntry {
    if bytes.first() == Some(&b'#') {
        let line = visible(bytes.strip_suffix(b"\r\n").unwrap_or(bytes));
        return AofEntry {
            resp: vec![line.clone()],
            command: line,
        };
    }
    match parse_request(bytes) {
        Ok(Some((argv, _))) => {
            let mut resp = vec![format!("*{}", argv.len())];
            let mut command = String::new();
            for a in &argv {
                resp.push(format!("${}", a.len()));
                resp.push(visible(a));
                if !command.is_empty() {
                    command.push(' ');
                }
                command.push_str(&quote(a));
            }
            AofEntry { resp, command }
        }
        // Never written by the page; shown as bytes all the same.
        _ => AofEntry {
            resp: vec![visible(bytes)],
            command: visible(bytes),
        },
    }
}

/// Bytes as text: printable ASCII as it is, `\r`, `\n`, `\t`, and `\xHH` for the rest.
fn visible(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playground::Playground;
    use crate::EngineOptions;

    fn run(p: &mut Playground, c: u64, line: &str) -> String {
        p.execute_line(c, line, 1_000_000).text
    }

    fn info(p: &mut Playground, c: u64, field: &str) -> String {
        let text = run(p, c, "INFO persistence");
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{field}:")))
            .unwrap_or_else(|| panic!("{field} in {text}"));
        line[field.len() + 1..].to_string()
    }

    #[test]
    fn records_what_redis_appends_and_rewrites_it() {
        let mut p = Playground::new(EngineOptions::default());
        let c = p.engine.open_client(0);
        run(&mut p, c, "SET before 1");
        assert!(p.aof.view(&p.engine, 1000).is_none(), "no AOF yet");
        run(&mut p, c, "CONFIG SET appendonly yes");
        assert!(p.aof.active());
        assert_eq!(
            p.aof.manifest(),
            "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
        );
        assert!(p.aof.base().starts_with(b"REDIS0010"));
        assert!(p.aof.incremental().is_empty());
        run(&mut p, c, "SET k v EX 100");
        run(&mut p, c, "SELECT 2");
        run(&mut p, c, "MULTI");
        run(&mut p, c, "INCR n");
        run(&mut p, c, "GET n");
        run(&mut p, c, "RPUSH l a");
        run(&mut p, c, "EXEC");
        assert_eq!(
            String::from_utf8_lossy(p.aof.incremental()),
            "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n\
             *5\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n$4\r\nPXAT\r\n$7\r\n1100000\r\n\
             *2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n\
             *1\r\n$5\r\nMULTI\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n\
             *3\r\n$5\r\nRPUSH\r\n$1\r\nl\r\n$1\r\na\r\n*1\r\n$4\r\nEXEC\r\n"
        );
        let size = p.aof.base().len() + p.aof.incremental().len();
        assert_eq!(info(&mut p, c, "aof_enabled"), "1");
        assert_eq!(info(&mut p, c, "aof_current_size"), size.to_string());
        assert_eq!(
            info(&mut p, c, "aof_base_size"),
            p.aof.base().len().to_string()
        );
        assert_eq!(info(&mut p, c, "aof_rewrites"), "1");

        let view = p.aof.view(&p.engine, 1 << 20).expect("an AOF");
        assert_eq!(view.files.len(), 2);
        assert!(view.files[0].rdb && view.files[0].keys == 1);
        let incr = &view.files[1];
        assert_eq!(incr.name, "appendonly.aof.1.incr.aof");
        assert_eq!(incr.omitted, 0);
        assert_eq!(
            incr.entries[1].resp,
            ["*5", "$3", "SET", "$1", "k", "$1", "v", "$4", "PXAT", "$7", "1100000"]
        );
        assert_eq!(
            incr.entries[1].command,
            "\"SET\" \"k\" \"v\" \"PXAT\" \"1100000\""
        );
        assert_eq!(incr.entries.len(), 7);

        // The tail of the incremental file, whole commands only.
        let view = p.aof.view(&p.engine, 43).expect("an AOF");
        let shown: Vec<&str> = view.files[1]
            .entries
            .iter()
            .map(|e| e.command.as_str())
            .collect();
        assert_eq!(shown, ["\"RPUSH\" \"l\" \"a\"", "\"EXEC\""]);
        assert_eq!(view.files[1].omitted, p.aof.incremental().len() - 43);

        run(&mut p, c, "CONFIG SET aof-use-rdb-preamble no");
        assert_eq!(
            run(&mut p, c, "BGREWRITEAOF"),
            "Background append only file rewriting started\n"
        );
        assert_eq!(
            p.aof.manifest(),
            "file appendonly.aof.2.base.aof seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n"
        );
        assert!(p.aof.incremental().is_empty());
        let base = String::from_utf8_lossy(p.aof.base()).into_owned();
        assert!(
            base.starts_with("*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n"),
            "{base}"
        );
        assert!(base.contains("*3\r\n$9\r\nPEXPIREAT\r\n$1\r\nk\r\n$7\r\n1100000\r\n"));
        assert!(base.contains("*3\r\n$5\r\nRPUSH\r\n$1\r\nl\r\n$1\r\na\r\n"));
        assert_eq!(info(&mut p, c, "aof_rewrites"), "2");
        assert_eq!(info(&mut p, c, "aof_base_size"), base.len().to_string());
        let note = p.aof.last_rewrite.clone().expect("a rewrite");
        assert_eq!(note.reason, "BGREWRITEAOF");
        assert_eq!(note.after, base.len());
        // The next command selects its database again in the new file.
        run(&mut p, c, "DEL l");
        assert_eq!(
            p.aof.incremental(),
            b"*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n*2\r\n$3\r\nDEL\r\n$1\r\nl\r\n"
        );
    }

    #[test]
    fn debug_loadaof_and_turning_off() {
        let mut p = Playground::new(EngineOptions::default());
        let c = p.engine.open_client(0);
        run(&mut p, c, "CONFIG SET appendonly yes");
        run(&mut p, c, "SET a 1");
        run(&mut p, c, "HSET h f v");
        let digest = run(&mut p, c, "DEBUG DIGEST");
        assert_eq!(run(&mut p, c, "DEBUG LOADAOF"), "OK\n");
        assert_eq!(run(&mut p, c, "DEBUG DIGEST"), digest);
        assert!(p.aof.load_error.is_none());
        assert_eq!(
            info(&mut p, c, "aof_rewrites"),
            "1",
            "no rewrite after a load"
        );
        // DEBUG RELOAD loads back what it saved: the log still describes the data.
        assert_eq!(run(&mut p, c, "DEBUG RELOAD"), "OK\n");
        assert_eq!(
            info(&mut p, c, "aof_rewrites"),
            "1",
            "no rewrite after DEBUG RELOAD"
        );
        assert!(!p.aof.incremental().is_empty());
        run(&mut p, c, "CONFIG SET appendonly no");
        run(&mut p, c, "SET b 2");
        assert!(!p.aof.active());
        assert!(!String::from_utf8_lossy(p.aof.incremental()).contains("$1\r\nb\r\n"));
        assert_eq!(info(&mut p, c, "aof_enabled"), "0");
        // BGREWRITEAOF with appendonly no: a base alone.
        run(&mut p, c, "BGREWRITEAOF");
        assert_eq!(
            p.aof.manifest(),
            "file appendonly.aof.2.base.rdb seq 2 type b\n"
        );
        let view = p.aof.view(&p.engine, 1000).expect("an AOF");
        assert!(!view.enabled);
        assert_eq!(view.files[0].keys, 3);
    }

    #[test]
    fn the_page_rewrites_past_its_bound_and_after_a_load() {
        let mut p = Playground::new(EngineOptions::default());
        let c = p.engine.open_client(0);
        p.aof.cap = 1000;
        run(&mut p, c, "CONFIG SET appendonly yes");
        for i in 0..40 {
            run(&mut p, c, &format!("SET key:{i} value"));
        }
        assert!(p.aof.incremental().len() <= 1000);
        let note = p.aof.last_rewrite.clone().expect("a rewrite");
        assert_eq!(note.reason, "the incremental file passed the page's bound");
        assert!(note.before > 1000);
        let digest = run(&mut p, c, "DEBUG DIGEST");
        run(&mut p, c, "DEBUG LOADAOF");
        assert_eq!(run(&mut p, c, "DEBUG DIGEST"), digest, "nothing was lost");
        let snap = p.engine.snapshot(1_000_000);
        run(&mut p, c, "SET extra 1");
        p.engine.load_snapshot(&snap, 1_000_000).expect("loads");
        p.aof_step(1_000_000);
        assert!(p.aof.incremental().is_empty());
        assert_eq!(
            p.aof.last_rewrite.as_ref().map(|n| n.reason),
            Some("the data was replaced by a load")
        );
    }

    #[test]
    fn bytes_are_shown_visibly() {
        assert_eq!(visible(b"a\r\n\x00\xff\\ b"), "a\\r\\n\\x00\\xff\\ b");
        let (e, omitted) = entries(b"#TS:5\r\n*1\r\n$4\r\nPING\r\n", 100, true);
        assert_eq!(omitted, 0);
        assert_eq!(e[0].resp, ["#TS:5"]);
        assert_eq!(e[1].command, "\"PING\"");
        let (e, omitted) = entries(b"*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n", 20, false);
        assert_eq!((e.len(), omitted), (1, 14));
    }
}
