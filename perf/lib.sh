# perf/lib.sh: checks the perf scripts share (sourced, not run).
#
#   perf_count NAME VALUE     exit 2 unless VALUE is a whole number from 1 (a thread count,
#                             rounds, epochs, a size): said up front, naming NAME, instead of a
#                             seq error, a Python traceback or an 'unbound variable' later
#   perf_need COMMAND WHAT    exit 2 unless COMMAND is on the PATH, saying WHAT it is for
#   perf_publish TMP FILE     moves a finished output into place: a run stopped half-way leaves
#                             the last complete FILE, not a partial one that looks whole

perf_count() {
  if ! [[ $2 =~ ^[1-9][0-9]{0,11}$ ]]; then
    echo "$(basename "$0"): $1 must be a whole number from 1, not '$2'" >&2
    exit 2
  fi
}

perf_need() {
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "$(basename "$0"): $1 is not installed; it is needed $2" >&2
    exit 2
  fi
}

perf_publish() {
  mv -f "$1" "$2"
}
