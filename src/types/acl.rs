//! ACL users and their rules, as Redis 7.0 keeps them: a user has flags, password hashes and
//! selectors (the root one, then any added with `(...)`); a selector says which commands,
//! keys and channels it allows. Rules are applied one at a time as ACL SETUSER and the ACL
//! file spell them, and a user is described back in the canonical rule text ACL LIST prints.
//! Nothing here knows about replies or clients; the command table gives command ids and
//! categories.

use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use crate::commands::{self, Acl, Command};
use crate::util::glob::glob_match;

/// A key pattern may be read through.
pub const PERM_READ: u8 = 1;
/// A key pattern may be written through.
pub const PERM_WRITE: u8 = 2;
/// Both.
pub const PERM_ALL: u8 = PERM_READ | PERM_WRITE;

/// User flag `on`.
pub const FLAG_ON: u8 = 1;
/// User flag `off`.
pub const FLAG_OFF: u8 = 2;
/// User flag `nopass`.
pub const FLAG_NOPASS: u8 = 4;
/// User flag `skip-sanitize-payload`.
pub const FLAG_SKIP_SANITIZE: u8 = 8;
/// User flag `sanitize-payload`.
pub const FLAG_SANITIZE: u8 = 16;

/// The user flags in the order ACL LIST and GETUSER print them.
pub const FLAG_NAMES: &[(u8, &str)] = &[
    (FLAG_ON, "on"),
    (FLAG_OFF, "off"),
    (FLAG_NOPASS, "nopass"),
    (FLAG_SKIP_SANITIZE, "skip-sanitize-payload"),
    (FLAG_SANITIZE, "sanitize-payload"),
];

/// Why a rule was refused (each has Redis's text in `error.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleError {
    /// A command or category name that does not exist.
    UnknownName,
    /// Not a rule, or a pattern with spaces.
    Syntax,
    /// A key pattern after `~*` / `allkeys`.
    KeyAfterAll,
    /// A channel pattern after `&*` / `allchannels`.
    ChannelAfterAll,
    /// `<pass` / `!hash` of a password the user does not have.
    NoSuchPassword,
    /// `#hash` / `!hash` that is not 64 lowercase hex digits.
    BadHash,
    /// `+cmd|sub|arg`: first arguments of subcommands cannot be allowed.
    FirstArgOfSub,
}

/// What a command check found (Redis's ACL_DENIED_*), in Redis's order of relevance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Denied {
    /// The command (or subcommand) is not allowed.
    Command,
    /// A key is not allowed.
    Key,
    /// A channel is not allowed.
    Channel,
}

/// A key pattern and what it allows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPattern {
    /// Glob-style pattern.
    pub pattern: Vec<u8>,
    /// [`PERM_READ`], [`PERM_WRITE`] or both.
    pub perm: u8,
}

/// One selector: allowed commands, key patterns and channel patterns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selector {
    /// The user's own permissions (not a `(...)` selector).
    pub root: bool,
    /// `allkeys` / `~*`.
    pub all_keys: bool,
    /// `allchannels` / `&*`.
    pub all_channels: bool,
    /// Every command allowed and none removed since (`+@all` with nothing taken away).
    pub all_commands: bool,
    /// Set by `+@all`, cleared only by `-@all`: the rules start from every command.
    future: bool,
    /// One bit per command id.
    allowed: Vec<u64>,
    /// First arguments allowed for commands otherwise denied (`+select|0`), by command id.
    firstargs: Vec<(usize, Vec<Vec<u8>>)>,
    /// Key patterns in the order given.
    pub keys: Vec<KeyPattern>,
    /// Channel patterns in the order given.
    pub channels: Vec<Vec<u8>>,
}

/// Category bits of every command id, built once from the table.
fn category_bits() -> &'static [u32] {
    static BITS: OnceLock<Vec<u32>> = OnceLock::new();
    BITS.get_or_init(|| {
        commands::commands()
            .iter()
            .map(|c| {
                c.spec
                    .acl_categories()
                    .fold(0u32, |b, a| b | Acl::set_of(&[a]))
            })
            .collect()
    })
}

