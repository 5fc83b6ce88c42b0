// Model config and weight binding: the shared test models against the
// models/README.md table, then synthetic files built with the writer for
// defaults, quirks and every kind of missing or wrong key and tensor.
#include "gguf_test_util.h"

#include "smepilot_rt/gguf_writer.h"
#include "smepilot_rt/model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>

using namespace smepilot::rt;
using smepilot::rt::test::model_path;

#define EXPECT_CONTAINS(text, part)                                                                \
  EXPECT_NE(std::string(text).find(part), std::string::npos)                                       \
      << "expected to find \"" << (part) << "\" in: " << (text)

namespace {

std::unique_ptr<gguf_file> open_model(const std::string &name) {
  auto f = gguf_file::open(model_path(name));
  EXPECT_TRUE(f.is_ok()) << (f ? "" : f.error().message());
  return f ? std::move(*f) : nullptr;
}

struct expected_config {
  const char *file;
  model_arch arch;
  uint32_t n_vocab, n_ctx, n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff;
  float theta;
  rope_style rope;
  float eps;
  bool tied, rope_freqs, qk_norm;
  uint32_t n_expert, n_expert_used, n_ff_expert;
};

const expected_config model_table[] = {
    {"stories260K.gguf", model_arch::llama, 512, 512, 64, 5, 8, 4, 8, 172, 10000.0f,
     rope_style::interleaved, 1e-5f, false, false, false, 0, 0, 0},
    {"qwen3-tiny-f16.gguf", model_arch::qwen3, 151936, 512, 64, 2, 4, 2, 32, 192, 1e6f,
     rope_style::neox, 1e-6f, true, false, true, 0, 0, 0},
    {"qwen3-tiny-bf16.gguf", model_arch::qwen3, 151936, 512, 64, 2, 4, 2, 32, 192, 1e6f,
     rope_style::neox, 1e-6f, true, false, true, 0, 0, 0},
    {"qwen3-tiny-q8_0.gguf", model_arch::qwen3, 151936, 512, 64, 2, 4, 2, 32, 192, 1e6f,
     rope_style::neox, 1e-6f, true, false, true, 0, 0, 0},
    {"qwen3-tiny-q4_0.gguf", model_arch::qwen3, 151936, 512, 64, 2, 4, 2, 32, 192, 1e6f,
     rope_style::neox, 1e-6f, true, false, true, 0, 0, 0},
    {"qwen3moe-tiny-f16.gguf", model_arch::qwen3moe, 151936, 512, 64, 2, 4, 2, 32, 192, 1e6f,
     rope_style::neox, 1e-6f, true, false, true, 8, 2, 32},
    {"llama3-tiny-f16.gguf", model_arch::llama, 128256, 512, 64, 2, 4, 2, 16, 192, 5e5f,
     rope_style::interleaved, 1e-5f, true, true, false, 0, 0, 0},
};

} // namespace

TEST(ModelConfig, SharedModelsMatchTheReadme) {
  SMEPILOT_REQUIRE_MODELS();
  for (const expected_config &e : model_table) {
    SCOPED_TRACE(e.file);
    auto f = open_model(e.file);
    ASSERT_TRUE(f);
    auto c = read_model_config(*f);
    ASSERT_TRUE(c.is_ok()) << c.error().message();
    EXPECT_EQ(c->arch, e.arch);
    EXPECT_EQ(c->n_vocab, e.n_vocab);
    EXPECT_EQ(c->n_ctx_train, e.n_ctx);
    EXPECT_EQ(c->n_embd, e.n_embd);
    EXPECT_EQ(c->n_layer, e.n_layer);
    EXPECT_EQ(c->n_head, e.n_head);
    EXPECT_EQ(c->n_head_kv, e.n_head_kv);
    EXPECT_EQ(c->head_dim, e.head_dim);
    EXPECT_EQ(c->head_dim_v, e.head_dim);
    EXPECT_EQ(c->rope_dim, e.head_dim);
    EXPECT_EQ(c->n_ff, e.n_ff);
    EXPECT_FLOAT_EQ(c->rope_theta, e.theta);
    EXPECT_EQ(c->rope_type, e.rope);
    EXPECT_FLOAT_EQ(c->rms_eps, e.eps);
    EXPECT_EQ(c->tied_embeddings, e.tied);
    EXPECT_EQ(c->has_rope_freqs, e.rope_freqs);
    EXPECT_EQ(c->has_qk_norm, e.qk_norm);
    EXPECT_EQ(c->n_expert, e.n_expert);
    EXPECT_EQ(c->n_expert_used, e.n_expert_used);
    EXPECT_EQ(c->n_ff_expert, e.n_ff_expert);
    EXPECT_EQ(c->is_moe(), e.n_expert > 0);
    if (c->is_moe()) {
      EXPECT_EQ(c->gating, expert_gating::softmax);
      EXPECT_TRUE(c->expert_weights_norm);
    }
  }
}

