//! Where a stream's bytes come from: a plain file mapped into memory a block at a time, or a
//! reader (gzip's decoder) into a buffer. Either way a block is whole lines, cut after the last
//! newline, the rest carried to the next block.

use crate::error::{Error, Result};
use std::io::Read;
use std::path::Path;

/// Where a pass's bytes come from.
pub(crate) enum Feed {
    /// Through a reader (gzip's decoder), into a buffer.
    Read(Buffered),
    /// A plain file (or a byte range of it), mapped a block at a time.
    Map(Mapped),
}

impl Feed {
    /// The bytes of `reader` (gzip's decoder), through a buffer.
    pub(crate) fn read(reader: Box<dyn Read + Send>) -> Self {
        Feed::Read(Buffered {
            reader,
            buf: Vec::new(),
            block: 0,
            filled: 0,
            done: false,
        })
    }

    /// Bytes `start..end` of `file`, mapped a block at a time.
    pub(crate) fn mapped(file: std::fs::File, start: u64, end: u64) -> Self {
        Feed::Map(Mapped {
            file,
            pos: start,
            end,
            window: None,
            block: 0..0,
        })
    }

    /// Moves to the next block of whole lines; false at the end.
    pub(crate) fn advance(&mut self, name: &str, block: usize) -> Result<bool> {
        match self {
            Feed::Read(b) => b.advance(name, block),
            Feed::Map(m) => m.advance(name, block),
        }
    }

    /// The current block.
    pub(crate) fn block(&self) -> &[u8] {
        match self {
            Feed::Read(b) => &b.buf[..b.block],
            Feed::Map(m) => m.window.as_ref().map_or(&[], |w| &w[m.block.clone()]),
        }
    }
}

/// A reader's bytes in a buffer: the block is `buf[..block]`, then the start of the next line,
/// `buf[block..filled]`, carried over to the next block. Reused (filled once with zeros).
pub(crate) struct Buffered {
    reader: Box<dyn Read + Send>,
    buf: Vec<u8>,
    block: usize,
    filled: usize,
    done: bool,
}

impl Buffered {
    fn advance(&mut self, name: &str, block: usize) -> Result<bool> {
        // The carried start of a line to the front.
        self.buf.copy_within(self.block..self.filled, 0);
        let mut filled = self.filled - self.block;
        (self.block, self.filled) = (0, filled);
        if self.done && filled == 0 {
            return Ok(false);
        }
        let want = filled.max(block) + block / 8;
        if self.buf.len() < want {
            self.buf.resize(want, 0);
        }
        while !self.done && filled < want {
            match self.reader.read(&mut self.buf[filled..want]) {
                Ok(0) => self.done = true,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::io(Path::new(name), e)),
            }
        }
        self.filled = filled;
        if self.done {
            self.block = filled;
            return Ok(true);
        }
        match memchr::memrchr(b'\n', &self.buf[..filled]) {
            Some(p) => {
                self.block = p + 1;
                Ok(true)
            }
            // A line longer than the block: read on.
            None => self.advance(name, block),
        }
    }
}

/// Bytes `pos..end` of a file still to read, mapped a block at a time: the block is
/// `window[block]`. Each window is unmapped when the next is mapped.
pub(crate) struct Mapped {
    file: std::fs::File,
    pos: u64,
    end: u64,
    window: Option<memmap2::Mmap>,
    block: std::ops::Range<usize>,
}

/// Windows start at a multiple of this (a multiple of every page size in use).
const MAP_ALIGN: u64 = 1 << 16;

impl Mapped {
    fn advance(&mut self, name: &str, block: usize) -> Result<bool> {
        self.window = None;
        if self.pos >= self.end {
            return Ok(false);
        }
        let mut span = (block + block / 8).max(1) as u64;
        loop {
            let want = (self.pos + span).min(self.end);
            let base = self.pos / MAP_ALIGN * MAP_ALIGN;
            let len = usize::try_from(want - base).map_err(|_| Error::format(name, "a line longer than memory"))?;
            // SAFETY: the map is only read, by a parser that reads bytes and checks every
            // index: a file changed by another process meanwhile can give wrong numbers, not
            // unsafety (a file truncated under the map faults on the pages past its end, as
            // for any memory-mapped reader).
            let window = unsafe {
                memmap2::MmapOptions::new()
                    .offset(base)
                    .len(len)
                    .populate()
                    .map(&self.file)
            }
            .map_err(|e| Error::io(Path::new(name), e))?;
            let from = (self.pos - base) as usize;
            let cut = match want == self.end {
                true => Some(len),
                false => memchr::memrchr(b'\n', &window[from..]).map(|p| from + p + 1),
            };
            match cut {
                Some(to) => {
                    self.block = from..to;
                    self.pos = base + to as u64;
                    self.window = Some(window);
                    return Ok(true);
                }
                // A line longer than the window: map a longer one.
                None => span *= 2,
            }
        }
    }
}
