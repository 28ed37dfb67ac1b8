//! The parallel LIBSVM parser: the file is memory-mapped, cut into one piece per thread at line
//! boundaries, and each piece parsed into its own CSR arrays without allocating per line; the
//! pieces are then joined. Errors carry the same file:line:column as the sequential reader.

use super::digits;
use crate::error::{Error, Result};
use crate::tensor::Scalar;
use rayon::prelude::*;

/// What one piece of the file parses into (values already in the dataset's element type).
pub(crate) struct Piece<T> {
    pub labels: Vec<f64>,
    pub indptr: Vec<usize>,
    pub indices: Vec<u32>,
    pub values: Vec<T>,
    pub min_index: u64,
    pub max_index: u64,
    pub lines: usize,
}

impl<T> Piece<T> {
    /// No rows (the smallest index at its largest value, so that any index lowers it).
    pub(crate) fn new() -> Self {
        Piece {
            labels: Vec::new(),
            indptr: vec![0],
            indices: Vec::new(),
            values: Vec::new(),
            min_index: u64::MAX,
            max_index: 0,
            lines: 0,
        }
    }
}

/// A number token: integers and plain decimals (`-12.375`) of at most 15 digits by hand,
/// anything else (exponents, longer digit strings, `inf`) by the standard library's parser.
/// A decimal m / 10^k with m < 2^53 and k <= 22 is exact in both operands, so the one division
/// is correctly rounded (Clinger's fast path): the same f64 as `str::parse`.
#[inline]
pub(crate) fn number(tok: &[u8]) -> Option<f64> {
    let (neg, digits) = match tok.first() {
        Some(b'-') => (true, &tok[1..]),
        Some(b'+') => (false, &tok[1..]),
        _ => (false, tok),
    };
    const POW10: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    if !digits.is_empty() && digits.len() <= 16 {
        let (mut m, mut count, mut frac, mut dot) = (0u64, 0usize, 0usize, false);
        let mut plain = true;
        for &d in digits {
            if d.is_ascii_digit() {
                m = m * 10 + (d - b'0') as u64;
                count += 1;
                frac += usize::from(dot);
            } else if d == b'.' && !dot {
                dot = true;
            } else {
                plain = false;
                break;
            }
        }
        if plain && count > 0 && count <= 15 {
            let v = m as f64 / POW10[frac];
            return Some(if neg { -v } else { v });
        }
    }
    std::str::from_utf8(tok).ok()?.parse::<f64>().ok()
}

/// Whether a byte separates tokens within a line: a space, a tab or a carriage return.
#[inline(always)]
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r')
}

/// Whether a byte ends a token: a separator or the newline.
#[inline(always)]
fn ends_token(b: u8) -> bool {
    is_space(b) || b == b'\n'
}

/// m / 10^k for a decimal's digits m < 10^15 and k <= 15: the correctly rounded quotient by
/// one division. With `narrow` (only its rounding to f32 will be kept), m * 10^-k, a
/// multiplication (several times faster), whenever that provably rounds to the same f32:
/// the product is within 2 ulps (f64) of m / 10^k, and f32's rounding boundaries are the f64
/// values whose 29 bits below f32's mantissa are 1000...0, so a product more than 4 ulps from
/// such a pattern lies on the same side of every boundary as the quotient.
#[inline(always)]
fn scaled(m: u64, k: usize, narrow: bool) -> f64 {
    const POW10: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    const INV_POW10: [f64; 16] = [
        1e0, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10, 1e-11, 1e-12, 1e-13, 1e-14, 1e-15,
    ];
    // m < 2^63: the signed conversion is one instruction.
    let mf = (m as i64) as f64;
    if narrow {
        let y = mf * INV_POW10[k];
        if (y.to_bits() & 0x1FFF_FFFF).abs_diff(0x1000_0000) > 4 {
            return y;
        }
    }
    mf / POW10[k]
}

