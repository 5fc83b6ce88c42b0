// SMEPilot runtime: the reference executor (see reference_executor.h for the
// model equations and the numerical contract).
//
// Load: bind the weights (model.h), then turn each into an F32 matrix: F32
// tensors are used in place, others are dequantized row by row in parallel.
// Eval: split the tokens into chunks of n_batch; per chunk run the layers on
// all its tokens at once ([n_tok][dim] activations), writing K/V of the chunk
// to the cache before attention so that token i attends to positions
// [0, pos + i].
#include "smepilot_rt/reference_executor.h"

#include "reference_ops.h"
#include "smepilot_rt/ggml_types.h"
#include "smepilot_rt/kv_cache.h"
#include "smepilot_rt/memory.h"
#include "smepilot_rt/quantize.h"
#include "smepilot_rt/thread_pool.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>
#include <string>
#include <vector>

namespace smepilot::rt {

namespace {

/// A weight as an F32 matrix [rows][cols] (cols = ne[0]; rows = the product
/// of the other dims), either borrowed from the file or owned.
struct f32_matrix {
  const float *data = nullptr;
  int64_t rows = 0, cols = 0;
  std::unique_ptr<float[]> owned;
  ggml_type type = ggml_type::f32; ///< The file's type (data is F32 always).

  const float *row(int64_t r) const { return data + r * cols; }
};

result<f32_matrix> to_f32(const gguf_tensor_info *t, thread_pool &pool) {
  f32_matrix m;
  if (!t)
    return m;
  m.cols = t->dims[0];
  m.rows = int64_t(t->n_elements) / m.cols;
  m.type = t->type;
  if (t->type == ggml_type::f32 && reinterpret_cast<uintptr_t>(t->data) % alignof(float) == 0) {
    m.data = reinterpret_cast<const float *>(t->data);
    return m;
  }
  m.owned.reset(new (std::nothrow) float[size_t(t->n_elements)]);
  if (!m.owned)
    return status::error("cannot allocate " + std::to_string(t->n_elements * 4 >> 20) +
                         " MiB to dequantize tensor '" + std::string(t->name) + "'");
  const uint64_t row_bytes = ggml_row_bytes(t->type, uint64_t(m.cols));
  float *dst = m.owned.get();
  std::vector<status> errors(size_t(pool.n_threads()));
  pool.parallel_for(m.rows, [&](int64_t r0, int64_t r1, int w) {
    for (int64_t r = r0; r < r1; ++r) {
      status s = dequantize_row(t->type, t->data + uint64_t(r) * row_bytes, dst + r * m.cols,
                                uint64_t(m.cols));
      if (!s.is_ok() && errors[size_t(w)].is_ok())
        errors[size_t(w)] = s;
    }
  });
  for (status &s : errors)
    if (!s.is_ok())
      return status::error("tensor '" + std::string(t->name) + "': " + s.message());
  m.data = m.owned.get();
  return m;
}

struct layer {
  f32_matrix attn_norm, wq, wk, wv, wo, q_norm, k_norm, ffn_norm;
  f32_matrix ffn_gate, ffn_up, ffn_down;            // dense
  f32_matrix router, gate_exps, up_exps, down_exps; // MoE
};

class reference_engine final : public engine {
public:
  static result<std::unique_ptr<engine>> load(const gguf_file &file, const engine_options &options);

