#!/usr/bin/env bash
# Side-by-side A/B of two smepilot-run builds on one model, alternating runs so
# that the machine's drift hits both alike: prefill (a prompt of random token
# ids) and decode (-n tokens after it) tokens/s from smepilot-run's timing
# lines, per run, then the median and range of each and the ratio B/A.
#
#   bench/ab_runs.sh A_BIN B_BIN MODEL [ROUNDS] [PROMPT_TOKENS] [GEN_TOKENS]
#
# Both binaries compile the model once first (their object caches are keyed
# by their build ids), so the timed runs start from a warm cache. Extra
# smepilot-run flags go in AB_FLAGS (e.g. AB_FLAGS="-t 1").
set -euo pipefail
if [ $# -lt 3 ]; then
  sed -n '2,12p' "$0" >&2
  exit 2
fi
a=$1 b=$2 model=$3 rounds=${4:-4} np=${5:-128} ng=${6:-32}
for bin in "$a" "$b"; do
  [ -x "$bin" ] || { echo "ab_runs.sh: not an executable: $bin" >&2; exit 2; }
done
[ -f "$model" ] || { echo "ab_runs.sh: no model file: $model" >&2; exit 2; }
ids=$(python3 -c "import random; random.seed(1); print(','.join(str(random.randrange(100, 30000)) for _ in range($np)))")
flags=(--engine jit -c $((np + ng + 16)) --temp 0 --ignore-eos ${AB_FLAGS:-})
for bin in "$a" "$b"; do
  "$bin" -m "$model" "${flags[@]}" --prompt-ids 1,2 -n 1 >/dev/null 2>&1
done
rate() { sed -n 's/.*, *\([0-9.]*\) tokens per second.*/\1/p'; }
declare -A pp tg
for r in $(seq "$rounds"); do
  for side in A B; do
    bin=$a; [ $side = B ] && bin=$b
    out=$("$bin" -m "$model" "${flags[@]}" --prompt-ids "$ids" -n "$ng" 2>&1 >/dev/null)
    p=$(echo "$out" | grep "prompt eval time" | rate)
    t=$(echo "$out" | grep " eval time" | grep -v prompt | rate)
    pp[$side]+="$p "; tg[$side]+="$t "
    echo "round $r $side: pp $p t/s, tg $t t/s"
  done
done
python3 - "${pp[A]}" "${pp[B]}" "${tg[A]}" "${tg[B]}" <<'PY'
import statistics, sys
ppa, ppb, tga, tgb = ([float(x) for x in s.split()] for s in sys.argv[1:])
for name, a, b in (("prefill", ppa, ppb), ("decode", tga, tgb)):
    ma, mb = statistics.median(a), statistics.median(b)
    print(f"{name}: A {ma:.1f} t/s [{min(a):.1f}-{max(a):.1f}], "
          f"B {mb:.1f} t/s [{min(b):.1f}-{max(b):.1f}], B/A {mb / ma:.2f}x")
PY
