#!/usr/bin/env bash
# Issue 6, acceptance 1: train 4 epochs straight; separately train the same config, stop it with
# SIGINT once epoch 2 is done (it finishes the step it is in, saves, exits 130), and resume it to
# the end. The saved weights files must be byte-identical, and so must the test accuracies.
#
#   perf/resume_check.sh [CONFIG] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build/occam
config=${1:-configs/default.ini}
threads=${2:-2}
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
common=(--threads "$threads" --set train.epochs=4 --set train.checkpoint_dir="$d/ckpt")

build/occam train "$config" "${common[@]}" --save "$d/straight.safetensors" >"$d/straight.out" 2>"$d/straight.err"

build/occam train "$config" "${common[@]}" --save "$d/resumed.safetensors" >"$d/first.out" 2>"$d/first.err" &
pid=$!
until grep -q '^epoch 2/4' "$d/first.err" 2>/dev/null; do
  kill -0 $pid 2>/dev/null || { echo "the run ended before epoch 2" >&2; exit 1; }
  sleep 0.01
done
kill -INT $pid
set +e; wait $pid; status=$?; set -e
echo "interrupted run: exit $status"
grep '^occam: stopped' "$d/first.err"
state=$(sed -n 's/^occam: continue with: .* --resume //p' "$d/first.err")
build/occam train "$config" "${common[@]}" --resume "$state" --save "$d/resumed.safetensors" >"$d/resumed.out" 2>"$d/resumed.err"
grep '^occam: resuming' "$d/resumed.err"

echo "straight: $(grep '^test .*accuracy' "$d/straight.out")"
echo "resumed:  $(grep '^test .*accuracy' "$d/resumed.out")"
if cmp "$d/straight.safetensors" "$d/resumed.safetensors"; then
  echo "weights: byte-identical ($(stat -c %s "$d/straight.safetensors") bytes, sha256 $(sha256sum <"$d/straight.safetensors" | cut -c1-16))"
else
  echo "weights: DIFFER"; exit 1
fi
[ "$(grep '^test .*accuracy' "$d/straight.out")" = "$(grep '^test .*accuracy' "$d/resumed.out")" ] && echo "test accuracy: identical"
