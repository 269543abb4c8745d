#!/usr/bin/env bash
# Issue 11, acceptance 1: a refactor changes no number. Trains four configs at 2 threads, saves
# the weights, and prints one line per config: the sha256 of the weights file and of its tensor
# bytes alone (unchanged by a header or checksum format change), the bit counts of
# `occam mdl --json` on it (model, data, total; printed with 17 significant digits, so any change
# in the last bit shows) and, for the two-part configs, the sha256 of the `occam compress` .occ
# file. Run it with the old and the new build and compare the output.
#
#   perf/same_numbers.sh [OCCAM_BINARY] > manifest.txt
#   perf/same_numbers.sh --check manifest.txt [OCCAM_BINARY]   (exit 1 on any difference)
set -euo pipefail
cd "$(dirname "$0")/.."
check=""
if [ "${1:-}" = "--check" ]; then check=$2; shift 2; fi
bin=${1:-build/occam}
[ "$bin" = build/occam ] && make -s build/occam
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT

run() { # name config [--set ...]...
  local name=$1 config=$2; shift 2
  "$bin" train "$config" --threads 2 "$@" --save "$d/$name.safetensors" >"$d/$name.out" 2>&1 ||
    { echo "$name: train failed" >&2; tail -n 5 "$d/$name.out" >&2; exit 1; }
  "$bin" mdl "$config" --threads 2 "$@" --checkpoint "$d/$name.safetensors" --json >"$d/$name.json" ||
    { echo "$name: mdl failed" >&2; exit 1; }
  occ=""
  if [ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["mdl"]["model_code"])' "$d/$name.json")" = two-part ]; then
    "$bin" compress "$config" --threads 2 "$@" --checkpoint "$d/$name.safetensors" --out "$d/$name.occ" >/dev/null ||
      { echo "$name: compress failed" >&2; exit 1; }
    occ=$d/$name.occ
  fi
  python3 - "$name" "$d/$name.safetensors" "$d/$name.json" "$occ" <<'EOF'
import hashlib, json, sys
name, weights, report, occ = sys.argv[1:]
m = json.load(open(report))["mdl"]
sha = lambda f: hashlib.sha256(open(f, "rb").read()).hexdigest()
# The tensor bytes alone (after the 8-byte length and the header): what the weights are, apart
# from how the file's header is written.
raw = open(weights, "rb").read()
tensors = hashlib.sha256(raw[8 + int.from_bytes(raw[:8], "little"):]).hexdigest()
line = (f"{name} sha256={sha(weights)} tensors_sha256={tensors} model_bits={m['model_bits']:.17g} "
        f"data_bits={m['data_bits']:.17g} total_bits={m['total_bits']:.17g}")
print(line + (f" occ_sha256={sha(occ)}" if occ else ""))
EOF
}

{
  run default configs/default.ini --set train.epochs=3
  run prune_iterative configs/prune_iterative.ini
  run mdl_noisy configs/mdl_noisy.ini --set train.epochs=2
  run blobs configs/blobs.ini
} >"$d/manifest"
cat "$d/manifest"
if [ -n "$check" ]; then
  if diff -u "$check" "$d/manifest" >&2; then echo "same_numbers: identical to $check"
  else echo "same_numbers: DIFFERENT from $check" >&2; exit 1; fi
fi
