//! Turns a command's syntax line (`key [EX seconds|PX milliseconds] [NX|XX]`) into the
//! argument descriptions COMMAND DOCS gives: name, type, token, flags (optional, multiple),
//! nested arguments for `oneof` and `block`.
//!
//! The grammar is the one Redis's documentation uses: `[...]` optional, `a|b` one of,
//! `x [x ...]` repeated, UPPER-CASE words literal tokens, lower-case words values (`key` a key).

use crate::protocol::Reply;

#[derive(Debug, PartialEq)]
enum Tok<'a> {
    Open,
    Close,
    Bar,
    Ellipsis,
    Word(&'a str),
}

fn tokenize(s: &str) -> Vec<Tok<'_>> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        match c {
            ' ' => rest = &rest[1..],
            '[' => {
                out.push(Tok::Open);
                rest = &rest[1..];
            }
            ']' => {
                out.push(Tok::Close);
                rest = &rest[1..];
            }
            '|' => {
                out.push(Tok::Bar);
                rest = &rest[1..];
            }
            _ if rest.starts_with("...") => {
                out.push(Tok::Ellipsis);
                rest = &rest[3..];
            }
            _ => {
                let end = rest.find([' ', '[', ']', '|']).unwrap_or(rest.len());
                let end = if end == 0 { c.len_utf8() } else { end };
                out.push(Tok::Word(&rest[..end]));
                rest = &rest[end..];
            }
        }
    }
    out
}

/// One argument being built.
#[derive(Debug, Clone)]
struct Arg {
    name: String,
    kind: &'static str,
    token: Option<String>,
    optional: bool,
    multiple: bool,
    children: Vec<Arg>,
}

impl Arg {
    fn leaf(word: &str) -> Arg {
        let upper = word.chars().any(|c| c.is_ascii_alphabetic())
            && !word.chars().any(|c| c.is_ascii_lowercase());
        if upper {
            Arg {
                name: word.to_ascii_lowercase(),
                kind: "pure-token",
                token: Some(word.to_string()),
                optional: false,
                multiple: false,
                children: Vec::new(),
            }
        } else {
            let kind = match word {
                "key" | "destination" | "source" | "newkey" => "key",
                "pattern" => "pattern",
                _ => "string",
            };
            Arg {
                name: word.to_string(),
                kind,
                token: None,
                optional: false,
                multiple: false,
                children: Vec::new(),
            }
        }
    }

    /// A `block` is named after its first member; a `oneof` of plain tokens after all of them
    /// (`nx-xx`), any other `oneof` after its first member.
    fn group(kind: &'static str, children: Vec<Arg>) -> Arg {
        let all_tokens = children.iter().all(|c| c.kind == "pure-token");
        let name = if kind == "oneof" && all_tokens {
            children.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join("-")
        } else {
            children.first().map(|c| c.name.clone()).unwrap_or_default()
        };
        Arg { name, kind, token: None, optional: false, multiple: false, children }
    }
}

struct Parser<'a> {
    toks: Vec<Tok<'a>>,
    pos: usize,
}

impl<'a> Parser<'a> {
    /// A sequence up to `]` or the end, with `|` splitting it into alternatives.
    fn alternatives(&mut self, depth: usize) -> Vec<Arg> {
        let mut alts: Vec<Vec<Arg>> = vec![self.sequence(depth)];
        while self.toks.get(self.pos) == Some(&Tok::Bar) {
            self.pos += 1;
            alts.push(self.sequence(depth));
        }
        if alts.len() == 1 {
            return alts.pop().unwrap_or_default();
        }
        // `TYPE NORMAL|MASTER|PUBSUB`: words before the first alternative's last one are a
        // prefix shared by every alternative, not part of the first.
        let mut prefix = Vec::new();
        if alts[0].len() > 1 && alts[1..].iter().all(|a| a.len() == 1) {
            let last = alts[0].pop();
            prefix = std::mem::take(&mut alts[0]);
            alts[0].extend(last);
        }
        let children: Vec<Arg> = alts
            .into_iter()
            .filter(|a| !a.is_empty())
            .map(|mut a| if a.len() == 1 { a.remove(0) } else { Arg::group("block", a) })
            .collect();
        prefix.push(Arg::group("oneof", children));
        if prefix.len() == 1 {
            prefix
        } else {
            vec![Arg::group("block", prefix)]
        }
    }

