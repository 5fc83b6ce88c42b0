#!/usr/bin/env python3
"""Reads an executor trace (smepilot-run --trace FILE: Chrome trace events,
one per kernel call with args phase, dispatch, unit, tiles, start_ns, end_ns)
and reports how many collab dispatch runs had their SME range and a CPU
range executing at the same time, how many pipelined dispatches
(names with "@attn.") ran, and how many QK^T calls of head h+1 ran while a
softmax call of head h of the same layer and phase ran. Fails unless at
least MIN_OVERLAPS collab runs overlapped.

    trace_overlap.py TRACE.json MIN_OVERLAPS
"""
import json
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        events = json.load(f)["traceEvents"]
    minimum = int(sys.argv[2])
    # One run of a dispatch = its calls between two runs of the phase: group
    # by (phase, dispatch) and split at gaps, by pairing each SME call with
    # the CPU calls of the same dispatch that overlap it in time.
    sme, cpu = {}, {}
    pipelined = 0
    stages = []  # (phase, stage kind, head, start, end)
    for e in events:
        a = e.get("args", {})
        if "dispatch" not in a:
            continue
        key = (a["phase"], a["dispatch"])
        span = (a["start_ns"], a["end_ns"])
        (sme if a["unit"] == "sme" else cpu).setdefault(key, []).append(span)
        name = e.get("name", "")
        if "@attn." in name:
            pipelined += 1
            kind, head = name.split("@attn.")[1].split(".h")
            stages.append((a["phase"], kind, int(head), span[0], span[1]))
    collab_runs = overlapped = 0
    for key, spans in sme.items():
        if key not in cpu:
            continue
        for begin, end in spans:
            collab_runs += 1
            if any(b < end and begin < e for b, e in cpu[key]):
                overlapped += 1
    # Head h+1's QK^T overlapping head h's softmax: any overlap in time
    # between those stages' calls in one phase counts (the layers run one
    # after another, so overlapping calls belong to the same layer).
    qk = [s for s in stages if s[1] == "qk"]
    softmax = [s for s in stages if s[1] == "softmax"]
    qk_over_softmax = sum(
        1 for p, _, h, b, e in qk
        if any(sp == p and sh == h - 1 and sb < e and b < se
               for sp, _, sh, sb, se in softmax))
    print(f"collab SME ranges: {collab_runs}, overlapping a CPU range of the "
          f"same dispatch: {overlapped}; pipelined kernel calls: {pipelined}, "
          f"QK^T of head h+1 overlapping softmax of head h: {qk_over_softmax}")
    if overlapped < minimum:
        sys.exit(f"FAIL: fewer than {minimum} overlapping collab runs")


if __name__ == "__main__":
    main()