/// The category named `name` (any case), as a bit.
fn category_named(name: &[u8]) -> Option<u32> {
    Acl::ALL
        .iter()
        .find(|a| a.name().as_bytes().eq_ignore_ascii_case(name))
        .map(|a| Acl::set_of(&[*a]))
}

/// Whether `cmd` is in category `cat`.
pub fn in_category(cmd: &Command, cat: Acl) -> bool {
    category_bits()[cmd.id] & Acl::set_of(&[cat]) != 0
}

/// The command a rule names: `get`, or `config|get` (a subcommand of a container).
fn lookup(name: &[u8]) -> Option<&'static Command> {
    let mut parts = name.split(|&b| b == b'|');
    let base = commands::find(parts.next()?)?;
    match (parts.next(), parts.next()) {
        (None, _) => Some(base),
        (Some(sub), None) if !base.spec.subcommands.is_empty() => base.sub(sub),
        _ => None,
    }
}

/// Redis's test for a space in a name or pattern: whitespace or NUL.
pub fn has_spaces(s: &[u8]) -> bool {
    s.iter()
        .any(|&c| c == 0 || c == b' ' || (b'\t'..=b'\r').contains(&c))
}

/// SHA-256 of a password, as 64 lowercase hex digits.
pub fn hash_password(pass: &[u8]) -> String {
    let digest = Sha256::digest(pass);
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{:02x}", b));
    }
    out
}

fn valid_hash(h: &[u8]) -> bool {
    h.len() == 64 && h.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
}

impl Selector {
    /// An empty selector: no commands, no keys, channels as `acl-pubsub-default` says.
    pub fn new(root: bool, all_channels: bool) -> Selector {
        Selector {
            root,
            all_keys: false,
            all_channels,
            all_commands: false,
            future: false,
            allowed: vec![0; commands::commands().len().div_ceil(64)],
            firstargs: Vec::new(),
            keys: Vec::new(),
            channels: Vec::new(),
        }
    }

    fn bit(&self, id: usize) -> bool {
        self.allowed
            .get(id / 64)
            .is_some_and(|w| w & (1 << (id % 64)) != 0)
    }

    fn set_bit(&mut self, id: usize, on: bool) {
        if let Some(w) = self.allowed.get_mut(id / 64) {
            if on {
                *w |= 1 << (id % 64);
            } else {
                *w &= !(1 << (id % 64));
                self.all_commands = false;
            }
        }
    }

    /// Allows or denies a command, and with a container all its subcommands.
    fn change(&mut self, cmd: &Command, allow: bool) {
        self.set_bit(cmd.id, allow);
        self.firstargs.retain(|(id, _)| *id != cmd.id);
        for sub in cmd.subs() {
            self.set_bit(sub.id, allow);
        }
    }

    fn change_category(&mut self, cat: u32, allow: bool) {
        let bits = category_bits();
        for cmd in commands::commands() {
            if bits[cmd.id] & cat != 0 {
                self.change(cmd, allow);
            }
        }
    }

    fn set_all(&mut self, allow: bool) {
        let fill = if allow { u64::MAX } else { 0 };
        self.allowed.iter_mut().for_each(|w| *w = fill);
        self.all_commands = allow;
        self.future = allow;
        self.firstargs.clear();
    }

    /// Applies one selector rule (anything but user flags and passwords).
    pub fn apply(&mut self, op: &[u8]) -> Result<(), RuleError> {
        if op.is_empty() {
            return Err(RuleError::Syntax);
        }
        let is = |w: &str| op.eq_ignore_ascii_case(w.as_bytes());
        if is("allkeys") || is("~*") {
            self.all_keys = true;
            self.keys.clear();
        } else if is("resetkeys") {
            self.all_keys = false;
            self.keys.clear();
        } else if is("allchannels") || is("&*") {
            self.all_channels = true;
            self.channels.clear();
        } else if is("resetchannels") {
            self.all_channels = false;
            self.channels.clear();
        } else if is("allcommands") || is("+@all") {
            self.set_all(true);
        } else if is("nocommands") || is("-@all") {
            self.set_all(false);
        } else if op[0] == b'~' || op[0] == b'%' {
            self.add_key_pattern(op)?;
        } else if op[0] == b'&' {
            if self.all_channels {
                return Err(RuleError::ChannelAfterAll);
            }
            let pat = &op[1..];
            if has_spaces(pat) {
                return Err(RuleError::Syntax);
            }
            if !self.channels.iter().any(|c| c == pat) {
                self.channels.push(pat.to_vec());
            }
            self.all_channels = false;
        } else if op.len() > 1 && (op[0] == b'+' || op[0] == b'-') && op[1] == b'@' {
            let cat = category_named(&op[2..]).ok_or(RuleError::UnknownName)?;
            self.change_category(cat, op[0] == b'+');
        } else if op[0] == b'+' {
            self.allow_command(&op[1..])?;
        } else if op[0] == b'-' {
            let cmd = lookup(&op[1..]).ok_or(RuleError::UnknownName)?;
            self.change(cmd, false);
        } else {
            return Err(RuleError::Syntax);
        }
        Ok(())
    }

