#!/usr/bin/env bash
# Issue 5, acceptance 5: computing the description length of LeNet-300-100 on the full training
# set (prior fits, δ search, data code: `occam mdl`'s "seconds") against one training epoch
# (`occam bench train`'s median epoch), both on THREADS threads, interleaved ROUNDS times.
# Trains the two models it needs unless given: a dense one (configs/default.ini) and the
# 95%-sparse one (configs/prune_iterative.ini).
#
#   perf/dl_time.sh [DENSE.safetensors] [PRUNED.safetensors]    (THREADS=2, ROUNDS=5)
set -euo pipefail
cd "$(dirname "$0")/.."
. perf/lib.sh
threads=${THREADS:-2}
rounds=${ROUNDS:-5}
perf_count THREADS "$threads"
perf_count ROUNDS "$rounds"
for f in "${1:-}" "${2:-}"; do
  [ -z "$f" ] || [ -r "$f" ] || { echo "$(basename "$0"): cannot read $f" >&2; exit 2; }
done
make -s build/occam
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
dense=${1:-}
pruned=${2:-}
if [ -z "$dense" ]; then
  dense=$d/dense.safetensors
  build/occam train configs/default.ini --threads "$threads" --save "$dense" >"$d/train.log" 2>&1 ||
    { tail -n 3 "$d/train.log" >&2; exit 1; }
fi
if [ -z "$pruned" ]; then
  pruned=$d/p95.safetensors
  build/occam train configs/prune_iterative.ini --threads "$threads" --set prune.score_events=false \
    --save "$pruned" >"$d/train.log" 2>&1 || { tail -n 3 "$d/train.log" >&2; exit 1; }
fi
dl() { # config checkpoint -> "seconds data_seconds total_bits"
  build/occam mdl "$1" --checkpoint "$2" --threads "$threads" --json |
    /usr/bin/python3 -c "import json,sys; m=json.load(sys.stdin)['mdl']; print('%.3f %.3f %.0f' % (m['seconds'], m['data_seconds'], m['total_bits']))"
}
printf '%-6s %10s | %-28s | %-28s\n' round epoch_s "dense: dl_s data_s bits" "95% sparse: dl_s data_s bits"
for ((i = 1; i <= rounds; i++)); do
  e=$(build/occam bench train configs/default.ini --threads "$threads" --set train.epochs=3 |
      /usr/bin/python3 -c "import json,sys; print('%.3f' % json.load(sys.stdin)['seconds'])")
  a=$(dl configs/default.ini "$dense") # a failed mdl stops the run here (set -e)
  b=$(dl configs/prune_iterative.ini "$pruned")
  printf '%-6s %10s | %-28s | %-28s\n' "$i" "$e" "$a" "$b"
done
