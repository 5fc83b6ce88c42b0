// SMEPilot runtime: model hyperparameters and weight binding for llama,
// qwen3 and qwen3moe GGUF files.
//
// read_model_config() reads `<arch>.*` keys with llama.cpp's defaults for the
// optional ones (see model.h), then checks that the numbers are consistent
// (heads divide, rope fits the head, experts used <= experts) so that later
// code can size buffers from them without re-checking. bind_model_weights()
// then finds each tensor by its llama.cpp name and checks shape and type.
// Key order in the file does not matter (stories260K.gguf puts the tokenizer
// before general.architecture).
#include "smepilot_rt/model.h"

#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <limits>

#include "strformat.h"

namespace smepilot::rt {
namespace {

using ull = unsigned long long;

constexpr const char *supported_archs = "llama, qwen3, qwen3moe";

// Reads `<arch>.<name>` keys and reports errors with the file, offset and key.
class key_reader {
public:
  key_reader(const gguf_file &file, std::string arch) : file_(file), arch_(std::move(arch)) {}

  std::string key(const char *name) const { return arch_ + "." + name; }
  bool has(const char *name) const { return file_.find(key(name)) != nullptr; }

  status error(const char *name, const std::string &what) const {
    std::string k = key(name);
    if (const gguf_kv *kv = file_.find(k))
      return status::error(strformat("%s: offset %llu: key '%s' %s", file_.path().c_str(),
                                     ull(kv->offset), k.c_str(), what.c_str()));
    return status::error(
        strformat("%s: key '%s' %s", file_.path().c_str(), k.c_str(), what.c_str()));
  }

  // The error for a required key that is absent.
  status missing(const char *name) const {
    return status::error(strformat("%s: key '%s' not found (required for architecture %s)",
                                   file_.path().c_str(), key(name).c_str(), arch_.c_str()));
  }

  // A positive 32-bit count; `fallback` when absent (0 = required).
  status count(const char *name, uint32_t &out, uint32_t fallback = 0) const {
    if (!has(name)) {
      if (fallback == 0)
        return missing(name);
      out = fallback;
      return status::ok();
    }
    result<uint64_t> v = file_.get_uint(key(name));
    if (!v)
      return v.take_error();
    if (*v == 0 || *v > std::numeric_limits<uint32_t>::max())
      return error(name, strformat("is %llu, expected 1 to %u", ull(*v),
                                   std::numeric_limits<uint32_t>::max()));
    out = uint32_t(*v);
    return status::ok();
  }

