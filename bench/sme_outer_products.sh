#!/usr/bin/env bash
# SME outer products executed per token, counted under qemu-aarch64 from its
# translation log (bench/count_outer_products.py): an instruction count, so
# exact whatever the emulator's speed, for the vector length it runs at.
# Every contraction on SME (--sme-all, --sme-type auto). Prefill: a prompt of
# CHUNK tokens in one chunk (its last-row phase); decode: DECODE greedy decode
# steps after it (a second run minus the first), at positions CHUNK on.
#
#   bench/sme_outer_products.sh [MODEL.gguf ...]   default: stories260K, qwen3-tiny-bf16
#
# Environment: BUILD_DIR (build/), SVLS ("128 512" bits), CHUNK (4), DECODE (4).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
svls="${SVLS:-128 512}"
chunk="${CHUNK:-4}"
decode="${DECODE:-4}"
models=("$@")
[ ${#models[@]} -eq 0 ] && models=("$root/../shared/models/stories260K.gguf"
                                   "$root/../shared/models/qwen3-tiny-bf16.gguf")
a64="$build/runtime-aarch64"
libs=("$a64/tools/smepilot-run/libsmepilot_run_cli.a" "$a64/runtime/libsmepilot_rt.a" -lpcre2-8 -pthread)
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

ids() { seq -s, 100 $((100 + $1 - 1)); } # token ids 100, 101, ... (any valid ids)

count() { # object exe svl_bits args... -> executed outer products
  local obj="$1" exe="$2" bytes=$(($3 / 8))
  shift 3
  rm -f "$out/log"
  mkfifo "$out/log"
  python3 "$root/bench/count_outer_products.py" "$obj" "$out/log" >"$out/count" &
  qemu-aarch64 -cpu "max,sve-default-vector-length=$bytes,sme-default-vector-length=$bytes" \
    -d in_asm,exec,nochain -D "$out/log" "$exe" "$@" >/dev/null 2>&1
  wait $!
  cut -d' ' -f1 "$out/count"
}

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), qemu $(qemu-aarch64 --version | head -1 | awk '{print $3}')"
echo "prompt chunk $chunk tokens, then $decode decode steps; --sme-all, --sme-type auto"
for model in "${models[@]}"; do
  name="$(basename "$model" .gguf)"
  obj="$out/$name.o"
  "$build/bin/smepilot-run" -m "$model" --target sme-sve --sme-all -c 64 -b "$chunk" \
    --emit-object "$obj" 2>/dev/null
  clang++-22 --target=aarch64-linux-gnu -fuse-ld=lld -static "$obj" "${libs[@]}" -o "$out/$name.exe"
  static="$(/usr/lib/llvm-22/bin/llvm-objdump -d --mattr=+sme,+sve,+bf16 "$obj" |
    grep -cE '\s(fmopa|bfmopa|smopa|umopa)\s' || true)"
  echo
  echo "== $name: $static outer-product instructions in the object"
  printf '  %-9s %14s %14s\n' "SVL" "prefill/token" "decode/token"
  for svl in $svls; do
    # Greedy generation: the prompt chunk, then one decode step per token
    # after the first; -n 1 and -n 1+DECODE differ by DECODE decode steps.
    common=(-m "$model" -c 64 -b "$chunk" --engine aot -t 1 --temp 0 --ignore-eos
            --prompt-ids "$(ids "$chunk")")
    p="$(count "$obj" "$out/$name.exe" "$svl" "${common[@]}" -n 1)"
    pd="$(count "$obj" "$out/$name.exe" "$svl" "${common[@]}" -n $((1 + decode)))"
    printf '  %-9s %14d %14d\n' "$svl bits" $((p / chunk)) $(((pd - p) / decode))
  done
done
