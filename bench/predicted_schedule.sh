#!/usr/bin/env bash
# Predicted vs delivered (issue 13, item 5): for Llama-3.2-1B and 3B shapes on
# the apple-m4 and phone-c1-sme2 profiles, prefill (one chunk of CHUNK tokens,
# context CTX) and decode (chunk 1):
#  - the dispatches per phase by mode (cpu / sme / collab, and how many are
#    pipelined attention stages), counted in the real dispatch tables (the
#    SME pipeline stopped after its `dispatch` stage);
#  - the Roofline prediction of the phase as the overlapping executor would
#    schedule it (smepilot-simulate-schedule on the IR after the
#    `pipeline-attention` stage), next to the all-CPU prediction.
# This machine has no matrix unit: every time here is a prediction from the
# profiles' peaks, never a measurement (speeds under qemu mean nothing).
#
#   bench/predicted_schedule.sh            all four model x profile pairs
#
# Environment: BUILD_DIR (build/), CTX (512), CHUNK (128), WORKERS (the
# vector-core workers of a second simulation; default 3, i.e. -t 4 with one
# matrix-unit worker), TRACE_DIR (keep the simulations' per-task traces).
# The graph is built from the model's shapes (smepilot-build-model: weights
# are F32 in the graph, as the runtime dequantizes them at load), so no GGUF
# file is needed; smepilot-run --emit-object caps the prompt chunk at 64.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
ctx="${CTX:-512}"
chunk="${CHUNK:-128}"
workers="${WORKERS:-3}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

# Llama-3.2 shapes (meta-llama/Llama-3.2-1B and -3B config.json): hidden,
# layers, heads, KV heads, head dim, FFN; both have a 128256-token vocabulary,
# tied embeddings, RoPE theta 500000 with Llama-3.1 frequency factors.
shape() {
  case "$1" in
    1b) echo "--n-embd=2048 --n-layer=16 --n-head=32 --n-head-kv=8 --head-dim=64 --n-ff=8192" ;;
    3b) echo "--n-embd=3072 --n-layer=28 --n-head=24 --n-head-kv=8 --head-dim=128 --n-ff=8192" ;;
  esac
}

echo "# smepilot $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet -- lib include || echo ' (+ uncommitted changes in lib/ include/)'), ctx $ctx, prefill chunk $chunk"
for model in 1b 3b; do
  # shellcheck disable=SC2046
  "$build/bin/smepilot-build-model" --arch=llama --n-vocab=128256 $(shape $model) \
    --rope-theta=500000 --rms-eps=1e-5 --rope-freqs --tied-embeddings \
    --last-row-logits --n-ctx="$ctx" --chunk-sizes="1,$chunk" -o "$out/$model.mlir"
  for profile in apple-m4 phone-c1-sme2; do
    echo
    echo "## Llama-3.2-${model^^} shapes, $profile"
    annotate="--smepilot-roofline-annotate=profile=$profile"
    sme="target=sme-sve weight-type=bf16"
    "$build/bin/smepilot-opt" "$out/$model.mlir" "$annotate" \
      "--smepilot-sme-pipeline=$sme stop-after=dispatch" \
      --smepilot-simulate-schedule -o /dev/null
    "$build/bin/smepilot-opt" "$out/$model.mlir" "$annotate" \
      "--smepilot-sme-pipeline=$sme stop-after=pipeline-attention" \
      --smepilot-simulate-schedule=trace=true -o /dev/null >"$out/trace"
    grep -v '^  task ' "$out/trace"
    if [ -n "${TRACE_DIR:-}" ]; then
      mkdir -p "$TRACE_DIR"
      cp "$out/trace" "$TRACE_DIR/$model-$profile.txt"
    fi
    "$build/bin/smepilot-opt" "$out/$model.mlir" "$annotate" \
      "--smepilot-sme-pipeline=$sme stop-after=pipeline-attention" \
      --smepilot-simulate-schedule=vector-workers="$workers" -o /dev/null |
      grep -E '^(schedule|phase|  scheduled)'
  done
done
