//! Helpers shared by the unit tests of the command groups: an engine with one client, and
//! commands written as space-separated words.

use crate::engine::{ClientId, Engine, EngineOptions};
use crate::protocol::Reply;

/// The time unit tests run at, in ms since the Unix epoch.
pub const NOW: i64 = 1_700_000_000_000;

/// A fresh engine with one client connected at [`NOW`].
pub fn engine() -> (Engine, ClientId) {
    let mut eng = Engine::new(EngineOptions::default());
    let c = eng.open_client(NOW);
    (eng, c)
}

/// Runs `args` for client `c` at time `now`; the command must answer.
pub fn run_args_at(eng: &mut Engine, c: ClientId, now: i64, args: &[&[u8]]) -> Reply {
    let argv: Vec<Vec<u8>> = args.iter().map(|a| a.to_vec()).collect();
    eng.execute(c, &argv, now).expect("a reply")
}

/// Runs `args` at [`NOW`].
pub fn run_args(eng: &mut Engine, c: ClientId, args: &[&[u8]]) -> Reply {
    run_args_at(eng, c, NOW, args)
}

/// Runs a line of space-separated words at time `now`.
pub fn run_at(eng: &mut Engine, c: ClientId, now: i64, line: &str) -> Reply {
    let args: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
    run_args_at(eng, c, now, &args)
}

/// Runs a line of space-separated words at [`NOW`].
pub fn run(eng: &mut Engine, c: ClientId, line: &str) -> Reply {
    run_at(eng, c, NOW, line)
}

/// `OBJECT ENCODING` of a key in database 0, or "none" when it is missing.
pub fn encoding(eng: &Engine, key: &str) -> &'static str {
    eng.dbs[0]
        .peek(key.as_bytes())
        .map_or("none", |e| e.value.encoding_name())
}
