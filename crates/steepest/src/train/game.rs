//! Several parameter sets trained in one loop, each by its own optimizer and schedule: the
//! players of a game, such as a GAN's discriminator and generator, take turns on every batch.
//!
//! On each batch, player 0 takes its steps (its loss and gradient with every other player's
//! parameters held fixed), then player 1 sees player 0's new parameters, and so on: alternating
//! gradient descent, as GAN training loops do. A game's losses are not meant to fall steadily,
//! so the divergence test here is for non-finite values only, which end the run with
//! [`Error::Diverged`] naming the player.

use super::config::TrainConfig;
use crate::data::{Batches, Dataset};
use crate::error::{Error, Result};
use crate::nn::ParamStore;
use crate::optim::schedule::Schedule;
use crate::optim::{clip_grad_norm, Optimizer, StepArgs};
use crate::tensor::{rng, Rng, Scalar};

/// A model with several players, each owning a set of parameters.
pub trait Game<T: Scalar>: Send {
    /// Number of players.
    fn players(&self) -> usize;
    /// Player `p`'s name (for messages).
    fn name(&self, p: usize) -> String;
    /// Player `p`'s parameters.
    fn params(&self, p: usize) -> &ParamStore<T>;
    /// Player `p`'s parameters, mutably.
    fn params_mut(&mut self, p: usize) -> &mut ParamStore<T>;
    /// Player `p`'s mean loss on `rows` of `data` and its gradient with respect to `p`'s
    /// parameters, every other player's parameters fixed.
    fn loss_grad(&self, p: usize, data: &Dataset<T>, rows: &[usize], rng: &mut Rng) -> Result<(f64, ParamStore<T>)>;
}

/// How one player is trained: its optimizer, its schedule (advanced every epoch), and how many
/// steps it takes per batch (a WGAN's critic takes several).
pub struct Player<'a, T: Scalar> {
    /// The update rule (its learning rate is the schedule's at each step).
    pub optimizer: Box<dyn Optimizer<T>>,
    /// The schedule, if any.
    pub schedule: Option<&'a mut dyn Schedule>,
    /// Steps per batch (at least 1).
    pub steps_per_batch: usize,
}

/// Each player's mean loss over each epoch's batches: `losses[epoch][player]`.
pub type GameHistory = Vec<Vec<f64>>;