    fn add_key_pattern(&mut self, op: &[u8]) -> Result<(), RuleError> {
        if self.all_keys {
            return Err(RuleError::KeyAfterAll);
        }
        let mut perm = 0;
        let mut offset = 1;
        if op[0] == b'%' {
            while offset < op.len() {
                let c = op[offset].to_ascii_uppercase();
                if c == b'R' && perm & PERM_READ == 0 {
                    perm |= PERM_READ;
                } else if c == b'W' && perm & PERM_WRITE == 0 {
                    perm |= PERM_WRITE;
                } else if c == b'~' {
                    offset += 1;
                    break;
                } else {
                    return Err(RuleError::Syntax);
                }
                offset += 1;
            }
            if perm == 0 {
                // Redis would store a pattern that allows nothing and cannot describe it.
                return Err(RuleError::Syntax);
            }
        } else {
            perm = PERM_ALL;
        }
        let pat = op.get(offset..).unwrap_or_default();
        if has_spaces(pat) {
            return Err(RuleError::Syntax);
        }
        match self.keys.iter_mut().find(|k| k.pattern == pat) {
            Some(k) => k.perm |= perm,
            None => self.keys.push(KeyPattern {
                pattern: pat.to_vec(),
                perm,
            }),
        }
        self.all_keys = false;
        Ok(())
    }

    fn allow_command(&mut self, name: &[u8]) -> Result<(), RuleError> {
        let Some(bar) = name.iter().rposition(|&b| b == b'|') else {
            let cmd = lookup(name).ok_or(RuleError::UnknownName)?;
            self.change(cmd, true);
            return Ok(());
        };
        let (base, sub) = (&name[..bar], &name[bar + 1..]);
        let cmd = lookup(base).ok_or(RuleError::UnknownName)?;
        if cmd.parent.is_some() {
            return Err(RuleError::FirstArgOfSub);
        }
        if sub.is_empty() {
            return Err(RuleError::Syntax);
        }
        if !cmd.spec.subcommands.is_empty() {
            let subcmd = lookup(name).ok_or(RuleError::UnknownName)?;
            self.change(subcmd, true);
            return Ok(());
        }
        match self.firstargs.iter_mut().find(|(id, _)| *id == cmd.id) {
            Some((_, list)) => {
                if !list.iter().any(|a| a.eq_ignore_ascii_case(sub)) {
                    list.push(sub.to_vec());
                }
            }
            None => self.firstargs.push((cmd.id, vec![sub.to_vec()])),
        }
        Ok(())
    }

    /// Whether the selector allows running `cmd` as `argv` names it (its first argument when
    /// only some are allowed).
    fn allows_command(&self, cmd: &Command, argv: &[Vec<u8>]) -> bool {
        if self.all_commands || cmd.spec.has(commands::NO_AUTH) || self.bit(cmd.id) {
            return true;
        }
        let idx = if cmd.parent.is_some() { 2 } else { 1 };
        let Some(arg) = argv.get(idx) else {
            return false;
        };
        self.firstargs
            .iter()
            .find(|(id, _)| *id == cmd.id)
            .is_some_and(|(_, list)| list.iter().any(|a| a.eq_ignore_ascii_case(arg)))
    }

    /// Whether a key may be used with the access its key spec flags ask for.
    pub fn allows_key(&self, key: &[u8], need: u8) -> bool {
        self.all_keys
            || self
                .keys
                .iter()
                .any(|p| p.perm & need == need && glob_match(&p.pattern, key, false))
    }

