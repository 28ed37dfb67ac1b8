//! The convolution and pooling kernels against plain reference loops written from their
//! definitions, and their gradients (through the tape) against central finite differences in
//! f64.

use steepest::autograd::{check_gradients, Var};
use steepest::tensor::{
    adaptive_avg_pool2d, avg_pool2d, conv2d, max_pool2d, rng, set_num_threads, Conv2dGeometry, Pool2dGeometry, Tensor,
};
use steepest::Result;

fn randn(shape: &[usize], seed: u64) -> Tensor<f64> {
    Tensor::randn(shape, 0.0, 1.0, &mut rng(seed))
}

/// y[n,o,i,j] = b[o] + sum_{c,p,q} w[o,c,p,q] x[n, g*C/G + c, i s - pad + p d, j s - pad + q d].
fn conv_reference(x: &Tensor<f64>, w: &Tensor<f64>, b: Option<&Tensor<f64>>, geo: &Conv2dGeometry) -> Tensor<f64> {
    let (xs, ws) = (x.shape(), w.shape());
    let (n, c, h, wd) = (xs[0], xs[1], xs[2], xs[3]);
    let (o, cg, kh, kw) = (ws[0], ws[1], ws[2], ws[3]);
    let og = o / geo.groups;
    let oh = (h + 2 * geo.padding[0] - geo.dilation[0] * (kh - 1) - 1) / geo.stride[0] + 1;
    let ow = (wd + 2 * geo.padding[1] - geo.dilation[1] * (kw - 1) - 1) / geo.stride[1] + 1;
    let mut y = vec![0.0; n * o * oh * ow];
    for ni in 0..n {
        for oi in 0..o {
            let g = oi / og;
            for i in 0..oh {
                for j in 0..ow {
                    let mut s = b.map_or(0.0, |b| b.data()[oi]);
                    for ci in 0..cg {
                        for p in 0..kh {
                            for q in 0..kw {
                                let r = (i * geo.stride[0] + p * geo.dilation[0]) as isize - geo.padding[0] as isize;
                                let cc = (j * geo.stride[1] + q * geo.dilation[1]) as isize - geo.padding[1] as isize;
                                if r < 0 || cc < 0 || r >= h as isize || cc >= wd as isize {
                                    continue;
                                }
                                let xi = ((ni * c + g * cg + ci) * h + r as usize) * wd + cc as usize;
                                s += ws_at(w, oi, ci, p, q) * x.data()[xi];
                            }
                        }
                    }
                    y[((ni * o + oi) * oh + i) * ow + j] = s;
                }
            }
        }
    }
    let _ = c;
    Tensor::new(y, &[n, o, oh, ow]).unwrap()
}

fn ws_at(w: &Tensor<f64>, o: usize, c: usize, p: usize, q: usize) -> f64 {
    let s = w.shape();
    w.data()[((o * s[1] + c) * s[2] + p) * s[3] + q]
}

fn geometries() -> Vec<(Vec<usize>, Vec<usize>, Conv2dGeometry)> {
    let g = |stride, padding, dilation, groups| Conv2dGeometry {
        stride,
        padding,
        dilation,
        groups,
    };
    vec![
        (vec![2, 3, 7, 6], vec![4, 3, 3, 3], g([1, 1], [0, 0], [1, 1], 1)),
        (vec![3, 2, 8, 9], vec![5, 2, 3, 2], g([2, 1], [1, 2], [1, 1], 1)),
        (vec![2, 4, 9, 9], vec![6, 2, 3, 3], g([1, 2], [2, 1], [2, 1], 2)),
        (vec![1, 3, 5, 5], vec![2, 3, 1, 1], g([1, 1], [0, 0], [1, 1], 1)),
        (vec![5, 2, 4, 6], vec![3, 2, 2, 3], g([3, 2], [1, 1], [1, 2], 1)),
        (vec![2, 6, 5, 4], vec![6, 1, 3, 3], g([1, 1], [1, 1], [1, 1], 6)),
    ]
}

#[test]
fn conv2d_matches_the_reference_loop_on_one_and_two_threads() {
    let _one = crate::one_at_a_time();
    for threads in [1, 2] {
        set_num_threads(threads);
        for (k, (xs, wsh, geo)) in geometries().into_iter().enumerate() {
            let x = randn(&xs, k as u64);
            let w = randn(&wsh, 100 + k as u64);
            let b = randn(&[wsh[0]], 200 + k as u64);
            let got = conv2d(&x, &w, Some(&b), &geo).unwrap();
            let want = conv_reference(&x, &w, Some(&b), &geo);
            assert_eq!(got.shape(), want.shape(), "case {k}");
            for (a, e) in got.data().iter().zip(want.data()) {
                assert!((a - e).abs() < 1e-12, "case {k}: {a} vs {e}");
            }
        }
    }
    set_num_threads(1);
}

#[test]
fn conv2d_gradients_match_finite_differences() {
    let _one = crate::one_at_a_time();
    for threads in [1, 2] {
        set_num_threads(threads);
        for (k, (xs, wsh, geo)) in geometries().into_iter().enumerate() {
            let inputs = vec![
                randn(&xs, k as u64),
                randn(&wsh, 10 + k as u64),
                randn(&[wsh[0]], 20 + k as u64),
            ];
            let r = randn(conv_reference(&inputs[0], &inputs[1], None, &geo).shape(), 99);
            let report = check_gradients(
                |t, v: &[Var<'_, f64>]| {
                    let y = v[0].conv2d(v[1], Some(v[2]), &geo)?;
                    Ok(y.mul(t.constant(r.clone()))?.sum_all())
                },
                &inputs,
                1e-5,
            )
            .unwrap();
            assert!(report.max_rel_error < 1e-6, "case {k} on {threads} threads: {report:?}");
        }
    }
    set_num_threads(1);
}

