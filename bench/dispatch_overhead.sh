#!/usr/bin/env bash
# The dispatch executor before and after issue 13's scheduler, side by side
# in one run (bench/RESULTS.md, "Dispatch overhead"):
#   1. bench/dispatch_overhead.cpp built against the runtime of BASE (default:
#      the commit before the scheduler) and of the working tree, each run
#      with the machine as it is and then with one core kept busy by a
#      spinning process (`yes > /dev/null`);
#   2. smepilot-run --engine jit on stories260K (decode: -n 128 --temp 0
#      --ignore-eos), -t 1 and -t 2, with BEFORE_RUN (a smepilot-run built
#      at BASE; building one needs the whole compiler, so it is passed in)
#      and build/bin/smepilot-run, idle and busy.
# Usage: bench/dispatch_overhead.sh [BEFORE_RUN]   (env: BASE, MODEL)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
base="${BASE:-4bb32b0^}"
model="${MODEL:-$root/../shared/models/stories260K.gguf}"
before_run="${1:-}"
work="$(mktemp -d)"
busy_pid=""
cleanup() {
  [ -n "$busy_pid" ] && kill "$busy_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

build() { # $1: a tree holding runtime/, $2: output
  local src=$1 files
  files="$src/runtime/src/dispatch.cpp $src/runtime/src/thread_pool.cpp $src/runtime/src/strformat.cpp"
  if [ -f "$src/runtime/src/dispatch_trace.cpp" ]; then
    files="$files $src/runtime/src/dispatch_trace.cpp $src/runtime/src/output_file.cpp"
    files="$files $src/runtime/src/input_file.cpp"
  fi
  # shellcheck disable=SC2086
  clang++-22 -std=c++20 -O2 -DNDEBUG -I"$src/runtime/include" -I"$src/runtime/src" \
    bench/dispatch_overhead.cpp $files -lpthread -o "$2"
}
mkdir -p "$work/base"
git archive "$base" runtime | tar -x -C "$work/base"
build "$work/base" "$work/bench_before"
build "$root" "$work/bench_after"

busy_on() {
  yes > /dev/null &
  busy_pid=$!
  sleep 0.5
}
busy_off() {
  kill "$busy_pid"
  wait "$busy_pid" 2>/dev/null || true
  busy_pid=""
}
decode() { # $1: binary, $2: threads -> tokens per second of the decode
  "$1" -m "$model" --engine jit -t "$2" -n 128 --temp 0 --ignore-eos \
    -p "Once upon a time" 2>&1 >/dev/null |
    sed -nE 's/.* eval time = .* ([0-9.]+) tokens per second\)/\1/p' | tail -1
}

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores;" \
  "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "base: $(git rev-parse --short "$base"), after: working tree at $(git rev-parse --short HEAD)"
for state in idle busy; do
  [ "$state" = busy ] && busy_on
  echo
  echo "== micro-benchmark, $state (one core spinning: $([ "$state" = busy ] && echo yes || echo no))"
  paste <("$work/bench_before") <("$work/bench_after") |
    awk -F'\t' 'NR == 1 { printf "%-40s | %s (after)\n", $1 " (before)", $2; next }
                { printf "%-40s | %s\n", $1, $2 }'
  if [ -n "$before_run" ]; then
    echo "-- smepilot-run --engine jit, stories260K decode, tokens/s ($state)"
    for t in 1 2; do
      for rep in 1 2 3; do
        printf -- "-t %d run %d: before %8s  after %8s\n" "$t" "$rep" \
          "$(decode "$before_run" "$t")" "$(decode build/bin/smepilot-run "$t")"
      done
    done
  fi
  [ "$state" = busy ] && busy_off
done
