//! Layout ops, batched products, embeddings, attention and transformer layers, and the losses
//! built from ops: against loops written from their definitions and against finite
//! differences in f64.

use steepest::autograd::{check_gradients, Tape, Var};
use steepest::nn::{
    cross_entropy, huber, kl_diag_gaussians, Activation, Cx, Embedding, Mode, Module, MultiheadAttention, ParamStore,
    TransformerConfig, TransformerDecoderLayer, TransformerEncoderLayer, VarBuilder,
};
use steepest::tensor::{rng, Tensor};
use steepest::Result;

fn randn(shape: &[usize], seed: u64) -> Tensor<f64> {
    Tensor::randn(shape, 0.0, 1.0, &mut rng(seed))
}

fn at(t: &Tensor<f64>, idx: &[usize]) -> f64 {
    let s = t.shape();
    let mut off = 0;
    for (i, &v) in idx.iter().enumerate() {
        off = off * s[i] + v;
    }
    t.data()[off]
}

#[test]
fn permute_narrow_and_bmm_match_loops() {
    let x = randn(&[2, 3, 4, 5], 1);
    let p = x.permute(&[2, 0, 3, 1]).unwrap();
    assert_eq!(p.shape(), &[4, 2, 5, 3]);
    for a in 0..2 {
        for b in 0..3 {
            for c in 0..4 {
                for d in 0..5 {
                    assert_eq!(at(&p, &[c, a, d, b]), at(&x, &[a, b, c, d]));
                }
            }
        }
    }
    let n = x.narrow(2, 1, 2).unwrap();
    assert_eq!(at(&n, &[1, 2, 1, 3]), at(&x, &[1, 2, 2, 3]));
    let a = randn(&[3, 4, 5], 2);
    let b = randn(&[3, 6, 5], 3);
    let c = a.bmm(&b, false, true).unwrap();
    for i in 0..3 {
        for r in 0..4 {
            for col in 0..6 {
                let want: f64 = (0..5).map(|k| at(&a, &[i, r, k]) * at(&b, &[i, col, k])).sum();
                assert!((at(&c, &[i, r, col]) - want).abs() < 1e-12);
            }
        }
    }
}

fn check<F>(name: &str, inputs: Vec<Tensor<f64>>, f: F)
where
    F: for<'t> Fn(&'t Tape<f64>, &[Var<'t, f64>]) -> Result<Var<'t, f64>>,
{
    let report = check_gradients(
        |t, v| {
            let y = f(t, v)?;
            let r = randn(&y.shape(), 77);
            Ok(y.mul(t.constant(r))?.sum_all())
        },
        &inputs,
        1e-5,
    )
    .unwrap();
    assert!(report.max_rel_error < 1e-6, "{name}: {report:?}");
}

#[test]
fn layout_ops_have_exact_gradients() {
    check("permute", vec![randn(&[2, 3, 4], 1)], |_, v| v[0].permute(&[1, 2, 0]));
    check("narrow", vec![randn(&[2, 5, 3], 2)], |_, v| v[0].narrow(1, 1, 3));
    check("index_select", vec![randn(&[5, 3], 3)], |_, v| {
        v[0].index_select_rows(&[4, 0, 4, 2])
    });
    for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
        let a = if ta { randn(&[2, 4, 3], 4) } else { randn(&[2, 3, 4], 4) };
        let b = if tb { randn(&[2, 5, 4], 5) } else { randn(&[2, 4, 5], 5) };
        check("bmm", vec![a.clone(), b], |_, v| v[0].bmm(v[1], ta, tb));
        let shared = if tb { randn(&[5, 4], 6) } else { randn(&[4, 5], 6) };
        check("bmm shared", vec![a, shared], |_, v| v[0].bmm(v[1], ta, tb));
    }
}

