#!/usr/bin/env python3
"""Runs corrupt and inconsistent models through every way smepilot-run
compiles or runs a model, and checks each ends as a user error.

  corrupt_sweep.py SMEPILOT_RUN MODELS_DIR WORK_DIR

Every case is a model made from a good one (mutate_gguf.py edits its
metadata or tensor table; truncation and byte flips damage the file) and
runs through --engine reference, --engine jit and --emit-object. A case
passes when each run exits 1 with exactly one line "smepilot-run: error:
..." on stderr (no crash, no abort, no hang, no object written), and the JIT
and --emit-object name the same problem as the reference engine: the model
is checked once, the same way, before anything is compiled. Byte flips may
leave a model that still loads: such a run must then exit 0 or 1 the same
way in every engine, never crash.

Prints one line per case and a summary; exits 1 if any case failed.
"""
import os
import random
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MUTATE = os.path.join(HERE, "mutate_gguf.py")
TIMEOUT = 300

LLAMA = "stories260K.gguf"
QWEN3 = "qwen3-tiny-q8_0.gguf"
MOE = "qwen3moe-tiny-f16.gguf"

# (name, model, edits): metadata that disagrees with the tensors, missing
# and mistyped tensors, impossible values.
EDITS = [
    ("ffn-size", LLAMA, ["set:llama.feed_forward_length=u32:200"]),
    ("block-count+1", LLAMA, ["set:llama.block_count=u32:6"]),
    ("block-count-huge", LLAMA, ["set:llama.block_count=u32:3456106497"]),
    ("block-count-0", LLAMA, ["set:llama.block_count=u32:0"]),
    ("block-count-string", LLAMA, ["set:llama.block_count=str:5"]),
    ("no-block-count", LLAMA, ["del:llama.block_count"]),
    ("embd-size", LLAMA, ["set:llama.embedding_length=u32:128"]),
    ("head-count", LLAMA, ["set:llama.attention.head_count=u32:16"]),
    ("head-count-kv", LLAMA, ["set:llama.attention.head_count_kv=u32:3"]),
    ("head-count-0", LLAMA, ["set:llama.attention.head_count=u32:0"]),
    ("rope-dim-odd", LLAMA, ["set:llama.rope.dimension_count=u32:7"]),
    ("context-0", LLAMA, ["set:llama.context_length=u32:0"]),
    ("context-2^31", LLAMA, ["set:llama.context_length=u32:2147483648"]),
    ("context-2^32-1", LLAMA, ["set:llama.context_length=u32:4294967295"]),
    ("arch-unknown", LLAMA, ["set:general.architecture=str:gpt2"]),
    ("arch-empty", LLAMA, ["set:general.architecture=str:"]),
    ("vocab-size", LLAMA, ["shape:token_embd.weight=64,500"]),
    ("embd-3d", LLAMA, ["shape:token_embd.weight=64,512,1"]),
    ("embd-int-type", LLAMA, ["type:token_embd.weight=26"]),
    ("embd-unknown-type", LLAMA, ["type:token_embd.weight=99"]),
    ("output-shape", LLAMA, ["shape:output.weight=64,256"]),
    ("missing-ffn-up", LLAMA, ["drop:blk.3.ffn_up.weight"]),
    ("missing-output-norm", LLAMA, ["drop:output_norm.weight"]),
    ("missing-embd", LLAMA, ["drop:token_embd.weight"]),
    ("down-transposed", LLAMA, ["shape:blk.0.ffn_down.weight=64,172"]),
    ("norm-quantized", LLAMA, ["type:blk.1.attn_norm.weight=8"]),
    ("duplicate-name", LLAMA, ["rename:blk.0.attn_k.weight=blk.0.attn_q.weight"]),
    ("q8-data-past-end", QWEN3, ["shape:token_embd.weight=64,4000000"]),
    ("qk-norm-missing", QWEN3, ["drop:blk.0.attn_q_norm.weight"]),
    ("key-length", QWEN3, ["set:qwen3.attention.key_length=u32:16"]),
    ("expert-count", MOE, ["set:qwen3moe.expert_count=u32:16"]),
    ("experts-used>count", MOE, ["set:qwen3moe.expert_used_count=u32:9"]),
    ("expert-ffn-size", MOE, ["set:qwen3moe.expert_feed_forward_length=u32:64"]),
    ("router-missing", MOE, ["drop:blk.1.ffn_gate_inp.weight"]),
    ("experts-2d", MOE, ["shape:blk.0.ffn_up_exps.weight=64,256"]),
]


