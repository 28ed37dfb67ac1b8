//! The binary cache of a streamed file (as Vowpal Wabbit's `--cache`): the first pass writes
//! each parsed chunk as raw little-endian arrays, later passes read them back without parsing.
//!
//! Layout: the magic `STEEPEST-CACHE\n`, the format version (u32) and the key (u32 length, then
//! the bytes: the source's canonical path, length, modification time and reading settings);
//! then one record per chunk: tag 1, rows (u32), non-zeros (u64), columns (u32), labels (f64
//! each), row lengths (u32 each), indices (u32 each), a values tag (0: every value is 1, none
//! stored; 1: f32 each) and the values; then the end record: tag 2, total rows and non-zeros
//! (u64 each). The writer writes a temporary file and renames it when the pass is complete, so
//! a cache under its name is whole unless damaged afterwards: a cache from another source,
//! settings or version is rebuilt, a damaged one (no end record, a short record, totals that
//! disagree) is an error naming the file.

use super::stream::{CacheKey, ChunkReader, SparseChunk};
use crate::error::{Error, Result};
use crate::tensor::CsrMatrix;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The cache format's version.
pub const VERSION: u32 = 1;
const MAGIC: &[u8; 15] = b"STEEPEST-CACHE\n";

/// Writes a cache as a pass goes.
pub struct CacheWriter {
    out: BufWriter<std::fs::File>,
    tmp: PathBuf,
    path: PathBuf,
    rows: u64,
    nnz: u64,
}

impl CacheWriter {
    /// Starts the cache of `key` (in a temporary file beside it).
    pub fn create(key: &CacheKey) -> Result<Self> {
        if let Some(dir) = key.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let tmp = key.path.with_extension(format!("cache.tmp-{}", std::process::id()));
        let f = std::fs::File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
        let mut out = BufWriter::with_capacity(1 << 20, f);
        let io = |e| Error::io(&tmp, e);
        out.write_all(MAGIC).map_err(io)?;
        out.write_all(&VERSION.to_le_bytes()).map_err(io)?;
        out.write_all(&(key.source.len() as u32).to_le_bytes()).map_err(io)?;
        out.write_all(key.source.as_bytes()).map_err(io)?;
        Ok(Self {
            out,
            tmp: tmp.clone(),
            path: key.path.clone(),
            rows: 0,
            nnz: 0,
        })
    }

    /// Appends a chunk.
    pub fn write(&mut self, c: &SparseChunk) -> Result<()> {
        let (rows, cols) = c.x.shape();
        let (indptr, indices, values) = c.x.parts();
        let tmp = self.tmp.clone();
        let io = |e| Error::io(&tmp, e);
        let o = &mut self.out;
        o.write_all(&[1u8]).map_err(io)?;
        o.write_all(&(rows as u32).to_le_bytes()).map_err(io)?;
        o.write_all(&(indices.len() as u64).to_le_bytes()).map_err(io)?;
        o.write_all(&(cols as u32).to_le_bytes()).map_err(io)?;
        o.write_all(bytes_of(&c.labels)).map_err(io)?;
        let lengths: Vec<u32> = indptr.windows(2).map(|w| (w[1] - w[0]) as u32).collect();
        o.write_all(bytes_of(&lengths)).map_err(io)?;
        o.write_all(bytes_of(indices)).map_err(io)?;
        if values.iter().all(|&v| v == 1.0) {
            o.write_all(&[0u8]).map_err(io)?;
        } else {
            o.write_all(&[1u8]).map_err(io)?;
            o.write_all(bytes_of(values)).map_err(io)?;
        }
        self.rows += rows as u64;
        self.nnz += indices.len() as u64;
        Ok(())
    }

    /// Ends the cache and gives it its name.
    pub fn finish(mut self) -> Result<PathBuf> {
        let tmp = self.tmp.clone();
        let io = |e| Error::io(&tmp, e);
        self.out.write_all(&[2u8]).map_err(io)?;
        self.out.write_all(&self.rows.to_le_bytes()).map_err(io)?;
        self.out.write_all(&self.nnz.to_le_bytes()).map_err(io)?;
        let f = self.out.into_inner().map_err(|e| Error::io(&tmp, e.into_error()))?;
        f.sync_all().map_err(io)?;
        std::fs::rename(&tmp, &self.path).map_err(|e| Error::io(&self.path, e))?;
        Ok(self.path.clone())
    }

    /// Drops an unfinished cache.
    pub fn abandon(self) {
        let _ = std::fs::remove_file(&self.tmp);
    }
}

/// The raw bytes of a slice of plain numbers (little-endian machines only write caches).
fn bytes_of<T: Copy>(v: &[T]) -> &[u8] {
    // SAFETY: u32, u64, f32 and f64 have no padding and every byte pattern is readable.
    unsafe { std::slice::from_raw_parts(v.as_ptr().cast::<u8>(), std::mem::size_of_val(v)) }
}

