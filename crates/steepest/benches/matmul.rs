//! GFLOP/s of the matrix products of an MLP layer (784 -> 256, batch 128) on one thread, against
//! the machine's single-core FMA peak measured by an AVX2 loop in the same run.
//!
//! `cargo bench -p steepest --bench matmul` prints criterion's throughput (read "elem/s" as
//! FLOP/s) and then a summary table with the fraction of peak.

use criterion::{criterion_group, Criterion, Throughput};
use std::hint::black_box;
use std::time::Instant;
use steepest::tensor::{matmul_into, rng, set_num_threads, Tensor};

struct Product {
    name: &'static str,
    a: Tensor<f32>,
    ta: bool,
    b: Tensor<f32>,
    tb: bool,
    out: Tensor<f32>,
    flops: u64,
}

fn products() -> Vec<Product> {
    let mut r = rng(0);
    let x = Tensor::randn(&[128, 784], 0.0, 1.0, &mut r);
    let w = Tensor::randn(&[784, 256], 0.0, 1.0, &mut r);
    let dy = Tensor::randn(&[128, 256], 0.0, 1.0, &mut r);
    let flops = 2 * 128 * 784 * 256;
    vec![
        Product {
            name: "forward  X[128x784] W[784x256]",
            a: x.clone(),
            ta: false,
            b: w.clone(),
            tb: false,
            out: Tensor::zeros(&[128, 256]),
            flops,
        },
        Product {
            name: "grad W   X^T[784x128] dY[128x256]",
            a: x,
            ta: true,
            b: dy.clone(),
            tb: false,
            out: Tensor::zeros(&[784, 256]),
            flops,
        },
        Product {
            name: "grad X   dY[128x256] W^T[256x784]",
            a: dy,
            ta: false,
            b: w,
            tb: true,
            out: Tensor::zeros(&[128, 784]),
            flops,
        },
    ]
}

/// Single-core f32 FMA peak: the faster of ten independent 8-wide (AVX2) and 16-wide
/// (AVX-512, where the CPU has it, as gemm then uses it) FMA chains, with the loop's name.
#[cfg(target_arch = "x86_64")]
fn fma_peak_gflops() -> Option<(f64, &'static str)> {
    let avx2 = fma_peak_avx2()?;
    Some(match fma_peak_avx512() {
        Some(p) if p > avx2 => (p, "AVX-512 loop"),
        _ => (avx2, "AVX2 loop"),
    })
}

/// GFLOP/s of the fastest of five runs of `run`: `iters` rounds of ten FMA chains of `lanes`
/// f32 lanes each.
#[cfg(target_arch = "x86_64")]
fn gflops_of_chains(iters: u64, lanes: u32, run: impl Fn() -> f32) -> f64 {
    let best = (0..5)
        .map(|_| {
            let t0 = Instant::now();
            run();
            t0.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min);
    iters as f64 * 10.0 * f64::from(lanes) * 2.0 / best / 1e9
}

#[cfg(target_arch = "x86_64")]
fn fma_peak_avx512() -> Option<f64> {
    if !is_x86_feature_detected!("avx512f") {
        return None;
    }
    #[target_feature(enable = "avx512f")]
    unsafe fn run(iters: u64) -> f32 {
        use std::arch::x86_64::*;
        let m = _mm512_set1_ps(0.999_999);
        let c = _mm512_set1_ps(1e-7);
        let mut acc = [_mm512_set1_ps(1.0); 10];
        for _ in 0..iters {
            for a in acc.iter_mut() {
                *a = _mm512_fmadd_ps(*a, m, c);
            }
        }
        let mut t = acc[0];
        for a in &acc[1..] {
            t = _mm512_add_ps(t, *a);
        }
        _mm512_reduce_add_ps(t)
    }
    let iters = 25_000_000u64;
    // SAFETY: the CPU feature was detected above.
    Some(gflops_of_chains(iters, 16, || {
        black_box(unsafe { run(black_box(iters)) })
    }))
}

#[cfg(target_arch = "x86_64")]
fn fma_peak_avx2() -> Option<f64> {
    if !(is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")) {
        return None;
    }
    #[target_feature(enable = "avx2,fma")]
    unsafe fn run(iters: u64) -> f32 {
        use std::arch::x86_64::*;
        let m = _mm256_set1_ps(0.999_999);
        let c = _mm256_set1_ps(1e-7);
        let mut acc = [_mm256_set1_ps(1.0); 10];
        for _ in 0..iters {
            for a in acc.iter_mut() {
                *a = _mm256_fmadd_ps(*a, m, c);
            }
        }
        let mut s = [0f32; 8];
        let mut t = acc[0];
        for a in &acc[1..] {
            t = _mm256_add_ps(t, *a);
        }
        _mm256_storeu_ps(s.as_mut_ptr(), t);
        s.iter().sum()
    }
    let iters = 50_000_000u64;
    // SAFETY: the CPU features were detected above.
    Some(gflops_of_chains(iters, 8, || {
        black_box(unsafe { run(black_box(iters)) })
    }))
}

#[cfg(not(target_arch = "x86_64"))]
fn fma_peak_gflops() -> Option<(f64, &'static str)> {
    None
}

fn bench(c: &mut Criterion) {
    set_num_threads(1);
    let mut g = c.benchmark_group("mlp_matmul_1thread");
    for mut p in products() {
        g.throughput(Throughput::Elements(p.flops));
        g.bench_function(p.name, |bch| {
            bch.iter(|| matmul_into(&mut p.out, &p.a, p.ta, &p.b, p.tb, false).unwrap())
        });
    }
    g.finish();
}

/// Best-of-runs GFLOP/s of each product, printed next to the FMA peak.
fn summary() {
    set_num_threads(1);
    let peak = fma_peak_gflops();
    println!("\nsingle-thread summary (best of 200 runs after warm-up)");
    match peak {
        Some((p, how)) => println!("  FMA peak ({how}): {p:.1} GFLOP/s"),
        None => println!("  FMA peak: not measured on this CPU"),
    }
    for mut p in products() {
        for _ in 0..20 {
            matmul_into(&mut p.out, &p.a, p.ta, &p.b, p.tb, false).unwrap();
        }
        let best = (0..200)
            .map(|_| {
                let t0 = Instant::now();
                matmul_into(&mut p.out, &p.a, p.ta, &p.b, p.tb, false).unwrap();
                t0.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min);
        let gflops = p.flops as f64 / best / 1e9;
        let pct = peak.map_or(String::new(), |(pk, _)| {
            format!("  {:5.1} % of peak", 100.0 * gflops / pk)
        });
        println!("  {}: {gflops:6.1} GFLOP/s{pct}", p.name);
    }
}

criterion_group!(benches, bench);

fn main() {
    benches();
    summary();
    Criterion::default().configure_from_args().final_summary();
}
