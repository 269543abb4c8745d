#!/usr/bin/env bash
# Hinton & van Camp (1993), Table 1, on the synthetic peptide-shaped task (configs/hinton93.ini):
# relative test error and description length for
#   1. no regularisation,
#   2. weight decay, its coefficient chosen on a validation split (the last 21 of the 105
#      training cases held out: data.holdout), then retrained on all 105,
#   3. noisy weights with a mixture prior (soft weight sharing), description length bits-back:
#      the default (one mixture for the network, the zero component as wide as EM fits it), and
#      the compression prior (a mixture per layer, the zero component capped at a tenth of the
#      weights' spread from the first epoch: noise.prior_scope = layer, noise.zero_cap = 0.1).
# The paper reported 0.967, 0.291 and 0.286 on its real peptide data.
#
#   perf/hinton93.sh
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build/occam
C=configs/hinton93.ini
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
field() { /usr/bin/python3 -c "
import json,sys; j=json.load(open(sys.argv[1]))
v=j
for k in sys.argv[2].split('.'): v=v[k]
print(v)" "$1" "$2"; }

build/occam train $C --report $out/none.json >/dev/null 2>&1
best=""; best_err=1e9
for wd in 0.001 0.003 0.01 0.03 0.1 0.3 1 3 10; do
  build/occam train $C --set data.holdout=21 --set train.weight_decay=$wd --report $out/v.json >/dev/null 2>&1
  e=$(field $out/v.json test.relative_error)
  echo "weight decay $wd: validation relative error $e" >&2
  if /usr/bin/python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < float(sys.argv[2]) else 1)" "$e" "$best_err"; then
    best=$wd; best_err=$e
  fi
done
build/occam train $C --set train.weight_decay=$best --report $out/wd.json >/dev/null 2>&1
build/occam train $C --set noise.enabled=true --set mdl.model_code=bits-back --report $out/noisy.json >/dev/null 2>&1
build/occam train $C --set noise.enabled=true --set mdl.model_code=bits-back --set noise.prior_scope=layer \
  --set noise.zero_cap=0.1 --report $out/capped.json >/dev/null 2>&1

printf '\n%-44s %15s %20s\n' "method" "rel. test error" "description (bits)"
printf '%-44s %15.3f %20.0f\n' "no regularisation (two-part code)" "$(field $out/none.json test.relative_error)" "$(field $out/none.json mdl.total_bits)"
printf '%-44s %15.3f %20.0f\n' "weight decay $best (two-part code)" "$(field $out/wd.json test.relative_error)" "$(field $out/wd.json mdl.total_bits)"
printf '%-44s %15.3f %20.0f\n' "noisy weights, mixture prior (bits-back)" "$(field $out/noisy.json test.relative_error)" "$(field $out/noisy.json mdl.total_bits)"
printf '%-44s %15.3f %20.0f\n' "  the same, zero component capped, per layer" "$(field $out/capped.json test.relative_error)" "$(field $out/capped.json mdl.total_bits)"
echo "(paper, real peptide data: 0.967, 0.291, 0.286)"