/// Reads a cache's chunks.
pub struct CacheReader {
    input: BufReader<std::fs::File>,
    path: PathBuf,
    rows: u64,
    nnz: u64,
    ended: bool,
}

impl CacheReader {
    /// Opens the cache of `key`: `Ok(None)` when there is none, or it was made from another
    /// source, settings or version (rebuild it); an error when it is damaged (truncated).
    pub fn open(key: &CacheKey) -> Result<Option<Self>> {
        let path = &key.path;
        let Ok(f) = std::fs::File::open(path) else {
            return Ok(None);
        };
        let len = f.metadata().map_err(|e| Error::io(path, e))?.len();
        let mut input = BufReader::with_capacity(1 << 20, f);
        let mut head = [0u8; 23];
        if input.read_exact(&mut head).is_err() || &head[..15] != MAGIC {
            return Ok(None);
        }
        let version = u32::from_le_bytes([head[15], head[16], head[17], head[18]]);
        let klen = u32::from_le_bytes([head[19], head[20], head[21], head[22]]) as u64;
        if version != VERSION || klen != key.source.len() as u64 || 23 + klen > len {
            return Ok(None);
        }
        let mut k = vec![0u8; klen as usize];
        input.read_exact(&mut k).map_err(|e| Error::io(path, e))?;
        if k != key.source.as_bytes() {
            return Ok(None);
        }
        // The end record must close the file.
        let damaged = |why: &str| damaged(path, why);
        if len < 23 + klen + 17 {
            return Err(damaged("no end record: truncated"));
        }
        let mut f = input.into_inner();
        let mut tail = [0u8; 17];
        f.seek(SeekFrom::End(-17)).map_err(|e| Error::io(path, e))?;
        f.read_exact(&mut tail).map_err(|e| Error::io(path, e))?;
        if tail[0] != 2 {
            return Err(damaged("no end record: truncated"));
        }
        f.seek(SeekFrom::Start(23 + klen)).map_err(|e| Error::io(path, e))?;
        Ok(Some(Self {
            input: BufReader::with_capacity(1 << 20, f),
            path: path.clone(),
            rows: 0,
            nnz: 0,
            ended: false,
        }))
    }

    fn damaged(&self, why: &str) -> Error {
        damaged(&self.path, why)
    }

    fn read_into<T: Copy + Default>(&mut self, n: usize) -> Result<Vec<T>> {
        let mut v = vec![T::default(); n];
        // SAFETY: as in `bytes_of`, for the plain number types this reads.
        let bytes =
            unsafe { std::slice::from_raw_parts_mut(v.as_mut_ptr().cast::<u8>(), std::mem::size_of_val(&v[..])) };
        self.input
            .read_exact(bytes)
            .map_err(|_| self.damaged("a record ends early: truncated"))?;
        Ok(v)
    }
}

impl ChunkReader for CacheReader {
    fn next_chunk(&mut self) -> Result<Option<SparseChunk>> {
        if self.ended {
            return Ok(None);
        }
        let tag: Vec<u8> = self.read_into(1)?;
        match tag[0] {
            1 => {}
            2 => {
                let totals: Vec<u64> = self.read_into(2)?;
                if totals != [self.rows, self.nnz] {
                    return Err(self.damaged("its totals disagree with its records"));
                }
                self.ended = true;
                return Ok(None);
            }
            t => return Err(self.damaged(&format!("unknown record tag {t}"))),
        }
        let rows = self.read_into::<u32>(1)?[0] as usize;
        let nnz = self.read_into::<u64>(1)?[0];
        let cols = self.read_into::<u32>(1)?[0] as usize;
        let remaining = self.input.get_ref().metadata().map(|m| m.len()).unwrap_or(0);
        if nnz.saturating_mul(4) > remaining || rows as u64 * 12 > remaining {
            return Err(self.damaged("a record larger than the file"));
        }
        let nnz = nnz as usize;
        let labels: Vec<f64> = self.read_into(rows)?;
        let lengths: Vec<u32> = self.read_into(rows)?;
        let indices: Vec<u32> = self.read_into(nnz)?;
        let kind: Vec<u8> = self.read_into(1)?;
        let values: Vec<f32> = match kind[0] {
            0 => vec![1.0; nnz],
            1 => self.read_into(nnz)?,
            k => return Err(self.damaged(&format!("unknown values tag {k}"))),
        };
        let mut indptr = Vec::with_capacity(rows + 1);
        indptr.push(0usize);
        for l in &lengths {
            indptr.push(indptr[indptr.len() - 1] + *l as usize);
        }
        let x = CsrMatrix::new(rows, cols, indptr, indices, values).map_err(|e| self.damaged(&e.to_string()))?;
        self.rows += rows as u64;
        self.nnz += nnz as u64;
        Ok(Some(SparseChunk { labels, x }))
    }
}

/// The error of a damaged cache.
fn damaged(path: &Path, why: &str) -> Error {
    Error::format(
        path.display().to_string(),
        format!("the cache is damaged ({why}); delete it to rebuild it from the source"),
    )
}
