//! Reading a sparse text file in chunks, for training passes whose memory does not grow with
//! the file: blocks of about 8 MiB, cut at the last newline, parsed in parallel into CSR rows.
//! A plain file is mapped into memory a block at a time (the parser reads the page cache in
//! place: copying the file into a buffer was 14 % of a W2 pass) and each block unmapped after
//! it, so the process's resident memory holds one block of the file, not the file; a gzipped
//! file is read through its decoder into a buffer.
//!
//! Indices are one-based unless an index 0 appears in the first chunk (the in-memory reader
//! decides on the whole file; a stream decides on its first 8 MiB, and an index 0 after rows
//! read as one-based is an error naming its line). With a [`FeatureHasher`] the indices become
//! buckets.

use super::dataset::{Dataset, Features, Task};
use super::feed::Feed;
use super::hashing::FeatureHasher;
use super::libsvm_fast::{join_pieces, parse_parallel_after, Piece};
use super::vw::SparseText;
use crate::error::{Error, Result};
use crate::tensor::{CsrMatrix, Scalar};
use std::io::Read;
use std::path::{Path, PathBuf};

/// A block of rows: their labels (as numbers) and features.
#[derive(Clone, Debug)]
pub struct SparseChunk {
    /// The label of each row.
    pub labels: Vec<f64>,
    /// The rows; the column count is the largest index of the chunk plus one (or the hashed
    /// width).
    pub x: CsrMatrix<f32>,
}

impl SparseChunk {
    /// The chunk as a dataset of `task`: values, or classes named by their labels ("0", "1",
    /// "-1": matched by name to a model's classes, as a file read whole is).
    ///
    /// ```
    /// use steepest::data::{SparseChunk, Task};
    /// use steepest::tensor::CsrMatrix;
    /// let x = CsrMatrix::new(2, 3, vec![0, 1, 2], vec![0, 2], vec![1.0f32, 0.5])?;
    /// let d = SparseChunk { labels: vec![1.0, -1.0], x }.into_dataset::<f64>(Task::Classify)?;
    /// assert_eq!(d.targets.class_names(), ["-1", "1"]);
    /// assert_eq!(d.cols(), 3);
    /// # Ok::<(), steepest::Error>(())
    /// ```
    pub fn into_dataset<T: Scalar>(self, task: Task) -> Result<Dataset<T>> {
        let targets = super::csv_reader::numeric_targets(self.labels, Some(task));
        let features = Features::Sparse(self.x).cast::<T>()?;
        Dataset::new(features, targets, Vec::new())
    }
}

/// Something that yields the chunks of one pass.
pub trait ChunkReader {
    /// The next chunk, or `None` at the end of the pass.
    fn next_chunk(&mut self) -> Result<Option<SparseChunk>>;

    /// How many chunks the reader makes at a time (a block of the file): a reader running
    /// ahead of its consumer holds this many, so that it can go on to the next block.
    fn chunks_per_block(&self) -> usize {
        1
    }
}

/// Bytes per block read from the file.
const BLOCK: usize = 8 << 20;

/// The chunks of a LIBSVM file, in file order.
pub struct LibsvmChunks {
    feed: Feed,
    path: PathBuf,
    /// Where the part read starts in the file (0: the whole file).
    first_byte: u64,
    name: String,
    lines: usize,
    /// Bytes per block ([`BLOCK`]; less in tests).
    block_bytes: usize,
    /// Blocks read so far.
    blocks: usize,
    /// Parsed pieces of the current block not yet returned, each after the lines before it.
    ready: std::collections::VecDeque<(Piece<f32>, usize)>,
    one_based: Option<bool>,
    hasher: Option<FeatureHasher>,
    text: SparseText,
}

