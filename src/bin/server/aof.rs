//! The append-only file, as redis-server 7.0 keeps it: a directory (`appenddirname`) with a
//! manifest naming a base file (an RDB snapshot, `aof-use-rdb-preamble yes`) and an
//! incremental file of the commands propagated since (RESP, with SELECT on database changes).
//!
//! The engine says what each command propagates ([`Engine::take_propagated`]); this file
//! writes it, fsyncs it by `appendfsync`, rewrites it (a new base and an empty incremental
//! file, the manifest replaced atomically, the old files removed) and loads it at start:
//! manifest, base, then the incremental files in order. A last command cut short is dropped
//! (and the file truncated to the commands before it) when `aof-load-truncated` is yes; any
//! other damage stops the start with Redis's message.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use redis_playground::aof::{
    base_bytes, base_file, incr_file, manifest_text, parse_manifest, read_aof, AofRead, AofWriter,
    ManifestFile,
};
use redis_playground::Engine;

/// `appendfsync`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fsync {
    Always,
    EverySec,
    No,
}

impl Fsync {
    fn of(engine: &Engine) -> Fsync {
        match engine.config.get_named("appendfsync") {
            "always" => Fsync::Always,
            "no" => Fsync::No,
            _ => Fsync::EverySec,
        }
    }
}

/// Where the AOF lives: `dir/appenddirname`, files named after `appendfilename`.
#[derive(Clone, Debug)]
pub struct AofPath {
    pub dir: PathBuf,
    pub name: String,
}

impl AofPath {
    pub fn manifest(&self) -> PathBuf {
        self.dir.join(format!("{}.manifest", self.name))
    }
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, synced, then
/// renamed over it, the directory synced after.
fn write_atomic(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = dir.join(format!(
        "temp-{}-{}",
        std::process::id(),
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file")
    ));
    let mut f = File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)?;
    sync_dir(dir);
    Ok(())
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// The open AOF of a running server.
pub struct Aof {
    path: AofPath,
    /// Manifest sequence of the current base and incremental file.
    seq: u64,
    files: Vec<ManifestFile>,
    incr: File,
    writer: AofWriter,
    fsync: Fsync,
    last_fsync: Instant,
    unsynced: bool,
    buf: Vec<u8>,
}

impl Aof {
    /// The AOF at generation `seq`, appending to `incr`; INFO persistence learns of it.
    fn opened(
        seq: u64,
        path: AofPath,
        files: Vec<ManifestFile>,
        incr: File,
        engine: &mut Engine,
    ) -> Aof {
        let aof = Aof {
            seq,
            path,
            files,
            incr,
            writer: AofWriter::default(),
            fsync: Fsync::of(engine),
            last_fsync: Instant::now(),
            unsynced: false,
            buf: Vec::new(),
        };
        aof.report(engine);
        aof
    }

    /// Starts writing after a load at startup: appends to the manifest's last incremental
    /// file, or creates the first base and incremental file when there is no AOF yet.
    pub fn start(path: AofPath, engine: &mut Engine, now_ms: i64) -> Result<Aof, String> {
        let existing = existing_manifest(&path)?;
        engine.set_propagation(true);
        match existing {
            Some(files) if files.iter().any(|f| f.kind == b'i') => {
                let last = files
                    .iter()
                    .rfind(|f| f.kind == b'i')
                    .cloned()
                    .ok_or("no incremental file")?;
                let incr = OpenOptions::new()
                    .append(true)
                    .create(true)
                    .open(path.dir.join(&last.name))
                    .map_err(|e| format!("Can't open the append-only file {}: {e}", last.name))?;
                let seq = files.iter().map(|f| f.seq).max().unwrap_or(1);
                Ok(Aof::opened(seq, path, files, incr, engine))
            }
            _ => {
                let seq = existing
                    .as_ref()
                    .and_then(|f| f.iter().map(|f| f.seq).max())
                    .unwrap_or(0);
                let (files, incr) = write_new_generation(&path, seq + 1, engine, now_ms)?;
                Ok(Aof::opened(seq + 1, path, files, incr, engine))
            }
        }
    }

