#!/usr/bin/python3
"""A width per input for the noisy net's first layer (automatic relevance determination,
MacKay 1994), emulated by scaling the inputs: an experiment, not an occam feature.

Under one Gaussian prior width s, scaling standardised input i by c_i gives its weights the
prior width s·c_i. Round 0 trains occam's default noisy net (the recipe of
perf/realdata_table.py: one hidden layer of 50, SGD lr 0.001, momentum 0.9, batch 16, 300
epochs, 1 thread, [noise] enabled = true and nothing else) on the inputs standardised by the
training rows. Each later round takes the evidence update per input from the last net's first
layer, s_i² = mean over the hidden units of μ² + σ² in standardised units, sets
c_i = s_i / rms(s), and trains again from scratch on the inputs scaled by c. It prints each
split's test metric (relative error or accuracy) and bits-back length per round, and the
counts of the issue 13 targets per round against the grid's best decay from a
perf/realdata_table.py --json report of the same sets.

Usage: perf/ard_scaling.py DATADIR REPORT.json [--rounds 3] [--jobs 2] [--occam build/occam]
DATADIR as perf/realdata.py writes it (its sets.txt names the sets)."""
import argparse, concurrent.futures as cf, json, os, struct, subprocess, sys, tempfile
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from realdata_table import config  # noqa: E402  the table's recipe, one config for both

RECIPE = argparse.Namespace(hidden=50, epochs=300, optimizer="sgd", lr="0.001")


def load(path):
    a = np.loadtxt(path, delimiter=",", ndmin=2)
    return a[:, :-1], a[:, -1]


def tensors(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    head = json.loads(b[8:8 + n])

    def get(k):
        lo, hi = head[k]["data_offsets"]
        return np.frombuffer(b[8 + n + lo:8 + n + hi], dtype=np.float32).reshape(head[k]["shape"])
    return get


def split(a, d, name, s, task, feat, outs):
    xtr, ytr = load(f"{d}/{name}-s{s}-train.csv")
    xte, yte = load(f"{d}/{name}-s{s}-test.csv")
    mu, sd = xtr.mean(0), xtr.std(0)
    sd[sd == 0] = 1
    ztr, zte = (xtr - mu) / sd, (xte - mu) / sd
    c, out = np.ones(feat), []
    fmt = ["%.9g"] * feat + (["%d"] if task == "classify" else ["%.9g"])
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(a.rounds):
            tr, te = f"{tmp}/{name}-s{s}-train.csv", f"{tmp}/{name}-s{s}-test.csv"
            ini = f"{tmp}/c.ini"
            np.savetxt(tr, np.column_stack([ztr * c, ytr]), delimiter=",", fmt=fmt)
            np.savetxt(te, np.column_stack([zte * c, yte]), delimiter=",", fmt=fmt)
            text = config(RECIPE, tmp, name, s, task, feat, outs)
            with open(ini, "w") as f:  # the inputs come scaled: occam must not standardise them
                f.write(text.replace("normalize = standardize", "normalize = none") +
                        "[noise]\nenabled = true\n[mdl]\nmodel_code = bits-back\n")
            subprocess.run([a.occam, "train", ini, "--save", f"{tmp}/m", "--report",
                            f"{tmp}/r.json"], check=True, capture_output=True)
            rep = json.load(open(f"{tmp}/r.json"))
            out.append((rep["test"]["relative_error" if task == "regress" else "accuracy"],
                        rep["mdl"]["total_bits"]))
            get = tensors(f"{tmp}/m")
            w = get("layers.0.weight").astype(float)
            sig = np.log1p(np.exp(get("layers.0.weight_rho").astype(float)))
            si2 = ((w * c) ** 2 + (sig * c) ** 2).mean(0)  # a weight on z is c times one on c·z
            c = np.sqrt(si2 / si2.mean())
    return name, s, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("datadir")
    ap.add_argument("report")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--occam", default="build/occam")
    a = ap.parse_args()
    sets = [l.split() for l in open(os.path.join(a.datadir, "sets.txt")) if l.strip()]
    best = {r["set"]: r for r in json.load(open(a.report))}
    jobs = [(a, a.datadir, n, s, t, int(f), int(o)) for n, t, f, o in sets for s in range(3)]
    res = {}
    with cf.ThreadPoolExecutor(a.jobs) as ex:
        for name, s, out in ex.map(lambda j: split(*j), jobs):
            res[(name, s)] = out
            print(name, s, "  ".join(f"round {i}: {m:.4f} ({b:.0f} bits)"
                                     for i, (m, b) in enumerate(out)), flush=True)
    hits = {}
    for name, task, _, _ in sets:
        if name not in best:
            continue
        reg = task == "regress"
        for r in range(a.rounds):
            m = sum(res[(name, s)][r][0] for s in range(3)) / 3
            b = best[name]["best_decay"]
            ok = m <= 1.05 * b if reg else m >= b - 0.02
            hits[(task, r)] = hits.get((task, r), 0) + ok
    for (task, r), n in sorted(hits.items()):
        total = sum(1 for x in sets if x[1] == task and x[0] in best)
        print(f"round {r}: {task} sets within {'5%' if task == 'regress' else '2 points'} of the "
              f"best decay: {n} of {total}")


if __name__ == "__main__":
    main()