impl LibsvmChunks {
    /// Opens `path` (gzip by its magic bytes), hashing indices with `hasher` when given; `text`:
    /// LIBSVM, or Vowpal Wabbit's format (see `read_vw`), whose columns are 32-bit hashes.
    pub fn open(path: &Path, hasher: Option<FeatureHasher>, text: SparseText) -> Result<Self> {
        Self::open_part(path, hasher, text, None, None)
    }

    /// [`LibsvmChunks::open`] over the bytes `range` of the file only (whole lines: see
    /// `part_range`; not for gzip, which cannot be entered in the middle), with the index base
    /// given (`one_based`) or decided on the first block.
    pub fn open_part(
        path: &Path,
        hasher: Option<FeatureHasher>,
        text: SparseText,
        range: Option<(u64, u64)>,
        one_based: Option<bool>,
    ) -> Result<Self> {
        let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let mut magic = [0u8; 2];
        let gz = f.read_exact(&mut magic).is_ok() && magic == [0x1f, 0x8b];
        let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let feed = match (gz, range) {
            (true, Some(_)) => {
                return Err(Error::format(
                    path.display().to_string(),
                    "a gzipped file cannot be split into byte ranges for several ranks: decompress it first",
                ))
            }
            (true, None) => Feed::read(Box::new(flate2::read::MultiGzDecoder::new(std::io::BufReader::new(f)))),
            (false, range) => {
                let len = f.metadata().map_err(|e| Error::io(path, e))?.len();
                let (start, end) = range.map_or((0, len), |(a, b)| (a.min(len), b.min(len)));
                Feed::mapped(f, start, end)
            }
        };
        Ok(Self {
            feed,
            path: path.to_path_buf(),
            first_byte: range.map_or(0, |r| r.0),
            name: path.display().to_string(),
            lines: 0,
            block_bytes: BLOCK,
            blocks: 0,
            ready: Default::default(),
            one_based,
            hasher,
            text,
        })
    }

    /// The hasher (with its collision counts).
    pub fn hasher(&self) -> Option<&FeatureHasher> {
        self.hasher.as_ref()
    }

    /// Whether indices were read as one-based (known after the first chunk).
    pub fn one_based(&self) -> Option<bool> {
        self.one_based
    }

    /// The rows of `piece` (which follows `first_line` lines of the part) as a chunk, `None`
    /// when it has none: indices made zero-based when the stream reads them as one-based
    /// (decided on the first rows), then hashed when a hasher is set.
    fn chunk_of(&mut self, piece: Piece<f32>, first_line: usize) -> Result<Option<SparseChunk>> {
        let (labels, mut indptr, mut indices, mut values) = (piece.labels, piece.indptr, piece.indices, piece.values);
        let (lo, mut hi) = (piece.min_index, piece.max_index);
        if labels.is_empty() {
            return Ok(None);
        }
        let one_based = !self.text.is_vw() && *self.one_based.get_or_insert(lo != 0);
        if one_based {
            if lo == 0 {
                let at = indptr
                    .windows(2)
                    .position(|w| indices[w[0]..w[1]].contains(&0))
                    .unwrap_or(0);
                return Err(Error::format(
                    &self.name,
                    format!(
                        "index 0 on row {} (after line {first_line}), but the first rows were read as one-based; \
                         a stream decides the index base on its first block (shift the indices, or read the file \
                         without --stream)",
                        first_line + at + 1
                    ),
                ));
            }
            indices.iter_mut().for_each(|i| *i -= 1);
            hi = hi.saturating_sub(1);
        }
        let cols = match &mut self.hasher {
            Some(h) => {
                indptr = h.hash_rows(&indptr, &mut indices, &mut values);
                h.width()
            }
            None if self.text.is_vw() => super::vw::VW_WIDTH,
            None => hi as usize + 1,
        };
        let x = CsrMatrix::new(labels.len(), cols, indptr, indices, values)?;
        Ok(Some(SparseChunk { labels, x }))
    }
}

