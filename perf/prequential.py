#!/usr/bin/python3
"""The prequential (predictive) description length of a classification set's training labels,
for each point of perf/realdata_table.py's grid (the six weight decays and the default noisy
net), by retraining occam on growing prefixes of the training file: an experiment beside
occam's bits-back and two-part codes, not one of them.

The first --cuts row count is coded uniformly (log2 K bits a label); each later block of rows,
up to the next cut and last to the end of the file, is coded by the net trained on the rows
before it (its test loss, in nats a row, from `occam train --report`). The file's own row order
is used (perf/realdata.py shuffled it). Every label is coded once and no row is held out. The
script also trains each point on the whole training file and reads its test accuracy. Then,
per split, it says which point the prequential code picks and which point tests best.

Usage: perf/prequential.py DATADIR [--sets a,b] [--cuts 10,20,40,70] [--occam build/occam]
           [--jobs 2] [--seed N] [--splits 3] [--epochs 300] [--optimizer sgd] [--lr 0.001]
           [--hidden 50]
A run of occam that fails leaves its point's figures NaN (said on stderr); a NaN never wins.
Regression sets are left out: their code needs the noise level and target precision, which a
test report does not hold."""
import argparse, concurrent.futures as cf, math, os, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from realdata_table import COLS, config, occam_report  # noqa: E402

# realdata_table's decays and its default noisy net
POINTS = [(str(w) if kind == "wd" else "noisy", args) for kind, w, args in COLS
          if kind in ("wd", "gaussian")]


def report(a, d, name, s, feat, outs, args):
    """Trains on d/NAME-sS-train.csv, tests on d/NAME-sS-test.csv: the test report."""
    rep, msg = occam_report(a, "train", config(a, d, name, s, "classify", feat, outs), args)
    if rep is None:
        print(f"failed: {name} split {s}: {' '.join(args)}: {' '.join(msg)}", file=sys.stderr)
        return {"loss": float("nan"), "accuracy": float("nan")}
    return rep["test"]


def run(job):
    a, name, s, feat, outs, point, args = job
    with open(os.path.join(a.datadir, f"{name}-s{s}-train.csv")) as f:
        rows = [l for l in f if l.strip()]
    cuts = sorted({c for c in a.cuts if 0 < c < len(rows)}) + [len(rows)]
    bits = cuts[0] * math.log2(outs)
    with tempfile.TemporaryDirectory() as t:
        for lo, hi in zip(cuts, cuts[1:]):
            for part, sl in (("train", rows[:lo]), ("test", rows[lo:hi])):
                with open(os.path.join(t, f"{name}-s{s}-{part}.csv"), "w") as f:
                    f.writelines(sl)
            bits += report(a, t, name, s, feat, outs, args)["loss"] * (hi - lo) / math.log(2)
    return (name, s, point), bits, report(a, a.datadir, name, s, feat, outs, args)["accuracy"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("datadir")
    ap.add_argument("--sets", default="")
    ap.add_argument("--cuts", default="10,20,40,70")
    ap.add_argument("--occam", default="build/occam")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--splits", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=300)
    ap.add_argument("--optimizer", default="sgd")
    ap.add_argument("--lr", type=float, default=0.001)
    ap.add_argument("--hidden", type=int, default=50)
    a = ap.parse_args()
    a.cuts = [int(c) for c in a.cuts.split(",")]
    keep = [n for n in a.sets.split(",") if n]
    sets = [l.split() for l in open(os.path.join(a.datadir, "sets.txt")) if l.strip()]
    sets = [(n, int(f), int(k)) for n, task, f, k in sets
            if task == "classify" and (not keep or n in keep)]
    jobs = [(a, n, s, f, k, p, args) for n, f, k in sets for s in range(a.splits)
            for p, args in POINTS]
    res = {}
    with cf.ThreadPoolExecutor(a.jobs) as ex:
        for key, bits, acc in ex.map(run, jobs):
            res[key] = (bits, acc)
    names = [p for p, _ in POINTS]
    print("per split: bits / test accuracy of decay " + ", ".join(names[:-1]) + " and noisy")
    near = noisy_near = picked_noisy = total = 0
    for n, _, _ in sets:
        for s in range(a.splits):
            r = {p: res[(n, s, p)] for p in names}
            pick = min(names, key=lambda p: r[p][0] if r[p][0] == r[p][0] else math.inf)
            best = max((r[p][1] for p in names if r[p][1] == r[p][1]), default=math.nan)
            ok = 1 - r[pick][1] <= 1.1 * (1 - best)
            near += ok
            noisy_near += 1 - r["noisy"][1] <= 1.1 * (1 - best)
            picked_noisy += pick == "noisy"
            total += 1
            print(f"{n} split {s}: " + "  ".join(f"{r[p][0]:.0f}/{r[p][1]:.3f}" for p in names)
                  + f"  -> picks {pick} (test {r[pick][1]:.3f}, best {best:.3f}"
                  + ("" if ok else ", more than 10% more test error") + ")")
    print(f"\nthe prequential pick is within 10% in test error of the best point on {near} of "
          f"{total} splits (the noisy net, bits-back's pick, on {noisy_near}); it is the noisy "
          f"net on {picked_noisy}")


if __name__ == "__main__":
    main()
