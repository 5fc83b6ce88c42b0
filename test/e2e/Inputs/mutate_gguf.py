#!/usr/bin/env python3
"""Writes a copy of a GGUF file with its metadata or tensor table changed.

The reliability sweep (corrupt-models.test) makes models whose metadata
disagrees with their tensors from a good one:

  mutate_gguf.py IN OUT [EDIT...]

  set:KEY=TYPE:VALUE    set (or add) a key; TYPE is u32, i32, u64, f32 or str
  del:KEY               drop a key
  drop:TENSOR           drop a tensor from the table (its data stays)
  type:TENSOR=N         give a tensor ggml type number N
  shape:TENSOR=A,B,...  give a tensor these dims (ne[0] first)
  rename:TENSOR=NEW     rename a tensor

Tensor data is copied byte for byte at the same offsets: only the header
changes. Only what the sweep needs is parsed (GGUF v2/v3, little endian).
"""
import struct
import sys

SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f",
           7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
STRING, ARRAY = 8, 9
TYPES = {"u32": 4, "i32": 5, "f32": 6, "u64": 10, "str": STRING}


class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, fmt):
        value = struct.unpack_from(fmt, self.data, self.pos)[0]
        self.pos += struct.calcsize(fmt)
        return value

    def string(self):
        n = self.take("<Q")
        s = self.data[self.pos:self.pos + n]
        self.pos += n
        return s

    def value(self, vtype):
        if vtype == STRING:
            return self.string()
        if vtype == ARRAY:
            etype, n = self.take("<I"), self.take("<Q")
            return (etype, [self.value(etype) for _ in range(n)])
        return self.take(SCALARS[vtype])


def pack_string(s):
    return struct.pack("<Q", len(s)) + s


def pack_value(vtype, value):
    if vtype == STRING:
        return pack_string(value)
    if vtype == ARRAY:
        etype, items = value
        return (struct.pack("<IQ", etype, len(items)) +
                b"".join(pack_value(etype, v) for v in items))
    return struct.pack(SCALARS[vtype], value)


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    with open(argv[1], "rb") as f:
        data = f.read()
    r = Reader(data)
    magic, version = r.take("<4s"), r.take("<I")
    if magic != b"GGUF" or version not in (2, 3):
        sys.exit(f"{argv[1]}: not a GGUF v2/v3 file")
    n_tensors, n_kv = r.take("<Q"), r.take("<Q")
    kv = []
    for _ in range(n_kv):
        key = r.string()
        vtype = r.take("<I")
        kv.append([key, vtype, r.value(vtype)])
    tensors = []
    for _ in range(n_tensors):
        name = r.string()
        dims = [r.take("<Q") for _ in range(r.take("<I"))]
        tensors.append([name, dims, r.take("<I"), r.take("<Q")])
    alignment = 32
    for key, vtype, value in kv:
        if key == b"general.alignment":
            alignment = value
    data_start = (r.pos + alignment - 1) // alignment * alignment
    blob = data[data_start:]

    def tensor(name):
        for t in tensors:
            if t[0] == name.encode():
                return t
        sys.exit(f"no tensor '{name}'")

    for edit in argv[3:]:
        op, _, arg = edit.partition(":")
        target, _, value = arg.partition("=")
        if op == "set":
            tname, _, text = value.partition(":")
            vtype = TYPES[tname]
            parsed = (text.encode() if vtype == STRING else
                      float(text) if vtype == 6 else int(text, 0))
            kv = [e for e in kv if e[0] != target.encode()]
            kv.append([target.encode(), vtype, parsed])
        elif op == "del":
            kv = [e for e in kv if e[0] != target.encode()]
        elif op == "drop":
            tensors.remove(tensor(target))
        elif op == "type":
            tensor(target)[2] = int(value)
        elif op == "shape":
            tensor(target)[1] = [int(d) for d in value.split(",")]
        elif op == "rename":
            tensor(target)[0] = value.encode()
        else:
            sys.exit(f"unknown edit '{edit}'")

    out = bytearray(b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kv)))
    for key, vtype, value in kv:
        out += pack_string(key) + struct.pack("<I", vtype) + pack_value(vtype, value)
    for name, dims, ttype, offset in tensors:
        out += pack_string(name) + struct.pack("<I", len(dims))
        out += b"".join(struct.pack("<Q", d) for d in dims)
        out += struct.pack("<IQ", ttype, offset)
    out += b"\0" * (-len(out) % alignment)
    with open(argv[2], "wb") as f:
        f.write(out + blob)


if __name__ == "__main__":
    main(sys.argv)