/// Pieces per thread that a block after the first is parsed in, each its own chunk: small
/// enough that the parsing threads share a block's work evenly while the learning thread takes
/// a core from them (two pieces per block left one core idle at the end of most blocks), and
/// no piece copied into one chunk with the others.
const PIECES_PER_THREAD: usize = 4;

impl ChunkReader for LibsvmChunks {
    fn next_chunk(&mut self) -> Result<Option<SparseChunk>> {
        loop {
            if let Some((piece, first_line)) = self.ready.pop_front() {
                match self.chunk_of(piece, first_line)? {
                    Some(chunk) => return Ok(Some(chunk)),
                    None => continue,
                }
            }
            if !self.feed.advance(&self.name, self.block_bytes)? {
                return Ok(None);
            }
            // The first block is one chunk: a stream fixes its classes on it.
            let first = self.blocks == 0;
            self.blocks += 1;
            let threads = rayon::current_num_threads().max(1);
            let parts = if first { threads } else { threads * PIECES_PER_THREAD };
            let pieces = match parse_parallel_after::<f32>(self.feed.block(), &self.name, self.lines, &self.text, parts)
            {
                // A part's line numbers count from its start: name the line in the whole file.
                Err(Error::Parse {
                    file,
                    line,
                    column,
                    msg,
                }) if self.first_byte > 0 => Err(Error::Parse {
                    file,
                    line: line + lines_before(&self.path, self.first_byte)?,
                    column,
                    msg,
                }),
                other => other,
            }?;
            let pieces = match first {
                true => vec![join_pieces(pieces)],
                false => pieces,
            };
            for piece in pieces {
                let first_line = self.lines;
                self.lines += piece.lines;
                self.ready.push_back((piece, first_line));
            }
        }
    }

    fn chunks_per_block(&self) -> usize {
        rayon::current_num_threads().max(1) * PIECES_PER_THREAD
    }
}

/// The number of lines that end before byte `at` of the file.
fn lines_before(path: &Path, at: u64) -> Result<usize> {
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut r = std::io::BufReader::with_capacity(1 << 20, f.take(at));
    let mut n = 0;
    loop {
        let buf = std::io::BufRead::fill_buf(&mut r).map_err(|e| Error::io(path, e))?;
        if buf.is_empty() {
            return Ok(n);
        }
        n += memchr::memchr_iter(b'\n', buf).count();
        let k = buf.len();
        std::io::BufRead::consume(&mut r, k);
    }
}

/// The bytes `[start, end)` of the lines that start in part `part` of `parts` equal byte ranges
/// of the file (each boundary moved to the next line start): every line in exactly one part.
/// `read_libsvm_part` cuts the in-memory shards by it too.
pub fn part_range(path: &Path, part: usize, parts: usize) -> Result<(u64, u64)> {
    let len = std::fs::metadata(path).map_err(|e| Error::io(path, e))?.len();
    let line_start = |at: u64| -> Result<u64> {
        if at == 0 || at >= len {
            return Ok(at.min(len));
        }
        let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        std::io::Seek::seek(&mut f, std::io::SeekFrom::Start(at - 1)).map_err(|e| Error::io(path, e))?;
        let mut r = std::io::BufReader::with_capacity(1 << 16, f);
        let mut pos = at - 1;
        loop {
            let buf = std::io::BufRead::fill_buf(&mut r).map_err(|e| Error::io(path, e))?;
            if buf.is_empty() {
                return Ok(len);
            }
            if let Some(p) = memchr::memchr(b'\n', buf) {
                return Ok(pos + p as u64 + 1);
            }
            let k = buf.len();
            pos += k as u64;
            std::io::BufRead::consume(&mut r, k);
        }
    };
    let parts = parts.max(1) as u64;
    let part = (part as u64).min(parts);
    Ok((line_start(len * part / parts)?, line_start(len * (part + 1) / parts)?))
}