    /// Whether a channel (or, `pattern`, a PSUBSCRIBE pattern taken literally) is allowed.
    pub fn allows_channel(&self, channel: &[u8], pattern: bool) -> bool {
        self.all_channels
            || self.channels.iter().any(|p| {
                if pattern {
                    p == channel
                } else {
                    glob_match(p, channel, false)
                }
            })
    }

    /// Checks a command line against this selector: the command, then each key, then each
    /// channel. Err carries what was denied and the argument position at fault.
    pub fn check(
        &self,
        cmd: &Command,
        argv: &[Vec<u8>],
        keys: &[(usize, u8)],
        channels: &[(usize, bool)],
    ) -> Result<(), (Denied, usize)> {
        if !self.allows_command(cmd, argv) {
            return Err((Denied::Command, 0));
        }
        if !self.all_keys {
            for &(pos, need) in keys {
                if !self.allows_key(&argv[pos], need) {
                    return Err((Denied::Key, pos));
                }
            }
        }
        if !self.all_channels {
            for &(pos, pattern) in channels {
                if !self.allows_channel(&argv[pos], pattern) {
                    return Err((Denied::Channel, pos));
                }
            }
        }
        Ok(())
    }

    /// Commands allowed and denied among those in category bit `cat`.
    fn count_category(&self, cat: u32) -> (usize, usize) {
        let bits = category_bits();
        let (mut on, mut off) = (0, 0);
        for cmd in commands::commands() {
            if bits[cmd.id] & cat != 0 {
                if self.bit(cmd.id) {
                    on += 1;
                } else {
                    off += 1;
                }
            }
        }
        (on, off)
    }

    /// The command rules in Redis's canonical form: `+@all` or `-@all`, then the categories
    /// that best fit the allowed set, then single commands and first arguments.
    pub fn describe_commands(&self) -> String {
        let additive = !self.future;
        let mut rules = String::from(if additive { "-@all " } else { "+@all " });
        let mut fake = Selector::new(false, false);
        fake.set_all(!additive);
        let mut temp = self.clone();
        let mut applied = [false; Acl::ALL.len()];
        loop {
            let mut best = None;
            let (mut mindiff, mut maxsame) = (usize::MAX, 0);
            for (j, cat) in Acl::ALL.iter().enumerate() {
                if applied[j] {
                    continue;
                }
                let (on, off) = temp.count_category(Acl::set_of(&[*cat]));
                let (diff, same) = if additive { (off, on) } else { (on, off) };
                if same > diff && (diff < mindiff || (diff == mindiff && same > maxsame)) {
                    best = Some(j);
                    mindiff = diff;
                    maxsame = same;
                }
            }
            let Some(j) = best else { break };
            let bit = Acl::set_of(&[Acl::ALL[j]]);
            fake.change_category(bit, additive);
            temp.change_category(bit, !additive);
            rules.push_str(if additive { "+@" } else { "-@" });
            rules.push_str(Acl::ALL[j].name());
            rules.push(' ');
            applied[j] = true;
        }
        for cmd in commands::commands().iter().filter(|c| c.parent.is_none()) {
            self.describe_single(cmd, &mut fake, &mut rules);
            for sub in cmd.subs() {
                self.describe_single(sub, &mut fake, &mut rules);
            }
            if let Some((_, list)) = self.firstargs.iter().find(|(id, _)| *id == cmd.id) {
                if !self.bit(cmd.id) {
                    for a in list {
                        rules.push('+');
                        rules.push_str(cmd.full_name);
                        rules.push('|');
                        rules.push_str(&String::from_utf8_lossy(a));
                        rules.push(' ');
                    }
                }
            }
        }
        rules.pop();
        rules
    }

    fn describe_single(&self, cmd: &Command, fake: &mut Selector, rules: &mut String) {
        let mine = self.bit(cmd.id);
        if mine != fake.bit(cmd.id) {
            rules.push(if mine { '+' } else { '-' });
            rules.push_str(cmd.full_name);
            rules.push(' ');
            fake.change(cmd, mine);
        }
    }

