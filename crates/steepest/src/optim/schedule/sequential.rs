//! Sequential composition of schedules.

use super::{check_name, Schedule};
use crate::error::{Error, Result};

/// Runs `schedules[0]` until the first milestone, then `schedules[1]` from its own step 0, and so
/// on (as PyTorch's `SequentialLR`); `milestones` are global step counts, increasing, one fewer
/// than the schedules. The common warmup-then-decay is
/// `Sequential::new(vec![warmup, decay], vec![warmup_steps])`.
///
/// ```
/// use steepest::optim::schedule::*;
/// let warm = Box::new(Stepped::new(LinearWarmup { lr: 1.0, warmup_steps: 2, start_factor: 0.0 }));
/// let decay = Box::new(Stepped::new(Exponential { lr: 1.0, gamma: 0.5 }));
/// let mut s = Sequential::new(vec![warm, decay], vec![2])?;
/// let mut lrs = vec![];
/// for _ in 0..5 { lrs.push(s.lr()); s.step(None); }
/// assert_eq!(lrs, [0.0, 0.5, 1.0, 0.5, 0.25]);
/// # Ok::<(), steepest::Error>(())
/// ```
pub struct Sequential {
    schedules: Vec<Box<dyn Schedule>>,
    milestones: Vec<u64>,
    t: u64,
}

impl Sequential {
    /// Composes `schedules`, switching at `milestones`.
    pub fn new(schedules: Vec<Box<dyn Schedule>>, milestones: Vec<u64>) -> Result<Self> {
        if schedules.is_empty() || milestones.len() + 1 != schedules.len() {
            return Err(Error::invalid(
                "sequential schedule",
                format!(
                    "{} schedules need {} milestones, got {}",
                    schedules.len(),
                    schedules.len().saturating_sub(1),
                    milestones.len()
                ),
            ));
        }
        if milestones.windows(2).any(|w| w[0] >= w[1]) {
            return Err(Error::invalid("sequential schedule", "milestones must increase"));
        }
        Ok(Self {
            schedules,
            milestones,
            t: 0,
        })
    }

    fn active(&self) -> usize {
        self.milestones.iter().filter(|&&m| m <= self.t).count()
    }
}

impl Schedule for Sequential {
    fn name(&self) -> &'static str {
        "sequential"
    }
    fn lr(&self) -> f64 {
        self.schedules[self.active()].lr()
    }
    fn momentum(&self) -> Option<f64> {
        self.schedules[self.active()].momentum()
    }
    fn step(&mut self, metric: Option<f64>) {
        let before = self.active();
        self.t += 1;
        if self.active() == before {
            self.schedules[before].step(metric);
        }
    }
    fn state(&self) -> serde_json::Value {
        let children: Vec<_> = self.schedules.iter().map(|s| s.state()).collect();
        serde_json::json!({ "name": self.name(), "t": self.t, "children": children })
    }
    fn load_state(&mut self, state: &serde_json::Value) -> Result<()> {
        check_name(state, self.name())?;
        let children = state
            .get("children")
            .and_then(|c| c.as_array())
            .filter(|c| c.len() == self.schedules.len())
            .ok_or_else(|| Error::format("schedule state", "children do not match the composition"))?;
        for (s, c) in self.schedules.iter_mut().zip(children) {
            s.load_state(c)?;
        }
        self.t = state
            .get("t")
            .and_then(|v| v.as_u64())
            .ok_or_else(|| Error::format("schedule state", "missing 't'"))?;
        Ok(())
    }
}