    /// `CONFIG SET appendonly yes` on a running server: as Redis 7.0 does, the AOF starts
    /// from a rewrite of the data, a new base and incremental file, and the files of an
    /// earlier AOF (from before `appendonly no`) are removed. Appending to the old incremental
    /// file instead would leave out every write made while the AOF was off.
    pub fn turn_on(path: AofPath, engine: &mut Engine, now_ms: i64) -> Result<Aof, String> {
        let old = existing_manifest(&path)?.unwrap_or_default();
        let seq = old.iter().map(|f| f.seq).max().unwrap_or(0) + 1;
        engine.set_propagation(true);
        let (files, incr) = write_new_generation(&path, seq, engine, now_ms)?;
        for f in old
            .iter()
            .filter(|f| !files.iter().any(|n| n.name == f.name))
        {
            let _ = std::fs::remove_file(path.dir.join(&f.name));
        }
        Ok(Aof::opened(seq, path, files, incr, engine))
    }

    /// Appends what the engine propagated since the last call. With `appendfsync always`
    /// the host calls [`Aof::sync_if_always`] before any reply leaves.
    pub fn feed(&mut self, engine: &mut Engine) {
        let props = engine.take_propagated();
        if props.is_empty() {
            return;
        }
        self.fsync = Fsync::of(engine);
        self.buf.clear();
        if self
            .writer
            .append(engine, &props, unix_seconds(), &mut self.buf)
            == 0
        {
            return;
        }
        let ok = self.incr.write_all(&self.buf).is_ok();
        if !ok {
            super::log::warning("error writing to the AOF");
        }
        engine.persist.aof_last_write_ok = ok;
        engine.persist.aof_current_size += self.buf.len() as u64;
        self.unsynced = true;
    }

    /// `appendfsync always`: syncs what was written since the last sync, if anything.
    pub fn sync_if_always(&mut self) {
        if self.fsync == Fsync::Always && self.unsynced {
            self.sync();
        }
    }

    /// `appendfsync everysec`: syncs what was written when a second has passed.
    pub fn tick(&mut self) {
        if self.fsync == Fsync::EverySec
            && self.unsynced
            && self.last_fsync.elapsed() >= Duration::from_secs(1)
        {
            self.sync();
        }
    }

    /// Syncs the incremental file now.
    pub fn sync(&mut self) {
        let _ = self.incr.sync_data();
        self.unsynced = false;
        self.last_fsync = Instant::now();
    }

    /// BGREWRITEAOF (done at once here): a new base with the whole dataset and an empty
    /// incremental file, the manifest switched to them atomically, the old files removed.
    pub fn rewrite(&mut self, engine: &mut Engine, now_ms: i64) -> Result<(), String> {
        // Whatever was propagated belongs in the old file, which the new base covers.
        self.feed(engine);
        self.sync();
        let seq = self.seq + 1;
        let started = Instant::now();
        let (files, incr) = write_new_generation(&self.path, seq, engine, now_ms)
            .inspect_err(|_| engine.persist.aof_rewrite_finished(false))?;
        for old in &self.files {
            let _ = std::fs::remove_file(self.path.dir.join(&old.name));
        }
        self.files = files;
        self.incr = incr;
        self.seq = seq;
        self.writer.new_file();
        engine.persist.aof_rewrite_finished(true);
        engine.persist.aof_last_rewrite_time_sec = started.elapsed().as_secs() as i64;
        self.report(engine);
        Ok(())
    }