TEST(ModelWeights, SharedModelsBind) {
  SMEPILOT_REQUIRE_MODELS();
  for (const expected_config &e : model_table) {
    SCOPED_TRACE(e.file);
    auto f = open_model(e.file);
    ASSERT_TRUE(f);
    auto c = read_model_config(*f);
    ASSERT_TRUE(c.is_ok()) << c.error().message();
    auto w = bind_model_weights(*f, *c);
    ASSERT_TRUE(w.is_ok()) << w.error().message();
    ASSERT_EQ(w->layers.size(), e.n_layer);
    ASSERT_NE(w->token_embd, nullptr);
    EXPECT_EQ(w->token_embd->dims, (std::vector<int64_t>{e.n_embd, e.n_vocab}));
    ASSERT_NE(w->output, nullptr);
    EXPECT_EQ(w->output == w->token_embd, e.tied);
    EXPECT_EQ(w->rope_freqs != nullptr, e.rope_freqs);
    if (w->rope_freqs)
      EXPECT_EQ(w->rope_freqs->dims, (std::vector<int64_t>{e.head_dim / 2}));
    const int64_t q = int64_t(e.n_head) * e.head_dim, kv = int64_t(e.n_head_kv) * e.head_dim;
    for (const layer_weights &l : w->layers) {
      EXPECT_EQ(l.wq->dims, (std::vector<int64_t>{e.n_embd, q}));
      EXPECT_EQ(l.wk->dims, (std::vector<int64_t>{e.n_embd, kv}));
      EXPECT_EQ(l.wv->dims, (std::vector<int64_t>{e.n_embd, kv}));
      EXPECT_EQ(l.wo->dims, (std::vector<int64_t>{q, e.n_embd}));
      EXPECT_NE(l.attn_norm, nullptr);
      EXPECT_NE(l.ffn_norm, nullptr);
      EXPECT_EQ(l.q_norm != nullptr, e.qk_norm);
      EXPECT_EQ(l.k_norm != nullptr, e.qk_norm);
      const bool moe = e.n_expert > 0;
      EXPECT_EQ(l.ffn_gate != nullptr, !moe);
      EXPECT_EQ(l.ffn_up != nullptr, !moe);
      EXPECT_EQ(l.ffn_down != nullptr, !moe);
      EXPECT_EQ(l.ffn_gate_inp != nullptr, moe);
      if (moe) {
        EXPECT_EQ(l.ffn_gate_exps->dims,
                  (std::vector<int64_t>{e.n_embd, e.n_ff_expert, e.n_expert}));
        EXPECT_EQ(l.ffn_down_exps->dims,
                  (std::vector<int64_t>{e.n_ff_expert, e.n_embd, e.n_expert}));
      } else {
        EXPECT_EQ(l.ffn_down->dims, (std::vector<int64_t>{e.n_ff, e.n_embd}));
      }
    }
    EXPECT_EQ(w->layers[1].wq->name, "blk.1.attn_q.weight");
  }
}

// --- synthetic models -------------------------------------------------------------------

namespace {

// A small model of any supported architecture, with knobs to break it.
struct synth {
  std::string arch = "llama";
  int64_t n_embd = 8, n_layer = 2, n_head = 2, n_head_kv = 1, n_ff = 16, n_vocab = 32;
  int64_t n_expert = 4, n_expert_used = 2, n_ff_expert = 8;
  bool tied = false, rope_freqs = false, tokens_array = false, reverse_keys = false;
  std::set<std::string> drop_keys;
  std::set<std::string> drop_tensors;
  std::map<std::string, std::vector<int64_t>> shapes; // overrides
  std::map<std::string, ggml_type> types;             // overrides
  std::function<void(gguf_writer &)> extra_keys;

