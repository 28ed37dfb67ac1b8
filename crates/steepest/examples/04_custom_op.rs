//! 04: a custom op. Code outside the crate adds a differentiable op with a forward and a
//! backward (here the softsign x / (1 + |x|)), uses it in a layer, and proves its gradient.
//!
//! `cargo run --release -p steepest --example 04_custom_op`

use std::sync::Arc;
use steepest::autograd::{check_gradients, CustomOp, Var};
use steepest::{Result, Tensor};

/// softsign(x) = x / (1 + |x|); d/dx = 1 / (1 + |x|)^2.
struct Softsign;

impl CustomOp<f64> for Softsign {
    fn name(&self) -> &str {
        "softsign"
    }
    fn forward(&self, x: &[&Tensor<f64>]) -> Result<Tensor<f64>> {
        Ok(x[0].map(|v| v / (1.0 + v.abs())))
    }
    fn backward(&self, x: &[&Tensor<f64>], _y: &Tensor<f64>, g: &Tensor<f64>) -> Result<Vec<Option<Tensor<f64>>>> {
        let d = x[0].map(|v| 1.0 / (1.0 + v.abs()).powi(2));
        Ok(vec![Some(d.mul(g)?)])
    }
}

fn main() -> Result<()> {
    let op: Arc<dyn CustomOp<f64>> = Arc::new(Softsign);
    let x = Tensor::new(vec![-2.0, -0.3, 0.4, 1.5, 3.0, -0.7], &[2, 3])?;
    let w = Tensor::new(vec![0.2, -0.5, 0.1, 0.3, 0.7, -0.2], &[3, 2])?;
    let report = check_gradients(
        |_, v: &[Var<'_, f64>]| Ok(Var::custom(Arc::clone(&op), &[v[0].matmul(v[1])?])?.sum_all()),
        &[x, w],
        1e-5,
    )?;
    println!(
        "softsign layer: largest relative gradient error {:.2e}",
        report.max_rel_error
    );
    assert!(report.max_rel_error < 1e-8);
    Ok(())
}