    fn report(&self, engine: &mut Engine) {
        let size = |name: &str| {
            std::fs::metadata(self.path.dir.join(name))
                .map(|m| m.len())
                .unwrap_or(0)
        };
        let base = self
            .files
            .iter()
            .filter(|f| f.kind == b'b')
            .map(|f| size(&f.name))
            .sum::<u64>();
        let incr = self
            .files
            .iter()
            .filter(|f| f.kind == b'i')
            .map(|f| size(&f.name))
            .sum::<u64>();
        engine.persist.aof_base_size = base;
        engine.persist.aof_current_size = base + incr;
    }
}

/// Writes base file `seq`: the dataset as an RDB snapshot (`<name>.<seq>.base.rdb`), or with
/// `aof-use-rdb-preamble no` as the commands that rebuild it (`<name>.<seq>.base.aof`).
fn write_base(
    path: &AofPath,
    seq: u64,
    engine: &Engine,
    now_ms: i64,
) -> Result<ManifestFile, String> {
    let (rdb, bytes) = base_bytes(engine, now_ms);
    let base = base_file(&path.name, seq, rdb);
    write_atomic(&path.dir, &path.dir.join(&base.name), &bytes)
        .map_err(|e| format!("Background AOF rewrite failed: {e}"))?;
    Ok(base)
}

/// BGREWRITEAOF while `appendonly` is off, as Redis 7.0 does it: a new base file and a
/// manifest naming only it; the files it replaces are removed.
pub fn rewrite_base_only(path: &AofPath, engine: &mut Engine, now_ms: i64) -> Result<(), String> {
    std::fs::create_dir_all(&path.dir).map_err(|e| {
        format!(
            "Can't open or create append-only dir {}: {e}",
            path.dir.display()
        )
    })?;
    let old = match std::fs::read_to_string(path.manifest()) {
        Ok(text) => parse_manifest(&text).unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    let seq = old.iter().map(|f| f.seq).max().unwrap_or(0) + 1;
    let started = Instant::now();
    let written = write_base(path, seq, engine, now_ms).and_then(|base| {
        let files = vec![base];
        write_atomic(
            &path.dir,
            &path.manifest(),
            manifest_text(&files).as_bytes(),
        )
        .map_err(|e| format!("Background AOF rewrite failed: {e}"))
    });
    engine.persist.aof_rewrite_finished(written.is_ok());
    written?;
    for f in &old {
        let _ = std::fs::remove_file(path.dir.join(&f.name));
    }
    engine.persist.aof_last_rewrite_time_sec = started.elapsed().as_secs() as i64;
    Ok(())
}

/// The AOF directory, created if missing, and its manifest's files (None: no manifest yet).
fn existing_manifest(path: &AofPath) -> Result<Option<Vec<ManifestFile>>, String> {
    std::fs::create_dir_all(&path.dir).map_err(|e| {
        format!(
            "Can't open or create append-only dir {}: {e}",
            path.dir.display()
        )
    })?;
    match std::fs::read_to_string(path.manifest()) {
        Ok(text) => Ok(Some(parse_manifest(&text)?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("Can't read the AOF manifest: {e}")),
    }
}

/// Writes base `seq` and an empty incremental file `seq`, then the manifest naming them.
/// Returns the manifest's files and the open incremental file.
fn write_new_generation(
    path: &AofPath,
    seq: u64,
    engine: &Engine,
    now_ms: i64,
) -> Result<(Vec<ManifestFile>, File), String> {
    let base = write_base(path, seq, engine, now_ms)?;
    let incr_file = incr_file(&path.name, seq);
    let fail = |e: std::io::Error| format!("Background AOF rewrite failed: {e}");
    let incr = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path.dir.join(&incr_file.name))
        .map_err(fail)?;
    let _ = incr.set_len(0);
    let files = vec![base, incr_file];
    write_atomic(
        &path.dir,
        &path.manifest(),
        manifest_text(&files).as_bytes(),
    )
    .map_err(fail)?;
    Ok((files, incr))
}

/// Loads the AOF into `engine` if there is one. Ok(false): no AOF (the server starts empty).
/// Meanwhile the engine is loading (INFO's `loading:1`, LOADING for other clients, whose
/// requests the event loop's handler serves); `caller` is the client that asked for the
/// load (DEBUG LOADAOF), if any.
pub fn load(
    path: &AofPath,
    engine: &mut Engine,
    caller: Option<redis_playground::engine::ClientId>,
    now_ms: i64,
) -> Result<bool, String> {
    let result = load_files(path, engine, caller, now_ms);
    engine.end_loading();
    result
}

fn load_files(
    path: &AofPath,
    engine: &mut Engine,
    caller: Option<redis_playground::engine::ClientId>,
    now_ms: i64,
) -> Result<bool, String> {
    let text = match std::fs::read_to_string(path.manifest()) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(format!("Can't read the AOF manifest: {e}")),
    };
    let files = parse_manifest(&text)?;
    if files.is_empty() {
        return Ok(false);
    }
    let truncated_ok = engine.config.get_named("aof-load-truncated") != "no";
    let was = engine.propagation.enabled;
    engine.set_propagation(false);
    let client = engine.open_client(now_ms);
    if let Some(c) = engine.client_mut(client) {
        // The loading client is the server itself: no password applies to it.
        c.authenticated = true;
        c.replaying = true;
    }
    // History files (type h) are what a rewrite replaced: never loaded.
    let incrs: Vec<&ManifestFile> = files.iter().filter(|f| f.kind == b'i').collect();
    let base = files.iter().find(|f| f.kind == b'b');
    // Each file's size, once: their sum is the load's total, and the sizes of those before
    // it are where each incremental file starts among the load's bytes.
    let size = |f: &ManifestFile| std::fs::metadata(path.dir.join(&f.name)).map_or(0, |m| m.len());
    let base_size = base.map_or(0, size);
    let incr_sizes: Vec<u64> = incrs.iter().map(|f| size(f)).collect();
    let total = base_size + incr_sizes.iter().sum::<u64>();
    engine.begin_loading(total, Some(client), caller, now_ms);
    let mut result = Ok(true);
    if let Some(base) = base {
        let full = path.dir.join(&base.name);
        let bytes = std::fs::read(&full)
            .map_err(|e| format!("The AOF file {} doesn't exist: {e}", base.name))?;
        if bytes.starts_with(b"REDIS") {
            // The base's function libraries come back with its data.
            engine.load_aof_preamble(&bytes, now_ms).map_err(|e| {
                format!(
                    "Bad file format reading the append only file {}: {e}",
                    base.name
                )
            })?;
        } else {
            result = replay(&full, &base.name, engine, client, now_ms, false);
        }
    }
    let mut file_base = base_size;
    for (i, (f, file_size)) in incrs.iter().zip(&incr_sizes).enumerate() {
        if result.is_err() {
            break;
        }
        let last = i + 1 == incrs.len();
        let full = path.dir.join(&f.name);
        if let Some(l) = engine.loading.as_mut() {
            l.file_base = file_base;
        }
        result = replay(&full, &f.name, engine, client, now_ms, last && truncated_ok);
        file_base += file_size;
    }
    engine.close_client(client);
    engine.set_propagation(was);
    engine.dirty = 0;
    result
}

/// Runs the commands of one AOF file. A last command cut short is dropped, and the file
/// truncated before it, when `truncate` allows; otherwise it stops the load.
fn replay(
    full: &Path,
    name: &str,
    engine: &mut Engine,
    client: redis_playground::engine::ClientId,
    now_ms: i64,
    truncate: bool,
) -> Result<bool, String> {
    let bytes = match std::fs::read(full) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!("The AOF file {name} doesn't exist"))
        }
        Err(e) => {
            return Err(format!(
                "Fatal error: can't open the append log file {name} for reading: {e}"
            ))
        }
    };
    let bad = || {
        format!(
            "Bad file format reading the append only file {name}: make a backup of your AOF file, \
             then use ./redis-check-aof --fix <filename.manifest>"
        )
    };
    // While loading, no key expires (as in Redis): a command the log holds after an expiry
    // that has passed since still finds its key, which expires once loaded.
    for db in &mut engine.dbs {
        db.no_expiry = true;
    }
    let read = read_aof(engine, client, &bytes, now_ms);
    for db in &mut engine.dbs {
        db.no_expiry = false;
    }
    let (at, in_multi_since) = match read {
        AofRead::Complete => return Ok(true),
        AofRead::Bad => return Err(bad()),
        AofRead::UnknownCommand(cmd) => {
            return Err(format!(
                "Unknown command '{}' reading the append only file {name}",
                String::from_utf8_lossy(&cmd)
            ))
        }
        AofRead::Cut { at, multi_since } => (at, multi_since),
    };
    // The file ends inside a command, or inside a transaction whose EXEC never came: the
    // transaction goes whole, and the file is cut there when aof-load-truncated allows.
    let keep = match in_multi_since {
        Some(since) => {
            super::log::warning(&format!(
                "Revert incomplete MULTI/EXEC transaction in AOF file {name}"
            ));
            engine.execute(client, &[b"DISCARD".to_vec()], now_ms);
            since
        }
        None => at,
    };
    if !truncate {
        return Err(format!(
            "Unexpected end of file reading the append only file {name}. You can: \
             1) Make a backup of your AOF file, then use ./redis-check-aof --fix \
             <filename.manifest>. 2) Alternatively you can set the \
             'aof-load-truncated' configuration option to yes and restart the server."
        ));
    }
    super::log::warning(&format!(
        "!!! Warning: short read while loading the AOF file {name}!!!"
    ));
    super::log::warning(&format!(
        "!!! Truncating the AOF {name} at offset {keep} !!!"
    ));
    if let Ok(f) = OpenOptions::new().write(true).open(full) {
        let _ = f.set_len(keep as u64);
        let _ = f.sync_all();
    }
    super::log::warning(&format!(
        "AOF {name} loaded anyway because aof-load-truncated is enabled"
    ));
    Ok(true)
}

/// The wall clock in seconds since the epoch, for `#TS:` annotations.
fn unix_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_round_trip() {
        let text = "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n";
        let files = parse_manifest(text).expect("parses");
        assert_eq!(files.len(), 2);
        assert_eq!(manifest_text(&files), text);
        assert!(parse_manifest("file a/b seq 1 type b").is_err());
        assert!(parse_manifest("file x seq").is_err());
    }
}
