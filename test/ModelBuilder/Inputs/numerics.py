"""Numerical check of the graph builder (lit: build-model-numerics.test).

Builds tiny models with smepilot-build-model, appends a main() that runs a
3-token prefill chunk at pos 0 and then one decode step at pos 3 (reusing the
returned caches) on deterministic weights, lowers it with upstream passes
(loops, no vectorization) through smepilot-opt, runs it with mlir-runner and
compares every logit against a plain-Python transcription of the runtime's
reference executor (runtime/src/reference_executor.cpp, reference_ops.cpp),
computed in double.

Usage: numerics.py --workdir DIR KIND...
  (KIND: llama, llama3, qwen3, qwen3moe, qwen3moe-sigmoid)
"""
import math, os, re, shutil, subprocess, sys

B = shutil.which("smepilot-build-model")
OPT = shutil.which("smepilot-opt")
RUN = shutil.which("mlir-runner")
LIB = os.path.join(os.path.dirname(os.path.realpath(RUN)), "..", "lib")
WORKDIR = "."

def cfg(kind):
    if kind == "llama":
        return dict(arch="llama", V=32, D=16, L=2, H=4, KVH=2, HD=4, F=24, theta=10000.0,
                    neox=False, eps=1e-5, qk=False, freqs=False)
    if kind == "llama3":
        return dict(arch="llama", V=32, D=16, L=2, H=4, KVH=2, HD=4, F=24, theta=500000.0,
                    neox=False, eps=1e-5, qk=False, freqs=True)
    if kind == "qwen3moe":
        # 4 experts, 2 per token, renormalized: a 3-token chunk routes its
        # tokens to different experts.
        return dict(arch="qwen3moe", V=32, D=16, L=2, H=4, KVH=2, HD=8, F=24, theta=1e6,
                    neox=True, eps=1e-6, qk=True, freqs=False, E=4, K=2, FE=8,
                    sigmoid=False, norm=True)
    if kind == "qwen3moe-sigmoid":
        # Sigmoid gating, 3 of 5 experts, weights not renormalized.
        return dict(arch="qwen3moe", V=32, D=16, L=2, H=4, KVH=2, HD=8, F=24, theta=1e6,
                    neox=True, eps=1e-6, qk=True, freqs=False, E=5, K=3, FE=8,
                    sigmoid=True, norm=False)
    return dict(arch="qwen3", V=32, D=16, L=2, H=4, KVH=2, HD=8, F=24, theta=1e6,
                neox=True, eps=1e-6, qk=True, freqs=False)

def f32(x):
    import struct
    return struct.unpack("f", struct.pack("f", x))[0]

def gen(shape, seed):
    n = 1
    for s in shape: n *= s
    vals = [f32(0.5 * math.sin(seed * 1.7 + i * 0.37) + 0.05 * math.cos(i * seed)) for i in range(n)]
    return vals

