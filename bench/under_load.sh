#!/usr/bin/env bash
# Decode speed under load (issue 14, "Under load"): with a busy loop pinned
# to one core (`taskset -c BUSY_CPU`), smepilot-bench runs tg tests (GEN_TOKENS
# single-token evals from an empty cache) at -t 1 and -t 2 for each model, and
# this prints the median tokens/s of REPS runs per thread count (with the
# spread) and the ratio -t 2 / -t 1. The target: >= 0.5 for stories260K and
# >= 0.8 for a Llama-3.2-1B-shaped Q8_0 model.
#
#   bench/under_load.sh [MODEL.gguf...]     (default: ../shared/models/stories260K.gguf)
#
# Environment: BUILD_DIR (build/), ENGINE (jit; a comma list is passed on),
# REPS (5, at least 3), GEN_TOKENS (128), BUSY_CPU (1), IDLE (1: also measure
# without the busy loop, for comparison; 0: busy only).
# Needs a machine quiet apart from the busy loop: the load average is printed
# before each measurement, check it. The busy loop is killed on any exit.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
engine="${ENGINE:-jit}"
reps="${REPS:-5}"
n_gen="${GEN_TOKENS:-128}"
busy_cpu="${BUSY_CPU:-1}"
idle="${IDLE:-1}"
models=("$@")
[ ${#models[@]} -gt 0 ] || models=("$root/../shared/models/stories260K.gguf")

[ -x "$build/bin/smepilot-bench" ] || { echo "error: $build/bin/smepilot-bench not built" >&2; exit 1; }
command -v taskset > /dev/null || { echo "error: taskset not found (util-linux)" >&2; exit 1; }
[ "$reps" -ge 3 ] || { echo "error: REPS must be at least 3 (a median)" >&2; exit 1; }
for m in "${models[@]}"; do
  [ -f "$m" ] || { echo "error: $m: no such model file" >&2; exit 1; }
done

busy_pid=""
work="$(mktemp -d)"
cleanup() {
  if [ -n "$busy_pid" ]; then
    kill "$busy_pid" 2> /dev/null || true
    wait "$busy_pid" 2> /dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

busy_on() {
  taskset -c "$busy_cpu" sh -c 'while :; do :; done' &
  busy_pid=$!
  sleep 0.5
}
busy_off() {
  kill "$busy_pid"
  wait "$busy_pid" 2> /dev/null || true
  busy_pid=""
}

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs; kernel $(uname -r)"
echo "build:   $(git -C "$root" rev-parse --short HEAD 2> /dev/null || echo unknown)"
states=(busy)
[ "$idle" = 1 ] && states=(idle busy)
for model in "${models[@]}"; do
  for state in "${states[@]}"; do
    [ "$state" = busy ] && busy_on
    # shellcheck disable=SC2054 # "-t 1,2" is one argument
    cmd=("$build/bin/smepilot-bench" -m "$model" --engine "$engine" -p 0 -n "$n_gen"
         -r "$reps" -t 1,2 -o json)
    echo
    echo "== $(basename "$model"), $state$([ "$state" = busy ] && echo " (taskset -c $busy_cpu busy loop)");" \
         "load average $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "command: ${cmd[*]}"
    "${cmd[@]}" > "$work/out.json"
    [ "$state" = busy ] && busy_off
    python3 - "$work/out.json" <<'PY'
import json, statistics, sys
rows = json.load(open(sys.argv[1]))
by = {}
for r in rows:
    ts = sorted(r["n_gen"] * 1e9 / ns for ns in r["samples_ns"])
    by.setdefault(r["engine"], {})[r["n_threads"]] = ts
for engine, t in by.items():
    cells = []
    for n in sorted(t):
        ts = t[n]
        cells.append("-t %d: %9.2f t/s (median of %d, %.2f-%.2f)" %
                     (n, statistics.median(ts), len(ts), ts[0], ts[-1]))
    line = "%-9s %s" % (engine, "; ".join(cells))
    if 1 in t and 2 in t:
        line += "; ratio -t 2 / -t 1: %.3f" % (statistics.median(t[2]) / statistics.median(t[1]))
    print(line)
PY
  done
done
