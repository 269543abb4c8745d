#!/usr/bin/env bash
# Whether a nonblocking allreduce overlaps with computation under this MPI library (see
# perf/mpi_overlap.c): 2 ranks on this host, a gradient of MB megabytes (default 32: the wide
# MLP's 8.4 M floats), ROUNDS rounds (default 7). Prints one JSON line of medians.
#
#   perf/mpi_overlap.sh [MB] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build/perf
mpicc -std=c11 -O2 -Wall -Wextra -o build/perf/mpi_overlap perf/mpi_overlap.c
ROOT=(); [ "$(id -u)" = 0 ] && ROOT=(--allow-run-as-root)
mpirun "${ROOT[@]}" --quiet -np 2 build/perf/mpi_overlap "${1:-32}" "${2:-7}"
