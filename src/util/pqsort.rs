//! Redis's partial quicksort (`pqsort`), shared by SORT ... LIMIT and the GEO commands' COUNT:
//! the positions it leaves equal elements in are part of both commands' output.

use std::cmp::Ordering;

/// Bentley and McIlroy's quicksort ("Engineering a Sort Function", 1993), restricted to
/// sorting the parts that overlap positions `start..=end`: the algorithm Redis uses for SORT
/// BY with LIMIT. The positions it leaves for equal elements are part of SORT's output, so
/// the pivot choice and partitioning follow the paper's algorithm step by step (without the
/// switch to insertion sort after a partition that moved nothing, which Redis's variant
/// lacks). Sub-arrays wait on an explicit stack rather than in recursion, so a
/// hostile input cannot exhaust the call stack (the order they are done in changes nothing,
/// as they do not overlap).
pub fn partial_sort<T>(
    v: &mut [T],
    start: i64,
    end: i64,
    cmp: &mut impl FnMut(&T, &T) -> Ordering,
) {
    // Positions are compared as the C code compares byte pointers, with elements 2 bytes
    // wide: the window ends on the last byte of element `end`.
    const ES: i64 = 2;
    let lrange = start.saturating_mul(ES);
    let rrange = end.saturating_add(1).saturating_mul(ES) - 1;
    let overlaps = |a: usize, n: usize| {
        let l = a as i64 * ES;
        let r = (a + n) as i64 * ES - 1;
        !((lrange < l && rrange < l) || (lrange > r && rrange > r))
    };
    let mut todo = vec![(0usize, v.len())];
    while let Some((a, n)) = todo.pop() {
        if n < 7 {
            insertion_sort(v, a, n, cmp);
            continue;
        }
        let mut pm = a + n / 2;
        if n > 7 {
            let mut pl = a;
            let mut pn = a + n - 1;
            if n > 40 {
                let d = n / 8;
                pl = median3(v, pl, pl + d, pl + 2 * d, cmp);
                pm = median3(v, pm - d, pm, pm + d, cmp);
                pn = median3(v, pn - 2 * d, pn - d, pn, cmp);
            }
            pm = median3(v, pl, pm, pn, cmp);
        }
        v.swap(a, pm);
        // Elements equal to the pivot gather at both ends ([a, pa) and (pd, a+n)), smaller
        // ones after the left group, larger ones before the right group.
        let (mut pa, mut pb) = (a + 1, a + 1);
        let (mut pc, mut pd) = (a + n - 1, a + n - 1);
        loop {
            while pb <= pc {
                let r = cmp(&v[pb], &v[a]);
                if r == Ordering::Greater {
                    break;
                }
                if r == Ordering::Equal {
                    v.swap(pa, pb);
                    pa += 1;
                }
                pb += 1;
            }
            while pb <= pc {
                let r = cmp(&v[pc], &v[a]);
                if r == Ordering::Less {
                    break;
                }
                if r == Ordering::Equal {
                    v.swap(pc, pd);
                    pd -= 1;
                }
                pc -= 1;
            }
            if pb > pc {
                break;
            }
            v.swap(pb, pc);
            pb += 1;
            pc -= 1;
        }
        let pn = a + n;
        let r = (pa - a).min(pb - pa);
        swap_runs(v, a, pb - r, r);
        let r = (pd - pc).min(pn - pd - 1);
        swap_runs(v, pb, pn - r, r);
        let left = pb - pa;
        if left > 1 && overlaps(a, left) {
            todo.push((a, left));
        }
        let right = pd - pc;
        if right > 1 && overlaps(pn - right, right) {
            todo.push((pn - right, right));
        }
    }
}

fn insertion_sort<T>(v: &mut [T], a: usize, n: usize, cmp: &mut impl FnMut(&T, &T) -> Ordering) {
    for m in a + 1..a + n {
        let mut l = m;
        while l > a && cmp(&v[l - 1], &v[l]) == Ordering::Greater {
            v.swap(l, l - 1);
            l -= 1;
        }
    }
}

/// The index of the median of three, ties resolved as the paper's `med3` resolves them.
fn median3<T>(
    v: &[T],
    a: usize,
    b: usize,
    c: usize,
    cmp: &mut impl FnMut(&T, &T) -> Ordering,
) -> usize {
    if cmp(&v[a], &v[b]) == Ordering::Less {
        if cmp(&v[b], &v[c]) == Ordering::Less {
            b
        } else if cmp(&v[a], &v[c]) == Ordering::Less {
            c
        } else {
            a
        }
    } else if cmp(&v[b], &v[c]) == Ordering::Greater {
        b
    } else if cmp(&v[a], &v[c]) == Ordering::Less {
        a
    } else {
        c
    }
}

/// Swaps the `n` elements from `a` with the `n` from `b` (the runs do not overlap).
fn swap_runs<T>(v: &mut [T], a: usize, b: usize, n: usize) {
    for i in 0..n {
        v.swap(a + i, b + i);
    }
}
