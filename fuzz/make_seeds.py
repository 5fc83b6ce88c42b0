#!/usr/bin/env python3
"""Writes the seed corpus of the GGUF fuzzer (fuzz/corpus/*.gguf).

Small, valid GGUF files that together reach every part of the reader: every
metadata value type (scalars, strings, arrays of each), versions 2 and 3, a
custom `general.alignment`, tensors of plain and quantized types, and a tiny
but complete llama-architecture model (hyperparameters, tokenizer, every
weight) so that a model-config reader and a weight binder get past their first
checks. The fuzzer mutates these; the real stories260K.gguf is added at run
time when shared/models is present.

Standard library only. Deterministic: re-running it rewrites identical files.

    python3 fuzz/make_seeds.py [OUTPUT_DIR]    (default: fuzz/corpus)
"""

import os
import struct
import sys

# GGUF metadata value types.
UINT8, INT8, UINT16, INT16, UINT32, INT32, FLOAT32, BOOL, STRING, ARRAY, UINT64, INT64, FLOAT64 = range(13)
SCALAR_FORMAT = {
    UINT8: "<B", INT8: "<b", UINT16: "<H", INT16: "<h", UINT32: "<I", INT32: "<i",
    FLOAT32: "<f", BOOL: "<?", UINT64: "<Q", INT64: "<q", FLOAT64: "<d",
}

# GGML tensor types: (id, elements per block, bytes per block).
F32 = (0, 1, 4)
F16 = (1, 1, 2)
Q4_0 = (2, 32, 18)
Q8_0 = (8, 32, 34)
Q4_K = (12, 256, 144)
Q6_K = (14, 256, 210)
I32 = (26, 1, 4)
BF16 = (30, 1, 2)