    /// The key patterns as GETUSER's `keys` field shows them.
    pub fn describe_keys(&self) -> String {
        if self.all_keys {
            return "~*".into();
        }
        let v: Vec<String> = self.keys.iter().map(pattern_text).collect();
        v.join(" ")
    }

    /// The channel patterns as GETUSER's `channels` field shows them.
    pub fn describe_channels(&self) -> String {
        if self.all_channels {
            return "&*".into();
        }
        let v: Vec<String> = self
            .channels
            .iter()
            .map(|c| format!("&{}", String::from_utf8_lossy(c)))
            .collect();
        v.join(" ")
    }

    /// The whole selector as ACL LIST shows it: keys, channels, commands.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        if self.all_keys {
            out.push_str("~* ");
        } else {
            for k in &self.keys {
                out.push_str(&pattern_text(k));
                out.push(' ');
            }
        }
        if self.all_channels {
            out.push_str("&* ");
        } else {
            out.push_str("resetchannels ");
            for c in &self.channels {
                out.push('&');
                out.push_str(&String::from_utf8_lossy(c));
                out.push(' ');
            }
        }
        out.push_str(&self.describe_commands());
        out
    }

    /// Whether this selector lets everything through (no check needed).
    pub fn unrestricted(&self) -> bool {
        self.all_commands && self.all_keys && self.all_channels
    }
}

fn pattern_text(k: &KeyPattern) -> String {
    let prefix = match k.perm {
        PERM_READ => "%R~",
        PERM_WRITE => "%W~",
        _ => "~",
    };
    format!("{}{}", prefix, String::from_utf8_lossy(&k.pattern))
}

/// One ACL user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// The name.
    pub name: Vec<u8>,
    /// `FLAG_*` bits.
    pub flags: u8,
    /// SHA-256 hex of each password, in the order added.
    pub passwords: Vec<String>,
    /// The root selector first, then those added with `(...)`.
    pub selectors: Vec<Selector>,
}

impl User {
    /// A new user as ACL SETUSER creates it: off, no passwords, no permissions.
    pub fn new(name: &[u8], all_channels: bool) -> User {
        User {
            name: name.to_vec(),
            flags: FLAG_OFF,
            passwords: Vec::new(),
            selectors: vec![Selector::new(true, all_channels)],
        }
    }

    /// The `default` user as a server starts with it: on, nopass, everything allowed.
    pub fn default_user() -> User {
        let mut u = User::new(b"default", false);
        for op in ["+@all", "~*", "&*", "on", "nopass"] {
            let _ = u.apply(op.as_bytes(), false);
        }
        u
    }

    /// Whether the user is enabled (`on`).
    pub fn enabled(&self) -> bool {
        self.flags & FLAG_ON != 0
    }

    /// Whether any password works.
    pub fn nopass(&self) -> bool {
        self.flags & FLAG_NOPASS != 0
    }

    /// Whether `pass` opens this user (disabled users never open).
    pub fn password_ok(&self, pass: &[u8]) -> bool {
        if self.flags & FLAG_OFF != 0 {
            return false;
        }
        if self.nopass() {
            return true;
        }
        let h = hash_password(pass);
        // Compared in time independent of where the hashes differ, as Redis does.
        self.passwords.iter().any(|p| {
            p.len() == h.len()
                && p.bytes()
                    .zip(h.bytes())
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    == 0
        })
    }

    /// The root selector.
    pub fn root(&self) -> &Selector {
        &self.selectors[0]
    }

    /// Whether every command, key and channel is allowed (no check needed).
    pub fn unrestricted(&self) -> bool {
        self.selectors.iter().any(Selector::unrestricted)
    }

