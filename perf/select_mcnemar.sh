#!/usr/bin/env bash
# Paired test of an `occam select` miss on a classification split: trains the point select
# chose and the grid's best point in hindsight (issue 13's grid, weight decay x noise, and the
# recipe of perf/realdata_table.py), predicts the test rows with both, and prints McNemar's
# count of the rows only one of them gets right, z and the exact two-sided p. Both nets are
# scored on the same rows, so this, not the unpaired binomial error, says whether a gap is noise.
#
#   perf/select_mcnemar.sh DATADIR NAME:SPLIT...   e.g. perf/select_mcnemar.sh /tmp/rdn cancer:1
# (DATADIR as written by perf/realdata.py; OCCAM=path overrides build/occam)
set -euo pipefail
cd "$(dirname "$0")/.."
d=$1; shift
B=${OCCAM:-build/occam}
[ -n "${OCCAM:-}" ] || make -s build/occam
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
for c in "$@"; do
  n=${c%%:*}; s=${c##*:}
  read -r task f o < <(awk -v n="$n" '$1 == n {print $2, $3, $4}' "$d/sets.txt")
  [ "$task" = classify ] || { echo "$n: not a classification set" >&2; exit 2; }
  cat > "$t/c.ini" <<INI
[data]
source = csv
train = $d/$n-s$s-train.csv
test = $d/$n-s$s-test.csv
task = classify
normalize = standardize
[model]
layers = $f,50,$o
[train]
epochs = 300
batch = 16
optimizer = sgd
lr = 0.001
momentum = 0.9
[runtime]
threads = 1
INI
  "$B" select "$t/c.ini" --grid train.weight_decay=0,0.001,0.01,0.1,1,3 \
    --grid noise.enabled=false,true --report "$t/r.json" > /dev/null 2>&1
  cut -d, -f1-"$f" "$d/$n-s$s-test.csv" > "$t/x.csv"
  for k in best top; do
    mapfile -t sets < <(/usr/bin/python3 - "$t/r.json" "$k" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); p = r["points"]
i = r["best"] if sys.argv[2] == "best" else max(
    (j for j in range(len(p)) if p[j]["test"] is not None), key=lambda j: p[j]["test"])
for a, v in p[i]["set"].items():
    print("--set"); print(f"{a}={str(v).lower() if isinstance(v, bool) else v}")
PY
)
    "$B" train "$t/c.ini" "${sets[@]}" --save "$t/$k.st" > /dev/null 2>&1
    "$B" predict "$t/c.ini" "${sets[@]}" --checkpoint "$t/$k.st" --input "$t/x.csv" \
      --output "$t/$k.csv" 2> /dev/null
  done
  /usr/bin/python3 - "$n:$s" "$d/$n-s$s-test.csv" "$t/best.csv" "$t/top.csv" <<'PY'
import csv, sys
from math import comb, sqrt
lab = [int(float(r[-1])) for r in csv.reader(open(sys.argv[2])) if r]
pred = [[int(r[0]) for r in list(csv.reader(open(f)))[1:]] for f in sys.argv[3:5]]
cb = [a == y for a, y in zip(pred[0], lab)]; ct = [a == y for a, y in zip(pred[1], lab)]
n01 = sum(a and not b for a, b in zip(cb, ct)); n10 = sum(b and not a for a, b in zip(cb, ct))
m, k = n01 + n10, min(n01, n10)
p = min(1.0, 2 * sum(comb(m, i) for i in range(k + 1)) / 2 ** m) if m else 1.0
z = (n10 - n01) / sqrt(m) if m else 0.0
print(f"{sys.argv[1]}: chosen {sum(cb) / len(lab):.4f}, grid's best {sum(ct) / len(lab):.4f}; "
      f"{m} rows differ: only the chosen right {n01}, only the best right {n10}; "
      f"z {z:.2f}, exact p {p:.3f}")
PY
done
