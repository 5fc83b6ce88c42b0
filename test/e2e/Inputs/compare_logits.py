#!/usr/bin/env python3
"""Compares two logits files written by `smepilot-run --logits-out` (float32
.npy, rows x vocab; docs/logits-file.md): fails unless they have the same
shape, every |a - b| <= TOL, and the argmax of every row is the same wherever
the first file's top-1/top-2 gap exceeds 2 * TOL. Prints one summary line.

    compare_logits.py A.npy B.npy TOL
"""
import ast
import struct
import sys


def read_npy(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:6] != b"\x93NUMPY":
        sys.exit(f"{path}: not a .npy file")
    major = data[6]
    if major == 1:
        (header_len,) = struct.unpack_from("<H", data, 8)
        start = 10
    else:
        (header_len,) = struct.unpack_from("<I", data, 8)
        start = 12
    header = ast.literal_eval(data[start:start + header_len].decode("latin1"))
    if header["descr"] != "<f4" or header["fortran_order"]:
        sys.exit(f"{path}: expected little-endian float32 in C order, got {header}")
    rows, cols = header["shape"]
    body = data[start + header_len:]
    values = struct.unpack_from(f"<{rows * cols}f", body)
    return rows, cols, values


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    ra, ca, a = read_npy(sys.argv[1])
    rb, cb, b = read_npy(sys.argv[2])
    tol = float(sys.argv[3])
    if (ra, ca) != (rb, cb):
        sys.exit(f"shape {ra}x{ca} != {rb}x{cb}")
    max_diff = max(abs(x - y) for x, y in zip(a, b))
    checked = 0
    for r in range(ra):
        row_a, row_b = a[r * ca:(r + 1) * ca], b[r * ca:(r + 1) * ca]
        top = sorted(row_a, reverse=True)[:2]
        if top[0] - top[1] <= 2 * tol:
            continue
        checked += 1
        if row_a.index(max(row_a)) != row_b.index(max(row_b)):
            sys.exit(f"row {r}: argmax {row_a.index(max(row_a))} != {row_b.index(max(row_b))}")
    print(f"{ra} rows x {ca}: max |a - b| = {max_diff:.3g} (tol {tol:g}), argmax equal at {checked} rows")
    if max_diff > tol:
        sys.exit(1)


main()