  bool qwen() const { return arch == "qwen3" || arch == "qwen3moe"; }
  bool moe() const { return arch == "qwen3moe"; }

  std::vector<uint8_t> build() const {
    gguf_writer w;
    std::vector<std::function<void()>> keys;
    auto key_u32 = [&](const std::string &k, int64_t v) {
      if (!drop_keys.count(k))
        keys.push_back([&w, k, v] { w.add_u32(k, uint32_t(v)); });
    };
    auto key_f32 = [&](const std::string &k, float v) {
      if (!drop_keys.count(k))
        keys.push_back([&w, k, v] { w.add_f32(k, v); });
    };
    if (!drop_keys.count("general.architecture"))
      keys.push_back([&] { w.add_string("general.architecture", arch); });
    const std::string a = arch + ".";
    key_u32(a + "context_length", 64);
    key_u32(a + "embedding_length", n_embd);
    key_u32(a + "block_count", n_layer);
    key_u32(a + "feed_forward_length", n_ff);
    key_u32(a + "attention.head_count", n_head);
    key_u32(a + "attention.head_count_kv", n_head_kv);
    key_f32(a + "attention.layer_norm_rms_epsilon", 1e-6f);
    if (moe()) {
      key_u32(a + "expert_count", n_expert);
      key_u32(a + "expert_used_count", n_expert_used);
      key_u32(a + "expert_feed_forward_length", n_ff_expert);
    }
    if (reverse_keys)
      std::reverse(keys.begin(), keys.end());
    for (auto &k : keys)
      k();
    std::vector<std::string> tokens;
    if (tokens_array) {
      for (int64_t i = 0; i < n_vocab; ++i)
        tokens.push_back("t" + std::to_string(i));
      w.add_array("tokenizer.ggml.tokens", std::span<const std::string>(tokens));
    }
    if (extra_keys)
      extra_keys(w);

    const int64_t hd = n_embd / n_head;
    auto tensor = [&](const std::string &name, std::vector<int64_t> dims, ggml_type type) {
      if (drop_tensors.count(name))
        return;
      if (auto it = shapes.find(name); it != shapes.end())
        dims = it->second;
      if (auto it = types.find(name); it != types.end())
        type = it->second;
      w.add_tensor(name, type, dims, std::vector<uint8_t>(gguf_writer::tensor_bytes(type, dims)));
    };
    const ggml_type f32 = ggml_type::f32, f16 = ggml_type::f16;
    tensor("token_embd.weight", {n_embd, n_vocab}, f16);
    tensor("output_norm.weight", {n_embd}, f32);
    if (!tied)
      tensor("output.weight", {n_embd, n_vocab}, f16);
    if (rope_freqs)
      tensor("rope_freqs.weight", {hd / 2}, f32);
    for (int64_t i = 0; i < n_layer; ++i) {
      const std::string p = "blk." + std::to_string(i) + ".";
      tensor(p + "attn_norm.weight", {n_embd}, f32);
      tensor(p + "attn_q.weight", {n_embd, n_head * hd}, f16);
      tensor(p + "attn_k.weight", {n_embd, n_head_kv * hd}, f16);
      tensor(p + "attn_v.weight", {n_embd, n_head_kv * hd}, f16);
      tensor(p + "attn_output.weight", {n_head * hd, n_embd}, f16);
      if (qwen()) {
        tensor(p + "attn_q_norm.weight", {hd}, f32);
        tensor(p + "attn_k_norm.weight", {hd}, f32);
      }
      tensor(p + "ffn_norm.weight", {n_embd}, f32);
      if (moe()) {
        tensor(p + "ffn_gate_inp.weight", {n_embd, n_expert}, f32);
        tensor(p + "ffn_gate_exps.weight", {n_embd, n_ff_expert, n_expert}, f16);
        tensor(p + "ffn_up_exps.weight", {n_embd, n_ff_expert, n_expert}, f16);
        tensor(p + "ffn_down_exps.weight", {n_ff_expert, n_embd, n_expert}, f16);
      } else {
        tensor(p + "ffn_gate.weight", {n_embd, n_ff}, f16);
        tensor(p + "ffn_up.weight", {n_embd, n_ff}, f16);
        tensor(p + "ffn_down.weight", {n_ff, n_embd}, f16);
      }
    }
    EXPECT_TRUE(w.error().is_ok()) << w.error().message();
    auto bytes = w.write_bytes();
    EXPECT_TRUE(bytes.is_ok());
    return bytes ? std::move(*bytes) : std::vector<uint8_t>{};
  }

