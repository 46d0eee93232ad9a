//! A client connection as a byte stream with no socket: what a RESP client library writes goes
//! in, what Redis would send it comes out. The page's JS API builds its in-process connection
//! for ioredis and node-redis on it (`Playground.openConnection`, `write`, `read`).
//!
//! It keeps what a socket connection keeps: the bytes of a request not yet complete, the
//! requests a blocked or paused client sent ahead (they run once it may run again, in order),
//! and the state after QUIT or a protocol error (the reply or error goes out, nothing more
//! runs, and the client is closed). Messages for the client (pub/sub, the reply of a blocking
//! command served later, tracking invalidations) follow the reply of the command that caused
//! them, or come out of the next [`ByteConnection::read`].

use crate::engine::{ClientId, Engine};
use crate::protocol::resp::parse_request_into;

/// What a connection may hold unparsed before it is closed, when the server's
/// `client-query-buffer-limit` is larger (the host's memory is the page's).
const MAX_QUERY_BUFFER: u64 = 1 << 30;

/// One client of an engine, fed bytes.
pub struct ByteConnection {
    /// The engine's client.
    pub id: ClientId,
    /// Bytes received and not yet run.
    input: Vec<u8>,
    /// Argument vectors reused from request to request.
    argv: Vec<Vec<u8>>,
    /// Ended (QUIT, a protocol error, CLIENT KILL): nothing more is read.
    closed: bool,
}

impl ByteConnection {
    /// Opens a client of `engine`.
    pub fn open(engine: &mut Engine, now_ms: i64) -> ByteConnection {
        ByteConnection {
            id: engine.open_client(now_ms),
            input: Vec::new(),
            argv: Vec::new(),
            closed: false,
        }
    }

    /// Whether the connection ended; the host then reports it closed to its user.
    pub fn is_closed(&self, engine: &Engine) -> bool {
        self.closed || engine.clients.get(&self.id).is_none_or(|c| c.closing)
    }

    /// Takes `bytes` from the client, runs every complete request it may run now and returns
    /// what goes back to it.
    pub fn write(&mut self, engine: &mut Engine, bytes: &[u8], now_ms: i64) -> Vec<u8> {
        let mut out = Vec::new();
        if self.is_closed(engine) {
            return out;
        }
        self.input.extend_from_slice(bytes);
        self.run(engine, now_ms, &mut out);
        let limit = engine
            .config
            .get_named("client-query-buffer-limit")
            .parse::<u64>()
            .map_or(MAX_QUERY_BUFFER, |n| n.min(MAX_QUERY_BUFFER));
        if self.input.len() as u64 > limit {
            // As Redis: the client is dropped, with nothing more said.
            self.close(engine);
        }
        out
    }

    /// What arrived for the client since (messages, a blocked command's reply), and the
    /// replies of requests that waited while it was blocked or paused.
    pub fn read(&mut self, engine: &mut Engine, now_ms: i64) -> Vec<u8> {
        let mut out = Vec::new();
        self.take_messages(engine, &mut out);
        if !self.is_closed(engine) {
            self.run(engine, now_ms, &mut out);
        }
        out
    }

    /// Ends the connection (the client library closed it).
    pub fn close(&mut self, engine: &mut Engine) {
        self.closed = true;
        self.input = Vec::new();
        engine.close_client(self.id);
    }

    fn must_wait(&self, engine: &Engine) -> bool {
        engine.is_blocked(self.id) || engine.clients.get(&self.id).is_some_and(|c| c.paused)
    }

    fn take_messages(&self, engine: &mut Engine, out: &mut Vec<u8>) {
        if let Some(c) = engine.client_mut(self.id) {
            let proto = c.proto;
            for msg in std::mem::take(&mut c.outbox) {
                msg.encode(proto, out);
            }
        }
    }

    fn run(&mut self, engine: &mut Engine, now_ms: i64, out: &mut Vec<u8>) {
        let max_bulk = i64::try_from(engine.config.proto_max_bulk_len).unwrap_or(i64::MAX);
        let mut pos = 0;
        while pos < self.input.len() && !self.is_closed(engine) && !self.must_wait(engine) {
            let unauthenticated = engine.auth_required(self.id);
            match parse_request_into(
                &self.input[pos..],
                max_bulk,
                unauthenticated,
                &mut self.argv,
            ) {
                Ok(Some((argc, used))) => {
                    pos += used;
                    if argc == 0 {
                        continue;
                    }
                    if let Some(reply) = engine.execute(self.id, &self.argv[..argc], now_ms) {
                        reply.encode(engine.proto(self.id), out);
                    }
                    self.take_messages(engine, out);
                }
                Ok(None) => break,
                Err(e) => {
                    out.extend_from_slice(&e.to_wire());
                    self.close(engine);
                    return;
                }
            }
        }
        self.input.drain(..pos);
        if self.is_closed(engine) {
            self.input = Vec::new();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::EngineOptions;

    fn engine() -> Engine {
        Engine::new(EngineOptions::default())
    }

    #[test]
    fn pipelined_requests_split_anywhere_answer_in_order() {
        let stream: &[u8] =
            b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\nv1\r\nGET k\r\n*2\r\n$4\r\nECHO\r\n$0\r\n\r\n";
        let want: &[u8] = b"+OK\r\n$2\r\nv1\r\n$0\r\n\r\n";
        for cut in 0..=stream.len() {
            let mut e = engine();
            let mut c = ByteConnection::open(&mut e, 0);
            let mut got = c.write(&mut e, &stream[..cut], 0);
            got.extend(c.write(&mut e, &stream[cut..], 0));
            assert_eq!(got, want, "cut at {cut}");
        }
    }

    #[test]
    fn a_blocked_client_runs_what_it_sent_after_it_is_served() {
        let mut e = engine();
        let mut a = ByteConnection::open(&mut e, 0);
        let mut b = ByteConnection::open(&mut e, 0);
        assert!(a.write(&mut e, b"BLPOP q 0\r\nPING\r\n", 0).is_empty());
        assert_eq!(b.write(&mut e, b"RPUSH q x\r\n", 0), b":1\r\n");
        assert_eq!(
            a.read(&mut e, 0),
            b"*2\r\n$1\r\nq\r\n$1\r\nx\r\n+PONG\r\n".to_vec()
        );
    }

    #[test]
    fn messages_follow_the_reply_that_caused_them() {
        let mut e = engine();
        let mut sub = ByteConnection::open(&mut e, 0);
        let mut publ = ByteConnection::open(&mut e, 0);
        assert_eq!(
            sub.write(&mut e, b"SUBSCRIBE ch\r\n", 0),
            b"*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n".to_vec()
        );
        assert_eq!(publ.write(&mut e, b"PUBLISH ch hi\r\n", 0), b":1\r\n");
        assert_eq!(
            sub.read(&mut e, 0),
            b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n".to_vec()
        );
    }

    #[test]
    fn quit_and_protocol_errors_end_the_connection() {
        let mut e = engine();
        let mut c = ByteConnection::open(&mut e, 0);
        assert_eq!(c.write(&mut e, b"QUIT\r\nPING\r\n", 0), b"+OK\r\n");
        assert!(c.is_closed(&e));
        assert!(c.write(&mut e, b"PING\r\n", 0).is_empty());
        let mut d = ByteConnection::open(&mut e, 0);
        assert_eq!(
            d.write(&mut e, b"PING\r\n*1\r\n$x\r\nPING\r\n", 0),
            b"+PONG\r\n-ERR Protocol error: invalid bulk length\r\n".to_vec()
        );
        assert!(d.is_closed(&e));
        assert!(!e.clients.contains_key(&d.id));
    }
}
