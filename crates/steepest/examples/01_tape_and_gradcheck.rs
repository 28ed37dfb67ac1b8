//! 01: the tape. Record a computation, take its gradient by the reverse sweep, and check that
//! gradient against central finite differences.
//!
//! `cargo run --release -p steepest --example 01_tape_and_gradcheck`

use steepest::autograd::{check_gradients, Tape};
use steepest::Tensor;

fn main() -> steepest::Result<()> {
    // f(w) = sum(tanh(x w)^2) for a fixed x: a tiny "layer" and a loss.
    let x = Tensor::new(vec![0.5, -1.0, 2.0, 0.3, 0.8, -0.4], &[3, 2])?;
    let w = Tensor::new(vec![0.1, -0.2, 0.4, 0.3], &[2, 2])?;

    let tape = Tape::<f64>::new();
    let wv = tape.param(w.clone());
    let y = tape.constant(x.clone()).matmul(wv)?.tanh().square().sum_all();
    let grads = tape.backward(y)?;
    println!("f(w) = {:.6}", y.item()?);
    println!("df/dw = {:?}", grads.wrt(wv)?.data());

    // The same gradient, checked against (f(w + h e_j) - f(w - h e_j)) / 2h for every j.
    let report = check_gradients(
        |t, v| Ok(t.constant(x.clone()).matmul(v[0])?.tanh().square().sum_all()),
        &[w],
        1e-5,
    )?;
    println!(
        "largest relative error against finite differences: {:.2e}",
        report.max_rel_error
    );
    assert!(report.max_rel_error < 1e-8);
    Ok(())
}
