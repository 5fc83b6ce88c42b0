// SMEPilot runtime: the reference executor, a plain C++ forward pass.
//
// The correctness oracle for every compiled path (DESIGN.md): obviously right
// rather than fast. Architectures: llama (Llama 1/2/3, stories260K), qwen3 and
// qwen3moe.
//
// Numerics:
//  - Weights are F32: F32 tensors are used in place in the file's memory,
//    every other type is dequantized once at load (dequantize_row). All
//    activations and arithmetic are F32; sums of squares and softmax
//    denominators accumulate in double.
//  - Results do not depend on the thread count or on n_batch, bit for bit:
//    work is split only over independent outputs (matrix rows, (token, head)
//    pairs, tokens), never inside a reduction, and every reduction runs in a
//    fixed order (dot products: 16 interleaved partial sums combined
//    pairwise in a fixed tree, then the tail).
//  - RoPE angles are computed in double: pos * theta^(-2i/rope_dim) /
//    rope_freqs[i] (the Llama-3 frequency factors when the file has them),
//    then cos/sin rounded to F32.
//
// Per layer (llama.cpp's graphs for these architectures):
//   h = rmsnorm(x) * attn_norm
//   q, k, v = Wq h, Wk h, Wv h;  qwen3: q, k = rmsnorm per head * q_norm/k_norm
//   q, k = rope(q, k)  (llama: interleaved pairs; qwen3: NEOX halves)
//   a = softmax(q k^T / sqrt(head_dim), causal) v   (GQA: head h reads kv head
//       h / (n_head / n_head_kv)), from the KV cache
//   x = x + Wo a
//   h = rmsnorm(x) * ffn_norm
//   dense: x = x + Wdown (silu(Wgate h) * Wup h)
//   MoE:   p = softmax(Wrouter h); top-k experts by p (ties: lower id);
//          weights renormalized to sum 1 when the file says so;
//          x = x + sum_k w_k * Wdown_k (silu(Wgate_k h) * Wup_k h)
// then logits = Wout (rmsnorm(x) * output_norm), Wout = token_embd when tied.
#pragma once

#include "smepilot_rt/engine.h"
#include "smepilot_rt/gguf.h"
#include "smepilot_rt/model.h"

#include <memory>

namespace smepilot::rt {

/// Loads the reference engine for `file`. The file must outlive the engine
/// (F32 weights are read in place). `options.n_ctx` 0 means the model's
/// n_ctx_train.
result<std::unique_ptr<engine>> load_reference_engine(const gguf_file &file,
                                                      const engine_options &options);

} // namespace smepilot::rt
