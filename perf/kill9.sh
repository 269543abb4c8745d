#!/usr/bin/env bash
# Crash safety of checkpoints: N times (default 25), start (or resume) a training run that writes
# its full state every epoch, kill -9 it at a random moment, then check that the newest
# checkpoint in the folder loads (`occam eval --checkpoint`: header, JSON, shapes, CRC) and
# resumes (`occam train --resume`, stopped again at once by the next kill). Prints one line per
# round and a summary; exits 1 if any newest checkpoint fails to load.
#
#   perf/kill9.sh [ROUNDS] [CONFIG]        (EPOCHS=N: the runs' train.epochs, default 10000)
set -uo pipefail
cd "$(dirname "$0")/.."
make -s build/occam
rounds=${1:-25}
config=${2:-configs/default.ini}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sets="--set train.epochs=${EPOCHS:-10000} --set train.checkpoint_every=1 --set train.checkpoint_keep=2 --set train.checkpoint_dir=$dir/ckpt"
fail=0 loaded=0 none=0
for ((i = 1; i <= rounds; i++)); do
  newest=$(ls "$dir"/ckpt/ckpt-*.safetensors 2>/dev/null | sort -t s -k 2 | tail -n 1)
  resume=${newest:+--resume $newest}
  build/occam train "$config" $sets $resume >"$dir/log" 2>&1 &
  pid=$!
  # 0.3 to 3.3 s: some kills land in data loading, some in a step, some in a checkpoint write
  sleep "$(awk -v s=$RANDOM 'BEGIN { srand(s); printf "%.3f", 0.3 + 3 * rand() }')"
  kill -9 $pid 2>/dev/null
  wait $pid 2>/dev/null
  newest=$(ls "$dir"/ckpt/ckpt-*.safetensors 2>/dev/null | sort -t s -k 2 | tail -n 1)
  tmp=$(ls "$dir"/ckpt/ 2>/dev/null | grep -c '\.tmp\.' || true)
  if [ -z "$newest" ]; then
    none=$((none + 1)); echo "round $i: no checkpoint yet"; continue
  fi
  if out=$(build/occam eval "$config" --checkpoint "$newest" 2>&1); then
    loaded=$((loaded + 1))
    echo "round $i: $(basename "$newest") loads ($(echo "$out" | grep -o 'accuracy [0-9.]*' | head -n 1)); stray temporary files: $tmp"
  else
    fail=$((fail + 1))
    echo "round $i: $(basename "$newest") FAILS TO LOAD: $out"
  fi
done
echo "kill -9 rounds: $rounds, newest checkpoint loaded: $loaded, failed: $fail, none yet: $none"
[ "$fail" -eq 0 ]