    fn sequence(&mut self, depth: usize) -> Vec<Arg> {
        let mut out: Vec<Arg> = Vec::new();
        while let Some(t) = self.toks.get(self.pos) {
            match t {
                Tok::Close | Tok::Bar => break,
                Tok::Ellipsis => {
                    self.pos += 1;
                    if let Some(last) = out.last_mut() {
                        last.multiple = true;
                    }
                }
                Tok::Open => {
                    self.pos += 1;
                    // Nesting deeper than any real syntax line means a malformed one.
                    let inner = if depth > 8 { Vec::new() } else { self.alternatives(depth + 1) };
                    if self.toks.get(self.pos) == Some(&Tok::Close) {
                        self.pos += 1;
                    }
                    // `x [x ...]` and `a b [a b ...]`: the bracket repeats what precedes it.
                    let ellipsis = matches!(self.toks.get(self.pos.wrapping_sub(2)), Some(Tok::Ellipsis));
                    let k = inner.len();
                    let repeats = ellipsis
                        && k > 0
                        && out.len() >= k
                        && out[out.len() - k..].iter().zip(&inner).all(|(a, b)| a.name == b.name);
                    if repeats {
                        let mut tail = out.split_off(out.len() - k);
                        let mut arg = if k == 1 { tail.remove(0) } else { Arg::group("block", tail) };
                        for c in &mut arg.children {
                            c.multiple = false;
                        }
                        arg.multiple = true;
                        out.push(arg);
                        continue;
                    }
                    let mut arg = match inner.len() {
                        0 => continue,
                        1 => inner.into_iter().next().unwrap_or_else(|| Arg::group("block", vec![])),
                        _ => Arg::group("block", inner),
                    };
                    arg.optional = true;
                    out.push(arg);
                }
                Tok::Word(w) => {
                    self.pos += 1;
                    let mut arg = Arg::leaf(w);
                    // `COUNT count`: a token introducing a value is one argument.
                    if arg.kind == "pure-token" {
                        if let Some(Tok::Word(next)) = self.toks.get(self.pos) {
                            let value = Arg::leaf(next);
                            if value.kind != "pure-token" {
                                self.pos += 1;
                                arg = Arg { token: arg.token, ..value };
                            }
                        }
                    }
                    out.push(arg);
                }
            }
        }
        out
    }
}

fn reply(arg: &Arg, key_index: &mut i64, with_keys: bool) -> Reply {
    let b = |s: &str| Reply::bulk(s);
    let mut pairs = vec![(b("name"), b(&arg.name)), (b("type"), b(arg.kind))];
    if arg.kind == "key" && with_keys {
        pairs.push((b("key_spec_index"), Reply::Integer(*key_index)));
        *key_index += 1;
    }
    if let Some(t) = &arg.token {
        pairs.push((b("token"), b(t)));
    }
    let mut flags = Vec::new();
    if arg.optional {
        flags.push(Reply::status("optional"));
    }
    if arg.multiple {
        flags.push(Reply::status("multiple"));
    }
    if !flags.is_empty() {
        pairs.push((b("flags"), Reply::Set(flags)));
    }
    if !arg.children.is_empty() {
        let children = arg.children.iter().map(|c| reply(c, key_index, with_keys)).collect();
        pairs.push((b("arguments"), Reply::Array(children)));
    }
    Reply::Map(pairs)
}

/// The COMMAND DOCS `arguments` of a syntax line; `with_keys` numbers key arguments with
/// `key_spec_index` (only meaningful when the command has key specifications).
pub fn parse(syntax: &str, with_keys: bool) -> Vec<Reply> {
    let mut p = Parser { toks: tokenize(syntax), pos: 0 };
    let args = p.alternatives(0);
    let mut key_index = 0;
    args.iter().map(|a| reply(a, &mut key_index, with_keys)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(syntax: &str) -> Vec<(String, &'static str, bool, bool)> {
        let mut p = Parser { toks: tokenize(syntax), pos: 0 };
        p.alternatives(0)
            .into_iter()
            .map(|a| (a.name, a.kind, a.optional, a.multiple))
            .collect()
    }

    #[test]
    fn reads_redis_syntax_lines() {
        assert_eq!(
            names("key [key ...]"),
            vec![("key".to_string(), "key", false, true)]
        );
        let set = names("key value [NX|XX] [GET] [EX seconds|PX milliseconds]");
        assert_eq!(set.len(), 5);
        assert_eq!(set[2], ("nx-xx".to_string(), "oneof", true, false));
        assert_eq!(set[3], ("get".to_string(), "pure-token", true, false));
        assert_eq!(names("[ASYNC|SYNC]")[0], ("async-sync".to_string(), "oneof", true, false));
        let list = names("[TYPE NORMAL|MASTER|PUBSUB] [ID client-id [client-id ...]]");
        assert_eq!(list[0], ("type".to_string(), "block", true, false));
        assert_eq!(list[1], ("client-id".to_string(), "string", true, true));
        assert!(names("]]][[[|||...").len() <= 3);
    }

    #[test]
    fn any_text_parses_without_panic() {
        let alphabet: Vec<char> = "[]|. aZk-é…".chars().collect();
        let mut rng = crate::rng::Rng::new(3);
        for _ in 0..5_000 {
            let len = rng.below(24) as usize;
            let text: String =
                (0..len).map(|_| alphabet[rng.below(alphabet.len() as u64) as usize]).collect();
            let _ = parse(&text, true);
        }
    }
}