#[test]
fn conv2d_weight_gradient_is_the_same_on_any_thread_count() {
    let _one = crate::one_at_a_time();
    let x = randn(&[13, 3, 8, 8], 1);
    let w = randn(&[4, 3, 3, 3], 2);
    let grad = || {
        let t = steepest::autograd::Tape::new();
        let (xv, wv) = (t.param(x.clone()), t.param(w.clone()));
        let y = xv
            .conv2d(wv, None, &Conv2dGeometry::default())
            .unwrap()
            .square()
            .sum_all();
        let g = t.backward(y).unwrap();
        (g.wrt(xv).unwrap(), g.wrt(wv).unwrap())
    };
    set_num_threads(1);
    let one = grad();
    set_num_threads(2);
    let two = grad();
    set_num_threads(1);
    assert_eq!(one, two, "bit-identical on 1 and 2 threads");
}

fn window(i: usize, k: usize, s: usize, p: usize, len: usize) -> std::ops::Range<isize> {
    let start = (i * s) as isize - p as isize;
    start.max(0)..(start + k as isize).min(len as isize)
}

#[test]
fn pooling_matches_the_reference_loops() {
    let _one = crate::one_at_a_time();
    let x = randn(&[2, 3, 7, 8], 5);
    for geo in [
        Pool2dGeometry::square(2),
        Pool2dGeometry {
            kernel: [3, 2],
            stride: [2, 1],
            padding: [1, 1],
        },
        Pool2dGeometry {
            kernel: [3, 3],
            stride: [1, 2],
            padding: [0, 1],
        },
    ] {
        let (mx, _) = max_pool2d(&x, &geo).unwrap();
        let av = avg_pool2d(&x, &geo).unwrap();
        let s = mx.shape().to_vec();
        for p in 0..6 {
            for i in 0..s[2] {
                for j in 0..s[3] {
                    let (mut best, mut sum) = (f64::NEG_INFINITY, 0.0);
                    for r in window(i, geo.kernel[0], geo.stride[0], geo.padding[0], 7) {
                        for c in window(j, geo.kernel[1], geo.stride[1], geo.padding[1], 8) {
                            let v = x.data()[p * 56 + r as usize * 8 + c as usize];
                            best = best.max(v);
                            sum += v;
                        }
                    }
                    let at = (p * s[2] + i) * s[3] + j;
                    assert_eq!(mx.data()[at], best, "{geo:?}");
                    let mean = sum / (geo.kernel[0] * geo.kernel[1]) as f64;
                    assert!((av.data()[at] - mean).abs() < 1e-12, "{geo:?}");
                }
            }
        }
    }
}

#[test]
fn adaptive_average_pooling_uses_pytorch_windows() {
    let _one = crate::one_at_a_time();
    // 5 -> 3: windows [0, 2), [1, 4), [3, 5) (floor(i*5/3) .. ceil((i+1)*5/3)).
    let x = Tensor::<f64>::new((0..5).map(|v| v as f64).collect(), &[1, 1, 1, 5]).unwrap();
    let y = adaptive_avg_pool2d(&x, [1, 3]).unwrap();
    assert_eq!(y.data(), &[0.5, 2.0, 3.5]);
}

#[test]
fn pooling_gradients_match_finite_differences() {
    let _one = crate::one_at_a_time();
    // Distinct values so each window has one maximum and max pooling is differentiable.
    let mut vals: Vec<f64> = (0..2 * 2 * 6 * 7).map(|v| v as f64 * 0.37 % 5.3).collect();
    let mut r = rng(3);
    use rand::seq::SliceRandom;
    vals.shuffle(&mut r);
    let x = Tensor::new(vals, &[2, 2, 6, 7]).unwrap();
    let geo = Pool2dGeometry {
        kernel: [3, 2],
        stride: [2, 2],
        padding: [1, 1],
    };
    type F = fn(Var<'_, f64>) -> Result<Var<'_, f64>>;
    let cases: [(&str, F); 4] = [
        ("max", |v| {
            v.max_pool2d(&Pool2dGeometry {
                kernel: [3, 2],
                stride: [2, 2],
                padding: [1, 1],
            })
        }),
        ("avg", |v| {
            v.avg_pool2d(&Pool2dGeometry {
                kernel: [3, 2],
                stride: [2, 2],
                padding: [1, 1],
            })
        }),
        ("adaptive", |v| v.adaptive_avg_pool2d([4, 3])),
        ("global", |v| v.adaptive_avg_pool2d([1, 1])),
    ];
    let _ = geo;
    for (name, f) in cases {
        let report = check_gradients(
            |t, v: &[Var<'_, f64>]| {
                let y = f(v[0])?;
                let w = randn(&y.shape(), 8);
                Ok(y.mul(t.constant(w))?.sum_all())
            },
            std::slice::from_ref(&x),
            1e-6,
        )
        .unwrap();
        assert!(report.max_rel_error < 1e-6, "{name}: {report:?}");
    }
}

#[test]
fn bad_shapes_are_errors_not_panics() {
    let _one = crate::one_at_a_time();
    let x = randn(&[1, 3, 4, 4], 0);
    assert!(conv2d(&x, &randn(&[2, 2, 3, 3], 0), None, &Conv2dGeometry::default()).is_err());
    assert!(conv2d(&x, &randn(&[2, 3, 5, 5], 0), None, &Conv2dGeometry::default()).is_err());
    assert!(max_pool2d(&randn(&[3, 4, 4], 0), &Pool2dGeometry::square(2)).is_err());
    assert!(max_pool2d(&x, &Pool2dGeometry::square(5)).is_err());
}
