//! Every differentiable op against central finite differences in f64 (relative error <= 1e-6).
//!
//! Each op's output is contracted with a fixed random tensor before summing, so that every
//! output element carries a different weight and no gradient is trivially uniform.

use std::sync::Arc;
use steepest::autograd::{check_gradients, Tape, Var};
use steepest::tensor::{rng, CsrMatrix, Tensor};
use steepest::Result;

const TOL: f64 = 1e-6;

fn randn(shape: &[usize], seed: u64) -> Tensor<f64> {
    Tensor::randn(shape, 0.0, 1.0, &mut rng(seed))
}

/// Random values with |x| in [0.2, 1.2]: away from the kinks of relu, abs and clamp.
fn away_from_zero(shape: &[usize], seed: u64) -> Tensor<f64> {
    let u = Tensor::<f64>::rand_uniform(shape, 0.2, 1.2, &mut rng(seed));
    let s = Tensor::<f64>::rand_uniform(shape, -1.0, 1.0, &mut rng(seed + 1000));
    u.zip_with(&s, "sign", |u, s| if s < 0.0 { -u } else { u }).unwrap()
}

fn positive(shape: &[usize], seed: u64) -> Tensor<f64> {
    Tensor::rand_uniform(shape, 0.5, 2.0, &mut rng(seed))
}

/// sum(out * R) for a fixed random R of out's shape.
fn contract<'t>(out: Var<'t, f64>) -> Result<Var<'t, f64>> {
    let r = randn(&out.shape(), 99);
    let rv = out.tape().constant(r);
    Ok(out.mul(rv)?.sum_all())
}

