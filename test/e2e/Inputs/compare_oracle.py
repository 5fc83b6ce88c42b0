#!/usr/bin/env python3
"""Compares teacher-forced logits (`smepilot-run --logits-out`, float32 .npy,
one row per position: the prompt's, then the teacher tokens') with a
llama.cpp oracle of ../shared/models/oracles (docs: ../shared/models/README.md).
The oracle's logit row k is position n_prompt - 1 + k; for every such row it
gives the top-20 token ids and values. Fails unless the file has every one of
those rows, each top-20 value is within TOL, and the argmax is the oracle's
wherever the oracle's top-1/top-2 gap exceeds 2 * TOL. Prints one summary
line.

    compare_oracle.py ORACLE.json PROMPT LOGITS.npy TOL
"""
import ast
import json
import struct
import sys


def read_npy(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:6] != b"\x93NUMPY" or data[6] != 1:
        sys.exit(f"{path}: not a version-1 .npy file")
    (header_len,) = struct.unpack_from("<H", data, 8)
    header = ast.literal_eval(data[10:10 + header_len].decode("latin1"))
    if header["descr"] != "<f4" or header["fortran_order"]:
        sys.exit(f"{path}: expected little-endian float32 in C order, got {header}")
    rows, cols = header["shape"]
    return rows, cols, struct.unpack_from(f"<{rows * cols}f", data, 10 + header_len)


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    oracle = json.load(open(sys.argv[1]))
    prompt = oracle["configs"]["f32kv"]["prompts"][sys.argv[2]]
    rows, cols, v = read_npy(sys.argv[3])
    tol = float(sys.argv[4])
    if cols != oracle["n_vocab"]:
        sys.exit(f"FAIL: {cols} logits per row, the oracle's vocabulary is {oracle['n_vocab']}")
    worst, checked = 0.0, 0
    for row in prompt["logits"]:
        r = prompt["n_prompt"] - 1 + row["row"]
        if r >= rows:
            sys.exit(f"FAIL: oracle row {row['row']} is position {r}; the file has {rows} rows")
        base = r * cols
        for token, value in row["top20"]:
            d = abs(v[base + token] - value)
            worst = max(worst, d)
            if d > tol:
                sys.exit(f"FAIL: position {r} token {token}: {v[base + token]} vs "
                         f"llama.cpp {value} (|d| = {d:.3g} > {tol})")
        top = row["top20"]
        if top[0][1] - top[1][1] > 2 * tol:
            argmax = max(range(cols), key=lambda j: v[base + j])
            if argmax != row["argmax"]:
                sys.exit(f"FAIL: position {r}: argmax {argmax}, llama.cpp {row['argmax']}")
            checked += 1
    print(f"oracle match: {len(prompt['logits'])} rows, max |d| {worst:.3g} <= {tol}, "
          f"argmax equal at {checked} clear rows")


if __name__ == "__main__":
    main()
