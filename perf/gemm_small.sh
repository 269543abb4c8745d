#!/usr/bin/env bash
# occam_gemm's small-product loop against BLIS, call by call (see perf/gemm_small.c): for each
# shape the median µs of a call by BLIS and by the loop (called directly, also past the limits
# where occam_gemm sends a product to BLIS), their ratio, and whether both gave the same bits.
# THREADS (1 or 2) threads of one process call at once.
#
#   perf/gemm_small.sh [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build/liboccam.a
mkdir -p build/perf
cc -std=c11 -D_GNU_SOURCE -O2 -march=native -fopenmp -ffp-contract=off -Wall -Wextra -Iinclude \
  -isystem /usr/include/x86_64-linux-gnu/blis-openmp -o build/perf/gemm_small perf/gemm_small.c \
  build/liboccam.a -lblis -lhwloc -lsleef -lz -lm $(pkg-config --libs ompi-c 2>/dev/null || echo -lmpi)
OMP_WAIT_POLICY=active build/perf/gemm_small "${1:-1}"