/// Attention written out with loops: per example and head, scores = q k / sqrt(dh) (+ mask),
/// softmax over keys, weighted values, then the output projection.
fn attention_reference(
    store: &ParamStore<f64>,
    x: &Tensor<f64>,
    mem: &Tensor<f64>,
    heads: usize,
    causal: bool,
    pad: &[Vec<bool>],
) -> Tensor<f64> {
    let (n, l, e) = (x.shape()[0], x.shape()[1], x.shape()[2]);
    let s = mem.shape()[1];
    let dh = e / heads;
    let w = store.get("mha.in_proj_weight").unwrap();
    let b = store.get("mha.in_proj_bias").unwrap();
    let wo = store.get("mha.out_proj.weight").unwrap();
    let bo = store.get("mha.out_proj.bias").unwrap();
    let proj = |src: &Tensor<f64>, ni: usize, t: usize, part: usize, j: usize| -> f64 {
        let row = part * e + j;
        b.data()[row]
            + (0..e)
                .map(|k| w.data()[row * e + k] * at(src, &[ni, t, k]))
                .sum::<f64>()
    };
    let mut out = vec![0.0; n * l * e];
    for ni in 0..n {
        for i in 0..l {
            let mut ctx = vec![0.0; e];
            for h in 0..heads {
                let mut sc: Vec<f64> = (0..s)
                    .map(|j| {
                        let dot: f64 = (0..dh)
                            .map(|d| proj(x, ni, i, 0, h * dh + d) * proj(mem, ni, j, 1, h * dh + d))
                            .sum();
                        let masked = (causal && j > i) || pad[ni][j];
                        if masked {
                            f64::NEG_INFINITY
                        } else {
                            dot / (dh as f64).sqrt()
                        }
                    })
                    .collect();
                let m = sc.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                sc.iter_mut().for_each(|v| *v = (*v - m).exp());
                let z: f64 = sc.iter().sum();
                for d in 0..dh {
                    ctx[h * dh + d] = (0..s).map(|j| sc[j] / z * proj(mem, ni, j, 2, h * dh + d)).sum();
                }
            }
            for o in 0..e {
                out[(ni * l + i) * e + o] = bo.data()[o] + (0..e).map(|k| wo.data()[o * e + k] * ctx[k]).sum::<f64>();
            }
        }
    }
    Tensor::new(out, &[n, l, e]).unwrap()
}

#[test]
fn multihead_attention_matches_the_loops_with_causal_and_padding_masks() {
    let mut store = ParamStore::<f64>::new();
    let vb = VarBuilder::new(&mut store, 3);
    let mha = MultiheadAttention::new(&vb.pp("mha"), 6, 2, 0.0, false).unwrap();
    drop(vb);
    assert_eq!(store.get("mha.in_proj_weight").unwrap().shape(), &[18, 6]);
    assert!(store.get("mha.out_proj.bias").unwrap().data().iter().all(|&v| v == 0.0));
    let x = randn(&[2, 4, 6], 1);
    let mem = randn(&[2, 5, 6], 2);
    let pad = vec![vec![false, false, false, true, true], vec![false; 5]];
    let t = Tape::new();
    let mut cx = Cx::new(&t, &store, &ParamStore::new(), Mode::Eval);
    let (xv, mv) = (t.constant(x.clone()), t.constant(mem.clone()));
    let cross = mha.attend(&mut cx, xv, mv, mv, false, Some(&pad)).unwrap().value();
    let want = attention_reference(&store, &x, &mem, 2, false, &pad);
    for (a, b) in cross.data().iter().zip(want.data()) {
        assert!((a - b).abs() < 1e-10, "{a} vs {b}");
    }
    let causal = mha.attend(&mut cx, xv, xv, xv, true, None).unwrap().value();
    let want = attention_reference(&store, &x, &x, 2, true, &[vec![false; 4], vec![false; 4]]);
    for (a, b) in causal.data().iter().zip(want.data()) {
        assert!((a - b).abs() < 1e-10, "{a} vs {b}");
    }
}

fn cfg(causal: bool, norm_first: bool) -> TransformerConfig {
    TransformerConfig {
        d_model: 4,
        nhead: 2,
        dim_feedforward: 6,
        dropout: 0.0,
        activation: Activation::Gelu,
        norm_first,
        causal,
    }
}