fn check<F>(name: &str, inputs: Vec<Tensor<f64>>, f: F)
where
    F: for<'t> Fn(&'t Tape<f64>, &[Var<'t, f64>]) -> Result<Var<'t, f64>>,
{
    let report = check_gradients(|t, v| contract(f(t, v)?), &inputs, 1e-5).unwrap();
    assert!(report.max_rel_error <= TOL, "{name}: {report:?}");
}

#[test]
fn binary_ops_same_shape() {
    let (a, b) = (randn(&[3, 4], 1), away_from_zero(&[3, 4], 2));
    check("add", vec![a.clone(), b.clone()], |_, v| v[0].add(v[1]));
    check("sub", vec![a.clone(), b.clone()], |_, v| v[0].sub(v[1]));
    check("mul", vec![a.clone(), b.clone()], |_, v| v[0].mul(v[1]));
    check("div", vec![a, b], |_, v| v[0].div(v[1]));
}

#[test]
fn binary_ops_broadcasting() {
    let cases: [(&[usize], &[usize]); 5] = [
        (&[3, 4], &[4]),
        (&[3, 1], &[1, 4]),
        (&[2, 3, 4], &[3, 1]),
        (&[2, 3], &[]),
        (&[1], &[2, 3]),
    ];
    for (i, (sa, sb)) in cases.into_iter().enumerate() {
        let (a, b) = (randn(sa, 10 + i as u64), away_from_zero(sb, 20 + i as u64));
        check("add/bcast", vec![a.clone(), b.clone()], |_, v| v[0].add(v[1]));
        check("sub/bcast", vec![a.clone(), b.clone()], |_, v| v[0].sub(v[1]));
        check("mul/bcast", vec![a.clone(), b.clone()], |_, v| v[0].mul(v[1]));
        check("div/bcast", vec![a, b], |_, v| v[0].div(v[1]));
    }
}

#[test]
fn where_with_broadcast_mask() {
    let mask = Tensor::new(vec![1.0, 0.0, 1.0, 0.0], &[4]).unwrap();
    let (a, b) = (randn(&[3, 4], 3), randn(&[3, 1], 4));
    check("where", vec![a, b], move |_, v| Var::where_(&mask, v[0], v[1]));
}

#[test]
fn unary_ops() {
    let x = away_from_zero(&[3, 5], 5);
    let p = positive(&[3, 5], 6);
    check("neg", vec![x.clone()], |_, v| Ok(v[0].neg()));
    check("add_scalar", vec![x.clone()], |_, v| Ok(v[0].add_scalar(1.5)));
    check("mul_scalar", vec![x.clone()], |_, v| Ok(v[0].mul_scalar(-2.5)));
    check("square", vec![x.clone()], |_, v| Ok(v[0].square()));
    check("exp", vec![x.clone()], |_, v| Ok(v[0].exp()));
    check("ln", vec![p.clone()], |_, v| Ok(v[0].ln()));
    check("sqrt", vec![p.clone()], |_, v| Ok(v[0].sqrt()));
    check("abs", vec![x.clone()], |_, v| Ok(v[0].abs()));
    check("powf", vec![p], |_, v| Ok(v[0].powf(2.7)));
    check("tanh", vec![x.clone()], |_, v| Ok(v[0].tanh()));
    check("sigmoid", vec![x.mul_scalar(4.0)], |_, v| Ok(v[0].sigmoid()));
    check("relu", vec![x.clone()], |_, v| Ok(v[0].relu()));
    check("leaky_relu", vec![x.clone()], |_, v| Ok(v[0].leaky_relu(0.1)));
    check("gelu", vec![x.mul_scalar(2.0)], |_, v| Ok(v[0].gelu()));
    check("softplus", vec![x.mul_scalar(5.0)], |_, v| Ok(v[0].softplus()));
    // Bounds at +-0.1, inputs have |x| >= 0.2... so use bounds that cut through the data.
    let inside = x.map(|v| {
        if v.abs() < 0.55 || v.abs() > 0.65 {
            v
        } else {
            0.8 * v.signum()
        }
    });
    check("clamp", vec![inside], |_, v| Ok(v[0].clamp(-0.6, 0.6)));
}

#[test]
fn reductions_over_everything_and_each_axis() {
    let x = randn(&[2, 3, 4], 7);
    check("sum_all", vec![x.clone()], |_, v| Ok(v[0].sum_all()));
    check("mean_all", vec![x.clone()], |_, v| Ok(v[0].mean_all()));
    check("max_all", vec![x.clone()], |_, v| v[0].max_all());
    for axis in 0..3 {
        for keepdim in [false, true] {
            check("sum_axis", vec![x.clone()], move |_, v| v[0].sum_axis(axis, keepdim));
            check("mean_axis", vec![x.clone()], move |_, v| v[0].mean_axis(axis, keepdim));
            check("max_axis", vec![x.clone()], move |_, v| v[0].max_axis(axis, keepdim));
        }
    }
}

#[test]
fn shape_ops() {
    let x = randn(&[4, 3], 8);
    check("reshape", vec![x.clone()], |_, v| v[0].reshape(&[2, 6]));
    check("transpose", vec![x.clone()], |_, v| v[0].transpose());
    check("rows", vec![x.clone()], |_, v| v[0].rows(1, 3));
    check("gather_rows (repeats)", vec![x.clone()], |_, v| {
        v[0].gather_rows(&[3, 0, 3, 1])
    });
    let y = randn(&[4, 2], 9);
    check("concat axis 1", vec![x.clone(), y], |_, v| {
        Var::concat(&[v[0], v[1]], 1)
    });
    let z = randn(&[2, 3], 10);
    check("concat axis 0", vec![x, z], |_, v| Var::concat(&[v[0], v[1], v[0]], 0));
}

#[test]
fn matmul_with_every_transpose_combination() {
    for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
        let a = randn(if ta { &[4, 3] } else { &[3, 4] }, 11);
        let b = randn(if tb { &[5, 4] } else { &[4, 5] }, 12);
        check("matmul", vec![a, b], move |_, v| v[0].matmul_t(v[1], ta, tb));
    }
}

#[test]
fn sparse_times_dense() {
    let dense = randn(&[5, 6], 13).map(|v| if v.abs() < 0.7 { 0.0 } else { v });
    let a = Arc::new(CsrMatrix::from_dense(&dense).unwrap());
    let w = randn(&[6, 3], 14);
    check("sparse_lmul", vec![w], move |_, v| v[0].sparse_lmul(&a));
}

