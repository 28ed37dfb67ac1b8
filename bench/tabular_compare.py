#!/usr/bin/env python3
"""Held-out accuracy of `steepest train --impute mean` on tables with string columns and empty
cells, against scikit-learn's pipeline (SimpleImputer + OneHotEncoder + StandardScaler +
LogisticRegression), on the same split. The test file holds categories the training file
does not (scikit-learn: handle_unknown='ignore', the same all-zeros encoding).

Usage: bench/.venv/bin/python bench/tabular_compare.py [path/to/steepest] [extra train flags...]
Exits 1 when Steepest's accuracy is below scikit-learn's minus 0.01 on a table.
"""
import json, os, subprocess, sys, tempfile
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
import statsmodels.api as sm

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXE = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target", "release", "steepest")
EXTRA = sys.argv[2:]


def holes(df, cols, share, rng):
    df = df.copy()
    for c in cols:
        df.loc[rng.uniform(size=len(df)) < share, c] = np.nan
    return df


def shop(rng, n):
    """Customers: a region, a plan, a device (strings), numbers with gaps; buys or not."""
    region = rng.choice(["north", "south", "east", "west", "islands"], n, p=[.3, .3, .2, .15, .05])
    plan = rng.choice(["free", "basic", "pro"], n)
    device = rng.choice(["ios", "android", "web", "tv"], n, p=[.35, .35, .25, .05])
    age = rng.normal(40, 12, n)
    visits = rng.poisson(5, n).astype(float)
    spend = rng.gamma(2, 30, n)
    eta = (-2 + 0.04 * (age - 40) + 0.25 * visits + 0.01 * spend
           + pd.Series(plan).map({"free": -1.0, "basic": 0.3, "pro": 1.2}).values
           + pd.Series(region).map({"north": 0.4, "south": -0.3, "east": 0.0, "west": 0.2, "islands": -0.8}).values
           + pd.Series(device).map({"ios": 0.5, "android": 0.0, "web": -0.4, "tv": 0.1}).values)
    y = np.where(rng.uniform(size=n) < 1 / (1 + np.exp(-eta)), "buys", "leaves")
    df = pd.DataFrame({"age": age.round(1), "region": region, "plan": plan, "visits": visits,
                       "device": device, "spend": spend.round(2), "outcome": y})
    return holes(df, ["age", "spend", "region", "device"], 0.08, rng)


def fair(rng):
    """statsmodels' Fair affairs data: occupation codes as categories, gaps added."""
    d = sm.datasets.fair.load_pandas().data
    d["affair"] = np.where(d["affairs"] > 0, "yes", "no")
    d = d.drop(columns="affairs")
    d["occupation"] = d["occupation"].astype(int).map(lambda v: f"occ{v}")
    d["religious"] = d["religious"].astype(int).map(lambda v: f"rel{v}")
    return holes(d, ["age", "yrs_married", "occupation"], 0.05, rng)


def compare(name, df, target, rng):
    idx = rng.permutation(len(df))
    cut = int(0.75 * len(df))
    train, test = df.iloc[idx[:cut]].copy(), df.iloc[idx[cut:]].copy()
    # One category of one string column appears only in the test rows.
    cat = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c]) and c != target][0]
    test.loc[test.index[:5], cat] = "never-seen"
    tmp = tempfile.mkdtemp()
    tr, te = os.path.join(tmp, "train.csv"), os.path.join(tmp, "test.csv")
    train.to_csv(tr, index=False)
    test.to_csv(te, index=False)
    run = os.path.join(tmp, "run")
    subprocess.run([EXE, "train", "--data", tr, "--test-data", te, "--target", target, "--model",
                    "logistic", "--impute", "mean", "--quiet", "--out", run, *EXTRA], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ours = json.load(open(os.path.join(run, "summary.json")))["metrics"]["accuracy"]
    feats = [c for c in df.columns if c != target]
    cats = [c for c in feats if not pd.api.types.is_numeric_dtype(df[c])]
    nums = [c for c in feats if c not in cats]
    pre = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="mean"), StandardScaler()), nums),
        ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"),
                              OneHotEncoder(handle_unknown="ignore"), StandardScaler(with_mean=False)), cats)])
    pipe = make_pipeline(pre, LogisticRegression(max_iter=1000))
    pipe.fit(train[feats], train[target])
    theirs = pipe.score(test[feats], test[target])
    ok = ours >= theirs - 0.01
    print(f"{name:<8} rows {len(df):>6}  steepest {ours:.4f}  scikit-learn {theirs:.4f}  "
          f"difference {ours - theirs:+.4f}  {'ok' if ok else 'FAIL'}")
    return ok


def main():
    rng = np.random.default_rng(0)
    ok = True
    ok &= compare("shop", shop(rng, 20000), "outcome", rng)
    ok &= compare("fair", fair(rng), "affair", rng)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