/// The number token starting at `line[i]` when it is a plain decimal (`-12.375`, at most 15
/// digits, no `+`) ending at a space, a tab, a carriage return, a newline or the end, parsed
/// while it is scanned: (its value, where it ends). Exactly [`number`]'s value; `None` for any
/// other token, which the caller reads whole with [`number`]. `narrow`: the value will be
/// rounded to f32 (see [`scaled`]), and is then only exact to that.
#[inline(always)]
fn plain_decimal(line: &[u8], mut i: usize, narrow: bool) -> Option<(f64, usize)> {
    let n = line.len();
    let neg = i < n && line[i] == b'-';
    i += usize::from(neg);
    let sign = |v: f64| if neg { -v } else { v };
    // Eight bytes at a time: the integer part, then the fraction after a dot, each of at most
    // 7 digits here (a longer one goes through the loop below).
    if i + 16 <= n {
        let w = digits::word(line, i);
        let a = digits::leading_digits(w);
        if a < 8 && line[i + a] == b'.' {
            let w2 = digits::word(line, i + a + 1);
            let b = digits::leading_digits(w2);
            let end = i + a + 1 + b;
            if b < 8 && a + b > 0 && ends_token(line[end]) {
                let m = digits::digits_value(w, a) * digits::POW10_U64[b] + digits::digits_value(w2, b);
                return Some((sign(scaled(m, b, narrow)), end));
            }
        } else if a > 0 && a < 8 && ends_token(line[i + a]) {
            return Some((sign(digits::digits_value(w, a) as f64), i + a));
        }
    }
    let (start, mut m) = (i, 0u64);
    while i < n && line[i].is_ascii_digit() {
        m = m.wrapping_mul(10).wrapping_add((line[i] - b'0') as u64);
        i += 1;
    }
    let mut count = i - start;
    let mut frac = 0;
    if i < n && line[i] == b'.' {
        i += 1;
        let f0 = i;
        while i < n && line[i].is_ascii_digit() {
            m = m.wrapping_mul(10).wrapping_add((line[i] - b'0') as u64);
            i += 1;
        }
        frac = i - f0;
        count += frac;
    }
    if count == 0 || count > 15 || (i < n && !ends_token(line[i])) {
        return None;
    }
    Some((sign(scaled(m, frac, narrow)), i))
}

/// The common line at the start of `line` (which runs on to the end of the piece), in one pass:
/// `label (idx:value)*` separated by spaces or tabs, increasing indices, finite numbers, no
/// `qid` and no comment. Returns where the line ends (its newline, or the end), or `None`,
/// having added nothing, for any other line (the careful parser then reads it and names what
/// is wrong).
#[inline]
fn parse_line_fast<T: Scalar>(line: &[u8], p: &mut Piece<T>) -> Option<usize> {
    let n = line.len();
    let (ws, stop) = (is_space, ends_token);
    let mut i = 0;
    while i < n && ws(line[i]) {
        i += 1;
    }
    if i == n || line[i] == b'\n' {
        return None;
    }
    let start = i;
    while i < n && !stop(line[i]) {
        i += 1;
    }
    let label = number(&line[start..i]).filter(|v| v.is_finite())?;
    let (mark, mut last) = (p.indices.len(), None::<u64>);
    let (mut lo, mut hi) = (p.min_index, p.max_index);
    let undo = |p: &mut Piece<T>| {
        p.indices.truncate(mark);
        p.values.truncate(mark);
        None
    };
    loop {
        while i < n && ws(line[i]) {
            i += 1;
        }
        if i == n || line[i] == b'\n' {
            break;
        }
        let mut idx: u64 = 0;
        let d0 = i;
        // Up to 7 digits eight bytes at a time; else at most 11 digits are read (more cannot
        // be a u32 index; the careful parser says so), so the u64 cannot overflow.
        let short = match i + 8 <= n {
            true => {
                let w = digits::word(line, i);
                let a = digits::leading_digits(w);
                (a < 8).then(|| (digits::digits_value(w, a), a))
            }
            false => None,
        };
        if let Some((v, a)) = short {
            (idx, i) = (v, i + a);
        } else {
            while i < n && line[i].is_ascii_digit() && i - d0 <= 10 {
                idx = idx * 10 + (line[i] - b'0') as u64;
                i += 1;
            }
        }
        let digits = i - d0;
        if digits == 0 || digits > 10 || i == n || line[i] != b':' || idx > u32::MAX as u64 {
            return undo(p);
        }
        if last.is_some_and(|q| idx <= q) {
            return undo(p);
        }
        i += 1;
        let val = match plain_decimal(line, i, std::mem::size_of::<T>() == 4) {
            Some((v, end)) => {
                i = end;
                v
            }
            None => {
                let v0 = i;
                while i < n && !stop(line[i]) {
                    i += 1;
                }
                match number(&line[v0..i]).filter(|v| v.is_finite()) {
                    Some(v) => v,
                    None => return undo(p),
                }
            }
        };
        last = Some(idx);
        lo = lo.min(idx);
        hi = hi.max(idx);
        p.indices.push(idx as u32);
        p.values.push(T::of(val));
    }
    p.labels.push(label);
    p.indptr.push(p.indices.len());
    p.min_index = lo;
    p.max_index = hi;
    Some(i)
}

