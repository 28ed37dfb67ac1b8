//! Quadratic interactions between groups of features (Vowpal Wabbit's `-q`): for each pair of
//! groups (A, B), every product x_i x_j with i in A and j in B becomes a feature; for a group
//! crossed with itself each unordered pair once (i <= j, squares included), as Vowpal Wabbit
//! does by default.
//!
//! Crossed features are appended after the inputs, pair by pair (A's position major), or, for
//! hashed inputs (`--hash-bits`), hashed into the same buckets by Vowpal Wabbit's rule
//! `(i * 16777619) ^ j mod 2^bits` (FNV's prime), summing what shares a bucket.
//!
//! A group is written as feature numbers counted from 1 (a LIBSVM file's indices, or a CSV's
//! feature columns in order), ranges `1-100`, or feature names (a CSV column; a categorical
//! column names all its one-hot columns `name=...`), joined by `+`; a pair is `A:B`; pairs are
//! separated by commas: `--interactions 1-100:101-200,age+income:region`.
//!
//! In Vowpal Wabbit's format the groups are namespaces (`--interactions ab`, its `-q ab`): those
//! crosses are made by the reader, which alone sees each feature's namespace
//! ([`super::read_vw_crossed`]); [`Interactions::namespaces`] records them with the model so that
//! its test and prediction files are read the same way.

use super::dataset::Features;
use crate::error::{Error, Result};
use crate::tensor::{CsrMatrix, Scalar};
use serde::{Deserialize, Serialize};

/// FNV's 32-bit prime, Vowpal Wabbit's multiplier for crossing hashed features.
pub const FNV_PRIME: u32 = 16_777_619;

/// A group of columns: sorted, disjoint half-open ranges `[start, end)`.
pub type Group = Vec<(u32, u32)>;

/// Quadratic interactions between pairs of column groups.
///
/// ```
/// use steepest::data::{Features, Interactions};
/// use steepest::tensor::Tensor;
/// let x = Features::Dense(Tensor::new(vec![1.0f64, 2.0, 3.0], &[1, 3]).unwrap());
/// let q = Interactions::parse("1:2-3", &[], 3, false).unwrap();
/// let Features::Dense(y) = q.transform(&x).unwrap() else { unreachable!() };
/// // x0 x1 = 2 and x0 x2 = 3 appended.
/// assert_eq!(y.data(), &[1.0, 2.0, 3.0, 2.0, 3.0]);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interactions {
    /// The crossed pairs of groups.
    pub pairs: Vec<(Group, Group)>,
    /// Crossed features hashed into the input columns (hashed inputs) instead of appended.
    pub hashed: bool,
    /// The input width the groups were resolved against.
    pub cols: usize,
    /// Vowpal Wabbit namespace crosses (pairs of first letters), made while reading; `pairs` is
    /// then empty and [`Interactions::transform`] leaves the columns as they are.
    /// Saved as two-letter strings, `"ui"` (Vowpal Wabbit's `-q ui`).
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "letter_pairs")]
    pub namespaces: Vec<(u8, u8)>,
}

