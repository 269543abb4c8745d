#!/usr/bin/python3
"""Lets the description length choose between two versions of the same sets: for example the
inputs standardised (perf/realdata.py's files) against the same inputs whitened
(perf/whiten.py). Both JSON files come from perf/realdata_table.py --json with the same recipe
and seed; the targets and labels are the same, so the two codes of the targets are comparable.

Usage: perf/realdata_pick.py A.json B.json [A2.json B2.json ...]   (pairs: round by round)
For each split, the default noisy net of A or of B, whichever codes its training targets in
fewer bits-back bits, is "the pick". Prints per set the mean test figure of A's net, B's net and
the pick; how often the shorter code is also the one that tests better; and the acceptance
counts of issue 13 (regression within 5% of A's best decay, classes within 2 points, each split
within 10% of the best of A's decays and A's default) for A's net, B's net and the pick."""
import json, os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from realdata_table import meets  # noqa: E402


def load(paths):
    return {r["set"]: r for p in paths for r in json.load(open(p))}


def main():
    if len(sys.argv) < 3 or len(sys.argv) % 2 == 0:
        sys.exit(__doc__.split("\n\n")[1])
    a, b = load(sys.argv[1::2]), load(sys.argv[2::2])
    agree = disagree = ties = 0
    cnt = {"reg": [0] * 4, "cls": [0] * 4, "split": [0] * 4}  # A, B, the pick, of
    moved = []
    print("| set | A | B | pick (splits from B) | A's best decay |")
    print("|---|---|---|---|---|")
    for name, ra in a.items():
        rb = b.get(name)
        if rb is None:
            continue
        cls = ra["task"] == "classify"
        err = (lambda v: 1 - v) if cls else (lambda v: v)
        ta, tb = ra["splits"]["gaussian"], rb["splits"]["gaussian"]
        ba, bb = ra.get("bits", {}).get("gaussian"), rb.get("bits", {}).get("gaussian")
        if ba is None or bb is None or None in ta + tb + ba + bb:
            print(f"{name}: left out: a failed run, or a JSON without bits (from before "
                  "realdata_table.py kept them)", file=sys.stderr)
            continue
        pick, fromb = [], 0
        for s in range(len(ta)):
            use_b = bb[s] < ba[s]
            pick.append(tb[s] if use_b else ta[s])
            fromb += use_b
            if ta[s] == tb[s]:
                ties += 1
            elif (err(tb[s]) < err(ta[s])) == use_b:
                agree += 1
            else:
                disagree += 1
            grid = [err(v[s]) for k, v in ra["splits"].items() if k not in ("layer", "mog")]
            best = min(grid)
            for i, v in enumerate((ta[s], tb[s], pick[-1])):
                cnt["split"][i] += err(v) <= 1.1 * best
            cnt["split"][3] += 1
        ma, mb, mp = (sum(v) / len(v) for v in (ta, tb, pick))
        bd = ra["best_decay"]
        c = cnt["cls" if cls else "reg"]
        for i, v in enumerate((ma, mb, mp)):
            c[i] += meets(ra, v)
        c[3] += 1
        if meets(ra, ma) != meets(ra, mp):
            moved.append(f"{name} {'gained' if meets(ra, mp) else 'lost'}")
        print(f"| {name} ({'accuracy' if cls else 'rel. error'}) | {ma:.4f} | {mb:.4f} | "
              f"{mp:.4f} ({fromb}) | {bd:.4f} |")
    print(f"\nsplits where A and B test differently: the shorter code tests better on {agree}, "
          f"worse on {disagree} ({ties} ties)")
    for key, what in (("reg", "regression sets within 5% of A's best decay"),
                      ("cls", "classification sets within 2 points of it"),
                      ("split", "splits within 10% of the best of A's decays and A's default")):
        a_, b_, p_, of = cnt[key]
        print(f"{what}, of {of}: A {a_}, B {b_}, the pick {p_}")
    if moved:
        print("sets that change: " + ", ".join(moved))


if __name__ == "__main__":
    main()
