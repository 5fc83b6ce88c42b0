#!/usr/bin/env python3
"""Predicted tables from `smepilot-run --explain=json --target`: nothing runs.

Two tables for bench/RESULTS.md (issue 15's "count it" and "the seed's own
table, predicted"):

  layouts   layout changes executed per call and per token, by phase, and the
            packed buffers reused from the load table, for the given models
            on the given profiles (the SME path's K-major copies as compiled
            today);
  speedups  the Roofline model's predicted prefill and decode speedup of
            SMEPilot's choices over a CPU-only plan, for full-size shapes
            built from one- and two-layer models (smepilot-synth): with T(n)
            a phase's predicted time with n layers, T(L) = T(1) + (L - 1) *
            (T(2) - T(1)), layers being identical.

The predictions add the dispatches of a phase up one after another (no
overlap between the units: an upper bound on the time of what the executor
overlaps); attention's KV length is the compiler's dynamic-size assumption
(128 positions). Prefill is the 64-token chunk phase (per token: / 64),
decode the one-token phase.

  host      this machine: the JIT's dispatches evaluated (a 128-token prompt of
            random ids, then 16 decode steps, 2 threads) with their measured
            wall time per run beside the host profile's prediction, summed by
            the kind of op they compute (the one measured table here).

  accuracy  this machine again, compiled once with the built-in host-x86
            profile and once with the profile `smepilot-run --calibrate`
            measures here (issue 16): each one's predictions against the
            measured times, per phase, and per dispatch as the time-weighted
            geometric mean of how far off (measured/predicted or its inverse).

usage: explain_tables.py BUILD_DIR WORK_DIR layouts MODEL... [--profiles P,...]
       explain_tables.py BUILD_DIR WORK_DIR speedups SHAPE... [--profiles P,...]
       explain_tables.py BUILD_DIR WORK_DIR host MODEL...
       explain_tables.py BUILD_DIR WORK_DIR accuracy MODEL...
"""
import json
import os
import subprocess
import sys

PREFILL, DECODE = "forward_c64", "forward_c1"


def explain(build, model, profile, ctx):
    out = subprocess.run(
        [os.path.join(build, "bin", "smepilot-run"), "-m", model, "-c", str(ctx),
         "--explain=json", "--target", "sme-sve", "--profile", profile, "--log-disable"],
        check=True, capture_output=True, text=True).stdout
    return {t["name"]: t for t in json.loads(out)["tables"]}


def layouts(build, models, profiles):
    print("| model | profile | phase | tokens/call | layout changes/call | per token "
          "| packed buffers reused from the load table | load-table packs |")
    print("|---|---|---|---|---|---|---|---|")
    for model in models:
        for profile in profiles:
            tables = explain(build, model, profile, 512)
            load = tables.get("load")
            packs = load["summary"]["layout_changes_per_call"] if load else 0
            for name in (DECODE, PREFILL, PREFILL + "_last"):
                t = tables.get(name)
                if not t:
                    continue
                s = t["summary"]
                print(f"| {os.path.basename(model)} | {profile} | {name} | {t['chunk']} "
                      f"| {s['layout_changes_per_call']} | {s['layout_changes_per_token']:.3g} "
                      f"| {s['packed_from_load']} | {packs} |")


def synth(build, work, shape, layers):
    path = os.path.join(work, f"{shape}-{layers}l-bf16.gguf")
    if not os.path.exists(path):
        subprocess.run([os.path.join(build, "bin", "smepilot-synth"), shape, "-o", path,
                        "--type", "bf16", "--layers", str(layers)], check=True)
    return path


def speedups(build, work, shapes, profiles):
    layers = {"llama3.2-3b": 28, "qwen3-4b": 36, "qwen3-30b-a3b": 48, "llama3.2-1b": 16}
    print("| shape (bf16) | profile | prefill: CPU-only / chosen, us per token | predicted "
          "prefill speedup | decode: CPU-only / chosen, us per token | predicted decode "
          "speedup |")
    print("|---|---|---|---|---|---|")
    for shape in shapes:
        one, two = synth(build, work, shape, 1), synth(build, work, shape, 2)
        n = layers[shape]
        for profile in profiles:
            t1, t2 = explain(build, one, profile, 4096), explain(build, two, profile, 4096)
            row = [shape, profile]
            for phase, per in ((PREFILL, 64), (DECODE, 1)):
                def total(key):
                    a = t1[phase]["summary"][key]
                    b = t2[phase]["summary"][key]
                    return (a + (n - 1) * (b - a)) / per
                cpu, chosen = total("predicted_cpu_only_us"), total("predicted_us")
                row += [f"{cpu:.0f} / {chosen:.0f}", f"{cpu / chosen:.2f}x"]
            print("| " + " | ".join(row) + " |")


