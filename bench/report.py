"""Turns a results file (JSON lines) into the comparison table and a JSON summary beside it.

For each workload: per tool the median time over repetitions (with min-max), accuracy, peak
RSS, and Steepest's time as a ratio of each peer's (below 1: Steepest is faster).
"""
import json
import statistics
import sys
from collections import defaultdict

path = sys.argv[1]
rows = [json.loads(l) for l in open(path) if l.strip().startswith("{")]
by = defaultdict(lambda: defaultdict(list))
for r in rows:
    by[r["workload"]][r["tool"]].append(r)

summary = {}
print(f"{'workload':<18} {'tool':<9} {'seconds':>9} {'spread':>17} {'accuracy':>9} {'rss MiB':>8}  ratio steepest/tool")
for w in by:
    tools = by[w]
    entry = {}
    for t, rs in tools.items():
        secs = [r["seconds"] for r in rs]
        entry[t] = {
            "seconds": statistics.median(secs),
            "min": min(secs),
            "max": max(secs),
            "accuracy": statistics.median([r.get("accuracy", float("nan")) for r in rs]),
            "rss_mb": max(r.get("rss_mb", float("nan")) for r in rs),
            "runs": len(rs),
        }
        if "epochs" in rs[0]:
            entry[t]["epochs"] = rs[0]["epochs"]
    s = entry.get("steepest")
    for t, e in entry.items():
        ratio = ""
        if s and t != "steepest" and e["seconds"] > 0:
            e["ratio"] = s["seconds"] / e["seconds"]
            ratio = f"{e['ratio']:.2f}"
        print(f"{w:<18} {t:<9} {e['seconds']:>9.3f} {e['min']:>8.3f}-{e['max']:<8.3f} {e['accuracy']:>9.4f} {e['rss_mb']:>8.0f}  {ratio}")
    # Other Steepest variants (several cores for the linear fast path) against the same peers.
    for v, ve in entry.items():
        if v.startswith("steepest ") and ve["seconds"] > 0:
            for t, e in entry.items():
                if not t.startswith("steepest") and t != "1 process" and e["seconds"] > 0:
                    ve.setdefault("ratios", {})[t] = ve["seconds"] / e["seconds"]
                    print(f"{'':<18} {v} / {t}: {ve['seconds'] / e['seconds']:.2f} (accuracy {ve['accuracy']:.4f} vs {e['accuracy']:.4f})")
    if "1 process" in entry and s and s["seconds"] > 0:
        ranks = max(r.get("ranks", 1) for r in tools["steepest"])
        eff = entry["1 process"]["seconds"] / (ranks * s["seconds"])
        entry["scaling_efficiency"] = eff
        print(f"{'':<18} scaling on {ranks} ranks: speed-up {entry['1 process']['seconds'] / s['seconds']:.2f}x, efficiency {eff:.0%}")
    summary[w] = entry
out = path.rsplit(".", 1)[0] + ".json"
json.dump(summary, open(out, "w"), indent=2)
print(f"saved {out}")