#[test]
fn softmax_family_along_each_axis() {
    let x = randn(&[2, 3, 4], 15).mul_scalar(3.0);
    for axis in 0..3 {
        check("softmax", vec![x.clone()], move |_, v| v[0].softmax(axis));
        check("log_softmax", vec![x.clone()], move |_, v| v[0].log_softmax(axis));
        check("logsumexp", vec![x.clone()], move |_, v| v[0].logsumexp(axis, false));
        check("logsumexp keepdim", vec![x.clone()], move |_, v| {
            v[0].logsumexp(axis, true)
        });
    }
}

#[test]
fn losses() {
    let z = randn(&[5, 3], 16);
    let y = [0usize, 2, 1, 2, 0];
    let r = check_gradients(|_, v| v[0].cross_entropy(&y, None), std::slice::from_ref(&z), 1e-5).unwrap();
    assert!(r.max_rel_error <= TOL, "cross_entropy {r:?}");
    let w = [0.5, 2.0, 1.5];
    let r = check_gradients(|_, v| v[0].cross_entropy(&y, Some(&w)), std::slice::from_ref(&z), 1e-5).unwrap();
    assert!(r.max_rel_error <= TOL, "weighted cross_entropy {r:?}");
    let t = randn(&[5, 3], 17);
    let r = check_gradients(|_, v| v[0].mse(v[1]), &[z.clone(), t], 1e-5).unwrap();
    assert!(r.max_rel_error <= TOL, "mse {r:?}");
    let p = Tensor::<f64>::rand_uniform(&[5, 3], 0.0, 1.0, &mut rng(18));
    let r = check_gradients(|_, v| v[0].bce_with_logits(v[1]), &[z.mul_scalar(3.0), p], 1e-5).unwrap();
    assert!(r.max_rel_error <= TOL, "bce_with_logits {r:?}");
}

#[test]
fn value_used_twice_accumulates() {
    let x = randn(&[3, 3], 19);
    // x feeds mul twice and exp once; y feeds two later ops (a diamond).
    check("x*x + exp(x)", vec![x.clone()], |_, v| v[0].mul(v[0])?.add(v[0].exp()));
    check("diamond", vec![x], |_, v| {
        let y = v[0].tanh();
        y.mul(y)?.add(y.matmul(y)?)
    });
}

#[test]
fn small_mlp_end_to_end() {
    let x = randn(&[6, 4], 20);
    let w1 = randn(&[4, 5], 21).mul_scalar(0.5);
    let b1 = randn(&[5], 22);
    let w2 = randn(&[5, 3], 23).mul_scalar(0.5);
    let y = [0usize, 1, 2, 1, 0, 2];
    let r = check_gradients(
        |t, v| {
            let h = t.constant(x.clone()).matmul(v[0])?.add(v[1])?.tanh();
            h.matmul(v[2])?.cross_entropy(&y, None)
        },
        &[w1, b1, w2],
        1e-5,
    )
    .unwrap();
    assert!(r.max_rel_error <= TOL, "mlp {r:?}");
}

#[test]
fn gradcheck_detects_a_wrong_gradient() {
    // A gradient of zero through a constant is wrong for a function that depends on x: feeding
    // the value through `constant` hides it from autodiff, and the checker must notice.
    let x = randn(&[3], 24);
    let r = check_gradients(|t, v| Ok(t.constant(v[0].value()).mul(v[0])?.sum_all()), &[x], 1e-5).unwrap();
    assert!(r.max_rel_error > 0.1, "{r:?}");
}

#[test]
fn inference_tape_records_no_graph() {
    let tape = Tape::<f64>::inference();
    let x = tape.param(randn(&[2, 2], 25));
    let y = x.exp().sum_all();
    assert!(!y.requires_grad());
    let g = tape.backward(y).unwrap();
    assert!(g.get(x).is_none());
}

#[test]
fn backward_rejects_non_scalar_loss() {
    let tape = Tape::<f64>::new();
    let x = tape.param(randn(&[2, 2], 26));
    let err = tape.backward(x.exp()).err().unwrap().to_string();
    assert!(err.contains("one element"), "{err}");
}
