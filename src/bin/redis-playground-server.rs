//! `redis-playground-server`: the engine behind a TCP port, speaking RESP like redis-server.
//!
//! ```text
//! redis-playground-server [/path/to/redis.conf | -] [--port 6379] [--bind 127.0.0.1 ...]
//! ```
//!
//! Options are spelled as redis-server spells them (`--name value...`, or `name value` lines in a
//! config file), so scripts written for one start the other. Snapshots work as redis-server's:
//! `--dir` and `--dbfilename` name the RDB file, loaded at start (a file that does not load
//! stops the start, never an empty start over it), written by SAVE, BGSAVE, the `--save`
//! rules and SHUTDOWN, atomically (a temporary file in the same directory, fsync, rename).
//! Process options (`--appendonly no`, `--loglevel`, ...) are accepted and have no effect;
//! any other option is tried as `CONFIG SET name value` on the engine, and reported on stderr
//! when the engine does not know it.
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
