#!/usr/bin/python3
"""Posterior means against posterior predictive averaging for the default noisy net on the
regression sets of perf/realdata.py (the README's "Known limitations").

    /usr/bin/python3 perf/mc_predict.py DIR SET...      (DIR from perf/realdata.py DIR)

For each set and split 0-2: trains the table's recipe (1x50 ReLU, SGD 0.001, momentum 0.9,
batch 16, 300 epochs, [noise] enabled = true) with `occam train --save`, then computes the
relative test error (MSE / variance of the test targets) of predictions at the posterior means
and of the average of 400 forward passes with weights drawn from N(mu, softplus(rho)^2), in
numpy. The posterior-mean figure is checked against `occam eval`'s. Prints one line per split.
"""
import argparse, os, subprocess, sys, tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from load_checkpoint import read_safetensors  # noqa: E402
import realdata_table  # noqa: E402

BIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build", "occam")
DRAWS = 400


def config(d, name, s, feat):
    """The table's recipe (perf/realdata_table.py's config) with [noise] enabled = true."""
    recipe = argparse.Namespace(hidden=50, epochs=300, optimizer="sgd", lr=0.001)
    return realdata_table.config(recipe, d, name, s, "regress", feat, 1) + \
        "[noise]\nenabled = true\n"


def forward(ws, bs, x):
    for l, (w, b) in enumerate(zip(ws, bs)):
        x = x @ w.T + b
        if l < len(ws) - 1:
            x = np.maximum(x, 0)
    return x[:, 0]


def split(d, name, s, feat, tmp):
    ini, model = os.path.join(tmp, "c.ini"), os.path.join(tmp, "m.st")
    with open(ini, "w") as f:
        f.write(config(d, name, s, feat))
    subprocess.run([BIN, "train", ini, "--save", model], check=True, capture_output=True)
    tr = np.loadtxt(f"{d}/{name}-s{s}-train.csv", delimiter=",", ndmin=2)
    te = np.loadtxt(f"{d}/{name}-s{s}-test.csv", delimiter=",", ndmin=2)
    mu, sd = tr[:, :feat].mean(0), tr[:, :feat].std(0)
    sd[sd == 0] = 1
    x, y = (te[:, :feat] - mu) / sd, te[:, feat]
    t, _ = read_safetensors(model)
    nl = sum(1 for k in t if k.startswith("layers.") and k.endswith(".weight"))
    masks = [t.get(f"layers.{l}.weight_mask", np.ones(t[f"layers.{l}.weight"].shape))
             .astype(np.float64) for l in range(nl)]
    ws = [t[f"layers.{l}.weight"].astype(np.float64) * masks[l] for l in range(nl)]
    bs = [t[f"layers.{l}.bias"].astype(np.float64) for l in range(nl)]
    sig = [np.logaddexp(0, t[f"layers.{l}.weight_rho"].astype(np.float64)) * masks[l]
           for l in range(nl)]
    ym, ys = tr[:, feat].mean(), tr[:, feat].std()
    p_mean = forward(ws, bs, x) * ys + ym
    rng, acc = np.random.default_rng(0), np.zeros_like(p_mean)
    for _ in range(DRAWS):
        acc += forward([w + g * rng.standard_normal(w.shape) for w, g in zip(ws, sig)], bs, x)
    p_avg = acc / DRAWS * ys + ym
    v = y.var()
    ev = subprocess.run([BIN, "eval", ini, "--checkpoint", model], capture_output=True,
                        text=True).stdout.split()
    occ = float(ev[len(ev) - 1 - ev[::-1].index("relative_error") + 1])  # the test line
    return ((p_mean - y) ** 2).mean() / v, ((p_avg - y) ** 2).mean() / v, occ


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    d = sys.argv[1]
    sets = {l.split()[0]: l.split() for l in open(os.path.join(d, "sets.txt"))}
    for name in sys.argv[2:]:
        if name not in sets or sets[name][1] != "regress":
            sys.exit(f"mc_predict: {name} is not a regression set of {d}/sets.txt")
        for s in range(3):
            with tempfile.TemporaryDirectory() as tmp:
                r0, r1, occ = split(d, name, s, int(sets[name][2]), tmp)
            print(f"{name} split {s}: posterior means {r0:.4f} (occam eval {occ:.4f}), "
                  f"averaged over {DRAWS} draws {r1:.4f} ({(r1 / r0 - 1) * 100:+.1f}%)",
                  flush=True)


if __name__ == "__main__":
    main()
