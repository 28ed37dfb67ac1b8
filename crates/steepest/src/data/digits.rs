//! Eight ASCII digits at a time (SWAR: one 64-bit word holds eight bytes, the first in its
//! lowest byte): how many digits a token starts with, and their value, without a branch per
//! byte. The text parsers use them for the short numbers that fill sparse files (`17:-0.8727`);
//! anything longer goes through their byte-by-byte loops.
//!
//! Reference: D. Lemire, "Number Parsing at a Gigabyte per Second", Software: Practice and
//! Experience 51 (2021), section 4 (eight digits in three multiplications).

/// The eight bytes at `at` (the first in the lowest byte); the caller ensures `at + 8 <= len`.
#[inline(always)]
pub(crate) fn word(bytes: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(b)
}

/// How many of the bytes of `w`, from the first, are ASCII digits (8 when all are).
///
/// With x = w xor '0' a digit byte is 0..=9; x + 0x76 sets a byte's high bit exactly when
/// x >= 10, and `| x` covers the bytes whose own high bit is set. A carry out of a byte can
/// only come from a non-digit, so it disturbs only the bytes after the first non-digit.
#[inline(always)]
pub(crate) fn leading_digits(w: u64) -> usize {
    let x = w ^ 0x3030_3030_3030_3030;
    let t = (x.wrapping_add(0x7676_7676_7676_7676) | x) & 0x8080_8080_8080_8080;
    (t.trailing_zeros() / 8) as usize
}

/// The value of the first `len` (0..=8) bytes of `w`, which are ASCII digits.
///
/// The digits are shifted to the top of the word (the bytes below become leading zeros) and
/// combined pairwise: 8 digits -> 4 two-digit -> 2 four-digit -> 1 eight-digit number.
#[inline(always)]
pub(crate) fn digits_value(w: u64, len: usize) -> u64 {
    if len == 0 {
        return 0;
    }
    let v = (w & 0x0F0F_0F0F_0F0F_0F0F) << (8 * (8 - len));
    let v = v.wrapping_mul(10).wrapping_add(v >> 8);
    const MASK: u64 = 0x0000_00FF_0000_00FF;
    const MUL1: u64 = 100 + (1_000_000 << 32);
    const MUL2: u64 = 1 + (10_000 << 32);
    ((v & MASK)
        .wrapping_mul(MUL1)
        .wrapping_add(((v >> 16) & MASK).wrapping_mul(MUL2)))
        >> 32
}

/// 10^k for k = 0..=8, as integers.
pub(crate) const POW10_U64: [u64; 9] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000];

#[cfg(test)]
mod tests {
    use super::*;

    fn padded(s: &str) -> u64 {
        let mut b = [b' '; 8];
        b[..s.len().min(8)].copy_from_slice(&s.as_bytes()[..s.len().min(8)]);
        word(&b, 0)
    }

    #[test]
    fn leading_digits_and_their_value_match_a_byte_loop() {
        let tails = ["", " ", ":", ".", "\n", "x", "\u{e9}", "/", "\u{7f}"];
        let mut rng = 12345u64;
        for _ in 0..20000 {
            rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let len = (rng >> 33) as usize % 9;
            let digits: String = (0..len)
                .map(|k| char::from(b'0' + ((rng >> (k * 3)) % 10) as u8))
                .collect();
            let tail = tails[(rng >> 60) as usize % tails.len()];
            let s = format!("{digits}{tail}7");
            let w = padded(&s);
            let want = s.bytes().take(8).take_while(u8::is_ascii_digit).count();
            assert_eq!(leading_digits(w), want, "{s:?}");
            let value: u64 = s[..want].parse().unwrap_or(0);
            assert_eq!(digits_value(w, want), value, "{s:?}");
        }
        // Every byte value after a digit.
        for b in 0..=255u8 {
            let w = word(&[b'4', b, b'1', b'1', b'1', b'1', b'1', b'1'], 0);
            let want = if b.is_ascii_digit() { 8 } else { 1 };
            assert_eq!(leading_digits(w), want, "byte {b}");
        }
        assert_eq!(digits_value(padded("12345678"), 8), 12_345_678);
        assert_eq!(digits_value(padded("00000009"), 8), 9);
        assert_eq!(digits_value(padded("99999999"), 8), 99_999_999);
    }
}
