//! LZF decompression, for strings Redis stores compressed in RDB files (rdbcompression yes).

/// Decompresses `input` into exactly `out_len` bytes, or None if the data is malformed.
pub fn decompress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(out_len);
    let mut i = 0;
    while i < input.len() {
        let ctrl = usize::from(input[i]);
        i += 1;
        if ctrl < 32 {
            // A literal run of ctrl + 1 bytes.
            let len = ctrl + 1;
            let run = input.get(i..i + len)?;
            out.extend_from_slice(run);
            i += len;
        } else {
            // A back reference: length in the top 3 bits (7 means one more length byte).
            let mut len = ctrl >> 5;
            if len == 7 {
                len += usize::from(*input.get(i)?);
                i += 1;
            }
            len += 2;
            let back = ((ctrl & 0x1f) << 8) + usize::from(*input.get(i)?) + 1;
            i += 1;
            let start = out.len().checked_sub(back)?;
            for k in 0..len {
                let b = out[start + k];
                out.push(b);
            }
        }
        if out.len() > out_len {
            return None;
        }
    }
    (out.len() == out_len).then_some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn literal_and_backref() {
        // "abcabcabc": literal "abc", then a back reference of length 6 at distance 3.
        let data = [2, b'a', b'b', b'c', (4 << 5), 2];
        assert_eq!(super::decompress(&data, 9).unwrap(), b"abcabcabc");
        assert!(super::decompress(&data, 8).is_none());
        assert!(super::decompress(&[0x20, 0x05], 3).is_none());
    }
}

/// The longest literal run a compressed block holds.
const MAX_LIT: usize = 1 << 5;

/// Compresses `input` as Redis's bundled liblzf does (its default "very fast" hashing, a
/// 65536-slot table of earlier positions), so a value dumped here has the bytes Redis's DUMP
/// gives. Returns None when the result would not be at least four bytes shorter than the
/// input: Redis then stores the string as it is.
pub fn compress(input: &[u8]) -> Option<Vec<u8>> {
    const HSIZE: usize = 1 << 16;
    const MAX_OFF: usize = 1 << 13;
    const MAX_REF: usize = (1 << 8) + (1 << 3);
    let in_len = input.len();
    if in_len <= 4 {
        return None;
    }
    let out_len = in_len - 4;
    // The C code may write one byte past `out_len` before it notices the output is full.
    let mut out = vec![0u8; out_len + 2];
    // Position + 1 of the last place each 3-byte hash was seen; 0 for never.
    let mut table = vec![0usize; HSIZE];
    let first = |p: usize| (u32::from(input[p]) << 8) | u32::from(input[p + 1]);
    let next = |h: u32, p: usize| (h << 8) | u32::from(input[p + 2]);
    let slot = |h: u32| ((h >> 8).wrapping_sub(h.wrapping_mul(5)) as usize) & (HSIZE - 1);

    let mut ip = 0usize;
    let mut op = 1usize; // a literal run starts with a length byte, filled in when it ends
    let mut lit = 0usize;
    let mut hval = first(0);
    while ip + 2 < in_len {
        hval = next(hval, ip);
        let s = slot(hval);
        let seen = table[s];
        table[s] = ip + 1;
        let reference = seen.checked_sub(1).filter(|&r| {
            r < ip
                && ip - r - 1 < MAX_OFF
                && r > 0
                && input[r + 2] == input[ip + 2]
                && input[r] == input[ip]
                && input[r + 1] == input[ip + 1]
        });
        if let Some(r) = reference {
            let off = ip - r - 1;
            let mut len = 2usize;
            let maxlen = (in_len - ip - len).min(MAX_REF);
            if op + 4 >= out_len && op - usize::from(lit == 0) + 4 >= out_len {
                return None;
            }
            out[op - lit - 1] = (lit as u8).wrapping_sub(1);
            op -= usize::from(lit == 0);
            // liblzf first compares 16 bytes unrolled when the bound allows, then bytewise.
            let mut done = false;
            if maxlen > 16 {
                for _ in 0..16 {
                    len += 1;
                    if input[r + len] != input[ip + len] {
                        done = true;
                        break;
                    }
                }
            }
            if !done {
                loop {
                    len += 1;
                    if !(len < maxlen && input[r + len] == input[ip + len]) {
                        break;
                    }
                }
            }
            len -= 2;
            ip += 1;
            if len < 7 {
                out[op] = ((off >> 8) + (len << 5)) as u8;
                op += 1;
            } else {
                out[op] = ((off >> 8) + (7 << 5)) as u8;
                out[op + 1] = (len - 7) as u8;
                op += 2;
            }
            out[op] = off as u8;
            op += 1;
            lit = 0;
            op += 1;
            ip += len + 1;
            if ip + 2 >= in_len {
                break;
            }
            ip -= 2;
            hval = first(ip);
            hval = next(hval, ip);
            table[slot(hval)] = ip + 1;
            ip += 1;
            hval = next(hval, ip);
            table[slot(hval)] = ip + 1;
            ip += 1;
        } else {
            if op >= out_len {
                return None;
            }
            push_literal(&mut out, &mut op, &mut lit, input[ip]);
            ip += 1;
        }
    }
    if op + 3 > out_len {
        return None;
    }
    while ip < in_len {
        push_literal(&mut out, &mut op, &mut lit, input[ip]);
        ip += 1;
    }
    out[op - lit - 1] = (lit as u8).wrapping_sub(1);
    op -= usize::from(lit == 0);
    out.truncate(op);
    Some(out)
}

/// Copies one byte into the literal run being written at `op`; a run that reaches its longest
/// gets its length byte in front, and the next one starts after a byte left for its own.
#[inline]
fn push_literal(out: &mut [u8], op: &mut usize, lit: &mut usize, byte: u8) {
    *lit += 1;
    out[*op] = byte;
    *op += 1;
    if *lit == MAX_LIT {
        out[*op - *lit - 1] = (*lit - 1) as u8;
        *lit = 0;
        *op += 1;
    }
}

#[cfg(test)]
mod compress_tests {
    use super::*;

    #[test]
    fn compress_round_trips() {
        let samples: Vec<Vec<u8>> = vec![
            vec![b'a'; 100],
            b"hello hello hello hello hello world world world".to_vec(),
            (0..5000u32).map(|i| (i % 251) as u8).collect(),
            (0..3000u32).map(|i| (i * 7 % 13) as u8).collect(),
        ];
        for s in samples {
            let c = compress(&s).expect("compressible");
            assert!(c.len() <= s.len() - 4);
            assert_eq!(decompress(&c, s.len()).as_deref(), Some(&s[..]));
        }
        let noise: Vec<u8> = (0..64u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        assert!(compress(&noise).is_none());
    }
}
