#!/usr/bin/env python3
"""Helpers of bench/host_performance.sh (python3, standard library only).

  host_performance.py info MODEL.gguf          the model's numbers (JSON)
  host_performance.py ids MODEL.gguf N SEED    N prompt token ids, BOS first
  host_performance.py report RAWDIR OUTDIR     host_performance.{md,json}
  host_performance.py meta FILE DATE COMMIT MACHINE LOAD0 LOAD1 COMMAND LLAMA_BENCH JSON
                                               the run's description (the script's)

The model numbers come from the GGUF header (no tensor data is read):
- weight_bytes_per_token: the bytes of every tensor a decode step reads: all
  of them, except token_embd (one row of it) unless the model has no
  output.weight (then token_embd is also the LM head and read whole); MoE
  expert tensors (*_exps) count n_expert_used / n_expert of their bytes.
- kv_bytes_per_pos: K and V of one position in every layer, f16 (2 bytes;
  llama.cpp's default cache type, and the type the issue plans for the JIT;
  the JIT holds f32 today, so at long contexts it reads twice that).
- prefill_flop_per_token(P): 2 x the multiply-adds of the layers' matrices
  (MoE experts: the used share) + the LM head once per P tokens (logits of
  the last position only, as llama-bench) + attention (QK^T and PV, 4 x
  n_head x head_dim per layer per key, (P + 1) / 2 keys on average).

The decode bound at position p is (weight_bytes_per_token + p x
kv_bytes_per_pos) / the read bandwidth host_roofs measured in the same run;
tg tests from an empty cache are taken at their mean position.
"""

import json
import os
import random
import statistics
import struct
import sys

# GGML type id -> (elements per block, bytes per block)
GGML_TYPES = {
    0: ("F32", 1, 4),
    1: ("F16", 1, 2),
    2: ("Q4_0", 32, 18),
    3: ("Q4_1", 32, 20),
    6: ("Q5_0", 32, 22),
    7: ("Q5_1", 32, 24),
    8: ("Q8_0", 32, 34),
    10: ("Q2_K", 256, 84),
    11: ("Q3_K", 256, 110),
    12: ("Q4_K", 256, 144),
    13: ("Q5_K", 256, 176),
    14: ("Q6_K", 256, 210),
    30: ("BF16", 1, 2),
}

# GGUF metadata value types: id -> struct format (None: string/array)
SCALAR = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?",
          10: "Q", 11: "q", 12: "d"}


class Reader:
    def __init__(self, f):
        self.f = f

    def unpack(self, fmt):
        size = struct.calcsize("<" + fmt)
        data = self.f.read(size)
        if len(data) != size:
            raise ValueError("truncated GGUF header")
        return struct.unpack("<" + fmt, data)

    def string(self):
        (n,) = self.unpack("Q")
        return self.f.read(n).decode("utf-8", "replace")

    def value(self, vtype, keep=True):
        if vtype in SCALAR:
            return self.unpack(SCALAR[vtype])[0]
        if vtype == 8:
            return self.string()
        if vtype == 9:
            (etype, n) = self.unpack("IQ")
            if etype in SCALAR and not keep:
                self.f.seek(n * struct.calcsize(SCALAR[etype]), os.SEEK_CUR)
                return n
            items = [self.value(etype, keep) for _ in range(n)]
            return items if keep else n
        raise ValueError("unknown GGUF value type %d" % vtype)


def read_gguf(path):
    """Metadata (arrays other than short ones replaced by their length) and
    tensor infos [(name, dims, type)] of a GGUF file."""
    with open(path, "rb") as f:
        r = Reader(f)
        if f.read(4) != b"GGUF":
            raise ValueError("%s: not a GGUF file" % path)
        (version, n_tensors, n_kv) = r.unpack("IQQ")
        meta = {}
        for _ in range(n_kv):
            key = r.string()
            (vtype,) = r.unpack("I")
            # Vocabulary arrays are long: keep only their length.
            meta[key] = r.value(vtype, keep=not key.startswith("tokenizer.ggml."))
        tensors = []
        for _ in range(n_tensors):
            name = r.string()
            (n_dims,) = r.unpack("I")
            dims = r.unpack("Q" * n_dims)
            (ttype, _offset) = r.unpack("IQ")
            tensors.append((name, dims, ttype))
    return meta, tensors


