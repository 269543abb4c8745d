#!/usr/bin/python3
"""The real-data comparison of issue 13: for every set that perf/realdata.py wrote, trains
no regularisation, each weight decay of a grid, and noisy weights with the [noise] defaults
(only noise.enabled = true: the Gaussian prior of one width for the network, its units
rebalanced), with per-layer widths (noise.prior_scope = layer) and with the mixture prior;
optionally runs `occam select` over
weight decay x noise on/off. Every run uses the same recipe (no per-set tuning): standardised
inputs, targets in their natural units, one hidden layer, the given optimiser.

Usage: perf/realdata_table.py DATADIR [--occam build/occam] [--jobs 2] [--epochs 300]
           [--optimizer sgd] [--lr 0.001] [--hidden 50] [--splits 3] [--sets a,b,...]
           [--select [--select-grid key=v1,v2 ...]] [--seed N] [--json OUT]
Prints a markdown table of means over the splits and the acceptance checks (exit status 1 when
a run failed or a target was missed): the default
noisy net against the best decay of the grid in hindsight (regression: relative test error
within 5% and at least 20% below no regularisation; classification: accuracy within 2 points),
with --select, the selected point against the grid's best per split (within 10%), and every
noisy net that collapsed to the mean or one class, judged by its bits-back description length
against the noisy nets of its split that did not: the shortest is MDL's choice, a longer one an
optimisation failure (which counts as a missed target). The lengths are compared net of each
prior's own parameters (a mixture's 7 floats, a Gaussian's 2, per layer or once for the
network): a prior that can take the fitting net's posterior pays its parameters either way, so
only the rest says whether its training missed a shorter code; both are printed. Last, the
targets' reference: how many sets each decay of the grid, fixed in advance for all of them,
meets the same target on (perf/realdata_sum.py totals it over several rounds' --json files).
"""
import argparse, concurrent.futures as cf, json, os, subprocess, sys, tempfile

GRID = [0, 0.001, 0.01, 0.1, 1, 3]


def config(a, d, name, s, task, feat, outs):
    return f"""[data]
source = csv
train = {d}/{name}-s{s}-train.csv
test = {d}/{name}-s{s}-test.csv
task = {task}
normalize = standardize
[model]
layers = {feat},{a.hidden},{outs}
[train]
epochs = {a.epochs}
batch = 16
optimizer = {a.optimizer}
lr = {a.lr}
momentum = 0.9
[runtime]
threads = 1
"""


def metric(task):
    return "relative_error" if task == "regress" else "accuracy"


COLLAPSED = []
NOISY = ("gaussian", "layer", "mog")
# The table's columns: (kind, decay, occam's arguments); the noisy kinds are NOISY's.
COLS = [("wd", w, ["--set", f"train.weight_decay={w}"]) for w in GRID]
COLS += [("gaussian", None, ["--set", "noise.enabled=true"]),
         ("layer", None, ["--set", "noise.enabled=true", "--set", "noise.prior_scope=layer"]),
         ("mog", None, ["--set", "noise.enabled=true", "--set", "noise.prior=mog"])]


def collapsed(rep, task, maj):
    """A noisy net that predicts the training mean (train relative error >= 0.95) or one class
    for every row (train accuracy at the majority share) has collapsed: the message, or None."""
    tr = rep["train"]
    if task == "regress" and tr["relative_error"] >= 0.95:
        return f"train relative error {tr['relative_error']:.3f}"
    if task == "classify" and tr["accuracy"] <= maj + 1e-9:
        return f"train accuracy {tr['accuracy']:.3f}"
    return None


BITS = {}  # noisy runs: (bits-back length, its prior's parameters' bits, collapse message)


def judge_collapses(sets, splits):
    """Each collapsed run against the other noisy nets of its split: a collapse whose bits-back
    description length is the shortest is MDL's choice; one that a non-collapsed net beats is
    an optimisation failure (the original fault of the Gaussian prior)."""
    for name, *_ in sets:
        for s in range(splits):
            runs = {k: BITS[(name, s, k, None)] for k in NOISY if (name, s, k, None) in BITS}
            fits = [(b - o, b) for b, o, c in runs.values() if c is None]
            for k, (b, o, c) in sorted(runs.items()):
                if c is None:
                    continue
                best = min(fits) if fits else None
                said = (f"{b - o:.0f} bits net of its prior's parameters, the best fitting "
                        f"noisy net {best[0]:.0f} (with them: {b:.0f} and {best[1]:.0f})"
                        if best else "")
                verdict = ("no noisy net of this split fits" if best is None else
                           f"MDL's choice: {said}" if b - o <= best[0] else
                           f"OPTIMISATION FAILURE: {said}")
                COLLAPSED.append(f"{(name, s, k)}: {c}; {verdict}")


