#!/usr/bin/env python3
"""The exact kernel SVM (`steepest train --model svm --kernel rbf`, defaults) against
scikit-learn's make_pipeline(StandardScaler(), SVC()) on the same stratified 80/20 splits
(seed 0): test accuracy, agreement of the predicted classes, and fit time (Steepest's from
its summary, the whole fit; scikit-learn's pipeline fit).

Usage: bench/.venv/bin/python bench/kernel_svm_compare.py [path/to/steepest]
"""
import json, os, subprocess, sys, tempfile, time
import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_digits, load_iris
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXE = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target", "release", "steepest")


def case(name, x, y):
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.2, stratify=y, random_state=0)
    tmp = tempfile.mkdtemp()
    cols = [f"f{i}" for i in range(x.shape[1])]
    tr, te = os.path.join(tmp, "train.csv"), os.path.join(tmp, "test.csv")
    pd.DataFrame(xtr, columns=cols).assign(label=ytr).to_csv(tr, index=False)
    pd.DataFrame(xte, columns=cols).assign(label=yte).to_csv(te, index=False)
    run = os.path.join(tmp, "run")
    subprocess.run([EXE, "train", "--data", tr, "--test-data", te, "--model", "svm", "--kernel", "rbf",
                    "--task", "classify", "--quiet", "--out", run], check=True, stdout=subprocess.DEVNULL)
    prun = os.path.join(tmp, "prob")
    subprocess.run([EXE, "train", "--data", tr, "--test-data", te, "--model", "svm", "--kernel", "rbf",
                    "--task", "classify", "--probability", "--quiet", "--out", prun], check=True,
                   stdout=subprocess.DEVNULL)
    ll_ours = json.load(open(os.path.join(prun, "summary.json")))["metrics"]["log_loss"]
    summary = json.load(open(os.path.join(run, "summary.json")))
    pred = subprocess.run([EXE, "predict", "--model", run, "--data", te, "--target", "label"], check=True,
                          capture_output=True, text=True).stdout.split()[1:]
    ours = np.array([int(p) for p in pred])
    t0 = time.perf_counter()
    pipe = make_pipeline(StandardScaler(), SVC()).fit(xtr, ytr)
    t_sk = time.perf_counter() - t0
    theirs = pipe.predict(xte)
    acc_o, acc_t = (ours == yte).mean(), (theirs == yte).mean()
    from sklearn.metrics import log_loss
    ll_theirs = log_loss(yte, make_pipeline(StandardScaler(), SVC(probability=True, random_state=0))
                         .fit(xtr, ytr).predict_proba(xte))
    agree = (ours == theirs).mean()
    print(f"{name:<14} rows {len(x):>6}  accuracy steepest {acc_o:.4f} scikit-learn {acc_t:.4f} "
          f"(diff {acc_o - acc_t:+.4f})  agreement {agree:.4f}  fit s: steepest {summary['seconds']:.3f} "
          f"scikit-learn {t_sk:.3f}  log-loss (--probability) {ll_ours:.4f} vs {ll_theirs:.4f}")
    return acc_o >= acc_t - 0.005 and agree >= 0.99


def main():
    ok = True
    d = load_digits()
    ok &= case("digits", d.data, d.target)
    d = load_iris()
    ok &= case("iris", d.data, d.target)
    d = load_breast_cancer()
    ok &= case("breast-cancer", d.data, d.target)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