def tensor_bytes(dims, ttype):
    if ttype not in GGML_TYPES:
        raise ValueError("GGML type %d not known to this script" % ttype)
    _, block, size = GGML_TYPES[ttype]
    n = 1
    for d in dims:
        n *= d
    return n // block * size


def model_info(path):
    meta, tensors = read_gguf(path)
    arch = meta["general.architecture"]

    def hp(key, default=None):
        return meta.get("%s.%s" % (arch, key), default)

    n_layer = hp("block_count")
    n_embd = hp("embedding_length")
    n_head = hp("attention.head_count")
    n_head_kv = hp("attention.head_count_kv", n_head)
    head_dim = hp("attention.key_length", n_embd // n_head)
    n_expert = hp("expert_count", 0)
    n_expert_used = hp("expert_used_count", 0)
    names = {t[0] for t in tensors}
    tied = "output.weight" not in names
    weight_bytes = 0
    matrix_madds = 0  # multiply-adds per token in the layers' matrices
    lm_head_madds = 0
    n_vocab = 0
    types = {}
    for name, dims, ttype in tensors:
        nbytes = tensor_bytes(dims, ttype)
        elems = 1
        for d in dims:
            elems *= d
        if len(dims) >= 2:
            tname = GGML_TYPES[ttype][0]
            types[tname] = types.get(tname, 0) + nbytes
        share = 1.0
        if "_exps" in name and n_expert:
            share = n_expert_used / n_expert
        if name == "token_embd.weight":
            n_vocab = dims[1]
            if tied:
                weight_bytes += nbytes
                lm_head_madds = elems
            else:
                weight_bytes += nbytes // dims[1]
            continue
        if name == "output.weight":
            lm_head_madds = elems
            weight_bytes += nbytes
            continue
        weight_bytes += nbytes * share
        if name.startswith("blk.") and len(dims) >= 2 and "ffn_gate_inp" not in name:
            matrix_madds += elems * share
        elif "ffn_gate_inp" in name:
            matrix_madds += elems
    main_type = max(types, key=types.get) if types else "?"
    bos = meta.get("tokenizer.ggml.bos_token_id")
    add_bos = meta.get("tokenizer.ggml.add_bos_token", True)
    return {
        "path": os.path.abspath(path),
        "name": os.path.basename(path),
        "arch": arch,
        "type": main_type,
        "file_bytes": os.path.getsize(path),
        "n_layer": n_layer,
        "n_embd": n_embd,
        "n_head": n_head,
        "n_head_kv": n_head_kv,
        "head_dim": head_dim,
        "n_expert": n_expert,
        "n_expert_used": n_expert_used,
        "n_vocab": n_vocab,
        "bos": bos if add_bos else None,
        "tied_embeddings": tied,
        "weight_bytes_per_token": int(weight_bytes),
        "kv_bytes_per_pos": 2 * n_layer * n_head_kv * head_dim * 2,
        "matrix_madds_per_token": int(matrix_madds),
        "lm_head_madds": int(lm_head_madds),
    }


def prefill_flop_per_token(info, n_prompt):
    attn = 4 * info["n_layer"] * info["n_head"] * info["head_dim"] * (n_prompt + 1) / 2
    return 2 * info["matrix_madds_per_token"] + 2 * info["lm_head_madds"] / n_prompt + attn


def decode_bound(info, pos, bandwidth_gbs):
    """Tokens/s a decode step at KV position pos cannot exceed."""
    nbytes = info["weight_bytes_per_token"] + pos * info["kv_bytes_per_pos"]
    return bandwidth_gbs * 1e9 / nbytes


def prompt_ids(info, n, seed):
    rng = random.Random(seed)
    ids = [info["bos"]] if info["bos"] is not None else []
    while len(ids) < n:
        ids.append(rng.randrange(0, info["n_vocab"]))
    return ids


# ---------------------------------------------------------------- report

def stats(samples):
    s = sorted(samples)
    return {"median": statistics.median(s), "min": s[0], "max": s[-1], "n": len(s),
            "samples": samples}


def parse_run(path):
    """smepilot-run's timing lines and /usr/bin/time -v's peak RSS."""
    out = {}
    with open(path, errors="replace") as f:
        for line in f:
            if "load time =" in line:
                out["load_ms"] = float(line.split("=")[1].split()[0])
            elif "prompt eval time =" in line:
                out["prefill_ts"] = float(line.split("(")[-1].split(",")[1].split()[0])
            elif line.strip().startswith("smepilot-run:") and " eval time =" in line:
                out["decode_ts"] = float(line.split("(")[-1].split(",")[1].split()[0])
                out["decode_runs"] = int(line.split("/")[1].split()[0])
            elif "Maximum resident set size" in line:
                out["peak_rss_kb"] = int(line.split(":")[1])
            elif "Exit status" in line:
                out["exit"] = int(line.split(":")[1])
    return out


def bench_entries(path):
    """Tests of a smepilot-bench or llama-bench JSON file:
    [(n_prompt, n_gen, n_depth, n_threads, samples_ts, load_ms)]."""
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError):
        return []
    out = []
    for e in data:
        load = e.get("load_ns")
        out.append((e.get("n_prompt", 0), e.get("n_gen", 0), e.get("n_depth", 0),
                    e.get("n_threads"), e.get("samples_ts") or [],
                    load / 1e6 if load else None))
    return out


