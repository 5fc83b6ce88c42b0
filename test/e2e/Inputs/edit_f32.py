#!/usr/bin/env python3
"""Writes a copy of a GGUF file with values of its F32 tensors changed.

  edit_f32.py IN OUT EDIT...

  scale:SUBSTRING=FACTOR   multiply every F32 tensor whose name contains
                           SUBSTRING by FACTOR
  set:TENSOR[INDEX]=VALUE  set one element (flat index); VALUE may be nan, inf

The tensor table comes from `smepilot-gguf dump` (absolute data offsets);
everything else is copied byte for byte.
"""
import array
import re
import subprocess
import sys


def main(argv):
    if len(argv) < 4:
        sys.exit(__doc__)
    dump = subprocess.run(["smepilot-gguf", "dump", argv[1]], check=True,
                          capture_output=True, text=True).stdout
    tensors = {}
    for line in dump.splitlines():
        m = re.match(r"\s+\d+\s+(\S+)\s+(\S+)\s+\[.*?\]\s+(\d+)\s+(\d+)$", line)
        if m:
            tensors[m.group(1)] = (m.group(2), int(m.group(3)), int(m.group(4)))
    with open(argv[1], "rb") as f:
        data = bytearray(f.read())

    def values(name):
        kind, offset, size = tensors[name]
        if kind != "f32":
            sys.exit(f"{name} is {kind}, not f32")
        a = array.array("f")
        a.frombytes(bytes(data[offset:offset + size]))
        return a, offset

    for edit in argv[3:]:
        op, _, arg = edit.partition(":")
        target, _, value = arg.partition("=")
        if op == "scale":
            names = [n for n in tensors if target in n]
            if not names:
                sys.exit(f"no tensor name contains {target}")
            for name in names:
                a, offset = values(name)
                for i in range(len(a)):
                    a[i] *= float(value)
                data[offset:offset + len(a) * 4] = a.tobytes()
        elif op == "set":
            m = re.fullmatch(r"(.+)\[(\d+)\]", target)
            if not m:
                sys.exit(f"bad edit {edit}")
            a, offset = values(m.group(1))
            a[int(m.group(2))] = float(value)
            data[offset:offset + len(a) * 4] = a.tobytes()
        else:
            sys.exit(f"bad edit {edit}")
    with open(argv[2], "wb") as f:
        f.write(data)


if __name__ == "__main__":
    main(sys.argv)
