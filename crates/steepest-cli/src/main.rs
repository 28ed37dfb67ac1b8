//! The `steepest` command-line program.
//!
//! Until the full command line lands, `steepest train` runs the foundation's end-to-end example:
//! it fits noisy points of y = 3x + 2 by plain gradient descent on the autodiff tape and prints
//! the fit.

use std::process::ExitCode;
use steepest::autograd::Tape;
use steepest::tensor::{rng, Tensor};

fn fit_line() -> steepest::Result<()> {
    let mut r = rng(0);
    let x = Tensor::<f32>::rand_uniform(&[1000, 1], -1.0, 1.0, &mut r);
    let y = x
        .mul_scalar(3.0)
        .add_scalar(2.0)
        .add(&Tensor::randn(&[1000, 1], 0.0, 0.1, &mut r))?;
    let (mut w, mut b) = (Tensor::<f32>::zeros(&[1, 1]), Tensor::<f32>::zeros(&[1]));
    let lr = 0.5;
    println!("fitting y = 3x + 2 (+ noise, sd 0.1) on 1000 points by gradient descent, lr {lr}");
    for step in 0..=200 {
        let tape = Tape::new();
        let (wv, bv) = (tape.param(w.clone()), tape.param(b.clone()));
        let loss = tape
            .constant(x.clone())
            .matmul(wv)?
            .add(bv)?
            .mse(tape.constant(y.clone()))?;
        let grads = tape.backward(loss)?;
        if step % 40 == 0 {
            println!(
                "step {step:3}  loss {:.5}  w {:.4}  b {:.4}",
                loss.item()?,
                w.item()?,
                b.item()?
            );
        }
        w = w.sub(&grads.wrt(wv)?.mul_scalar(lr))?;
        b = b.sub(&grads.wrt(bv)?.mul_scalar(lr))?;
    }
    println!("fit: y = {:.4} x + {:.4}", w.item()?, b.item()?);
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("train") | None => match fit_line() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(1)
            }
        },
        Some(other) => {
            eprintln!("error: unknown command '{other}' (available: train)");
            ExitCode::from(2)
        }
    }
}
