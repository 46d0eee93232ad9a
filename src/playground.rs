//! The terminal's view of the engine: lines in, redis-cli text out.
//!
//! Everything the page needs that is not browser-specific lives here, so it is tested natively:
//! splitting a typed line with redis-cli's rules, running it, rendering the reply as redis-cli
//! prints it, the prompt, argument hints, completion and `help <command>`. `wasm.rs` only
//! converts types at the boundary.

use crate::commands::{self, CommandSpec};
use crate::engine::{ClientId, Engine, EngineOptions};
use crate::memory_aof::MemoryAof;
use crate::protocol::inline::split_args;
use crate::protocol::render::{prints_raw, render_command};
use crate::protocol::Reply;

/// The outcome of one typed line.
#[derive(Clone, Debug, PartialEq)]
pub struct LineOutcome {
    /// What redis-cli would print (may be empty: a blank line prints nothing).
    pub text: String,
    /// The reply, when a command ran.
    pub reply: Option<Reply>,
}

/// An engine with the terminal's conveniences.
pub struct Playground {
    /// The engine itself.
    pub engine: Engine,
    /// The append-only file, kept in memory while `appendonly` is yes.
    pub aof: MemoryAof,
}

impl Playground {
    /// A playground over a fresh engine.
    pub fn new(opts: EngineOptions) -> Playground {
        let mut engine = Engine::new(opts);
        // The page is a sandbox for learning: DEBUG (DIGEST, OBJECT, RELOAD ...) is on.
        engine.config.set_at_startup("enable-debug-command", "yes");
        engine.persist.aof_host = true;
        Playground {
            engine,
            aof: MemoryAof::default(),
        }
    }

    /// After every command and tick: the append-only file follows `appendonly`, records what
    /// the engine propagated, and carries out BGREWRITEAOF and DEBUG LOADAOF.
    pub fn aof_step(&mut self, now: i64) {
        self.aof.step(&mut self.engine, now);
    }

    /// Runs one typed line for `client` at `now` (ms).
    pub fn execute_line(&mut self, client: ClientId, line: &str, now: i64) -> LineOutcome {
        let argv = match split_args(line.as_bytes()) {
            Ok(argv) => argv,
            // redis-cli's own message for a line it cannot split; nothing is sent.
            Err(_) => {
                return LineOutcome {
                    text: "Invalid argument(s)\n".into(),
                    reply: None,
                }
            }
        };
        if argv.is_empty() {
            return LineOutcome {
                text: String::new(),
                reply: None,
            };
        }
        let reply = self.engine.execute(client, &argv, now);
        self.aof_step(now);
        match reply {
            Some(reply) => {
                let text = self.render(client, &argv, &reply);
                LineOutcome {
                    text,
                    reply: Some(reply),
                }
            }
            None => LineOutcome {
                text: String::new(),
                reply: None,
            },
        }
    }

    /// The text redis-cli prints for `reply` to `argv`, in `client`'s protocol.
    pub fn render(&self, client: ClientId, argv: &[Vec<u8>], reply: &Reply) -> String {
        let text = render_command(argv, reply, self.engine.proto(client));
        if prints_raw(argv) {
            // Raw reports carry CRLF line ends; the page shows them as plain lines.
            return text.replace("\r\n", "\n");
        }
        text
    }

    /// The prompt redis-cli shows for this client: `127.0.0.1:6379[2]> `, with `(TX)` while a
    /// MULTI is open (`127.0.0.1:6379(TX)> `), as redis-cli 7.0 marks it.
    pub fn prompt(&self, client: ClientId) -> String {
        let c = self.engine.clients.get(&client);
        let db = c.map_or(0, |c| c.db);
        let mut p = self.address();
        if db != 0 {
            p.push_str(&format!("[{}]", db));
        }
        if c.is_some_and(|c| c.multi.is_some()) {
            p.push_str("(TX)");
        }
        p.push_str("> ");
        p
    }

