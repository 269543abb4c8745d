#!/usr/bin/python3
"""Writes small real data sets as occam CSVs (features..., target last), split into a training
set of --train rows and a test set of the rest, by a seeded shuffle. The sets are the ones
Debian's python3-sklearn ships as plain files (read here with the csv module and numpy, no
scikit-learn import):
  diabetes  regress   10 features, 442 rows, disease progression score 25..346
  boston    regress   13 features, 506 rows, median house value in $1000s
  cancer    classify  30 features, 569 rows, malignant/benign
  wine      classify  13 features, 178 rows, 3 cultivars
  iris      classify   4 features, 150 rows, 3 species
Usage: perf/realdata.py OUTDIR [--train 100] [--splits 3]
Writes OUTDIR/NAME-sS-train.csv and OUTDIR/NAME-sS-test.csv for split s = 0..splits-1."""
import argparse, csv, gzip, os, sys
import numpy as np

D = "/usr/lib/python3/dist-packages/sklearn/datasets/data"

def first_header(path):
    with open(path) as f:
        rows = list(csv.reader(f))
    return np.array([[float(v) for v in r] for r in rows[1:] if r], dtype=float)

def boston():
    with open(os.path.join(D, "boston_house_prices.csv")) as f:
        rows = list(csv.reader(f))[2:]
    a = np.array([[float(v) for v in r] for r in rows if r], dtype=float)
    return a[:, :-1], a[:, -1], "regress"

def diabetes():
    x = np.loadtxt(gzip.open(os.path.join(D, "diabetes_data_raw.csv.gz")))
    y = np.loadtxt(gzip.open(os.path.join(D, "diabetes_target.csv.gz")))
    return x, y, "regress"

def labelled(name):
    a = first_header(os.path.join(D, name))
    return a[:, :-1], a[:, -1].astype(int), "classify"

SETS = {"diabetes": diabetes, "boston": boston,
        "cancer": lambda: labelled("breast_cancer.csv"),
        "wine": lambda: labelled("wine_data.csv"),
        "iris": lambda: labelled("iris.csv")}

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--train", type=int, default=100)
    ap.add_argument("--splits", type=int, default=3)
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    for name, load in SETS.items():
        x, y, task = load()
        for s in range(a.splits):
            p = np.random.RandomState(1000 + s).permutation(len(y))
            for part, idx in (("train", p[:a.train]), ("test", p[a.train:])):
                with open(os.path.join(a.outdir, f"{name}-s{s}-{part}.csv"), "w") as f:
                    for i in idx:
                        t = str(int(y[i])) if task == "classify" else repr(float(y[i]))
                        f.write(",".join(repr(float(v)) for v in x[i]) + "," + t + "\n")
        k = len(set(y.tolist())) if task == "classify" else 1
        print(f"{name} {task} features={x.shape[1]} rows={len(y)} outputs={k}")

if __name__ == "__main__":
    main()