def prompt_ids():
    """The 128 random token ids (seed 0) the host runs evaluate."""
    import random
    rng = random.Random(0)
    return ",".join(str(rng.randrange(1, 500)) for _ in range(128))


def host(build, models):
    ids = prompt_ids()
    print("| model | phase | runs | kind | dispatches | predicted us/run | measured us/run "
          "| measured / predicted |")
    print("|---|---|---|---|---|---|---|---|")
    for model in models:
        for t in run_explained(build, model, ids, "host-x86")["tables"]:
            if not t["runs"]:
                continue
            kinds = {}
            for d in t["dispatches"]:
                if d["measured_us"] is None:
                    continue
                if d["ops"]:
                    main = max(d["ops"], key=lambda o: o["flops"] + o["weight_bytes"]
                               + o["act_bytes"])
                    kind = main["kind"] if main["kind"] != "generic" else main["shape_class"]
                else:
                    kind = "(no builder op: " + d["name"].split(":")[-1] + ")"
                k = kinds.setdefault(kind, [0, 0.0, 0.0])
                k[0] += 1
                k[1] += d["predicted_us"] or 0.0
                k[2] += d["measured_us"]
            s = t["summary"]
            rows = sorted(kinds.items(), key=lambda kv: -kv[1][2])
            rows.append(("**phase**", [len(t["dispatches"]), s["predicted_us"],
                                       s["measured_us"]]))
            for kind, (n, pred, meas) in rows:
                ratio = f"{meas / pred:.2f}" if pred > 0 else "-"
                print(f"| {os.path.basename(model)} | {t['name']} | {t['runs']} | {kind} | {n} "
                      f"| {pred:.1f} | {meas:.1f} | {ratio} |")


def run_explained(build, model, ids, profile):
    """The JIT's explanation of a run (a 128-token prompt, 16 decode steps,
    2 threads) compiled with `profile`, measured times included."""
    out = subprocess.run(
        [os.path.join(build, "bin", "smepilot-run"), "-m", model, "--engine", "jit",
         "--no-cache", "-t", "2", "-c", "512", "--prompt-ids", ids, "-n", "16",
         "--profile", profile, "--explain=json", "--log-disable"],
        check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def accuracy(build, work, models):
    """Which profile predicts this host's dispatch times better: the built-in
    host-x86 or the one `smepilot-run --calibrate` measures here (written to
    WORK/cache, then passed by path)."""
    import glob
    import math
    env = dict(os.environ, XDG_CACHE_HOME=os.path.join(work, "cache"))
    table = subprocess.run([os.path.join(build, "bin", "smepilot-run"), "--calibrate"],
                           check=True, capture_output=True, text=True, env=env).stdout
    print("```\n" + table.rstrip() + "\n```\n")
    calibrated = sorted(glob.glob(os.path.join(work, "cache", "smepilot", "profiles",
                                               "calibrated-*.json")))[-1]
    ids = prompt_ids()
    print("| model | phase (runs) | profile | predicted us/run | measured us/run "
          "| measured / predicted | time-weighted factor off per dispatch |")
    print("|---|---|---|---|---|---|---|")
    for model in models:
        for name, profile in (("host-x86", "host-x86"), ("calibrated", calibrated)):
            doc = run_explained(build, model, ids, profile)
            for t in doc["tables"]:
                if not t["runs"]:
                    continue
                # |log2(measured / predicted)| of each dispatch with both,
                # weighted by its measured time: 1.0 = every dispatch exact.
                num = den = 0.0
                for d in t["dispatches"]:
                    pred, meas = d["predicted_us"], d["measured_us"]
                    if not pred or not meas:
                        continue
                    num += meas * abs(math.log2(meas / pred))
                    den += meas
                s = t["summary"]
                factor = 2 ** (num / den) if den else float("nan")
                print(f"| {os.path.basename(model)} | {t['name']} ({t['runs']}) | {name} "
                      f"| {s['predicted_us']:.1f} | {s['measured_us']:.1f} "
                      f"| {s['measured_us'] / s['predicted_us']:.2f} | {factor:.2f}x |")


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    build, work, what = sys.argv[1], sys.argv[2], sys.argv[3]
    args = sys.argv[4:]
    profiles = ["apple-m4", "phone-c1-sme2"]
    if "--profiles" in args:
        i = args.index("--profiles")
        profiles = args[i + 1].split(",")
        args = args[:i] + args[i + 2:]
    os.makedirs(work, exist_ok=True)
    if what == "layouts":
        layouts(build, args, profiles)
    elif what == "speedups":
        speedups(build, work, args, profiles)
    elif what == "host":
        host(build, args)
    elif what == "accuracy":
        accuracy(build, work, args)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
