#!/usr/bin/env bash
# Strong and weak scaling study, with the BLIS sgemm ceiling measured in the same runs.
#
#   perf/scaling.sh [MAX_THREADS]       # default: all cores
#   EPOCHS=5 perf/scaling.sh            # timed epochs per point (the point is their median)
#
# Strong scaling: a fixed global batch (128 for LeNet-300-100, 512 for the wide MLP), threads
# 1..MAX. Weak scaling: a fixed batch per thread (128 and 256). For every point it records
# occam's samples/s and GFLOP/s, the speedup over 1 thread, the efficiency, the sgemm rate on
# the same thread count (1024^3 per thread, each thread its own matrices) and its own speedup,
# and the fraction of step time in each phase (forward, backward, wait, update).
# Output: perf/out/scaling.csv and perf/out/scaling.png (gnuplot, from Debian's gnuplot-nox).
set -euo pipefail
cd "$(dirname "$0")/.."
. perf/lib.sh
MAX=${1:-$(nproc)}
EPOCHS=${EPOCHS:-3}
perf_count MAX_THREADS "$MAX"
perf_count EPOCHS "$EPOCHS"
make -s build/occam
mkdir -p perf/out
final=perf/out/scaling.csv
csv=$final.part # renamed when every point is in: a stopped run leaves the last whole CSV
echo "study,model,threads,batch,samples_per_second,gflops,speedup,efficiency,sgemm_gflops,sgemm_speedup,forward,backward,wait,update" > "$csv"

point() { # study model config threads batch epochs
  build/occam bench train "$3" --threads "$4" --set train.batch="$5" --set train.epochs="$6" \
    --set runtime.oversubscribe=true
}

for study in strong weak; do
  for model in lenet wide; do
    if [ $model = lenet ]; then cfg=configs/default.ini; b=128; e=$EPOCHS
    else cfg=configs/wide.ini; b=$([ $study = strong ] && echo 512 || echo 256); e=$EPOCHS; fi
    base_sps=""; base_sg=""
    for t in $(seq 1 "$MAX"); do
      batch=$([ $study = strong ] && echo $b || echo $((b * t)))
      j=$(point $study $model $cfg $t $batch $e)
      row=$(/usr/bin/python3 - "$j" "$study" "$model" "$t" "$batch" "${base_sps:-0}" "${base_sg:-0}" <<'PY'
import json, sys
j = json.loads(sys.argv[1]); study, model, t, batch = sys.argv[2:6]
base_sps, base_sg = float(sys.argv[6]), float(sys.argv[7])
sps, sg = j["samples_per_second"], j["sgemm_gflops_1024"]
t = int(t)
# weak scaling: throughput per thread count relative to 1 thread (ideal = t)
speed = sps / base_sps if base_sps else 1.0
sgs = sg / base_sg if base_sg else 1.0
p = j["phase_fraction"]
print(f'{study},{model},{t},{batch},{sps:.1f},{j["gflops"]:.2f},{speed:.4f},{speed / t:.4f},'
      f'{sg:.2f},{sgs:.4f},{p["forward"]:.4f},{p["backward"]:.4f},{p["wait"]:.4f},{p["update"]:.4f}')
PY
)
      echo "$row" | tee -a "$csv"
      if [ -z "$base_sps" ]; then
        base_sps=$(echo "$row" | cut -d, -f5); base_sg=$(echo "$row" | cut -d, -f9)
      fi
    done
  done
done
perf_publish "$csv" "$final"
csv=$final

if command -v gnuplot >/dev/null; then
  gnuplot <<GP
set terminal pngcairo size 1400,500 font ",11"
set output "perf/out/scaling.png"
set datafile separator ","
set multiplot layout 1,2 title "occam scaling (points: median of $EPOCHS epochs; dashed: BLIS sgemm on the same threads)"
set xlabel "threads"; set xtics 1; set key left top; set grid
set ylabel "speedup over 1 thread"
plot for [m in "lenet wide"] for [s in "strong weak"] \
       "$csv" using (strcol(1) eq s && strcol(2) eq m ? \$3 : 1/0):7 with linespoints title s." ".m, \
     "$csv" using (strcol(1) eq "strong" && strcol(2) eq "wide" ? \$3 : 1/0):10 with lines dt 2 lw 2 title "sgemm ceiling", \
     x with lines lc rgb "gray" title "ideal"
set ylabel "parallel efficiency"; set yrange [0:1.15]; set key left bottom
plot for [m in "lenet wide"] for [s in "strong weak"] \
       "$csv" using (strcol(1) eq s && strcol(2) eq m ? \$3 : 1/0):8 with linespoints title s." ".m, \
     "$csv" using (strcol(1) eq "strong" && strcol(2) eq "wide" ? \$3 : 1/0):(\$10/\$3) with lines dt 2 lw 2 title "sgemm ceiling"
unset multiplot
GP
  echo "wrote $final and perf/out/scaling.png"
else
  echo "wrote $final (install gnuplot-nox for the plot)"
fi
