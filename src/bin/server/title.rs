//! The process title (what `ps` and /proc/PID/cmdline show), set from
//! `proc-title-template` as redis-server sets its own: the bytes of the program's arguments
//! and environment, contiguous in memory, are overwritten with the title once the environment
//! has been copied elsewhere.

use std::sync::Mutex;

/// Where the title may be written: from the first argument's first byte to the end of the
/// environment strings; `last` is the byte that ended the original arguments (kept non-zero so
/// the kernel reads the title up to its own end, as setproctitle implementations do).
struct Area {
    start: usize,
    end: usize,
    last: usize,
}

static AREA: Mutex<Option<Area>> = Mutex::new(None);

/// The program as it was started (`{title}`) and its absolute path (INFO `executable`), kept
/// before the arguments' bytes are overwritten.
static PROGRAM: std::sync::OnceLock<(String, String)> = std::sync::OnceLock::new();

/// The config file's absolute path (`{config-file}`).
static CONFIG_FILE: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Remembers the program's name and absolute path. Call first thing, before the config is
/// read: redis-server makes the path absolute against the directory it started in, before
/// `dir` moves it.
pub fn remember_program() {
    let program = std::env::args().next().unwrap_or_default();
    let absolute = if program.is_empty() || program.starts_with('/') {
        program.clone()
    } else {
        std::env::current_dir()
            .map(|d| d.join(&program).to_string_lossy().into_owned())
            .unwrap_or_else(|_| program.clone())
    };
    let _ = PROGRAM.set((program, absolute));
}

/// Remembers the config file's path (`{config-file}`).
pub fn remember_config_file(path: String) {
    let _ = CONFIG_FILE.set(path);
}

/// The program's absolute path, as redis-server reports it (INFO `executable`).
pub fn executable() -> String {
    PROGRAM.get().map(|(_, a)| a.clone()).unwrap_or_default()
}

/// Sets the title `config`'s proc-title-template describes with its values (nothing when it
/// does not expand: CONFIG SET and the config file refuse such a template).
pub fn apply(config: &redis_playground::config::Config) {
    let template = config.get_named("proc-title-template");
    let program = PROGRAM.get().map_or("", |(p, _)| p.as_str());
    let file = CONFIG_FILE.get().map(String::as_str);
    if let Some(title) = config.proc_title(template, program, file) {
        set(&title);
    }
}

/// Reads where the arguments and the environment lie (/proc/self/stat, fields 48 to 51) and
/// moves the environment to memory of its own, so both areas can hold the title. Call once,
/// at start, while this process has a single thread and after anything that reads
/// `std::env::args` (its strings are overwritten). Without /proc (or with a layout it does
/// not expect) the title stays as it is.
pub fn init() {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return;
    };
    // The command name in parentheses may hold spaces: the fields follow the last ')'.
    let Some((_, fields)) = stat.rsplit_once(')') else {
        return;
    };
    // After ')' come fields 3 (state) onwards; 48..51 are arg_start, arg_end, env_start,
    // env_end.
    let nums: Vec<usize> = fields
        .split_whitespace()
        .skip(45)
        .take(4)
        .filter_map(|f| f.parse().ok())
        .collect();
    let [arg_start, arg_end, env_start, env_end] = nums[..] else {
        return;
    };
    if arg_start == 0 || arg_end <= arg_start {
        return;
    }
    let end = if env_start == arg_end && env_end > env_start {
        // The environment follows the arguments: copy it out (clearenv, then setenv of each
        // variable makes the C library allocate every string anew), then its bytes are free.
        let vars: Vec<(std::ffi::CString, std::ffi::CString)> = std::env::vars_os()
            .filter_map(|(k, v)| {
                use std::os::unix::ffi::OsStrExt;
                Some((
                    std::ffi::CString::new(k.as_bytes()).ok()?,
                    std::ffi::CString::new(v.as_bytes()).ok()?,
                ))
            })
            .collect();
        // SAFETY: the process has one thread here (see above), so nothing reads the
        // environment while it is rebuilt; the strings passed are NUL-terminated CStrings
        // that outlive each call, and setenv copies them.
        unsafe {
            libc::clearenv();
            for (k, v) in &vars {
                libc::setenv(k.as_ptr(), v.as_ptr(), 1);
            }
        }
        env_end
    } else {
        arg_end
    };
    if let Ok(mut area) = AREA.lock() {
        *area = Some(Area {
            start: arg_start,
            end,
            last: arg_end - 1,
        });
    }
}

/// Shows `title` as the process's command line (cut to the room there is).
pub fn set(title: &str) {
    let Ok(area) = AREA.lock() else {
        return;
    };
    let Some(a) = area.as_ref() else {
        return;
    };
    let room = a.end - a.start;
    let bytes = title.as_bytes();
    let n = bytes.len().min(room.saturating_sub(1));
    // SAFETY: [start, end) are the bytes the kernel reports as this process's arguments and
    // environment strings: memory of this process, writable (the initial stack), and no longer
    // read by anything (the environment was moved by `init`, and the arguments were parsed
    // before it). Only bytes inside that range are written.
    unsafe {
        let base = a.start as *mut u8;
        std::ptr::write_bytes(base, 0, room);
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), base, n);
        if n < a.last - a.start {
            // The byte that ended the arguments is no longer a NUL: the kernel then shows
            // the title up to its first NUL rather than every NUL-separated word it held.
            *(a.last as *mut u8) = b'.';
        }
    }
}