/// Where a stream's binary cache lives and what it was made from.
#[derive(Clone, Debug)]
pub struct CacheKey {
    /// The cache file.
    pub path: PathBuf,
    /// What makes it valid: the source's canonical path, length and modification time, the
    /// reading settings and the format version.
    pub source: String,
}

impl CacheKey {
    /// The key of `source` read with `settings` (hashing and the like), cached in `dir`.
    pub fn new(source: &Path, settings: &str, dir: &Path) -> Result<Self> {
        let meta = std::fs::metadata(source).map_err(|e| Error::io(source, e))?;
        let canon = source.canonicalize().map_err(|e| Error::io(source, e))?;
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        let stem = source.file_name().and_then(|s| s.to_str()).unwrap_or("data");
        Ok(Self {
            path: dir.join(format!("{stem}.cache")),
            source: format!(
                "{} len={} mtime={mtime} {settings} v{}",
                canon.display(),
                meta.len(),
                super::cache::VERSION
            ),
        })
    }
}

/// A file read pass after pass: the first pass parses the text (teeing its chunks into the
/// cache when one is kept), later passes read the cache; a cache left by an earlier run of the
/// same source and settings is used from the first pass.
pub struct StreamSource {
    path: PathBuf,
    text: SparseText,
    hash_bits: Option<u32>,
    cache: Option<CacheKey>,
    /// The part of the file read, `(part, parts, byte range)` (one rank's share).
    part: Option<(usize, usize, (u64, u64))>,
    /// The index base when decided outside (all ranks alike), else on the first block.
    one_based: Option<bool>,
    /// Distinct features and collisions of the hashing, after a text pass.
    pub collisions: Option<(u64, u64)>,
    /// Passes read from the cache.
    pub cached_passes: usize,
}

impl StreamSource {
    /// The source `path` (LIBSVM, or Vowpal Wabbit's format when named `.vw[.gz]`), hashed into
    /// 2^`hash_bits` buckets when given, cached in `cache_dir` when given.
    pub fn new(path: &Path, hash_bits: Option<u32>, cache_dir: Option<&Path>) -> Result<Self> {
        Self::with_text(path, SparseText::from_path(path), hash_bits, cache_dir)
    }

    /// [`StreamSource::new`] with the syntax given (Vowpal Wabbit's with namespace crosses, or
    /// LIBSVM whatever the file's name).
    pub fn with_text(path: &Path, text: SparseText, hash_bits: Option<u32>, cache_dir: Option<&Path>) -> Result<Self> {
        let settings = match &text {
            SparseText::Vw { crosses } if crosses.is_empty() => format!("format=vw hash_bits={hash_bits:?}"),
            SparseText::Vw { crosses } => format!("format=vw hash_bits={hash_bits:?} crosses={crosses:?}"),
            SparseText::Libsvm => format!("format=libsvm hash_bits={hash_bits:?}"),
        };
        let cache = cache_dir.map(|d| CacheKey::new(path, &settings, d)).transpose()?;
        Ok(Self {
            path: path.to_path_buf(),
            text,
            hash_bits,
            cache,
            part: None,
            one_based: None,
            collisions: None,
            cached_passes: 0,
        })
    }

    /// The cache file, when one is kept.
    pub fn cache_path(&self) -> Option<&Path> {
        self.cache.as_ref().map(|k| k.path.as_path())
    }

    /// Reads only the lines that start in part `part` of `parts` equal byte ranges of the file
    /// (`part_range`): one rank's share; its cache, if any, is its own file.
    pub fn with_part(mut self, part: usize, parts: usize) -> Result<Self> {
        let range = part_range(&self.path, part, parts)?;
        self.part = Some((part, parts, range));
        if let Some(key) = &mut self.cache {
            let stem = key
                .path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("data")
                .to_string();
            key.path.set_file_name(format!("{stem}.part{part}of{parts}.cache"));
            key.source
                .push_str(&format!(" part={part}/{parts} bytes={}..{}", range.0, range.1));
        }
        Ok(self)
    }

