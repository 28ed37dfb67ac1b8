//! The hand-derived gradients of the linear path against central finite differences (f64),
//! for every loss, dense and sparse rows, with class weights and every smooth penalty.

use steepest::data::Features;
use steepest::linear::{LinearCore, LinearLoss, Penalty, RowTargets};
use steepest::nn::ParamStore;
use steepest::tensor::{rng, CsrMatrix, Tensor};

fn check(loss: LinearLoss, outputs: usize, x: &Features<f64>, y: RowTargets<'_>, cw: Option<&[f64]>, penalty: Penalty) {
    let core = LinearCore {
        inputs: x.cols(),
        outputs,
    };
    let mut p = ParamStore::new();
    p.insert("weight", Tensor::randn(&[x.cols(), outputs], 0.0, 0.7, &mut rng(1)));
    p.insert("bias", Tensor::randn(&[outputs], 0.0, 0.3, &mut rng(2)));
    let rows: Vec<usize> = vec![4, 0, 2, 2, 5, 1];
    let (_, g) = core.loss_grad(&p, x, y, cw, &rows, loss, penalty).unwrap();
    let h = 1e-6;
    for name in ["weight", "bias"] {
        for i in 0..p.get(name).unwrap().len() {
            let eval = |d: f64| {
                let mut q = p.clone();
                q.get_mut(name).unwrap().data_mut()[i] += d;
                core.loss_grad(&q, x, y, cw, &rows, loss, penalty).unwrap().0
            };
            let fd = (eval(h) - eval(-h)) / (2.0 * h);
            let an = g.get(name).unwrap().data()[i];
            assert!(
                (fd - an).abs() <= 1e-6 * fd.abs().max(1.0),
                "{loss:?} {name}[{i}]: analytic {an} vs numeric {fd}"
            );
        }
    }
}

#[test]
fn every_loss_matches_finite_differences() {
    let dense = Tensor::<f64>::randn(&[6, 4], 0.0, 1.0, &mut rng(3));
    let sparse = CsrMatrix::from_dense(&dense.map(|v| if v.abs() < 0.5 { 0.0 } else { v })).unwrap();
    let real = [0.5, -1.0, 2.0, 0.1, -0.3, 1.7];
    let binary = [0usize, 1, 1, 0, 1, 0];
    let classes = [0usize, 2, 1, 2, 0, 1];
    let cw = [0.5, 2.0, 1.0];
    for x in [Features::Dense(dense.clone()), Features::Sparse(sparse)] {
        for loss in [
            LinearLoss::Squared,
            LinearLoss::Huber { epsilon: 0.8 },
            LinearLoss::Absolute,
            LinearLoss::EpsilonInsensitive { epsilon: 0.2 },
        ] {
            check(loss, 1, &x, RowTargets::Real(&real), None, Penalty::L2 { alpha: 0.1 });
        }
        for loss in [
            LinearLoss::Log,
            LinearLoss::Hinge,
            LinearLoss::SquaredHinge,
            LinearLoss::Perceptron,
        ] {
            check(
                loss,
                1,
                &x,
                RowTargets::Class(&binary),
                Some(&cw[..2]),
                Penalty::ElasticNet {
                    alpha: 0.2,
                    l1_ratio: 0.0,
                },
            );
            check(loss, 3, &x, RowTargets::Class(&classes), None, Penalty::None);
        }
        for loss in [LinearLoss::Multinomial, LinearLoss::CrammerSinger] {
            check(
                loss,
                3,
                &x,
                RowTargets::Class(&classes),
                Some(&cw),
                Penalty::L2 { alpha: 0.05 },
            );
        }
    }
}

#[test]
fn losses_take_their_documented_values() {
    let core = |l: LinearLoss, z: f64, y: f64| {
        let x = Features::Dense(Tensor::new(vec![1.0], &[1, 1]).unwrap());
        let mut p = ParamStore::new();
        p.insert("weight", Tensor::new(vec![z], &[1, 1]).unwrap());
        p.insert("bias", Tensor::new(vec![0.0], &[1]).unwrap());
        let c = LinearCore { inputs: 1, outputs: 1 };
        let yy = [y];
        let yc = [usize::from(y > 0.0)];
        let t = if l.is_regression() {
            RowTargets::Real(&yy)
        } else {
            RowTargets::Class(&yc)
        };
        c.loss_grad(&p, &x, t, None, &[0], l, Penalty::None).unwrap().0
    };
    assert_eq!(core(LinearLoss::Squared, 3.0, 1.0), 2.0);
    assert_eq!(core(LinearLoss::Huber { epsilon: 1.0 }, 3.0, 1.0), 1.5);
    assert_eq!(core(LinearLoss::EpsilonInsensitive { epsilon: 0.5 }, 3.0, 1.0), 1.5);
    assert!((core(LinearLoss::Log, 0.0, 1.0) - 2f64.ln()).abs() < 1e-15);
    assert_eq!(core(LinearLoss::Hinge, 0.25, 1.0), 0.75);
    assert_eq!(core(LinearLoss::Hinge, 0.25, -1.0), 1.25);
    assert_eq!(core(LinearLoss::SquaredHinge, 0.5, 1.0), 0.25);
    assert_eq!(core(LinearLoss::Perceptron, -2.0, 1.0), 2.0);
    assert_eq!(core(LinearLoss::Perceptron, 2.0, 1.0), 0.0);
}
