#!/usr/bin/env python3
"""Prints the dispatch-table globals of an LLVM-dialect module.

smepilot-emit-dispatch-tables turns every smepilot.dispatch_table into
constant globals laid out as runtime/include/smepilot_rt/abi.h declares them:
smepilot_table_<phase>, smepilot_compiled_model and the private
__smepilot_<...> arrays and strings they point to. This prints exactly those
top-level llvm.mlir.global ops (with their initializer regions), in module
order, so a test can compare the emitted tables of a model with a golden
file byte for byte while the kernels' code is free to change.
"""
import re
import sys

TABLE_GLOBAL = re.compile(
    r"^  llvm\.mlir\.global .*@(smepilot_table_|smepilot_compiled_model|__smepilot_)")


def main(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    out = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not TABLE_GLOBAL.match(line):
            i += 1
            continue
        out.append(line)
        i += 1
        # A global with an initializer region ends at the first line that
        # closes it at the global's own indentation.
        if line.rstrip().endswith("{"):
            while i < len(lines):
                out.append(lines[i])
                i += 1
                if lines[i - 1] == "  }":
                    break
    if not out:
        sys.exit(f"extract_tables.py: no dispatch-table globals in {path}")
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: extract_tables.py MODULE.mlir")
    main(sys.argv[1])