  // A positive finite float; `fallback` when absent (NaN = required).
  status positive(const char *name, float &out, float fallback) const {
    if (!has(name)) {
      if (std::isnan(fallback))
        return missing(name);
      out = fallback;
      return status::ok();
    }
    result<double> v = file_.get_float(key(name));
    if (!v)
      return v.take_error();
    if (!(*v > 0) || !std::isfinite(float(*v)))
      return error(name, strformat("is %g, expected a positive finite number", *v));
    out = float(*v);
    return status::ok();
  }

private:
  const gguf_file &file_;
  std::string arch_;
};

} // namespace

const char *model_arch_name(model_arch arch) {
  switch (arch) {
  case model_arch::llama:
    return "llama";
  case model_arch::qwen3:
    return "qwen3";
  case model_arch::qwen3moe:
    return "qwen3moe";
  }
  return "unknown";
}

const char *rope_style_name(rope_style style) {
  return style == rope_style::neox ? "neox" : "interleaved";
}

const char *expert_gating_name(expert_gating gating) {
  return gating == expert_gating::sigmoid ? "sigmoid" : "softmax";
}

result<model_config> read_model_config(const gguf_file &file) {
  const std::string &path = file.path();
  result<std::string_view> arch_name = file.get_string("general.architecture");
  if (!arch_name)
    return status::error(arch_name.error().message() + " (expected one of: " + supported_archs +
                         ")");
  model_config c;
  if (*arch_name == "llama") {
    c.arch = model_arch::llama;
  } else if (*arch_name == "qwen3") {
    c.arch = model_arch::qwen3;
  } else if (*arch_name == "qwen3moe") {
    c.arch = model_arch::qwen3moe;
  } else {
    return status::error(strformat("%s: offset %llu: architecture %s is not supported "
                                   "(general.architecture; supported: %s)",
                                   path.c_str(), ull(file.find("general.architecture")->offset),
                                   quoted(*arch_name).c_str(), supported_archs));
  }
  const std::string arch(*arch_name);
  key_reader k(file, arch);
  const bool qwen = c.arch != model_arch::llama;
  const bool moe = c.arch == model_arch::qwen3moe;

  if (const gguf_kv *kv = file.find("general.name"); kv && kv->value.type == gguf_type::string)
    c.name = std::string(kv->value.str);

  SMEPILOT_RT_RETURN_IF_ERROR(k.count("context_length", c.n_ctx_train));
  SMEPILOT_RT_RETURN_IF_ERROR(k.count("embedding_length", c.n_embd));
  SMEPILOT_RT_RETURN_IF_ERROR(k.count("block_count", c.n_layer));
  SMEPILOT_RT_RETURN_IF_ERROR(k.count("attention.head_count", c.n_head));
  SMEPILOT_RT_RETURN_IF_ERROR(k.count("attention.head_count_kv", c.n_head_kv, c.n_head));
  if (c.n_head % c.n_head_kv != 0)
    return k.error(
        "attention.head_count_kv",
        strformat("is %u, which does not divide attention.head_count %u", c.n_head_kv, c.n_head));
  if (!k.has("attention.key_length") && c.n_embd % c.n_head != 0)
    return k.error("embedding_length",
                   strformat("is %u, not a multiple of attention.head_count %u (and there is no "
                             "attention.key_length)",
                             c.n_embd, c.n_head));
  SMEPILOT_RT_RETURN_IF_ERROR(k.count("attention.key_length", c.head_dim, c.n_embd / c.n_head));
  SMEPILOT_RT_RETURN_IF_ERROR(k.count("attention.value_length", c.head_dim_v, c.head_dim));
  if (uint64_t(c.n_head) * c.head_dim > std::numeric_limits<int32_t>::max())
    return k.error("attention.key_length", "gives an absurd attention width");

  if (moe) {
    if (k.has("feed_forward_length"))
      SMEPILOT_RT_RETURN_IF_ERROR(k.count("feed_forward_length", c.n_ff));
  } else {
    SMEPILOT_RT_RETURN_IF_ERROR(k.count("feed_forward_length", c.n_ff));
  }

  SMEPILOT_RT_RETURN_IF_ERROR(k.positive("rope.freq_base", c.rope_theta, 10000.0f));
  SMEPILOT_RT_RETURN_IF_ERROR(k.count("rope.dimension_count", c.rope_dim, c.head_dim));
  if (c.rope_dim > c.head_dim || c.rope_dim % 2 != 0)
    return k.error(
        "rope.dimension_count",
        strformat("is %u, expected an even number <= the head size %u", c.rope_dim, c.head_dim));
  c.rope_type = qwen ? rope_style::neox : rope_style::interleaved;
  SMEPILOT_RT_RETURN_IF_ERROR(k.positive("attention.layer_norm_rms_epsilon", c.rms_eps, NAN));
  if (k.has("rope.scaling.type")) {
    result<std::string_view> type = file.get_string(k.key("rope.scaling.type"));
    if (!type)
      return type.take_error();
    if (*type != "none")
      return k.error("rope.scaling.type",
                     strformat("is %s: RoPE scaling other than 'none' is not supported (Llama-3 "
                               "scaling is read from the rope_freqs tensor)",
                               quoted(*type).c_str()));
  }

  // Experts.
  if (moe) {
    SMEPILOT_RT_RETURN_IF_ERROR(k.count("expert_count", c.n_expert));
    SMEPILOT_RT_RETURN_IF_ERROR(k.count("expert_used_count", c.n_expert_used));
    if (c.n_expert_used > c.n_expert)
      return k.error("expert_used_count",
                     strformat("is %u, more than expert_count %u", c.n_expert_used, c.n_expert));
    uint32_t from_tensor = 0;
    if (const gguf_tensor_info *t = file.find_tensor("blk.0.ffn_gate_exps.weight");
        t && t->dims.size() == 3 && t->dims[1] <= std::numeric_limits<uint32_t>::max())
      from_tensor = uint32_t(t->dims[1]);
    if (!k.has("expert_feed_forward_length") && from_tensor == 0)
      return status::error(strformat("%s: key '%s' not found and there is no "
                                     "blk.0.ffn_gate_exps.weight to infer it from",
                                     path.c_str(), k.key("expert_feed_forward_length").c_str()));
    SMEPILOT_RT_RETURN_IF_ERROR(k.count("expert_feed_forward_length", c.n_ff_expert, from_tensor));
    if (k.has("expert_gating_func")) {
      result<uint64_t> g = file.get_uint(k.key("expert_gating_func"));
      if (!g)
        return g.take_error();
      if (*g == 1)
        c.gating = expert_gating::softmax;
      else if (*g == 2)
        c.gating = expert_gating::sigmoid;
      else
        return k.error("expert_gating_func",
                       strformat("is %llu, expected 1 (softmax) or 2 (sigmoid)", ull(*g)));
    }
    // Qwen3-MoE renormalizes the top-k weights (norm_topk_prob); llama.cpp
    // hard-codes it for this architecture, files may still say so explicitly.
    c.expert_weights_norm = true;
    if (k.has("expert_weights_norm")) {
      result<bool> b = file.get_bool(k.key("expert_weights_norm"));
      if (!b)
        return b.take_error();
      c.expert_weights_norm = *b;
    }
  } else if (k.has("expert_count")) {
    result<uint64_t> n = file.get_uint(k.key("expert_count"));
    if (!n)
      return n.take_error();
    if (*n > 0)
      return k.error("expert_count", strformat("is %llu: mixture-of-experts %s models are not "
                                               "supported (only qwen3moe)",
                                               ull(*n), arch.c_str()));
  }

  // Vocabulary size: the key, else the tokenizer, else the embedding matrix.
  const gguf_tensor_info *embd = file.find_tensor("token_embd.weight");
  if (k.has("vocab_size")) {
    SMEPILOT_RT_RETURN_IF_ERROR(k.count("vocab_size", c.n_vocab));
  } else if (const gguf_kv *tokens = file.find("tokenizer.ggml.tokens");
             tokens && tokens->value.type == gguf_type::array) {
    if (tokens->value.array_count == 0 ||
        tokens->value.array_count > std::numeric_limits<uint32_t>::max())
      return status::error(strformat("%s: offset %llu: key 'tokenizer.ggml.tokens' has %llu "
                                     "tokens, expected 1 to 2^32-1",
                                     path.c_str(), ull(tokens->offset),
                                     ull(tokens->value.array_count)));
    c.n_vocab = uint32_t(tokens->value.array_count);
  } else if (embd && embd->dims.size() == 2 &&
             embd->dims[1] <= std::numeric_limits<uint32_t>::max()) {
    c.n_vocab = uint32_t(embd->dims[1]);
  } else {
    return status::error(strformat("%s: cannot tell the vocabulary size: no key '%s', no "
                                   "tokenizer.ggml.tokens and no 2-D token_embd.weight",
                                   path.c_str(), k.key("vocab_size").c_str()));
  }

  c.tied_embeddings = file.find_tensor("output.weight") == nullptr;
  c.has_rope_freqs = file.find_tensor("rope_freqs.weight") != nullptr;
  c.has_qk_norm = qwen;
  return c;
}

std::string describe_model_config(const model_config &c) {
  std::string s;
  auto line = [&](const char *key, const std::string &value) {
    s += strformat("  %-20s = %s\n", key, value.c_str());
  };
  auto num = [](uint64_t v) { return std::to_string(v); };
  auto boolean = [](bool b) { return std::string(b ? "true" : "false"); };
  line("arch", model_arch_name(c.arch));
  // The name is bytes from the file: control characters (an escape
  // sequence) are shown, never sent to the terminal; UTF-8 passes through.
  std::string name = "\"";
  for (unsigned char ch : c.name)
    name += ch < 0x20 || ch == 0x7f || ch == '"' || ch == '\\' ? strformat("\\x%02x", ch)
                                                               : std::string(1, char(ch));
  line("name", name + "\"");
  line("n_vocab", num(c.n_vocab));
  line("n_ctx_train", num(c.n_ctx_train));
  line("n_embd", num(c.n_embd));
  line("n_layer", num(c.n_layer));
  line("n_head", num(c.n_head));
  line("n_head_kv", num(c.n_head_kv));
  line("head_dim", num(c.head_dim));
  line("head_dim_v", num(c.head_dim_v));
  line("n_ff", num(c.n_ff));
  line("rope_theta", strformat("%.9g", double(c.rope_theta)));
  line("rope_type", rope_style_name(c.rope_type));
  line("rope_dim", num(c.rope_dim));
  line("rms_eps", strformat("%.9g", double(c.rms_eps)));
  if (c.is_moe()) {
    line("n_expert", num(c.n_expert));
    line("n_expert_used", num(c.n_expert_used));
    line("n_ff_expert", num(c.n_ff_expert));
    line("expert_gating", expert_gating_name(c.gating));
    line("expert_weights_norm", boolean(c.expert_weights_norm));
  }
  line("tied_embeddings", boolean(c.tied_embeddings));
  line("has_rope_freqs", boolean(c.has_rope_freqs));
  line("has_qk_norm", boolean(c.has_qk_norm));
  return s;
}

namespace {

enum class tensor_kind { vector, matrix };

bool type_allowed(ggml_type type, tensor_kind kind) {
  if (kind == tensor_kind::vector)
    return type == ggml_type::f32 || type == ggml_type::f16 || type == ggml_type::bf16;
  const ggml_type_traits *t = ggml_traits(type);
  // Integer types dequantize by value, which no weight matrix means.
  return t && t->dequantizable && type != ggml_type::i8 && type != ggml_type::i16 &&
         type != ggml_type::i32 && type != ggml_type::i64;
}

class binder {
public:
  binder(const gguf_file &file, const model_config &c) : file_(file), c_(c) {}