def fmt_ts(s, digits=None):
    if not s:
        return "-"
    m = s["median"]
    if digits is None:
        digits = 1 if m >= 10 else 2
    spread = (s["max"] - s["min"]) / m * 100 if m else 0
    if s["n"] < 3:
        return "%.*f (%d run%s)" % (digits, m, s["n"], "" if s["n"] == 1 else "s")
    return "%.*f ±%.0f%%" % (digits, m, spread / 2)


def ratio(a, b):
    if not a or not b:
        return None
    return a["median"] / b["median"]


def fmt_ratio(r):
    return "-" if r is None else "%.2fx" % r


def fmt_pct(x):
    return "-" if x is None else "%.0f%%" % (x * 100)


def report(raw, outdir):
    with open(os.path.join(raw, "meta.json")) as f:
        meta = json.load(f)
    roofs_runs = []
    for name in sorted(os.listdir(raw)):
        if name.startswith("roofs") and name.endswith(".json"):
            with open(os.path.join(raw, name)) as f:
                roofs_runs.append(json.load(f))
    roofs = {}
    for key in ("read_gbs", "fp32_fma_gflops", "bf16_dot_gflops", "int8_vnni_gops"):
        vals = [r[key]["best"] for r in roofs_runs if key in r]
        if vals:
            roofs[key] = max(vals)
            roofs[key + "_runs"] = vals
    bw = roofs.get("read_gbs")
    for name in sorted(os.listdir(raw)):
        if name.startswith("lb_") and name.endswith(".json") and "llama_build" not in meta:
            try:
                with open(os.path.join(raw, name)) as f:
                    e = json.load(f)[0]
                meta["llama_build"] = "build %s, commit %s" % (e.get("build_number"),
                                                               e.get("build_commit"))
            except (OSError, ValueError, IndexError, KeyError):
                pass
    reps = meta["reps"]
    threads = meta["threads"]
    n_prompt, n_gen = meta["n_prompt"], meta["n_gen"]
    tg_pos = (n_gen - 1) / 2  # mean KV position of a tg test from an empty cache

    models = []
    for m in meta["models"]:
        info = model_info(m["path"])
        tag = m["tag"]
        row = {"model": info}
        for engine, prefix in (("jit", "sb"), ("llama.cpp", "lb")):
            res = {}
            for (p, n, d, t, samples, load) in bench_entries(
                    os.path.join(raw, "%s_%s.json" % (prefix, tag))):
                if p and not n:
                    res["prefill"] = stats(samples)
                elif n and not p:
                    res["decode"] = stats(samples)
                if load is not None:
                    res["bench_load_ms"] = load
            for (p, n, d, t, samples, load) in bench_entries(
                    os.path.join(raw, "%s_%s_t1.json" % (prefix, tag))):
                if p and not n:
                    res["prefill_t1"] = stats(samples)
                elif n and not p:
                    res["decode_t1"] = stats(samples)
            for (p, n, d, t, samples, load) in bench_entries(
                    os.path.join(raw, "%s_%s_depth.json" % (prefix, tag))):
                if n and not p:
                    res["decode_d%d" % d] = stats(samples)
            row[engine] = res
        bench_run = parse_run(os.path.join(raw, "sb_%s.err" % tag))
        if "peak_rss_kb" in bench_run:
            row["jit"]["bench_peak_rss_bytes"] = bench_run["peak_rss_kb"] * 1024
        runs = [parse_run(os.path.join(raw, f)) for f in sorted(os.listdir(raw))
                if f.startswith("run_%s_" % tag) and f.endswith(".txt")]
        runs = [r for r in runs if r.get("exit", 0) == 0 and "load_ms" in r]
        if runs:
            row["jit"]["run_load_ms"] = stats([r["load_ms"] for r in runs])
            rss = [r["peak_rss_kb"] * 1024 for r in runs if "peak_rss_kb" in r]
            if rss:
                row["jit"]["peak_rss_bytes"] = stats(rss)
        for depth in meta.get("depths", []):
            druns = [parse_run(os.path.join(raw, f)) for f in sorted(os.listdir(raw))
                     if f.startswith("rund%d_%s_" % (depth, tag)) and f.endswith(".txt")]
            druns = [r for r in druns if r.get("exit", 0) == 0 and "decode_ts" in r]
            if druns:
                row["jit"]["decode_d%d" % depth] = stats([r["decode_ts"] for r in druns])
        row["prefill_flop_per_token"] = prefill_flop_per_token(info, n_prompt)
        if bw:
            row["decode_bound_ts"] = decode_bound(info, tg_pos, bw)
            for depth in meta.get("depths", []):
                # smepilot-run decodes positions depth .. depth+n-2, llama-bench
                # depth .. depth+n-1: both at about depth + n/2.
                row["decode_bound_ts_d%d" % depth] = decode_bound(info, depth + tg_pos, bw)
        for key, label in (("fp32_fma_gflops", "fp32"), ("bf16_dot_gflops", "bf16"),
                           ("int8_vnni_gops", "int8")):
            if key in roofs:
                row["prefill_roof_ts_" + label] = roofs[key] * 1e9 / row["prefill_flop_per_token"]
        models.append(row)

    result = {"meta": meta, "roofs": roofs, "models": models}
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "host_performance.json"), "w") as f:
        json.dump(result, f, indent=1)
    with open(os.path.join(outdir, "host_performance.md"), "w") as f:
        f.write(render_md(result))


