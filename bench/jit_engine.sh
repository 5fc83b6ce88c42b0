#!/usr/bin/env bash
# JIT engine next to the reference executor at real model size: Llama-3.2-1B
# shapes with random weights (smepilot-synth), measured by smepilot-bench for
# each matrix type given: pp (a prompt of PROMPT_TOKENS random ids from an
# empty cache, chunks of 64) and tg (GEN_TOKENS single-token evals from an
# empty cache), REPS runs each after a warmup, tokens/s as mean +/- stddev.
#
#   bench/jit_engine.sh [TYPE...]      TYPE: bf16 q8_0 (default), f32, f16, q4_0
#
# Environment: BUILD_DIR (default build/), THREADS (2), PROMPT_TOKENS (128),
# GEN_TOKENS (32), REPS (3), FORMAT (md; csv or json keep every run's time),
# WORK (/tmp/smepilot-bench: the synthetic models, ~2.5 GB for bf16 and
# ~1.3 GB for q8_0, are generated there once and reused).
# Both engines dequantize the weights to F32 at load, so the type changes the
# file and the load, not the kernels. Prints smepilot-bench's table on stdout
# (one per type); the machine, the command, each engine's load time and the
# JIT's compile times (smepilot-bench -v) on stderr. Record the numbers in
# bench/RESULTS.md.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
threads="${THREADS:-2}"
n_prompt="${PROMPT_TOKENS:-128}"
n_gen="${GEN_TOKENS:-32}"
reps="${REPS:-3}"
format="${FORMAT:-md}"
work="${WORK:-/tmp/smepilot-bench}"
types=("$@")
[ ${#types[@]} -gt 0 ] || types=(bf16 q8_0)

for tool in smepilot-bench smepilot-synth; do
  [ -x "$build/bin/$tool" ] || { echo "error: $build/bin/$tool not built (scripts/build.sh)" >&2; exit 1; }
done
mkdir -p "$work"

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs," \
     "$(free -g | awk '/^Mem:/ {print $2}') GiB RAM" >&2
echo "flags:   $(grep -o -w -E 'avx2|fma|avx512f|avx512_bf16|avx512_vnni' /proc/cpuinfo | sort -u | tr '\n' ' ')" >&2
for type in "${types[@]}"; do
  model="$work/llama3.2-1b-$type.gguf"
  if [ ! -f "$model" ]; then
    "$build/bin/smepilot-synth" llama3.2-1b -o "$model" --type "$type" -t "$threads"
  fi
  echo >&2
  echo "model:   $model ($(du -h "$model" | cut -f1))" >&2
  echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  cmd=("$build/bin/smepilot-bench" -m "$model" --engine jit,reference -p "$n_prompt"
       -n "$n_gen" -r "$reps" -t "$threads" -c 512 -o "$format" -v)
  echo "command: ${cmd[*]}" >&2
  # -v: the load and JIT compile lines of stderr (not every run's).
  "${cmd[@]}" 2> >(grep -E 'jit:|loaded in|error' >&2)
done