  // Finds `name`, checks it has `dims` (described symbolically by `formula`)
  // and an allowed type. Sets `out` to nullptr when absent and not required.
  status bind(const gguf_tensor_info *&out, const std::string &name, std::vector<int64_t> dims,
              const char *formula, tensor_kind kind, bool required = true) {
    out = file_.find_tensor(name);
    const std::string expected = std::string(formula) + " = " + gguf_dims_string(dims);
    if (!out) {
      if (!required)
        return status::ok();
      return status::error(strformat("%s: tensor '%s' not found (expected %s, required by %s)",
                                     file_.path().c_str(), name.c_str(), expected.c_str(),
                                     model_arch_name(c_.arch)));
    }
    if (out->dims != dims)
      return status::error(strformat("%s: offset %llu: tensor '%s' has shape %s, expected %s",
                                     file_.path().c_str(), ull(out->info_offset), name.c_str(),
                                     gguf_dims_string(out->dims).c_str(), expected.c_str()));
    if (!type_allowed(out->type, kind))
      return status::error(strformat(
          "%s: offset %llu: tensor '%s' has type %s, expected %s", file_.path().c_str(),
          ull(out->info_offset), name.c_str(), ggml_type_name(out->type),
          kind == tensor_kind::vector ? "f32, f16 or bf16"
                                      : "a float or quantized type (f32, f16, bf16, q8_0, "
                                        "q4_0, q4_1, q5_0, q5_1, q2_K..q8_K)"));
    return status::ok();
  }

private:
  const gguf_file &file_;
  const model_config &c_;
};

} // namespace

result<int32_t> resolve_context_size(const gguf_file &file, const model_config &config,
                                     int64_t requested) {
  constexpr int64_t max_ctx = std::numeric_limits<int32_t>::max();
  if (requested < 0 || requested > max_ctx)
    return status::error(strformat("invalid context size -c %lld (expected 0, the model's "
                                   "context length, to %lld)",
                                   (long long)requested, (long long)max_ctx));
  if (requested > 0)
    return int32_t(requested);
  if (int64_t(config.n_ctx_train) <= max_ctx)
    return int32_t(config.n_ctx_train);
  const std::string key = std::string(model_arch_name(config.arch)) + ".context_length";
  const gguf_kv *kv = file.find(key);
  return status::error(strformat("%s: %skey '%s' is %u, more positions than this runtime can "
                                 "hold (at most %lld); give a context size with -c",
                                 file.path().c_str(),
                                 kv ? strformat("offset %llu: ", ull(kv->offset)).c_str() : "",
                                 key.c_str(), config.n_ctx_train, (long long)max_ctx));
}

result<model_weights> bind_model_weights(const gguf_file &file, const model_config &c) {
  using V = tensor_kind;
  const V vec = V::vector, mat = V::matrix;
  binder b(file, c);
  model_weights w;
  const int64_t embd = c.n_embd, vocab = c.n_vocab;
  SMEPILOT_RT_RETURN_IF_ERROR(
      b.bind(w.token_embd, "token_embd.weight", {embd, vocab}, "[n_embd, n_vocab]", mat));
  SMEPILOT_RT_RETURN_IF_ERROR(b.bind(w.output_norm, "output_norm.weight", {embd}, "[n_embd]", vec));
  SMEPILOT_RT_RETURN_IF_ERROR(
      b.bind(w.output, "output.weight", {embd, vocab}, "[n_embd, n_vocab]", mat, false));
  if (!w.output)
    w.output = w.token_embd;
  SMEPILOT_RT_RETURN_IF_ERROR(b.bind(w.rope_freqs, "rope_freqs.weight", {int64_t(c.rope_dim / 2)},
                                     "[rope_dim/2]", vec, false));

  const int64_t q = int64_t(c.n_head) * c.head_dim, kv = int64_t(c.n_head_kv) * c.head_dim,
                v = int64_t(c.n_head_kv) * c.head_dim_v, o = int64_t(c.n_head) * c.head_dim_v;
  // Layers are appended as they bind: block_count comes from the file, and a
  // huge one must fail at its first missing tensor, not in an allocation.
  for (uint32_t i = 0; i < c.n_layer; ++i) {
    layer_weights &l = w.layers.emplace_back();
    const std::string p = "blk." + std::to_string(i) + ".";
    SMEPILOT_RT_RETURN_IF_ERROR(
        b.bind(l.attn_norm, p + "attn_norm.weight", {embd}, "[n_embd]", vec));
    SMEPILOT_RT_RETURN_IF_ERROR(
        b.bind(l.wq, p + "attn_q.weight", {embd, q}, "[n_embd, n_head*head_dim]", mat));
    SMEPILOT_RT_RETURN_IF_ERROR(
        b.bind(l.wk, p + "attn_k.weight", {embd, kv}, "[n_embd, n_head_kv*head_dim]", mat));
    SMEPILOT_RT_RETURN_IF_ERROR(
        b.bind(l.wv, p + "attn_v.weight", {embd, v}, "[n_embd, n_head_kv*head_dim_v]", mat));
    SMEPILOT_RT_RETURN_IF_ERROR(
        b.bind(l.wo, p + "attn_output.weight", {o, embd}, "[n_head*head_dim_v, n_embd]", mat));
    if (c.has_qk_norm) {
      SMEPILOT_RT_RETURN_IF_ERROR(
          b.bind(l.q_norm, p + "attn_q_norm.weight", {int64_t(c.head_dim)}, "[head_dim]", vec));
      SMEPILOT_RT_RETURN_IF_ERROR(
          b.bind(l.k_norm, p + "attn_k_norm.weight", {int64_t(c.head_dim)}, "[head_dim]", vec));
    }
    SMEPILOT_RT_RETURN_IF_ERROR(b.bind(l.ffn_norm, p + "ffn_norm.weight", {embd}, "[n_embd]", vec));
    if (c.is_moe()) {
      const int64_t ne = c.n_expert, ff = c.n_ff_expert;
      SMEPILOT_RT_RETURN_IF_ERROR(
          b.bind(l.ffn_gate_inp, p + "ffn_gate_inp.weight", {embd, ne}, "[n_embd, n_expert]", mat));
      SMEPILOT_RT_RETURN_IF_ERROR(b.bind(l.ffn_gate_exps, p + "ffn_gate_exps.weight",
                                         {embd, ff, ne}, "[n_embd, n_ff_expert, n_expert]", mat));
      SMEPILOT_RT_RETURN_IF_ERROR(b.bind(l.ffn_up_exps, p + "ffn_up_exps.weight", {embd, ff, ne},
                                         "[n_embd, n_ff_expert, n_expert]", mat));
      SMEPILOT_RT_RETURN_IF_ERROR(b.bind(l.ffn_down_exps, p + "ffn_down_exps.weight",
                                         {ff, embd, ne}, "[n_ff_expert, n_embd, n_expert]", mat));
    } else {
      const int64_t ff = c.n_ff;
      SMEPILOT_RT_RETURN_IF_ERROR(
          b.bind(l.ffn_gate, p + "ffn_gate.weight", {embd, ff}, "[n_embd, n_ff]", mat));
      SMEPILOT_RT_RETURN_IF_ERROR(
          b.bind(l.ffn_up, p + "ffn_up.weight", {embd, ff}, "[n_embd, n_ff]", mat));
      SMEPILOT_RT_RETURN_IF_ERROR(
          b.bind(l.ffn_down, p + "ffn_down.weight", {ff, embd}, "[n_ff, n_embd]", mat));
    }
  }
  return w;
}

} // namespace smepilot::rt
