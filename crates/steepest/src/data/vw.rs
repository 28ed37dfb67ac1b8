//! Vowpal Wabbit's text format, read as sparse rows:
//! `label [importance] ['tag] |namespace[:scale] feature[:value] ... |namespace2 ...`.
//!
//! Features are named; each name becomes a column by Vowpal Wabbit's rule: a name of digits is
//! its number plus the namespace's hash, any other name is MurmurHash3(name) seeded with the
//! namespace's hash (MurmurHash3 of its name; 0 for the unnamed namespace). The columns are
//! these 32-bit hashes (a width of 2^32), which `--hash-bits` then folds into 2^N buckets,
//! counting the collisions (the CLI folds into 2^18 by default, Vowpal Wabbit's `-b`). A
//! namespace's scale multiplies its values; values of a name repeated in a row add up. The
//! label is a number; an importance weight other than 1 is refused (not supported); a tag is
//! ignored.
//!
//! Namespaces are the groups of Vowpal Wabbit's quadratic interactions (`-q ab`): a namespace is
//! known by its first letter (the unnamed one by a space), and crossing letters `a` and `b`
//! adds, for every feature i of a namespace starting with `a` and j of one starting with `b` in
//! the row, the feature `(h_i * 16777619) ^ h_j` (FNV's prime over the 32-bit hashes) with value
//! x_i x_j; a letter crossed with itself pairs each feature with itself and those after it
//! (Vowpal Wabbit's default). The crosses are made here, while the namespaces are known, before
//! any folding into buckets, so the folded column is Vowpal Wabbit's.

use super::dataset::{Dataset, Features};
use super::hashing::murmur3_32;
use super::interactions::FNV_PRIME;
use super::libsvm_fast::{join_pieces, number, parse_parallel_with, tokens, Piece, PieceError};
use crate::error::{Error, Result};
use crate::tensor::{CsrMatrix, Scalar};
use std::io::Read;
use std::path::Path;

/// The width of a Vowpal Wabbit file's columns before folding: every 32-bit hash.
pub const VW_WIDTH: usize = 1 << 32;

/// How a sparse text file is written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum SparseText {
    /// LIBSVM / svmlight: `label index:value ...`.
    #[default]
    Libsvm,
    /// Vowpal Wabbit's format, with the namespace crosses to make while reading (pairs of
    /// namespaces' first letters, `b' '` for the unnamed namespace).
    Vw {
        /// The crossed pairs of namespace letters.
        crosses: Vec<(u8, u8)>,
    },
}

impl SparseText {
    /// The syntax a file name implies (`.vw[.gz]`: Vowpal Wabbit's, without crosses).
    pub fn from_path(path: &Path) -> Self {
        match super::Format::from_path(path) == Some(super::Format::Vw) {
            true => SparseText::Vw { crosses: Vec::new() },
            false => SparseText::Libsvm,
        }
    }

    /// Whether this is Vowpal Wabbit's format.
    pub fn is_vw(&self) -> bool {
        matches!(self, SparseText::Vw { .. })
    }
}