  std::string_view name() const override { return "reference"; }
  int32_t n_vocab() const override { return int32_t(cfg_.n_vocab); }
  int32_t n_ctx() const override { return kv_->capacity(); }
  int32_t n_past() const override { return n_past_; }
  uint64_t kv_bytes_per_position() const override { return kv_->bytes_per_position(); }
  status eval(std::span<const int32_t> tokens, int32_t pos, logits_mode mode,
              float *logits) override;
  void reset() override { n_past_ = 0; }

private:
  reference_engine(const model_config &cfg, const engine_options &options)
      : cfg_(cfg), options_(options), pool_(options.n_threads) {}
  status bind(const gguf_file &file);
  status alloc_scratch();
  /// One chunk; `logits` gets rows for tokens [first_logit_row, n).
  void forward(const int32_t *tokens, int64_t n, int32_t pos, int64_t first_logit_row,
               float *logits);
  void attention(int64_t n, int32_t pos, int32_t il);
  void ffn_dense(const layer &L, int64_t n);
  void ffn_moe(const layer &L, int64_t n);
  /// The rows x [rows][w.cols] as a product by `w` takes them: rounded to
  /// Q8_0 blocks when w is Q8_0 or Q4_0 in the file, to bf16 when it is
  /// BF16, as llama.cpp and the compiled graph do (round_activations_q8_0,
  /// round_activations_bf16), unless engine_options::f32_activations; else
  /// x itself. The result is valid until the next call.
  const float *activations(const f32_matrix &w, const float *x, int64_t rows);

  model_config cfg_;
  engine_options options_;
  thread_pool pool_;
  std::unique_ptr<kv_cache> kv_;
  int32_t n_past_ = 0;

  f32_matrix token_embd_, output_norm_, output_;
  std::vector<float> rope_freqs_; // empty: none
  std::vector<layer> layers_;

