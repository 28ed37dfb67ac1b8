//! The parallel LIBSVM parser: the file is memory-mapped, cut into one piece per thread at line
//! boundaries, and each piece parsed into its own CSR arrays without allocating per line; the
//! pieces are then joined. Errors carry the same file:line:column as the sequential reader.

use crate::error::{Error, Result};
use rayon::prelude::*;

/// What one piece of the file parses into.
#[derive(Default)]
pub(crate) struct Piece {
    pub labels: Vec<f64>,
    pub indptr: Vec<usize>,
    pub indices: Vec<u32>,
    pub values: Vec<f64>,
    pub min_index: u64,
    pub max_index: u64,
    pub lines: usize,
}

/// A parse error inside a piece: (line within the piece, column, message).
type PieceError = (usize, usize, String);

fn parse_piece(bytes: &[u8]) -> std::result::Result<Piece, PieceError> {
    let mut p = Piece {
        indptr: vec![0],
        min_index: u64::MAX,
        ..Piece::default()
    };
    for raw in bytes.split(|&b| b == b'\n') {
        p.lines += 1;
        let line = raw.split(|&b| b == b'#').next().unwrap_or(&[]);
        let mut pos = 0;
        let mut tokens = std::iter::from_fn(|| {
            while pos < line.len() && line[pos].is_ascii_whitespace() {
                pos += 1;
            }
            if pos >= line.len() {
                return None;
            }
            let start = pos;
            while pos < line.len() && !line[pos].is_ascii_whitespace() {
                pos += 1;
            }
            Some((start + 1, &line[start..pos]))
        });
        let Some((col, label)) = tokens.next() else { continue };
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
            p.values.push(val);
        }
        p.indptr.push(p.indices.len());
    }
    Ok(p)
}

/// Parses `bytes` in `parts` pieces cut at newlines; `name` for messages. Returns the pieces in
/// order and the total line count.
pub(crate) fn parse_parallel(bytes: &[u8], name: &str, parts: usize) -> Result<Vec<Piece>> {
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
    let results: Vec<std::result::Result<Piece, PieceError>> = ranges
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