def secs(ms):
    return "%.1f s" % (ms / 1000) if ms >= 1000 else "%.0f ms" % ms


def gb(x):
    return "%.2f GB" % (x / 1e9) if x >= 1e8 else "%.1f MB" % (x / 1e6)


def render_md(result):
    meta, roofs, models = result["meta"], result["roofs"], result["models"]
    L = []
    L.append("Date: %s. smepilot %s. Threads: %d, %d runs per test (median ±half the "
             "min-max spread)." % (meta["date"], meta["commit"], meta["threads"], meta["reps"]))
    L.append("")
    L.append("Machine: %s." % meta["machine"])
    L.append("")
    L.append("Load average (1, 5, 15 min) at the start: %s; at the end: %s."
             % (meta["load_average"]["start"], meta["load_average"]["end"]))
    L.append("")
    L.append("Command: `%s`" % meta["command"])
    if meta.get("binaries"):
        L.append("")
        L.append("SMEPilot binaries: %s; the working tree held %d uncommitted or untracked "
                 "files when the run started (raw/git-status.txt)."
                 % (meta["binaries"], meta.get("uncommitted_files", 0)))
    if meta.get("llama_bench"):
        L.append("")
        L.append("llama.cpp: `%s` (%s)." % (meta["llama_bench"], meta.get("llama_build", "")))
    L.append("")
    if roofs:
        parts = []
        for key, label, unit in (("read_gbs", "read bandwidth", "GB/s"),
                                 ("fp32_fma_gflops", "FP32 FMA", "GFLOP/s"),
                                 ("bf16_dot_gflops", "BF16 dot", "GFLOP/s"),
                                 ("int8_vnni_gops", "int8 VNNI", "GOP/s")):
            if key in roofs:
                runs = ", ".join("%.0f" % v for v in roofs[key + "_runs"])
                parts.append("%s %.1f %s (best pass of each measurement: %s)"
                             % (label, roofs[key], unit, runs))
        L.append("Roofs, %d threads, measured by bench/host_roofs.cpp at the start and the end "
                 "of the run (the higher is used): %s." % (meta["threads"], "; ".join(parts)))
        L.append("")
    L.append("| weights | file | llama.cpp prefill | JIT prefill | JIT/llama.cpp | "
             "llama.cpp decode | JIT decode | JIT/llama.cpp | decode bound | "
             "llama.cpp % bound | JIT % bound | JIT load | JIT peak RSS |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in models:
        info, jit, lc = row["model"], row["jit"], row["llama.cpp"]
        bound = row.get("decode_bound_ts")
        pct = lambda s: (s["median"] / bound) if (s and bound) else None
        load = jit.get("run_load_ms")
        rss = jit.get("peak_rss_bytes")
        L.append("| %s %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            info["name"], "(%s)" % info["type"], gb(info["file_bytes"]),
            fmt_ts(lc.get("prefill")), fmt_ts(jit.get("prefill")),
            fmt_ratio(ratio(jit.get("prefill"), lc.get("prefill"))),
            fmt_ts(lc.get("decode")), fmt_ts(jit.get("decode")),
            fmt_ratio(ratio(jit.get("decode"), lc.get("decode"))),
            "-" if bound is None else "%.1f" % bound,
            fmt_pct(pct(lc.get("decode"))), fmt_pct(pct(jit.get("decode"))),
            "-" if not load else secs(load["median"]),
            "-" if not rss else gb(rss["max"])))
    L.append("")
    L.append("Prefill = pp%d (tokens/s, logits of the last position), decode = tg%d from an "
             "empty cache (tokens/s); JIT = smepilot-bench --engine jit, llama.cpp = "
             "llama-bench, the same GGUF file. Decode bound = (weight bytes read per token + "
             "f16 KV bytes at the mean position) / read bandwidth. JIT load and peak RSS: "
             "smepilot-run --engine jit --prompt-ids <%d ids> -n %d --temp 0 --ignore-eos "
             "-c 512 under /usr/bin/time -v (median load time, highest RSS of the runs)."
             % (meta["n_prompt"], meta["n_gen"], meta["n_prompt"], meta["n_gen"]))
    L.append("")
    # Load and memory, from both tools.
    L.append("| weights | file | smepilot-run load | smepilot-run peak RSS | "
             "smepilot-bench load | smepilot-bench peak RSS |")
    L.append("|---|---:|---:|---:|---:|---:|")
    for row in models:
        jit = row["jit"]
        load, rss = jit.get("run_load_ms"), jit.get("peak_rss_bytes")
        L.append("| %s | %s | %s | %s | %s | %s |" % (
            row["model"]["name"], gb(row["model"]["file_bytes"]),
            "-" if not load else "%s [%s-%s]" % (
                secs(load["median"]), secs(load["min"]), secs(load["max"])),
            "-" if not rss else gb(rss["max"]),
            "-" if not jit.get("bench_load_ms") else secs(jit["bench_load_ms"]),
            "-" if not jit.get("bench_peak_rss_bytes") else gb(jit["bench_peak_rss_bytes"])))
    L.append("")
    # Prefill roofs.
    if any("prefill_roof_ts_fp32" in r for r in models):
        L.append("| weights | GFLOP per prefill token | roof FP32 FMA | roof BF16 dot | "
                 "roof int8 VNNI | llama.cpp prefill | JIT prefill |")
        L.append("|---|---:|---:|---:|---:|---:|---:|")
        for row in models:
            lc, jit = row["llama.cpp"], row["jit"]
            roof = lambda k: "-" if k not in row else "%.0f t/s" % row[k]
            L.append("| %s | %.2f | %s | %s | %s | %s | %s |" % (
                row["model"]["name"], row["prefill_flop_per_token"] / 1e9,
                roof("prefill_roof_ts_fp32"), roof("prefill_roof_ts_bf16"),
                roof("prefill_roof_ts_int8"), fmt_ts(lc.get("prefill")),
                fmt_ts(jit.get("prefill"))))
        L.append("")
    # Scaling.
    scale_rows = []
    for row in models:
        for engine in ("llama.cpp", "jit"):
            res = row[engine]
            for test in ("prefill", "decode"):
                if test + "_t1" in res and test in res:
                    scale_rows.append("| %s | %s | %s | %s | %s | %s |" % (
                        row["model"]["name"], engine, test, fmt_ts(res[test + "_t1"]),
                        fmt_ts(res[test]), fmt_ratio(ratio(res[test], res[test + "_t1"]))))
    if scale_rows:
        L.append("Scaling, 1 vs %d threads:" % meta["threads"])
        L.append("")
        L.append("| weights | engine | test | -t 1 | -t %d | ratio |" % meta["threads"])
        L.append("|---|---|---|---:|---:|---:|")
        L.extend(scale_rows)
        L.append("")
    depth_rows = []
    for row in models:
        for depth in meta.get("depths", []):
            bound = row.get("decode_bound_ts_d%d" % depth)
            lc = row["llama.cpp"].get("decode_d%d" % depth)
            jit = row["jit"].get("decode_d%d" % depth)
            if lc or jit:
                pct = lambda s: (s["median"] / bound) if (s and bound) else None
                depth_rows.append("| %s | %d | %s | %s | %s | %s | %s | %s |" % (
                    row["model"]["name"], depth, fmt_ts(lc), fmt_ts(jit),
                    fmt_ratio(ratio(jit, lc)), "-" if bound is None else "%.1f" % bound,
                    fmt_pct(pct(lc)), fmt_pct(pct(jit))))
    if depth_rows:
        L.append("Decode at context depth D (llama.cpp: llama-bench -d D -n %d; JIT: "
                 "smepilot-run --prompt-ids <D ids> -n %d, its eval time, so positions "
                 "D .. D+%d):" % (meta["n_gen"], meta["n_gen"], meta["n_gen"] - 2))
        L.append("")
        L.append("| weights | D | llama.cpp decode | JIT decode | JIT/llama.cpp | bound | "
                 "llama.cpp % bound | JIT % bound |")
        L.append("|---|---:|---:|---:|---:|---:|---:|---:|")
        L.extend(depth_rows)
        L.append("")
    return "\n".join(L) + "\n"


def main(argv):
    if len(argv) >= 3 and argv[1] == "info":
        json.dump(model_info(argv[2]), sys.stdout, indent=1)
        print()
    elif len(argv) == 5 and argv[1] == "ids":
        print(",".join(str(i) for i in prompt_ids(model_info(argv[2]), int(argv[3]),
                                                 int(argv[4]))))
    elif len(argv) == 11 and argv[1] == "meta":
        (out, date, commit, machine, load_start, load_end, command, llama_bench,
         rest) = argv[2:]
        meta = {"date": date, "commit": commit, "machine": machine,
                "load_average": {"start": load_start, "end": load_end},
                "command": command, "llama_bench": llama_bench}
        meta.update(json.loads(rest))
        with open(out, "w") as f:
            json.dump(meta, f, indent=1)
    elif len(argv) == 4 and argv[1] == "report":
        report(argv[2], argv[3])
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
