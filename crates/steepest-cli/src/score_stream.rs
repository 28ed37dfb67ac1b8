//! Scoring a streamed model on its test file, read block by block as the training file was:
//! memory for one block and each row's prediction (40 bytes a row for a binary classifier),
//! never the test file's features whole.

use crate::error::{usage, CliResult};
use std::collections::BTreeMap;
use std::path::Path;
use steepest::data::{SparseText, StreamSource};
use steepest::models::{Evaluator, FittedModel};
use steepest::tensor::Scalar;

/// How the training stream read its file, for reading the test file alike.
pub struct StreamReading {
    /// LIBSVM, or Vowpal Wabbit's format with its namespace crosses.
    pub text: SparseText,
    /// The hash buckets' bits, when hashed.
    pub hash_bits: Option<u32>,
    /// The index base the training file was read with (LIBSVM), when known: the test file's
    /// indices mean the same features.
    pub one_based: Option<bool>,
}

/// The metrics of `model` on the sparse text file `path` and its row count, read in blocks the
/// way `reading` says; features numbered beyond the model's inputs have no weight and are
/// counted in one note.
pub fn score_file<T: Scalar>(
    model: &FittedModel<T>,
    path: &str,
    reading: &StreamReading,
) -> CliResult<(BTreeMap<String, f64>, usize)> {
    if !Path::new(path).is_file() {
        return Err(usage(format!("{path}: no such file")));
    }
    let task = crate::data_load::task_of(model);
    let mut source = StreamSource::with_text(Path::new(path), reading.text.clone(), reading.hash_bits, None)?;
    if let Some(b) = reading.one_based {
        source.set_one_based(b);
    }
    let mut pass = source.open_pass()?;
    let mut eval = Evaluator::new(model);
    let (cols, mut dropped) = (model.n_inputs(), 0);
    while let Some(chunk) = pass.next_chunk()? {
        let mut block = chunk.into_dataset::<T>(task)?;
        let (features, n) = block.features.fit_cols(cols)?;
        block.features = features;
        dropped += n;
        eval.add(model, &block).map_err(|e| usage(format!("{path}: {e}")))?;
    }
    if eval.rows() == 0 {
        return Err(usage(format!("{path}: no data rows")));
    }
    if dropped > 0 {
        eprintln!(
            "note: {path}: {dropped} entries of features numbered beyond the {cols} seen in training ignored (they have no weight)"
        );
    }
    let metrics = eval.finish()?;
    crate::output::warn_if_overconfident(&metrics, eval.prior_log_loss());
    Ok((metrics, eval.rows()))
}