def main(kind):
    c = cfg(kind)
    NCTX, C1 = 8, 3
    V, D, L, H, KVH, HD, F = c["V"], c["D"], c["L"], c["H"], c["KVH"], c["HD"], c["F"]
    args = [B, f"--arch={c['arch']}", f"--n-vocab={V}", f"--n-embd={D}", f"--n-layer={L}",
            f"--n-head={H}", f"--n-head-kv={KVH}", f"--head-dim={HD}", f"--n-ff={F}",
            f"--rope-theta={c['theta']}", f"--rope-style={'neox' if c['neox'] else 'interleaved'}",
            f"--rms-eps={c['eps']}", f"--chunk-sizes={C1},1", f"--n-ctx={NCTX}"]
    if c["qk"]: args.append("--qk-norm")
    if c["freqs"]: args.append("--rope-freqs")
    moe = "E" in c
    if moe:
        args += [f"--n-expert={c['E']}", f"--n-expert-used={c['K']}", f"--n-ff-expert={c['FE']}",
                 f"--expert-weights-norm={'true' if c['norm'] else 'false'}",
                 f"--expert-gating={'sigmoid' if c['sigmoid'] else 'softmax'}"]
    mod = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    # Weights in argument order.
    shapes = [("token_embd", [V, D]), ("output_norm", [D]), ("output", [V, D])]
    if c["freqs"]: shapes.append(("rope_freqs", [HD // 2]))
    for l in range(L):
        shapes += [(f"{l}.attn_norm", [D]), (f"{l}.wq", [H * HD, D]), (f"{l}.wk", [KVH * HD, D]),
                   (f"{l}.wv", [KVH * HD, D]), (f"{l}.wo", [D, H * HD])]
        if c["qk"]: shapes += [(f"{l}.q_norm", [HD]), (f"{l}.k_norm", [HD])]
        shapes += [(f"{l}.ffn_norm", [D])]
        if moe:
            E, FE = c["E"], c["FE"]
            shapes += [(f"{l}.router", [E, D]), (f"{l}.gate_exps", [E, FE, D]),
                       (f"{l}.up_exps", [E, FE, D]), (f"{l}.down_exps", [E, D, FE])]
        else:
            shapes += [(f"{l}.ffn_gate", [F, D]), (f"{l}.ffn_up", [F, D]),
                       (f"{l}.ffn_down", [D, F])]
    W = {}
    for i, (name, shape) in enumerate(shapes):
        v = gen(shape, i + 1)
        if name.endswith("norm"): v = [1.0 + 0.2 * x for x in v]
        if name == "rope_freqs": v = [1.0 + abs(x) * 4 for x in v]
        W[name] = (shape, v)
    def ty(shape): return "tensor<" + "x".join(map(str, shape)) + "xf32>"
    def lit(v): return "dense<[" + ", ".join("%.9e" % x for x in v) + "]>"
    tokens1 = [3, 17, 5]; token2 = 29
    h = ["  func.func private @printMemrefF32(memref<*xf32>)",
         "  func.func @main() {"]
    names = []
    for i, (name, (shape, v)) in enumerate(W.items()):
        h.append(f"    %w{i}f = arith.constant {lit(v)} : tensor<{len(v)}xf32>")
        if len(shape) == 1:
            h.append(f"    %w{i} = tensor.cast %w{i}f : tensor<{len(v)}xf32> to {ty(shape)}")
        else:
            reassoc = "[[" + ", ".join(map(str, range(len(shape)))) + "]]"
            h.append(f"    %w{i} = tensor.expand_shape %w{i}f {reassoc} output_shape [{', '.join(map(str, shape))}] : tensor<{len(v)}xf32> into {ty(shape)}")
        names.append(f"%w{i}")
    wtypes = ", ".join(ty(s) for s, _ in W.values())
    cache = f"tensor<{L}x{KVH}x{NCTX}x{HD}xf32>"
    h.append(f"    %z = arith.constant 0.0 : f32")
    h.append(f"    %ke = tensor.empty() : {cache}")
    h.append(f"    %k0 = linalg.fill ins(%z : f32) outs(%ke : {cache}) -> {cache}")
    h.append(f"    %ve = tensor.empty() : {cache}")
    h.append(f"    %v0 = linalg.fill ins(%z : f32) outs(%ve : {cache}) -> {cache}")
    h.append(f"    %t1 = arith.constant dense<[{', '.join(map(str, tokens1))}]> : tensor<{C1}xi32>")
    h.append(f"    %p0 = arith.constant 0 : index")
    h.append(f"    %lg1, %k1, %v1 = func.call @smepilot_forward_c{C1}(%t1, %p0, {', '.join(names)}, %k0, %v0) : (tensor<{C1}xi32>, index, {wtypes}, {cache}, {cache}) -> (tensor<{C1}x{V}xf32>, {cache}, {cache})")
    h.append(f"    %t2 = arith.constant dense<[{token2}]> : tensor<1xi32>")
    h.append(f"    %p1 = arith.constant {C1} : index")
    h.append(f"    %lg2, %k2, %v2 = func.call @smepilot_forward_c1(%t2, %p1, {', '.join(names)}, %k1, %v1) : (tensor<1xi32>, index, {wtypes}, {cache}, {cache}) -> (tensor<1x{V}xf32>, {cache}, {cache})")
    for n, t in (("lg1", f"tensor<{C1}x{V}xf32>"), ("lg2", f"tensor<1x{V}xf32>")):
        h.append(f"    %{n}m = bufferization.to_buffer %{n} : {t} to memref<{t[7:-1]}>")
        h.append(f"    %{n}u = memref.cast %{n}m : memref<{t[7:-1]}> to memref<*xf32>")
        h.append(f"    func.call @printMemrefF32(%{n}u) : (memref<*xf32>) -> ()")
    h.append("    return")
    h.append("  }")
    body = mod.rstrip()
    assert body.endswith("}")
    full = body[:-1] + "\n".join(h) + "\n}\n"
    open(os.path.join(WORKDIR, f"{kind}.mlir"), "w").write(full)
    pipeline = ("--one-shot-bufferize=bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map",
                "--convert-linalg-to-loops", "--expand-strided-metadata", "--lower-affine",
                "--convert-scf-to-cf", "--convert-math-to-llvm", "--convert-math-to-libm",
                "--finalize-memref-to-llvm", "--convert-func-to-llvm", "--convert-arith-to-llvm",
                "--convert-cf-to-llvm", "--convert-ub-to-llvm", "--reconcile-unrealized-casts")
    low = subprocess.run([OPT, os.path.join(WORKDIR, f"{kind}.mlir"), *pipeline], check=True, capture_output=True, text=True).stdout
    out = subprocess.run([RUN, "-e", "main", "-entry-point-result=void",
                          f"-shared-libs={LIB}/libmlir_runner_utils.so,{LIB}/libmlir_c_runner_utils.so"],
                         input=low, check=True, capture_output=True, text=True).stdout
    nums = [float(x) for x in re.findall(r"-?\d+\.\d+(?:e[-+]\d+)?|-?nan|-?inf", out.split("data =", 1)[1])]
    got = nums[: C1 * V] + [float(x) for x in re.findall(r"-?\d+\.\d+(?:e[-+]\d+)?", out.split("data =")[2])]
    ref = reference(c, W, tokens1, token2, NCTX)
    err = max(abs(a - b) for a, b in zip(got, ref))
    scale = max(abs(b) for b in ref)
    ok = len(got) == len(ref) and err < 1e-4 * max(1.0, scale)
    print(f"{kind}: {len(got)} logits, max |diff| = {err:.3g} (max |logit| = {scale:.3g}): "
          + ("OK" if ok else "MISMATCH"))
    return ok

def reference(c, W, tokens1, token2, nctx):
    V, D, L, H, KVH, HD, F = c["V"], c["D"], c["L"], c["H"], c["KVH"], c["HD"], c["F"]
    def mat(name): shape, v = W[name]; return [v[r * shape[1]:(r + 1) * shape[1]] for r in range(shape[0])]
    def mats(name):
        shape, v = W[name]; n = shape[1] * shape[2]
        return [[v[e * n + r * shape[2]:e * n + (r + 1) * shape[2]] for r in range(shape[1])]
                for e in range(shape[0])]
    M = {n: (mat(n) if len(s) == 2 else mats(n) if len(s) == 3 else v) for n, (s, v) in W.items()}
    def ffn(p, h2):
        if "E" not in c:
            gg = mv(M[p + "ffn_gate"], h2); uu = mv(M[p + "ffn_up"], h2)
            act = [a / (1 + math.exp(-a)) * b for a, b in zip(gg, uu)]
            return mv(M[p + "ffn_down"], act)
        # reference_executor.cpp ffn_moe: softmax or sigmoid, top-k (ties:
        # lower id), optional renormalization, weighted sum in slot order.
        lg = mv(M[p + "router"], h2)
        if c["sigmoid"]:
            pr = [1.0 / (1.0 + math.exp(-a)) for a in lg]
        else:
            m = max(lg); ex = [math.exp(a - m) for a in lg]
            pr = [a / sum(ex) for a in ex]
        ids = []
        for _ in range(c["K"]):
            best = -1
            for e in range(c["E"]):
                if e not in ids and (best < 0 or pr[e] > pr[best]): best = e
            ids.append(best)
        ws = [pr[e] for e in ids]
        if c["norm"]: ws = [a / sum(ws) for a in ws]
        out = [0.0] * len(h2)
        for e, wt in zip(ids, ws):
            gg = mv(M[p + "gate_exps"][e], h2); uu = mv(M[p + "up_exps"][e], h2)
            act = [a / (1 + math.exp(-a)) * b for a, b in zip(gg, uu)]
            out = [o + wt * y for o, y in zip(out, mv(M[p + "down_exps"][e], act))]
        return out
    def rms(x, w, eps):
        ms = sum(a * a for a in x) / len(x); s = 1.0 / math.sqrt(ms + eps)
        return [a * s * b for a, b in zip(x, w)]
    def mv(m, x): return [sum(a * b for a, b in zip(row, x)) for row in m]
    kc = [[[None] * nctx for _ in range(KVH)] for _ in range(L)]
    vc = [[[None] * nctx for _ in range(KVH)] for _ in range(L)]
    def rope(x, p):
        half = HD // 2; y = list(x)
        for i in range(half):
            f = c["theta"] ** (-2.0 * i / HD)
            if c["freqs"]: f /= W["rope_freqs"][1][i]
            a = p * f; cs, sn = math.cos(a), math.sin(a)
            i0, i1 = (2 * i, 2 * i + 1) if not c["neox"] else (i, i + half)
            y[i0] = x[i0] * cs - x[i1] * sn; y[i1] = x[i0] * sn + x[i1] * cs
        return y
    def forward(tokens, pos):
        xs = [list(M["token_embd"][t]) for t in tokens]
        n = len(tokens)
        for l in range(L):
            p = f"{l}."
            hs = [rms(x, M[p + "attn_norm"], c["eps"]) for x in xs]
            qs = []
            for i, h in enumerate(hs):
                q = mv(M[p + "wq"], h); k = mv(M[p + "wk"], h); v = mv(M[p + "wv"], h)
                qh = [q[j * HD:(j + 1) * HD] for j in range(H)]
                kh = [k[j * HD:(j + 1) * HD] for j in range(KVH)]
                if c["qk"]:
                    qh = [rms(a, M[p + "q_norm"], c["eps"]) for a in qh]
                    kh = [rms(a, M[p + "k_norm"], c["eps"]) for a in kh]
                qh = [rope(a, pos + i) for a in qh]; kh = [rope(a, pos + i) for a in kh]
                for j in range(KVH):
                    kc[l][j][pos + i] = kh[j]; vc[l][j][pos + i] = v[j * HD:(j + 1) * HD]
                qs.append(qh)
            g = H // KVH
            new = []
            for i in range(n):
                att = []
                for hh in range(H):
                    kv = hh // g; npos = pos + i + 1
                    sc = [sum(a * b for a, b in zip(qs[i][hh], kc[l][kv][s])) * (1.0 / math.sqrt(HD)) for s in range(npos)]
                    m = max(sc); e = [math.exp(s - m) for s in sc]; tot = sum(e)
                    pr = [x / tot for x in e]
                    att += [sum(pr[s] * vc[l][kv][s][d] for s in range(npos)) for d in range(HD)]
                x1 = [a + b for a, b in zip(xs[i], mv(M[p + "wo"], att))]
                h2 = rms(x1, M[p + "ffn_norm"], c["eps"])
                new.append([a + b for a, b in zip(x1, ffn(p, h2))])
            xs = new
        return [v for x in xs for v in mv(M["output"], rms(x, M["output_norm"], c["eps"]))]
    return forward(tokens1, 0) + forward([token2], len(tokens1))

if __name__ == "__main__":
    argv = sys.argv[1:]
    if argv[:1] == ["--workdir"]:
        WORKDIR, argv = argv[1], argv[2:]
    results = [main(k) for k in argv]
    sys.exit(0 if all(results) else 1)
