"""The peers' side of the benchmarks: one workload per process, one JSON line on stdout.

Usage: peers.py TOOL WORKLOAD DATA_DIR [--threads N] [--optimizer sgd|adam] [--epochs N]
TOOL: torch, jax, sklearn, vw; steepest for K1, W2 and W3 files (the `steepest` binary, whose
fit time its summary reports).
"""
import json
import os
import resource
import struct
import sys
import time

args = sys.argv[1:]
tool, workload, data = args[0], args[1], args[2]


def opt(name, default):
    return args[args.index(name) + 1] if name in args else default


threads = int(opt("--threads", "1"))
for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[var] = str(threads)
os.environ["XLA_FLAGS"] = f"--xla_cpu_multi_thread_eigen={'true' if threads > 1 else 'false'} intra_op_parallelism_threads={threads}"

import numpy as np  # noqa: E402


def read_idx(path):
    with open(path, "rb") as f:
        _, _, code, nd = struct.unpack(">BBBB", f.read(4))
        dims = struct.unpack(">" + "I" * nd, f.read(4 * nd))
        dt = {0x08: np.uint8, 0x0D: np.dtype(">f4")}[code]
        return np.frombuffer(f.read(), dtype=dt).reshape(dims)


def images(part, prefix):
    x = read_idx(os.path.join(data, f"{prefix}-{part}-images-idx3-ubyte"))
    y = read_idx(os.path.join(data, f"{prefix}-{part}-labels-idx1-ubyte")).astype(np.int64)
    return x.reshape(len(x), -1), y


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def emit(d):
    d["tool"] = tool
    d["rss_mb"] = rss_mb()
    print(json.dumps(d))


