#!/usr/bin/env python3
"""Writes one transformer layer of Llama-3.2-3B and of Qwen3-4B as linalg on
tensors, at prefill (128 new tokens, KV length 128) and decode (1 new token,
KV length 1024) shapes: the example graphs the Roofline lit tests check.

Weights are bf16 function arguments marked {smepilot.weight} in the GGUF
layout ([out, in], so projections are matmuls with a transposed right-hand
side); activations entering a matmul are bf16, everything else f32.
GQA attention groups the query heads of each KV head: scores are a batched
matmul over KV heads of [group * seq, head_dim] x [kv_len, head_dim]^T.

Usage: gen_layers.py OUTDIR   (regenerates the four .mlir files)
"""
import os
import sys

MODELS = {
    # name: hidden, heads, kv_heads, head_dim, ffn, qk_norm
    "llama3.2-3b": (3072, 24, 8, 128, 8192, False),
    "qwen3-4b": (2560, 32, 8, 128, 9728, True),
}
SHAPES = {"prefill": (128, 128), "decode": (1, 1024)}


class Writer:
    def __init__(self):
        self.lines = []
        self.n = 0

    def v(self):
        self.n += 1
        return f"%{self.n}"

    def emit(self, s):
        self.lines.append("    " + s)


def t(shape, ty):
    return "tensor<" + "x".join(str(d) for d in shape) + "x" + ty + ">"


