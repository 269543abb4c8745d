#!/usr/bin/env bash
# Hostile-input sweep over occam's own files and runs (issue 12's acceptance):
#   1. every single-bit flip of a compressed model (.occ): `occam eval` must refuse each one
#      with exit 2 (the whole-file checksum), never crash or hang;
#   2. every single-bit flip of a training-state file's header (the 8-byte length and the JSON
#      header): `occam train --resume` must refuse it with exit 2, or (for a flip that leaves a
#      valid file, which the whole-file checksum should make impossible) run normally; never
#      crash or hang;
#   3. ROUNDS kill -9 rounds (perf/kill9.sh): the newest checkpoint always loads;
#   4. two concurrent runs on one checkpoint folder: one runs, the other exits 2 naming the PID.
# A crash is any exit >= 128 (a signal) or a sanitizer report on stderr; a hang is a run that
# outlives a 60 s timeout (exit 124). Prints the counts per part; exits 1 on any finding.
#
#   perf/hostile_sweep.sh [BIN] [ROUNDS]      (BIN default build/occam; build-san/occam for ASan)
set -uo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/occam}
rounds=${2:-20}
[ -x "$bin" ] || make -s "$bin"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cfg=configs/blobs.ini
findings=0

# Flips bit $2 of byte $1 of file $3 into file $4.
flip() {
  cp "$3" "$4"
  local b
  b=$(od -An -tu1 -j "$1" -N 1 "$3" | tr -d ' ')
  printf "$(printf '\\%03o' $((b ^ (1 << $2))))" |
    dd of="$4" bs=1 seek="$1" count=1 conv=notrunc status=none
}

# Runs one flipped file through CMD...; tallies exit codes into $dir/codes.
check() {
  local f=$1; shift
  timeout 60 "$@" >"$f.out" 2>&1
  local rc=$?
  if [ $rc -ge 124 ] || grep -q "Sanitizer\|runtime error" "$f.out"; then
    echo "FINDING (exit $rc): $*"; sed -n 1,5p "$f.out"
  fi
  echo $rc >>"$dir/codes"
}

tally() {
  local what=$1 want=$2
  local total bad
  total=$(wc -l <"$dir/codes")
  bad=$(grep -cvx "$want" "$dir/codes" || true)
  echo "$what: $total runs; exit codes: $(sort "$dir/codes" | uniq -c | awk '{printf "%s%s x%s", NR>1?", ":"", $2, $1}')"
  local crash
  crash=$(awk '$1 >= 124' "$dir/codes" | wc -l)
  findings=$((findings + crash))
  rm -f "$dir/codes"
  return 0
}

# ---- 1. .occ bit flips ----------------------------------------------------------------------
"$bin" train $cfg --set train.epochs=2 --save "$dir/m.safetensors" >/dev/null 2>&1 || exit 1
"$bin" compress $cfg --checkpoint "$dir/m.safetensors" --out "$dir/m.occ" >/dev/null || exit 1
n=$(stat -c %s "$dir/m.occ")
for ((i = 0; i < n; i++)); do
  for bit in 0 1 2 3 4 5 6 7; do
    flip $i $bit "$dir/m.occ" "$dir/f.occ"
    check "$dir/f" "$bin" eval $cfg --checkpoint "$dir/f.occ"
  done
done
accepted=$(grep -cvx 2 "$dir/codes" || true)
findings=$((findings + accepted))
tally ".occ single-bit flips over all $n bytes (want exit 2 for every one; accepted: $accepted)" 2

# ---- 2. training-state header bit flips ------------------------------------------------------
"$bin" train $cfg --set train.epochs=2 --set train.checkpoint_every=1 \
  --set train.checkpoint_dir="$dir/ck" >/dev/null 2>&1 || exit 1
state=$(ls "$dir"/ck/ckpt-*.safetensors | tail -n 1)
hlen=$(( $(od -An -tu8 -N 8 "$state" | tr -d ' ') + 8 ))
for ((i = 0; i < hlen; i++)); do
  for bit in 0 1 2 3 4 5 6 7; do
    flip $i $bit "$state" "$dir/f.safetensors"
    check "$dir/f" "$bin" train $cfg --set train.epochs=2 --resume "$dir/f.safetensors"
  done
done
accepted=$(grep -cvx 2 "$dir/codes" || true)
tally "training-state header single-bit flips over all $hlen header bytes (accepted: $accepted)" 2

# ---- 3. kill -9 rounds ------------------------------------------------------------------------
if EPOCHS=10000 perf/kill9.sh "$rounds" $cfg >"$dir/kill9.log" 2>&1; then
  tail -n 1 "$dir/kill9.log"
else
  findings=$((findings + 1)); echo "FINDING: kill -9"; cat "$dir/kill9.log"
fi

# ---- 4. two concurrent runs on one folder -----------------------------------------------------
sets="--set train.epochs=200 --set train.checkpoint_every=1 --set train.checkpoint_dir=$dir/shared"
"$bin" train configs/default.ini $sets >"$dir/a.log" 2>&1 &
a=$!
sleep 1
"$bin" train configs/default.ini $sets >"$dir/b.log" 2>&1
brc=$?
kill -INT $a; wait $a
arc=$?
echo "concurrent runs on one folder: first exit $arc (130 = stopped by SIGINT), second exit $brc: $(grep occam: "$dir/b.log" | head -n 1)"
if [ $brc -ne 2 ] || [ $arc -ne 130 ]; then findings=$((findings + 1)); echo "FINDING: concurrent"; fi

echo "findings: $findings"
[ $findings -eq 0 ]
