//! Batch, layer and group norm against plain loops written from their definitions, their
//! gradients against finite differences in f64, and batch norm's running statistics against
//! PyTorch's update rule.

use steepest::autograd::{check_gradients, Tape, Var};
use steepest::nn::{Cx, Mode, Module, ParamStore, VarBuilder};
use steepest::tensor::{rng, NormKind, Tensor};

fn randn(shape: &[usize], seed: u64) -> Tensor<f64> {
    Tensor::randn(shape, 0.0, 1.0, &mut rng(seed))
}

/// Normalizes `vals` (one group) by its mean and biased variance.
fn standardize(vals: &[f64], eps: f64) -> Vec<f64> {
    let m = vals.iter().sum::<f64>() / vals.len() as f64;
    let v = vals.iter().map(|x| (x - m).powi(2)).sum::<f64>() / vals.len() as f64;
    vals.iter().map(|x| (x - m) / (v + eps).sqrt()).collect()
}

#[test]
fn the_three_norms_match_plain_loops() {
    let (n, c, h, w) = (3, 4, 2, 5);
    let x = randn(&[n, c, h, w], 1);
    let gamma = randn(&[c], 2);
    let beta = randn(&[c], 3);
    let at = |i: usize, ch: usize, p: usize| x.data()[(i * c + ch) * h * w + p];
    let t = Tape::<f64>::new();
    let (xv, g, b) = (
        t.constant(x.clone()),
        t.constant(gamma.clone()),
        t.constant(beta.clone()),
    );
    // Batch norm: each channel over the batch and positions.
    let y = xv
        .normalize(NormKind::Batch, Some(g), Some(b), 1e-5, None)
        .unwrap()
        .0
        .value();
    for ch in 0..c {
        let vals: Vec<f64> = (0..n)
            .flat_map(|i| (0..h * w).map(move |p| (i, p)))
            .map(|(i, p)| at(i, ch, p))
            .collect();
        let z = standardize(&vals, 1e-5);
        for (k, (i, p)) in (0..n).flat_map(|i| (0..h * w).map(move |p| (i, p))).enumerate() {
            let want = z[k] * gamma.data()[ch] + beta.data()[ch];
            assert!((y.data()[(i * c + ch) * h * w + p] - want).abs() < 1e-12);
        }
    }
    // Group norm with 2 groups: each example's pair of channels.
    let y = xv
        .normalize(NormKind::Group { groups: 2 }, Some(g), Some(b), 1e-5, None)
        .unwrap()
        .0
        .value();
    for i in 0..n {
        for grp in 0..2 {
            let vals: Vec<f64> = (grp * 2..grp * 2 + 2)
                .flat_map(|ch| (0..h * w).map(move |p| (ch, p)))
                .map(|(ch, p)| at(i, ch, p))
                .collect();
            let z = standardize(&vals, 1e-5);
            for (k, ch) in (grp * 2..grp * 2 + 2)
                .flat_map(|ch| std::iter::repeat_n(ch, h * w))
                .enumerate()
            {
                let p = k % (h * w);
                let want = z[k] * gamma.data()[ch] + beta.data()[ch];
                assert!((y.data()[(i * c + ch) * h * w + p] - want).abs() < 1e-12);
            }
        }
    }
    // Layer norm over the last 10 elements, affine per element.
    let lg = randn(&[h * w], 4);
    let lb = randn(&[h * w], 5);
    let y = xv
        .normalize(
            NormKind::Layer { d: h * w },
            Some(t.constant(lg.clone())),
            Some(t.constant(lb.clone())),
            1e-5,
            None,
        )
        .unwrap()
        .0
        .value();
    for row in 0..n * c {
        let z = standardize(&x.data()[row * h * w..(row + 1) * h * w], 1e-5);
        for p in 0..h * w {
            let want = z[p] * lg.data()[p] + lb.data()[p];
            assert!((y.data()[row * h * w + p] - want).abs() < 1e-12);
        }
    }
}

#[test]
fn norm_gradients_match_finite_differences() {
    let x = randn(&[3, 4, 2, 3], 7);
    let gamma = randn(&[4], 8);
    let beta = randn(&[4], 9);
    let r = randn(&[3, 4, 2, 3], 10);
    for kind in [NormKind::Batch, NormKind::Group { groups: 2 }, NormKind::Layer { d: 6 }] {
        let (g, b) = match kind {
            NormKind::Layer { d } => (randn(&[d], 11), randn(&[d], 12)),
            _ => (gamma.clone(), beta.clone()),
        };
        let report = check_gradients(
            |t, v: &[Var<'_, f64>]| {
                let y = v[0].normalize(kind, Some(v[1]), Some(v[2]), 1e-5, None)?.0;
                Ok(y.mul(t.constant(r.clone()))?.sum_all())
            },
            &[x.clone(), g, b],
            1e-5,
        )
        .unwrap();
        assert!(report.max_rel_error < 1e-6, "{kind:?}: {report:?}");
    }
    // Fixed statistics (batch norm in evaluation).
    let (m, v) = (vec![0.1, -0.2, 0.3, 0.0], vec![1.5, 0.5, 2.0, 1.0]);
    let report = check_gradients(
        |t, vs: &[Var<'_, f64>]| {
            let y = vs[0]
                .normalize(NormKind::Batch, Some(vs[1]), None, 1e-5, Some((&m, &v)))?
                .0;
            Ok(y.mul(t.constant(r.clone()))?.sum_all())
        },
        &[x.clone(), gamma.clone()],
        1e-5,
    )
    .unwrap();
    assert!(report.max_rel_error < 1e-6, "fixed: {report:?}");
}

