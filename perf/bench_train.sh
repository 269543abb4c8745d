#!/usr/bin/env bash
# Trainer-core throughput benchmark.
#
# For LeNet-300-100 on Fashion-MNIST (batch 128), the wide synthetic MLP 2048-2048-2048-10
# (batch 512) and blobs' small 20-50-3 net (batch 16), at 1 thread and at all cores, prints
# occam's samples/s and GFLOP/s beside the sgemm rate measured in the same process ('occam
# bench train'), and, when Debian's python3-torch is installed, PyTorch's samples/s on the
# same model, data and thread count, run back to back, with the ratio.
#
#   perf/bench_train.sh              # all of it
#   EPOCHS=5 perf/bench_train.sh     # more timed epochs per point (median is reported)
#   NO_TORCH=1 perf/bench_train.sh   # occam only
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build/occam
EPOCHS=${EPOCHS:-3}
ALL=$(nproc)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
have_torch=0
if [ -z "${NO_TORCH:-}" ] && /usr/bin/python3 -c 'import torch' 2>/dev/null; then have_torch=1; fi

field() { /usr/bin/python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

printf '%-14s %7s %12s %9s %12s %10s %12s %8s\n' model threads samples/s GFLOP/s sgemm_GF/s frac_sgemm torch_s/s ratio
for model in lenet wide small; do
  sets=()
  if [ $model = lenet ]; then
    cfg=configs/default.ini; tepochs=$EPOCHS
    torch_args=(--batch 128 --layers 784,300,100,10 --no-eval)
  elif [ $model = small ]; then
    # a small-data net: blobs' 20-50-3 on its 1,000 rows at batch 16, where a step is a few
    # microseconds of arithmetic and per-call overheads decide
    cfg=configs/blobs.ini; tepochs=$EPOCHS; sets=(--set train.batch=16)
    torch_args=(--batch 16 --layers 20,50,3 --synthetic 1000 --no-eval)
  else
    cfg=configs/wide.ini; tepochs=1
    torch_args=(--batch 512 --layers 2048,2048,2048,10 --synthetic 16384)
  fi
  for t in 1 "$ALL"; do
    j=$(build/occam bench train "$cfg" --threads "$t" --set train.epochs="$tepochs" "${sets[@]}")
    echo "$j" >> "$out/occam.jsonl"
    sps=$(field "$j" samples_per_second); gf=$(field "$j" gflops)
    ceil=$(/usr/bin/python3 -c "import json,sys; j=json.loads(sys.argv[1]); print(max(j['sgemm_gflops_layer'], j['sgemm_gflops_1024']))" "$j")
    frac=$(field "$j" fraction_of_sgemm)
    tsps=-; ratio=-
    if [ $have_torch = 1 ]; then
      tj=$(OMP_NUM_THREADS=$t /usr/bin/python3 perf/torch_peer.py --threads "$t" --epochs 1 \
           --repeats "$tepochs" "${torch_args[@]}")
      tsps=$(field "$tj" samples_per_second)
      ratio=$(/usr/bin/python3 -c "print(f'{$sps / $tsps:.2f}')")
    fi
    printf '%-14s %7s %12.0f %9.1f %12.1f %10s %12s %8s\n' "$model" "$t" "$sps" "$gf" "$ceil" "$frac" "$tsps" "$ratio"
  done
done