    /// Fixes the index base (LIBSVM) instead of deciding it on the first block: ranks reading
    /// parts of one file must agree on it.
    pub fn set_one_based(&mut self, one_based: bool) {
        self.one_based = Some(one_based);
    }

    /// The index base (LIBSVM): fixed by [`StreamSource::set_one_based`], or as the first text
    /// pass decided it on its first block (`None` before, and for Vowpal Wabbit's format).
    pub fn one_based(&self) -> Option<bool> {
        self.one_based
    }

    /// The smallest feature index of the first block of the part read, as written (`None`
    /// when it has no rows, or for Vowpal Wabbit's format, whose indices are hashes).
    pub fn first_block_min_index(&self) -> Result<Option<u64>> {
        if self.text.is_vw() {
            return Ok(None);
        }
        let mut r = LibsvmChunks::open_part(
            &self.path,
            None,
            SparseText::Libsvm,
            self.part.map(|p| p.2),
            Some(false),
        )?;
        Ok(r.next_chunk()?
            .map(|c| c.x.parts().1.iter().copied().min().unwrap_or(u32::MAX) as u64))
    }

    /// The readers of the next pass.
    pub fn open_pass(&mut self) -> Result<Box<dyn ChunkReader + Send + '_>> {
        if let Some(key) = &self.cache {
            if let Some(r) = super::cache::CacheReader::open(key)? {
                self.cached_passes += 1;
                return Ok(Box::new(r));
            }
        }
        let hasher = self.hash_bits.map(FeatureHasher::new).transpose()?;
        let text = LibsvmChunks::open_part(
            &self.path,
            hasher,
            self.text.clone(),
            self.part.map(|p| p.2),
            self.one_based,
        )?;
        let writer = self.cache.as_ref().map(super::cache::CacheWriter::create).transpose()?;
        Ok(Box::new(TextPass {
            text,
            writer,
            src: self,
        }))
    }
}

/// A pass over the text, teeing its chunks into the cache.
struct TextPass<'a> {
    text: LibsvmChunks,
    writer: Option<super::cache::CacheWriter>,
    src: &'a mut StreamSource,
}

impl ChunkReader for TextPass<'_> {
    fn chunks_per_block(&self) -> usize {
        self.text.chunks_per_block()
    }

    fn next_chunk(&mut self) -> Result<Option<SparseChunk>> {
        let next = self.text.next_chunk();
        match next {
            Ok(Some(c)) => {
                if let Some(w) = self.writer.as_mut() {
                    if let Err(e) = w.write(&c) {
                        if let Some(w) = self.writer.take() {
                            w.abandon();
                        }
                        return Err(e);
                    }
                }
                Ok(Some(c))
            }
            Ok(None) => {
                if let Some(w) = self.writer.take() {
                    w.finish()?;
                }
                self.src.collisions = self.text.hasher().map(FeatureHasher::collisions);
                // Later passes and readers of files alike (a test file) keep this base.
                self.src.one_based = self.src.one_based.or(self.text.one_based());
                Ok(None)
            }
            Err(e) => {
                if let Some(w) = self.writer.take() {
                    w.abandon();
                }
                Err(e)
            }
        }
    }
}

