#!/usr/bin/env bash
# Ranks against threads on this host: 1 rank × 2 threads against 2 ranks × 1 thread (mpirun,
# Open MPI), for LeNet-300-100 on Fashion-MNIST (configs/default.ini, batch 128) and the wide
# 2048-2048-2048-10 MLP (configs/wide.ini, batch 512), measured interleaved in one run so that
# machine noise hits both.
#
#   perf/mpi_scaling.sh [ROUNDS] [OUTDIR]       # default: 5 rounds, perf/out
#
# Each round runs `occam bench train` (median of the timed epochs) for every model and layout,
# 2 ranks with runtime.grad = auto, shard and owner. Writes
#   OUTDIR/mpi_scaling_runs.csv  every measurement (round, model, ranks, threads, grad,
#                                samples_per_s, step_ms, comm_fraction, update_fraction)
#   OUTDIR/mpi_scaling.csv       the medians per model and layout, with ratio_to_threads =
#                                samples/s ÷ the 1 rank × 2 threads median (and the median of
#                                the per-round ratios, robust on a shared machine)
#   OUTDIR/mpi_scaling.png       samples/s per layout, one panel per model
# then prints perf/cost_model.py --check's predictions beside the medians.
# comm_fraction is the share of the step thread 0 spends in MPI calls (allgathers, allreduces,
# the wait for the other rank included): the allreduce overhead.
set -euo pipefail
cd "$(dirname "$0")/.."
. perf/lib.sh
ROUNDS=${1:-5}
OUT=${2:-perf/out}
perf_count ROUNDS "$ROUNDS"
perf_need mpirun "to start the ranks (Debian's openmpi-bin)"
mkdir -p "$OUT"
make -s build/occam
MPIRUN=(mpirun --quiet -np 2)
[ "$(id -u)" = 0 ] && MPIRUN=(mpirun --allow-run-as-root --quiet -np 2)
runs_final="$OUT/mpi_scaling_runs.csv"
runs=$runs_final.part # renamed when every round is in: a stopped run leaves the last whole CSV
echo "round,model,batch,ranks,threads,grad,samples_per_s,step_ms,comm_fraction,update_fraction" > "$runs"

bench() { # round model config batch epochs ranks grad
  local r=$1 model=$2 cfg=$3 batch=$4 ep=$5 ranks=$6 grad=$7 j
  if [ "$ranks" = 1 ]; then
    j=$(build/occam bench train "$cfg" --threads 2 --set train.epochs="$ep" --set runtime.grad="$grad")
  else
    j=$("${MPIRUN[@]}" build/occam bench train "$cfg" --threads 1 --set train.epochs="$ep" \
        --set runtime.grad="$grad")
  fi
  echo "$j" | /usr/bin/python3 -c '
import json, sys
j = json.loads(sys.stdin.read()); a = sys.argv[1:]
print(",".join(a[:3] + [str(j["ranks"]), str(j["threads"]), a[3], "%.1f" % j["samples_per_second"],
      "%.4f" % j["step_ms"], "%.4f" % j["comm_fraction"], "%.4f" % j["phase_fraction"]["update"]]))
' "$r" "$model" "$batch" "$grad" >> "$runs"
  tail -n 1 "$runs" >&2
}

for r in $(seq 1 "$ROUNDS"); do
  # LeNet epochs are short: 3 timed epochs; the wide MLP: 2
  bench "$r" lenet configs/default.ini 128 3 1 auto
  for g in auto shard owner; do bench "$r" lenet configs/default.ini 128 3 2 "$g"; done
  bench "$r" wide configs/wide.ini 512 2 1 auto
  for g in auto shard owner; do bench "$r" wide configs/wide.ini 512 2 2 "$g"; done
done
perf_publish "$runs" "$runs_final"
runs=$runs_final

/usr/bin/python3 - "$runs" "$OUT/mpi_scaling.csv" <<'PY'
import csv, statistics as st, sys
rows = list(csv.DictReader(open(sys.argv[1])))
key = lambda r: (r["model"], r["ranks"], r["threads"], r["grad"])
groups = {}
for r in rows:
    groups.setdefault(key(r), []).append(r)
base = {m: {x["round"]: float(x["samples_per_s"]) for x in g}
        for (m, R, T, gr), g in groups.items() if R == "1"}
with open(sys.argv[2], "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["model", "batch", "ranks", "threads", "grad", "rounds", "samples_per_s",
                "step_ms", "comm_fraction", "ratio_to_threads", "ratio_median_of_rounds"])
    for (m, R, T, gr), g in groups.items():
        sps = st.median(float(x["samples_per_s"]) for x in g)
        per = [float(x["samples_per_s"]) / base[m][x["round"]] for x in g if x["round"] in base[m]]
        b = st.median(base[m].values())
        w.writerow([m, g[0]["batch"], R, T, gr, len(g), "%.1f" % sps,
                    "%.4f" % st.median(float(x["step_ms"]) for x in g),
                    "%.4f" % st.median(float(x["comm_fraction"]) for x in g),
                    "%.4f" % (sps / b), "%.4f" % st.median(per)])
print(open(sys.argv[2]).read(), end="")
PY

if command -v gnuplot > /dev/null; then
  /usr/bin/python3 - "$OUT/mpi_scaling.csv" "$OUT/mpi_scaling.dat" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
with open(sys.argv[2], "w") as f:
    for m in ("lenet", "wide"):
        for r in (x for x in rows if x["model"] == m):
            label = f'{r["ranks"]}x{r["threads"]} {r["grad"]}'
            f.write(f'"{label}" {r["samples_per_s"]} {r["comm_fraction"]}\n')
        f.write("\n\n")
PY
  gnuplot <<GP
set terminal pngcairo size 1000,420 noenhanced
set output "$OUT/mpi_scaling.png"
set multiplot layout 1,2 title "occam: 1 rank x 2 threads against 2 ranks x 1 thread (this host)"
set style data histogram
set style fill solid 0.7 border -1
set boxwidth 0.7
set ylabel "samples/s (median of $ROUNDS rounds)"
set xtics rotate by -30
set yrange [0:*]
set title "LeNet-300-100, batch 128"
plot "$OUT/mpi_scaling.dat" index 0 using 2:xtic(1) notitle lc rgb "#4477aa"
set title "wide MLP 2048-2048-2048-10, batch 512"
plot "$OUT/mpi_scaling.dat" index 1 using 2:xtic(1) notitle lc rgb "#aa7744"
unset multiplot
GP
  echo "wrote $OUT/mpi_scaling.png" >&2
fi
perf/cost_model.py --check "$OUT/mpi_scaling.csv" || true