/// Pairs of namespace letters as two-letter strings.
mod letter_pairs {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(pairs: &[(u8, u8)], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(
            pairs
                .iter()
                .map(|&(a, b)| String::from_utf8_lossy(&[a, b]).into_owned()),
        )
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(u8, u8)>, D::Error> {
        Vec::<String>::deserialize(d)?
            .into_iter()
            .map(|p| match p.as_bytes() {
                &[a, b] => Ok((a, b)),
                _ => Err(D::Error::custom(format!("namespace pair '{p}' is not two letters"))),
            })
            .collect()
    }
}

fn group_len(g: &Group) -> u64 {
    g.iter().map(|(s, e)| (e - s) as u64).sum()
}

/// The position of column `c` in group `g`, if it is in it.
fn position(g: &Group, c: u32) -> Option<u64> {
    let mut before = 0u64;
    for &(s, e) in g {
        if c < s {
            return None;
        }
        if c < e {
            return Some(before + (c - s) as u64);
        }
        before += (e - s) as u64;
    }
    None
}

fn normalize(mut g: Group) -> Group {
    g.sort_unstable();
    let mut out: Group = Vec::with_capacity(g.len());
    for (s, e) in g {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

impl Interactions {
    /// Resolves `spec` against inputs of width `cols` named `names` (empty for numbered
    /// features); `hashed` when the inputs are hash buckets.
    pub fn parse(spec: &str, names: &[String], cols: usize, hashed: bool) -> Result<Self> {
        let bad = |m: String| Error::invalid("interactions", m);
        let group = |text: &str| -> Result<Group> {
            let mut g = Group::new();
            for item in text.split('+').map(str::trim) {
                if item.is_empty() {
                    return Err(bad(format!("'{text}': an empty group member")));
                }
                let number = |s: &str| s.trim().parse::<u64>().ok();
                let range = match item.split_once('-') {
                    Some((a, b)) => number(a).zip(number(b)),
                    None => number(item).map(|n| (n, n)),
                };
                if let Some((a, b)) = range {
                    if a == 0 || a > b || b as usize > cols {
                        return Err(bad(format!(
                            "'{item}': features are numbered 1 to {cols} here (ranges low-high)"
                        )));
                    }
                    g.push((a as u32 - 1, b as u32));
                    continue;
                }
                let prefix = format!("{item}=");
                let found: Vec<u32> = names
                    .iter()
                    .enumerate()
                    .filter(|(_, n)| *n == item || n.starts_with(&prefix))
                    .map(|(i, _)| i as u32)
                    .collect();
                if found.is_empty() {
                    let known: Vec<&str> = names.iter().take(8).map(String::as_str).collect();
                    return Err(bad(match names.is_empty() {
                        true => format!("'{item}': these features have no names; number them (1-{cols})"),
                        false => format!("'{item}' is not a feature (the features: {} ...)", known.join(", ")),
                    }));
                }
                g.extend(found.into_iter().map(|i| (i, i + 1)));
            }
            Ok(normalize(g))
        };
        let mut pairs = Vec::new();
        for pair in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (a, b) = pair
                .split_once(':')
                .ok_or_else(|| bad(format!("'{pair}': a pair is GROUP:GROUP, e.g. 1-10:11-20")))?;
            pairs.push((group(a)?, group(b)?));
        }
        if pairs.is_empty() {
            return Err(bad("no pairs: write GROUP:GROUP, e.g. 1-10:11-20".into()));
        }
        let q = Self {
            pairs,
            hashed,
            cols,
            namespaces: Vec::new(),
        };
        if !hashed && q.output_count() > (1u128 << 26) {
            return Err(bad(format!(
                "{} crossed features; hash them into buckets with --hash-bits",
                q.output_count() - cols as u128
            )));
        }
        Ok(q)
    }

    /// Records Vowpal Wabbit namespace `crosses` (made by the reader) for hashed inputs of width
    /// `cols`.
    pub fn namespaces(crosses: Vec<(u8, u8)>, cols: usize) -> Self {
        Self {
            pairs: Vec::new(),
            hashed: true,
            cols,
            namespaces: crosses,
        }
    }

    /// How many crossed features pair `(a, b)` makes.
    fn pair_count(a: &Group, b: &Group) -> u128 {
        let (n, m) = (group_len(a) as u128, group_len(b) as u128);
        match a == b {
            true => n * (n + 1) / 2,
            false => n * m,
        }
    }

    /// The output width: the inputs, then the crossed features unless they are hashed.
    pub fn output_count(&self) -> u128 {
        match self.hashed {
            true => self.cols as u128,
            false => self.cols as u128 + self.pairs.iter().map(|(a, b)| Self::pair_count(a, b)).sum::<u128>(),
        }
    }

    /// The column of the product of the features at positions `pa` (in a) and `pb` (in b) of
    /// pair `p`, whose crossed features start at `offset`.
    fn crossed(&self, (a, b): &(Group, Group), offset: u64, (ia, pa): (u32, u64), (ib, pb): (u32, u64)) -> u64 {
        match self.hashed {
            true => (ia.wrapping_mul(FNV_PRIME) ^ ib) as u64 % self.cols as u64,
            false if a == b => {
                // Row pa of the upper triangle starts after rows of n, n-1, ..., n-pa+1 entries.
                let n = group_len(a);
                offset + pa * n - pa * pa.saturating_sub(1) / 2 + (pb - pa)
            }
            false => offset + pa * group_len(b) + pb,
        }
    }

    /// Appends (or hashes in) the crossed features of every row (none for namespace crosses,
    /// which the reader made).
    pub fn transform<T: Scalar>(&self, x: &Features<T>) -> Result<Features<T>> {
        if x.cols() != self.cols {
            return Err(Error::invalid(
                "interactions",
                format!("resolved for {} features, the data has {}", self.cols, x.cols()),
            ));
        }
        if self.pairs.is_empty() {
            return Ok(x.clone());
        }
        let out_cols = self.output_count() as usize;
        let rows = x.rows();
        let mut indptr = Vec::with_capacity(rows + 1);
        let (mut indices, mut values) = (Vec::<u32>::new(), Vec::<T>::new());
        indptr.push(0);
        // Buffers reused from row to row.
        let mut row: Vec<(u64, T)> = Vec::new();
        let mut entries: Vec<(u32, T)> = Vec::new();
        // The row's entries in group A and in group B: (column, position in the group, value).
        let mut in_a: Vec<(u32, u64, T)> = Vec::new();
        let mut in_b: Vec<(u32, u64, T)> = Vec::new();
        for r in 0..rows {
            // The row's non-zero entries (column, value), in column order.
            entries.clear();
            match x {
                Features::Sparse(s) => {
                    let (ix, vs) = s.row(r);
                    entries.extend(ix.iter().copied().zip(vs.iter().copied()));
                }
                Features::Dense(t) => entries.extend(
                    t.data()[r * self.cols..(r + 1) * self.cols]
                        .iter()
                        .enumerate()
                        .filter(|(_, v)| **v != T::zero())
                        .map(|(i, v)| (i as u32, *v)),
                ),
            }
            row.clear();
            row.extend(entries.iter().map(|&(c, v)| (c as u64, v)));
            let mut offset = self.cols as u64;
            for pair in &self.pairs {
                let (a, b) = pair;
                in_a.clear();
                in_a.extend(entries.iter().filter_map(|&(c, v)| position(a, c).map(|p| (c, p, v))));
                in_b.clear();
                in_b.extend(entries.iter().filter_map(|&(c, v)| position(b, c).map(|p| (c, p, v))));
                for &(ca, pa, va) in &in_a {
                    for &(cb, pb, vb) in &in_b {
                        if a == b && pb < pa {
                            continue;
                        }
                        row.push((self.crossed(pair, offset, (ca, pa), (cb, pb)), va * vb));
                    }
                }
                offset += Self::pair_count(a, b) as u64;
            }
            // Sorted by column, values sharing a column added.
            row.sort_unstable_by_key(|e| e.0);
            let mut last: Option<u64> = None;
            for &(c, v) in row.iter() {
                if last == Some(c) {
                    let n = values.len() - 1;
                    values[n] += v;
                } else {
                    indices.push(c as u32);
                    values.push(v);
                    last = Some(c);
                }
            }
            indptr.push(indices.len());
        }
        let s = CsrMatrix::new(rows, out_cols, indptr, indices, values)?;
        Ok(match x {
            Features::Sparse(_) => Features::Sparse(s),
            Features::Dense(_) => Features::Dense(s.to_dense()),
        })
    }

    /// The output columns' names: the inputs', then `a*b` for each crossed feature (hashed
    /// inputs keep theirs; inputs without names, the defaults, give none).
    pub fn names(&self, inputs: &[String]) -> Vec<String> {
        if self.hashed || inputs.len() != self.cols {
            return inputs.to_vec();
        }
        let mut out = inputs.to_vec();
        for (a, b) in &self.pairs {
            let cols = |g: &Group| g.iter().flat_map(|&(s, e)| s..e).collect::<Vec<u32>>();
            let (ca, cb) = (cols(a), cols(b));
            for (i, &x) in ca.iter().enumerate() {
                for (j, &y) in cb.iter().enumerate() {
                    if a == b && j < i {
                        continue;
                    }
                    out.push(format!("{}*{}", inputs[x as usize], inputs[y as usize]));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::Tensor;

    /// The crossed features written out: every (i, j) in order, i <= j within one group.
    fn reference(x: &[f64], pairs: &[(Vec<usize>, Vec<usize>)]) -> Vec<f64> {
        let mut out = x.to_vec();
        for (a, b) in pairs {
            for (pi, &i) in a.iter().enumerate() {
                for (pj, &j) in b.iter().enumerate() {
                    if a == b && pj < pi {
                        continue;
                    }
                    out.push(x[i] * x[j]);
                }
            }
        }
        out
    }

    #[test]
    fn appended_products_match_a_written_out_loop_dense_and_sparse() {
        let (rows, cols) = (4, 7);
        let data: Vec<f64> = (0..rows * cols)
            .map(|k| if k % 3 == 0 { 0.0 } else { (k as f64 * 0.37).sin() })
            .collect();
        let q = Interactions::parse("1-2+5:3-4, 6-7:6-7, 2:2", &[], cols, false).unwrap();
        let pairs = vec![
            (vec![0, 1, 4], vec![2, 3]),
            (vec![5, 6], vec![5, 6]),
            (vec![1], vec![1]),
        ];
        assert_eq!(q.output_count(), (cols + 6 + 3 + 1) as u128);
        let x = Features::Dense(Tensor::new(data.clone(), &[rows, cols]).unwrap());
        let Features::Dense(y) = q.transform(&x).unwrap() else {
            panic!()
        };
        let sparse =
            Features::Sparse(CsrMatrix::from_dense(&Tensor::new(data.clone(), &[rows, cols]).unwrap()).unwrap());
        let Features::Sparse(ys) = q.transform(&sparse).unwrap() else {
            panic!()
        };
        let width = q.output_count() as usize;
        for r in 0..rows {
            let want = reference(&data[r * cols..(r + 1) * cols], &pairs);
            assert_eq!(&y.data()[r * width..(r + 1) * width], want.as_slice(), "row {r}");
            assert_eq!(
                &ys.to_dense().data()[r * width..(r + 1) * width],
                want.as_slice(),
                "row {r}"
            );
        }
        let names: Vec<String> = (0..cols).map(|i| format!("x{i}")).collect();
        let n = q.names(&names);
        assert_eq!(n.len(), width);
        assert_eq!(&n[cols..cols + 2], ["x0*x2", "x0*x3"]);
        assert_eq!(n[cols + 6], "x5*x5");
    }

    #[test]
    fn hashed_products_land_in_vowpal_wabbits_bucket() {
        // Columns 3 and 9 of a 2^4-bucket input.
        let x = Features::Sparse(CsrMatrix::new(1, 16, vec![0, 2], vec![3, 9], vec![2.0f64, 5.0]).unwrap());
        let q = Interactions::parse("4:10", &[], 16, true).unwrap();
        let Features::Sparse(y) = q.transform(&x).unwrap() else {
            panic!()
        };
        let bucket = (3u32.wrapping_mul(16_777_619) ^ 9) % 16;
        let d = y.to_dense();
        let mut want = vec![0.0; 16];
        want[3] += 2.0;
        want[9] += 5.0;
        want[bucket as usize] += 10.0;
        assert_eq!(d.data(), want.as_slice());
    }

    #[test]
    fn names_and_numbers_resolve_and_mistakes_are_named() {
        let names: Vec<String> = ["age", "income", "region=north", "region=south"]
            .map(String::from)
            .to_vec();
        let q = Interactions::parse("age+income:region", &names, 4, false).unwrap();
        assert_eq!(q.pairs, vec![(vec![(0, 2)], vec![(2, 4)])]);
        for (spec, says) in [
            ("age", "GROUP:GROUP"),
            ("1-9:1", "numbered 1 to 4"),
            ("height:age", "'height' is not a feature"),
            ("3-1:2", "numbered 1 to 4"),
            ("", "no pairs"),
        ] {
            let e = Interactions::parse(spec, &names, 4, false).unwrap_err().to_string();
            assert!(e.contains(says), "{spec}: {e}");
        }
        let e = Interactions::parse("1-20000:1-20000", &[], 100_000, false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("--hash-bits"), "{e}");
    }
}
