//! ACL state: the users, the ACL log, and the checks [`Engine::call`]'s callers make before a
//! command runs (Redis's acl.c). While every user may run everything (a fresh server's lone
//! `default` user), [`Acl::open`] lets commands skip the checks entirely.

use std::collections::{BTreeMap, VecDeque};

use super::{ClientId, Engine};
use crate::commands::Command;
use crate::types::acl::{self, Denied, User};

/// Entries closer together than this (ms) with the same reason, context, object and user are
/// counted in one ACL LOG entry.
const LOG_GROUPING_MS: i64 = 60_000;

/// How many of the newest log entries a new one is compared with for grouping.
const LOG_GROUPING_SCAN: usize = 10;

/// Why an ACL LOG entry was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogReason {
    /// A command was denied.
    Command,
    /// A key was denied.
    Key,
    /// A channel was denied.
    Channel,
    /// AUTH or HELLO AUTH failed.
    Auth,
}

impl LogReason {
    /// The name ACL LOG prints.
    pub fn name(self) -> &'static str {
        match self {
            LogReason::Command => "command",
            LogReason::Key => "key",
            LogReason::Channel => "channel",
            LogReason::Auth => "auth",
        }
    }
}

impl From<Denied> for LogReason {
    fn from(d: Denied) -> Self {
        match d {
            Denied::Command => LogReason::Command,
            Denied::Key => LogReason::Key,
            Denied::Channel => LogReason::Channel,
        }
    }
}

/// One ACL LOG entry.
#[derive(Clone, Debug)]
pub struct LogEntry {
    /// Events grouped in this entry.
    pub count: u64,
    /// Why.
    pub reason: LogReason,
    /// `toplevel`, `multi` or `lua`.
    pub context: &'static str,
    /// The command, key, channel or (for auth) the command name typed.
    pub object: Vec<u8>,
    /// The user the client ran as (for auth, the one it tried).
    pub username: Vec<u8>,
    /// When the entry was last updated, in ms.
    pub time_ms: i64,
    /// CLIENT INFO of the client, as it was at the last event.
    pub client_info: String,
}

/// Reading and writing the ACL file: the host's (the native server's `aclfile`).
pub trait AclFile {
    /// The file's path, as error messages name it.
    fn path(&self) -> String;
    /// The whole file.
    fn read(&self) -> Result<String, String>;
    /// Replaces the file with `text`, whole or not at all.
    fn write(&self, text: &str) -> Result<(), String>;
}

/// The ACL subsystem's state.
pub struct Acl {
    /// Users by name, in name order (ACL LIST and USERS order).
    pub users: BTreeMap<Vec<u8>, User>,
    /// The ACL log, newest first.
    pub log: VecDeque<LogEntry>,
    /// Every user may run everything: no check is needed.
    pub open: bool,
    /// The default user may run everything (Redis's `allcommands`, `allkeys`, `allchannels`):
    /// its clients' commands need no check, whatever other users may not do.
    pub default_all: bool,
    /// [`Acl::default_opens`], kept by [`Acl::refresh`]: every command of a client that has
    /// not authenticated asks.
    default_open: bool,
    /// The ACL file, when the host has one.
    pub file: Option<Box<dyn AclFile>>,
}

impl Default for Acl {
    fn default() -> Self {
        let mut users = BTreeMap::new();
        users.insert(b"default".to_vec(), User::default_user());
        Acl {
            users,
            log: VecDeque::new(),
            open: true,
            default_all: true,
            default_open: true,
            file: None,
        }
    }
}

impl Acl {
    /// The default user.
    pub fn default_user(&self) -> &User {
        self.users
            .get(&b"default"[..])
            .expect("the default user always exists")
    }

    /// Whether a new connection is authenticated at once: the default user is on and needs
    /// no password.
    pub fn default_opens(&self) -> bool {
        self.default_open
    }

    /// Whether client `c`'s commands need no check at all, as Redis's
    /// ACLCheckAllUserCommandPerm decides before looking at the command: every user may run
    /// everything, or `c` runs as the default user while that one may, or it runs as no user
    /// (the AOF's client and the primary's link, as in Redis).
    pub(crate) fn exempts(&self, c: &super::Client) -> bool {
        self.open || c.obeyed() || (self.default_all && c.user == b"default")
    }