/// Parses namespace crosses written as Vowpal Wabbit's `-q` arguments or as pairs: `ab`,
/// `a:b`, `user:item` (each namespace known by its first letter, as Vowpal Wabbit does), several
/// separated by commas; `_` is the unnamed namespace.
///
/// ```
/// use steepest::data::parse_namespace_crosses;
/// assert_eq!(parse_namespace_crosses("ab, user:item").unwrap(), vec![(b'a', b'b'), (b'u', b'i')]);
/// assert!(parse_namespace_crosses("abc").is_err());
/// ```
pub fn parse_namespace_crosses(spec: &str) -> Result<Vec<(u8, u8)>> {
    let bad = |m: String| Error::invalid("interactions", m);
    let letter = |s: &str| -> Result<u8> {
        match s.as_bytes().first() {
            Some(b'_') if s.len() == 1 => Ok(b' '),
            Some(&c) if c.is_ascii_graphic() && c != b'|' && c != b':' => Ok(c),
            _ => Err(bad(format!(
                "'{s}': a namespace is named by its first letter (ASCII, '_' for the unnamed one)"
            ))),
        }
    };
    let mut out = Vec::new();
    for pair in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (a, b) = match pair.split_once(':') {
            Some((a, b)) => (letter(a.trim())?, letter(b.trim())?),
            None if pair.len() == 2 => (letter(&pair[..1])?, letter(&pair[1..])?),
            None => {
                return Err(bad(format!(
                    "'{pair}': cross two namespaces, as 'ab' (Vowpal Wabbit's -q ab) or 'a:b'"
                )))
            }
        };
        if !out.contains(&(a, b)) {
            out.push((a, b));
        }
    }
    if out.is_empty() {
        return Err(bad("no pairs: write two namespace letters, e.g. ab or a:b".into()));
    }
    Ok(out)
}

/// Reads a Vowpal Wabbit text file (gzip by its magic bytes) into sparse rows of width 2^32
/// (see the module docs); `task` as for the other readers.
pub fn read_vw<T: Scalar>(path: impl AsRef<Path>, task: Option<super::Task>) -> Result<Dataset<T>> {
    read_vw_crossed(path, task, &[])
}

/// [`read_vw`] with namespace `crosses` (pairs of first letters; see the module docs).
pub fn read_vw_crossed<T: Scalar>(
    path: impl AsRef<Path>,
    task: Option<super::Task>,
    crosses: &[(u8, u8)],
) -> Result<Dataset<T>> {
    let path = path.as_ref();
    let name = path.display().to_string();
    let mut bytes = Vec::new();
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    f.read_to_end(&mut bytes).map_err(|e| Error::io(path, e))?;
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .map_err(|e| Error::io(path, e))?;
        bytes = out;
    }
    let parse = |b: &[u8]| parse_piece::<T>(b, crosses);
    let pieces = parse_parallel_with::<T>(&bytes, &name, rayon::current_num_threads(), &parse)?;
    let p = join_pieces(pieces);
    if p.labels.is_empty() {
        return Err(Error::format(&name, "no rows"));
    }
    let x = CsrMatrix::new(p.labels.len(), VW_WIDTH, p.indptr, p.indices, p.values)?;
    let targets = super::csv_reader::numeric_targets(p.labels, task);
    Dataset::new(Features::Sparse(x), targets, Vec::new())
}