  std::unique_ptr<gguf_file> open() const {
    auto f = gguf_file::from_bytes(build(), "synth.gguf");
    EXPECT_TRUE(f.is_ok()) << f.error().message();
    return f ? std::move(*f) : nullptr;
  }
};

// The config error of a synthetic model ("" if it reads).
std::string config_error(const synth &s) {
  auto f = s.open();
  if (!f)
    return "cannot open";
  auto c = read_model_config(*f);
  return c ? std::string() : c.error().message();
}

// The binding error of a synthetic model whose config reads ("" if it binds).
std::string bind_error(const synth &s) {
  auto f = s.open();
  if (!f)
    return "cannot open";
  auto c = read_model_config(*f);
  EXPECT_TRUE(c.is_ok()) << c.error().message();
  if (!c)
    return "config: " + c.error().message();
  auto w = bind_model_weights(*f, *c);
  return w ? std::string() : w.error().message();
}

} // namespace

TEST(ModelConfig, DefaultsForAbsentOptionalKeys) {
  for (const char *arch : {"llama", "qwen3", "qwen3moe"}) {
    SCOPED_TRACE(arch);
    synth s;
    s.arch = arch;
    s.tied = true;
    auto f = s.open();
    ASSERT_TRUE(f);
    auto c = read_model_config(*f);
    ASSERT_TRUE(c.is_ok()) << c.error().message();
    EXPECT_EQ(c->rope_theta, 10000.0f); // no rope.freq_base
    EXPECT_EQ(c->head_dim, 4u);         // no key_length: n_embd / n_head
    EXPECT_EQ(c->head_dim_v, 4u);       // no value_length: head_dim
    EXPECT_EQ(c->rope_dim, 4u);         // no rope.dimension_count: head_dim
    EXPECT_EQ(c->n_vocab, 32u);         // no vocab_size, no tokens: token_embd
    EXPECT_EQ(c->name, "");
    EXPECT_TRUE(c->tied_embeddings);
    EXPECT_EQ(c->rope_type,
              std::string(arch) == "llama" ? rope_style::interleaved : rope_style::neox);
    auto w = bind_model_weights(*f, *c);
    ASSERT_TRUE(w.is_ok()) << w.error().message();
    EXPECT_EQ(w->output, w->token_embd);
    EXPECT_NE(describe_model_config(*c).find("n_embd               = 8"), std::string::npos);
  }
}

TEST(ModelConfig, KeysInAnyOrderAndVocabFromTokenizer) {
  synth s;
  s.reverse_keys = true; // general.architecture comes last
  s.tokens_array = true;
  s.extra_keys = [](gguf_writer &w) { w.add_string("general.name", "tiny"); };
  auto f = s.open();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->metadata().back().key, "general.name");
  auto c = read_model_config(*f);
  ASSERT_TRUE(c.is_ok()) << c.error().message();
  EXPECT_EQ(c->n_vocab, 32u);
  EXPECT_EQ(c->name, "tiny");
  EXPECT_FALSE(c->tied_embeddings);
}

TEST(ModelConfig, ExplicitOptionalKeys) {
  synth s;
  s.extra_keys = [](gguf_writer &w) {
    w.add_u32("llama.vocab_size", 32);
    w.add_f32("llama.rope.freq_base", 500000.0f);
    w.add_u32("llama.attention.key_length", 4);
    w.add_u32("llama.attention.value_length", 4);
    w.add_u32("llama.rope.dimension_count", 2);
    w.add_string("llama.rope.scaling.type", "none");
    w.add_u32("llama.expert_count", 0);
  };
  auto f = s.open();
  ASSERT_TRUE(f);
  auto c = read_model_config(*f);
  ASSERT_TRUE(c.is_ok()) << c.error().message();
  EXPECT_EQ(c->rope_theta, 500000.0f);
  EXPECT_EQ(c->rope_dim, 2u);
}