/// A parse error inside a piece: (line within the piece, column, message).
pub(crate) type PieceError = (usize, usize, String);

/// The colons and the newlines of `bytes`, in one pass: counted in bytes over runs of 255
/// (which cannot overflow one), so that the loop compares a vector of bytes at a time.
fn colons_and_newlines(bytes: &[u8]) -> (usize, usize) {
    let (mut colons, mut newlines) = (0, 0);
    for run in bytes.chunks(255) {
        let (mut c, mut n) = (0u8, 0u8);
        for &b in run {
            c += u8::from(b == b':');
            n += u8::from(b == b'\n');
        }
        colons += usize::from(c);
        newlines += usize::from(n);
    }
    (colons, newlines)
}

fn parse_piece<T: Scalar>(bytes: &[u8]) -> std::result::Result<Piece<T>, PieceError> {
    let mut p = Piece::new();
    // Sized up front, by counting: a colon per entry, a newline per row (a pass at memory
    // speed, which also brings the piece into the cache for the parse). Growing by doubling
    // would copy every array several times; reserving by the length's bound (an entry takes
    // 4 bytes at least, a row 2) reserved 5 times what a row of W2 needs, and a stream, whose
    // pieces reuse freed memory, had its resident memory creep up to those bounds (W2
    // through the binary: from 55 MB to 123 MB over one pass).
    let (colons, newlines) = colons_and_newlines(bytes);
    let (entries, rows) = (colons, newlines + 1);
    p.labels.reserve(rows);
    p.indptr.reserve(rows);
    p.indices.reserve(entries);
    p.values.reserve(entries);
    let mut at = 0;
    loop {
        p.lines += 1;
        let end = match parse_line_fast(&bytes[at..], &mut p) {
            Some(e) => at + e,
            None => {
                let end = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |e| at + e);
                parse_line_careful(&bytes[at..end], &mut p)?;
                end
            }
        };
        if end >= bytes.len() {
            break;
        }
        at = end + 1;
    }
    Ok(p)
}