def gguf_string(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def gguf_value(vtype, value):
    if vtype == STRING:
        return gguf_string(value)
    if vtype == ARRAY:
        elem_type, items = value
        out = struct.pack("<IQ", elem_type, len(items))
        for item in items:
            out += gguf_value(elem_type, item)
        return out
    return struct.pack(SCALAR_FORMAT[vtype], value)


def pseudo_random_bytes(n, seed):
    """Deterministic filler for tensor data (a 32-bit LCG)."""
    out = bytearray(n)
    x = seed & 0xFFFFFFFF
    for i in range(n):
        x = (1664525 * x + 1013904223) & 0xFFFFFFFF
        out[i] = x >> 24
    return bytes(out)


def f32_data(n, seed):
    """n small, finite f32 values."""
    raw = pseudo_random_bytes(n, seed)
    return b"".join(struct.pack("<f", (b - 128) / 256.0) for b in raw)


def tensor_bytes(ttype, dims, seed):
    n = 1
    for d in dims:
        n *= d
    _, block, size = ttype
    assert dims[0] % block == 0, "ne[0] must be a multiple of the block size"
    if ttype == F32:
        return f32_data(n, seed)
    if ttype in (F16, BF16):
        # Finite 16-bit floats: keep the exponent away from all-ones.
        raw = bytearray(pseudo_random_bytes(2 * n, seed))
        for i in range(1, len(raw), 2):
            raw[i] &= 0x3B
        return bytes(raw)
    if ttype in (Q4_0, Q8_0):
        # Each block starts with an f16 scale: make it 1/64 (finite).
        raw = bytearray(pseudo_random_bytes(n // block * size, seed))
        for b in range(0, len(raw), size):
            raw[b:b + 2] = struct.pack("<H", 0x2400)
        return bytes(raw)
    if ttype in (Q4_K, Q6_K):
        raw = bytearray(pseudo_random_bytes(n // block * size, seed))
        for b in range(0, len(raw), size):
            # Q4_K: d and dmin (f16) lead the block; Q6_K: d (f16) ends it.
            if ttype == Q4_K:
                raw[b:b + 4] = struct.pack("<HH", 0x2400, 0x2000)
            else:
                raw[b + size - 2:b + size] = struct.pack("<H", 0x2400)
        return bytes(raw)
    return pseudo_random_bytes(n // block * size, seed)


def gguf_file(kvs, tensors, version=3, alignment=32):
    """kvs: [(key, type, value)]; tensors: [(name, ggml type, dims ne[0] first)]."""
    out = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kvs))
    for key, vtype, value in kvs:
        out += gguf_string(key) + struct.pack("<I", vtype) + gguf_value(vtype, value)
    data = b""
    infos = b""
    for i, (name, ttype, dims) in enumerate(tensors):
        payload = tensor_bytes(ttype, dims, seed=i + 1)
        data += b"\0" * (-len(data) % alignment)
        infos += gguf_string(name) + struct.pack("<I", len(dims))
        infos += b"".join(struct.pack("<Q", d) for d in dims)
        infos += struct.pack("<IQ", ttype[0], len(data))
        data += payload
    out += infos
    if tensors:
        out += b"\0" * (-len(out) % alignment)
        out += data
    return out


def all_value_types():
    """One key of every type, and an array of every element type."""
    kvs = [("general.architecture", STRING, "test"),
           ("general.name", STRING, "every type \u00e9\u20ac"),
           ("test.u8", UINT8, 200), ("test.i8", INT8, -100),
           ("test.u16", UINT16, 60000), ("test.i16", INT16, -30000),
           ("test.u32", UINT32, 4000000000), ("test.i32", INT32, -2000000000),
           ("test.f32", FLOAT32, 1.5), ("test.bool", BOOL, True),
           ("test.u64", UINT64, 2 ** 63 + 5), ("test.i64", INT64, -(2 ** 62)),
           ("test.f64", FLOAT64, -2.25), ("test.empty_string", STRING, "")]
    for name, t, items in [("u8", UINT8, [0, 1, 255]), ("i8", INT8, [-128, 0, 127]),
                           ("u16", UINT16, [1, 65535]), ("i16", INT16, [-1, 1]),
                           ("u32", UINT32, [7, 8, 9]), ("i32", INT32, [-7, 8]),
                           ("f32", FLOAT32, [0.5, -0.25, 3.0]), ("bool", BOOL, [True, False]),
                           ("string", STRING, ["a", "", "\u00fc\u00df"]),
                           ("u64", UINT64, [2 ** 40]), ("i64", INT64, [-(2 ** 40)]),
                           ("f64", FLOAT64, [1e-3]), ("empty", INT32, [])]:
        kvs.append(("test.array." + name, ARRAY, (t, items)))
    return kvs


def tiny_llama():
    """A complete llama model: 1 layer, dim 8, 2 heads / 1 KV head, ffn 16, vocab 8."""
    dim, ffn, vocab, heads, kv_heads = 8, 16, 8, 2, 1
    head_dim = dim // heads
    tokens = ["<unk>", "<s>", "</s>", "\u2581a", "\u2581b", "a", "b", "<0x0A>"]
    kvs = [("general.architecture", STRING, "llama"),
           ("general.name", STRING, "tiny-llama-seed"),
           ("general.file_type", UINT32, 0),
           ("llama.context_length", UINT32, 32),
           ("llama.embedding_length", UINT32, dim),
           ("llama.block_count", UINT32, 1),
           ("llama.feed_forward_length", UINT32, ffn),
           ("llama.rope.dimension_count", UINT32, head_dim),
           ("llama.rope.freq_base", FLOAT32, 10000.0),
           ("llama.attention.head_count", UINT32, heads),
           ("llama.attention.head_count_kv", UINT32, kv_heads),
           ("llama.attention.layer_norm_rms_epsilon", FLOAT32, 1e-5),
           ("llama.vocab_size", UINT32, vocab),
           ("tokenizer.ggml.model", STRING, "llama"),
           ("tokenizer.ggml.tokens", ARRAY, (STRING, tokens)),
           ("tokenizer.ggml.scores", ARRAY, (FLOAT32, [0.0, 0.0, 0.0, -1.0, -2.0, -3.0, -4.0, 0.0])),
           ("tokenizer.ggml.token_type", ARRAY, (INT32, [2, 3, 3, 1, 1, 1, 1, 6])),
           ("tokenizer.ggml.bos_token_id", UINT32, 1),
           ("tokenizer.ggml.eos_token_id", UINT32, 2),
           ("tokenizer.ggml.unknown_token_id", UINT32, 0),
           ("tokenizer.ggml.add_bos_token", BOOL, True)]
    kv_dim = head_dim * kv_heads
    tensors = [("token_embd.weight", F32, [dim, vocab]),
               ("output_norm.weight", F32, [dim]),
               ("output.weight", F32, [dim, vocab]),
               ("blk.0.attn_norm.weight", F32, [dim]),
               ("blk.0.attn_q.weight", F32, [dim, dim]),
               ("blk.0.attn_k.weight", F32, [dim, kv_dim]),
               ("blk.0.attn_v.weight", F32, [dim, kv_dim]),
               ("blk.0.attn_output.weight", F32, [dim, dim]),
               ("blk.0.ffn_norm.weight", F32, [dim]),
               ("blk.0.ffn_gate.weight", F32, [dim, ffn]),
               ("blk.0.ffn_up.weight", F32, [dim, ffn]),
               ("blk.0.ffn_down.weight", F32, [ffn, dim])]
    return kvs, tensors


def tiny_qwen3_q8():
    """A qwen3 model (QK-norm, head_dim != dim/heads) with Q8_0 matrices."""
    dim, ffn, vocab, heads, kv_heads, head_dim = 32, 64, 8, 2, 1, 32
    tokens = ["a", "b", "c", "\u0120a", "\u0120b", "<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    kvs = [("general.architecture", STRING, "qwen3"),
           ("general.name", STRING, "tiny-qwen3-seed"),
           ("qwen3.context_length", UINT32, 64),
           ("qwen3.embedding_length", UINT32, dim),
           ("qwen3.block_count", UINT32, 1),
           ("qwen3.feed_forward_length", UINT32, ffn),
           ("qwen3.attention.head_count", UINT32, heads),
           ("qwen3.attention.head_count_kv", UINT32, kv_heads),
           ("qwen3.attention.key_length", UINT32, head_dim),
           ("qwen3.attention.value_length", UINT32, head_dim),
           ("qwen3.rope.freq_base", FLOAT32, 1000000.0),
           ("qwen3.attention.layer_norm_rms_epsilon", FLOAT32, 1e-6),
           ("tokenizer.ggml.model", STRING, "gpt2"),
           ("tokenizer.ggml.pre", STRING, "qwen2"),
           ("tokenizer.ggml.tokens", ARRAY, (STRING, tokens)),
           ("tokenizer.ggml.token_type", ARRAY, (INT32, [1, 1, 1, 1, 1, 3, 3, 3])),
           ("tokenizer.ggml.merges", ARRAY, (STRING, ["\u0120 a", "\u0120 b"])),
           ("tokenizer.ggml.eos_token_id", UINT32, 5),
           ("tokenizer.ggml.add_bos_token", BOOL, False)]
    q_dim, kv_dim = heads * head_dim, kv_heads * head_dim
    tensors = [("token_embd.weight", Q8_0, [dim, vocab]),
               ("output_norm.weight", F32, [dim]),
               ("blk.0.attn_norm.weight", F32, [dim]),
               ("blk.0.attn_q.weight", Q8_0, [dim, q_dim]),
               ("blk.0.attn_k.weight", Q8_0, [dim, kv_dim]),
               ("blk.0.attn_v.weight", Q8_0, [dim, kv_dim]),
               ("blk.0.attn_output.weight", Q8_0, [q_dim, dim]),
               ("blk.0.attn_q_norm.weight", F32, [head_dim]),
               ("blk.0.attn_k_norm.weight", F32, [head_dim]),
               ("blk.0.ffn_norm.weight", F32, [dim]),
               ("blk.0.ffn_gate.weight", Q8_0, [dim, ffn]),
               ("blk.0.ffn_up.weight", Q8_0, [dim, ffn]),
               ("blk.0.ffn_down.weight", Q8_0, [ffn, dim])]
    return kvs, tensors


def tiny_qwen3moe():
    """A qwen3moe model: 4 experts, 2 used, F16 experts, F32 router, tied embeddings."""
    dim, vocab, heads, kv_heads, head_dim, experts, used, ffn_exp = 8, 8, 2, 1, 4, 4, 2, 8
    kvs = [("general.architecture", STRING, "qwen3moe"),
           ("qwen3moe.context_length", UINT32, 32),
           ("qwen3moe.embedding_length", UINT32, dim),
           ("qwen3moe.block_count", UINT32, 1),
           ("qwen3moe.attention.head_count", UINT32, heads),
           ("qwen3moe.attention.head_count_kv", UINT32, kv_heads),
           ("qwen3moe.attention.key_length", UINT32, head_dim),
           ("qwen3moe.attention.layer_norm_rms_epsilon", FLOAT32, 1e-6),
           ("qwen3moe.expert_count", UINT32, experts),
           ("qwen3moe.expert_used_count", UINT32, used),
           ("qwen3moe.expert_feed_forward_length", UINT32, ffn_exp),
           ("tokenizer.ggml.model", STRING, "gpt2"),
           ("tokenizer.ggml.tokens", ARRAY, (STRING, [chr(0x61 + i) for i in range(vocab)])),
           ("tokenizer.ggml.merges", ARRAY, (STRING, ["a b"]))]
    q_dim, kv_dim = heads * head_dim, kv_heads * head_dim
    tensors = [("token_embd.weight", F16, [dim, vocab]),
               ("output_norm.weight", F32, [dim]),
               ("blk.0.attn_norm.weight", F32, [dim]),
               ("blk.0.attn_q.weight", F16, [dim, q_dim]),
               ("blk.0.attn_k.weight", F16, [dim, kv_dim]),
               ("blk.0.attn_v.weight", F16, [dim, kv_dim]),
               ("blk.0.attn_output.weight", F16, [q_dim, dim]),
               ("blk.0.attn_q_norm.weight", F32, [head_dim]),
               ("blk.0.attn_k_norm.weight", F32, [head_dim]),
               ("blk.0.ffn_norm.weight", F32, [dim]),
               ("blk.0.ffn_gate_inp.weight", F32, [dim, experts]),
               ("blk.0.ffn_gate_exps.weight", F16, [dim, ffn_exp, experts]),
               ("blk.0.ffn_up_exps.weight", F16, [dim, ffn_exp, experts]),
               ("blk.0.ffn_down_exps.weight", F16, [ffn_exp, dim, experts])]
    return kvs, tensors


def seeds():
    yield "empty-v3.gguf", gguf_file([], [])
    yield "all-value-types.gguf", gguf_file(all_value_types(), [("x", F32, [3])])
    yield "tensor-types-v2-align64.gguf", gguf_file(
        [("general.architecture", STRING, "test"), ("general.alignment", UINT32, 64)],
        [("f32", F32, [5, 3]), ("f16", F16, [7]), ("bf16", BF16, [2, 2, 2]),
         ("q8_0", Q8_0, [32, 2]), ("q4_0", Q4_0, [64]), ("q4_k", Q4_K, [256]),
         ("q6_k", Q6_K, [256]), ("i32", I32, [1, 1, 1, 4])],
        version=2, alignment=64)
    yield "tiny-llama-f32.gguf", gguf_file(*tiny_llama())
    yield "tiny-qwen3-q8_0.gguf", gguf_file(*tiny_qwen3_q8())
    yield "tiny-qwen3moe-f16.gguf", gguf_file(*tiny_qwen3moe())


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
    os.makedirs(out_dir, exist_ok=True)
    total = 0
    for name, data in seeds():
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(data)
        total += len(data)
        print(f"{name}: {len(data)} bytes")
    print(f"total: {total} bytes")


if __name__ == "__main__":
    main()