def run(smepilot_run, args):
    try:
        p = subprocess.run([smepilot_run] + args, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return None, "timed out after %d s" % TIMEOUT
    return p.returncode, p.stderr.decode(errors="replace")


def problem(stderr):
    """The error line without the engine-specific prefix, for comparing."""
    lines = [l for l in stderr.splitlines() if l.strip()]
    if len(lines) != 1 or not lines[0].startswith("smepilot-run: error: "):
        return None
    return lines[0][len("smepilot-run: error: "):]


def check_case(smepilot_run, model, work, name, may_load):
    """Runs one model three ways; returns a list of failure strings."""
    obj = os.path.join(work, name + ".o")
    modes = [
        ("reference", ["-m", model, "-p", "Once", "-n", "2", "--temp", "0",
                       "--engine", "reference"]),
        ("jit", ["-m", model, "-p", "Once", "-n", "2", "--temp", "0",
                 "--engine", "jit"]),
        ("emit-object", ["-m", model, "--target", "sme-sve",
                         "--emit-object", obj]),
    ]
    failures, results = [], {}
    for mode, args in modes:
        if os.path.exists(obj):
            os.remove(obj)
        rc, err = run(smepilot_run, args)
        results[mode] = (rc, err)
        if rc == 0 and may_load:
            continue
        if rc != 1 or problem(err) is None:
            failures.append("%s: exit %s, stderr: %s" %
                            (mode, rc, err.strip()[-400:] or "(empty)"))
        elif os.path.exists(obj):
            failures.append("%s: failed but wrote %s" % (mode, obj))
    if failures:
        return failures, False
    ref_rc, ref_err = results["reference"]
    if ref_rc == 1:
        for mode in ("jit", "emit-object"):
            rc, err = results[mode]
            if rc == 0:
                failures.append("%s: ran a model the reference rejects (%s)" %
                                (mode, problem(ref_err)))
            elif problem(err) != problem(ref_err):
                failures.append("%s: '%s' but the reference: '%s'" %
                                (mode, problem(err), problem(ref_err)))
    elif results["jit"][0] != 0:
        failures.append("jit: rejects a model the reference runs: %s" %
                        results["jit"][1].strip())
    return failures, ref_rc == 0


def main(argv):
    smepilot_run, models, work = argv[1:4]
    os.makedirs(work, exist_ok=True)
    cases = []
    for name, base, edits in EDITS:
        path = os.path.join(work, name + ".gguf")
        subprocess.run([sys.executable, MUTATE, os.path.join(models, base),
                        path] + edits, check=True)
        cases.append((name, path, False))
    # Truncations: inside the header, the metadata, the tensor table and
    # the data.
    with open(os.path.join(models, LLAMA), "rb") as f:
        good = f.read()
    for cut in (0, 7, 23, 4000, 13000, 14176, 200000, len(good) - 1):
        path = os.path.join(work, "truncated-%d.gguf" % cut)
        with open(path, "wb") as f:
            f.write(good[:cut])
        cases.append(("truncated-%d" % cut, path, False))
    # Byte flips in the header (metadata and tensor table), fixed seeds.
    rng = random.Random(12)
    for i in range(12):
        data = bytearray(good)
        for _ in range(3):
            data[rng.randrange(8, 14176)] ^= 1 << rng.randrange(8)
        path = os.path.join(work, "flipped-%d.gguf" % i)
        with open(path, "wb") as f:
            f.write(data)
        cases.append(("flipped-%d" % i, path, True))

    failed = 0
    for name, path, may_load in cases:
        failures, loaded = check_case(smepilot_run, path, work, name,
                                      may_load)
        print("%-22s %s" % (name, "FAILED" if failures else
                            "ok (still a valid model)" if loaded else "ok"))
        for f in failures:
            print("    " + f)
        failed += bool(failures)
    print("%d cases, %d failed" % (len(cases), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