/// Any line, token by token, with an error naming the column of what is wrong.
fn parse_line_careful<T: Scalar>(raw: &[u8], p: &mut Piece<T>) -> std::result::Result<(), PieceError> {
    {
        let line = raw.split(|&b| b == b'#').next().unwrap_or(&[]);
        // Columns are 1-based in messages.
        let mut tokens = tokens(line).map(|(at, t)| (at + 1, t));
        let Some((col, label)) = tokens.next() else {
            return Ok(());
        };
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        if label.contains(&b':') {
            return Err((
                p.lines,
                col,
                format!(
                    "missing target: the line starts with '{}', expected a label",
                    text(label)
                ),
            ));
        }
        let lv = std::str::from_utf8(label)
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
            .filter(|v| v.is_finite());
        if lv.is_none() {
            return Err((
                p.lines,
                col,
                format!("expected a numeric label, found '{}'", text(label)),
            ));
        }
        p.labels.push(lv.expect("checked above"));
        let mut last: Option<u64> = None;
        for (col, tok) in tokens {
            let Some(colon) = tok.iter().position(|&b| b == b':') else {
                return Err((p.lines, col, format!("expected index:value, found '{}'", text(tok))));
            };
            let (k, v) = (&tok[..colon], &tok[colon + 1..]);
            if k == b"qid" {
                continue;
            }
            let mut idx: u64 = 0;
            if k.is_empty() || k.len() > 19 || !k.iter().all(u8::is_ascii_digit) {
                return Err((
                    p.lines,
                    col,
                    format!("expected a non-negative integer index, found '{}'", text(k)),
                ));
            }
            for &d in k {
                idx = idx * 10 + (d - b'0') as u64;
            }
            let val = if v == b"1" {
                1.0
            } else {
                std::str::from_utf8(v)
                    .ok()
                    .and_then(|s| s.parse::<f64>().ok())
                    .ok_or_else(|| {
                        (
                            p.lines,
                            col + colon + 1,
                            format!("expected a number, found '{}'", text(v)),
                        )
                    })?
            };
            if !val.is_finite() {
                return Err((
                    p.lines,
                    col + colon + 1,
                    format!("expected a finite number, found '{}'", text(v)),
                ));
            }
            if let Some(prev) = last.filter(|&q| idx <= q) {
                return Err((p.lines, col, format!("indices must increase: {idx} follows {prev}")));
            }
            if idx > u32::MAX as u64 {
                return Err((p.lines, col, format!("index {idx} is too large")));
            }
            last = Some(idx);
            p.min_index = p.min_index.min(idx);
            p.max_index = p.max_index.max(idx);
            p.indices.push(idx as u32);
            p.values.push(T::of(val));
        }
        p.indptr.push(p.indices.len());
    }
    Ok(())
}

/// The whitespace-separated tokens of `s` with their 0-based offsets.
pub(crate) fn tokens(s: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let mut at = 0;
    std::iter::from_fn(move || {
        while at < s.len() && s[at].is_ascii_whitespace() {
            at += 1;
        }
        if at >= s.len() {
            return None;
        }
        let start = at;
        while at < s.len() && !s[at].is_ascii_whitespace() {
            at += 1;
        }
        Some((start, &s[start..at]))
    })
}

/// The pieces' rows as one piece, in order (the smallest and largest index over all). The
/// first piece's arrays become the result's: growing them moves no data (a large allocation is
/// remapped), so only the later pieces are copied.
pub(crate) fn join_pieces<T: Scalar>(pieces: Vec<Piece<T>>) -> Piece<T> {
    let nnz: usize = pieces.iter().map(|p| p.indices.len()).sum();
    let rows: usize = pieces.iter().map(|p| p.labels.len()).sum();
    let mut pieces = pieces.into_iter();
    let Some(mut out) = pieces.next() else {
        return Piece::new();
    };
    out.labels.reserve(rows - out.labels.len());
    out.indptr.reserve(rows + 1 - out.indptr.len());
    out.indices.reserve(nnz - out.indices.len());
    out.values.reserve(nnz - out.values.len());
    for p in pieces {
        let base = out.indices.len();
        out.indptr.extend(p.indptr[1..].iter().map(|&o| o + base));
        out.labels.extend(p.labels);
        out.indices.extend(p.indices);
        out.values.extend(p.values);
        out.min_index = out.min_index.min(p.min_index);
        out.max_index = out.max_index.max(p.max_index);
        out.lines += p.lines;
    }
    out
}

/// [`parse_parallel`] of bytes that follow `lines_before` lines of the file, in `parts` pieces:
/// errors name the line in the whole file.
pub(crate) fn parse_parallel_after<T: Scalar>(
    bytes: &[u8],
    name: &str,
    lines_before: usize,
    text: &super::vw::SparseText,
    parts: usize,
) -> Result<Vec<Piece<T>>> {
    let parsed = match text {
        super::vw::SparseText::Vw { crosses } => {
            parse_parallel_with(bytes, name, parts, &|b: &[u8]| super::vw::parse_piece::<T>(b, crosses))
        }
        super::vw::SparseText::Libsvm => parse_parallel(bytes, name, parts),
    };
    parsed.map_err(|e| match e {
        Error::Parse {
            file,
            line,
            column,
            msg,
        } => Error::Parse {
            file,
            line: line + lines_before,
            column,
            msg,
        },
        e => e,
    })
}

