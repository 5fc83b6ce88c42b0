#!/usr/bin/env bash
# Reference-executor throughput at real model size: Llama-3.2-1B shapes with
# random weights (smepilot-synth), measured by smepilot-bench: pp (a prompt of
# PROMPT_TOKENS random ids from an empty cache, chunks of 64) and tg
# (GEN_TOKENS single-token evals from an empty cache), REPS runs each after a
# warmup, tokens/s as mean +/- stddev.
#
#   bench/reference_executor.sh [TYPE]      TYPE: bf16 (default), f32, f16, q8_0, q4_0
#
# Environment: BUILD_DIR (default build/), THREADS (2), PROMPT_TOKENS (128),
# GEN_TOKENS (32), REPS (3), FORMAT (md; csv or json keep every run's time),
# WORK (/tmp/smepilot-bench: the synthetic model, ~2.5 GB for bf16, ~5 GB for
# f32, is generated there once and reused).
# Prints smepilot-bench's table on stdout; the machine, the command, the load
# time and every run (--progress) on stderr. Record the numbers in
# bench/RESULTS.md.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
type="${1:-bf16}"
threads="${THREADS:-2}"
n_prompt="${PROMPT_TOKENS:-128}"
n_gen="${GEN_TOKENS:-32}"
reps="${REPS:-3}"
format="${FORMAT:-md}"
work="${WORK:-/tmp/smepilot-bench}"
model="$work/llama3.2-1b-$type.gguf"

for tool in smepilot-bench smepilot-synth; do
  [ -x "$build/bin/$tool" ] || { echo "error: $build/bin/$tool not built (scripts/build.sh)" >&2; exit 1; }
done
mkdir -p "$work"
if [ ! -f "$model" ]; then
  "$build/bin/smepilot-synth" llama3.2-1b -o "$model" --type "$type" -t "$threads"
fi

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs," \
     "$(free -g | awk '/^Mem:/ {print $2}') GiB RAM; load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "model:   $model ($(du -h "$model" | cut -f1))" >&2
cmd=("$build/bin/smepilot-bench" -m "$model" --engine reference -p "$n_prompt" -n "$n_gen"
     -r "$reps" -t "$threads" -c 512 -o "$format")
echo "command: ${cmd[*]}" >&2
# --progress: the load time and every run on stderr.
"${cmd[@]}" --progress
