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

# Every single-bit flip of the first N bytes of FILE, each run as CMD with {} for the flipped
# file; prints the tally of exit codes and the findings (a signal, a timeout, a sanitizer
# report, or an exit code other than the wanted one when strict). Python drives the thousands
# of runs; each is one occam process.
flips() {
  python3 - "$dir" "$@" <<'PY'
import collections, os, subprocess, sys
tmp, src, nbytes, want, strict, what = sys.argv[1:7]
cmd = sys.argv[7:]
data = bytearray(open(src, "rb").read())
n = min(int(nbytes), len(data))
codes, findings = collections.Counter(), []
flipped = os.path.join(tmp, "flipped" + os.path.splitext(src)[1])
for i in range(n):
    for bit in range(8):
        data[i] ^= 1 << bit
        open(flipped, "wb").write(data)
        data[i] ^= 1 << bit
        try:
            r = subprocess.run([c.replace("{}", flipped) for c in cmd], capture_output=True,
                               text=True, errors="replace", timeout=60)
            rc, err = r.returncode, r.stderr
        except subprocess.TimeoutExpired:
            rc, err = "timeout", ""
        codes[rc] += 1
        bad = rc == "timeout" or (isinstance(rc, int) and rc < 0) or \
              "Sanitizer" in err or "runtime error" in err or "internal error" in err or \
              (strict == "strict" and rc != int(want))
        if bad and len(findings) < 20:
            findings.append(f"byte {i} bit {bit}: exit {rc}: {err.strip()[:200]}")
print(f"{what}: {8 * n} flips over {n} bytes; exit codes: " +
      ", ".join(f"{k} x{v}" for k, v in sorted(codes.items(), key=str)))
for f in findings:
    print("FINDING", f)
sys.exit(1 if findings else 0)
PY
}

# ---- 1. .occ bit flips ----------------------------------------------------------------------
"$bin" train $cfg --set train.epochs=2 --save "$dir/m.safetensors" >/dev/null 2>&1 || exit 1
"$bin" compress $cfg --checkpoint "$dir/m.safetensors" --out "$dir/m.occ" >/dev/null || exit 1
flips "$dir/m.occ" 1000000000 2 strict ".occ file (every bit; each must be refused, exit 2)" \
  "$bin" eval $cfg --checkpoint {} || findings=$((findings + 1))

# ---- 2. training-state header bit flips ------------------------------------------------------
"$bin" train $cfg --set train.epochs=2 --set train.checkpoint_every=1 \
  --set train.checkpoint_dir="$dir/ck" >/dev/null 2>&1 || exit 1
state=$(ls "$dir"/ck/ckpt-*.safetensors | tail -n 1)
hlen=$(( $(od -An -tu8 -N 8 "$state" | tr -d ' ') + 8 ))
flips "$state" $hlen 2 strict "training-state header (length field and JSON header; want exit 2)" \
  "$bin" train $cfg --set train.epochs=3 --set train.checkpoint_dir="$dir/ck2" --resume {} ||
  findings=$((findings + 1))

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
echo "concurrent runs on one folder: first exit $arc (130 = stopped by SIGINT), second exit $brc: $(grep "in use" "$dir/b.log" | head -n 1)"
if [ $brc -ne 2 ] || [ $arc -ne 130 ]; then findings=$((findings + 1)); echo "FINDING: concurrent"; fi

echo "findings: $findings"
[ $findings -eq 0 ]