    /// Recomputes [`Acl::open`] and [`Acl::default_opens`] after users changed.
    pub fn refresh(&mut self) {
        self.open = self.users.values().all(User::unrestricted);
        let d = self.default_user();
        let (open, all) = (d.nopass() && d.flags & acl::FLAG_OFF == 0, d.unrestricted());
        self.default_open = open;
        self.default_all = all;
    }

    /// `requirepass`: the default user's only password, or none at all (nopass).
    pub fn set_default_password(&mut self, pass: &[u8]) {
        if let Some(d) = self.users.get_mut(&b"default"[..]) {
            let _ = d.apply(b"resetpass", false);
            if pass.is_empty() {
                let _ = d.apply(b"nopass", false);
            } else {
                let mut op = b">".to_vec();
                op.extend_from_slice(pass);
                let _ = d.apply(&op, false);
            }
        }
    }

    /// Every user as ACL LIST and the ACL file show them.
    pub fn list(&self) -> Vec<String> {
        self.users
            .values()
            .map(|u| format!("user {} {}", String::from_utf8_lossy(&u.name), u.describe()))
            .collect()
    }

    /// Parses an ACL file into users, as ACL LOAD does: Ok with the new users (a default
    /// user added if the file has none), or every problem found in one line of text.
    pub fn parse_file(
        &self,
        path: &str,
        text: &str,
        all_channels: bool,
    ) -> Result<BTreeMap<Vec<u8>, User>, String> {
        let mut users: BTreeMap<Vec<u8>, User> = BTreeMap::new();
        let mut errors = String::new();
        for (i, raw) in text.split('\n').enumerate() {
            let line = raw.trim_matches([' ', '\t', '\r', '\n']);
            let n = i + 1;
            if line.is_empty() {
                continue;
            }
            let argv: Vec<&str> = line.split(' ').filter(|w| !w.is_empty()).collect();
            if argv.is_empty() {
                continue;
            }
            if argv[0] != "user" || argv.len() < 2 {
                errors.push_str(&format!(
                    "{path}:{n} should start with user keyword followed by the username. "
                ));
                continue;
            }
            let name = argv[1].as_bytes();
            if acl::has_spaces(name) {
                errors.push_str(&format!(
                    "'{path}:{n}: username '{}' contains invalid characters. ",
                    argv[1]
                ));
                continue;
            }
            if users.contains_key(name) {
                errors.push_str(&format!(
                    "WARNING: Duplicate user '{}' found on line {n}. ",
                    argv[1]
                ));
                continue;
            }
            let mut user = User::new(name, all_channels);
            let words: Vec<Vec<u8>> = argv[2..].iter().map(|w| w.as_bytes().to_vec()).collect();
            let merged = match acl::merge_selector_args(&words) {
                Ok(m) => m,
                Err(_) => {
                    errors.push_str(&format!(
                        "{path}:{n}: Unmatched parenthesis in selector definition."
                    ));
                    Vec::new()
                }
            };
            let mut syntax_error = false;
            for op in &merged {
                let op: Vec<u8> = {
                    let s = String::from_utf8_lossy(op);
                    s.trim_matches(['\t', '\r', '\n']).as_bytes().to_vec()
                };
                if let Err(e) = user.apply(&op, all_channels) {
                    let why = crate::error::acl_rule_reason(e);
                    if e == acl::RuleError::UnknownName {
                        errors.push_str(&format!(
                            "{path}:{n}: Error in applying operation '{}': {why}. ",
                            String::from_utf8_lossy(&op)
                        ));
                    } else if !syntax_error {
                        errors.push_str(&format!("{path}:{n}: {why}. "));
                        syntax_error = true;
                    }
                }
            }
            users.insert(name.to_vec(), user);
        }
        if !errors.is_empty() {
            errors.push_str(
                "WARNING: ACL errors detected, no change to the previously active ACL rules was performed",
            );
            return Err(errors);
        }
        users
            .entry(b"default".to_vec())
            .or_insert_with(User::default_user);
        Ok(users)
    }
}

