#!/usr/bin/env bash
# JIT engine next to the reference executor at real model size: Llama-3.2-1B
# shapes with random weights (smepilot-synth), a fixed prompt of token ids,
# greedy decode, for each matrix type given.
#
#   bench/jit_engine.sh [TYPE...]      TYPE: bf16 q8_0 (default), f32, f16, q4_0
#
# Environment: BUILD_DIR (default build/), THREADS (2), PROMPT_TOKENS (128),
# GEN_TOKENS (32), WORK (/tmp/smepilot-bench: the synthetic models, ~2.5 GB for
# bf16 and ~1.3 GB for q8_0, are generated there once and reused).
# Both engines dequantize the weights to F32 at load, so the type changes the
# file and the load, not the kernels. Prints the machine, the commands, the
# JIT's compile times (-v) and smepilot-run's timing summary per engine;
# record the numbers in bench/RESULTS.md.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
threads="${THREADS:-2}"
n_prompt="${PROMPT_TOKENS:-128}"
n_gen="${GEN_TOKENS:-32}"
work="${WORK:-/tmp/smepilot-bench}"
types=("$@")
[ ${#types[@]} -gt 0 ] || types=(bf16 q8_0)

for tool in smepilot-run smepilot-synth; do
  [ -x "$build/bin/$tool" ] || { echo "error: $build/bin/$tool not built (scripts/build.sh)" >&2; exit 1; }
done
mkdir -p "$work"

# Token ids 1000, 1001, ...: ordinary Llama-3 vocabulary entries.
ids="$(seq -s, 1000 $((1000 + n_prompt - 1)))"
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs," \
     "$(free -g | awk '/^Mem:/ {print $2}') GiB RAM"
echo "flags:   $(grep -o -w -E 'avx2|fma|avx512f|avx512_bf16|avx512_vnni' /proc/cpuinfo | sort -u | tr '\n' ' ')"
for type in "${types[@]}"; do
  model="$work/llama3.2-1b-$type.gguf"
  if [ ! -f "$model" ]; then
    "$build/bin/smepilot-synth" llama3.2-1b -o "$model" --type "$type" -t "$threads"
  fi
  echo
  echo "model:   $model ($(du -h "$model" | cut -f1))"
  for engine in jit reference; do
    cmd=("$build/bin/smepilot-run" -m "$model" --engine "$engine" --prompt-ids "$ids"
         -n "$n_gen" --temp 0 --ignore-eos -t "$threads" -c 512 -v)
    echo "--- $engine: ${cmd[*]:0:6} <$n_prompt ids> ${cmd[*]:7}"
    echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
    # -v also prints the model and the prompt ids: keep the timing lines.
    "${cmd[@]}" 2>&1 > /dev/null | grep -E 'jit:|load |prefill|decode' || true
  done
done
