// SMEPilot runtime: model hyperparameters and weight tensors from a GGUF file.
//
// Supported architectures (general.architecture): llama, qwen3, qwen3moe.
// Keys are `<arch>.<name>` as llama.cpp writes them:
//
//   required  context_length, embedding_length, block_count,
//             attention.head_count, attention.layer_norm_rms_epsilon,
//             feed_forward_length (llama, qwen3),
//             expert_count, expert_used_count (qwen3moe)
//   optional  vocab_size (else the tokenizer.ggml.tokens count, else
//             token_embd.weight's ne[1]), attention.head_count_kv (= head_count),
//             attention.key_length (= n_embd / n_head), attention.value_length
//             (= key_length), rope.freq_base (10000), rope.dimension_count
//             (= head_dim), expert_feed_forward_length (qwen3moe: else from
//             ffn_gate_exps's shape), expert_gating_func (1 softmax, 2 sigmoid;
//             softmax), expert_weights_norm (qwen3moe: true), general.name
//   rejected  rope.scaling.type other than "none" (linear/yarn scaling is not
//             implemented; Llama-3 scaling comes as the rope_freqs tensor),
//             experts in a llama file (Mixtral-style MoE is not implemented)
//
// GGUF tensor dims are ne[0]-first (ne[0] is contiguous): a weight applied as
// y = W x with x of size n_in and y of size n_out is [n_in, n_out].
#pragma once

#include "smepilot_rt/gguf.h"
#include "smepilot_rt/status.h"

#include <cstdint>
#include <string>
#include <vector>

namespace smepilot::rt {

enum class model_arch { llama, qwen3, qwen3moe };

/// Which elements RoPE rotates together.
enum class rope_style {
  interleaved, ///< llama.cpp NORM: pairs (2i, 2i+1).
  neox,        ///< llama.cpp NEOX: pairs (i, i + rope_dim/2).
};

/// How the router's logits become expert weights.
enum class expert_gating { softmax, sigmoid };

/// "llama", "qwen3", "qwen3moe".
const char *model_arch_name(model_arch arch);
/// "interleaved", "neox".
const char *rope_style_name(rope_style style);
/// "softmax", "sigmoid".
const char *expert_gating_name(expert_gating gating);

struct model_config {
  model_arch arch = model_arch::llama;
  std::string name; ///< general.name, or "" when absent.
  uint32_t n_vocab = 0;
  uint32_t n_ctx_train = 0;
  uint32_t n_embd = 0;
  uint32_t n_layer = 0;
  uint32_t n_head = 0;
  uint32_t n_head_kv = 0;
  uint32_t head_dim = 0;   ///< attention.key_length, default n_embd / n_head.
  uint32_t head_dim_v = 0; ///< attention.value_length, default head_dim.
  uint32_t n_ff = 0;       ///< Dense FFN width (0 when absent in a MoE file).
  float rope_theta = 10000.0f;
  rope_style rope_type = rope_style::interleaved;
  uint32_t rope_dim = 0; ///< Leading dims of each head that RoPE rotates.
  float rms_eps = 1e-5f;
  // Mixture of experts (qwen3moe); zero for dense models.
  uint32_t n_expert = 0;
  uint32_t n_expert_used = 0;
  uint32_t n_ff_expert = 0;
  expert_gating gating = expert_gating::softmax;
  bool expert_weights_norm = false; ///< Renormalize the top-k weights to sum 1.
  bool tied_embeddings = false;     ///< No output.weight: logits use token_embd.
  bool has_rope_freqs = false;      ///< rope_freqs.weight divides the frequencies.
  bool has_qk_norm = false;         ///< Per-head RMSNorm of q and k (qwen3).

  bool is_moe() const { return n_expert > 0; }
  uint32_t q_dim() const { return n_head * head_dim; }     ///< Rows of attn_q.
  uint32_t kv_dim() const { return n_head_kv * head_dim; } ///< Rows of attn_k.
  uint32_t v_dim() const { return n_head_kv * head_dim_v; }
};

/// Reads and checks the hyperparameters of a supported architecture.
result<model_config> read_model_config(const gguf_file &file);

/// A multi-line human-readable listing ("  n_embd = 64\n" ...).
std::string describe_model_config(const model_config &config);

/// The context size (KV cache positions) of a run: `requested` (-c) when
/// positive, else the model's context_length. An error naming -c when
/// `requested` is negative or above INT32_MAX, naming the file's
/// `<arch>.context_length` key (and -c) when that is above INT32_MAX.
result<int32_t> resolve_context_size(const gguf_file &file, const model_config &config,
                                     int64_t requested);

struct layer_weights {
  const gguf_tensor_info *attn_norm = nullptr, *wq = nullptr, *wk = nullptr, *wv = nullptr,
                         *wo = nullptr, *q_norm = nullptr, *k_norm = nullptr, *ffn_norm = nullptr,
                         *ffn_gate = nullptr, *ffn_up = nullptr, *ffn_down = nullptr,
                         *ffn_gate_inp /*router*/ = nullptr, *ffn_gate_exps = nullptr,
                         *ffn_up_exps = nullptr, *ffn_down_exps = nullptr;
};

struct model_weights {
  const gguf_tensor_info *token_embd = nullptr, *output_norm = nullptr,
                         *output /*== token_embd when tied*/ = nullptr, *rope_freqs = nullptr;
  std::vector<layer_weights> layers;
};

/// Finds every tensor the architecture needs and checks its shape and type.
/// Shapes (ne[0] first), with q = n_head*head_dim, kv = n_head_kv*head_dim,
/// v = n_head_kv*head_dim_v:
///   token_embd [n_embd, n_vocab]   output [n_embd, n_vocab] (absent: tied)
///   output_norm, attn_norm, ffn_norm [n_embd]   rope_freqs [rope_dim/2]
///   attn_q [n_embd, q]  attn_k [n_embd, kv]  attn_v [n_embd, v]
///   attn_output [n_head*head_dim_v, n_embd]   attn_q_norm, attn_k_norm [head_dim]
///   ffn_gate, ffn_up [n_embd, n_ff]   ffn_down [n_ff, n_embd]
///   ffn_gate_inp [n_embd, n_expert]
///   ffn_gate_exps, ffn_up_exps [n_embd, n_ff_expert, n_expert]
///   ffn_down_exps [n_ff_expert, n_embd, n_expert]
/// Norms and rope_freqs must be f32, f16 or bf16; matrices (the router
/// included) any float or quantized type dequantize_row() supports. Errors name
/// the tensor, the expected and the actual shape or type.
result<model_weights> bind_model_weights(const gguf_file &file, const model_config &config);

} // namespace smepilot::rt
