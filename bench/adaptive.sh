#!/usr/bin/env bash
# Run-time adaptation, off against on (smepilot-run --adaptive off|on), one
# binary and one model, runs alternating so the machine's drift hits both
# alike: decode tokens/s per run (greedy, -n tokens after a short prompt),
# the re-plans -v printed in each run with adaptation on, then the median and
# range of each side and the ratio on/off.
#
#   bench/adaptive.sh BIN MODEL [ROUNDS] [GEN_TOKENS]
#
# ADAPT_PREFIX runs the binary under something (e.g. "qemu-aarch64 -cpu
# max,sve-default-vector-length=64,sme-default-vector-length=64": emulated
# times, which say nothing about an SME machine's speed); ADAPT_FLAGS adds
# smepilot-run flags (e.g. "--profile FILE -t 2"). BUSY_CPU=N keeps CPU N
# busy (a shell loop pinned there with taskset) while the rounds run, as
# bench/under_load.sh does: the load adaptation is for on a host without a
# matrix unit, where only the placement of dispatches (whole or spread over
# the threads) adapts.
set -euo pipefail
if [ $# -lt 2 ]; then
  sed -n '2,18p' "$0" >&2
  exit 2
fi
bin=$1 model=$2 rounds=${3:-4} ng=${4:-64}
[ -x "$bin" ] || { echo "adaptive.sh: not an executable: $bin" >&2; exit 2; }
[ -f "$model" ] || { echo "adaptive.sh: no model file: $model" >&2; exit 2; }
read -r -a prefix <<<"${ADAPT_PREFIX:-}"
read -r -a extra <<<"${ADAPT_FLAGS:-}"
flags=(-m "$model" --engine jit -p "Once upon a time" -n "$ng" --temp 0 --ignore-eos -v "${extra[@]}")
# Compile once (the object cache makes the timed runs start warm).
"${prefix[@]}" "$bin" "${flags[@]}" -n 1 >/dev/null 2>&1
busy=
if [ -n "${BUSY_CPU:-}" ]; then
  taskset -c "$BUSY_CPU" sh -c 'while :; do :; done' &
  busy=$!
  trap 'kill "$busy" 2>/dev/null || true' EXIT
  echo "busy loop on CPU $BUSY_CPU (pid $busy)"
fi
rate() { sed -n 's/.*, *\([0-9.]*\) tokens per second.*/\1/p'; }
declare -A tg
for r in $(seq "$rounds"); do
  for side in off on; do
    out=$("${prefix[@]}" "$bin" "${flags[@]}" --adaptive "$side" 2>&1 >/dev/null)
    t=$(echo "$out" | grep " eval time" | grep -v prompt | rate)
    n=$(echo "$out" | grep -c "adapt: " || true)
    tg[$side]+="$t "
    echo "round $r adaptive $side: decode $t t/s, $n re-plans"
  done
done
python3 - "${tg[off]}" "${tg[on]}" <<'PY'
import statistics, sys
off, on = ([float(x) for x in a.split()] for a in sys.argv[1:3])
for name, v in (("off", off), ("on", on)):
    print(f"adaptive {name}: decode median {statistics.median(v):.1f} t/s "
          f"(range {min(v):.1f}-{max(v):.1f}, {len(v)} runs)")
print(f"on/off: {statistics.median(on) / statistics.median(off):.2f}x")
PY
