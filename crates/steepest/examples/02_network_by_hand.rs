//! 02: a network by hand with `Module`. Parameters are declared by name through a
//! `VarBuilder`, the forward pass runs in a `Cx` (mode, randomness), and plain gradient descent
//! steps against the gradient: the textbook loop, on two interleaved spirals.
//!
//! `cargo run --release -p steepest --example 02_network_by_hand`

use steepest::autograd::Tape;
use steepest::data::{generate, Targets};
use steepest::nn::{Activation, Cx, Linear, Mode, Module, ParamStore, Sequential, VarBuilder};
use steepest::tensor::rng;

fn main() -> steepest::Result<()> {
    let data = generate::spirals::<f32>(400, 2, 0.1, 0)?;
    let x = data.features.dense("example")?.clone();
    let Targets::Classes { labels, .. } = &data.targets else {
        unreachable!()
    };

    // Initialize: PyTorch's defaults for each layer, seeded.
    let mut params = ParamStore::<f32>::new();
    let net = {
        let vb = VarBuilder::new(&mut params, 0);
        Sequential::new()
            .push(Linear::new(&vb.pp("fc1"), 2, 64, true)?)
            .push(Activation::Tanh)
            .push(Linear::new(&vb.pp("fc2"), 64, 64, true)?)
            .push(Activation::Tanh)
            .push(Linear::new(&vb.pp("out"), 64, 2, true)?)
    };
    let mut r = rng(1);
    for step in 0..=2000 {
        // Compute the gradient of the loss...
        let tape = Tape::new();
        let rows: Vec<usize> = (0..x.rows_count()).collect();
        let mut cx = Cx::new(&tape, &params, &ParamStore::new(), Mode::Train).with_randomness(&mut r, &rows);
        let loss = net
            .forward(&mut cx, tape.constant(x.clone()))?
            .cross_entropy(labels, None)?;
        let grads = tape.backward(loss)?;
        // ...and step against it, scaled by the learning rate.
        for (name, p) in params.iter_mut() {
            let g = grads.wrt(cx.var(name)?)?;
            p.data_mut().iter_mut().zip(g.data()).for_each(|(p, g)| *p -= 0.5 * g);
        }
        if step % 500 == 0 {
            println!("step {step:>4}  loss {:.4}", loss.item()?);
        }
    }
    let tape = Tape::inference();
    let mut cx = Cx::new(&tape, &params, &ParamStore::new(), Mode::Eval);
    let z = net.forward(&mut cx, tape.constant(x.clone()))?.value();
    let correct = (0..z.rows_count())
        .filter(|&i| (z.row(i)[1] > z.row(i)[0]) == (labels[i] == 1))
        .count();
    println!("training accuracy {:.3}", correct as f64 / labels.len() as f64);
    Ok(())
}