def test_rows(d, name, s, pick, top):
    """A classification gap in test rows, and in unpaired standard errors: the binomial error of
    the difference of two accuracies measured on independent rows. Both nets are scored on the
    same rows and mostly agree, so the paired (McNemar) error is smaller and the gap can be
    larger than this says; it is an upper bound on the test set's noise, not a test (for the
    paired test: perf/select_mcnemar.sh)."""
    with open(os.path.join(d, f"{name}-s{s}-test.csv")) as f:
        n = sum(1 for l in f if l.strip())
    se = ((pick * (1 - pick) + top * (1 - top)) / n) ** 0.5
    return f"{round((top - pick) * n)} of {n} test rows, {(top - pick) / se:.1f} unpaired s.e."


def occam_report(a, kind, ini, args):
    """`occam KIND` (train or select) on the config text ini with args (and --seed's
    train.seed): (its --report as JSON, None), or (None, [occam's last line]) when it failed."""
    with tempfile.TemporaryDirectory() as t:
        c, r = os.path.join(t, "c.ini"), os.path.join(t, "r.json")
        with open(c, "w") as f:
            f.write(ini)
        cmd = [a.occam, kind, c] + args + ["--report", r]
        if a.seed is not None:  # another draw of the initial weights and the batch order
            cmd += ["--set", f"train.seed={a.seed}"]
        p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if p.returncode != 0 or not os.path.exists(r):
            return None, p.stderr.strip().splitlines()[-1:] or ["failed"]
        return json.load(open(r)), None


def run(job):
    """One training (or selection): returns (key, value or None, message)."""
    a, key, ini, args, task, kind, maj = job
    rep, msg = occam_report(a, kind, ini, args)
    if rep is None:
        return key, None, msg
    if kind == "train":
        if key[2] in NOISY:
            BITS[key] = (rep["mdl"]["total_bits"],
                         sum(l["overhead_bits"] for l in rep["mdl"]["layers"]),
                         collapsed(rep, task, maj))
        return key, rep["test"][metric(task)], None
    pts = rep["points"]
    return key, (pts[rep["best"]]["test"], [p["test"] if p["status"] == "done" else None
                                            for p in pts], pts[rep["best"]]["set"]), None


def vs_none(x):
    """A relative error's fall below no regularisation, x, in words (a negative "below" read as
    above)."""
    if x != x:  # a failed run
        return "no comparison with none (a run failed)"
    return f"{100 * x:.1f}% below none" if x >= 0 else f"{-100 * x:.1f}% above none"


def meets(rec, v):
    """Whether test result v is within the target of the set's best decay in hindsight: a
    relative error at most 5% above it, or an accuracy at most 2 points below it."""
    if rec["task"] == "regress":
        return v / rec["best_decay"] - 1 <= 0.05  # False for NaN
    return rec["best_decay"] - v <= 0.02


