//! Feature hashing (Weinberger et al., "Feature Hashing for Large Scale Multitask Learning",
//! ICML 2009; Vowpal Wabbit's `-b`) by Vowpal Wabbit's rule: a feature is a 32-bit number (a
//! numbered feature its number, a named one MurmurHash3 of its name, see the Vowpal Wabbit
//! reader) and its bucket is that number mod 2^bits; values of a row's features sharing a bucket
//! are added. Numbered features that fit in 2^bits therefore keep their columns. The hasher
//! remembers which feature first took each bucket, so that the collisions (distinct features
//! sharing a bucket) are counted and reported, never silent.

use crate::error::{Error, Result};
use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

/// A multiplicative hash of the u64 feature ids (SipHash's protection against chosen keys is not
/// needed for counting collisions, and its cost was most of a hashed pass).
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ b as u64).wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = (x ^ (x >> 29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// MurmurHash3 (x86, 32-bit; Appleby) of `data` with `seed`: the hash Vowpal Wabbit uses.
///
/// ```
/// use steepest::data::murmur3_32;
/// // The reference implementation's value for "hello" with seed 0.
/// assert_eq!(murmur3_32(b"hello", 0), 0x248b_fa47);
/// ```
pub fn murmur3_32(data: &[u8], seed: u32) -> u32 {
    const C1: u32 = 0xcc9e_2d51;
    const C2: u32 = 0x1b87_3593;
    let mut h = seed;
    let mut blocks = data.chunks_exact(4);
    for b in &mut blocks {
        let k = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        h ^= k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
        h = h.rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        let mut k = 0u32;
        for (i, &b) in tail.iter().enumerate() {
            k |= (b as u32) << (8 * i);
        }
        h ^= k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
    }
    h ^= data.len() as u32;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

/// Hashes feature ids into 2^bits buckets and counts collisions.
#[derive(Clone, Debug)]
pub struct FeatureHasher {
    bits: u32,
    /// The first feature id (plus one; 0: empty) that took each bucket.
    owner: Vec<u64>,
    collided: HashSet<u64, BuildHasherDefault<IdHasher>>,
    distinct: u64,
}

impl FeatureHasher {
    /// A hasher into 2^`bits` buckets (1 to 31 bits).
    pub fn new(bits: u32) -> Result<Self> {
        if !(1..=31).contains(&bits) {
            return Err(Error::invalid("hash-bits", format!("{bits} must be between 1 and 31")));
        }
        crate::memory::ensure(
            &format!("feature hashing into 2^{bits} buckets"),
            (1u128 << bits) * 8,
            "; use fewer --hash-bits",
        )?;
        Ok(Self {
            bits,
            owner: vec![0; 1 << bits],
            collided: HashSet::default(),
            distinct: 0,
        })
    }

    /// The number of buckets.
    pub fn width(&self) -> usize {
        1 << self.bits
    }

    /// The bucket of feature `j` (a number, or a name's 32-bit hash): j mod 2^bits.
    pub fn bucket_of_index(&mut self, j: u32) -> u32 {
        self.take(j, j as u64)
    }

    /// The bucket of hash `h` for feature `id`, recording a collision when another feature
    /// holds it.
    pub fn take(&mut self, h: u32, id: u64) -> u32 {
        let b = h & ((1u32 << self.bits) - 1);
        let slot = &mut self.owner[b as usize];
        let key = id.wrapping_add(1).max(1);
        if *slot == 0 {
            *slot = key;
            self.distinct += 1;
        } else if *slot != key && self.collided.insert(id) {
            self.distinct += 1;
        }
        b
    }

    /// Distinct features seen, and how many of them share a bucket with an earlier one.
    pub fn collisions(&self) -> (u64, u64) {
        (self.distinct, self.collided.len() as u64)
    }

    /// The line that reports [`Self::collisions`] of hashing into 2^`bits` buckets.
    pub fn describe(bits: u32, (distinct, collided): (u64, u64)) -> String {
        format!("hashing: {distinct} distinct features into 2^{bits} buckets; {collided} share a bucket with another")
    }

    /// Hashes a CSR block in place: each row's indices become buckets, sorted, with the values
    /// of a row's features that share a bucket added.
    pub fn hash_rows<T: crate::tensor::Scalar>(
        &mut self,
        indptr: &[usize],
        indices: &mut Vec<u32>,
        values: &mut Vec<T>,
    ) -> Vec<usize> {
        let mut out_ptr = Vec::with_capacity(indptr.len());
        out_ptr.push(0);
        let (mut oi, mut ov): (Vec<u32>, Vec<T>) =
            (Vec::with_capacity(indices.len()), Vec::with_capacity(values.len()));
        let mut row: Vec<(u32, T)> = Vec::new();
        for w in indptr.windows(2) {
            row.clear();
            for k in w[0]..w[1] {
                row.push((self.bucket_of_index(indices[k]), values[k]));
            }
            row.sort_unstable_by_key(|e| e.0);
            for &(b, v) in &row {
                if oi.last() == Some(&b) && oi.len() > *out_ptr.last().unwrap_or(&0) {
                    let last = ov.len() - 1;
                    ov[last] = T::of(ov[last].as_f64() + v.as_f64());
                } else {
                    oi.push(b);
                    ov.push(v);
                }
            }
            out_ptr.push(oi.len());
        }
        *indices = oi;
        *values = ov;
        out_ptr
    }
}

impl FeatureHasher {
    /// `x` with its columns hashed (dense features are refused: hashing is for sparse ones).
    pub fn hash_features<T: crate::tensor::Scalar>(
        &mut self,
        x: crate::data::Features<T>,
    ) -> Result<crate::data::Features<T>> {
        let crate::data::Features::Sparse(s) = x else {
            return Err(Error::invalid(
                "hash-bits",
                "feature hashing is for sparse (LIBSVM) data",
            ));
        };
        let rows = s.shape().0;
        let (indptr, mut indices, mut values) = s.into_parts();
        let indptr = self.hash_rows(&indptr, &mut indices, &mut values);
        Ok(crate::data::Features::Sparse(crate::tensor::CsrMatrix::new(
            rows,
            self.width(),
            indptr,
            indices,
            values,
        )?))
    }
}
