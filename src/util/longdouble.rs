//! C `long double` as Redis on x86_64 sees it: the x87 80-bit extended format (sign, 15-bit
//! exponent, 64-bit mantissa with an explicit integer bit), done exactly in software.
//!
//! INCRBYFLOAT and HINCRBYFLOAT parse both operands with `strtold`, add them in extended
//! precision and print the sum with `%.17Lf`. The extra 11 bits of mantissa are why
//! `10.5 + 0.1` shows as `10.6` rather than `10.59999...`; an f64 cannot reproduce those
//! replies, so this module rounds exactly as the hardware and glibc do: correctly rounded
//! decimal and hexadecimal parsing, correctly rounded addition, and exact decimal printing, all
//! round-to-nearest-even, subnormals included.
//!
//! Public API: [`LongDouble::parse`] (Redis's `string2ld`), [`LongDouble::from_i64`],
//! [`LongDouble::add`], [`LongDouble::is_finite`], [`LongDouble::format_human`].

use std::cmp::Ordering;

/// Width of the mantissa, integer bit included.
const MANT_BITS: i64 = 64;
/// Exponent of the leading bit of the smallest normal number (2^-16382).
const EMIN: i64 = -16382;
/// Exponent of the leading bit of the largest finite number.
const EMAX: i64 = 16383;
/// Exponent of the mantissa's last bit for subnormals (and the smallest normals).
const LSB_MIN: i64 = EMIN - (MANT_BITS - 1);
/// Redis refuses float arguments of this many bytes or more (its MAX_LONG_DOUBLE_CHARS).
const MAX_CHARS: usize = 5 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Zero,
    /// `mant * 2^exp`, mant nonzero; normal numbers keep the top bit of `mant` set, subnormals
    /// have `exp == LSB_MIN` and a smaller mantissa.
    Finite,
    Inf,
    Nan,
}

/// One x87 extended-precision value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LongDouble {
    neg: bool,
    class: Class,
    mant: u64,
    exp: i64,
}

impl LongDouble {
    const fn special(neg: bool, class: Class) -> LongDouble {
        LongDouble { neg, class, mant: 0, exp: 0 }
    }

    /// Positive zero.
    pub const ZERO: LongDouble = LongDouble::special(false, Class::Zero);

    /// The nearest double (for uses that need no more precision, such as timeouts).
    pub fn to_f64(&self) -> f64 {
        let magnitude = match self.class {
            Class::Zero => 0.0,
            Class::Inf => f64::INFINITY,
            Class::Nan => f64::NAN,
            // Split the scaling so neither factor overflows before the product is formed.
            Class::Finite => {
                let half = (self.exp / 2) as i32;
                (self.mant as f64) * 2f64.powi(half) * 2f64.powi(self.exp as i32 - half)
            }
        };
        if self.neg {
            -magnitude
        } else {
            magnitude
        }
    }

    /// Parses a value with Redis's `string2ld` rules: the whole input must be one `strtold`
    /// number (decimal, hexadecimal `0x1.8p3`, `inf` / `infinity` in any case), at most 5119
    /// bytes, without leading white space. NaN, results that overflow, and nonzero inputs that
    /// round to zero are refused (None).
    pub fn parse(s: &[u8]) -> Option<LongDouble> {
        if s.is_empty() || s.len() >= MAX_CHARS {
            return None;
        }
        let (neg, body) = match s[0] {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
            return Some(LongDouble::special(neg, Class::Inf));
        }
        let v = if body.len() >= 2 && body[0] == b'0' && (body[1] | 0x20) == b'x' {
            parse_hex(neg, &body[2..])?
        } else {
            parse_decimal(neg, body)?
        };
        // strtold's ERANGE cases that Redis refuses: overflow to infinity, underflow to zero.
        match v.class {
            Class::Inf | Class::Nan => None,
            _ => Some(v),
        }
    }

    /// The exact value of an integer (every i64 fits the 64-bit mantissa).
    pub fn from_i64(v: i64) -> LongDouble {
        if v == 0 {
            return LongDouble::ZERO;
        }
        let mag = v.unsigned_abs();
        let lz = i64::from(mag.leading_zeros());
        LongDouble { neg: v < 0, class: Class::Finite, mant: mag << lz, exp: -lz }
    }

    /// Whether the value is neither infinite nor NaN.
    pub fn is_finite(&self) -> bool {
        matches!(self.class, Class::Zero | Class::Finite)
    }