impl Engine {
    /// ACL LOAD: replaces the users with the ACL file's, or leaves them as they were and
    /// returns every problem found. Clients of the replaced users (all but `default`'s)
    /// are disconnected, `current` after its reply.
    pub fn acl_load_file(&mut self, current: ClientId) -> Result<(), String> {
        let Some(file) = self.acl.file.as_ref() else {
            return Err(crate::error::ACL_NO_FILE
                .text()
                .trim_start_matches("ERR ")
                .to_string());
        };
        let path = file.path();
        let text = file
            .read()
            .map_err(|why| format!("Error loading ACLs, opening file '{}': {}", path, why))?;
        let all_channels = self.acl_all_channels();
        let users = self.acl.parse_file(&path, &text, all_channels)?;
        let old: Vec<Vec<u8>> = self
            .acl
            .users
            .keys()
            .filter(|n| n.as_slice() != b"default")
            .cloned()
            .collect();
        self.acl.users = users;
        self.acl.refresh();
        self.acl_drop_clients_of(&old, current);
        Ok(())
    }

    /// A `user <name> <rules...>` line of the server's configuration: the user is created
    /// (the default user reset first) with the rules, all valid or none.
    pub fn acl_config_user(&mut self, name: &[u8], rules: &[Vec<u8>]) -> Result<(), String> {
        if acl::has_spaces(name) {
            return Err("Usernames can't contain spaces or null characters".into());
        }
        let all_channels = self.acl_all_channels();
        let merged = acl::merge_selector_args(rules).map_err(|i| {
            format!(
                "Unmatched parenthesis in acl selector starting at '{}'.",
                String::from_utf8_lossy(&rules[i])
            )
        })?;
        let mut user = User::new(name, all_channels);
        if name == b"default" {
            user = self.acl.default_user().clone();
            let _ = user.apply(b"reset", all_channels);
        }
        for op in &merged {
            user.apply(op, all_channels).map_err(|e| {
                format!(
                    "Error in user declaration '{}': {}",
                    String::from_utf8_lossy(op),
                    crate::error::acl_rule_reason(e)
                )
            })?;
        }
        self.acl.users.insert(name.to_vec(), user);
        self.acl.refresh();
        Ok(())
    }

    /// `acl-pubsub-default`: whether new users and selectors start with every channel.
    pub(crate) fn acl_all_channels(&self) -> bool {
        self.config.get_named("acl-pubsub-default") == "allchannels"
    }

    /// Checks whether `client`'s user may run `argv` as `cmd`: Ok, or what was denied and
    /// the argument position at fault.
    pub(crate) fn acl_check(
        &self,
        client: ClientId,
        cmd: &Command,
        argv: &[Vec<u8>],
    ) -> Result<(), (Denied, usize)> {
        if self.acl.open {
            return Ok(());
        }
        let c = self.clients.get(&client);
        if c.is_some_and(|c| self.acl.exempts(c)) {
            return Ok(());
        }
        let name = c.map_or(&b"default"[..], |c| c.user.as_slice());
        let Some(user) = self.acl.users.get(name) else {
            return Ok(());
        };
        check_user(user, cmd, argv)
    }

    /// Whether one of the user's selectors lets it run the command and read any key at all
    /// (SORT's BY and GET patterns name keys nothing else checks).
    pub(crate) fn acl_reads_every_key(
        &self,
        client: ClientId,
        cmd: &Command,
        argv: &[Vec<u8>],
    ) -> bool {
        if self.acl.open {
            return true;
        }
        let name = self
            .clients
            .get(&client)
            .map_or(&b"default"[..], |c| c.user.as_slice());
        let Some(user) = self.acl.users.get(name) else {
            return true;
        };
        let keys = acl::keys_needing(cmd, argv);
        let channels = acl::channels_named(cmd, argv);
        user.selectors.iter().any(|s| {
            s.check(cmd, argv, &keys, &channels).is_ok()
                && (s.all_keys
                    || s.keys
                        .iter()
                        .any(|k| k.perm & acl::PERM_READ != 0 && k.pattern == b"*"))
        })
    }

