#!/usr/bin/env bash
# Reference-executor throughput at real model size: Llama-3.2-1B shapes with
# random weights (smepilot-synth), a fixed prompt of token ids, greedy decode.
#
#   bench/reference_executor.sh [TYPE]      TYPE: bf16 (default), f32, f16, q8_0, q4_0
#
# Environment: BUILD_DIR (default build/), THREADS (2), PROMPT_TOKENS (128),
# GEN_TOKENS (32), WORK (/tmp/smepilot-bench: the synthetic model, ~2.5 GB for
# bf16, ~5 GB for f32, is generated there once and reused).
# Prints the machine, the command and smepilot-run's timing summary; record
# the numbers in bench/RESULTS.md.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
type="${1:-bf16}"
threads="${THREADS:-2}"
n_prompt="${PROMPT_TOKENS:-128}"
n_gen="${GEN_TOKENS:-32}"
work="${WORK:-/tmp/smepilot-bench}"
model="$work/llama3.2-1b-$type.gguf"

for tool in smepilot-run smepilot-synth; do
  [ -x "$build/bin/$tool" ] || { echo "error: $build/bin/$tool not built (scripts/build.sh)" >&2; exit 1; }
done
mkdir -p "$work"
if [ ! -f "$model" ]; then
  "$build/bin/smepilot-synth" llama3.2-1b -o "$model" --type "$type" -t "$threads"
fi

# Token ids 1000, 1001, ...: ordinary Llama-3 vocabulary entries.
ids="$(seq -s, 1000 $((1000 + n_prompt - 1)))"
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs," \
     "$(free -g | awk '/^Mem:/ {print $2}') GiB RAM; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "model:   $model ($(du -h "$model" | cut -f1))"
cmd=("$build/bin/smepilot-run" -m "$model" --prompt-ids "$ids" -n "$n_gen" --temp 0
     --ignore-eos -t "$threads" -c 512)
echo "command: ${cmd[*]:0:4} <$n_prompt ids> ${cmd[*]:5}"
"${cmd[@]}" > /dev/null
