#!/usr/bin/env bash
# The SME path, measured the only way this machine allows (it has no matrix
# unit; speed under qemu means nothing): for each model, which ops the
# compiler put on SME, how many SME outer-product instructions the object
# code holds, and the Roofline-predicted time per layer on the Apple-M4 and
# SME2-phone profiles. Predictions, never measurements.
#
#   bench/sme_path.sh [MODEL.gguf ...]    default: stories260K, qwen3-tiny-f16,
#                                         and Llama-3.2-1B shapes if WORK has it
#
# Environment: BUILD_DIR (build/), WORK (/tmp/smepilot-bench: the synthetic
# models of bench/jit_engine.sh), CTX (512), BATCH (64).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
work="${WORK:-/tmp/smepilot-bench}"
ctx="${CTX:-512}"
batch="${BATCH:-64}"
models=("$@")
if [ ${#models[@]} -eq 0 ]; then
  models=("$root/../shared/models/stories260K.gguf" "$root/../shared/models/qwen3-tiny-f16.gguf")
  [ -f "$work/llama3.2-1b-bf16.gguf" ] && models+=("$work/llama3.2-1b-bf16.gguf")
fi
objdump=/usr/lib/llvm-22/bin/llvm-objdump
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

count_mopa() { # outer products (f32 fmopa, widening bfmopa/fmopa 2-way, int smopa/umopa)
  "$objdump" -d --mattr=+sme,+sme-f64f64,+sme-i16i64,+sve "$1" | grep -cE '\s(fmopa|bfmopa|smopa|umopa|sumopa|usmopa)\s' || true
}
sme_dispatches() { # dispatches of mode sme / all dispatches, per phase, from the dispatch stage
  local f
  f="$(ls "$1"/*-dispatch.mlir)"
  grep -o 'smepilot.dispatch_table @[a-z0-9_]*' "$f" | sed 's/.*@//' | while read -r phase; do
    line="$(grep "smepilot.dispatch_table @$phase " "$f")"
    total="$( (grep -o 'name = "'"$phase"'_d[0-9]*:' <<<"$line" || true) | wc -l)"
    if [ "$phase" = load ]; then # the load table: work on weights alone, run once
      packed="$( (grep -o 'name = "pack[0-9]*(' <<<"$line" || true) | wc -l)"
      echo "    load (once): $total dispatches, $packed packed weights"
      continue
    fi
    sme="$( (grep -o 'mode = 1 : i64' <<<"$line" || true) | wc -l)"
    echo "    $phase: $sme of $total dispatches on SME"
  done
}

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs (no SME: nothing below is measured)"
for model in "${models[@]}"; do
  name="$(basename "$model" .gguf)"
  echo
  echo "== $name (-c $ctx -b $batch)"
  for choice in m4 all; do
    flags=(--profile apple-m4)
    [ "$choice" = all ] && flags=(--sme-all)
    dir="$out/$name-$choice"
    "$build/bin/smepilot-run" -m "$model" --target sme-sve "${flags[@]}" -c "$ctx" -b "$batch" \
      --emit-object "$dir.o" --dump-mlir "$dir" 2>/dev/null
    echo "  ${flags[*]}: object $(du -h "$dir.o" | cut -f1), $(count_mopa "$dir.o") outer-product instructions"
    sme_dispatches "$dir"
  done
  # Roofline predictions of the builder's module (the layer body counts once:
  # one layer; the forward functions hold the embedding, norm and LM head).
  for profile in apple-m4 phone-c1-sme2; do
    "$build/bin/smepilot-opt" "$out/$name-m4/00-builder.mlir" \
      --smepilot-roofline-annotate="profile=$profile" \
      --smepilot-roofline-report="output=$out/$name-$profile" -o /dev/null
    echo "  Roofline, $profile (predicted):"
    grep -E '^(ops:|predicted time:)' "$out/$name-$profile.txt" | sed 's/^/    /'
  done
done