/// Parses `bytes` in `parts` pieces cut at newlines; `name` for messages. Returns the pieces in
/// order and the total line count.
pub(crate) fn parse_parallel<T: Scalar>(bytes: &[u8], name: &str, parts: usize) -> Result<Vec<Piece<T>>> {
    parse_parallel_with(bytes, name, parts, &parse_piece::<T>)
}

/// Parses a piece of whole lines.
pub(crate) type PieceParser<'a, T> = dyn Fn(&[u8]) -> std::result::Result<Piece<T>, PieceError> + Sync + 'a;

/// [`parse_parallel`] with another line format's piece parser (Vowpal Wabbit's).
pub(crate) fn parse_parallel_with<T: Scalar>(
    bytes: &[u8],
    name: &str,
    parts: usize,
    parse_piece: &PieceParser<'_, T>,
) -> Result<Vec<Piece<T>>> {
    let mut cuts = vec![0];
    for k in 1..parts.max(1) {
        let at = (bytes.len() * k / parts).max(*cuts.last().expect("non-empty"));
        let next = bytes[at..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |p| at + p + 1);
        cuts.push(next);
    }
    cuts.push(bytes.len());
    cuts.dedup();
    let ranges: Vec<(usize, usize)> = cuts.windows(2).map(|w| (w[0], w[1])).collect();
    let results: Vec<std::result::Result<Piece<T>, PieceError>> = ranges
        .par_iter()
        .map(|&(a, b)| {
            // A piece ending in a newline would otherwise count an empty last line.
            let piece = if b > a && bytes[b - 1] == b'\n' {
                &bytes[a..b - 1]
            } else {
                &bytes[a..b]
            };
            parse_piece(piece)
        })
        .collect();
    let mut pieces = Vec::with_capacity(results.len());
    let mut line_offset = 0;
    for r in results {
        match r {
            Ok(p) => {
                line_offset += p.lines;
                pieces.push(p);
            }
            Err((line, column, msg)) => {
                return Err(Error::Parse {
                    file: name.to_string(),
                    line: line_offset + line,
                    column,
                    msg,
                });
            }
        }
    }
    Ok(pieces)
}

#[cfg(test)]
mod tests {
    /// Decimals of every shape the hand-written parsers take (sign, no integer part, no
    /// fraction digits, 15 digits).
    const PLAIN: [&str; 13] = [
        "0",
        "-0",
        "1",
        "12.375",
        "-0.1",
        "1.",
        ".5",
        "-.25",
        "99999.99999",
        "123456789012345",
        "0.00000000000001",
        "-1.435",
        "0.8513",
    ];

    /// Tokens they leave to the standard library's parser (16 digits, exponents, `inf`, a
    /// `+`) or that are no number.
    const NOT_PLAIN: [&str; 7] = ["0.000000000000001", "7.0e3", "1e-7", "inf", "1.2.3", "+3.5", "-"];

    #[test]
    fn decimals_by_hand_equal_the_standard_parser() {
        for t in PLAIN.iter().chain(&NOT_PLAIN).chain(&["0.30000000000000004"]) {
            let ours = super::number(t.as_bytes());
            let std = t.parse::<f64>().ok();
            assert_eq!(ours.map(f64::to_bits), std.map(f64::to_bits), "{t}");
        }
        // Every 4-significant-digit decimal of a range, as the W2 files hold them.
        for i in -20000..20000 {
            let t = format!("{:.4}", i as f64 / 7919.0);
            assert_eq!(super::number(t.as_bytes()), t.parse::<f64>().ok(), "{t}");
        }
    }