    /// The server's address as redis-cli names it in its prompt: `127.0.0.1:6379`, with the
    /// port of [`EngineOptions::port`] (several servers in one page differ by it).
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.engine.port)
    }

    /// The grey hint redis-cli shows after what is typed so far: the syntax of the arguments
    /// not yet given, or None when there is nothing to hint.
    pub fn hints(&self, line: &str) -> Option<String> {
        let argv = split_args(line.as_bytes()).ok()?;
        let name = argv.first()?;
        let mut spec = commands::lookup(name)?;
        let mut typed = argv.len() - 1;
        if !spec.subcommands.is_empty() {
            match argv.get(1).and_then(|s| spec.subcommand(s)) {
                Some(sub) => {
                    spec = sub;
                    typed -= 1;
                }
                None if typed == 0 => {
                    let subs: Vec<String> = spec
                        .subcommands
                        .iter()
                        .map(|s| s.name.to_ascii_uppercase())
                        .collect();
                    return Some(subs.join("|"));
                }
                None => return None,
            }
        }
        // A trailing space means the last word is complete and the next one is hinted.
        if !line.ends_with(' ') && typed > 0 {
            return None;
        }
        let words = syntax_words(&cli_syntax(spec));
        if typed >= words.len() {
            // Past the fixed part: keep hinting a repeated tail such as `[key ...]`.
            return words.last().filter(|w| w.contains("...")).cloned();
        }
        Some(words[typed..].join(" "))
    }

    /// Command names starting with `prefix` (case-insensitive), upper case, sorted.
    pub fn complete(&self, prefix: &str) -> Vec<String> {
        let p = prefix.to_ascii_lowercase();
        commands::all()
            .into_iter()
            .filter(|c| c.name.starts_with(&p))
            .map(|c| c.name.to_ascii_uppercase())
            .collect()
    }

    /// redis-cli's `help <command>` text, or None for an unknown command; `help @<group>`
    /// lists the group's commands the same way, without their group lines (empty for an
    /// unknown group).
    pub fn help(&self, name: &str) -> Option<String> {
        if let Some(group) = name.trim().strip_prefix('@') {
            let group = group.to_ascii_lowercase();
            let mut text = String::new();
            for spec in commands::all() {
                if spec.group.name() != group {
                    continue;
                }
                let entry = self.help(spec.name)?;
                let group_line = format!("  group: {}\n", spec.group.name());
                text.push_str(entry.replace(&group_line, "").trim_end_matches('\n'));
            }
            text.push('\n');
            return Some(text);
        }
        let mut words = name.split_whitespace();
        let spec = commands::lookup(words.next()?.as_bytes())?;
        let spec: &CommandSpec = match words.next() {
            Some(sub) => spec.subcommand(sub.as_bytes())?,
            None => spec,
        };
        let full = match commands::parent_of(spec) {
            Some(parent) => format!("{} {}", parent.name, spec.name).to_ascii_uppercase(),
            None => spec.name.to_ascii_uppercase(),
        };
        Some(format!(
            "\n  {} {}\n  summary: {}\n  since: {}\n  group: {}\n\n",
            full,
            cli_syntax(spec),
            spec.summary,
            spec.since,
            spec.group.name()
        ))
    }
}

/// One command of the table as the page shows it (help, hints, a command list).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandMeta {
    /// Upper-case name (`CONFIG GET` for a subcommand).
    pub name: String,
    /// Redis's group (`sorted-set`).
    pub group: &'static str,
    /// First version.
    pub since: &'static str,
    /// Arguments, as redis-cli hints them.
    pub syntax: String,
    /// What it does.
    pub summary: &'static str,
}

