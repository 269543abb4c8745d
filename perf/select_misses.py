#!/usr/bin/env python3
"""Item 4's misses, point by point: for every split a realdata_table.py --select run lists as
missed ("NAME split S: select picked ..."), runs `occam select` again on that split (the same
recipe and grid, --seed's train.seed) and prints the picked point's description length beside
that of the point that tested best, with their model and data bits: how far from a tie each
miss was.

  perf/select_misses.py [--occam build/occam] [--seed 1] DIR:TABLE.md [DIR:TABLE.md ...]

DIR is the folder a round's script wrote (with its sets.txt), TABLE.md the table's output.
Example: perf/select_misses.py /tmp/rd12:/tmp/rd12_s1.md"""
import argparse, json, os, re, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import realdata_table as rt  # noqa


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pairs", nargs="+", help="DIR:TABLE.md")
    ap.add_argument("--occam", default="build/occam")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    a.hidden, a.epochs, a.optimizer, a.lr = 50, 300, "sgd", "0.001"
    for pair in a.pairs:
        d, md = pair.split(":", 1)
        sets = {l.split()[0]: l.split() for l in open(os.path.join(d, "sets.txt")) if l.strip()}
        for line in open(md):
            m = re.search(r"^\s*(\S+) split (\d+): select picked", line)
            if not m:
                continue
            name, s = m.group(1), int(m.group(2))
            _, task, feat, outs = sets[name][:4]
            with tempfile.TemporaryDirectory() as t:
                c, r = os.path.join(t, "c.ini"), os.path.join(t, "r.json")
                with open(c, "w") as f:
                    f.write(rt.config(a, d, name, s, task, feat, outs))
                p = subprocess.run([a.occam, "select", c, "--grid", "train.weight_decay="
                                    + ",".join(map(str, rt.GRID)), "--grid",
                                    "noise.enabled=false,true", "--report", r, "--set",
                                    f"train.seed={a.seed}"], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, text=True)
                if p.returncode:
                    print(f"{name} split {s}: select failed: {p.stderr.strip()[-200:]}")
                    continue
                rep = json.load(open(r))
            pts = [q for q in rep["points"] if q["status"] == "done"]
            err = (lambda q: q["test"]) if task == "regress" else (lambda q: 1 - q["test"])
            pick, top = rep["points"][rep["best"]], min(pts, key=err)
            print(f"{name} split {s}: picked {pick['set']} L {pick['total_bits']:.0f} (model "
                  f"{pick['model_bits']:.0f}, data {pick['data_bits']:.0f}), test "
                  f"{pick['test']:.4f}; best-testing {top['set']} L {top['total_bits']:.0f} "
                  f"(model {top['model_bits']:.0f}, data {top['data_bits']:.0f}), test "
                  f"{top['test']:.4f}: its code {100 * (top['total_bits'] / pick['total_bits'] - 1):+.0f}%")


if __name__ == "__main__":
    main()