def layer(name, phase):
    D, H, KVH, HD, F, qk_norm = MODELS[name]
    S, T = SHAPES[phase]
    G = H // KVH
    w = Writer()
    args = [f"%x: {t([S, D], 'f32')}",
            f"%attn_norm: {t([D], 'f32')} {{smepilot.weight}}",
            f"%wq: {t([H * HD, D], 'bf16')} {{smepilot.weight}}",
            f"%wk: {t([KVH * HD, D], 'bf16')} {{smepilot.weight}}",
            f"%wv: {t([KVH * HD, D], 'bf16')} {{smepilot.weight}}",
            f"%wo: {t([D, H * HD], 'bf16')} {{smepilot.weight}}",
            f"%ffn_norm: {t([D], 'f32')} {{smepilot.weight}}",
            f"%wg: {t([F, D], 'bf16')} {{smepilot.weight}}",
            f"%wu: {t([F, D], 'bf16')} {{smepilot.weight}}",
            f"%wd: {t([D, F], 'bf16')} {{smepilot.weight}}",
            f"%k_cache: {t([KVH, T, HD], 'bf16')}",
            f"%v_cache: {t([KVH, T, HD], 'bf16')}",
            f"%cos: {t([S, HD], 'f32')}",
            f"%sin: {t([S, HD], 'f32')}"]
    if qk_norm:
        args += [f"%q_norm: {t([HD], 'f32')} {{smepilot.weight}}",
                 f"%k_norm: {t([HD], 'f32')} {{smepilot.weight}}"]

    def empty(shape, ty):
        r = w.v()
        w.emit(f"{r} = tensor.empty() : {t(shape, ty)}")
        return r

    def zeros(shape, ty="f32"):
        e = empty(shape, ty)
        r = w.v()
        w.emit(f"{r} = linalg.fill ins(%zero : f32) outs({e} : {t(shape, ty)}) -> {t(shape, ty)}")
        return r

    def rmsnorm(x, weight, rows, dim, out_ty):
        # mean of squares (a reduction), then x * rsqrt(ms + eps) * w.
        acc = zeros([rows])
        ms = w.v()
        w.emit(f"{ms} = linalg.generic {{indexing_maps = [#row_d, #row], iterator_types = [\"parallel\", \"reduction\"]}} "
               f"ins({x} : {t([rows, dim], 'f32')}) outs({acc} : {t([rows], 'f32')}) {{")
        w.emit("^bb0(%a: f32, %s: f32):")
        w.emit("  %sq = arith.mulf %a, %a : f32")
        w.emit("  %r = arith.addf %sq, %s : f32")
        w.emit("  linalg.yield %r : f32")
        w.emit(f"}} -> {t([rows], 'f32')}")
        o = empty([rows, dim], out_ty)
        r = w.v()
        w.emit(f"{r} = linalg.generic {{indexing_maps = [#row_d, #row, #dcol, #row_d], iterator_types = [\"parallel\", \"parallel\"]}} "
               f"ins({x}, {ms}, {weight} : {t([rows, dim], 'f32')}, {t([rows], 'f32')}, {t([dim], 'f32')}) outs({o} : {t([rows, dim], out_ty)}) {{")
        w.emit(f"^bb0(%a: f32, %m: f32, %g: f32, %o: {out_ty}):")
        w.emit(f"  %inv_n = arith.constant {1.0 / dim:.10e} : f32")
        w.emit("  %eps = arith.constant 1.0e-05 : f32")
        w.emit("  %mean = arith.mulf %m, %inv_n : f32")
        w.emit("  %me = arith.addf %mean, %eps : f32")
        w.emit("  %rs = math.rsqrt %me : f32")
        w.emit("  %n = arith.mulf %a, %rs : f32")
        w.emit("  %y = arith.mulf %n, %g : f32")
        if out_ty == "bf16":
            w.emit("  %yb = arith.truncf %y : f32 to bf16")
            w.emit("  linalg.yield %yb : bf16")
        else:
            w.emit("  linalg.yield %y : f32")
        w.emit(f"}} -> {t([rows, dim], out_ty)}")
        return r

    def proj(x, weight, rows, n, k):
        c = zeros([rows, n])
        r = w.v()
        w.emit(f"{r} = linalg.matmul indexing_maps = [#mA, #mBt, #mC] ins({x}, {weight} : {t([rows, k], 'bf16')}, {t([n, k], 'bf16')}) "
               f"outs({c} : {t([rows, n], 'f32')}) -> {t([rows, n], 'f32')}")
        return r

    def add(a, b, shape):
        o = empty(shape, "f32")
        r = w.v()
        w.emit(f"{r} = linalg.add ins({a}, {b} : {t(shape, 'f32')}, {t(shape, 'f32')}) outs({o} : {t(shape, 'f32')}) -> {t(shape, 'f32')}")
        return r

    def heads_norm(x, weight, heads):
        # Qwen3 QK-norm: RMSNorm over head_dim of each head.
        flat = w.v()
        w.emit(f"{flat} = tensor.collapse_shape {x} [[0, 1], [2]] : {t([S, heads, HD], 'f32')} into {t([S * heads, HD], 'f32')}")
        n = rmsnorm(flat, weight, S * heads, HD, "f32")
        r = w.v()
        w.emit(f"{r} = tensor.expand_shape {n} [[0, 1], [2]] output_shape [{S}, {heads}, {HD}] : {t([S * heads, HD], 'f32')} into {t([S, heads, HD], 'f32')}")
        return r

    def rope(x, heads):
        # NEOX/rotate-half RoPE: y = x * cos + rotate_half(x) * sin. The
        # partner element is read with tensor.extract at a computed index.
        o = empty([S, heads, HD], "bf16")
        r = w.v()
        w.emit(f"{r} = linalg.generic {{indexing_maps = [#shd, #sd, #sd, #shd], iterator_types = [\"parallel\", \"parallel\", \"parallel\"]}} "
               f"ins({x}, %cos, %sin : {t([S, heads, HD], 'f32')}, {t([S, HD], 'f32')}, {t([S, HD], 'f32')}) outs({o} : {t([S, heads, HD], 'bf16')}) {{")
        w.emit("^bb0(%a: f32, %c: f32, %s: f32, %o: bf16):")
        w.emit("  %i0 = linalg.index 0 : index")
        w.emit("  %i1 = linalg.index 1 : index")
        w.emit("  %i2 = linalg.index 2 : index")
        w.emit(f"  %half = arith.constant {HD // 2} : index")
        w.emit(f"  %hd = arith.constant {HD} : index")
        w.emit("  %lo = arith.cmpi ult, %i2, %half : index")
        w.emit("  %up = arith.addi %i2, %half : index")
        w.emit("  %dn = arith.subi %i2, %half : index")
        w.emit("  %j = arith.select %lo, %up, %dn : index")
        w.emit(f"  %p = tensor.extract {x}[%i0, %i1, %j] : {t([S, heads, HD], 'f32')}")
        w.emit("  %pn = arith.negf %p : f32")
        w.emit("  %rot = arith.select %lo, %pn, %p : f32")
        w.emit("  %xc = arith.mulf %a, %c : f32")
        w.emit("  %rs = arith.mulf %rot, %s : f32")
        w.emit("  %y = arith.addf %xc, %rs : f32")
        w.emit("  %yb = arith.truncf %y : f32 to bf16")
        w.emit("  linalg.yield %yb : bf16")
        w.emit(f"}} -> {t([S, heads, HD], 'bf16')}")
        return r

    w.emit("%zero = arith.constant 0.0 : f32")
    # Attention block.
    xn = rmsnorm("%x", "%attn_norm", S, D, "bf16")
    q = proj(xn, "%wq", S, H * HD, D)
    k = proj(xn, "%wk", S, KVH * HD, D)
    v = proj(xn, "%wv", S, KVH * HD, D)
    q3 = w.v()
    w.emit(f"{q3} = tensor.expand_shape {q} [[0], [1, 2]] output_shape [{S}, {H}, {HD}] : {t([S, H * HD], 'f32')} into {t([S, H, HD], 'f32')}")
    k3 = w.v()
    w.emit(f"{k3} = tensor.expand_shape {k} [[0], [1, 2]] output_shape [{S}, {KVH}, {HD}] : {t([S, KVH * HD], 'f32')} into {t([S, KVH, HD], 'f32')}")
    if qk_norm:
        q3 = heads_norm(q3, "%q_norm", H)
        k3 = heads_norm(k3, "%k_norm", KVH)
    qr = rope(q3, H)
    kr = rope(k3, KVH)
    # New K/V rows go into the cache at the current position (offset 0 here:
    # prefill of the first chunk, or a decode step; the graph builder will
    # pass the position).
    kt_e = empty([KVH, S, HD], "bf16")
    kt = w.v()
    w.emit(f"{kt} = linalg.transpose ins({kr} : {t([S, KVH, HD], 'bf16')}) outs({kt_e} : {t([KVH, S, HD], 'bf16')}) permutation = [1, 0, 2]")
    kc = w.v()
    w.emit(f"{kc} = tensor.insert_slice {kt} into %k_cache[0, 0, 0] [{KVH}, {S}, {HD}] [1, 1, 1] : {t([KVH, S, HD], 'bf16')} into {t([KVH, T, HD], 'bf16')}")
    vb_e = empty([S, KVH * HD], "bf16")
    vb = w.v()
    w.emit(f"{vb} = linalg.generic {{indexing_maps = [#row_d, #row_d], iterator_types = [\"parallel\", \"parallel\"]}} ins({v} : {t([S, KVH * HD], 'f32')}) outs({vb_e} : {t([S, KVH * HD], 'bf16')}) {{")
    w.emit("^bb0(%a: f32, %o: bf16):")
    w.emit("  %b = arith.truncf %a : f32 to bf16")
    w.emit("  linalg.yield %b : bf16")
    w.emit(f"}} -> {t([S, KVH * HD], 'bf16')}")
    v3 = w.v()
    w.emit(f"{v3} = tensor.expand_shape {vb} [[0], [1, 2]] output_shape [{S}, {KVH}, {HD}] : {t([S, KVH * HD], 'bf16')} into {t([S, KVH, HD], 'bf16')}")
    vt_e = empty([KVH, S, HD], "bf16")
    vt = w.v()
    w.emit(f"{vt} = linalg.transpose ins({v3} : {t([S, KVH, HD], 'bf16')}) outs({vt_e} : {t([KVH, S, HD], 'bf16')}) permutation = [1, 0, 2]")
    vc = w.v()
    w.emit(f"{vc} = tensor.insert_slice {vt} into %v_cache[0, 0, 0] [{KVH}, {S}, {HD}] [1, 1, 1] : {t([KVH, S, HD], 'bf16')} into {t([KVH, T, HD], 'bf16')}")
    # Group query heads by KV head: [S, H, HD] -> [KVH, G*S, HD].
    q4 = w.v()
    w.emit(f"{q4} = tensor.expand_shape {qr} [[0], [1, 2], [3]] output_shape [{S}, {KVH}, {G}, {HD}] : {t([S, H, HD], 'bf16')} into {t([S, KVH, G, HD], 'bf16')}")
    qg_e = empty([KVH, G, S, HD], "bf16")
    qg = w.v()
    w.emit(f"{qg} = linalg.transpose ins({q4} : {t([S, KVH, G, HD], 'bf16')}) outs({qg_e} : {t([KVH, G, S, HD], 'bf16')}) permutation = [1, 2, 0, 3]")
    qf = w.v()
    w.emit(f"{qf} = tensor.collapse_shape {qg} [[0], [1, 2], [3]] : {t([KVH, G, S, HD], 'bf16')} into {t([KVH, G * S, HD], 'bf16')}")
    sc = zeros([KVH, G * S, T])
    scores = w.v()
    w.emit(f"{scores} = linalg.batch_matmul indexing_maps = [#bA, #bBt, #bC] ins({qf}, {kc} : {t([KVH, G * S, HD], 'bf16')}, {t([KVH, T, HD], 'bf16')}) "
           f"outs({sc} : {t([KVH, G * S, T], 'f32')}) -> {t([KVH, G * S, T], 'f32')}")
    # Scale and causal mask: query row r (token r mod S, at position
    # T - S + r mod S) may see keys t <= its position.
    mk_e = empty([KVH, G * S, T], "f32")
    masked = w.v()
    w.emit(f"{masked} = linalg.generic {{indexing_maps = [#b3, #b3], iterator_types = [\"parallel\", \"parallel\", \"parallel\"]}} ins({scores} : {t([KVH, G * S, T], 'f32')}) outs({mk_e} : {t([KVH, G * S, T], 'f32')}) {{")
    w.emit("^bb0(%a: f32, %o: f32):")
    w.emit("  %r = linalg.index 1 : index")
    w.emit("  %c = linalg.index 2 : index")
    w.emit(f"  %s = arith.constant {S} : index")
    w.emit(f"  %off = arith.constant {T - S} : index")
    w.emit("  %tok = arith.remui %r, %s : index")
    w.emit("  %pos = arith.addi %tok, %off : index")
    w.emit("  %ok = arith.cmpi ule, %c, %pos : index")
    w.emit(f"  %scale = arith.constant {1.0 / HD ** 0.5:.10e} : f32")
    w.emit("  %ninf = arith.constant 0xFF800000 : f32")
    w.emit("  %xs = arith.mulf %a, %scale : f32")
    w.emit("  %y = arith.select %ok, %xs, %ninf : f32")
    w.emit("  linalg.yield %y : f32")
    w.emit(f"}} -> {t([KVH, G * S, T], 'f32')}")
    sm_e = empty([KVH, G * S, T], "f32")
    probs = w.v()
    w.emit(f"{probs} = linalg.softmax dimension(2) ins({masked} : {t([KVH, G * S, T], 'f32')}) outs({sm_e} : {t([KVH, G * S, T], 'f32')}) -> {t([KVH, G * S, T], 'f32')}")
    pb_e = empty([KVH, G * S, T], "bf16")
    pb = w.v()
    w.emit(f"{pb} = linalg.generic {{indexing_maps = [#b3, #b3], iterator_types = [\"parallel\", \"parallel\", \"parallel\"]}} ins({probs} : {t([KVH, G * S, T], 'f32')}) outs({pb_e} : {t([KVH, G * S, T], 'bf16')}) {{")
    w.emit("^bb0(%a: f32, %o: bf16):")
    w.emit("  %b = arith.truncf %a : f32 to bf16")
    w.emit("  linalg.yield %b : bf16")
    w.emit(f"}} -> {t([KVH, G * S, T], 'bf16')}")
    ac = zeros([KVH, G * S, HD])
    att = w.v()
    w.emit(f"{att} = linalg.batch_matmul ins({pb}, {vc} : {t([KVH, G * S, T], 'bf16')}, {t([KVH, T, HD], 'bf16')}) "
           f"outs({ac} : {t([KVH, G * S, HD], 'f32')}) -> {t([KVH, G * S, HD], 'f32')}")
    # Back to [S, H*HD] (bf16) for the output projection.
    a4 = w.v()
    w.emit(f"{a4} = tensor.expand_shape {att} [[0], [1, 2], [3]] output_shape [{KVH}, {G}, {S}, {HD}] : {t([KVH, G * S, HD], 'f32')} into {t([KVH, G, S, HD], 'f32')}")
    at_e = empty([S, KVH, G, HD], "bf16")
    at = w.v()
    w.emit(f"{at} = linalg.generic {{indexing_maps = [#perm_in, #id4], iterator_types = [\"parallel\", \"parallel\", \"parallel\", \"parallel\"]}} ins({a4} : {t([KVH, G, S, HD], 'f32')}) outs({at_e} : {t([S, KVH, G, HD], 'bf16')}) {{")
    w.emit("^bb0(%a: f32, %o: bf16):")
    w.emit("  %b = arith.truncf %a : f32 to bf16")
    w.emit("  linalg.yield %b : bf16")
    w.emit(f"}} -> {t([S, KVH, G, HD], 'bf16')}")
    af = w.v()
    w.emit(f"{af} = tensor.collapse_shape {at} [[0], [1, 2, 3]] : {t([S, KVH, G, HD], 'bf16')} into {t([S, H * HD], 'bf16')}")
    o = proj(af, "%wo", S, D, H * HD)
    h = add("%x", o, [S, D])
    # FFN block.
    hn = rmsnorm(h, "%ffn_norm", S, D, "bf16")
    g = proj(hn, "%wg", S, F, D)
    u = proj(hn, "%wu", S, F, D)
    sw_e = empty([S, F], "bf16")
    sw = w.v()
    w.emit(f"{sw} = linalg.generic {{indexing_maps = [#row_d, #row_d, #row_d], iterator_types = [\"parallel\", \"parallel\"]}} ins({g}, {u} : {t([S, F], 'f32')}, {t([S, F], 'f32')}) outs({sw_e} : {t([S, F], 'bf16')}) {{")
    w.emit("^bb0(%a: f32, %b: f32, %o: bf16):")
    w.emit("  %one = arith.constant 1.0 : f32")
    w.emit("  %n = arith.negf %a : f32")
    w.emit("  %e = math.exp %n : f32")
    w.emit("  %d = arith.addf %e, %one : f32")
    w.emit("  %s = arith.divf %a, %d : f32")
    w.emit("  %y = arith.mulf %s, %b : f32")
    w.emit("  %yb = arith.truncf %y : f32 to bf16")
    w.emit("  linalg.yield %yb : bf16")
    w.emit(f"}} -> {t([S, F], 'bf16')}")
    dn = proj(sw, "%wd", S, D, F)
    out = add(h, dn, [S, D])
    w.emit(f"return {out}, {kc}, {vc} : {t([S, D], 'f32')}, {t([KVH, T, HD], 'bf16')}, {t([KVH, T, HD], 'bf16')}")

    fname = f"{name.replace('.', '_').replace('-', '_')}_{phase}_layer"
    header = f"""// One {name} transformer layer at {phase} shape: {S} new token(s), KV length {T}.
// hidden {D}, {H} heads / {KVH} KV heads, head_dim {HD}, ffn {F}{', QK-norm' if qk_norm else ''}; bf16 weights.
// Generated by gen_layers.py; regenerate instead of editing.
//
// RUN: smepilot-opt %s | FileCheck %s
// CHECK-LABEL: func.func @{fname}
// CHECK-COUNT-{7 if True else 0}: linalg.matmul

#row_d = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>
#dcol = affine_map<(d0, d1) -> (d1)>
#mA = affine_map<(m, n, k) -> (m, k)>
#mBt = affine_map<(m, n, k) -> (n, k)>
#mC = affine_map<(m, n, k) -> (m, n)>
#bA = affine_map<(b, m, n, k) -> (b, m, k)>
#bBt = affine_map<(b, m, n, k) -> (b, n, k)>
#bC = affine_map<(b, m, n, k) -> (b, m, n)>
#b3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#shd = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#sd = affine_map<(d0, d1, d2) -> (d0, d2)>
#perm_in = affine_map<(s, kv, g, d) -> (kv, g, s, d)>
#id4 = affine_map<(s, kv, g, d) -> (s, kv, g, d)>
"""
    sig = ",\n    ".join(args)
    ret = f"({t([S, D], 'f32')}, {t([KVH, T, HD], 'bf16')}, {t([KVH, T, HD], 'bf16')})"
    body = "\n".join(w.lines)
    return fname, header + f"""
module {{
  func.func @{fname}(
    {sig}) -> {ret} {{
{body}
  }}
}}
"""


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    for name in MODELS:
        for phase in SHAPES:
            _, text = layer(name, phase)
            with open(os.path.join(out, f"{name}-{phase}.mlir"), "w") as f:
                f.write(text)


if __name__ == "__main__":
    main()
