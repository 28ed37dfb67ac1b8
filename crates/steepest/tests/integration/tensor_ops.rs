//! Tensor operations against hand-computed values and naive reference loops.

use steepest::tensor::{broadcast_shape, matmul_into, matmul_slices, rng, CsrMatrix, MatRef, Tensor};

fn t(data: &[f64], shape: &[usize]) -> Tensor<f64> {
    Tensor::new(data.to_vec(), shape).unwrap()
}

/// Naive triple loop, the oracle for gemm.
fn naive_matmul(a: &Tensor<f64>, b: &Tensor<f64>) -> Vec<f64> {
    let (m, k, n) = (a.shape()[0], a.shape()[1], b.shape()[1]);
    let mut out = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            out[i * n + j] = (0..k).map(|p| a.data()[i * k + p] * b.data()[p * n + j]).sum();
        }
    }
    out
}

#[test]
fn constructors() {
    assert_eq!(Tensor::<f32>::zeros(&[2, 3]).data(), &[0.0; 6]);
    assert_eq!(Tensor::<f32>::ones(&[2]).data(), &[1.0, 1.0]);
    assert_eq!(Tensor::<f64>::full(&[1, 2], 7.5).data(), &[7.5, 7.5]);
    assert_eq!(Tensor::<f64>::arange(1.0, 4.0, 1.0).unwrap().data(), &[1.0, 2.0, 3.0]);
    assert_eq!(Tensor::<f64>::arange(3.0, 0.0, -1.5).unwrap().data(), &[3.0, 1.5]);
    assert!(Tensor::<f64>::arange(0.0, 1.0, 0.0).is_err());
    assert_eq!(Tensor::scalar(2.0f32).shape(), &[] as &[usize]);
    let e = Tensor::new(vec![1.0f32; 5], &[2, 3]).unwrap_err().to_string();
    assert!(e.contains("5 elements") && e.contains("[2, 3]"), "{e}");
}

#[test]
fn seeded_random_is_reproducible_and_has_the_right_moments() {
    let a = Tensor::<f64>::randn(&[20000], 1.0, 2.0, &mut rng(3));
    assert_eq!(a, Tensor::<f64>::randn(&[20000], 1.0, 2.0, &mut rng(3)));
    assert_ne!(a, Tensor::<f64>::randn(&[20000], 1.0, 2.0, &mut rng(4)));
    let mean = a.mean_all();
    let var = a.add_scalar(-mean).square().mean_all();
    assert!((mean - 1.0).abs() < 0.05 && (var - 4.0).abs() < 0.15, "{mean} {var}");
    let u = Tensor::<f32>::rand_uniform(&[10000], -2.0, 3.0, &mut rng(5));
    assert!(u.data().iter().all(|&v| (-2.0..3.0).contains(&v)));
    assert!((u.mean_all() - 0.5).abs() < 0.05);
}

