#!/usr/bin/python3
"""Whitens the inputs of sets that perf/realdata.py wrote: an experiment, not an occam feature.
For each split, the training rows' inputs are standardised and then ZCA-whitened (rotated onto
their principal axes, each axis scaled to unit variance, rotated back; axes with a variance
below 1e-6 of the largest are dropped), by the training rows' statistics alone, and the test
rows are mapped the same way. Targets and labels are copied unchanged, so a run on OUTDIR
differs from one on DATADIR only in the inputs' correlation, which standardising keeps.

With --append, a row holds both: the standardised inputs, then the whitened ones (twice the
features), so one net may use either.

Usage: perf/whiten.py DATADIR OUTDIR [--sets a,b,...] [--append]
Then perf/realdata_table.py OUTDIR ... as on DATADIR (occam's own standardising is then a no-op
on the training rows, unless an axis was dropped)."""
import argparse, os, sys
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from realdata import write_rows  # noqa: E402


def rows(path, cls):
    a = np.loadtxt(path, delimiter=",", ndmin=2)
    return a[:, :-1], a[:, -1].astype(int) if cls else a[:, -1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("datadir")
    ap.add_argument("outdir")
    ap.add_argument("--sets", default="")
    ap.add_argument("--append", action="store_true")
    a = ap.parse_args()
    only = [n for n in a.sets.split(",") if n]
    lines = [l for l in open(os.path.join(a.datadir, "sets.txt")) if l.strip()]
    lines = [l for l in lines if not only or l.split()[0] in only]
    os.makedirs(a.outdir, exist_ok=True)
    for line in lines:
        name, task = line.split()[:2]
        cls = task == "classify"
        s = 0
        while os.path.exists(os.path.join(a.datadir, f"{name}-s{s}-train.csv")):
            x, y = rows(os.path.join(a.datadir, f"{name}-s{s}-train.csv"), cls)
            xt, yt = rows(os.path.join(a.datadir, f"{name}-s{s}-test.csv"), cls)
            mean, sd = x.mean(0), x.std(0)
            sd[sd == 0] = 1
            z, zt = (x - mean) / sd, (xt - mean) / sd
            var, axes = np.linalg.eigh(z.T @ z / len(z))
            keep = var > 1e-6 * var.max()
            w = (axes[:, keep] / np.sqrt(var[keep])) @ axes[:, keep].T
            new = (lambda v: np.hstack([v, v @ w])) if a.append else (lambda v: v @ w)
            write_rows(os.path.join(a.outdir, f"{name}-s{s}-train.csv"), new(z), y, cls)
            write_rows(os.path.join(a.outdir, f"{name}-s{s}-test.csv"), new(zt), yt, cls)
            s += 1
    if a.append:  # NAME TASK FEATURES OUTPUTS
        lines = [" ".join(p[:2] + [str(2 * int(p[2]))] + p[3:]) + "\n"
                 for p in (l.split() for l in lines)]
    with open(os.path.join(a.outdir, "sets.txt"), "w") as f:
        f.write("".join(lines))


if __name__ == "__main__":
    main()
