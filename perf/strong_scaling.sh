#!/usr/bin/env bash
# Strong scaling 1 → T threads on the wide MLP (configs/wide.ini, batch 512) against BLIS
# sgemm's own 1 → T scaling, measured interleaved in one run so that machine noise hits both.
#
#   perf/strong_scaling.sh [T] [ROUNDS]     # default: all cores, 5 rounds
#
# Each round measures occam at 1 and T threads (`occam bench train`, median of 2 timed epochs)
# and BLIS sgemm's own scaling: one 512×2048×2048 product (the layer GEMM over the batch)
# threaded by BLIS itself over 1 and T threads (`occam bench gemm ... --blis-threads`). It
# prints the medians over the rounds and
#   scaling_ratio = (occam_T / occam_1) / (sgemm_T / sgemm_1)
# plus occam's fraction of the sgemm rate at T threads, and the median of the per-round
# ratios (robust when other work shares the machine).
set -euo pipefail
cd "$(dirname "$0")/.."
. perf/lib.sh
T=${1:-$(nproc)}
ROUNDS=${2:-5}
perf_count T "$T"
perf_count ROUNDS "$ROUNDS"
make -s build/occam
o1=(); oT=(); s1=(); sT=(); f=()
for r in $(seq 1 "$ROUNDS"); do
  a=$(build/occam bench train configs/wide.ini --threads 1 --set train.epochs=2)
  b=$(build/occam bench train configs/wide.ini --threads "$T" --set train.epochs=2)
  o1+=("$(echo "$a" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["samples_per_second"])')")
  oT+=("$(echo "$b" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["samples_per_second"])')")
  f+=("$(echo "$b" | /usr/bin/python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["fraction_of_sgemm"])')")
  s1+=("$(build/occam bench gemm 512 2048 2048 1 --blis-threads | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["gflops"])')")
  sT+=("$(build/occam bench gemm 512 2048 2048 "$T" --blis-threads | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["gflops"])')")
  echo "round $r: occam ${o1[-1]} -> ${oT[-1]} samples/s; sgemm ${s1[-1]} -> ${sT[-1]} GFLOP/s" >&2
done
/usr/bin/python3 - "$T" "${o1[*]}" "${oT[*]}" "${s1[*]}" "${sT[*]}" "${f[*]}" <<'PY'
import statistics as st, sys, json
T = int(sys.argv[1])
o1, oT, s1, sT, f = ([float(x) for x in a.split()] for a in sys.argv[2:7])
mo1, moT, ms1, msT = map(st.median, (o1, oT, s1, sT))
occ, sg = moT / mo1, msT / ms1
# per-round ratios: a round's four measurements are close in time, so a noisy moment hits
# occam and sgemm alike; their median is the robust figure on a shared machine
per_round = [(b / a) / (d / c) for a, b, c, d in zip(o1, oT, s1, sT)]
print(json.dumps({"bench": "strong_scaling", "model": "2048-2048-2048-10", "batch": 512,
                  "threads": T, "rounds": len(o1), "occam_sps_1": mo1, "occam_sps_T": moT,
                  "occam_speedup": round(occ, 4), "sgemm_gflops_1": ms1, "sgemm_gflops_T": msT,
                  "sgemm_speedup": round(sg, 4), "scaling_ratio": round(occ / sg, 4),
                  "scaling_ratio_per_round": [round(x, 4) for x in per_round],
                  "scaling_ratio_median_of_rounds": round(st.median(per_round), 4),
                  "fraction_of_sgemm_T": st.median(f)}))
PY
