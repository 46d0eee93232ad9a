//! redis-playground: Redis 7.0 re-implemented in Rust, compiled to WebAssembly.
//!
//! The engine is pure Rust without I/O or clocks: a host passes each command's arguments and the
//! current time, and receives the reply. Two hosts ship with it: the page (through `wasm.rs`)
//! and a TCP server speaking RESP (`src/bin/redis-playground-server.rs`).
//!
//! # Layout
//! - [`cluster`]: Redis Cluster; so far the cluster bus's messages ([`cluster::bus`]).
//! - [`engine`]: clients, databases, and the one path every command takes (`call`), with a
//!   file per concern: transactions, blocking, pause, pub/sub, notifications, tracking, MONITOR.
//! - [`commands`]: the one command table and a file per Redis command group.
//! - [`db`]: one keyspace with lazy and active expiry.
//! - [`types`]: the data structures behind values.
//! - [`protocol`]: replies, RESP encoding and parsing, redis-cli's tokenizer and renderer.
//! - [`error`]: every Redis error text.
//! - [`scripting`]: Lua scripts (EVAL) and FUNCTION libraries: the script cache, the
//!   sandboxed Lua states, `bit` and `cjson`, reply conversion.
//! - [`rdb`]: snapshots in Redis's RDB format (CRC-64 checked).
//! - [`aof`]: the append-only file's manifest, reading and writing, shared by both hosts;
//!   [`memory_aof`]: the page's AOF, kept in memory for its panel.
//! - [`cluster`]: Redis Cluster's node side: hash slots, the cluster state, nodes.conf,
//!   redirections.
//! - [`config`]: CONFIG parameters.
//! - [`memory`]: a model of Redis's allocations, for MEMORY USAGE.
//! - [`util`]: Redis's number parsing and formatting rules, glob matching.

pub mod aof;
pub mod cluster;
pub mod commands;
pub mod config;
pub mod connection;
pub mod db;
pub mod engine;
pub mod error;
pub mod memory;
pub mod memory_aof;
pub mod playground;
pub mod protocol;
pub mod rdb;
pub mod rng;
pub mod scripting;
pub mod types;
pub mod util;

#[cfg(test)]
mod testkit;

#[cfg(target_arch = "wasm32")]
mod wasm;
/// The wasm face, for the wasm-bindgen tests of the JS boundary.
#[cfg(target_arch = "wasm32")]
pub use wasm::Playground as WasmPlayground;

pub use engine::{ClientId, Engine, EngineOptions};
pub use protocol::Reply;
