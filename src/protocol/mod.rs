//! The wire and the terminal: replies, RESP encoding and parsing, redis-cli's line syntax and
//! its rendering of replies.

pub mod inline;
pub mod render;
pub mod reply;
pub mod resp;

pub use reply::{Bulks, Reply};