    #[test]
    fn plain_decimals_while_scanning_equal_the_standard_parser() {
        for t in PLAIN {
            // Short lines take the byte loop, long ones eight bytes at a time.
            for end in [
                "",
                " 2:1",
                "\t",
                "\r\n",
                "\n3 1:2",
                " 2:0.5 3:1 4:2.25 5:6",
                "\n-1 2:0.125 7:1",
            ] {
                let line = format!("{t}{end}");
                let got = super::plain_decimal(line.as_bytes(), 0, false);
                assert_eq!(
                    got.map(|(v, e)| (v.to_bits(), e)),
                    Some((t.parse::<f64>().unwrap().to_bits(), t.len())),
                    "{line:?}"
                );
            }
        }
        // Random decimals in every shape up to 17 digits, before a long tail or at the end.
        let mut rng = 99u64;
        for _ in 0..50000 {
            rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let (a, b) = ((rng >> 20) as usize % 10, (rng >> 28) as usize % 10);
            let digit = |k: usize| char::from(b'0' + ((rng >> (k % 40)) % 10) as u8);
            let int: String = (0..a).map(digit).collect();
            let frac: String = (0..b).map(|k| digit(k + 7)).collect();
            let sign = if rng >> 63 == 1 { "-" } else { "" };
            let dot = if (rng >> 40).is_multiple_of(4) { "" } else { "." };
            let t = format!("{sign}{int}{dot}{frac}");
            let tail = if (rng >> 45).is_multiple_of(3) {
                ""
            } else {
                " 11:0.25 12:1 13:3.5"
            };
            let line = format!("{t}{tail}");
            let got = super::plain_decimal(line.as_bytes(), 0, false);
            match got {
                Some((v, e)) => {
                    assert_eq!(e, t.len(), "{line:?}");
                    assert_eq!(Some(v.to_bits()), t.parse::<f64>().ok().map(f64::to_bits), "{line:?}");
                }
                // Only tokens it leaves to `number`: no digits, or more than 15.
                None => assert!(a + b == 0 || a + b > 15 || (dot.is_empty() && a == 0), "{line:?}"),
            }
        }
        // Rounded to f32: the same f32 as the standard parser's f64 rounded, over decimals
        // of up to 8 digits in a range and random ones of up to 15.
        let check = |t: &str| {
            let line = format!("{t} 2:1 3:0.5 4:8");
            let (v, _) = super::plain_decimal(line.as_bytes(), 0, true).expect(t);
            assert_eq!(
                (v as f32).to_bits(),
                (t.parse::<f64>().unwrap() as f32).to_bits(),
                "{t}"
            );
        };
        let decimal = |m: u64, k: usize| {
            let t = format!("{m:0>k$}");
            format!("{}.{}", &t[..t.len() - k], &t[t.len() - k..])
        };
        for m in (0..100_000_000u64).step_by(9973) {
            for k in 0..9 {
                check(&decimal(m, k));
            }
        }
        for _ in 0..100_000 {
            rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let m = (rng >> 14) % 1_000_000_000_000_000;
            check(&decimal(m, (rng >> 3) as usize % (m.to_string().len() + 1)));
        }
        // The hard cases: the 15-digit decimal nearest the midpoint between two f32 values,
        // in several binades. On some of them the product m * 10^-k alone
        // rounds to the other f32 than the quotient (66 of these 200,000; counted, so that the check has cases
        // that only the margin gets right).
        let mut flips = 0;
        for start in [3.1e-6f32, 0.02, 1.0, 700.0, 5.0e6] {
            for bits in start.to_bits()..start.to_bits() + 40_000 {
                let mid = (f64::from(f32::from_bits(bits)) + f64::from(f32::from_bits(bits + 1))) / 2.0;
                let k = (14 - mid.log10().floor() as i32).clamp(0, 15) as usize;
                let m = (mid * 10f64.powi(k as i32)).round() as u64;
                let t = decimal(m, k);
                let product = m as f64 * format!("1e-{k}").parse::<f64>().unwrap();
                flips += usize::from(product as f32 != t.parse::<f64>().unwrap() as f32);
                check(&t);
            }
        }
        assert!(flips > 20, "{flips}");
        // Not plain: left to the whole-token parser.
        for t in NOT_PLAIN.iter().chain(&["", ".", "1234567890123456", "1.5x", "2:3"]) {
            assert_eq!(super::plain_decimal(t.as_bytes(), 0, false), None, "{t}");
        }
    }
}