    /// The sum, rounded to nearest-even as the x87 FPU rounds in extended precision.
    #[allow(clippy::should_implement_trait)] // named like the C operation it mirrors
    pub fn add(self, other: LongDouble) -> LongDouble {
        use Class::*;
        match (self.class, other.class) {
            (Nan, _) | (_, Nan) => LongDouble::special(false, Nan),
            (Inf, Inf) if self.neg != other.neg => LongDouble::special(false, Nan),
            (Inf, _) => self,
            (_, Inf) => other,
            // +0 unless both are -0, the IEEE rule in round-to-nearest.
            (Zero, Zero) => LongDouble::special(self.neg && other.neg, Zero),
            (Zero, _) => other,
            (_, Zero) => self,
            (Finite, Finite) => add_finite(self, other),
        }
    }

    /// Formats as Redis's `ld2string(..., LD_STR_HUMAN)`: `%.17Lf`, then trailing zeros of the
    /// fraction and a trailing dot removed, and `-0` shown as `0`.
    pub fn format_human(&self) -> String {
        let mut s = match self.class {
            Class::Nan => return if self.neg { "-nan".into() } else { "nan".into() },
            Class::Inf => return if self.neg { "-inf".into() } else { "inf".into() },
            _ => self.format_fixed17(),
        };
        // The fixed form always has a dot followed by 17 digits.
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
        if s == "-0" {
            s = "0".into();
        }
        s
    }

    /// `printf("%.17Lf")`: the exact value rounded half-to-even at 17 decimals.
    fn format_fixed17(&self) -> String {
        const SCALE: u128 = 100_000_000_000_000_000; // 10^17
        let sign = if self.neg { "-" } else { "" };
        if self.class == Class::Zero {
            return format!("{}0.00000000000000000", sign);
        }
        if self.exp >= 0 {
            let mut n = Big::from_u64(self.mant);
            n.shl_assign(self.exp as u64);
            return format!("{}{}.00000000000000000", sign, n.to_decimal());
        }
        let shift = (-self.exp) as u32;
        let p = u128::from(self.mant) * SCALE; // < 2^121
        let q = if shift >= 122 {
            // The value is below 2^-57, so it rounds to 0 at 17 decimals (half is 5e-18).
            0
        } else {
            let q = p >> shift;
            let rem = p - (q << shift);
            let half = 1u128 << (shift - 1);
            match rem.cmp(&half) {
                Ordering::Greater => q + 1,
                Ordering::Equal if q & 1 == 1 => q + 1,
                _ => q,
            }
        };
        format!("{}{}.{:017}", sign, q / SCALE, q % SCALE)
    }
}

/// Adds two nonzero finite values.
fn add_finite(a: LongDouble, b: LongDouble) -> LongDouble {
    // A larger exponent means a larger magnitude: only subnormals lack the top bit, and they
    // all share the smallest exponent.
    let (big, small) = if (a.exp, a.mant) >= (b.exp, b.mant) { (a, b) } else { (b, a) };
    // Both mantissas are placed 62 bits up in a 128-bit frame, leaving two bits of headroom for
    // the carry and enough guard bits that the bits shifted out of the smaller operand can be
    // folded into one sticky bit at the bottom without changing the rounding.
    let frame = 62;
    let x = u128::from(big.mant) << frame;
    let d = big.exp - small.exp;
    let y = if d >= 126 {
        1
    } else {
        let full = u128::from(small.mant) << frame;
        let kept = full >> d;
        if kept << d != full {
            kept | 1
        } else {
            kept
        }
    };
    let e = big.exp - frame;
    if big.neg == small.neg {
        round(big.neg, x + y, e, false)
    } else if x > y {
        round(big.neg, x - y, e, false)
    } else if x < y {
        // Only when nothing was shifted out (equal exponents), so the difference is exact.
        round(small.neg, y - x, e, false)
    } else {
        LongDouble::ZERO
    }
}

