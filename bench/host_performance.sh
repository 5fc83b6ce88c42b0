#!/usr/bin/env bash
# Host performance of the JIT engine beside llama.cpp, in one run (issue 14,
# "Targets"; bench/RESULTS.md, "Host performance vs llama.cpp"):
#   1. the machine's roofs: bench/host_roofs.cpp, built here with the system
#      compiler at -O3 -march=native, measures the THREADS-thread read
#      bandwidth (a STREAM-like sum over 1 GiB) and the FP32 FMA, BF16 dot
#      and int8 VNNI peaks, at the start and again at the end of the run;
#   2. for each model (one at a time: a 1B model on the JIT holds ~7.5 GB):
#      smepilot-bench --engine jit -p PROMPT_TOKENS -n GEN_TOKENS -r REPS
#      -t THREADS -o json, and, when LLAMA_BENCH names a llama-bench binary,
#      llama-bench with the same test, threads and repetitions;
#      smepilot-run --engine jit --prompt-ids <PROMPT_TOKENS ids> -n GEN_TOKENS
#      --temp 0 --ignore-eos -c 512 REPS times under /usr/bin/time -v (load
#      time and peak RSS: smepilot-bench reports neither RSS nor a load time
#      per run);
#   3. scaling, for the SCALING_MODELS: the same pp/tg tests at -t 1, and
#      decode at each context depth of DEPTHS (llama-bench -d D; the JIT:
#      smepilot-run with D prompt ids, its eval time, DEPTH_REPS runs, since
#      smepilot-bench has no depth option);
#   4. bench/host_performance.py turns the raw outputs into
#      OUTDIR/host_performance.{md,json} (medians with the spread, ratios vs
#      llama.cpp, decode as % of the bandwidth bound, prefill roofs) and
#      bench/host_performance_plot.py draws OUTDIR/host_performance.svg.
#
# Usage: bench/host_performance.sh [OUTDIR]   (default: build/bench-results)
# Environment: MODELS (GGUF files, space-separated; default stories260K),
# LLAMA_BENCH (path to llama-bench; unset: the JIT only), LLAMA_BUILD (what
# llama-bench was built from, for the report), THREADS (2),
# PROMPT_TOKENS (128), GEN_TOKENS (32), REPS (3), DEPTHS ("512 4096"),
# DEPTH_REPS (REPS), SCALING_MODELS (default: the first of MODELS; "none"),
# BUILD_DIR (build/), SMEPILOT_BENCH and SMEPILOT_RUN (the binaries; default
# BUILD_DIR/bin/...; copied to OUTDIR/raw/bin before measuring),
# SMEPILOT_BENCH_FLAGS and SMEPILOT_RUN_FLAGS (added to their commands, e.g.
# "--no-cache"), ROOFS_MIB (1024), CXX (c++), REPORT_ONLY (set: no
# measuring, only the report and plot again from OUTDIR/raw).
# The raw outputs stay in OUTDIR/raw. Run it on an otherwise idle machine
# where possible; run under `nice` when others share it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
outdir="${1:-$root/build/bench-results}"
threads="${THREADS:-2}"
n_prompt="${PROMPT_TOKENS:-128}"
n_gen="${GEN_TOKENS:-32}"
reps="${REPS:-3}"
read -r -a depths <<<"${DEPTHS:-512 4096}"
depth_reps="${DEPTH_REPS:-$reps}"
read -r -a models <<<"${MODELS:-$root/../shared/models/stories260K.gguf}"
read -r -a scaling <<<"${SCALING_MODELS:-${models[0]}}"
[ "${scaling[0]:-}" = none ] && scaling=()
llama_bench="${LLAMA_BENCH:-}"
py="$root/bench/host_performance.py"

sp_bench="${SMEPILOT_BENCH:-$build/bin/smepilot-bench}"
sp_run="${SMEPILOT_RUN:-$build/bin/smepilot-run}"
read -r -a bench_flags <<<"${SMEPILOT_BENCH_FLAGS:-}"
read -r -a run_flags <<<"${SMEPILOT_RUN_FLAGS:-}"
for tool in "$sp_bench" "$sp_run"; do
  [ -x "$tool" ] || { echo "error: $tool not built" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "error: /usr/bin/time (GNU time) is needed for the peak RSS" >&2; exit 1; }