    /// Applies one rule; `all_channels` is what `acl-pubsub-default` gives new selectors and
    /// `reset`.
    pub fn apply(&mut self, op: &[u8], all_channels: bool) -> Result<(), RuleError> {
        if op.is_empty() {
            return Ok(());
        }
        let is = |w: &str| op.eq_ignore_ascii_case(w.as_bytes());
        if is("on") {
            self.flags = (self.flags | FLAG_ON) & !FLAG_OFF;
        } else if is("off") {
            self.flags = (self.flags | FLAG_OFF) & !FLAG_ON;
        } else if is("skip-sanitize-payload") {
            self.flags = (self.flags | FLAG_SKIP_SANITIZE) & !FLAG_SANITIZE;
        } else if is("sanitize-payload") {
            self.flags = (self.flags | FLAG_SANITIZE) & !FLAG_SKIP_SANITIZE;
        } else if is("nopass") {
            self.flags |= FLAG_NOPASS;
            self.passwords.clear();
        } else if is("resetpass") {
            self.flags &= !FLAG_NOPASS;
            self.passwords.clear();
        } else if op[0] == b'>' || op[0] == b'#' {
            let h = if op[0] == b'>' {
                hash_password(&op[1..])
            } else if valid_hash(&op[1..]) {
                String::from_utf8_lossy(&op[1..]).into_owned()
            } else {
                return Err(RuleError::BadHash);
            };
            if !self.passwords.contains(&h) {
                self.passwords.push(h);
            }
            self.flags &= !FLAG_NOPASS;
        } else if op[0] == b'<' || op[0] == b'!' {
            let h = if op[0] == b'<' {
                hash_password(&op[1..])
            } else if valid_hash(&op[1..]) {
                String::from_utf8_lossy(&op[1..]).into_owned()
            } else {
                return Err(RuleError::BadHash);
            };
            let at = self
                .passwords
                .iter()
                .position(|p| *p == h)
                .ok_or(RuleError::NoSuchPassword)?;
            self.passwords.remove(at);
        } else if op[0] == b'(' && op[op.len() - 1] == b')' && op.len() >= 2 {
            let inner = &op[1..op.len() - 1];
            // Like Redis, unbalanced quotes make an empty selector.
            let words = crate::protocol::inline::split_args(inner).unwrap_or_default();
            let mut s = Selector::new(false, all_channels);
            for w in words {
                s.apply(&w)?;
            }
            self.selectors.push(s);
        } else if is("clearselectors") {
            self.selectors.truncate(1);
        } else if is("reset") {
            self.flags &= !FLAG_NOPASS;
            self.passwords.clear();
            let root = &mut self.selectors[0];
            root.all_keys = false;
            root.keys.clear();
            root.all_channels = all_channels;
            root.channels.clear();
            self.flags = (self.flags | FLAG_OFF | FLAG_SANITIZE) & !(FLAG_ON | FLAG_SKIP_SANITIZE);
            self.selectors.truncate(1);
            self.selectors[0].set_all(false);
        } else {
            self.selectors[0].apply(op)?;
        }
        Ok(())
    }

    /// The user's rules as ACL LIST prints them after `user <name> `.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        for (f, name) in FLAG_NAMES {
            if self.flags & f != 0 {
                out.push_str(name);
                out.push(' ');
            }
        }
        for p in &self.passwords {
            out.push('#');
            out.push_str(p);
            out.push(' ');
        }
        for s in &self.selectors {
            if s.root {
                out.push_str(&s.describe());
            } else {
                out.push_str(" (");
                out.push_str(&s.describe());
                out.push(')');
            }
        }
        out
    }

    /// Checks a command line against every selector: Ok if one allows it, else the most
    /// relevant denial (a key or channel over the command; the later position).
    pub fn check(
        &self,
        cmd: &Command,
        argv: &[Vec<u8>],
        keys: &[(usize, u8)],
        channels: &[(usize, bool)],
    ) -> Result<(), (Denied, usize)> {
        let mut worst = (Denied::Command, 0);
        for s in &self.selectors {
            match s.check(cmd, argv, keys, channels) {
                Ok(()) => return Ok(()),
                Err(e) => {
                    if e.0 > worst.0 || (e.0 == worst.0 && e.1 > worst.1) {
                        worst = e;
                    }
                }
            }
        }
        Err(worst)
    }
}

/// Joins the arguments of a selector spread over several words (`(+get` `~key)`) into one
/// rule each, as Redis does; Err carries the index of an unclosed `(`.
pub fn merge_selector_args(args: &[Vec<u8>]) -> Result<Vec<Vec<u8>>, usize> {
    let mut out = Vec::with_capacity(args.len());
    let mut open: Option<(usize, Vec<u8>)> = None;
    for (j, op) in args.iter().enumerate() {
        if let Some((start, mut acc)) = open.take() {
            acc.push(b' ');
            acc.extend_from_slice(op);
            if op.last() == Some(&b')') {
                out.push(acc);
            } else {
                open = Some((start, acc));
            }
            continue;
        }
        if op.first() == Some(&b'(') && op.last() != Some(&b')') {
            open = Some((j, op.clone()));
            continue;
        }
        out.push(op.clone());
    }
    match open {
        Some((start, _)) => Err(start),
        None => Ok(out),
    }
}