/// Rounds `q * 2^e` (plus something below 2^e when `sticky`) to the nearest extended value.
/// When `sticky` is set, `q` must carry at least 66 significant bits so the inexact tail lies
/// below the rounding bit.
fn round(neg: bool, q: u128, e: i64, sticky: bool) -> LongDouble {
    if q == 0 {
        return LongDouble::special(neg, Class::Zero);
    }
    let len = 128 - i64::from(q.leading_zeros());
    let top = e + len - 1;
    let lsb = if top >= EMIN { top - (MANT_BITS - 1) } else { LSB_MIN };
    let shift = lsb - e;
    let (mut mant, mut exp) = if shift <= 0 {
        // Exact: every bit of q fits the mantissa.
        ((q << (-shift)) as u64, lsb)
    } else {
        let shift = shift as u32;
        let kept = if shift >= 128 { 0 } else { q >> shift };
        let rem = if shift >= 128 { q } else { q - (kept << shift) };
        let up = if shift > 128 {
            false // q < 2^128 <= half
        } else {
            let half = 1u128 << (shift - 1);
            match rem.cmp(&half) {
                Ordering::Greater => true,
                Ordering::Equal => sticky || kept & 1 == 1,
                Ordering::Less => false,
            }
        };
        // kept has at most 64 bits by the choice of lsb; a carry out of them moves the exponent.
        match (kept as u64).checked_add(u64::from(up)) {
            Some(m) => (m, lsb),
            None => (1u64 << 63, lsb + 1),
        }
    };
    if mant == 0 {
        return LongDouble::special(neg, Class::Zero);
    }
    // A subnormal rounded up to 2^63 is the smallest normal: the representation is the same.
    if exp + (MANT_BITS - 1) > EMAX {
        return LongDouble::special(neg, Class::Inf);
    }
    if mant < (1 << 63) && exp > LSB_MIN {
        // Not reachable from the arithmetic above; keep the invariant anyway.
        let lz = i64::from(mant.leading_zeros()).min(exp - LSB_MIN);
        mant <<= lz;
        exp -= lz;
    }
    LongDouble { neg, class: Class::Finite, mant, exp }
}

/// Rounds `n * 2^e` for a big `n` (plus a tail below 2^e when `sticky`).
fn round_big(neg: bool, n: &Big, e: i64, sticky: bool) -> LongDouble {
    let len = n.bit_len() as i64;
    if len <= 128 {
        // Callers pass sticky only with q holding 66+ bits (see round).
        return round(neg, n.low_u128(), e, sticky);
    }
    let drop = (len - 128) as u64;
    let lost = n.low_bits_nonzero(drop);
    let mut top = n.clone();
    top.shr_assign(drop);
    round(neg, top.low_u128(), e + drop as i64, sticky || lost)
}

/// Decimal exponents beyond this are clamped: with at most 5119 digits the value has long
/// since overflowed or underflowed, and the clamp keeps the arithmetic small.
const EXP_CLAMP: i64 = 100_000;

/// Parses an optional sign and digits of an exponent; None when there are no digits or other
/// bytes follow.
fn parse_exponent(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: i64 = 0;
    for &c in digits {
        v = (v * 10 + i64::from(c - b'0')).min(EXP_CLAMP);
    }
    Some(if neg { -v } else { v })
}

