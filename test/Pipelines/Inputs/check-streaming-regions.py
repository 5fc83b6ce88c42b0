#!/usr/bin/env python3
"""Checks an `llvm-objdump -d` listing of SME kernels for code that needs
plain SVE outside streaming mode.

Each function is scanned in address order; `smstart` / `smstart sm` enter
streaming mode and `smstop` / `smstop sm` leave it (`smstart za` / `smstop
za` do not change it); every function starts outside. Outside streaming
mode, an instruction is a violation if it reads the vector length the SVE
way (cntb/cnth/cntw/cntd, rdvl, addvl/addpl, inc*/dec* by vector length) or
uses an SVE register (z0-z31, p0-p15). The SME forms (rdsvl, addsvl,
addspl) are allowed. Prints a summary and one line per violation; exits 1
if there is any.

On an SME CPU without SVE (Apple M4) each violation is a SIGILL.
"""
import re
import sys

FUNC = re.compile(r"^[0-9a-f]+ <([^>]+)>:$")
INSN = re.compile(r"^\s*([0-9a-f]+):\s+(?:[0-9a-f]{2,8}\s+)+\s*(\S+)\s*(.*)$")
VL_QUERY = re.compile(r"^(cnt[bhwd]|rdvl|addvl|addpl|(inc|dec|sqinc|sqdec|uqinc|uqdec)[bhwd])$")
SVE_REG = re.compile(r"\b(z([0-9]|[12][0-9]|3[01])|p([0-9]|1[0-5]))(\.[bhsdq]|/[mz]|\b)")


def main():
    functions = 0
    regions = 0
    violations = []
    streaming_insns = 0
    func = None
    streaming = False
    for line in sys.stdin:
        line = line.rstrip("\n")
        m = FUNC.match(line)
        if m:
            func, streaming = m.group(1), False
            functions += 1
            continue
        m = INSN.match(line)
        if not m or func is None:
            continue
        addr, mnemonic, operands = m.group(1), m.group(2), m.group(3)
        operands = operands.split("//")[0].split("<")[0].strip()
        if mnemonic == "smstart" and operands in ("", "sm"):
            streaming = True
            regions += 1
            continue
        if mnemonic == "smstop" and operands in ("", "sm"):
            streaming = False
            continue
        if streaming:
            streaming_insns += 1
            continue
        if VL_QUERY.match(mnemonic) or SVE_REG.search(operands):
            violations.append("%s+0x%s: %s %s" % (func, addr, mnemonic, operands))
    print("functions: %d, streaming regions: %d, streaming instructions: %d, "
          "violations outside streaming mode: %d"
          % (functions, regions, streaming_insns, len(violations)))
    for v in violations:
        print("violation: " + v)
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
