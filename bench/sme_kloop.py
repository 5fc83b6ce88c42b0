#!/usr/bin/env python3
"""The k loop of an SME kernel, read from its object's disassembly.

Prints the innermost loop of `FUNCTION` that holds an outer product (FMOPA,
BFMOPA, SMOPA, ...): its instructions and how many are outer products, loads
and permutes (zip/uzp/unpack/tbl/ext/trn). A static count: what one k step
executes, whatever machine runs it.

    llvm-objdump -d --mattr=+sme,+sve,+bf16 kernel.o | bench/sme_kloop.py proj_bf16_sme0
"""
import re
import sys

LINE = re.compile(r"^\s*([0-9a-f]+):\s+(?:[0-9a-f]{8}\s+)?(\S+)\s*(.*)$")
BRANCH = re.compile(r"^(b(\.\w+)?|cbn?z|tbn?z)$")
TARGET = re.compile(r"0x([0-9a-f]+)")
PERMUTE = re.compile(r"^(zip[12]|uzp[12]|[su]unpk(hi|lo)|tbl|ext|trn[12]|rev\w*)$")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    name = sys.argv[1]
    body, inside = [], False
    for line in sys.stdin:
        if line.rstrip().endswith(f"<{name}>:"):
            inside = True
            continue
        if inside:
            if not line.strip() or line.rstrip().endswith(">:"):
                break
            m = LINE.match(line)
            if m:
                body.append((int(m.group(1), 16), m.group(2), m.group(3).strip()))
    if not body:
        sys.exit(f"sme_kloop: no function <{name}> in the input")
    # Innermost loop with an outer product: the shortest backward branch
    # range around one.
    best = None
    for i, (addr, op, args) in enumerate(body):
        t = TARGET.search(args)
        if not BRANCH.match(op) or not t or int(t.group(1), 16) > addr:
            continue
        start = int(t.group(1), 16)
        loop = [x for x in body if start <= x[0] <= addr]
        if any("mopa" in x[1] for x in loop) and (best is None or len(loop) < len(best)):
            best = loop
    if best is None:
        sys.exit(f"sme_kloop: no loop with an outer product in <{name}>")
    kinds = {"outer products": 0, "loads": 0, "permutes": 0, "other": 0}
    for _, op, args in best:
        if "mopa" in op:
            kinds["outer products"] += 1
        elif op.startswith("ld"):
            kinds["loads"] += 1
        elif PERMUTE.match(op):
            kinds["permutes"] += 1
        else:
            kinds["other"] += 1
    for _, op, args in best:
        print(f"  {op:8s} {args}")
    # LLVM may unroll a static k loop: per step is per 4 outer products (one
    # per ZA tile of the 2 x 2 block).
    steps = max(1, kinds["outer products"] // 4)
    print(f"{name}: k loop of {len(best)} instructions ({steps} k step{'s' if steps > 1 else ''} unrolled in it), "
          f"{len(best) / steps:.1f} per k step: " +
          ", ".join(f"{v / steps:g} {k}" for k, v in kinds.items()))


if __name__ == "__main__":
    main()
