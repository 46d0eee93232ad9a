//! `redis-playground-server`: the engine behind a TCP port, speaking RESP like redis-server.
//!
//! ```text
//! redis-playground-server [/path/to/redis.conf | -] [--port 6379] [--bind 127.0.0.1 ...]
//! ```
//!
//! The configuration is read as redis-server reads it: a redis.conf (with `include`, quoting,
//! multi-word values), standard input, then `--name value...` options as more lines of it; a
//! line redis-server would refuse stops the start with its FATAL CONFIG FILE ERROR block, and
//! CONFIG GET shows what redis-server would. CONFIG REWRITE writes the file back. The log is
//! redis-server's (`loglevel`, `logfile`, standard output by default). Snapshots work as
//! redis-server's: `dir` and `dbfilename` name the RDB file, loaded at start (a file that does
//! not load stops the start, never an empty start over it), written by SAVE, BGSAVE, the
//! `save` rules and SHUTDOWN, atomically (a temporary file in the same directory, fsync,
//! rename).
//!
//! One thread serves every connection: an event loop that owns the engine, as redis-server's
//! does (see `server/event_loop.rs`).

#[cfg(not(target_arch = "wasm32"))]
#[path = "server/native.rs"]
mod native;

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    native::main()
}

/// A browser build has no sockets to serve: the binary exists only natively.
#[cfg(target_arch = "wasm32")]
fn main() {}
