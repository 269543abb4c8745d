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
make -s build/occam
threads=${THREADS:-2}
rounds=${ROUNDS:-5}
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
dense=${1:-}
pruned=${2:-}
if [ -z "$dense" ]; then
  dense=$d/dense.safetensors
  build/occam train configs/default.ini --threads "$threads" --save "$dense" >/dev/null 2>&1
fi
if [ -z "$pruned" ]; then
  pruned=$d/p95.safetensors
  build/occam train configs/prune_iterative.ini --threads "$threads" --set prune.score_events=false \
    --save "$pruned" >/dev/null 2>&1
fi
dl() { # config checkpoint -> "seconds data_seconds total_bits"
  build/occam mdl "$1" --checkpoint "$2" --threads "$threads" --json |
    /usr/bin/python3 -c "import json,sys; m=json.load(sys.stdin)['mdl']; print('%.3f %.3f %.0f' % (m['seconds'], m['data_seconds'], m['total_bits']))"
}
printf '%-6s %10s | %-28s | %-28s\n' round epoch_s "dense: dl_s data_s bits" "95% sparse: dl_s data_s bits"
for ((i = 1; i <= rounds; i++)); do
  e=$(build/occam bench train configs/default.ini --threads "$threads" --set train.epochs=3 |
      /usr/bin/python3 -c "import json,sys; print('%.3f' % json.load(sys.stdin)['seconds'])")
  printf '%-6s %10s | %-28s | %-28s\n' "$i" "$e" "$(dl configs/default.ini "$dense")" \
    "$(dl configs/prune_iterative.ini "$pruned")"
done