if [ -n "$llama_bench" ] && [ ! -x "$llama_bench" ]; then
  echo "error: LLAMA_BENCH=$llama_bench is not an executable" >&2
  exit 1
fi
for m in "${models[@]}"; do
  [ -f "$m" ] || { echo "error: model $m not found" >&2; exit 1; }
done

raw="$outdir/raw"
log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }
tag_of() { basename "$1" .gguf; }

is_scaling() {
  local s
  for s in "${scaling[@]}"; do [ "$s" = "$1" ] && return 0; done
  return 1
}

run_jit() { # $1: output file, $2: model, $3: prompt tokens, $4: context
  local ids
  ids="$(python3 "$py" ids "$2" "$3" 1)"
  /usr/bin/time -v "$raw/bin/smepilot-run" -m "$2" --engine jit --prompt-ids "$ids" \
    -n "$n_gen" --temp 0 --ignore-eos -c "$4" -t "$threads" "${run_flags[@]}" >/dev/null \
    2>"$1" || {
    log "smepilot-run failed, see $1"
    tail -3 "$1" >&2
  }
}

measure() {
  rm -rf "$raw"
  mkdir -p "$raw/bin"
  # The binaries measured, copied first: others may rebuild build/bin meanwhile.
  cp -p "$sp_bench" "$raw/bin/smepilot-bench"
  cp -p "$sp_run" "$raw/bin/smepilot-run"
  binaries="smepilot-bench: $sp_bench, built $(date -u -r "$sp_bench" '+%Y-%m-%d %H:%M UTC')"
  binaries+="${SMEPILOT_BENCH_FLAGS:+ (flags: $SMEPILOT_BENCH_FLAGS)}; smepilot-run: $sp_run"
  binaries+=", built $(date -u -r "$sp_run" '+%Y-%m-%d %H:%M UTC')"
  binaries+="${SMEPILOT_RUN_FLAGS:+ (flags: $SMEPILOT_RUN_FLAGS)}"
  git -C "$root" status --short >"$raw/git-status.txt"

  # 1. The roofs.
  roofs_bin="$raw/host_roofs"
  "${CXX:-c++}" -std=c++17 -O3 -march=native -pthread "$root/bench/host_roofs.cpp" -o "$roofs_bin"
  log "roofs (start)"
  "$roofs_bin" --threads "$threads" --mib "${ROOFS_MIB:-1024}" >"$raw/roofs_1.json"
  cat "$raw/roofs_1.json" >&2

  load_start="$(cut -d' ' -f1-3 /proc/loadavg)"
  for m in "${models[@]}"; do
    tag="$(tag_of "$m")"
    log "$tag: smepilot-bench --engine jit"
    /usr/bin/time -v "$raw/bin/smepilot-bench" -m "$m" --engine jit -p "$n_prompt" -n "$n_gen" \
      -r "$reps" -t "$threads" "${bench_flags[@]}" -o json >"$raw/sb_$tag.json" \
      2>"$raw/sb_$tag.err" ||
      { log "smepilot-bench failed:"; tail -3 "$raw/sb_$tag.err" >&2; }
    if [ -n "$llama_bench" ]; then
      log "$tag: llama-bench"
      "$llama_bench" -m "$m" -p "$n_prompt" -n "$n_gen" -r "$reps" -t "$threads" -o json \
        >"$raw/lb_$tag.json" 2>"$raw/lb_$tag.err" ||
        { log "llama-bench failed:"; tail -3 "$raw/lb_$tag.err" >&2; }
    fi
    for i in $(seq 1 "$reps"); do
      log "$tag: smepilot-run --engine jit, run $i (load time, peak RSS)"
      run_jit "$raw/run_${tag}_$i.txt" "$m" "$n_prompt" 512
    done
    if is_scaling "$m"; then
      log "$tag: smepilot-bench --engine jit -t 1"
      "$raw/bin/smepilot-bench" -m "$m" --engine jit -p "$n_prompt" -n "$n_gen" -r "$reps" \
        -t 1 "${bench_flags[@]}" -o json >"$raw/sb_${tag}_t1.json" 2>"$raw/sb_${tag}_t1.err" ||
        { log "smepilot-bench -t 1 failed:"; tail -3 "$raw/sb_${tag}_t1.err" >&2; }
      if [ -n "$llama_bench" ]; then
        log "$tag: llama-bench -t 1"
        "$llama_bench" -m "$m" -p "$n_prompt" -n "$n_gen" -r "$reps" -t 1 -o json \
          >"$raw/lb_${tag}_t1.json" 2>"$raw/lb_${tag}_t1.err" ||
          { log "llama-bench -t 1 failed:"; tail -3 "$raw/lb_${tag}_t1.err" >&2; }
      fi
      if [ ${#depths[@]} -gt 0 ]; then
        if [ -n "$llama_bench" ]; then
          log "$tag: llama-bench -d ${depths[*]}"
          "$llama_bench" -m "$m" -p 0 -n "$n_gen" -d "$(
            IFS=,
            echo "${depths[*]}"
          )" -r "$reps" -t "$threads" -o json >"$raw/lb_${tag}_depth.json" \
            2>"$raw/lb_${tag}_depth.err" ||
            { log "llama-bench -d failed:"; tail -3 "$raw/lb_${tag}_depth.err" >&2; }
        fi
        for d in "${depths[@]}"; do
          for i in $(seq 1 "$depth_reps"); do
            log "$tag: smepilot-run --engine jit, $d prompt ids, run $i"
            run_jit "$raw/rund${d}_${tag}_$i.txt" "$m" "$d" $((d + n_gen + 16))
          done
        done
      fi
    fi
  done
  load_end="$(cut -d' ' -f1-3 /proc/loadavg)"

  log "roofs (end)"
  "$roofs_bin" --threads "$threads" --mib "${ROOFS_MIB:-1024}" >"$raw/roofs_2.json"
  cat "$raw/roofs_2.json" >&2

  # 4. The report.
  l3="$(lscpu | sed -n 's/^L3 cache: *//p')"
  machine="$(lscpu | sed -n 's/^Model name: *//p') (family $(lscpu |
    sed -n 's/^CPU family: *//p') model $(lscpu | sed -n 's/^Model: *//p')), $(nproc) CPUs ($(lscpu |
    sed -n 's/^Thread(s) per core: *//p') thread per core)${l3:+, L3 $l3}, $(grep -o -w -E 'avx512f|avx512_bf16|avx512_vnni|amx_tile' \
    /proc/cpuinfo | sort -u | tr '\n' ' ' | sed 's/ $//'), $(free -g | awk '/^Mem:/ {print $2}') GiB RAM"
  model_json="["
  for m in "${models[@]}"; do
    [ "$model_json" = "[" ] || model_json+=","
    model_json+="{\"tag\": \"$(tag_of "$m")\", \"path\": \"$(readlink -f "$m")\"}"
  done
  model_json+="]"
  depth_json="[$(
    IFS=,
    echo "${depths[*]}"
  )]"
  lscpu >"$raw/lscpu.txt"
  command="${HOST_PERF_COMMAND:-MODELS=\"${models[*]}\" LLAMA_BENCH=$llama_bench bench/host_performance.sh $outdir}"
  python3 "$py" meta "$raw/meta.json" "$(date -u '+%Y-%m-%d %H:%M UTC')" \
    "$(git -C "$root" rev-parse --short HEAD)" "$machine" "$load_start" "$load_end" "$command" \
    "$llama_bench" "{\"threads\": $threads, \"reps\": $reps, \"depth_reps\": $depth_reps,
    \"n_prompt\": $n_prompt, \"n_gen\": $n_gen, \"depths\": $depth_json, \"models\": $model_json,
    \"binaries\": \"$binaries\", \"uncommitted_files\": $(wc -l <"$raw/git-status.txt")
    ${LLAMA_BUILD:+, \"llama_build\": \"$LLAMA_BUILD\"}}"
}

[ -n "${REPORT_ONLY:-}" ] || measure
python3 "$py" report "$raw" "$outdir"
python3 "$root/bench/host_performance_plot.py" "$outdir/host_performance.json" \
  "$outdir/host_performance.svg"
cat "$outdir/host_performance.md"
log "wrote $outdir/host_performance.md, .json, .svg"
