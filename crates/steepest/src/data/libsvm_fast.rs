//! The parallel LIBSVM parser: the file is memory-mapped, cut into one piece per thread at line
//! boundaries, and each piece parsed into its own CSR arrays without allocating per line; the
//! pieces are then joined. Errors carry the same file:line:column as the sequential reader.

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

/// The common line at the start of `line` (which runs on to the end of the piece), in one pass:
/// `label (idx:value)*` separated by spaces or tabs, increasing indices, finite numbers, no
/// `qid` and no comment. Returns where the line ends (its newline, or the end), or `None`,
/// having added nothing, for any other line (the careful parser then reads it and names what
/// is wrong).
#[inline]
fn parse_line_fast<T: Scalar>(line: &[u8], p: &mut Piece<T>) -> Option<usize> {
    let n = line.len();
    let ws = |b: u8| b == b' ' || b == b'\t' || b == b'\r';
    // A token ends at a space, a tab, a carriage return or the newline.
    let stop = |b: u8| ws(b) || b == b'\n';
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
        // At most 11 digits are read (more cannot be a u32 index; the careful parser says so),
        // so the u64 cannot overflow.
        while i < n && line[i].is_ascii_digit() && i - d0 <= 10 {
            idx = idx * 10 + (line[i] - b'0') as u64;
            i += 1;
        }
        let digits = i - d0;
        if digits == 0 || digits > 10 || i == n || line[i] != b':' || idx > u32::MAX as u64 {
            return undo(p);
        }
        if last.is_some_and(|q| idx <= q) {
            return undo(p);
        }
        i += 1;
        let v0 = i;
        while i < n && !stop(line[i]) {
            i += 1;
        }
        let tok = &line[v0..i];
        let val = if tok == b"1" {
            Some(1.0)
        } else {
            number(tok).filter(|v| v.is_finite())
        };
        let Some(val) = val else {
            return undo(p);
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

fn parse_piece<T: Scalar>(bytes: &[u8]) -> std::result::Result<Piece<T>, PieceError> {
    let mut p = Piece::new();
    // Sized up front (a colon per entry, a newline per row, counted at memory speed): growing
    // by doubling would copy every array several times into fresh pages.
    let (entries, rows) = (
        memchr::memchr_iter(b':', bytes).count(),
        memchr::memchr_iter(b'\n', bytes).count() + 1,
    );
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

/// [`parse_parallel`] of bytes that follow `lines_before` lines of the file: errors name the
/// line in the whole file.
pub(crate) fn parse_parallel_after<T: Scalar>(
    bytes: &[u8],
    name: &str,
    lines_before: usize,
    text: &super::vw::SparseText,
) -> Result<Vec<Piece<T>>> {
    let parts = rayon::current_num_threads();
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
    #[test]
    fn decimals_by_hand_equal_the_standard_parser() {
        for t in [
            "0",
            "-0",
            "1",
            "12.375",
            "-0.1",
            "0.30000000000000004",
            "123456789012345",
            "1.",
            ".5",
            "-.25",
            "99999.99999",
            "0.000000000000001",
            "7.0e3",
            "1e-7",
            "inf",
            "1.2.3",
            "+3.5",
            "-",
        ] {
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
}
