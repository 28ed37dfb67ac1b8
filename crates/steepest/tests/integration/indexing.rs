//! Ops that read and write by integer indices along any axis (index_select, index_add, gather,
//! scatter_add) against plain index loops, and their gradients against finite differences.

use crate::common;

use common::all_indices;
use steepest::autograd::{check_gradients, Var};
use steepest::tensor::{rng, Indices, Tensor};

fn randn(shape: &[usize], seed: u64) -> Tensor<f64> {
    Tensor::randn(shape, 0.0, 1.0, &mut rng(seed))
}

/// Row-major offset of a multi-index.
fn off(shape: &[usize], idx: &[usize]) -> usize {
    idx.iter().zip(shape).fold(0, |acc, (i, n)| acc * n + i)
}

#[test]
fn index_select_and_gather_read_what_an_index_loop_reads() {
    let t = randn(&[3, 4, 5], 1);
    let picks = [3, 0, 3, 1];
    for axis in 0..3 {
        let idx: Vec<usize> = picks.iter().map(|&i| i % t.shape()[axis]).collect();
        let out = t.index_select(axis, &idx).unwrap();
        for pos in all_indices(out.shape()) {
            let mut src = pos.clone();
            src[axis] = idx[pos[axis]];
            assert_eq!(out.at(&pos).unwrap(), t.at(&src).unwrap());
        }
        // gather with an index smaller than the tensor on the other axes.
        let mut ishape = vec![2, 3, 4];
        ishape[axis] = 6;
        let n: usize = ishape.iter().product();
        let index = Indices::new((0..n).map(|k| (k * 7 + 3) % t.shape()[axis]).collect(), &ishape).unwrap();
        let g = t.gather(axis, &index).unwrap();
        assert_eq!(g.shape(), ishape.as_slice());
        for pos in all_indices(&ishape) {
            let mut src = pos.clone();
            src[axis] = index.data()[off(&ishape, &pos)];
            assert_eq!(g.at(&pos).unwrap(), t.at(&src).unwrap());
        }
        // scatter_add is gather's adjoint: <gather(x), y> = <x, scatter_add(y)>.
        let y = randn(&ishape, 2 + axis as u64);
        let mut back = Tensor::zeros(t.shape());
        back.scatter_add(axis, &index, &y).unwrap();
        let lhs: f64 = g.data().iter().zip(y.data()).map(|(a, b)| a * b).sum();
        let rhs: f64 = t.data().iter().zip(back.data()).map(|(a, b)| a * b).sum();
        assert!((lhs - rhs).abs() < 1e-12, "axis {axis}: {lhs} vs {rhs}");
        // index_add is index_select's adjoint.
        let z = randn(out.shape(), 7);
        let mut back = Tensor::zeros(t.shape());
        back.index_add(axis, &idx, &z).unwrap();
        let lhs: f64 = out.data().iter().zip(z.data()).map(|(a, b)| a * b).sum();
        let rhs: f64 = t.data().iter().zip(back.data()).map(|(a, b)| a * b).sum();
        assert!((lhs - rhs).abs() < 1e-12, "axis {axis}: {lhs} vs {rhs}");
    }
}

#[test]
fn gradients_of_index_select_and_gather_match_finite_differences() {
    let x = randn(&[3, 4], 5);
    let r = randn(&[3, 5], 6);
    let index = Indices::new(vec![0, 3, 3, 1, 2, 2, 2, 0, 1, 1, 3, 0, 0, 0, 2], &[3, 5]).unwrap();
    let report = check_gradients(
        |t, v: &[Var<'_, f64>]| Ok(v[0].gather(1, &index)?.mul(t.constant(r.clone()))?.sum_all()),
        std::slice::from_ref(&x),
        1e-5,
    )
    .unwrap();
    assert!(report.max_rel_error < 1e-6, "gather: {report:?}");
    let r2 = randn(&[3, 3], 8);
    let report = check_gradients(
        |t, v: &[Var<'_, f64>]| Ok(v[0].index_select(1, &[2, 0, 2])?.mul(t.constant(r2.clone()))?.sum_all()),
        std::slice::from_ref(&x),
        1e-5,
    )
    .unwrap();
    assert!(report.max_rel_error < 1e-6, "index_select: {report:?}");
}

#[test]
fn out_of_range_indices_and_bad_shapes_are_errors() {
    let t = randn(&[2, 3], 9);
    assert!(t.index_select(1, &[3]).is_err());
    assert!(t.index_select(2, &[0]).is_err());
    assert!(t.gather(0, &Indices::new(vec![2], &[1, 1]).unwrap()).is_err());
    assert!(t.gather(0, &Indices::new(vec![0; 4], &[1, 4]).unwrap()).is_err());
    assert!(t.gather(0, &Indices::new(vec![0], &[1]).unwrap()).is_err());
    let mut z = Tensor::<f64>::zeros(&[2, 3]);
    assert!(z
        .scatter_add(1, &Indices::new(vec![0, 1], &[1, 2]).unwrap(), &randn(&[2, 1], 1))
        .is_err());
    assert!(z.index_add(0, &[0], &randn(&[2, 3], 1)).is_err());
}