/// Trains `game` on `train` for `cfg.epochs` epochs (or `cfg.max_steps` rounds of turns) of
/// batches of `cfg.batch_size`, shuffled by `cfg.seed`; each player clipped to
/// `cfg.clip_grad_norm` when set.
///
/// ```
/// use steepest::data::{Dataset, Features, Targets};
/// use steepest::nn::ParamStore;
/// use steepest::optim::rules::Sgd;
/// use steepest::optim::{Optimizer, RuleOptimizer};
/// use steepest::tensor::{Rng, Tensor};
/// use steepest::train::{fit_game, Game, Player, TrainConfig};
///
/// /// a minimizes (a - 1)^2 / 2 + (a - b)^2 / 2, b minimizes b^2 / 2 + (b - a)^2 / 2.
/// struct Pair(Vec<ParamStore<f64>>);
/// impl Game<f64> for Pair {
///     fn players(&self) -> usize { 2 }
///     fn name(&self, p: usize) -> String { ["a", "b"][p].into() }
///     fn params(&self, p: usize) -> &ParamStore<f64> { &self.0[p] }
///     fn params_mut(&mut self, p: usize) -> &mut ParamStore<f64> { &mut self.0[p] }
///     fn loss_grad(&self, p: usize, _: &Dataset<f64>, _: &[usize], _: &mut Rng) -> steepest::Result<(f64, ParamStore<f64>)> {
///         let (a, b) = (self.0[0].require("v")?.item()?, self.0[1].require("v")?.item()?);
///         let (loss, g) = match p {
///             0 => (0.5 * (a - 1.0).powi(2) + 0.5 * (a - b).powi(2), 2.0 * a - b - 1.0),
///             _ => (0.5 * b * b + 0.5 * (b - a).powi(2), 2.0 * b - a),
///         };
///         let mut gs = ParamStore::new();
///         gs.insert("v", Tensor::scalar(g));
///         Ok((loss, gs))
///     }
/// }
/// let one = |v: f64| { let mut s = ParamStore::new(); s.insert("v", Tensor::scalar(v)); s };
/// let mut game = Pair(vec![one(0.0), one(0.0)]);
/// let data = Dataset::new(Features::Dense(Tensor::zeros(&[1, 1])), Targets::Values(vec![0.0]), vec![])?;
/// let sgd = || -> Box<dyn Optimizer<f64>> { Box::new(RuleOptimizer::new(Sgd::plain(0.2)).unwrap()) };
/// let mut players = [
///     Player { optimizer: sgd(), schedule: None, steps_per_batch: 1 },
///     Player { optimizer: sgd(), schedule: None, steps_per_batch: 1 },
/// ];
/// let cfg = TrainConfig { epochs: 200, ..TrainConfig::default() };
/// fit_game(&mut game, &data, &mut players, &cfg)?;
/// // The Nash equilibrium: 2a - b = 1 and 2b = a, so a = 2/3, b = 1/3.
/// assert!((game.0[0].require("v")?.item()? - 2.0 / 3.0).abs() < 1e-9);
/// assert!((game.0[1].require("v")?.item()? - 1.0 / 3.0).abs() < 1e-9);
/// # Ok::<(), steepest::Error>(())
/// ```
pub fn fit_game<T: Scalar, G: Game<T>>(
    game: &mut G,
    train: &Dataset<T>,
    players: &mut [Player<'_, T>],
    cfg: &TrainConfig,
) -> Result<GameHistory> {
    if players.len() != game.players() {
        return Err(Error::invalid(
            "fit_game",
            format!("{} players set up for a game of {}", players.len(), game.players()),
        ));
    }
    if train.rows() == 0 {
        return Err(Error::invalid("fit_game", "no training rows"));
    }
    if let Some(c) = cfg.clip_grad_norm {
        if !(c > 0.0 && c.is_finite()) {
            return Err(Error::invalid(
                "clip_grad_norm",
                format!("{c} is not a positive finite norm"),
            ));
        }
    }
    if players.iter().any(|p| p.steps_per_batch == 0) {
        return Err(Error::invalid(
            "fit_game",
            "a player must take at least one step per batch",
        ));
    }
    let base: Vec<f64> = players.iter().map(|p| p.optimizer.lr()).collect();
    let mut r = rng(cfg.seed ^ 0x5EED);
    let mut history = Vec::new();
    let mut turns = 0u64;
    'epochs: for epoch in 0..cfg.epochs {
        let batches = Batches::new(train.rows(), cfg.batch_size, cfg.shuffle, cfg.seed, epoch as u64);
        let mut sums = vec![(0.0, 0usize); players.len()];
        for rows in batches.iter() {
            if cfg.max_steps.is_some_and(|m| turns >= m) {
                break;
            }
            for (p, pl) in players.iter_mut().enumerate() {
                let lr = pl.schedule.as_ref().map_or(base[p], |s| s.lr());
                let momentum = pl.schedule.as_ref().and_then(|s| s.momentum());
                for _ in 0..pl.steps_per_batch {
                    let (loss, mut g) = game.loss_grad(p, train, rows, &mut r)?;
                    let norm = match cfg.clip_grad_norm {
                        Some(c) => clip_grad_norm(&mut g, c),
                        None => g.global_norm(),
                    };
                    if !loss.is_finite() || !norm.is_finite() {
                        return Err(Error::Diverged(format!(
                            "player '{}' at epoch {}: loss {loss}, gradient norm {norm}; lower its learning rate",
                            game.name(p),
                            epoch + 1
                        )));
                    }
                    let args = StepArgs {
                        lr,
                        momentum,
                        loss: Some(loss),
                    };
                    pl.optimizer.step_at(game.params_mut(p), &g, &args)?;
                    sums[p].0 += loss * rows.len() as f64;
                    sums[p].1 += rows.len();
                }
            }
            turns += 1;
        }
        let means: Vec<f64> = sums.iter().map(|(s, n)| s / (*n).max(1) as f64).collect();
        for (p, pl) in players.iter_mut().enumerate() {
            if let Some(s) = pl.schedule.as_deref_mut() {
                s.step(Some(means[p]));
            }
        }
        history.push(means);
        if cfg.max_steps.is_some_and(|m| turns >= m) {
            break 'epochs;
        }
    }
    for p in 0..game.players() {
        if !game.params(p).all_finite() {
            return Err(Error::Diverged(format!(
                "player '{}' ended with non-finite parameters",
                game.name(p)
            )));
        }
    }
    Ok(history)
}