def w1_torch(optimizer, epochs):
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    x, y = images("train", "w1")
    xt, yt = images("test", "w1")
    x = torch.tensor(x, dtype=torch.float32) / 255
    y = torch.tensor(y)
    xt = torch.tensor(xt, dtype=torch.float32) / 255
    model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    o = torch.optim.Adam(model.parameters(), lr=1e-3) if optimizer == "adam" else torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    times = []
    for e in range(epochs):
        perm = torch.randperm(len(x))
        t0 = time.perf_counter()
        for i in range(0, len(x), 128):
            idx = perm[i:i + 128]
            o.zero_grad(set_to_none=True)
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            o.step()
        times.append(time.perf_counter() - t0)
    with torch.no_grad():
        acc = (model(xt).argmax(1).numpy() == yt).mean()
    t = sorted(times[1:])
    emit({"workload": f"W1 {optimizer} {threads}t", "seconds": t[len(t) // 2], "times": times[1:], "accuracy": float(acc)})


def w1_jax(optimizer, epochs):
    import jax
    import jax.numpy as jnp
    import optax
    x, y = images("train", "w1")
    xt, yt = images("test", "w1")
    x = (x / 255).astype(np.float32)
    xt = (xt / 255).astype(np.float32)
    key = jax.random.PRNGKey(0)
    sizes = [784, 256, 128, 10]
    params = []
    for i in range(3):
        key, k = jax.random.split(key)
        bound = 1 / np.sqrt(sizes[i])  # PyTorch's nn.Linear initialization, as the other sides use
        params.append((jax.random.uniform(k, (sizes[i], sizes[i + 1]), minval=-bound, maxval=bound), jnp.zeros(sizes[i + 1])))

    def forward(p, xb):
        h = xb
        for i, (w, b) in enumerate(p):
            h = h @ w + b
            if i < 2:
                h = jax.nn.relu(h)
        return h

    def loss(p, xb, yb):
        return optax.softmax_cross_entropy_with_integer_labels(forward(p, xb), yb).mean()

    tx = optax.adam(1e-3) if optimizer == "adam" else optax.sgd(0.1, momentum=0.9)
    state = tx.init(params)

    @jax.jit
    def step(p, s, xb, yb):
        g = jax.grad(loss)(p, xb, yb)
        u, s = tx.update(g, s, p)
        return optax.apply_updates(p, u), s

    rng = np.random.default_rng(0)
    times = []
    n = len(x) // 128 * 128
    for e in range(epochs):
        perm = rng.permutation(len(x))
        t0 = time.perf_counter()
        for i in range(0, n, 128):
            idx = perm[i:i + 128]
            params, state = step(params, state, x[idx], y[idx])
        jax.block_until_ready(params)
        times.append(time.perf_counter() - t0)
    acc = float((np.asarray(forward(params, xt)).argmax(1) == yt).mean())
    t = sorted(times[1:])
    emit({"workload": f"W1 {optimizer} {threads}t", "seconds": t[len(t) // 2], "times": times[1:], "accuracy": acc})


def w2_sklearn():
    from sklearn.linear_model import SGDClassifier
    import warnings
    warnings.filterwarnings("ignore")
    x, y = images("train", "w2")
    xt, yt = images("test", "w2")
    x, xt = np.ascontiguousarray(x, dtype=np.float64), np.ascontiguousarray(xt, dtype=np.float64)
    clf = SGDClassifier(loss="log_loss", max_iter=1, tol=None, shuffle=False, random_state=0)
    t0 = time.perf_counter()
    clf.fit(x, y)
    secs = time.perf_counter() - t0
    emit({"workload": "W2", "seconds": secs, "accuracy": float(clf.score(xt, yt))})


def load_svm(part):
    import scipy.sparse as sp
    from sklearn.datasets import load_svmlight_file
    x, y = load_svmlight_file(os.path.join(data, f"w3-{part}.svm"), n_features=1 << 20, zero_based=False)
    # scikit-learn's SGD takes 32-bit indices only.
    return sp.csr_matrix((x.data, x.indices.astype(np.int32), x.indptr.astype(np.int32)), shape=x.shape), y


def w3_sklearn():
    from sklearn.linear_model import SGDClassifier
    import warnings
    warnings.filterwarnings("ignore")
    x, y = load_svm("train")
    xt, yt = load_svm("test")
    clf = SGDClassifier(loss="log_loss", max_iter=1, tol=None, shuffle=False, random_state=0)
    t0 = time.perf_counter()
    clf.fit(x, y)
    secs = time.perf_counter() - t0
    emit({"workload": "W3 pass", "seconds": secs, "accuracy": float(clf.score(xt, yt))})


def vw_accuracy(model, path):
    correct = total = 0
    with open(path) as f:
        for line in f:
            label = 1 if line.startswith("1 ") else -1
            p = model.predict(line[line.index("|"):])
            correct += (1 if p > 0 else -1) == label
            total += 1
    return correct / total


def w3_vw():
    from vowpalwabbit import Workspace
    train = os.path.join(data, "w3-train.vw")
    t0 = time.perf_counter()
    model = Workspace(f"--loss_function logistic --bit_precision 20 --quiet -d {train}")
    secs = time.perf_counter() - t0
    emit({"workload": "W3 parse+pass", "seconds": secs, "accuracy": vw_accuracy(model, os.path.join(data, "w3-test.vw"))})


def w2_vw():
    from vowpalwabbit import Workspace
    train = os.path.join(data, "w2-train.vw")
    t0 = time.perf_counter()
    model = Workspace(f"--loss_function logistic --quiet -d {train}")
    secs = time.perf_counter() - t0
    emit({"workload": "W2 parse+pass", "seconds": secs, "accuracy": vw_accuracy(model, os.path.join(data, "w2-test.vw"))})


def linear_cli(name, stem):
    """The `steepest` binary as a user types it: `train --data FILE --model logistic --stream`,
    defaults otherwise (one pass of per-example invariant steps, in file order, as Vowpal Wabbit).
    The summary's seconds are the read-and-learn time; the test file is scored after."""
    import subprocess
    import tempfile
    exe = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "target", "release", "steepest")
    run = os.path.join(tempfile.mkdtemp(), "run")
    subprocess.run([exe, "train", "--data", os.path.join(data, f"{stem}-train.svm"), "--test-data",
                    os.path.join(data, f"{stem}-test.svm"), "--model", "logistic", "--stream", "--threads",
                    str(threads), "--quiet", "--out", run], check=True, stdout=subprocess.DEVNULL)
    s = json.load(open(os.path.join(run, "summary.json")))
    d = {"workload": f"{name} parse+pass", "seconds": s["seconds"], "accuracy": s["metrics"]["accuracy"],
         "log_loss": s["metrics"]["log_loss"], "tool": "steepest cli"}
    d["rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    print(json.dumps(d))


def w4_sklearn():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import StandardScaler
    import warnings
    warnings.filterwarnings("ignore")
    x, y = load_digits(return_X_y=True)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.2, stratify=y, random_state=0)
    s = StandardScaler().fit(xtr)
    xtr, xte = s.transform(xtr), s.transform(xte)
    for it in range(1, 201):
        t0 = time.perf_counter()
        m = MLPClassifier(hidden_layer_sizes=(64,), max_iter=it, batch_size=32, random_state=0).fit(xtr, ytr)
        secs = time.perf_counter() - t0
        acc = m.score(xte, yte)
        if acc >= 0.97:
            emit({"workload": "W4", "seconds": secs, "epochs": it, "accuracy": acc})
            return
    emit({"workload": "W4", "seconds": float("nan"), "epochs": 0, "accuracy": acc})


def w4_torch():
    import torch
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler
    torch.set_num_threads(threads)
    x, y = load_digits(return_X_y=True)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.2, stratify=y, random_state=0)
    s = StandardScaler().fit(xtr)
    xtr = torch.tensor(s.transform(xtr), dtype=torch.float32)
    xte = torch.tensor(s.transform(xte), dtype=torch.float32)
    ytr = torch.tensor(ytr)
    for epochs in range(1, 101):
        torch.manual_seed(0)
        t0 = time.perf_counter()
        model = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
        o = torch.optim.Adam(model.parameters(), lr=1e-3)
        for e in range(epochs):
            perm = torch.randperm(len(xtr))
            for i in range(0, len(xtr), 32):
                idx = perm[i:i + 32]
                o.zero_grad()
                torch.nn.functional.cross_entropy(model(xtr[idx]), ytr[idx]).backward()
                o.step()
        secs = time.perf_counter() - t0
        with torch.no_grad():
            acc = float((model(xte).argmax(1).numpy() == yte).mean())
        if acc >= 0.97:
            emit({"workload": "W4", "seconds": secs, "epochs": epochs, "accuracy": acc})
            return
    emit({"workload": "W4", "seconds": float("nan"), "epochs": 0, "accuracy": acc})


def read_idx_gz(path):
    import gzip
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        _, _, code, nd = struct.unpack(">BBBB", f.read(4))
        dims = struct.unpack(">" + "I" * nd, f.read(4 * nd))
        return np.frombuffer(f.read(), dtype=np.uint8).reshape(dims)


def w5_torch(epochs):
    """PyTorch's examples/mnist network and recipe on DATA_DIR (an IDX folder), as Steepest's W5."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    torch.set_num_threads(threads)
    torch.manual_seed(0)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 32, 3, 1)
            self.conv2 = nn.Conv2d(32, 64, 3, 1)
            self.dropout1 = nn.Dropout(0.25)
            self.dropout2 = nn.Dropout(0.5)
            self.fc1 = nn.Linear(9216, 128)
            self.fc2 = nn.Linear(128, 10)

        def forward(self, x):
            x = F.relu(self.conv1(x))
            x = F.relu(self.conv2(x))
            x = self.dropout1(F.max_pool2d(x, 2))
            x = self.dropout2(F.relu(self.fc1(torch.flatten(x, 1))))
            return self.fc2(x)

    def load(part):
        x = read_idx_gz(os.path.join(data, f"{part}-images-idx3-ubyte.gz"))
        y = read_idx_gz(os.path.join(data, f"{part}-labels-idx1-ubyte.gz"))
        x = (torch.tensor(x, dtype=torch.float32) / 255 - 0.1307) / 0.3081
        return x.unsqueeze(1), torch.tensor(y, dtype=torch.int64)

    x, y = load("train")
    xt, yt = load("test")
    model = Net()
    o = torch.optim.Adadelta(model.parameters(), lr=1.0)
    sched = torch.optim.lr_scheduler.StepLR(o, step_size=1, gamma=0.7)
    times = []
    for e in range(epochs):
        model.train()
        perm = torch.randperm(len(x))
        t0 = time.perf_counter()
        for i in range(0, len(x), 64):
            idx = perm[i:i + 64]
            o.zero_grad()
            F.cross_entropy(model(x[idx]), y[idx]).backward()
            o.step()
        times.append(time.perf_counter() - t0)
        sched.step()
    model.eval()
    with torch.no_grad():
        acc = float((model(xt).argmax(1) == yt).float().mean())
    t = sorted(times[1:])
    emit({"workload": f"W5 cnn {threads}t", "seconds": t[len(t) // 2], "times": times[1:], "accuracy": acc})


def w6_torch(epochs):
    """Per-step overhead: a 64-64 ReLU MLP on digits, batch 32, SGD, eager PyTorch."""
    import torch
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    x, y = load_digits(return_X_y=True)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.2, stratify=y, random_state=0)
    s = StandardScaler().fit(xtr)
    xtr = torch.tensor(s.transform(xtr), dtype=torch.float32)
    xte = torch.tensor(s.transform(xte), dtype=torch.float32)
    ytr = torch.tensor(ytr)
    model = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
    o = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    times = []
    for e in range(epochs):
        perm = torch.randperm(len(xtr))
        t0 = time.perf_counter()
        for i in range(0, len(xtr), 32):
            idx = perm[i:i + 32]
            o.zero_grad()
            torch.nn.functional.cross_entropy(model(xtr[idx]), ytr[idx]).backward()
            o.step()
        times.append(time.perf_counter() - t0)
    with torch.no_grad():
        acc = float((model(xte).argmax(1).numpy() == yte).mean())
    t = sorted(times[1:])
    steps = (len(xtr) + 31) // 32
    emit({"workload": "W6 small-net steps", "seconds": t[len(t) // 2], "steps_per_second": steps / t[len(t) // 2], "times": times[1:], "accuracy": acc})


def k1_sets():
    import pandas as pd
    name = opt("--set", "digits")
    tr, te = (os.path.join(data, f"k1-{name}-{part}.csv") for part in ("train", "test"))
    return name, tr, te, pd.read_csv(tr), pd.read_csv(te)


def k1_sklearn():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC
    name, _, _, tr, te = k1_sets()
    xtr, ytr = tr.drop(columns="label").to_numpy(), tr["label"].to_numpy()
    t0 = time.perf_counter()
    m = make_pipeline(StandardScaler(), SVC()).fit(xtr, ytr)
    secs = time.perf_counter() - t0
    acc = m.score(te.drop(columns="label").to_numpy(), te["label"].to_numpy())
    emit({"workload": f"K1 svm {name}", "seconds": secs, "accuracy": acc})


def k1_steepest():
    import subprocess
    import tempfile
    name, tr, te, _, _ = k1_sets()
    exe = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "target", "release", "steepest")
    run = os.path.join(tempfile.mkdtemp(), "run")
    subprocess.run([exe, "train", "--data", tr, "--test-data", te, "--target", "label", "--task", "classify",
                    "--model", "svm", "--kernel", "rbf", "--threads", str(threads), "--quiet", "--out", run],
                   check=True, stdout=subprocess.DEVNULL)
    s = json.load(open(os.path.join(run, "summary.json")))
    d = {"workload": f"K1 svm {name}", "seconds": s["seconds"], "accuracy": s["metrics"]["accuracy"], "tool": tool}
    d["rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    print(json.dumps(d))


epochs = int(opt("--epochs", "3"))
optimizer = opt("--optimizer", "sgd")
{
    ("torch", "w1"): lambda: w1_torch(optimizer, epochs),
    ("jax", "w1"): lambda: w1_jax(optimizer, epochs),
    ("sklearn", "w2"): w2_sklearn,
    ("sklearn", "w3"): w3_sklearn,
    ("vw", "w3-file"): w3_vw,
    ("vw", "w2-file"): w2_vw,
    ("steepest", "w2-file"): lambda: linear_cli("W2", "w2"),
    ("steepest", "w3-file"): lambda: linear_cli("W3", "w3"),
    ("sklearn", "w4"): w4_sklearn,
    ("torch", "w4"): w4_torch,
    ("torch", "w5"): lambda: w5_torch(epochs),
    ("torch", "w6"): lambda: w6_torch(epochs),
    ("sklearn", "k1"): k1_sklearn,
    ("steepest", "k1"): k1_steepest,
}[(tool, workload)]()