impl Drop for TextPass<'_> {
    fn drop(&mut self) {
        // A pass left unfinished (an error, a stop) leaves no cache behind.
        if let Some(w) = self.writer.take() {
            w.abandon();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A row: its label and its (column, value) pairs.
    type Row = (f64, Vec<(u32, f32)>);

    /// `n` rows (labels 0/1/2, a few features each, one row far longer than any block below,
    /// values that f32 holds exactly) and their lines of LIBSVM text (one-based columns).
    fn text_and_rows(n: usize) -> (String, Vec<Row>) {
        let (mut out, mut rows) = (String::new(), Vec::new());
        for r in 0..n {
            let width = if r == n / 3 { 400 } else { 1 + r % 5 };
            let row: Vec<(u32, f32)> = (0..width)
                .map(|k| ((3 * k + r % 3) as u32, (k + r % 4) as f32 / 4.0))
                .collect();
            let feats: Vec<String> = row.iter().map(|(j, v)| format!("{}:{v}", j + 1)).collect();
            out += &format!("{} {}\n", r % 3, feats.join(" "));
            rows.push(((r % 3) as f64, row));
        }
        (out, rows)
    }

    fn text(n: usize) -> String {
        text_and_rows(n).0
    }

    /// Every row of `reader`'s chunks, and the number of chunks.
    fn rows(mut reader: impl ChunkReader) -> (Vec<Row>, usize) {
        let (mut out, mut chunks) = (Vec::new(), 0);
        while let Some(c) = reader.next_chunk().unwrap() {
            chunks += 1;
            let (indptr, indices, values) = c.x.parts();
            for (r, &label) in c.labels.iter().enumerate() {
                let span = indptr[r]..indptr[r + 1];
                out.push((
                    label,
                    indices[span.clone()]
                        .iter()
                        .copied()
                        .zip(values[span].iter().copied())
                        .collect(),
                ));
            }
        }
        (out, chunks)
    }

    /// Blocks of any size, mapped or through gzip, whole or in two byte ranges, give the rows
    /// the file was written from, in order; small blocks come as several chunks each.
    #[test]
    fn blocks_of_any_size_give_the_rows_of_the_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let (plain, gz) = (dir.path().join("d.svm"), dir.path().join("d.svm.gz"));
        let (body, whole) = text_and_rows(300);
        std::fs::write(&plain, &body).unwrap();
        let mut enc = flate2::write::GzEncoder::new(std::fs::File::create(&gz).unwrap(), flate2::Compression::fast());
        enc.write_all(body.as_bytes()).unwrap();
        enc.finish().unwrap();
        let open = |path: &Path, block: usize, range: Option<(u64, u64)>| {
            let mut r = LibsvmChunks::open_part(path, None, SparseText::Libsvm, range, Some(true)).unwrap();
            r.block_bytes = block;
            r
        };
        let (one_block, one) = rows(open(&plain, 1 << 30, None));
        assert_eq!((&one_block, one), (&whole, 1));
        for block in [64, 500, 4096] {
            let (mapped, chunks) = rows(open(&plain, block, None));
            assert_eq!(mapped, whole, "mapped, blocks of {block}");
            assert!(chunks > body.len() / block / 2, "{chunks} chunks of blocks of {block}");
            assert_eq!(rows(open(&gz, block, None)).0, whole, "gzip, blocks of {block}");
            let mut halves = Vec::new();
            for part in 0..2 {
                let range = part_range(&plain, part, 2).unwrap();
                halves.extend(rows(open(&plain, block, Some(range))).0);
            }
            assert_eq!(halves, whole, "two parts, blocks of {block}");
        }
    }

    /// A bad value in a later block, of a part that starts inside the file, is named by its
    /// line in the whole file.
    #[test]
    fn an_error_in_a_later_block_names_its_line_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.svm");
        let mut lines: Vec<String> = text(300).lines().map(str::to_string).collect();
        lines[250] = "1 3:0.5 9:x".to_string();
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        for range in [None, Some(part_range(&path, 1, 2).unwrap())] {
            let mut r = LibsvmChunks::open_part(&path, None, SparseText::Libsvm, range, Some(true)).unwrap();
            r.block_bytes = 200;
            let err = loop {
                match r.next_chunk() {
                    Ok(Some(_)) => continue,
                    Ok(None) => panic!("the bad line was read"),
                    Err(e) => break e.to_string(),
                }
            };
            assert!(err.contains("251"), "{range:?}: {err}");
        }
    }
}
