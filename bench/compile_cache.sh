#!/usr/bin/env bash
# The JIT engine's object cache: time to the first generated token of
# `smepilot-run --engine jit` compiling (cold, --no-cache) and loading the
# cached object (warm), for each model given. One greedy token after a
# 4-token prompt; REPS runs of each, the median and the range printed.
# smepilot-run -v's own split is kept: graph / pipeline / LLVM (or "cached
# object") and the load time, which also counts binding (today: dequantizing)
# the weights.
#
#   bench/compile_cache.sh MODEL.gguf...
#
# Environment: BUILD_DIR (default build/), REPS (3), THREADS (2), CTX (512),
# EXTRA (more smepilot-run flags, e.g. --f32-weights).
# The cache lives in a temporary XDG_CACHE_HOME, removed at the end: the
# user's cache is never read or written. Prints a markdown table on stdout,
# the machine and the commands on stderr. Record the numbers in
# bench/RESULTS.md ("Compile cache").
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
reps="${REPS:-3}"
threads="${THREADS:-2}"
ctx="${CTX:-512}"
[ $# -gt 0 ] || { echo "usage: $0 MODEL.gguf..." >&2; exit 2; }
cache="$(mktemp -d)"
trap 'rm -rf "$cache"' EXIT
run=("$build/bin/smepilot-run" -p "Once upon a time" -n 1 --temp 0 -t "$threads" -c "$ctx"
     --engine jit -v ${EXTRA:-})

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "command: XDG_CACHE_HOME=<tmp> ${run[*]} -m MODEL [--no-cache]" >&2

# One run: "<wall s> <load ms> <compile-or-load-object ms> <pipeline ms>".
measure() {
  local log
  log="$( { /usr/bin/time -f "wall %e" env XDG_CACHE_HOME="$cache" "${run[@]}" "$@" >/dev/null; } 2>&1)"
  local wall load llvm pipeline
  wall="$(sed -n 's/^wall //p' <<<"$log")"
  load="$(sed -n 's/.*load time = *\([0-9.]*\) ms.*/\1/p' <<<"$log")"
  llvm="$(sed -n 's/.*\(LLVM\|cached object\) \([0-9.]*\) ms.*/\2/p' <<<"$log")"
  pipeline="$(sed -n 's/.*pipeline \([0-9.]*\) ms.*/\1/p' <<<"$log")"
  echo "$wall $load $llvm $pipeline"
}

# "median (min-max)" of the numbers on stdin.
stats() {
  sort -g | awk '{v[NR]=$1} END {printf "%s (%s-%s)", v[int((NR+1)/2)], v[1], v[NR]}'
}

echo "| model | run | wall s | load ms | pipeline ms | LLVM / cached object ms |"
echo "|---|---|---|---|---|---|"
for model in "$@"; do
  for mode in cold warm; do
    args=(-m "$model")
    [ "$mode" = cold ] && args+=(--no-cache)
    # The warm runs read the entry one uncounted run writes.
    [ "$mode" = warm ] && measure "${args[@]}" >/dev/null
    rows=()
    for _ in $(seq "$reps"); do rows+=("$(measure "${args[@]}")"); done
    col() { printf '%s\n' "${rows[@]}" | awk -v c="$1" '{print $c}' | stats; }
    echo "| $(basename "$model") | $mode | $(col 1) | $(col 2) | $(col 4) | $(col 3) |"
  done
done
