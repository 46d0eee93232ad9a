//! The redis-cli line syntax: a typed line split into arguments.
//!
//! Words are separated by spaces. `"double quotes"` take the escapes `\n \r \t \b \a \\ \"` and
//! `\xHH`; `'single quotes'` take only `\'`. A closing quote must end the word. The same syntax
//! serves inline commands on the wire (a request line that does not start with `*`).

/// Why a line could not be split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnbalancedQuotes;

impl std::fmt::Display for UnbalancedQuotes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("unbalanced quotes")
    }
}

/// C's `isspace` over ASCII (space, \t, \n, \v, \f, \r), as the split uses it between words.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Splits a line into arguments with redis-cli's rules.
pub fn split_args(line: &[u8]) -> Result<Vec<Vec<u8>>, UnbalancedQuotes> {
    // Redis splits a C string: a NUL byte ends the line (inside quotes, that leaves them open).
    let line = &line[..line.iter().position(|&b| b == 0).unwrap_or(line.len())];
    let mut args = Vec::new();
    let mut i = 0;
    loop {
        while i < line.len() && is_space(line[i]) {
            i += 1;
        }
        if i >= line.len() {
            return Ok(args);
        }
        let mut cur = Vec::new();
        let (mut in_dq, mut in_sq) = (false, false);
        loop {
            let c = line.get(i).copied();
            if in_dq {
                match c {
                    None => return Err(UnbalancedQuotes),
                    Some(b'\\') if i + 3 < line.len()
                        && line[i + 1] == b'x'
                        && line[i + 2].is_ascii_hexdigit()
                        && line[i + 3].is_ascii_hexdigit() =>
                    {
                        cur.push(hex(line[i + 2]) * 16 + hex(line[i + 3]));
                        i += 3;
                    }
                    Some(b'\\') if i + 1 < line.len() => {
                        i += 1;
                        cur.push(match line[i] {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            b'b' => 0x08,
                            b'a' => 0x07,
                            other => other,
                        });
                    }
                    Some(b'"') => {
                        // The closing quote must be followed by a space or the end.
                        if i + 1 < line.len() && !is_space(line[i + 1]) {
                            return Err(UnbalancedQuotes);
                        }
                        i += 1;
                        break;
                    }
                    Some(c) => cur.push(c),
                }
            } else if in_sq {
                match c {
                    None => return Err(UnbalancedQuotes),
                    Some(b'\\') if line.get(i + 1) == Some(&b'\'') => {
                        i += 1;
                        cur.push(b'\'');
                    }
                    Some(b'\'') => {
                        if i + 1 < line.len() && !is_space(line[i + 1]) {
                            return Err(UnbalancedQuotes);
                        }
                        i += 1;
                        break;
                    }
                    Some(c) => cur.push(c),
                }
            } else {
                match c {
                    None | Some(b' ' | b'\n' | b'\r' | b'\t' | 0) => break,
                    Some(b'"') => in_dq = true,
                    Some(b'\'') => in_sq = true,
                    Some(c) => cur.push(c),
                }
            }
            i += 1;
        }
        args.push(cur);
    }
}

fn hex(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c - b'A' + 10,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> Vec<String> {
        split_args(s.as_bytes())
            .unwrap()
            .into_iter()
            .map(|a| String::from_utf8_lossy(&a).into_owned())
            .collect()
    }

    #[test]
    fn words_and_quotes() {
        assert_eq!(split("  set  a   b "), ["set", "a", "b"]);
        assert_eq!(split(r#"set "a b" 'c d'"#), ["set", "a b", "c d"]);
        assert_eq!(split(r#""\x41\n\t\"" '\'x'"#), ["A\n\t\"", "'x"]);
        assert_eq!(split(r#""" ''"#), ["", ""]);
        assert_eq!(split(r#"a"b c"d"#.replace("d", "").as_str()), ["ab c"]);
        assert_eq!(split(r#""\xZZ""#), ["xZZ"]);
        assert_eq!(split(""), Vec::<String>::new());
    }

    #[test]
    fn a_nul_ends_the_line() {
        assert_eq!(split_args(b"a \x00b c"), Ok(vec![b"a".to_vec()]));
        assert_eq!(split_args(b"a\x00"), Ok(vec![b"a".to_vec()]));
        assert!(split_args(b"\"a\x00\"").is_err());
        assert_eq!(split_args(br#""\x00""#), Ok(vec![vec![0]]));
    }

    #[test]
    fn unbalanced() {
        assert!(split_args(br#""abc"#).is_err());
        assert!(split_args(br#"'abc"#).is_err());
        assert!(split_args(br#""a"b"#).is_err());
        assert!(split_args(br#"'a'b"#).is_err());
    }
}