  // Activations for one chunk of at most n_batch tokens.
  int64_t n_batch_ = 0;
  // x_: the residual stream; h_: normed input of a block; proj_: a block's
  // output projection before it is added to x_.
  std::vector<float> x_, h_, q_, k_, v_, attn_, proj_, gate_, up_;
  std::vector<float> rounded_; // activations(): x rounded (Q8_0 blocks, bf16)
  std::vector<float> cos_sin_; // [n_batch][rope_dim/2][2]
  // MoE: router probabilities, choices and per-(token, slot) outputs.
  std::vector<float> router_;
  std::vector<int32_t> chosen_;
  std::vector<float> chosen_w_;
  std::vector<float> expert_out_;
  std::vector<float> expert_in_, expert_gate_, expert_up_, expert_down_;
  // Per worker: attention scores and (F16 cache) converted K/V.
  std::vector<std::unique_ptr<float[]>> scores_;     // [n_ctx] each, uninitialized: pages on use
  std::vector<std::unique_ptr<float[]>> kv_scratch_; // uninitialized: pages on use
};

result<std::unique_ptr<engine>> reference_engine::load(const gguf_file &file,
                                                       const engine_options &options) {
  result<model_config> cfg = read_model_config(file);
  if (!cfg)
    return cfg.take_error();
  if (options.n_threads < 1)
    return status::error("invalid thread count " + std::to_string(options.n_threads) +
                         " (must be at least 1)");
  if (options.n_batch < 1)
    return status::error("invalid batch size " + std::to_string(options.n_batch) +
                         " (must be at least 1)");
  result<int32_t> n_ctx = resolve_context_size(file, *cfg, options.n_ctx);
  if (!n_ctx)
    return n_ctx.take_error();
  std::unique_ptr<reference_engine> e(new reference_engine(*cfg, options));
  if (!e->pool_.start_error().empty())
    return status::error(e->pool_.start_error() + "; lower -t");
  SMEPILOT_RT_RETURN_IF_ERROR(e->bind(file));

  kv_cache_shape shape;
  shape.n_layer = int32_t(cfg->n_layer);
  shape.n_ctx = *n_ctx;
  shape.n_head_kv = int32_t(cfg->n_head_kv);
  shape.head_dim_k = int32_t(cfg->head_dim);
  shape.head_dim_v = int32_t(cfg->head_dim_v);
  result<std::unique_ptr<kv_cache>> kv = kv_cache::create(shape, options.kv_type);
  if (!kv)
    return kv.take_error();
  e->kv_ = std::move(*kv);
  SMEPILOT_RT_RETURN_IF_ERROR(e->alloc_scratch());
  return std::unique_ptr<engine>(std::move(e));
}

const float *reference_engine::activations(const f32_matrix &w, const float *x, int64_t rows) {
  const bool q8 = w.type == ggml_type::q8_0 || w.type == ggml_type::q4_0;
  if (options_.f32_activations || (!q8 && w.type != ggml_type::bf16))
    return x;
  const size_t n = size_t(rows * w.cols);
  if (rounded_.size() < n)
    rounded_.resize(n);
  pool_.parallel_for(rows, 1, [&](int64_t r0, int64_t r1, int) {
    for (int64_t r = r0; r < r1; ++r) {
      const float *in = x + r * w.cols;
      float *out = &rounded_[size_t(r * w.cols)];
      if (q8)
        round_activations_q8_0(in, out, uint64_t(w.cols));
      else
        round_activations_bf16(in, out, uint64_t(w.cols));
    }
  });
  return rounded_.data();
}

status reference_engine::bind(const gguf_file &file) {
  result<model_weights> w = bind_model_weights(file, cfg_);
  if (!w)
    return w.take_error();
  auto conv = [&](const gguf_tensor_info *t, f32_matrix &out) -> status {
    result<f32_matrix> m = to_f32(t, pool_);
    if (!m)
      return m.take_error();
    out = std::move(*m);
    return status::ok();
  };
  SMEPILOT_RT_RETURN_IF_ERROR(conv(w->token_embd, token_embd_));
  SMEPILOT_RT_RETURN_IF_ERROR(conv(w->output_norm, output_norm_));
  if (w->output && w->output != w->token_embd)
    SMEPILOT_RT_RETURN_IF_ERROR(conv(w->output, output_));
  if (w->rope_freqs) {
    f32_matrix rf;
    SMEPILOT_RT_RETURN_IF_ERROR(conv(w->rope_freqs, rf));
    rope_freqs_.assign(rf.data, rf.data + rf.rows * rf.cols);
  }
  layers_.resize(cfg_.n_layer);
  for (uint32_t il = 0; il < cfg_.n_layer; ++il) {
    const layer_weights &lw = w->layers[il];
    layer &L = layers_[il];
    const std::pair<const gguf_tensor_info *, f32_matrix *> all[] = {
        {lw.attn_norm, &L.attn_norm},
        {lw.wq, &L.wq},
        {lw.wk, &L.wk},
        {lw.wv, &L.wv},
        {lw.wo, &L.wo},
        {lw.q_norm, &L.q_norm},
        {lw.k_norm, &L.k_norm},
        {lw.ffn_norm, &L.ffn_norm},
        {lw.ffn_gate, &L.ffn_gate},
        {lw.ffn_up, &L.ffn_up},
        {lw.ffn_down, &L.ffn_down},
        {lw.ffn_gate_inp, &L.router},
        {lw.ffn_gate_exps, &L.gate_exps},
        {lw.ffn_up_exps, &L.up_exps},
        {lw.ffn_down_exps, &L.down_exps},
    };
    for (const auto &[t, m] : all)
      SMEPILOT_RT_RETURN_IF_ERROR(conv(t, *m));
  }
  return status::ok();
}

status reference_engine::alloc_scratch() {
  // A chunk never holds more tokens than the context.
  const int64_t nb = n_batch_ = std::min(options_.n_batch, kv_->capacity());
  const int64_t d = cfg_.n_embd;
  // The activations below are written whole (zero-filled): they must fit in
  // memory. Floats per token, over every buffer; sizes from the file are
  // 32-bit, so this sum cannot overflow.
  uint64_t per_token = 3 * uint64_t(d) + cfg_.q_dim() + cfg_.kv_dim() + cfg_.v_dim() +
                       uint64_t(cfg_.n_head) * cfg_.head_dim_v + cfg_.rope_dim;
  if (cfg_.is_moe())
    per_token += uint64_t(cfg_.n_expert) + 3 * uint64_t(cfg_.n_expert_used) +
                 uint64_t(cfg_.n_expert_used) * d + 2 * uint64_t(d) +
                 2 * uint64_t(cfg_.n_ff_expert);
  else
    per_token += 2 * uint64_t(cfg_.n_ff);
  const memory_budget budget = probe_memory_budget();
  SMEPILOT_RT_RETURN_IF_ERROR(check_memory(
      budget, checked_product({per_token, uint64_t(nb), sizeof(float)}).value_or(UINT64_MAX),
      "the activations of a batch of " + std::to_string(nb) + " tokens",
      "lower the batch size (-b)"));
  // Per worker: attention scores over the context and, for an F16 cache, the
  // converted keys and values; reserved, touched as far as positions go.
  const uint64_t kv_scratch =
      kv_->type() != kv_cache_type::f32 ? std::max(cfg_.head_dim, cfg_.head_dim_v) : 0;
  SMEPILOT_RT_RETURN_IF_ERROR(
      check_reservation(budget,
                        checked_product({uint64_t(pool_.n_threads()), uint64_t(kv_->capacity()),
                                         1 + kv_scratch, sizeof(float)})
                            .value_or(UINT64_MAX),
                        "the attention scratch of " + std::to_string(pool_.n_threads()) +
                            " threads over " + std::to_string(kv_->capacity()) + " positions",
                        "use a smaller context size (-c) or fewer threads (-t)"));
  x_.resize(size_t(nb * d));
  h_.resize(size_t(nb * d));
  proj_.resize(size_t(nb * d));
  q_.resize(size_t(nb * cfg_.q_dim()));
  k_.resize(size_t(nb * cfg_.kv_dim()));
  v_.resize(size_t(nb * cfg_.v_dim()));
  attn_.resize(size_t(nb * cfg_.n_head * cfg_.head_dim_v));
  cos_sin_.resize(size_t(nb * (cfg_.rope_dim / 2) * 2));
  if (cfg_.is_moe()) {
    const int64_t k = cfg_.n_expert_used, ffe = cfg_.n_ff_expert;
    router_.resize(size_t(nb * cfg_.n_expert));
    chosen_.resize(size_t(nb * k));
    chosen_w_.resize(size_t(nb * k));
    expert_out_.resize(size_t(nb * k * d));
    expert_in_.resize(size_t(nb * d));
    expert_gate_.resize(size_t(nb * ffe));
    expert_up_.resize(size_t(nb * ffe));
    expert_down_.resize(size_t(nb * d));
  } else {
    gate_.resize(size_t(nb * cfg_.n_ff));
    up_.resize(size_t(nb * cfg_.n_ff));
  }
  const size_t workers = size_t(pool_.n_threads());
  const size_t ctx = size_t(kv_->capacity());
  for (size_t w = 0; w < workers; ++w) {
    scores_.emplace_back(new (std::nothrow) float[ctx]);
    if (!scores_.back())
      return status::error("cannot allocate " + std::to_string(ctx * sizeof(float) >> 20) +
                           " MiB of attention scores; use a smaller context size (-c)");
  }
  if (kv_->type() != kv_cache_type::f32)
    for (size_t w = 0; w < workers; ++w) {
      const size_t n = ctx * std::max(cfg_.head_dim, cfg_.head_dim_v);
      kv_scratch_.emplace_back(new (std::nothrow) float[n]);
      if (!kv_scratch_.back())
        return status::error("cannot allocate " + std::to_string(n * sizeof(float) >> 20) +
                             " MiB of attention scratch; use a smaller context size (-c)");
    }
  return status::ok();
}

status reference_engine::eval(std::span<const int32_t> tokens, int32_t pos, logits_mode mode,
                              float *logits) {
  if (pos < 0 || pos > n_past_)
    return status::error("cannot evaluate at position " + std::to_string(pos) +
                         ": the cache holds " + std::to_string(n_past_) +
                         " positions (no holes allowed)");
  SMEPILOT_RT_RETURN_IF_ERROR(kv_->check_room(pos, int64_t(tokens.size())));
  for (size_t i = 0; i < tokens.size(); ++i)
    if (tokens[i] < 0 || uint32_t(tokens[i]) >= cfg_.n_vocab)
      return status::error("token id " + std::to_string(tokens[i]) + " at index " +
                           std::to_string(i) + " is out of range (vocabulary size " +
                           std::to_string(cfg_.n_vocab) + ")");
  if (mode != logits_mode::none && !logits)
    return status::error("eval: no logits buffer given");
  const int64_t n = int64_t(tokens.size());
  for (int64_t off = 0; off < n; off += n_batch_) {
    const int64_t len = std::min(n_batch_, n - off);
    float *out = nullptr;
    int64_t first_row = len; // no logits
    if (mode == logits_mode::all) {
      out = logits + off * int64_t(cfg_.n_vocab);
      first_row = 0;
    } else if (mode == logits_mode::last && off + len == n) {
      out = logits;
      first_row = len - 1;
    }
    forward(tokens.data() + off, len, pos + int32_t(off), first_row, out);
  }
  n_past_ = pos + int32_t(n);
  if (mode == logits_mode::all)
    return check_logits_finite(name(), logits, int64_t(tokens.size()), cfg_.n_vocab, pos);
  if (mode == logits_mode::last && !tokens.empty())
    return check_logits_finite(name(), logits, 1, cfg_.n_vocab, pos + int64_t(tokens.size()) - 1);
  return status::ok();
}

void reference_engine::forward(const int32_t *tokens, int64_t n, int32_t pos,
                               int64_t first_logit_row, float *logits) {
  const int64_t d = cfg_.n_embd;
  const int64_t hd = cfg_.head_dim, n_head = cfg_.n_head, n_head_kv = cfg_.n_head_kv;
  const int64_t rope_dim = cfg_.rope_dim;
  const bool interleaved = cfg_.rope_type == rope_style::interleaved;
  const float *freq_factors = rope_freqs_.empty() ? nullptr : rope_freqs_.data();

  for (int64_t i = 0; i < n; ++i)
    std::memcpy(&x_[size_t(i * d)], token_embd_.row(tokens[i]), sizeof(float) * size_t(d));
  for (int64_t i = 0; i < n; ++i)
    ref::rope_cache(pos + i, cfg_.rope_theta, rope_dim, freq_factors,
                    &cos_sin_[size_t(i * rope_dim)]);

  for (uint32_t il = 0; il < cfg_.n_layer; ++il) {
    const layer &L = layers_[il];
    pool_.parallel_for(n, 1, [&](int64_t i0, int64_t i1, int) {
      for (int64_t i = i0; i < i1; ++i)
        ref::rms_norm(&x_[size_t(i * d)], L.attn_norm.data, d, cfg_.rms_eps, &h_[size_t(i * d)]);
    });
    ref::matmul(pool_, L.wq.data, L.wq.rows, d, activations(L.wq, h_.data(), n), n, q_.data());
    ref::matmul(pool_, L.wk.data, L.wk.rows, d, activations(L.wk, h_.data(), n), n, k_.data());
    ref::matmul(pool_, L.wv.data, L.wv.rows, d, activations(L.wv, h_.data(), n), n, v_.data());

    // Per-head QK norm, then RoPE; one task per token.
    pool_.parallel_for(n, 1, [&](int64_t i0, int64_t i1, int) {
      for (int64_t i = i0; i < i1; ++i) {
        const float *cs = &cos_sin_[size_t(i * rope_dim)];
        for (int64_t h = 0; h < n_head; ++h) {
          float *qh = &q_[size_t((i * n_head + h) * hd)];
          if (cfg_.has_qk_norm)
            ref::rms_norm(qh, L.q_norm.data, hd, cfg_.rms_eps, qh);
          ref::rope_head(qh, cs, rope_dim, interleaved);
        }
        for (int64_t h = 0; h < n_head_kv; ++h) {
          float *kh = &k_[size_t((i * n_head_kv + h) * hd)];
          if (cfg_.has_qk_norm)
            ref::rms_norm(kh, L.k_norm.data, hd, cfg_.rms_eps, kh);
          ref::rope_head(kh, cs, rope_dim, interleaved);
        }
      }
    });
    for (int64_t i = 0; i < n; ++i)
      kv_->store(int32_t(il), pos + int32_t(i), &k_[size_t(i * cfg_.kv_dim())],
                 &v_[size_t(i * cfg_.v_dim())]);
    attention(n, pos, int32_t(il));

    // x += Wo attn
    ref::matmul(pool_, L.wo.data, L.wo.rows, L.wo.cols, activations(L.wo, attn_.data(), n), n,
                proj_.data());
    for (int64_t j = 0; j < n * d; ++j)
      x_[size_t(j)] += proj_[size_t(j)];

    pool_.parallel_for(n, 1, [&](int64_t i0, int64_t i1, int) {
      for (int64_t i = i0; i < i1; ++i)
        ref::rms_norm(&x_[size_t(i * d)], L.ffn_norm.data, d, cfg_.rms_eps, &h_[size_t(i * d)]);
    });
    if (cfg_.is_moe())
      ffn_moe(L, n);
    else
      ffn_dense(L, n);
    for (int64_t j = 0; j < n * d; ++j)
      x_[size_t(j)] += proj_[size_t(j)];
  }

  if (!logits || first_logit_row >= n)
    return;
  const int64_t n_out = n - first_logit_row;
  for (int64_t i = first_logit_row; i < n; ++i)
    ref::rms_norm(&x_[size_t(i * d)], output_norm_.data, d, cfg_.rms_eps,
                  &h_[size_t((i - first_logit_row) * d)]);
  const f32_matrix &out = output_.data ? output_ : token_embd_;
  ref::matmul(pool_, out.data, out.rows, d, activations(out, h_.data(), n_out), n_out, logits);
}

void reference_engine::attention(int64_t n, int32_t pos, int32_t il) {
  const int64_t hd = cfg_.head_dim, hdv = cfg_.head_dim_v;
  const int64_t n_head = cfg_.n_head, n_head_kv = cfg_.n_head_kv;
  const int64_t group = n_head / n_head_kv;
  const float scale = 1.0f / std::sqrt(float(hd));
  pool_.parallel_for(n * n_head, 1, [&](int64_t t0, int64_t t1, int w) {
    float *scores = scores_[size_t(w)].get();
    float *conv = kv_scratch_.empty() ? nullptr : kv_scratch_[size_t(w)].get();
    for (int64_t task = t0; task < t1; ++task) {
      const int64_t i = task / n_head, h = task % n_head, kvh = h / group;
      const int32_t n_pos = pos + int32_t(i) + 1; // causal: positions [0, pos + i]
      const float *q = &q_[size_t((i * n_head + h) * hd)];
      const float *keys = kv_->keys(il, int32_t(kvh), n_pos, conv);
      for (int32_t s = 0; s < n_pos; ++s)
        scores[s] = ref::dot(q, keys + int64_t(s) * hd, hd) * scale;
      ref::softmax(scores, n_pos);
      const float *vals = kv_->values(il, int32_t(kvh), n_pos, conv);
      float *out = &attn_[size_t((i * n_head + h) * hdv)];
      std::fill(out, out + hdv, 0.0f);
      for (int32_t s = 0; s < n_pos; ++s) {
        const float p = scores[s];
        const float *vs = vals + int64_t(s) * hdv;
        for (int64_t j = 0; j < hdv; ++j)
          out[j] += p * vs[j];
      }
    }
  });
}

void reference_engine::ffn_dense(const layer &L, int64_t n) {
  const int64_t d = cfg_.n_embd, ff = cfg_.n_ff;
  ref::matmul(pool_, L.ffn_gate.data, ff, d, activations(L.ffn_gate, h_.data(), n), n,
              gate_.data());
  ref::matmul(pool_, L.ffn_up.data, ff, d, activations(L.ffn_up, h_.data(), n), n, up_.data());
  for (int64_t j = 0; j < n * ff; ++j)
    gate_[size_t(j)] = ref::silu(gate_[size_t(j)]) * up_[size_t(j)];
  ref::matmul(pool_, L.ffn_down.data, d, ff, activations(L.ffn_down, gate_.data(), n), n,
              proj_.data());
}

void reference_engine::ffn_moe(const layer &L, int64_t n) {
  const int64_t d = cfg_.n_embd, ffe = cfg_.n_ff_expert;
  const int64_t n_exp = cfg_.n_expert, k = cfg_.n_expert_used;
  ref::matmul(pool_, L.router.data, n_exp, d, h_.data(), n, router_.data());

  // Gate probabilities, top-k (ties: lower id), optional renormalization.
  for (int64_t i = 0; i < n; ++i) {
    float *p = &router_[size_t(i * n_exp)];
    if (cfg_.gating == expert_gating::softmax)
      ref::softmax(p, n_exp);
    else
      for (int64_t e = 0; e < n_exp; ++e)
        p[e] = 1.0f / (1.0f + std::exp(-p[e]));
    int32_t *ids = &chosen_[size_t(i * k)];
    float *ws = &chosen_w_[size_t(i * k)];
    for (int64_t slot = 0; slot < k; ++slot) {
      int32_t best = -1;
      for (int32_t e = 0; e < n_exp; ++e) {
        if (std::find(ids, ids + slot, e) != ids + slot)
          continue;
        if (best < 0 || p[e] > p[best])
          best = e;
      }
      ids[slot] = best;
      ws[slot] = p[best];
    }
    if (cfg_.expert_weights_norm) {
      double sum = 0;
      for (int64_t slot = 0; slot < k; ++slot)
        sum += ws[slot];
      for (int64_t slot = 0; slot < k; ++slot)
        ws[slot] = float(double(ws[slot]) / sum);
    }
  }

  // Each expert runs on the tokens routed to it; its outputs land in
  // expert_out_[token][slot] and are summed per token in slot order.
  std::vector<int64_t> rows; // token * k + slot
  for (int32_t e = 0; e < n_exp; ++e) {
    rows.clear();
    for (int64_t r = 0; r < n * k; ++r)
      if (chosen_[size_t(r)] == e)
        rows.push_back(r);
    if (rows.empty())
      continue;
    const int64_t m = int64_t(rows.size());
    for (int64_t j = 0; j < m; ++j)
      std::memcpy(&expert_in_[size_t(j * d)], &h_[size_t(rows[size_t(j)] / k * d)],
                  sizeof(float) * size_t(d));
    ref::matmul(pool_, L.gate_exps.row(e * ffe), ffe, d,
                activations(L.gate_exps, expert_in_.data(), m), m, expert_gate_.data());
    ref::matmul(pool_, L.up_exps.row(e * ffe), ffe, d, activations(L.up_exps, expert_in_.data(), m),
                m, expert_up_.data());
    for (int64_t j = 0; j < m * ffe; ++j)
      expert_gate_[size_t(j)] = ref::silu(expert_gate_[size_t(j)]) * expert_up_[size_t(j)];
    ref::matmul(pool_, L.down_exps.row(e * d), d, ffe,
                activations(L.down_exps, expert_gate_.data(), m), m, expert_down_.data());
    for (int64_t j = 0; j < m; ++j)
      std::memcpy(&expert_out_[size_t(rows[size_t(j)] * d)], &expert_down_[size_t(j * d)],
                  sizeof(float) * size_t(d));
  }
  for (int64_t i = 0; i < n; ++i) {
    float *out = &proj_[size_t(i * d)];
    for (int64_t c = 0; c < d; ++c) {
      float acc = 0;
      for (int64_t slot = 0; slot < k; ++slot)
        acc += chosen_w_[size_t(i * k + slot)] * expert_out_[size_t((i * k + slot) * d + c)];
      out[c] = acc;
    }
  }
}

} // namespace

result<std::unique_ptr<engine>> load_reference_engine(const gguf_file &file,
                                                      const engine_options &options) {
  return reference_engine::load(file, options);
}

} // namespace smepilot::rt