/// Gradient of every parameter and the input of `f` built over `store`, against finite
/// differences.
fn check_module(
    store: &ParamStore<f64>,
    inputs: Vec<Tensor<f64>>,
    f: impl for<'t> Fn(&mut Cx<'t, f64>, &[Var<'t, f64>]) -> Result<Var<'t, f64>>,
) {
    let names: Vec<String> = store.names().map(String::from).collect();
    let mut all: Vec<Tensor<f64>> = store.iter().map(|(_, t)| t.clone()).collect();
    let k = all.len();
    all.extend(inputs);
    let r = std::cell::RefCell::new(None::<Tensor<f64>>);
    let report = check_gradients(
        |t, v| {
            let mut cx = Cx::from_vars(t, names.iter().cloned().zip(v[..k].iter().copied()), Mode::Train);
            let y = f(&mut cx, &v[k..])?;
            let w = r.borrow_mut().get_or_insert_with(|| randn(&y.shape(), 5)).clone();
            Ok(y.mul(t.constant(w))?.sum_all())
        },
        &all,
        1e-5,
    )
    .unwrap();
    assert!(report.max_rel_error < 1e-5, "{report:?}");
}

#[test]
fn transformer_layers_have_exact_gradients() {
    for (causal, pre) in [(false, false), (true, true)] {
        let mut store = ParamStore::<f64>::new();
        let vb = VarBuilder::new(&mut store, 1);
        let enc = TransformerEncoderLayer::new(&vb.pp("enc"), cfg(causal, pre)).unwrap();
        let dec = TransformerDecoderLayer::new(&vb.pp("dec"), cfg(false, pre)).unwrap();
        drop(vb);
        assert!(store.get("dec.multihead_attn.in_proj_weight").is_some());
        assert!(store.get("enc.norm2.weight").is_some());
        check_module(&store, vec![randn(&[2, 3, 4], 8), randn(&[2, 5, 4], 9)], |cx, v| {
            let mem = enc.forward(cx, v[1])?;
            dec.forward_with_memory(cx, v[0], mem, None)
        });
    }
}

#[test]
fn embeddings_look_up_rows_and_refuse_bad_indices() {
    let mut store = ParamStore::<f64>::new();
    let vb = VarBuilder::new(&mut store, 2);
    let emb = Embedding::new(&vb.pp("emb"), 5, 3).unwrap();
    drop(vb);
    let table = store.get("emb.weight").unwrap().clone();
    let t = Tape::new();
    let mut cx = Cx::new(&t, &store, &ParamStore::new(), Mode::Eval);
    let ids = Tensor::new(vec![4.0, 0.0, 4.0, 2.0], &[2, 2]).unwrap();
    let y = emb.forward(&mut cx, t.constant(ids)).unwrap().value();
    assert_eq!(y.shape(), &[2, 2, 3]);
    assert_eq!(&y.data()[..3], table.row(4));
    assert_eq!(&y.data()[9..], table.row(2));
    for bad in [5.0, -1.0, 1.5] {
        let x = t.constant(Tensor::new(vec![bad], &[1, 1]).unwrap());
        assert!(emb.forward(&mut cx, x).is_err(), "{bad}");
    }
    check_module(&store, vec![], |cx, _| {
        let ids = cx.tape().constant(Tensor::new(vec![1.0, 3.0, 1.0], &[3]).unwrap());
        emb.forward(cx, ids)
    });
}

#[test]
fn losses_match_their_formulas_and_gradients() {
    let z = randn(&[4, 3], 1);
    let y = [2usize, 0, 1, 2];
    let w = [0.5, 2.0, 1.0];
    // Label smoothing with class weights, written out.
    let eps = 0.2;
    let mut num = 0.0;
    let mut den = 0.0;
    for i in 0..4 {
        let row = z.row(i);
        let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let lse = m + row.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
        let lp: Vec<f64> = row.iter().map(|v| v - lse).collect();
        num += (1.0 - eps) * w[y[i]] * -lp[y[i]] + eps / 3.0 * (0..3).map(|c| w[c] * -lp[c]).sum::<f64>();
        den += w[y[i]];
    }
    let t = Tape::new();
    let l = cross_entropy(t.constant(z.clone()), &y, Some(&w), eps)
        .unwrap()
        .item()
        .unwrap();
    assert!((l - num / den).abs() < 1e-12);
    check("smoothed ce", vec![z.clone()], |_, v| {
        cross_entropy(v[0], &[2, 0, 1, 2], Some(&[0.5, 2.0, 1.0]), 0.2)
    });
    // Huber against the piecewise definition.
    let p = Tensor::new(vec![0.1, -2.0, 3.0, 0.5], &[4]).unwrap();
    let target = Tensor::new(vec![0.0, 0.0, 0.0, 0.0], &[4]).unwrap();
    let h = huber(t.constant(p.clone()), t.constant(target.clone()), 1.0)
        .unwrap()
        .item()
        .unwrap();
    let want = (0.5 * 0.01 + (2.0 - 0.5) + (3.0 - 0.5) + 0.5 * 0.25) / 4.0;
    assert!((h - want).abs() < 1e-12);
    check("huber", vec![p, target], |_, v| huber(v[0], v[1], 1.0));
    // KL against its closed form, and zero between equal Gaussians.
    let (mu, lv) = (randn(&[3, 2], 2), randn(&[3, 2], 3));
    let k = kl_diag_gaussians(t.constant(mu.clone()), t.constant(lv.clone()), None)
        .unwrap()
        .item()
        .unwrap();
    let want: f64 = mu
        .data()
        .iter()
        .zip(lv.data())
        .map(|(m, l)| 0.5 * (l.exp() + m * m - 1.0 - l))
        .sum::<f64>()
        / 3.0;
    assert!((k - want).abs() < 1e-12);
    let same = kl_diag_gaussians(
        t.constant(mu.clone()),
        t.constant(lv.clone()),
        Some((t.constant(mu.clone()), t.constant(lv.clone()))),
    )
    .unwrap()
    .item()
    .unwrap();
    assert!(same.abs() < 1e-12);
    check("kl", vec![mu, lv, randn(&[3, 2], 4), randn(&[3, 2], 5)], |_, v| {
        kl_diag_gaussians(v[0], v[1], Some((v[2], v[3])))
    });
}
