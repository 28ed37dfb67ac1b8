"""Turns a results file (JSON lines) into the comparison table and a JSON summary beside it.

For each workload: per tool the best and the median time over the interleaved rounds,
accuracy, peak RSS, and Steepest's time as a ratio of each peer's: the ratio of bests (the
headline: the least disturbed run of each) with the ratio of medians beside it (below 1:
Steepest is faster). Each run's share of the machine used by other processes is summarized per
workload; a workload whose runs saw more than 10 % (or the hypervisor's steal more than 5 %)
is flagged as measured on a busy host. The host's speed at the start of each round (one core's
float32 product) is printed and kept, so that runs of different hours compare through it.
"""
import json
import statistics
import sys
from collections import defaultdict

BUSY = 0.10

path = sys.argv[1]
rows = [json.loads(l) for l in open(path) if l.strip().startswith("{")]
host = next((r["host"] for r in rows if "host" in r), {})
calibration = [r["calibration"] for r in rows if "calibration" in r]
rows = [r for r in rows if "workload" in r]
by = defaultdict(lambda: defaultdict(list))
for r in rows:
    by[r["workload"]][r["tool"]].append(r)

summary = {"host": host, "workloads": {}}
if host:
    arch = ", ".join(
        f"{k} {host[k]}" for k in ("family", "model", "simd", "l2", "l3") if host.get(k) is not None
    )
    print(f"host: {host.get('cpu', '?')}, {host.get('cores', '?')} cores" + (f" ({arch})" if arch else ""))
if calibration:
    g = [c["gflops"] for c in calibration]
    summary["calibration"] = {"rounds": calibration, "gflops_best": max(g), "gflops_worst": min(g)}
    print(
        f"host speed: one core's float32 product at {max(g):.0f} GFLOP/s at best, {min(g):.0f} at worst "
        f"over {len(g)} rounds (compare runs of different hours through it)"
    )
print(f"{'workload':<20} {'tool':<11} {'best s':>9} {'median s':>9} {'runs':>4} {'accuracy':>9} {'rss MiB':>8} {'other%':>6}  best ratio (median ratio)")
for w in by:
    tools = by[w]
    entry = {}
    for t, rs in tools.items():
        secs = [r["seconds"] for r in rs]
        other = [r.get("host_other_share", 0.0) for r in rs]
        # Steal is counted in 10 ms ticks: only runs of at least a second of the machine's time
        # say something about it.
        steal = [r.get("host_steal_share", 0.0) for r in rs if r.get("host_capacity_seconds", 0.0) >= 1.0] or [0.0]
        entry[t] = {
            "best": min(secs),
            "median": statistics.median(secs),
            "seconds": statistics.median(secs),
            "max": max(secs),
            "runs": len(rs),
            "accuracy": statistics.median([r.get("accuracy", float("nan")) for r in rs]),
            "rss_mb": max(r.get("rss_mb", float("nan")) for r in rs),
            "host_other_share_max": max(other),
            "host_other_share_mean": statistics.mean(other),
            "host_steal_share_max": max(steal),
        }
        for k in ("epochs", "steps_per_second"):
            if k in rs[0]:
                entry[t][k] = statistics.median([r[k] for r in rs])
    s = entry.get("steepest")
    busy = any(e["host_other_share_max"] > BUSY for e in entry.values())
    stolen = any(e["host_steal_share_max"] > BUSY / 2 for e in entry.values())
    for t, e in entry.items():
        ratio = ""
        if s and t != "steepest" and e["best"] > 0 and e["median"] > 0:
            e["ratio_best"] = s["best"] / e["best"]
            e["ratio_median"] = s["median"] / e["median"]
            e["ratio"] = e["ratio_best"]
            ratio = f"{e['ratio_best']:.2f} ({e['ratio_median']:.2f})"
        print(
            f"{w:<20} {t:<11} {e['best']:>9.3f} {e['median']:>9.3f} {e['runs']:>4} {e['accuracy']:>9.4f} "
            f"{e['rss_mb']:>8.0f} {100 * e['host_other_share_max']:>5.0f}%  {ratio}"
        )
    # Other Steepest variants (several cores for the linear fast path) against the same peers.
    for v, ve in entry.items():
        if v.startswith("steepest ") and ve["best"] > 0:
            for t, e in entry.items():
                if not t.startswith("steepest") and t != "1 process" and e["best"] > 0:
                    ve.setdefault("ratios", {})[t] = ve["best"] / e["best"]
                    print(f"{'':<20} {v} / {t}: {ve['best'] / e['best']:.2f} (accuracy {ve['accuracy']:.4f} vs {e['accuracy']:.4f})")
    if "1 process" in entry and s and s["best"] > 0:
        ranks = max(r.get("ranks", 1) for r in tools["steepest"])
        eff = entry["1 process"]["best"] / (ranks * s["best"])
        entry["scaling_efficiency"] = eff
        print(f"{'':<20} scaling on {ranks} ranks: speed-up {entry['1 process']['best'] / s['best']:.2f}x, efficiency {eff:.0%}")
    if busy:
        print(f"{'':<20} busy host: other processes used more than {BUSY:.0%} of the machine during a run")
    if stolen:
        print(f"{'':<20} busy host: the hypervisor took more than {BUSY / 2:.0%} of this machine (steal) during a run")
    entry["busy_host"] = busy or stolen
    summary["workloads"][w] = entry
out = path.rsplit(".", 1)[0] + ".json"
json.dump(summary, open(out, "w"), indent=2)
print(f"saved {out}")