TEST(ModelConfig, MissingRequiredKeysAreNamed) {
  for (const char *key : {"llama.context_length", "llama.embedding_length", "llama.block_count",
                          "llama.feed_forward_length", "llama.attention.head_count",
                          "llama.attention.layer_norm_rms_epsilon"}) {
    synth s;
    s.drop_keys = {key};
    EXPECT_CONTAINS(config_error(s), std::string("synth.gguf: key '") + key +
                                         "' not found (required for architecture llama)");
  }
  for (const char *key : {"qwen3moe.expert_count", "qwen3moe.expert_used_count"}) {
    synth s;
    s.arch = "qwen3moe";
    s.drop_keys = {key};
    EXPECT_CONTAINS(config_error(s), std::string("key '") + key + "' not found");
  }
  synth s;
  s.drop_keys = {"general.architecture"};
  EXPECT_CONTAINS(config_error(s), "key 'general.architecture' not found");
  EXPECT_CONTAINS(config_error(s), "llama, qwen3, qwen3moe");
}

TEST(ModelConfig, OptionalKeysMayBeAbsent) {
  // head_count_kv defaults to head_count; a MoE file needs no dense FFN width,
  // and the expert width can come from the expert tensors.
  synth s;
  s.n_head_kv = 2;
  s.drop_keys = {"llama.attention.head_count_kv"};
  EXPECT_EQ(config_error(s), "");
  synth m;
  m.arch = "qwen3moe";
  m.drop_keys = {"qwen3moe.feed_forward_length", "qwen3moe.expert_feed_forward_length"};
  auto f = m.open();
  ASSERT_TRUE(f);
  auto c = read_model_config(*f);
  ASSERT_TRUE(c.is_ok()) << c.error().message();
  EXPECT_EQ(c->n_ff, 0u);
  EXPECT_EQ(c->n_ff_expert, 8u);
  EXPECT_TRUE(bind_model_weights(*f, *c).is_ok());
}

TEST(ModelConfig, UnsupportedArchitecture) {
  synth s;
  s.arch = "gpt2";
  std::string err = config_error(s);
  EXPECT_CONTAINS(err, "synth.gguf: offset 24: architecture 'gpt2' is not supported");
  EXPECT_CONTAINS(err, "supported: llama, qwen3, qwen3moe");
}

TEST(ModelConfig, InconsistentValues) {
  {
    synth s;
    s.n_head = 4;
    s.n_head_kv = 3;
    s.n_embd = 12;
    s.n_ff = 12;
    auto f = gguf_file::from_bytes(s.build(), "synth.gguf");
    // Shapes are irrelevant: the config is rejected first.
    ASSERT_TRUE(f.is_ok());
    auto c = read_model_config(**f);
    ASSERT_FALSE(c.is_ok());
    EXPECT_CONTAINS(c.error().message(),
                    "key 'llama.attention.head_count_kv' is 3, which does not divide "
                    "attention.head_count 4");
  }
  {
    synth s;
    s.extra_keys = [](gguf_writer &w) { w.add_u32("llama.rope.dimension_count", 6); };
    EXPECT_CONTAINS(config_error(s), "key 'llama.rope.dimension_count' is 6, expected an even "
                                     "number <= the head size 4");
  }
  {
    synth s;
    s.n_layer = 0;
    EXPECT_CONTAINS(config_error(s), "key 'llama.block_count' is 0, expected 1 to");
  }
  {
    synth s;
    s.drop_keys = {"llama.embedding_length"};
    s.extra_keys = [](gguf_writer &w) { w.add_string("llama.embedding_length", "8"); };
    EXPECT_CONTAINS(config_error(s), "key 'llama.embedding_length' has type string, expected an "
                                     "unsigned integer");
  }
  {
    synth s;
    s.drop_keys = {"llama.attention.layer_norm_rms_epsilon"};
    s.extra_keys = [](gguf_writer &w) {
      w.add_f32("llama.attention.layer_norm_rms_epsilon", -1.0f);
    };
    EXPECT_CONTAINS(config_error(s), "key 'llama.attention.layer_norm_rms_epsilon' is -1, "
                                     "expected a positive finite number");
  }
  {
    synth s;
    s.extra_keys = [](gguf_writer &w) { w.add_string("llama.rope.scaling.type", "linear"); };
    EXPECT_CONTAINS(config_error(s), "key 'llama.rope.scaling.type' is 'linear': RoPE scaling "
                                     "other than 'none' is not supported");
  }
  {
    synth s;
    s.extra_keys = [](gguf_writer &w) { w.add_u32("llama.expert_count", 8); };
    EXPECT_CONTAINS(config_error(s), "key 'llama.expert_count' is 8: mixture-of-experts llama "
                                     "models are not supported");
  }
  {
    synth s;
    s.arch = "qwen3moe";
    s.n_expert_used = 5;
    EXPECT_CONTAINS(config_error(s), "key 'qwen3moe.expert_used_count' is 5, more than "
                                     "expert_count 4");
  }
}