/// Decimal `digits[.digits][e[+-]digits]` (one digit at least in the mantissa).
fn parse_decimal(neg: bool, s: &[u8]) -> Option<LongDouble> {
    let mant_end = s.iter().position(|&c| c == b'e' || c == b'E').unwrap_or(s.len());
    let exp10 = if mant_end < s.len() { parse_exponent(&s[mant_end + 1..])? } else { 0 };
    let mant = &s[..mant_end];
    let (int_part, frac_part) = match mant.iter().position(|&c| c == b'.') {
        Some(i) => (&mant[..i], &mant[i + 1..]),
        None => (mant, &mant[mant.len()..]),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    if !int_part.iter().chain(frac_part).all(u8::is_ascii_digit) {
        return None;
    }
    // The significant digits and the power of ten that scales them.
    let all: Vec<u8> = int_part.iter().chain(frac_part).copied().collect();
    let first = all.iter().position(|&c| c != b'0');
    let Some(first) = first else {
        return Some(LongDouble::special(neg, Class::Zero));
    };
    let last = all.iter().rposition(|&c| c != b'0').unwrap_or(first);
    let digits = &all[first..=last];
    let e10 = exp10 - frac_part.len() as i64 + (all.len() - 1 - last) as i64;
    let n = digits.len() as i64;
    // The value lies in [10^(n-1+e10), 10^(n+e10)): the largest finite value is about
    // 1.19e4932 and half the smallest subnormal about 1.82e-4951.
    if n - 1 + e10 >= 4933 {
        return Some(LongDouble::special(neg, Class::Inf));
    }
    if n + e10 <= -4952 {
        return None; // rounds to zero: strtold's underflow, which Redis refuses
    }
    let d = Big::from_decimal(digits);
    let v = if e10 >= 0 {
        let mut x = d;
        x.mul_pow10(e10 as u64);
        round_big(neg, &x, 0, false)
    } else {
        let mut b = Big::from_u64(1);
        b.mul_pow10((-e10) as u64);
        // Scale so the quotient has 67 or 68 bits: enough guard bits for the rounding.
        let shift = b.bit_len() as i64 - d.bit_len() as i64 + 67;
        let (mut num, mut den) = (d, b);
        if shift >= 0 {
            num.shl_assign(shift as u64);
        } else {
            den.shl_assign((-shift) as u64);
        }
        let (q, inexact) = divide_small_quotient(num, &den);
        round(neg, q, -shift, inexact)
    };
    if v.class == Class::Zero {
        return None; // nonzero digits that rounded to zero
    }
    Some(v)
}

/// Hexadecimal after `0x`: `hexdigits[.hexdigits][p[+-]digits]`.
fn parse_hex(neg: bool, s: &[u8]) -> Option<LongDouble> {
    let mant_end = s.iter().position(|&c| c == b'p' || c == b'P').unwrap_or(s.len());
    let exp2 = if mant_end < s.len() { parse_exponent(&s[mant_end + 1..])? } else { 0 };
    let mant = &s[..mant_end];
    let (int_part, frac_part) = match mant.iter().position(|&c| c == b'.') {
        Some(i) => (&mant[..i], &mant[i + 1..]),
        None => (mant, &mant[mant.len()..]),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let mut n = Big::from_u64(0);
    for &c in int_part.iter().chain(frac_part) {
        let v = (c as char).to_digit(16)?;
        n.mul_small(16);
        n.add_small(u64::from(v));
    }
    if n.is_zero() {
        return Some(LongDouble::special(neg, Class::Zero));
    }
    let e = exp2 - 4 * frac_part.len() as i64;
    let v = round_big(neg, &n, e, false);
    if v.class == Class::Zero {
        return None;
    }
    Some(v)
}

/// `num / den` when the quotient is known to be below 2^69; returns it and whether a remainder
/// was left.
fn divide_small_quotient(mut num: Big, den: &Big) -> (u128, bool) {
    const BITS: u64 = 69;
    let mut d = den.clone();
    d.shl_assign(BITS - 1);
    let mut q: u128 = 0;
    for i in (0..BITS).rev() {
        if num.cmp_big(&d) != Ordering::Less {
            num.sub_assign(&d);
            q |= 1 << i;
        }
        d.shr_assign(1);
    }
    (q, !num.is_zero())
}

/// A small unsigned big integer: little-endian 64-bit limbs, no high zero limbs.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Big(Vec<u64>);

impl Big {
    fn from_u64(v: u64) -> Big {
        let mut b = Big(vec![v]);
        b.trim();
        b
    }

    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    fn from_decimal(digits: &[u8]) -> Big {
        let mut b = Big::from_u64(0);
        for chunk in digits.chunks(19) {
            let mut v = 0u64;
            for &c in chunk {
                v = v * 10 + u64::from(c - b'0');
            }
            b.mul_small(10u64.pow(chunk.len() as u32));
            b.add_small(v);
        }
        b
    }

    fn mul_small(&mut self, m: u64) {
        let mut carry: u128 = 0;
        for limb in &mut self.0 {
            let p = u128::from(*limb) * u128::from(m) + carry;
            *limb = p as u64;
            carry = p >> 64;
        }
        if carry != 0 {
            self.0.push(carry as u64);
        }
        self.trim();
    }

    fn add_small(&mut self, a: u64) {
        let mut carry = a;
        for limb in &mut self.0 {
            if carry == 0 {
                return;
            }
            let (s, o) = limb.overflowing_add(carry);
            *limb = s;
            carry = u64::from(o);
        }
        if carry != 0 {
            self.0.push(carry);
        }
    }

    fn mul_pow10(&mut self, mut n: u64) {
        const P19: u64 = 10_000_000_000_000_000_000;
        while n >= 19 {
            self.mul_small(P19);
            n -= 19;
        }
        self.mul_small(10u64.pow(n as u32));
    }

    fn bit_len(&self) -> u64 {
        match self.0.last() {
            None => 0,
            Some(top) => (self.0.len() as u64 - 1) * 64 + 64 - u64::from(top.leading_zeros()),
        }
    }

    fn shl_assign(&mut self, n: u64) {
        if self.is_zero() || n == 0 {
            return;
        }
        let limbs = (n / 64) as usize;
        let bits = (n % 64) as u32;
        let mut out = vec![0u64; limbs];
        if bits == 0 {
            out.extend_from_slice(&self.0);
        } else {
            let mut carry = 0u64;
            for &l in &self.0 {
                out.push((l << bits) | carry);
                carry = l >> (64 - bits);
            }
            out.push(carry);
        }
        self.0 = out;
        self.trim();
    }

    fn shr_assign(&mut self, n: u64) {
        let limbs = (n / 64) as usize;
        if limbs >= self.0.len() {
            self.0.clear();
            return;
        }
        self.0.drain(..limbs);
        let bits = (n % 64) as u32;
        if bits != 0 {
            for i in 0..self.0.len() {
                let hi = self.0.get(i + 1).copied().unwrap_or(0);
                self.0[i] = (self.0[i] >> bits) | (hi << (64 - bits));
            }
        }
        self.trim();
    }

    /// Whether any of the lowest `n` bits is set.
    fn low_bits_nonzero(&self, n: u64) -> bool {
        let limbs = (n / 64) as usize;
        let bits = n % 64;
        if self.0.iter().take(limbs).any(|&l| l != 0) {
            return true;
        }
        bits != 0 && self.0.get(limbs).is_some_and(|&l| l & ((1u64 << bits) - 1) != 0)
    }

    fn low_u128(&self) -> u128 {
        let lo = self.0.first().copied().unwrap_or(0);
        let hi = self.0.get(1).copied().unwrap_or(0);
        (u128::from(hi) << 64) | u128::from(lo)
    }

    fn cmp_big(&self, other: &Big) -> Ordering {
        self.0
            .len()
            .cmp(&other.0.len())
            .then_with(|| self.0.iter().rev().cmp(other.0.iter().rev()))
    }

    /// `self -= other`, with `self >= other`.
    fn sub_assign(&mut self, other: &Big) {
        let mut borrow = false;
        for (i, limb) in self.0.iter_mut().enumerate() {
            let o = other.0.get(i).copied().unwrap_or(0);
            let (d1, b1) = limb.overflowing_sub(o);
            let (d2, b2) = d1.overflowing_sub(u64::from(borrow));
            *limb = d2;
            borrow = b1 || b2;
        }
        self.trim();
    }

    /// Divides in place by `d` and returns the remainder.
    fn div_small(&mut self, d: u64) -> u64 {
        let mut rem: u128 = 0;
        for limb in self.0.iter_mut().rev() {
            let cur = (rem << 64) | u128::from(*limb);
            *limb = (cur / u128::from(d)) as u64;
            rem = cur % u128::from(d);
        }
        self.trim();
        rem as u64
    }

    fn to_decimal(&self) -> String {
        const P19: u64 = 10_000_000_000_000_000_000;
        if self.is_zero() {
            return "0".into();
        }
        let mut n = self.clone();
        let mut chunks = Vec::new();
        while !n.is_zero() {
            chunks.push(n.div_small(P19));
        }
        let mut s = String::with_capacity(chunks.len() * 19);
        let mut it = chunks.iter().rev();
        if let Some(first) = it.next() {
            s.push_str(&first.to_string());
        }
        for c in it {
            s.push_str(&format!("{:019}", c));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> LongDouble {
        LongDouble::parse(s.as_bytes()).unwrap_or_else(|| panic!("{} should parse", s))
    }

    fn sum(a: &str, b: &str) -> String {
        p(a).add(p(b)).format_human()
    }

    #[test]
    fn sums_print_as_redis_prints_them() {
        assert_eq!(sum("10.5", "0.1"), "10.6");
        assert_eq!(sum("0.1", "0.2"), "0.3");
        assert_eq!(sum("5.0e3", "0"), "5000");
        assert_eq!(sum("3.0e3", "0"), "3000");
        assert_eq!(sum("5000", "-5000"), "0");
        assert_eq!(sum("1.5", "1"), "2.5");
        assert_eq!(sum("-1.5", "0.25"), "-1.25");
        assert_eq!(sum("0", "-0.0000000000000000001"), "0");
        assert_eq!(sum("0", "0.000000000000000005"), "0");
        assert_eq!(sum("0", "0.000000000000000015"), "0.00000000000000002");
        assert_eq!(sum("0", "0.000000000000000025"), "0.00000000000000002");
        assert_eq!(sum("-0", "-0"), "0");
        assert_eq!(sum("0x1p3", "0"), "8");
        assert_eq!(sum("0X1P-2", "0"), "0.25");
        assert_eq!(sum("1e-4940", "0"), "0");
        assert_eq!(sum("1e400", "-1e400"), "0");
    }

    #[test]
    fn huge_values_print_every_digit() {
        let s = sum("1e400", "0");
        assert_eq!(s.len(), 401);
        assert!(s.starts_with("10000000000000000000281880683947586514586453433629"));
        assert!(s.ends_with("221946880"));
        let max = sum("1.18973149535723176502e+4932", "0");
        assert!(max.starts_with("118973149535723176502126385303097020516906332229462"));
        assert!(max.ends_with("86811989770240"));
        assert_eq!(max.len(), 4933);
    }

    #[test]
    fn parse_follows_string2ld() {
        assert!(LongDouble::parse(b"1.18973149535723176508e+4932").is_none());
        assert!(LongDouble::parse(b"1e-5000").is_none());
        assert!(LongDouble::parse(b"2e-4951").is_some());
        assert!(LongDouble::parse(b"1e-4951").is_none());
        assert!(LongDouble::parse(b"0e-99999").is_some());
        for bad in [
            &b""[..], b" 1", b"\t1", b"1 ", b"1\t", b"nan", b"-nan", b"1e", b"1e+", b"0x",
            b"0x1p", b".", b"-", b"+", b"\x00", b"1.5\x00zz", b"abc", b"1..2", b"--1", b"+-1",
            b"0x.p1", b"infinit", b"1e5.5",
        ] {
            assert!(LongDouble::parse(bad).is_none(), "{:?}", String::from_utf8_lossy(bad));
        }
        for good in [&b"+1"[..], b".5", b"5.", b"-.5e1", b"inf", b"-Infinity", b"INF", b"0x.8", b"0x1.8p1"] {
            assert!(LongDouble::parse(good).is_some(), "{:?}", String::from_utf8_lossy(good));
        }
        assert!(!p("inf").is_finite());
        assert!(!p("inf").add(p("-inf")).is_finite());
        let mut long = b"1.".to_vec();
        long.resize(MAX_CHARS, b'0');
        assert!(LongDouble::parse(&long).is_none());
        assert_eq!(LongDouble::parse(&long[..MAX_CHARS - 1]).map(|v| v.format_human()), Some("1".into()));
    }

    #[test]
    fn integers_are_exact() {
        assert_eq!(LongDouble::from_i64(i64::MIN).format_human(), "-9223372036854775808");
        assert_eq!(LongDouble::from_i64(i64::MAX).format_human(), "9223372036854775807");
        assert_eq!(
            LongDouble::from_i64(i64::MAX).add(LongDouble::from_i64(1)).format_human(),
            "9223372036854775808"
        );
        // 2^64 + 1 does not fit 64 mantissa bits: the tie rounds to even.
        assert_eq!(sum("18446744073709551616", "1"), "18446744073709551616");
        assert_eq!(sum("18446744073709551616", "3"), "18446744073709551620");
    }

    #[test]
    fn extended_precision_is_visible() {
        // In f64 these would print with a long tail of 9s or a different last digit.
        assert_eq!(sum("1.1", "2.2"), "3.3");
        assert_eq!(sum("3.0", "0.00000000000000001"), "3.00000000000000001");
        assert_eq!(sum("1", "1e-18"), "1");
        assert_eq!(sum("123456789.123456789", "0"), "123456789.12345678899873747");
    }

    #[test]
    fn overflow_and_cancellation() {
        let max = p("1.18973149535723176502e+4932");
        assert!(!max.add(max).is_finite());
        assert!(max.add(max.neg()).format_human() == "0");
        let tiny = p("4e-4951");
        assert_eq!(tiny.add(tiny.neg()).format_human(), "0");
        assert!(tiny.add(tiny).is_finite());
    }

    impl LongDouble {
        fn neg(self) -> LongDouble {
            LongDouble { neg: !self.neg, ..self }
        }
    }
}