def fixed_decays(recs):
    """The targets' reference: how often one decay of the grid, fixed in advance for every set
    (what a user without a validation set would have to do), meets the target that the default
    noisy net is held to, beside the default's own count. The best decay in hindsight is the
    best of six readings of a noisy test error, so even the grid's own members miss it."""
    lines = []
    for task, what in (("regress", "regression sets within 5%"),
                       ("classify", "classification sets within 2 points")):
        rs = [r for r in recs if r["task"] == task]
        if not rs:
            continue
        per = [f"decay {w}: {sum(meets(r, r['decays'][str(w)]) for r in rs)}" for w in GRID]
        lines.append(f"{what} of the best decay, of {len(rs)}: default noisy "
                     f"{sum(meets(r, r['gaussian']) for r in rs)}; a decay fixed in advance: "
                     + ", ".join(per))
        if task == "regress":  # the target's other half
            below = lambda v, r: 1 - v / r["none"] >= 0.20  # False for NaN
            per = [f"decay {w}: {sum(below(r['decays'][str(w)], r) for r in rs)}"
                   for w in GRID[1:]]
            lines.append(f"regression sets at least 20% below none, of {len(rs)}: default noisy "
                         f"{sum(below(r['gaussian'], r) for r in rs)}; the best decay in "
                         f"hindsight {sum(below(r['best_decay'], r) for r in rs)}; a decay "
                         "fixed in advance: " + ", ".join(per))
    # select's target, split by split: within 10% in test error of the best of the grid it
    # searches (the six decays and the noisy net: weight decay does not apply to noisy weights)
    picks = {"default noisy": "gaussian", **{f"decay {w}": str(w) for w in GRID}}
    counts, n = {k: 0 for k in picks}, 0
    for r in recs:
        if "splits" not in r:
            return "\n".join(lines)  # a JSON file from before the splits were recorded
        err = (lambda v: v) if r["task"] == "regress" else (lambda v: 1 - v)
        for i in range(len(r["splits"]["gaussian"])):
            vals = {k: r["splits"][c][i] for k, c in picks.items()}
            ok = [v for v in vals.values() if v is not None]
            if not ok:
                continue
            n += 1
            top = min(err(v) for v in ok)
            for k, v in vals.items():
                if v is not None and (err(v) <= top if top == 0 else err(v) / top - 1 <= 0.10):
                    counts[k] += 1
    lines.append(f"splits within 10% in test error of the best of the six decays and the default "
                 f"noisy net, of {n}: " + ", ".join(f"{k} {c}" for k, c in counts.items()))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("datadir")
    ap.add_argument("--occam", default="build/occam")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--epochs", type=int, default=300)
    ap.add_argument("--optimizer", default="sgd")
    ap.add_argument("--lr", default="0.001")
    ap.add_argument("--hidden", type=int, default=50)
    ap.add_argument("--splits", type=int, default=3)
    ap.add_argument("--sets", default="")
    ap.add_argument("--select", action="store_true")
    ap.add_argument("--select-grid", action="append", default=[],
                    help="one more --grid axis for occam select (repeatable); {in} and {out} "
                         "stand for the set's input and output widths, as in "
                         "model.layers={in}:5:{out},{in}:50:{out}")
    ap.add_argument("--seed", type=int,
                    help="train.seed for every run (default: the config's, 1): the same splits "
                         "with other initial weights and batch orders")
    ap.add_argument("--json")
    a = ap.parse_args()
    sets = [l.split() for l in open(os.path.join(a.datadir, "sets.txt")) if l.strip()]
    if a.sets:
        keep = a.sets.split(",")
        unknown = [k for k in keep if k not in {x[0] for x in sets}]
        if unknown:  # a typo ran nothing and said "every target met"
            sys.exit(f"--sets: {', '.join(unknown)} not in {a.datadir}/sets.txt (it has "
                     f"{', '.join(x[0] for x in sets)})")
        sets = [s for s in sets if s[0] in keep]
    missing = [f"{n}-s{s}-{part}.csv" for n, *_ in sets for s in range(a.splits)
               for part in ("train", "test")
               if not os.path.exists(os.path.join(a.datadir, f"{n}-s{s}-{part}.csv"))]
    if missing:  # a traceback, or failed runs, half-way through
        sys.exit(f"{a.datadir}: no {missing[0]}"
                 + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
                 + f": write the splits first, or lower --splits ({a.splits})")
    jobs = []
    for name, task, feat, outs in sets:
        for s in range(a.splits):
            ini = config(a, a.datadir, name, s, task, feat, outs)
            maj = 0.0
            if task == "classify":
                with open(os.path.join(a.datadir, f"{name}-s{s}-train.csv")) as f:
                    ys = [l.rsplit(",", 1)[1].strip() for l in f if l.strip()]
                maj = max(ys.count(v) for v in set(ys)) / len(ys)
            for kind, w, args in COLS:
                if kind in NOISY:  # the bits-back code, to judge collapses by
                    args = args + ["--set", "mdl.model_code=bits-back"]
                jobs.append((a, (name, s, kind, w), ini, args, task, "train", maj))
            if a.select:
                jobs.append((a, (name, s, "select", None), ini,
                             ["--grid", "train.weight_decay=" + ",".join(map(str, GRID)),
                              "--grid", "noise.enabled=false,true"]
                             + [x for g in a.select_grid
                                for x in ("--grid", g.replace("{in}", str(feat))
                                          .replace("{out}", str(outs)))],
                             task, "select", maj))
    res, failed = {}, []
    with cf.ThreadPoolExecutor(a.jobs) as ex:
        for key, val, msg in ex.map(run, jobs):
            res[key] = val
            if val is None:
                failed.append(f"{key}: {' '.join(msg)}")
                print(f"failed: {key}: {msg}", file=sys.stderr)
    judge_collapses(sets, a.splits)
    mean = lambda v: sum(v) / len(v) if v and None not in v else float("nan")
    print(f"recipe: {a.optimizer} lr {a.lr}{' momentum 0.9' if a.optimizer == 'sgd' else ''}, "
          f"batch 16, {a.epochs} epochs, 1 hidden layer of {a.hidden}, {a.splits} splits"
          + (f", train.seed {a.seed}" if a.seed is not None else "") + "\n")
    print("| set | none | best decay (grid) | noisy, default (gaussian, one width) | "
          "noisy, gaussian per layer | noisy, mog |" + (" select |" if a.select else ""))
    print("|---|---|---|---|---|---|" + ("---|" if a.select else ""))
    out, fails = [], []
    for name, task, feat, outs in sets:
        reg = task == "regress"
        m = {}
        for kind, w, _ in COLS:
            m[(kind, w)] = mean([res[(name, s, kind, w)] for s in range(a.splits)])
        wd = {w: m[("wd", w)] for w in GRID}
        ok_w = [w for w in GRID if wd[w] == wd[w]] or GRID  # NaN (a failed run) never wins
        bw = (min if reg else max)(ok_w, key=lambda w: wd[w])
        none, best, g, mg = wd[0], wd[bw], m[("gaussian", None)], m[("mog", None)]
        lay = m[("layer", None)]
        row = f"| {name} ({'rel. error' if reg else 'accuracy'}) | {none:.4f} | {best:.4f} " \
              f"({bw}) | {g:.4f} | {lay:.4f} | {mg:.4f} |"
        rec = {"set": name, "task": task, "none": none, "best_decay": best, "best_w": bw,
               "gaussian": g, "layer": lay, "mog": mg, "decays": {str(w): wd[w] for w in GRID},
               "splits": {k: [res[(name, s, kind, w)] for s in range(a.splits)]
                          for kind, w, _ in COLS
                          for k in [str(w) if kind == "wd" else kind]},
               "bits": {k: [BITS[(name, s, k, None)][0] if (name, s, k, None) in BITS else None
                            for s in range(a.splits)] for k in NOISY}}
        if reg:
            rec["vs_best"] = g / best - 1
            rec["below_none"] = 1 - g / none
            rec["best_below_none"] = 1 - best / none
            ok = rec["vs_best"] <= 0.05  # False for NaN
            fails += [] if ok else [f"{name}: {100 * rec['vs_best']:+.1f}% against the best decay"]
            if not rec["below_none"] >= 0.20:
                fails.append(f"{name}: {vs_none(rec['below_none'])}, not 20% below (the best "
                             f"decay: {vs_none(rec['best_below_none'])})")
        else:
            rec["vs_best"] = best - g
            if not rec["vs_best"] <= 0.02:
                fails.append(f"{name}: {100 * rec['vs_best']:.1f} points below the best decay")
        if a.select:
            ch, gb, worst, picked = [], [], 0.0, []
            for s in range(a.splits):
                v = res[(name, s, "select", None)]
                if v is None:
                    ch.append(None)  # listed under the failed runs
                    picked.append(None)
                    continue
                pick, tests, point = v
                picked.append(point)
                top = (min if reg else max)(t for t in tests if t is not None)
                ch.append(pick)
                gb.append(top)
                # the gap in test error (classification: the error rate 1 - accuracy)
                if reg:
                    gap = pick / top - 1
                else:
                    gap = 0.0 if pick >= top else \
                        float("inf") if top >= 1.0 else (1 - pick) / (1 - top) - 1
                worst = max(worst, gap)
                if gap > 0.10:
                    rows = "" if reg else f"; {test_rows(a.datadir, name, s, pick, top)}"
                    fails.append(f"{name} split {s}: select picked {pick:.4f}, the grid's best "
                                 f"is {top:.4f} ({100 * gap:+.1f}% test error{rows})")
            rec["select"], rec["select_worst_gap"] = mean(ch), worst
            rec["select_splits"], rec["select_picked"] = ch, picked  # what select chose
            row += f" {mean(ch):.4f} (worst split {100 * worst:+.1f}%) |"
        print(row)
        out.append(rec)
    print()
    for name_rec in out:
        r = name_rec
        if r["task"] == "regress":
            print(f"{r['set']}: default noisy {100 * r['vs_best']:+.1f}% against the best decay, "
                  f"{vs_none(r['below_none'])} (best decay {vs_none(r['best_below_none'])})")
        else:
            print(f"{r['set']}: default noisy {100 * -r['vs_best']:+.1f} points against the best "
                  "decay")
    print("\n" + fixed_decays(out))
    for f in failed:
        fails.append("run failed: " + f)
    fails += [c for c in COLLAPSED if "OPTIMISATION FAILURE" in c]
    print(f"\nnoisy runs collapsed to the mean or one class: {len(COLLAPSED)}")
    for c in COLLAPSED:
        print("  " + c)
    print("\nshort of the targets:" if fails else "\nevery target met")
    for f in fails:
        print("  " + f)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