TEST(ModelConfig, ExpertGatingKeys) {
  synth s;
  s.arch = "qwen3moe";
  s.extra_keys = [](gguf_writer &w) {
    w.add_u32("qwen3moe.expert_gating_func", 2);
    w.add_bool("qwen3moe.expert_weights_norm", false);
  };
  auto f = s.open();
  ASSERT_TRUE(f);
  auto c = read_model_config(*f);
  ASSERT_TRUE(c.is_ok()) << c.error().message();
  EXPECT_EQ(c->gating, expert_gating::sigmoid);
  EXPECT_FALSE(c->expert_weights_norm);
  synth bad = s;
  bad.extra_keys = [](gguf_writer &w) { w.add_u32("qwen3moe.expert_gating_func", 3); };
  EXPECT_CONTAINS(config_error(bad), "key 'qwen3moe.expert_gating_func' is 3, expected 1 "
                                     "(softmax) or 2 (sigmoid)");
}

TEST(ModelWeights, MissingTensorsAreNamed) {
  {
    synth s;
    s.drop_tensors = {"blk.1.attn_k.weight"};
    EXPECT_EQ(bind_error(s), "synth.gguf: tensor 'blk.1.attn_k.weight' not found (expected "
                             "[n_embd, n_head_kv*head_dim] = [8, 4], required by llama)");
  }
  {
    synth s;
    s.arch = "qwen3";
    s.drop_tensors = {"blk.0.attn_q_norm.weight"};
    EXPECT_CONTAINS(bind_error(s), "tensor 'blk.0.attn_q_norm.weight' not found");
  }
  {
    synth s;
    s.arch = "qwen3moe";
    s.drop_tensors = {"blk.1.ffn_gate_inp.weight"};
    EXPECT_CONTAINS(bind_error(s), "tensor 'blk.1.ffn_gate_inp.weight' not found (expected "
                                   "[n_embd, n_expert] = [8, 4]");
  }
  {
    synth s;
    s.drop_tensors = {"output_norm.weight"};
    EXPECT_CONTAINS(bind_error(s), "tensor 'output_norm.weight' not found");
  }
}

TEST(ModelWeights, WrongShapesAndTypes) {
  {
    synth s;
    s.shapes["blk.0.attn_q.weight"] = {8, 4};
    std::string err = bind_error(s);
    EXPECT_CONTAINS(err, "synth.gguf: offset ");
    EXPECT_CONTAINS(err, "tensor 'blk.0.attn_q.weight' has shape [8, 4], expected "
                         "[n_embd, n_head*head_dim] = [8, 8]");
  }
  {
    synth s; // transposed
    s.shapes["blk.1.ffn_down.weight"] = {8, 16};
    EXPECT_CONTAINS(bind_error(s), "tensor 'blk.1.ffn_down.weight' has shape [8, 16], expected "
                                   "[n_ff, n_embd] = [16, 8]");
  }
  {
    synth s;
    s.arch = "qwen3moe";
    s.shapes["blk.0.ffn_up_exps.weight"] = {8, 8, 3};
    EXPECT_CONTAINS(bind_error(s), "tensor 'blk.0.ffn_up_exps.weight' has shape [8, 8, 3], "
                                   "expected [n_embd, n_ff_expert, n_expert] = [8, 8, 4]");
  }
  {
    synth s;
    s.rope_freqs = true;
    s.shapes["rope_freqs.weight"] = {4};
    EXPECT_CONTAINS(bind_error(s), "tensor 'rope_freqs.weight' has shape [4], expected "
                                   "[rope_dim/2] = [2]");
  }
  {
    synth s;
    s.types["blk.0.ffn_norm.weight"] = ggml_type::i32;
    EXPECT_CONTAINS(bind_error(s), "tensor 'blk.0.ffn_norm.weight' has type i32, expected f32, "
                                   "f16 or bf16");
  }
  {
    synth s;
    s.types["blk.0.attn_v.weight"] = ggml_type::i8;
    EXPECT_CONTAINS(bind_error(s), "tensor 'blk.0.attn_v.weight' has type i8, expected a float "
                                   "or quantized type");
  }
  {
    synth s; // quantized matrices are fine (ne[0] must then be a block multiple)
    s.n_embd = 32;
    s.n_ff = 64;
    s.types["blk.0.attn_q.weight"] = ggml_type::q8_0;
    s.types["token_embd.weight"] = ggml_type::q4_0;
    EXPECT_EQ(bind_error(s), "");
  }
}

