//! The linear fast path across ranks: parameter averaging after every pass.
//!
//! The fast path takes one step per example ([`sgd_pass`]); averaging gradients across ranks
//! after every example would cost one allreduce per row, and per mini-batch it would no longer
//! be the per-example algorithm. So each rank runs a whole pass over its shard, then the ranks
//! average their models, weighted by rows (iterative parameter mixing, McDonald, Hall and Mann
//! 2010; Vowpal Wabbit's `--span_server` AllReduce does the same). One allreduce per pass moves
//! the weights once, and for a convex loss the average of the shard models is a model at least
//! as good (in loss) as the average of their losses.

use steepest::collective::Communicator;
use steepest::data::{shuffled_indices, Features};
use steepest::linear::{mix_models, sgd_pass, RowTargets, SgdConfig, SgdModel};
use steepest::tensor::Scalar;
use steepest::Result;

/// `passes` passes of the fast path over `rows` (this rank's shard of `x`), averaging the models
/// of all ranks after each; with `shuffle`, each pass visits the shard in a new order seeded by
/// (`seed`, rank, pass). Returns each pass's mean training loss over all ranks' rows. Every rank
/// ends with the same model.
#[allow(clippy::too_many_arguments)]
pub fn sgd_passes_averaged<T: Scalar, W: Scalar>(
    comm: &mut dyn Communicator,
    model: &mut SgdModel<W>,
    x: &Features<T>,
    y: RowTargets<'_>,
    rows: &[usize],
    cfg: &SgdConfig,
    passes: usize,
    shuffle: Option<u64>,
) -> Result<Vec<f64>> {
    let mut losses = Vec::with_capacity(passes);
    for pass in 0..passes {
        let order: Vec<usize> = match shuffle {
            Some(seed) => {
                let mix = seed ^ (comm.rank() as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ pass as u64;
                shuffled_indices(rows.len(), mix).into_iter().map(|i| rows[i]).collect()
            }
            None => rows.to_vec(),
        };
        // Also with no rows: the pass sizes the model's state arrays like the other ranks'.
        let loss = sgd_pass(model, x, y, &order, cfg)?;
        let mean = mix_models(
            comm,
            std::slice::from_mut(model),
            order.len(),
            loss * order.len() as f64,
        )?;
        losses.push(mean);
    }
    Ok(losses)
}
