use std::time::Instant;
use steepest::tensor::{matmul_slices, MatRef};

fn time(name: &str, flops: f64, mut f: impl FnMut()) {
    for _ in 0..200 {
        f();
    }
    let n = 3000;
    let t = Instant::now();
    for _ in 0..n {
        f();
    }
    let s = t.elapsed().as_secs_f64() / n as f64;
    println!("{name:40} {:8.2} us {:7.1} GFLOP/s", s * 1e6, flops / s / 1e9);
}

fn main() {
    let v = |n: usize| {
        (0..n)
            .map(|i| ((i * 7919) % 1000) as f32 / 1000.0)
            .collect::<Vec<f32>>()
    };
    let (x, w0, w1) = (v(64 * 784), v(784 * 256), v(256 * 128));
    let xt = v(784 * 64);
    let mut out = vec![0.0f32; 64 * 256];
    time("fwd X[64,784] W0 (row-major)", 2.0 * 64.0 * 784.0 * 256.0, || {
        matmul_slices(
            &mut out,
            256,
            MatRef::row_major(&x, 64, 784),
            MatRef::row_major(&w0, 784, 256),
            false,
        )
        .unwrap()
    });
    time("fwd X^T stored col-major", 2.0 * 64.0 * 784.0 * 256.0, || {
        matmul_slices(
            &mut out,
            256,
            MatRef::row_major(&xt, 784, 64).t(),
            MatRef::row_major(&w0, 784, 256),
            false,
        )
        .unwrap()
    });
    let x128 = v(128 * 784);
    let mut out128 = vec![0.0f32; 128 * 256];
    time("fwd X[128,784] W0 (row-major)", 2.0 * 128.0 * 784.0 * 256.0, || {
        matmul_slices(
            &mut out128,
            256,
            MatRef::row_major(&x128, 128, 784),
            MatRef::row_major(&w0, 784, 256),
            false,
        )
        .unwrap()
    });
    let d2 = v(64 * 128);
    let mut o1 = vec![0.0f32; 64 * 256];
    time("bwd D2[64,128] W1^T (view)", 2.0 * 64.0 * 128.0 * 256.0, || {
        matmul_slices(
            &mut o1,
            256,
            MatRef::row_major(&d2, 64, 128),
            MatRef::row_major(&w1, 256, 128).t(),
            false,
        )
        .unwrap()
    });
    let w1t = v(128 * 256);
    time("bwd D2 W1^T (stored row-major)", 2.0 * 64.0 * 128.0 * 256.0, || {
        matmul_slices(
            &mut o1,
            256,
            MatRef::row_major(&d2, 64, 128),
            MatRef::row_major(&w1t, 128, 256),
            false,
        )
        .unwrap()
    });
    let d1 = v(128 * 256);
    let mut g0 = vec![0.0f32; 392 * 256];
    time(
        "dW0 block A^T[392,128] D1[128,256]",
        2.0 * 392.0 * 128.0 * 256.0,
        || {
            let blk = MatRef {
                data: &x128[..],
                rows: 128,
                cols: 392,
                row_stride: 784,
                col_stride: 1,
            };
            matmul_slices(&mut g0, 256, blk.t(), MatRef::row_major(&d1, 128, 256), false).unwrap()
        },
    );
}
