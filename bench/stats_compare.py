#!/usr/bin/env python3
"""Compares `steepest inspect --stats --json` with statsmodels' OLS/Logit on classic tables.

Usage: bench/.venv/bin/python bench/stats_compare.py [path/to/steepest]

Cases: Longley (OLS), Grunfeld with `firm` categorical (OLS, C(firm) treatment coding is
--drop-first; also HC1 and cluster-robust by firm), Spector (Logit; read from the statsmodels
install, not stored in this repository), and tests/data/logit200.csv (Logit with a string
column). Prints the largest relative difference per case; exits 1 when one exceeds 1e-4.
"""
import json, os, subprocess, sys, tempfile
import numpy as np
import pandas as pd
import statsmodels.api as sm
import statsmodels.formula.api as smf

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "crates", "steepest-cli", "tests", "data")
EXE = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target", "release", "steepest")
TOL = 1e-4


def steepest(csv, model, extra_train=(), extra_inspect=()):
    out = tempfile.mkdtemp(prefix="stats-")
    run = os.path.join(out, "run")
    subprocess.run([EXE, "train", "--data", csv, "--model", model, "--penalty", "none",
                    "--optimizer", "newton", "--dtype", "f64", "--test-split", "0", "--quiet",
                    "--out", run, *extra_train], check=True, stdout=subprocess.DEVNULL)
    r = subprocess.run([EXE, "inspect", run, "--stats", "--json", *extra_inspect], check=True,
                       capture_output=True, text=True)
    return json.loads(r.stdout)


def rel(a, b):
    return abs(a - b) / max(abs(b), 1e-300)


def compare(name, ours, res, names, logit=False):
    # statsmodels' parameter order: const first (sm.add_constant) or Intercept first (formula).
    est = {e["name"]: e for e in ours["estimates"]}
    worst = 0.0
    for ours_name, sm_name in names:
        e = est[ours_name]
        for key, val in (("coef", res.params[sm_name]), ("std_err", res.bse[sm_name]),
                         ("p_value", res.pvalues[sm_name])):
            worst = max(worst, rel(e[key], val))
        lo, hi = res.conf_int().loc[sm_name]
        worst = max(worst, rel(e["ci_low"], lo), rel(e["ci_high"], hi))
    if logit:
        pairs = [(ours["r_squared"], res.prsquared), (ours["log_likelihood"], res.llf),
                 (ours["llr_p_value"], res.llr_pvalue), (ours["aic"], res.aic), (ours["bic"], res.bic)]
    else:
        pairs = [(ours["r_squared"], res.rsquared), (ours["adj_r_squared"], res.rsquared_adj),
                 (ours["f_statistic"], res.fvalue), (ours["f_p_value"], res.f_pvalue),
                 (ours["log_likelihood"], res.llf), (ours["aic"], res.aic), (ours["bic"], res.bic)]
    for a, b in pairs:
        worst = max(worst, rel(a, b))
    ok = worst <= TOL
    print(f"{name:<34} largest relative difference {worst:.2e}  {'ok' if ok else 'FAIL'}")
    return ok


def main():
    ok = True
    # Longley: OLS on six columns.
    lo = pd.read_csv(os.path.join(DATA, "longley.csv"))
    x = lo.drop(columns="TOTEMP")
    res = sm.OLS(lo["TOTEMP"], sm.add_constant(x)).fit()
    ours = steepest(os.path.join(DATA, "longley.csv"), "linear")
    names = [(c, c) for c in x.columns] + [("intercept", "const")]
    ok &= compare("longley OLS", ours, res, names)
    res = sm.OLS(lo["TOTEMP"], sm.add_constant(x)).fit(cov_type="HC1")
    ours = steepest(os.path.join(DATA, "longley.csv"), "linear", extra_inspect=["--robust"])
    ok &= compare("longley OLS HC1", ours, res, names)

    # Grunfeld: firm as a categorical (treatment coding, first firm the reference).
    gpath = os.path.join(DATA, "grunfeld.csv")
    g = pd.read_csv(gpath)
    f = "invest ~ C(firm) + year + value + capital"
    res = smf.ols(f, g).fit()
    firms = sorted(g["firm"].unique())[1:]
    names = [(f"firm={k}", f"C(firm)[T.{k}]") for k in firms] + \
            [(c, c) for c in ("year", "value", "capital")] + [("intercept", "Intercept")]
    ours = steepest(gpath, "linear", ["--target", "invest", "--drop-first"])
    ok &= compare("grunfeld OLS, firm categorical", ours, res, names)
    res = smf.ols("invest ~ value + capital", g).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(g["firm"])[0]})
    ours = steepest(gpath, "linear", ["--target", "invest", "--ignore", "firm,year"], ["--cluster", "firm"])
    names = [("value", "value"), ("capital", "capital"), ("intercept", "Intercept")]
    ok &= compare("grunfeld OLS cluster-robust by firm", ours, res, names)

    # Spector: Logit, from the statsmodels install.
    sp = sm.datasets.spector.load_pandas().data
    spath = os.path.join(tempfile.mkdtemp(), "spector.csv")
    sp.to_csv(spath, index=False)
    res = sm.Logit(sp["GRADE"], sm.add_constant(sp[["GPA", "TUCE", "PSI"]])).fit(disp=0)
    ours = steepest(spath, "logistic")
    names = [(c, c) for c in ("GPA", "TUCE", "PSI")] + [("intercept", "const")]
    ok &= compare("spector Logit", ours, res, names, logit=True)

    # logit200: a string column, drop-first.
    lpath = os.path.join(DATA, "logit200.csv")
    d = pd.read_csv(lpath)
    res = smf.logit("y ~ x1 + x2 + C(group)", d).fit(disp=0)
    ours = steepest(lpath, "logistic", ["--drop-first"])
    names = [("x1", "x1"), ("x2", "x2"), ("group=b", "C(group)[T.b]"), ("group=c", "C(group)[T.c]"),
             ("intercept", "Intercept")]
    ok &= compare("logit200 Logit, group categorical", ours, res, names, logit=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