/// Every command and subcommand of the table, sorted by name, for the page.
pub fn command_metadata() -> Vec<CommandMeta> {
    let mut out: Vec<CommandMeta> = commands::commands()
        .iter()
        .filter(|c| c.spec.subcommands.is_empty() || c.parent.is_some())
        .map(|c| CommandMeta {
            name: c.full_name.replace('|', " ").to_ascii_uppercase(),
            group: c.spec.group.name(),
            since: c.spec.since,
            syntax: cli_syntax(c.spec),
            summary: c.spec.summary,
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// A command's arguments as redis-cli 7.0 prints them in hints and help
/// (`key value [NX|XX] [GET]`), rendered from the table's argument tree.
fn cli_syntax(spec: &CommandSpec) -> String {
    commands::arg_spec::join(spec.args, " ")
}

/// Splits a syntax line into top-level words, keeping bracketed groups whole
/// (`key [EX seconds|PX ms]` gives `key`, `[EX seconds|PX ms]`).
fn syntax_words(syntax: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0i32;
    for ch in syntax.chars() {
        match ch {
            '[' | '(' => depth += 1,
            ']' | ')' => depth -= 1,
            _ => {}
        }
        if ch == ' ' && depth <= 0 {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
        } else {
            cur.push(ch);
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The loop `make bench` times both natively (`cargo bench --bench commands`) and inside wasm
/// (`pg.benchLoop`), so the two figures compare the same work: `n` times a SET then a GET of
/// one of 1,000 keys, through [`Engine::execute`], by a client of its own.
pub fn set_get_loop(engine: &mut crate::engine::Engine, n: u32) {
    let id = engine.open_client(0);
    let keys: Vec<Vec<u8>> = (0..1000)
        .map(|i| format!("bench:{i}").into_bytes())
        .collect();
    let mut set = vec![b"SET".to_vec(), Vec::new(), b"value".to_vec()];
    let mut get = vec![b"GET".to_vec(), Vec::new()];
    for i in 0..n as usize {
        let key = &keys[i % keys.len()];
        set[1].clone_from(key);
        std::hint::black_box(engine.execute(id, &set, 0));
        engine.next_command_follows();
        get[1].clone_from(key);
        std::hint::black_box(engine.execute(id, &get, 0));
        engine.next_command_follows();
    }
    engine.close_client(id);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg() -> (Playground, ClientId) {
        let mut p = Playground::new(EngineOptions::default());
        let c = p.engine.open_client(0);
        (p, c)
    }

    #[test]
    fn lines_run_and_render() {
        let (mut p, c) = pg();
        assert_eq!(p.execute_line(c, "PING", 0).text, "PONG\n");
        assert_eq!(p.execute_line(c, "echo \"a b\"", 0).text, "\"a b\"\n");
        assert_eq!(p.execute_line(c, "   ", 0).text, "");
        assert_eq!(
            p.execute_line(c, "echo \"x", 0).text,
            "Invalid argument(s)\n"
        );
        assert_eq!(p.prompt(c), "127.0.0.1:6379> ");
        p.execute_line(c, "select 3", 0);
        assert_eq!(p.prompt(c), "127.0.0.1:6379[3]> ");
        p.execute_line(c, "multi", 0);
        assert_eq!(p.prompt(c), "127.0.0.1:6379[3](TX)> ");
        p.execute_line(c, "discard", 0);
        assert_eq!(p.prompt(c), "127.0.0.1:6379[3]> ");
    }

    #[test]
    fn the_port_names_the_server() {
        let mut p = Playground::new(EngineOptions {
            port: 6381,
            ..EngineOptions::default()
        });
        let c = p.engine.open_client(0);
        assert_eq!(p.address(), "127.0.0.1:6381");
        assert_eq!(p.prompt(c), "127.0.0.1:6381> ");
        assert_eq!(
            p.execute_line(c, "config get port", 0).text,
            "1) \"port\"\n2) \"6381\"\n"
        );
        assert!(p
            .execute_line(c, "info server", 0)
            .text
            .contains("tcp_port:6381\n"));
        assert!(p
            .execute_line(c, "client info", 0)
            .text
            .contains(" laddr=127.0.0.1:6381 "));
    }

    #[test]
    fn reports_print_raw_as_redis_cli_does() {
        let (mut p, c) = pg();
        let info = p.execute_line(c, "info keyspace", 0).text;
        assert_eq!(info, "# Keyspace\n");
        let list = p.execute_line(c, "client list", 0).text;
        assert!(
            list.starts_with("id=") && list.ends_with(" resp=2\n"),
            "{list}"
        );
        assert_eq!(
            p.execute_line(c, "client list foo", 0).text,
            "ERR syntax error\n"
        );
        assert_eq!(p.execute_line(c, "info nosuchsection", 0).text, "");
        // Other commands keep the usual quoting.
        assert_eq!(p.execute_line(c, "echo info", 0).text, "\"info\"\n");
    }

    #[test]
    fn hints_follow_typed_arguments() {
        let (p, _) = pg();
        assert_eq!(p.hints("select "), Some("index".into()));
        assert_eq!(p.hints("select 1 "), None);
        assert_eq!(p.hints("nosuch "), None);
        assert_eq!(
            syntax_words("key [EX s|PX ms] [GET]"),
            ["key", "[EX s|PX ms]", "[GET]"]
        );
        assert_eq!(
            p.hints("set k "),
            Some("value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]".into())
        );
        assert!(p
            .help("set")
            .is_some_and(|h| h.starts_with("\n  SET key value [NX|XX] [GET] [EX seconds|PX")));
    }

    #[test]
    fn completion_and_help() {
        let (p, _) = pg();
        assert!(p.complete("pi").contains(&"PING".to_string()));
        let h = p.help("ping").unwrap();
        assert!(h.contains("PING [message]") && h.contains("group: connection"));
        assert!(p.help("nosuch").is_none());
    }

    #[test]
    fn help_for_a_group_lists_its_commands() {
        let (p, _) = pg();
        let h = p.help("@hyperloglog").unwrap();
        assert!(
            h.starts_with("\n  PFADD key [element [element ...]]\n  summary: "),
            "{}",
            h
        );
        assert!(h.contains("\n  PFCOUNT ") && !h.contains("group:"));
        assert!(h.ends_with("\n") && !h.ends_with("\n\n\n"));
        assert_eq!(p.help("@nosuch").unwrap(), "\n");
        assert_eq!(p.help("@SORTED-SET"), p.help("@sorted-set"));
    }

    #[test]
    fn metadata_covers_every_command() {
        let meta = command_metadata();
        assert!(meta
            .iter()
            .any(|m| m.name == "CONFIG GET" && m.group == "server"));
        assert!(!meta.iter().any(|m| m.name == "CONFIG"));
        assert!(meta.windows(2).all(|w| w[0].name < w[1].name));
    }
}