#[test]
fn batch_norm_updates_running_statistics_as_pytorch() {
    let mut store = ParamStore::<f64>::new();
    let vb = VarBuilder::new(&mut store, 0);
    let bn = steepest::nn::BatchNorm::new(&vb.pp("bn"), 2, 1e-5, 0.3, true, &[4]).unwrap();
    let buffers2 = vb.buffers();
    drop(vb);
    assert_eq!(buffers2.len(), 2);
    let x = randn(&[4, 2, 3, 3], 3);
    let t = Tape::new();
    let mut cx = Cx::new(&t, &store, &buffers2, Mode::Train);
    bn.forward(&mut cx, t.constant(x.clone())).unwrap();
    let updates = cx.take_buffer_updates();
    for ch in 0..2 {
        let vals: Vec<f64> = (0..4)
            .flat_map(|i| x.data()[(i * 2 + ch) * 9..(i * 2 + ch + 1) * 9].to_vec())
            .collect();
        let m = vals.iter().sum::<f64>() / 36.0;
        let unbiased = vals.iter().map(|v| (v - m).powi(2)).sum::<f64>() / 35.0;
        let rm = &updates.iter().find(|(n, _)| n == "bn.running_mean").unwrap().1;
        let rv = &updates.iter().find(|(n, _)| n == "bn.running_var").unwrap().1;
        assert!((rm.data()[ch] - 0.3 * m).abs() < 1e-12);
        assert!((rv.data()[ch] - (0.7 + 0.3 * unbiased)).abs() < 1e-12);
    }
    // Evaluation normalizes by the running statistics: with the initial (0, 1), y = x / sqrt(1 + eps).
    let mut cx = Cx::new(&t, &store, &buffers2, Mode::Eval);
    let y = bn.forward(&mut cx, t.constant(x.clone())).unwrap().value();
    for (a, b) in y.data().iter().zip(x.data()) {
        assert!((a - b / (1.0f64 + 1e-5).sqrt()).abs() < 1e-12);
    }
}

#[test]
fn synchronized_batch_norm_in_one_process_is_batch_norm_with_its_gradient() {
    use steepest::collective::{with_step_communicator, SingleProcess};
    let mut store = ParamStore::<f64>::new();
    let vb = VarBuilder::new(&mut store, 0);
    let bn = steepest::nn::BatchNorm::new(&vb.pp("bn"), 3, 1e-5, 0.1, true, &[2, 3]).unwrap();
    let buffers = vb.buffers();
    drop(vb);
    // Non-trivial affine parameters, so that the gradient flows through them.
    store.insert("bn.weight", Tensor::from_vec(vec![0.5, -1.5, 2.0]));
    store.insert("bn.bias", Tensor::from_vec(vec![0.1, 0.2, -0.3]));
    let x = randn(&[4, 3, 5], 7).map(|v| 2.0 * v + 1.0);
    let r = randn(&[4, 3, 5], 8);
    let run = |synced: bool| {
        let t = Tape::new();
        let mut cx = Cx::new(&t, &store, &buffers, Mode::Train);
        let xv = t.param(x.clone());
        let mut forward = || -> steepest::Result<_> {
            let y = bn.forward(&mut cx, xv)?;
            let loss = y.mul(t.constant(r.clone()))?.sum_all();
            let g = t.backward(loss)?;
            Ok((y.value(), g.get(xv).cloned().unwrap(), cx.take_buffer_updates()))
        };
        match synced {
            true => with_step_communicator(&mut SingleProcess, forward),
            false => forward(),
        }
        .unwrap()
    };
    let (y1, g1, u1) = run(false);
    let (y2, g2, u2) = run(true);
    assert!(y1.max_abs_diff(&y2).unwrap() < 1e-12);
    assert!(
        g1.max_abs_diff(&g2).unwrap() < 1e-12,
        "{}",
        g1.max_abs_diff(&g2).unwrap()
    );
    for ((n1, a), (n2, b)) in u1.iter().zip(&u2) {
        assert_eq!(n1, n2);
        assert!(a.max_abs_diff(b).unwrap() < 1e-12, "{n1}");
    }
    // And against finite differences, through the synchronized path itself.
    let report = check_gradients(
        |t, vs: &[Var<'_, f64>]| {
            let mut cx = Cx::new(t, &store, &buffers, Mode::Train);
            let y = with_step_communicator(&mut SingleProcess, || bn.forward(&mut cx, vs[0]))?;
            Ok(y.mul(t.constant(r.clone()))?.sum_all())
        },
        std::slice::from_ref(&x),
        1e-5,
    )
    .unwrap();
    assert!(report.max_rel_error < 1e-6, "{report:?}");
}
