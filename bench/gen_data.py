"""Generates the benchmark data, seeded, in formats every tool reads.

W1: MNIST-shaped images: 10 class prototypes (smooth random 28x28 patterns) plus noise, u8,
    as IDX files. W2: dense 100-feature rows with logistic labels (f32 IDX). W3: sparse rows,
    2^20 features, about 50 non-zeros each, logistic labels, as LIBSVM and Vowpal Wabbit text.
K1: CSV sets for the kernel SVM (see k1).
Usage: gen_data.py OUT_DIR [--quick]
"""
import os
import struct
import sys

import numpy as np


def write_idx(path, arr):
    codes = {np.uint8: 0x08, np.float32: 0x0D}
    code = codes[arr.dtype.type]
    with open(path, "wb") as f:
        f.write(struct.pack(">BBBB", 0, 0, code, arr.ndim))
        for d in arr.shape:
            f.write(struct.pack(">I", d))
        f.write(arr.astype(arr.dtype.newbyteorder(">")).tobytes())


def w1(out, n_train, n_test, rng):
    # Smooth prototypes: low-frequency random patterns, scaled to 0..255.
    freq = rng.normal(size=(10, 4, 4, 4))
    yy, xx = np.mgrid[0:28, 0:28] / 28.0
    protos = np.zeros((10, 28, 28))
    for c in range(10):
        for i in range(4):
            for j in range(4):
                protos[c] += freq[c, i, j, 0] * np.sin((i + 1) * np.pi * yy + freq[c, i, j, 1]) * np.cos((j + 1) * np.pi * xx + freq[c, i, j, 2])
    protos = (protos - protos.min(axis=(1, 2), keepdims=True)) / np.ptp(protos, axis=(1, 2), keepdims=True) * 255
    for part, n in (("train", n_train), ("test", n_test)):
        y = rng.integers(0, 10, size=n).astype(np.uint8)
        x = protos[y] + rng.normal(scale=90.0, size=(n, 28, 28))
        write_idx(os.path.join(out, f"w1-{part}-images-idx3-ubyte"), np.clip(x, 0, 255).astype(np.uint8))
        write_idx(os.path.join(out, f"w1-{part}-labels-idx1-ubyte"), y)


def w2(out, n_train, n_test, rng):
    w = rng.normal(size=100)
    w *= 3.0 / np.linalg.norm(w)
    for part, n in (("train", n_train), ("test", n_test)):
        x = rng.normal(size=(n, 100)).astype(np.float32)
        p = 1.0 / (1.0 + np.exp(-(x @ w)))
        y = (rng.random(n) < p).astype(np.uint8)
        write_idx(os.path.join(out, f"w2-{part}-images-idx3-ubyte"), x)
        write_idx(os.path.join(out, f"w2-{part}-labels-idx1-ubyte"), y)


def w2_text(out):
    """W2's rows as LIBSVM and Vowpal Wabbit text (4 significant digits, the same numbers in
    both), for the parse-plus-pass comparison through the `steepest` binary."""
    for part in ("train", "test"):
        svm_path = os.path.join(out, f"w2-{part}.svm")
        if os.path.exists(svm_path):
            continue
        x = read_idx(os.path.join(out, f"w2-{part}-images-idx3-ubyte"))
        y = read_idx(os.path.join(out, f"w2-{part}-labels-idx1-ubyte"))
        cols = [f"{j + 1}:" for j in range(x.shape[1])]
        with open(svm_path + ".tmp", "w") as svm, open(os.path.join(out, f"w2-{part}.vw"), "w") as vw:
            for start in range(0, len(y), 20_000):
                block = np.char.mod("%.4g", x[start:start + 20_000])
                lines_svm, lines_vw = [], []
                for row, label in zip(block, y[start:start + 20_000]):
                    feats = " ".join(c + v for c, v in zip(cols, row))
                    lines_svm.append(f"{label} {feats}\n")
                    lines_vw.append(f"{2 * int(label) - 1} | {feats}\n")
                svm.write("".join(lines_svm))
                vw.write("".join(lines_vw))
        os.replace(svm_path + ".tmp", svm_path)


def read_idx(path):
    with open(path, "rb") as f:
        _, _, code, ndim = struct.unpack(">BBBB", f.read(4))
        shape = struct.unpack(">" + "I" * ndim, f.read(4 * ndim))
        dtype = {0x08: np.uint8, 0x0D: np.dtype(">f4")}[code]
        return np.frombuffer(f.read(), dtype=dtype).reshape(shape)


def w3(out, n_train, n_test, rng, d=1 << 20, nnz=50):
    w = rng.normal(size=d)
    for part, n in (("train", n_train), ("test", n_test)):
        svm = open(os.path.join(out, f"w3-{part}.svm"), "w")
        vw = open(os.path.join(out, f"w3-{part}.vw"), "w")
        for start in range(0, n, 50_000):
            m = min(50_000, n - start)
            idx = np.sort(rng.integers(1, d, size=(m, nnz)), axis=1)
            z = w[idx].sum(axis=1) / np.sqrt(nnz) * 1.5
            y = (rng.random(m) < 1.0 / (1.0 + np.exp(-z))).astype(int)
            lines_svm, lines_vw = [], []
            for r in range(m):
                row = np.unique(idx[r])
                feats = " ".join(f"{j}:1" for j in row)
                lines_svm.append(f"{y[r]} {feats}\n")
                lines_vw.append(f"{2 * y[r] - 1} | {feats}\n")
            svm.write("".join(lines_svm))
            vw.write("".join(lines_vw))
        svm.close()
        vw.close()


def k1(out, n_train, n_test):
    """K1: the kernel SVM's fit. A 20,000-row two-class set (scikit-learn's make_classification,
    20 features, 10 informative) and the digits with the 80/20 stratified split of seed 0, as
    CSV files with a `label` column."""
    from sklearn.datasets import load_digits, make_classification
    from sklearn.model_selection import train_test_split

    def write(name, x, y):
        cols = ",".join(f"f{i}" for i in range(x.shape[1]))
        with open(os.path.join(out, name), "w") as f:
            f.write(cols + ",label\n")
            for row, label in zip(x, y):
                f.write(",".join(repr(float(v)) for v in row) + f",{int(label)}\n")

    x, y = make_classification(n_samples=n_train + n_test, n_features=20, n_informative=10, random_state=0)
    write("k1-20k-train.csv", x[:n_train], y[:n_train])
    write("k1-20k-test.csv", x[n_train:], y[n_train:])
    x, y = load_digits(return_X_y=True)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.2, stratify=y, random_state=0)
    write("k1-digits-train.csv", xtr, ytr)
    write("k1-digits-test.csv", xte, yte)


def main():
    out = sys.argv[1]
    quick = "--quick" in sys.argv
    os.makedirs(out, exist_ok=True)
    stamp = os.path.join(out, "quick.stamp" if quick else "full.stamp")
    if os.path.exists(stamp):
        w2_text(out)
        return
    for s in ("quick.stamp", "full.stamp"):
        if os.path.exists(os.path.join(out, s)):
            os.remove(os.path.join(out, s))
    rng = np.random.default_rng(20261128)
    scale = 5 if quick else 1
    w1(out, 60_000 // scale, 10_000 // scale, rng)
    w2(out, 1_000_000 // scale, 100_000 // scale, rng)
    w3(out, 1_000_000 // scale, 100_000 // scale, rng)
    k1(out, 20_000 // scale, 5_000 // scale)
    w2_text(out)
    open(stamp, "w").close()


if __name__ == "__main__":
    main()