/// The key positions a command line names, with the permission each needs, leaving out
/// arguments that are not keys (shard channels).
pub fn keys_needing(cmd: &Command, argv: &[Vec<u8>]) -> Vec<(usize, u8)> {
    use crate::commands::{ACCESS, DELETE, INSERT, NOT_KEY, UPDATE};
    if cmd.spec.key_specs.is_empty() && cmd.spec.getkeys.is_none() {
        return Vec::new();
    }
    let Some(found) = cmd.spec.key_positions(argv) else {
        return Vec::new();
    };
    found
        .into_iter()
        .filter(|(_, f)| !f.has(NOT_KEY))
        .map(|(pos, f)| {
            let mut need = 0;
            if f.has(ACCESS) {
                need |= PERM_READ;
            }
            if f.has(INSERT) || f.has(DELETE) || f.has(UPDATE) {
                need |= PERM_WRITE;
            }
            (pos, need)
        })
        .collect()
}

/// The channels a command line names that ACLs check (publish and subscribe; not
/// unsubscribe), with whether each is a pattern.
pub fn channels_named(cmd: &Command, argv: &[Vec<u8>]) -> Vec<(usize, bool)> {
    match cmd.full_name {
        "subscribe" | "ssubscribe" => (1..argv.len()).map(|i| (i, false)).collect(),
        "psubscribe" => (1..argv.len()).map(|i| (i, true)).collect(),
        "publish" | "spublish" if argv.len() > 1 => vec![(1, false)],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(rules: &[&str]) -> User {
        let mut u = User::new(b"u", false);
        for r in rules {
            u.apply(r.as_bytes(), false).unwrap();
        }
        u
    }

    #[test]
    fn new_and_default_users_describe_as_redis_does() {
        assert_eq!(User::new(b"u", false).describe(), "off resetchannels -@all");
        assert_eq!(User::default_user().describe(), "on nopass ~* &* +@all");
    }

    #[test]
    fn rules_and_their_description() {
        let u = user(&["on", ">p", "~k*", "%R~r*", "+get", "+@hash"]);
        assert_eq!(
            u.describe(),
            format!(
                "on #{} ~k* %R~r* resetchannels -@all +@hash +get",
                hash_password(b"p")
            )
        );
        let u = user(&["+@all", "-config|set"]);
        assert_eq!(
            u.describe(),
            "off resetchannels +@all -config|set".to_string()
        );
        let u = user(&["+select|0"]);
        assert_eq!(u.describe(), "off resetchannels -@all +select|0");
    }

    #[test]
    fn rule_errors() {
        let mut u = User::new(b"u", false);
        assert_eq!(u.apply(b"+nosuch", false), Err(RuleError::UnknownName));
        assert_eq!(u.apply(b"+@nosuch", false), Err(RuleError::UnknownName));
        assert_eq!(u.apply(b"bogus", false), Err(RuleError::Syntax));
        assert_eq!(u.apply(b"#abc", false), Err(RuleError::BadHash));
        assert_eq!(u.apply(b"<nope", false), Err(RuleError::NoSuchPassword));
        assert_eq!(
            u.apply(b"+config|get|x", false),
            Err(RuleError::FirstArgOfSub)
        );
        u.apply(b"allkeys", false).unwrap();
        assert_eq!(u.apply(b"~x", false), Err(RuleError::KeyAfterAll));
    }

    #[test]
    fn merging_selector_words() {
        let v = |s: &[&str]| s.iter().map(|x| x.as_bytes().to_vec()).collect::<Vec<_>>();
        assert_eq!(
            merge_selector_args(&v(&["on", "(+get", "~k)"])),
            Ok(v(&["on", "(+get ~k)"]))
        );
        assert_eq!(merge_selector_args(&v(&["(+get"])), Err(0));
    }
}