TEST(ModelWeights, RopeFreqsIsOptional) {
  synth s;
  s.rope_freqs = true;
  auto f = s.open();
  ASSERT_TRUE(f);
  auto c = read_model_config(*f);
  ASSERT_TRUE(c.is_ok());
  EXPECT_TRUE(c->has_rope_freqs);
  auto w = bind_model_weights(*f, *c);
  ASSERT_TRUE(w.is_ok()) << w.error().message();
  ASSERT_NE(w->rope_freqs, nullptr);
  EXPECT_EQ(w->rope_freqs->dims, (std::vector<int64_t>{2}));
}

// block_count comes from the file: a huge one must fail at the first missing
// layer, not in an allocation sized by it (found by fuzzing).
TEST(ModelWeights, HugeBlockCountFailsAtTheFirstMissingLayer) {
  synth s;
  s.drop_keys = {"llama.block_count"};
  s.extra_keys = [](gguf_writer &w) { w.add_u32("llama.block_count", 4000000000u); };
  EXPECT_CONTAINS(bind_error(s), "tensor 'blk.2.attn_norm.weight' not found");
}

// A NUL inside the architecture name: the message shows it, so that
// "llama\0x" does not read as the supported 'llama'.
TEST(ModelConfig, ArchitectureWithNulIsShownEscaped) {
  synth s;
  s.arch = std::string("llama\0x", 7);
  std::string err = config_error(s);
  EXPECT_CONTAINS(err, "architecture 'llama\\x00x' is not supported");
}

TEST(ModelConfig, ContextSize) {
  synth s;
  auto f = s.open();
  ASSERT_TRUE(f);
  auto c = read_model_config(*f);
  ASSERT_TRUE(c.is_ok()) << c.error().message();
  EXPECT_EQ(*resolve_context_size(*f, *c, 0), 64); // the file's context_length
  EXPECT_EQ(*resolve_context_size(*f, *c, 100000000), 100000000);
  auto negative = resolve_context_size(*f, *c, -5);
  ASSERT_FALSE(negative.is_ok());
  EXPECT_CONTAINS(negative.error().message(), "invalid context size -c -5");
  EXPECT_FALSE(resolve_context_size(*f, *c, int64_t(1) << 31).is_ok());
}

// A context_length of 2^31 is a valid uint32 but no int32: it was printed as
// "n_ctx -2147483648" (reference) or ran into bad_alloc (jit). The message
// names the key, its offset and -c.
TEST(ModelConfig, ContextLengthBeyondInt32NamesTheKey) {
  synth s;
  s.drop_keys = {"llama.context_length"};
  s.extra_keys = [](gguf_writer &w) { w.add_u32("llama.context_length", 2147483648u); };
  auto f = s.open();
  ASSERT_TRUE(f);
  auto c = read_model_config(*f);
  ASSERT_TRUE(c.is_ok()) << c.error().message();
  EXPECT_EQ(c->n_ctx_train, 2147483648u);
  auto n = resolve_context_size(*f, *c, 0);
  ASSERT_FALSE(n.is_ok());
  EXPECT_CONTAINS(n.error().message(), "synth.gguf: offset ");
  EXPECT_CONTAINS(n.error().message(),
                  "key 'llama.context_length' is 2147483648, more positions than this runtime "
                  "can hold (at most 2147483647); give a context size with -c");
  EXPECT_EQ(n.error().message().find("-2147483648"), std::string::npos);
  EXPECT_EQ(*resolve_context_size(*f, *c, 4096), 4096); // -c overrides it
}