/// Parses the lines of `bytes` (see the module docs) into a piece, with the namespace `crosses`;
/// errors give the line within the piece and the column.
pub(crate) fn parse_piece<T: Scalar>(bytes: &[u8], crosses: &[(u8, u8)]) -> std::result::Result<Piece<T>, PieceError> {
    let mut p: Piece<T> = Piece::new();
    let mut row: Vec<(u32, f64)> = Vec::new();
    // The row's features with their namespace letters, in file order (kept only when crossing).
    let mut lettered: Vec<(u8, u32, f64)> = Vec::new();
    for (n, line) in bytes.split(|&b| b == b'\n').enumerate() {
        p.lines += 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let err = |at: usize, msg: String| (n + 1, at + 1, msg);
        let bar = line
            .iter()
            .position(|&b| b == b'|')
            .ok_or_else(|| err(0, "no '|': a Vowpal Wabbit line is 'label |namespace features'".into()))?;
        // The label section: label, optional importance weight, optional tag.
        let mut head = tokens(&line[..bar]);
        let (at, tok) = head.next().ok_or_else(|| err(0, "no label before '|'".into()))?;
        let label = number(tok)
            .filter(|v| v.is_finite())
            .ok_or_else(|| err(at, format!("label '{}' is not a number", String::from_utf8_lossy(tok))))?;
        if let Some((at, tok)) = head.next().filter(|(_, t)| !t.starts_with(b"'")) {
            match number(tok) {
                Some(1.0) => {}
                Some(w) => return Err(err(at, format!("importance weight {w}: only 1 is supported"))),
                None => {} // a tag without the quote
            }
        }
        row.clear();
        lettered.clear();
        for section in line[bar..].split(|&b| b == b'|').skip(1) {
            let start = line.len() - (line[bar..].len()) + offset_in(&line[bar..], section);
            // A namespace name directly after the bar, with an optional scale.
            let (ns_hash, scale, rest_at, letter) = if section.first().is_some_and(|b| !b.is_ascii_whitespace()) {
                let end = section
                    .iter()
                    .position(u8::is_ascii_whitespace)
                    .unwrap_or(section.len());
                let ns = &section[..end];
                let (ns_name, scale) = match ns.iter().position(|&b| b == b':') {
                    Some(c) => {
                        let s = number(&ns[c + 1..])
                            .filter(|v| v.is_finite())
                            .ok_or_else(|| err(start, "namespace scale is not a number".into()))?;
                        (&ns[..c], s)
                    }
                    None => (ns, 1.0),
                };
                (
                    murmur3_32(ns_name, 0),
                    scale,
                    end,
                    ns_name.first().copied().unwrap_or(b' '),
                )
            } else {
                (0, 1.0, 0, b' ')
            };
            for (at, tok) in tokens(&section[rest_at..]) {
                let at = start + rest_at + at;
                let (name, value) = match tok.iter().rposition(|&b| b == b':') {
                    Some(c) if c > 0 => {
                        let v = number(&tok[c + 1..]).filter(|v| v.is_finite()).ok_or_else(|| {
                            err(
                                at,
                                format!("value of '{}' is not a number", String::from_utf8_lossy(tok)),
                            )
                        })?;
                        (&tok[..c], v)
                    }
                    _ => (tok, 1.0),
                };
                let digits = !name.is_empty() && name.len() <= 10 && name.iter().all(u8::is_ascii_digit);
                let h = match digits {
                    true => {
                        let v = name.iter().fold(0u64, |a, &d| a * 10 + (d - b'0') as u64);
                        (v as u32).wrapping_add(ns_hash)
                    }
                    false => murmur3_32(name, ns_hash),
                };
                if value != 0.0 {
                    row.push((h, value * scale));
                    if !crosses.is_empty() {
                        lettered.push((letter, h, value * scale));
                    }
                }
            }
        }
        for &(a, b) in crosses {
            for (i, &(la, ha, va)) in lettered.iter().enumerate() {
                if la != a {
                    continue;
                }
                // A letter crossed with itself: each feature with itself and those after it.
                let from = if a == b { i } else { 0 };
                for &(lb, hb, vb) in &lettered[from..] {
                    if lb == b {
                        row.push((ha.wrapping_mul(FNV_PRIME) ^ hb, va * vb));
                    }
                }
            }
        }
        row.sort_unstable_by_key(|e| e.0);
        let mark = p.indices.len();
        for &(h, v) in &row {
            if p.indices.len() > mark && p.indices.last() == Some(&h) {
                let last = p.values.len() - 1;
                p.values[last] = T::of(p.values[last].as_f64() + v);
            } else {
                p.indices.push(h);
                p.values.push(T::of(v));
                p.min_index = p.min_index.min(h as u64);
                p.max_index = p.max_index.max(h as u64);
            }
        }
        p.labels.push(label);
        p.indptr.push(p.indices.len());
    }
    // A piece ending in a newline counts no line after it.
    if bytes.last() == Some(&b'\n') {
        p.lines -= 1;
    }
    Ok(p)
}

/// Where `part` (a subslice of `whole`) starts in it.
fn offset_in(whole: &[u8], part: &[u8]) -> usize {
    part.as_ptr() as usize - whole.as_ptr() as usize
}