#[test]
fn broadcasting_matches_numpy_rules() {
    assert_eq!(broadcast_shape(&[5, 1, 4], &[3, 1]), Some(vec![5, 3, 4]));
    assert_eq!(broadcast_shape(&[], &[2]), Some(vec![2]));
    let a = t(&[1.0, 2.0, 3.0], &[3, 1]);
    let b = t(&[10.0, 20.0], &[1, 2]);
    assert_eq!(a.add(&b).unwrap().data(), &[11.0, 21.0, 12.0, 22.0, 13.0, 23.0]);
    assert_eq!(a.mul(&b).unwrap().shape(), &[3, 2]);
    let c = t(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
    assert_eq!(
        c.sub(&t(&[1.0, 1.0, 1.0], &[3])).unwrap().data(),
        &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    );
    assert_eq!(c.div(&t(&[2.0], &[])).unwrap().data(), &[0.5, 1.0, 1.5, 2.0, 2.5, 3.0]);
    // 3-D against a middle-axis broadcast, checked element by element.
    let x = Tensor::<f64>::randn(&[2, 3, 4], 0.0, 1.0, &mut rng(1));
    let y = Tensor::<f64>::randn(&[3, 1], 0.0, 1.0, &mut rng(2));
    let z = x.add(&y).unwrap();
    for i in 0..2 {
        for j in 0..3 {
            for k in 0..4 {
                let want = x.at(&[i, j, k]).unwrap() + y.at(&[j, 0]).unwrap();
                assert_eq!(z.at(&[i, j, k]).unwrap(), want);
            }
        }
    }
    let e = c.add(&t(&[1.0, 2.0], &[2])).unwrap_err().to_string();
    assert_eq!(e, "add: shape mismatch between [2, 3] and [2]");
}

#[test]
fn comparisons_and_where() {
    let a = t(&[1.0, 5.0, 3.0], &[3]);
    let b = t(&[3.0], &[]);
    assert_eq!(a.gt(&b).unwrap().data(), &[0.0, 1.0, 0.0]);
    assert_eq!(a.ge(&b).unwrap().data(), &[0.0, 1.0, 1.0]);
    assert_eq!(a.lt(&b).unwrap().data(), &[1.0, 0.0, 0.0]);
    assert_eq!(a.le(&b).unwrap().data(), &[1.0, 0.0, 1.0]);
    assert_eq!(a.eq_mask(&b).unwrap().data(), &[0.0, 0.0, 1.0]);
    let m = a.gt(&b).unwrap();
    assert_eq!(Tensor::where_(&m, &a, &a.neg()).unwrap().data(), &[-1.0, 5.0, -3.0]);
}

#[test]
fn unary_functions_match_their_definitions() {
    let x = t(&[-2.0, -0.5, 0.0, 0.5, 2.0], &[5]);
    let close = |got: &Tensor<f64>, f: &dyn Fn(f64) -> f64| {
        for (g, &v) in got.data().iter().zip(x.data()) {
            assert!((g - f(v)).abs() < 1e-12, "{g} vs {} at {v}", f(v));
        }
    };
    close(&x.sigmoid(), &|v| 1.0 / (1.0 + (-v).exp()));
    close(&x.softplus(), &|v| (1.0 + v.exp()).ln());
    close(&x.relu(), &|v| v.max(0.0));
    close(&x.leaky_relu(0.01), &|v| if v > 0.0 { v } else { 0.01 * v });
    close(&x.tanh(), &f64::tanh);
    close(&x.clamp(-1.0, 1.0), &|v| v.clamp(-1.0, 1.0));
    close(&x.abs(), &f64::abs);
    // GELU(1) = Phi(1) = 0.8413447460685429 (standard normal CDF tables).
    assert!((t(&[1.0], &[1]).gelu().data()[0] - 0.841_344_746_068_542_9).abs() < 1e-12);
    // Stable forms do not overflow.
    let big = t(&[-800.0, 800.0], &[2]);
    assert_eq!(big.sigmoid().data(), &[0.0, 1.0]);
    assert_eq!(big.softplus().data(), &[0.0, 800.0]);
}

#[test]
fn reductions() {
    let x = t(&[1.0, 7.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
    assert_eq!(x.sum_all(), 26.0);
    assert_eq!(x.max_all().unwrap(), 7.0);
    assert_eq!(x.argmax_all().unwrap(), 1);
    assert_eq!(x.sum_axis(0, false).unwrap().data(), &[5.0, 12.0, 9.0]);
    assert_eq!(x.sum_axis(0, true).unwrap().shape(), &[1, 3]);
    assert_eq!(x.mean_axis(1, false).unwrap().data(), &[11.0 / 3.0, 5.0]);
    assert_eq!(x.max_axis(1, true).unwrap().data(), &[7.0, 6.0]);
    assert_eq!(x.argmax_axis(0).unwrap(), vec![1, 0, 1]);
    let e = x.sum_axis(2, false).unwrap_err().to_string();
    assert!(e.contains("axis 2") && e.contains("[2, 3]"), "{e}");
    // Middle axis of a 3-D tensor.
    let y = Tensor::<f64>::arange(0.0, 24.0, 1.0)
        .unwrap()
        .reshape(&[2, 3, 4])
        .unwrap();
    let s = y.sum_axis(1, false).unwrap();
    assert_eq!(s.shape(), &[2, 4]);
    assert_eq!(s.at(&[1, 2]).unwrap(), 14.0 + 18.0 + 22.0);
}

#[test]
fn shape_manipulation() {
    let x = t(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[3, 2]);
    assert_eq!(x.reshape(&[2, 3]).unwrap().shape(), &[2, 3]);
    assert!(x.reshape(&[4]).is_err());
    assert_eq!(x.transpose().unwrap().data(), &[1.0, 3.0, 5.0, 2.0, 4.0, 6.0]);
    assert_eq!(x.rows(1, 3).unwrap().data(), &[3.0, 4.0, 5.0, 6.0]);
    assert!(x.rows(2, 4).is_err());
    assert!(x.gather_rows(&[3]).is_err());
    let c = Tensor::concat(&[&x, &x.rows(0, 1).unwrap()], 0).unwrap();
    assert_eq!(c.shape(), &[4, 2]);
    assert_eq!(c.row(3), &[1.0, 2.0]);
    let e = Tensor::concat(&[&x, &t(&[1.0; 3], &[1, 3])], 0)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("concat: shape mismatch"), "{e}");
}

#[test]
fn matmul_matches_naive_loop_for_every_transpose_flag() {
    let a = Tensor::<f64>::randn(&[37, 53], 0.0, 1.0, &mut rng(1));
    let b = Tensor::<f64>::randn(&[53, 29], 0.0, 1.0, &mut rng(2));
    let want = naive_matmul(&a, &b);
    let (at, bt) = (a.transpose().unwrap(), b.transpose().unwrap());
    for (lhs, ta, rhs, tb) in [
        (&a, false, &b, false),
        (&at, true, &b, false),
        (&a, false, &bt, true),
        (&at, true, &bt, true),
    ] {
        let got = lhs.matmul_t(rhs, ta, tb).unwrap();
        assert_eq!(got.shape(), &[37, 29]);
        for (g, w) in got.data().iter().zip(&want) {
            assert!((g - w).abs() < 1e-10);
        }
    }
    // Accumulating into an existing output, in f32.
    let (a32, b32) = (a.cast::<f32>(), b.cast::<f32>());
    let mut out = Tensor::<f32>::ones(&[37, 29]);
    matmul_into(&mut out, &a32, false, &b32, false, true).unwrap();
    for (g, w) in out.data().iter().zip(&want) {
        assert!((*g as f64 - (w + 1.0)).abs() < 1e-3);
    }
    // Both operands read across their rows (a column-major, b transposed): the product is
    // computed column-major and added into the rows of a wider output (padding left alone).
    let (a_cm, b_t) = (a.transpose().unwrap(), b.transpose().unwrap());
    let (av, bv) = (
        MatRef::row_major(a_cm.data(), 53, 37).t(),
        MatRef::row_major(b_t.data(), 29, 53).t(),
    );
    let stride = 29 + 3;
    let mut wide = vec![2.0f64; 37 * stride];
    matmul_slices(&mut wide, stride, av, bv, true).unwrap();
    for i in 0..37 {
        for j in 0..stride {
            let want = if j < 29 { want[i * 29 + j] + 2.0 } else { 2.0 };
            assert!((wide[i * stride + j] - want).abs() < 1e-10, "({i}, {j})");
        }
    }
    let e = a.matmul(&a).unwrap_err().to_string();
    assert_eq!(e, "matmul: shape mismatch between [37, 53] and [37, 53]");
}

#[test]
fn softmax_is_stable_and_normalized() {
    let x = t(&[1000.0, 1001.0, 1002.0, -5.0, 0.0, 5.0], &[2, 3]);
    let p = x.softmax(1).unwrap();
    for r in 0..2 {
        assert!((p.row(r).iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }
    // softmax is shift-invariant: row 0 equals softmax([0, 1, 2]).
    let z: f64 = [0.0f64, 1.0, 2.0].iter().map(|v| v.exp()).sum();
    assert!((p.row(0)[2] - 2f64.exp() / z).abs() < 1e-12);
    let lse = x.logsumexp(1, false).unwrap();
    assert!((lse.data()[0] - (1000.0 + z.ln())).abs() < 1e-9);
    let ls = x.log_softmax(1).unwrap();
    assert!((ls.row(0)[0] - (-z.ln())).abs() < 1e-12);
    // Along axis 0.
    let p0 = x.softmax(0).unwrap();
    assert!((p0.at(&[0, 0]).unwrap() + p0.at(&[1, 0]).unwrap() - 1.0).abs() < 1e-12);
}

#[test]
fn sparse_products_match_dense() {
    let d = Tensor::<f64>::randn(&[7, 9], 0.0, 1.0, &mut rng(3)).map(|v| if v.abs() < 0.8 { 0.0 } else { v });
    let s = CsrMatrix::from_dense(&d).unwrap();
    assert_eq!(s.to_dense(), d);
    let w = Tensor::<f64>::randn(&[9, 4], 0.0, 1.0, &mut rng(4));
    assert!(
        s.matmul_dense(&w)
            .unwrap()
            .max_abs_diff(&d.matmul(&w).unwrap())
            .unwrap()
            < 1e-12
    );
    let g = Tensor::<f64>::randn(&[7, 4], 0.0, 1.0, &mut rng(5));
    let want = d.matmul_t(&g, true, false).unwrap();
    assert!(s.t_matmul_dense(&g).unwrap().max_abs_diff(&want).unwrap() < 1e-12);
    let row3: f64 = (0..9).map(|j| d.at(&[3, j]).unwrap() * w.at(&[j, 0]).unwrap()).sum();
    let col0: Vec<f64> = (0..9).map(|j| w.at(&[j, 0]).unwrap()).collect();
    assert!((s.row_dot(3, &col0) - row3).abs() < 1e-12);
    let g2 = s.gather_rows(&[6, 0]).unwrap();
    assert_eq!(g2.to_dense(), d.gather_rows(&[6, 0]).unwrap());
}

#[test]
fn sparse_constructor_rejects_bad_structure() {
    let e = CsrMatrix::new(1, 5, vec![0, 2], vec![3, 1], vec![1.0f32, 2.0])
        .unwrap_err()
        .to_string();
    assert!(e.contains("must increase"), "{e}");
    let e = CsrMatrix::new(1, 2, vec![0, 1], vec![2], vec![1.0f32])
        .unwrap_err()
        .to_string();
    assert!(e.contains("out of range"), "{e}");
    assert!(CsrMatrix::new(2, 2, vec![0, 1], vec![0], vec![1.0f32]).is_err());
}
