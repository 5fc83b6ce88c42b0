#!/usr/bin/env python3
"""Counts the SME outer-product instructions a program really executes under
qemu-aarch64, from qemu's translation log (-d in_asm,exec,nochain): in_asm
lists each translated block once with its instruction words, exec logs
every execution of a block by its address (nochain makes every execution
visible). An instruction is an outer product when its word is one of the
FMOPA/BFMOPA/SMOPA/... words of the model object (llvm-objdump), so only the
compiled kernels count. Instruction counts do not depend on the emulator's
speed: they are what the same binary executes on hardware at that vector
length.

    count_outer_products.py MODEL.o QEMU_LOG     (the log may be a fifo)
Prints: <executed outer products> <distinct outer-product words>
"""
import re
import subprocess
import sys

OBJDUMP = "/usr/lib/llvm-22/bin/llvm-objdump"
MOPA = re.compile(r"^\s*[0-9a-f]+:\s+([0-9a-f]{8})\s+(fmopa|bfmopa|smopa|umopa|sumopa|usmopa)\s")


def mopa_words(obj):
    out = subprocess.run([OBJDUMP, "-d", "--mattr=+sme,+sme-f64f64,+sme-i16i64,+sve,+bf16", obj],
                         check=True, capture_output=True, text=True).stdout
    return {m.group(1) for m in map(MOPA.match, out.splitlines()) if m}


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    words = mopa_words(sys.argv[1])
    per_block = {}  # guest pc of a block -> outer products in it
    block, count, executed = None, 0, 0
    insn = re.compile(r"^0x([0-9a-f]+):\s+([0-9a-f]{8})\s")
    trace = re.compile(r"^Trace \d+: 0x[0-9a-f]+ \[[0-9a-f]+/([0-9a-f]+)/")
    with open(sys.argv[2], errors="replace") as log:
        for line in log:
            if line.startswith("Trace"):
                m = trace.match(line)
                if m:
                    executed += per_block.get(int(m.group(1), 16), 0)
                continue
            m = insn.match(line)
            if m:
                pc = int(m.group(1), 16)
                if block is None:
                    block, count = pc, 0
                count += m.group(2) in words
                continue
            if block is not None:  # the end of a block's listing
                per_block[block] = count
                block = None
    print(executed, len(words))


if __name__ == "__main__":
    main()