    /// Adds an event to the ACL log, or counts it in a recent entry just like it.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn acl_log(
        &mut self,
        client: ClientId,
        reason: LogReason,
        context: &'static str,
        object: Vec<u8>,
        username: Option<Vec<u8>>,
        argv: &[Vec<u8>],
        now: i64,
    ) {
        let Some(c) = self.clients.get(&client) else {
            return;
        };
        let username = username.unwrap_or_else(|| c.user.clone());
        let blocked = self.blocked.contains_key(&client);
        let info = crate::commands::connection::client_line(c, blocked, now, Some(argv));
        let info = info.trim_end_matches('\n').to_string();
        let found = self.acl.log.iter().take(LOG_GROUPING_SCAN).position(|e| {
            e.reason == reason
                && e.context == context
                && (e.time_ms - now).abs() <= LOG_GROUPING_MS
                && e.object == object
                && e.username == username
        });
        if let Some(i) = found {
            if let Some(mut e) = self.acl.log.remove(i) {
                e.count += 1;
                e.time_ms = now;
                e.client_info = info;
                self.acl.log.push_front(e);
            }
            return;
        }
        self.acl.log.push_front(LogEntry {
            count: 1,
            reason,
            context,
            object,
            username,
            time_ms: now,
            client_info: info,
        });
        let max = usize::try_from(
            self.config
                .get_named("acllog-max-len")
                .parse::<i64>()
                .unwrap_or(128),
        )
        .unwrap_or(0);
        self.acl.log.truncate(max);
    }

    /// Logs a denial found by [`Engine::acl_check`] as Redis does: the command's full name,
    /// or the key or channel at fault.
    pub(crate) fn acl_log_denied(
        &mut self,
        client: ClientId,
        cmd: &Command,
        argv: &[Vec<u8>],
        denied: (Denied, usize),
        context: &'static str,
        now: i64,
    ) {
        let object = match denied.0 {
            Denied::Command => cmd.full_name.as_bytes().to_vec(),
            Denied::Key | Denied::Channel => argv.get(denied.1).cloned().unwrap_or_default(),
        };
        self.acl_log(client, denied.0.into(), context, object, None, argv, now);
    }

    /// Ends the connections of the clients running as `name` (a user deleted or replaced):
    /// the calling client after its reply, the others at once, as Redis does.
    pub(crate) fn acl_drop_clients_of(&mut self, names: &[Vec<u8>], current: ClientId) {
        let victims: Vec<ClientId> = self
            .clients
            .values()
            .filter(|c| names.contains(&c.user))
            .map(|c| c.id)
            .collect();
        for id in victims {
            if let Some(c) = self.clients.get_mut(&id) {
                c.user = b"default".to_vec();
                c.authenticated = false;
            }
            if id == current {
                if let Some(c) = self.clients.get_mut(&id) {
                    c.closing = true;
                }
            } else {
                self.close_client(id);
            }
        }
    }

    /// After a user's channel rules changed: its subscribed clients whose channels or
    /// patterns the new rules no longer allow are disconnected, as Redis does.
    pub(crate) fn acl_drop_pubsub_clients(&mut self, old: &User, new: &User, current: ClientId) {
        if new.selectors.iter().any(|s| s.all_channels) {
            return;
        }
        let upcoming: Vec<&Vec<u8>> = new.selectors.iter().flat_map(|s| &s.channels).collect();
        let superset = old
            .selectors
            .iter()
            .all(|s| !s.all_channels && s.channels.iter().all(|c| upcoming.contains(&c)));
        if superset {
            return;
        }
        let allowed = |ch: &[u8], pattern: bool| {
            upcoming.iter().any(|p| {
                if pattern {
                    p.as_slice() == ch
                } else {
                    crate::util::glob::glob_match(p, ch, false)
                }
            })
        };
        let victims: Vec<ClientId> = self
            .clients
            .values()
            .filter(|c| c.user == old.name)
            .filter(|c| {
                c.psubs.iter().any(|p| !allowed(p, true))
                    || c.subs.iter().chain(&c.ssubs).any(|s| !allowed(s, false))
            })
            .map(|c| c.id)
            .collect();
        for id in victims {
            if id == current {
                if let Some(c) = self.clients.get_mut(&id) {
                    c.closing = true;
                }
            } else {
                self.close_client(id);
            }
        }
    }
}

/// Checks a command line against a user's selectors.
pub fn check_user(user: &User, cmd: &Command, argv: &[Vec<u8>]) -> Result<(), (Denied, usize)> {
    if user.unrestricted() {
        return Ok(());
    }
    let keys = acl::keys_needing(cmd, argv);
    let channels = acl::channels_named(cmd, argv);
    user.check(cmd, argv, &keys, &channels)
}
