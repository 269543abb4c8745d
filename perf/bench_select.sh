#!/usr/bin/env bash
# Selection benchmark: occam's exact parallel k-smallest against numpy.partition.
#
# 1. occam bench select on N generated scores |x| (x standard normal, seed 1), dumping them
#    as raw float32;
# 2. occam bench select again, reading that file (--input), so both sides see the same bits;
# 3. perf/select_peer.py (numpy.partition) on the same file;
# 4. the LeNet-300-100-sized case (266,200 scores in 3 segments): select + mask update.
# Prints occam's and numpy's median seconds, the speedup and whether the k-th values are
# bit-identical (exit status 1 if they are not).
#
#   perf/bench_select.sh                       # N = 10^8, 2 threads
#   N=10000000 THREADS=1 perf/bench_select.sh
#   REPEATS=21 PEER_REPEATS=3 perf/bench_select.sh  # timed runs per side (medians)
#   OCCAM=/path/to/occam perf/bench_select.sh  # use that binary instead of building
set -euo pipefail
cd "$(dirname "$0")/.."
. perf/lib.sh
N=${N:-100000000}
THREADS=${THREADS:-2}
REPEATS=${REPEATS:-11}
PEER_REPEATS=${PEER_REPEATS:-5}
for v in N THREADS REPEATS PEER_REPEATS; do perf_count "$v" "${!v}"; done
if [ -z "${OCCAM:-}" ]; then
  make -s build/occam
  OCCAM=build/occam
fi
PY=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dump="$tmp/scores.f32"

need_kb=$(( N * 4 / 1024 + 1024 ))
free_kb=$(df -Pk "$tmp" | awk 'NR == 2 {print $4}')
if [ "$free_kb" -lt "$need_kb" ]; then
  echo "bench_select: need $need_kb KiB free in $tmp for the dump, have $free_kb" >&2
  exit 1
fi

field() { "$PY" -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

gen=$("$OCCAM" bench select --n "$N" --threads "$THREADS" --repeats "$REPEATS" --dump "$dump")
echo "occam (generated): $gen"
file=$("$OCCAM" bench select --input "$dump" --threads "$THREADS" --repeats "$REPEATS")
echo "occam (file):      $file"
peer=$(OMP_NUM_THREADS=1 "$PY" perf/select_peer.py --input "$dump" --repeats "$PEER_REPEATS")
echo "numpy:             $peer"
lenet=$("$OCCAM" bench select --lenet --threads "$THREADS" --repeats 101)
echo "occam (lenet):     $lenet"

os=$(field "$file" seconds); ps=$(field "$peer" seconds)
ob=$(field "$file" kth_bits); pb=$(field "$peer" kth_bits)
gb=$(field "$gen" kth_bits)
echo
printf 'n = %s, k = %s, threads = %s\n' "$(field "$file" n)" "$(field "$file" k)" "$THREADS"
printf 'occam  %10.6f s  (%s GB/s of scores; streaming read %s GB/s)\n' "$os" \
  "$(field "$file" gb_per_s)" "$(field "$file" read_gb_per_s)"
printf 'numpy  %10.6f s\n' "$ps"
printf 'speedup %.1fx\n' "$("$PY" -c "print($ps / $os)")"
printf 'lenet select + mask %.1f us (select %.1f us, mask %.1f us)\n' \
  "$("$PY" -c "print($(field "$lenet" seconds) * 1e6)")" \
  "$("$PY" -c "print($(field "$lenet" select_seconds) * 1e6)")" \
  "$("$PY" -c "print($(field "$lenet" mask_seconds) * 1e6)")"
if [ "$ob" = "$pb" ] && [ "$gb" = "$ob" ]; then
  echo "k-th values bit-identical: yes ($ob = $(field "$file" kth_value))"
else
  echo "k-th values bit-identical: NO (occam generated $gb, occam file $ob, numpy $pb)"
  exit 1
fi
