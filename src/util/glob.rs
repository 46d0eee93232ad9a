//! Glob-style matching with Redis's exact rules (KEYS, SCAN MATCH, PSUBSCRIBE, CONFIG GET ...).
//!
//! `*` any run, `?` one byte, `[abc]`, `[^abc]`, `[a-z]` (a reversed range is swapped), `\x`
//! escapes. A `[` left open takes the rest of the pattern as its set. Matching is byte-wise.

/// Nesting depth past which a pattern is refused (as Redis does against abusive patterns).
const MAX_NESTING: usize = 1000;

/// Whether `string` matches `pattern`; `nocase` folds ASCII case.
pub fn glob_match(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    // The commonest pattern, a plain prefix and a star (`user:*`, as ACL key patterns and
    // PSUBSCRIBE usually are, checked on every command), is a prefix comparison. As in
    // Redis, no pattern matches the empty string but the empty pattern.
    let stem_len = pattern
        .iter()
        .rposition(|&c| c != b'*')
        .map_or(0, |i| i + 1);
    let stem = &pattern[..stem_len];
    let plain = |c: &u8| !matches!(c, b'*' | b'?' | b'[' | b'\\');
    if stem_len < pattern.len() && stem.iter().all(plain) {
        return match string.get(..stem.len()) {
            _ if string.is_empty() => false,
            Some(head) if nocase => head.eq_ignore_ascii_case(stem),
            Some(head) => head == stem,
            None => false,
        };
    }
    let mut give_up = false;
    matches(pattern, string, nocase, &mut give_up, 0)
}

fn fold(c: u8, nocase: bool) -> u8 {
    if nocase {
        c.to_ascii_lowercase()
    } else {
        c
    }
}

/// `give_up` is set once the rest of the pattern after a `*` failed at every position: trying
/// an earlier `*` with a longer run can then never succeed, so the search stops early.
fn matches(pat: &[u8], s: &[u8], nocase: bool, give_up: &mut bool, nesting: usize) -> bool {
    if nesting > MAX_NESTING {
        return false;
    }
    let at = |p: usize| pat.get(p).copied().unwrap_or(0);
    let (mut p, mut i) = (0usize, 0usize);
    while p < pat.len() && i < s.len() {
        match pat[p] {
            b'*' => {
                while p + 1 < pat.len() && pat[p + 1] == b'*' {
                    p += 1;
                }
                if p + 1 == pat.len() {
                    return true;
                }
                while i < s.len() {
                    if matches(&pat[p + 1..], &s[i..], nocase, give_up, nesting + 1) {
                        return true;
                    }
                    if *give_up {
                        return false;
                    }
                    i += 1;
                }
                *give_up = true;
                return false;
            }
            b'?' => i += 1,
            b'[' => {
                p += 1;
                let negate = at(p) == b'^';
                if negate {
                    p += 1;
                }
                let c = fold(s[i], nocase);
                let mut hit = false;
                loop {
                    if p >= pat.len() {
                        // An unterminated set: step back so the shared advance below ends it.
                        p -= 1;
                        break;
                    }
                    if pat[p] == b'\\' && pat.len() - p >= 2 {
                        p += 1;
                        if pat[p] == s[i] {
                            hit = true;
                        }
                    } else if pat[p] == b']' {
                        break;
                    } else if pat.len() - p >= 3 && pat[p + 1] == b'-' {
                        // Redis compares range ends as C `char`s (signed on the platforms it
                        // ships for) and swaps a reversed range before folding case.
                        let (mut lo, mut hi) = (pat[p], pat[p + 2]);
                        if (lo as i8) > (hi as i8) {
                            std::mem::swap(&mut lo, &mut hi);
                        }
                        let (lo, hi) = (fold(lo, nocase) as i8, fold(hi, nocase) as i8);
                        p += 2;
                        if (lo..=hi).contains(&(c as i8)) {
                            hit = true;
                        }
                    } else if fold(pat[p], nocase) == c {
                        hit = true;
                    }
                    p += 1;
                }
                if hit == negate {
                    return false;
                }
                i += 1;
            }
            ch => {
                let ch = if ch == b'\\' && pat.len() - p >= 2 {
                    p += 1;
                    pat[p]
                } else {
                    ch
                };
                if fold(ch, nocase) != fold(s[i], nocase) {
                    return false;
                }
                i += 1;
            }
        }
        p += 1;
        if i == s.len() {
            while at(p) == b'*' && p < pat.len() {
                p += 1;
            }
            break;
        }
    }
    p >= pat.len() && i == s.len()
}

#[cfg(test)]
mod tests {
    use super::glob_match as m;

    /// The general matcher, without the prefix shortcut.
    fn general(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
        super::matches(pattern, string, nocase, &mut false, 0)
    }

    #[test]
    fn a_prefix_and_a_star_match_as_the_general_rules_do() {
        let patterns: [&[u8]; 9] = [
            b"*", b"**", b"key:*", b"key:**", b"Key:*", b"k\\*", b"k?*", b"k[e]*", b"key:",
        ];
        let strings: [&[u8]; 7] = [b"", b"k", b"key:", b"key:1", b"KEY:1", b"k*", b"ke"];
        for p in patterns {
            for s in strings {
                for nocase in [false, true] {
                    assert_eq!(
                        m(p, s, nocase),
                        general(p, s, nocase),
                        "{p:?} {s:?} {nocase}"
                    );
                }
            }
        }
    }

    #[test]
    fn redis_glob_rules() {
        assert!(m(b"*", b"anything", false));
        assert!(m(b"h?llo", b"hello", false));
        assert!(m(b"h*llo", b"heeeello", false));
        assert!(m(b"h[ae]llo", b"hallo", false));
        assert!(!m(b"h[^e]llo", b"hello", false));
        assert!(m(b"h[a-b]llo", b"hbllo", false));
        assert!(m(b"h[b-a]llo", b"hbllo", false));
        assert!(m(b"h\\*llo", b"h*llo", false));
        assert!(!m(b"h\\*llo", b"hello", false));
        assert!(m(b"HELLO", b"hello", true));
        assert!(m(b"a*", b"a", false));
        assert!(m(b"a**", b"a", false));
        assert!(!m(b"a?", b"a", false));
        assert!(m(b"[abc", b"c", false));
        assert!(!m(b"", b"a", false));
        assert!(m(b"", b"", false));
        assert!(m(b"*a*b*c*", b"xxaxxbxxcxx", false));
        // Range ends compare as signed chars: \xff is -1, so [a-\xff] is [\xff-a].
        assert!(m(b"[a-\xff]", b"\xff", false));
        assert!(m(b"[a-\xff]", b"A", false));
        assert!(!m(b"[a-\xff]", b"b", false));
        assert!(m(b"[\x80-\xff]", b"\x90", false));
        // The range is swapped before case folding, so [Z-a] folds to the empty [z-a].
        assert!(!m(b"[Z-a]", b"z", true));
        assert!(m(b"[Z-a]", b"_", false));
        assert!(!m(b"*a*b*c*d", b"xxaxxbxxcxx", false));
    }
}
