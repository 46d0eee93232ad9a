//! The server's log, in redis-server's line format (`pid:role day month year time.ms level
//! message`), at `loglevel` and to `logfile` (standard output when it is empty), so tools and
//! tests that read redis-server's log find the same lines.

use std::io::Write;
use std::sync::Mutex;

/// How much is logged: each level includes the ones after it.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub enum Level {
    Debug,
    Verbose,
    Notice,
    Warning,
}

impl Level {
    /// `loglevel`'s words.
    pub fn parse(word: &str) -> Option<Level> {
        Some(match word.to_ascii_lowercase().as_str() {
            "debug" => Level::Debug,
            "verbose" => Level::Verbose,
            "notice" => Level::Notice,
            "warning" => Level::Warning,
            _ => return None,
        })
    }

    /// The mark redis-server puts before the message.
    fn mark(self) -> char {
        match self {
            Level::Debug => '.',
            Level::Verbose => '-',
            Level::Notice => '*',
            Level::Warning => '#',
        }
    }
}

struct State {
    level: Level,
    /// `logfile`; `None` is standard output.
    file: Option<String>,
    /// `C` while the configuration is read, `M` once the server runs.
    role: char,
}

static STATE: Mutex<State> = Mutex::new(State {
    level: Level::Notice,
    file: None,
    role: 'C',
});

/// Sets the level and destination read from the configuration.
pub fn configure(level: Level, file: Option<String>) {
    if let Ok(mut s) = STATE.lock() {
        s.level = level;
        s.file = file.filter(|f| !f.is_empty());
    }
}

/// From now on the lines are the running server's.
pub fn running() {
    if let Ok(mut s) = STATE.lock() {
        s.role = 'M';
    }
}

/// Logs `msg` at `level` when the configured level lets it through.
pub fn log(level: Level, msg: &str) {
    let Ok(s) = STATE.lock() else {
        return;
    };
    if level < s.level {
        return;
    }
    let line = format!(
        "{}:{} {} {} {msg}\n",
        std::process::id(),
        s.role,
        timestamp(),
        level.mark()
    );
    match &s.file {
        // Opened for each line, as redis-server does, so a rotated file is picked up.
        Some(path) => {
            if let Ok(mut f) = std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(path)
            {
                let _ = f.write_all(line.as_bytes());
            }
        }
        None => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(line.as_bytes());
            let _ = out.flush();
        }
    }
}

pub fn warning(msg: &str) {
    log(Level::Warning, msg);
}

pub fn notice(msg: &str) {
    log(Level::Notice, msg);
}

pub fn verbose(msg: &str) {
    log(Level::Verbose, msg);
}

/// `02 Dec 2026 06:43:12.469` in local time.
fn timestamp() -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = libc::time_t::try_from(now.as_secs()).unwrap_or(0);
    // SAFETY: localtime_r only reads `secs` and writes the struct it is given.
    let tm = unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&secs, &mut tm).is_null() {
            return String::from("01 Jan 1970 00:00:00.000");
        }
        tm
    };
    format!(
        "{:02} {} {} {:02}:{:02}:{:02}.{:03}",
        tm.tm_mday,
        MONTHS[usize::try_from(tm.tm_mon).unwrap_or(0).min(11)],
        tm.tm_year + 1900,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        now.subsec_millis()
    )
}
