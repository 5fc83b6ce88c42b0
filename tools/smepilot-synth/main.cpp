// smepilot-synth: write GGUF models with random weights at the real shapes of
// published models, for benchmarks and load tests at realistic sizes.
//
//   smepilot-synth llama3.2-1b -o /tmp/llama1b-bf16.gguf --type bf16
//   smepilot-synth qwen3-30b-a3b -o /tmp/moe.gguf --type q4_0 --layers 2
//   smepilot-synth --list
//
// Files follow llama.cpp's conventions (tensor names, keys, file_type) so that
// llama.cpp can load them too. The tokenizer metadata (tokenizer.*) is copied
// from one of the shared tiny models, whose vocabularies are the real ones:
// llama3-tiny-f16.gguf (Llama-3, 128256 tokens) for Llama shapes,
// qwen3-tiny-f16.gguf (Qwen3, 151936) for Qwen3 shapes.
//
// Weights are drawn from a counter-based generator (SplitMix64 of the seed,
// the tensor name and the element index), uniform with standard deviation
// 0.02 (norm weights: 1 +- 0.1), so any byte range of any tensor can be
// produced on its own: tensors are generated and quantized chunk by chunk
// while the file is written, never held in memory whole. Matrices get the
// requested type (quantized with quantize_row); norms, rope_freqs and the MoE
// router stay F32, as llama.cpp keeps them.
#include "smepilot_rt/gguf.h"
#include "smepilot_rt/gguf_writer.h"
#include "smepilot_rt/output_file.h"
#include "smepilot_rt/quantize.h"
#include "smepilot_rt/thread_pool.h"
#include "smepilot_rt/version.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <numbers>
#include <string>
#include <thread>
#include <vector>

#ifndef SMEPILOT_MODELS_DIR
#define SMEPILOT_MODELS_DIR "../shared/models"
#endif

using namespace smepilot::rt;

namespace {

struct shape {
  const char *name;
  const char *arch;   // llama, qwen3, qwen3moe
  const char *source; ///< The published model these shapes come from.
  uint32_t n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff, n_ctx;
  float rope_theta, rms_eps;
  bool tied;
  bool llama3_rope; ///< Llama-3.1-style frequency factors (rope_freqs).
  uint32_t n_expert, n_expert_used, n_ff_expert;
  uint32_t default_layers; ///< Fewer than n_layer for the reduced MoE.
  const char *tokenizer;   ///< Tokenizer source under the models directory.
};

// From each model's config.json (Hugging Face).
const shape kShapes[] = {
    {"llama3.2-1b", "llama", "meta-llama/Llama-3.2-1B", 2048, 16, 32, 8, 64,
     8192, 131072, 500000.0f, 1e-5f, true, true, 0, 0, 0, 16,
     "llama3-tiny-f16.gguf"},
    {"llama3.2-3b", "llama", "meta-llama/Llama-3.2-3B", 3072, 28, 24, 8, 128,
     8192, 131072, 500000.0f, 1e-5f, true, true, 0, 0, 0, 28,
     "llama3-tiny-f16.gguf"},
    {"qwen3-0.6b", "qwen3", "Qwen/Qwen3-0.6B", 1024, 28, 16, 8, 128, 3072,
     40960, 1000000.0f, 1e-6f, true, false, 0, 0, 0, 28, "qwen3-tiny-f16.gguf"},
    {"qwen3-4b", "qwen3", "Qwen/Qwen3-4B", 2560, 36, 32, 8, 128, 9728, 40960,
     1000000.0f, 1e-6f, true, false, 0, 0, 0, 36, "qwen3-tiny-f16.gguf"},
    // 48 layers of 128 experts are 30B parameters: 2 layers by default.
    {"qwen3-30b-a3b", "qwen3moe", "Qwen/Qwen3-30B-A3B", 2048, 48, 32, 4, 128,
     6144, 40960, 1000000.0f, 1e-6f, false, false, 128, 8, 768, 2,
     "qwen3-tiny-f16.gguf"},
    // Small shapes for tests (the shared tiny models' dimensions).
    {"tiny-llama3", "llama", "(test shape)", 64, 2, 4, 2, 16, 192, 512,
     500000.0f, 1e-5f, true, true, 0, 0, 0, 2, "llama3-tiny-f16.gguf"},
    {"tiny-qwen3", "qwen3", "(test shape)", 64, 2, 4, 2, 32, 192, 512,
     1000000.0f, 1e-6f, true, false, 0, 0, 0, 2, "qwen3-tiny-f16.gguf"},
    {"tiny-qwen3moe", "qwen3moe", "(test shape)", 64, 2, 4, 2, 32, 192, 512,
     1000000.0f, 1e-6f, false, false, 8, 2, 32, 2, "qwen3-tiny-f16.gguf"},
    // Small shapes whose every matrix row (n_embd, n_head * head_dim, n_ff)
    // is a multiple of 256, so K-quants apply to all of them (the shapes
    // above have rows of 64 and fall back to q5_0 / q8_0).
    {"tiny-llama3-k", "llama", "(test shape)", 256, 2, 4, 2, 64, 512, 512,
     500000.0f, 1e-5f, true, true, 0, 0, 0, 2, "llama3-tiny-f16.gguf"},
    {"tiny-qwen3-k", "qwen3", "(test shape)", 256, 2, 4, 2, 64, 512, 512,
     1000000.0f, 1e-6f, true, false, 0, 0, 0, 2, "qwen3-tiny-f16.gguf"},
};

const shape *find_shape(const std::string &name) {
  for (const shape &s : kShapes)
    if (name == s.name)
      return &s;
  return nullptr;
}

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

uint64_t hash_name(const std::string &s, uint64_t seed) {
  uint64_t h = splitmix64(seed);
  for (unsigned char c : s)
    h = splitmix64(h ^ c);
  return h;
}

/// Element i of a tensor: mean + uniform(-1, 1) * amplitude.
struct value_gen {
  uint64_t key;
  float mean, amplitude;
  float operator()(uint64_t i) const {
    const uint64_t r = splitmix64(key + i * 0xd1b54a32d192ed03ull);
    const float u = float(r >> 40) * (1.0f / float(1 << 24)); // [0, 1)
    return mean + (2.0f * u - 1.0f) * amplitude;
  }
};

/// One tensor to write: its name, type, shape and generator.
struct tensor_plan {
  std::string name;
  ggml_type type;
  std::vector<int64_t> dims;
  value_gen gen;
  std::vector<float> fixed; ///< Non-empty: these values instead of gen.
};

/// Llama 3.1 rope scaling as frequency factors (factor 32, low/high frequency
/// factors 1 and 4, original context 8192, as in Llama-3.2's config.json).
std::vector<float> llama3_rope_factors(float theta, uint32_t head_dim) {
  const double factor = 32, low = 1, high = 4, old_ctx = 8192;
  const double low_wavelen = old_ctx / low, high_wavelen = old_ctx / high;
  std::vector<float> out;
  for (uint32_t i = 0; i < head_dim / 2; ++i) {
    const double freq = std::pow(double(theta), -2.0 * i / head_dim);
    const double wavelen = 2 * std::numbers::pi / freq;
    if (wavelen < high_wavelen)
      out.push_back(1.0f);
    else if (wavelen > low_wavelen)
      out.push_back(float(factor));
    else {
      const double smooth = (old_ctx / wavelen - low) / (high - low);
      out.push_back(float(1.0 / ((1 - smooth) / factor + smooth)));
    }
  }
  return out;
}

status copy_tokenizer(const gguf_file &src, gguf_writer &w, uint32_t &n_vocab) {
  n_vocab = 0;
  for (const gguf_kv &kv : src.metadata()) {
    if (kv.key.substr(0, 10) != "tokenizer.")
      continue;
    const gguf_value &v = kv.value;
    switch (v.type) {
    case gguf_type::string:
      w.add_string(kv.key, v.str);
      break;
    case gguf_type::uint8:
      w.add_u8(kv.key, uint8_t(v.u));
      break;
    case gguf_type::uint16:
      w.add_u16(kv.key, uint16_t(v.u));
      break;
    case gguf_type::uint32:
      w.add_u32(kv.key, uint32_t(v.u));
      break;
    case gguf_type::uint64:
      w.add_u64(kv.key, v.u);
      break;
    case gguf_type::int8:
      w.add_i8(kv.key, int8_t(v.i));
      break;
    case gguf_type::int16:
      w.add_i16(kv.key, int16_t(v.i));
      break;
    case gguf_type::int32:
      w.add_i32(kv.key, int32_t(v.i));
      break;
    case gguf_type::int64:
      w.add_i64(kv.key, v.i);
      break;
    case gguf_type::float32:
      w.add_f32(kv.key, float(v.f));
      break;
    case gguf_type::float64:
      w.add_f64(kv.key, v.f);
      break;
    case gguf_type::boolean:
      w.add_bool(kv.key, v.b);
      break;
    case gguf_type::array:
      if (v.array_type == gguf_type::string) {
        auto a = src.get_string_array(kv.key);
        if (!a)
          return a.take_error();
        w.add_array(kv.key, std::span<const std::string_view>(*a));
        if (kv.key == "tokenizer.ggml.tokens")
          n_vocab = uint32_t(a->size());
      } else if (v.array_type == gguf_type::float32) {
        auto a = src.get_f32_array(kv.key);
        if (!a)
          return a.take_error();
        w.add_array(kv.key, std::span<const float>(*a));
      } else if (v.array_type == gguf_type::int32 ||
                 v.array_type == gguf_type::uint32) {
        auto a = src.get_int_array(kv.key);
        if (!a)
          return a.take_error();
        if (v.array_type == gguf_type::int32) {
          std::vector<int32_t> b(a->begin(), a->end());
          w.add_array(kv.key, std::span<const int32_t>(b));
        } else {
          std::vector<uint32_t> b(a->begin(), a->end());
          w.add_array(kv.key, std::span<const uint32_t>(b));
        }
      } else {
        return status::error(src.path() + ": key '" + std::string(kv.key) +
                             "': arrays of " + gguf_type_name(v.array_type) +
                             " are not copied");
      }
      break;
    }
  }
  if (n_vocab == 0)
    return status::error(src.path() + ": no tokenizer.ggml.tokens to copy");
  return status::ok();
}

/// llama.cpp's general.file_type for a model whose matrices are `t`.
uint32_t file_type(ggml_type t) {
  switch (t) {
  case ggml_type::f32:
    return 0;
  case ggml_type::f16:
    return 1;
  case ggml_type::q4_0:
    return 2;
  case ggml_type::q8_0:
    return 7;
  case ggml_type::q4_k:
    return 14; // LLAMA_FTYPE_MOSTLY_Q4_K_S, what llama-quantize --pure writes
  case ggml_type::q6_k:
    return 18;
  case ggml_type::bf16:
    return 32;
  default:
    return 0;
  }
}

/// The type requested with --type: one type for every matrix, or llama.cpp's
/// Q4_K_M mix.
struct type_request {
  ggml_type base;
  bool q4_k_m;
};

/// llama-quantize's "use more bits" layers for Q4_K_M: the first and last
/// eighth of the layers and every third layer in between.
bool use_more_bits(uint32_t i, uint32_t n) {
  return i < n / 8 || i >= 7 * n / 8 || (int64_t(i) - int64_t(n / 8)) % 3 == 2;
}

/// A K-quant needs rows (ne[0]) that are a multiple of 256. As llama-quantize
/// does, a tensor whose rows are not gets q5_0 instead of q4_K, q8_0 instead
/// of q6_K, and f16 when even 32 does not divide its rows.
ggml_type fall_back(ggml_type t, int64_t ne0) {
  const ggml_type_traits *tr = ggml_traits(t);
  if (ne0 % int64_t(tr->block_size) == 0)
    return t;
  ggml_type f = t == ggml_type::q4_k   ? ggml_type::q5_0
                : t == ggml_type::q6_k ? ggml_type::q8_0
                                       : ggml_type::f16;
  return ne0 % int64_t(ggml_traits(f)->block_size) == 0 ? f : ggml_type::f16;
}

/// The type of matrix `name` (layer `il` of `n_layer`, or -1): the requested
/// type, or for Q4_K_M the rule llama-quantize applies to the tensors these
/// models have (llama.cpp src/llama-quant.cpp, llama_tensor_get_type):
///   - output.weight, and token_embd.weight when the embeddings are tied
///     (no output.weight): q6_K; q8_0 if its rows are not a multiple of 256;
///   - attn_v.weight and ffn_down (ffn_down_exps) of the use_more_bits layers
///     (i < n/8, i >= 7n/8, (i - n/8) % 3 == 2): q6_K;
///   - everything else, token_embd of untied models included: q4_K;
/// then the fallback above. (llama.cpp's exceptions for 8-expert models,
/// 70B models and Falcon do not apply to the shapes here: 8 experts are
/// refused before this is called.)
ggml_type matrix_type(const type_request &req, const std::string &name,
                      int64_t ne0, int il, uint32_t n_layer, bool tied) {
  if (!req.q4_k_m)
    return fall_back(req.base, ne0);
  auto has = [&](const char *s) { return name.find(s) != std::string::npos; };
  if (name == "output.weight" || (tied && name == "token_embd.weight"))
    return ne0 % 256 == 0 ? ggml_type::q6_k : ggml_type::q8_0;
  ggml_type t = ggml_type::q4_k;
  if ((has("attn_v.weight") || has("ffn_down")) && il >= 0 &&
      use_more_bits(uint32_t(il), n_layer))
    t = ggml_type::q6_k;
  return fall_back(t, ne0);
}

std::vector<tensor_plan> plan_tensors(const shape &s, uint32_t n_layer,
                                      uint32_t n_vocab, const type_request &req,
                                      uint64_t seed) {
  std::vector<tensor_plan> out;
  int layer = -1; // the layer of the matrices being planned
  auto weight = [&](const std::string &name, ggml_type type,
                    std::vector<int64_t> dims) {
    if (type != ggml_type::f32) // the router stays F32
      type = matrix_type(req, name, dims[0], layer, n_layer, s.tied);
    out.push_back({name,
                   type,
                   std::move(dims),
                   {hash_name(name, seed), 0.0f, 0.02f * std::sqrt(3.0f)},
                   {}});
  };
  const ggml_type wtype = req.base;
  auto norm = [&](const std::string &name, int64_t n) {
    out.push_back(
        {name, ggml_type::f32, {n}, {hash_name(name, seed), 1.0f, 0.1f}, {}});
  };
  const int64_t d = s.n_embd, hd = s.head_dim;
  const int64_t q = int64_t(s.n_head) * hd, kv = int64_t(s.n_head_kv) * hd;
  const bool qwen = std::string(s.arch) != "llama";
  if (s.llama3_rope) {
    tensor_plan rf{"rope_freqs.weight", ggml_type::f32, {hd / 2}, {}, {}};
    rf.fixed = llama3_rope_factors(s.rope_theta, s.head_dim);
    out.push_back(std::move(rf));
  }
  weight("token_embd.weight", wtype, {d, int64_t(n_vocab)});
  for (uint32_t il = 0; il < n_layer; ++il) {
    layer = int(il);
    const std::string p = "blk." + std::to_string(il) + ".";
    norm(p + "attn_norm.weight", d);
    weight(p + "attn_q.weight", wtype, {d, q});
    weight(p + "attn_k.weight", wtype, {d, kv});
    weight(p + "attn_v.weight", wtype, {d, kv});
    weight(p + "attn_output.weight", wtype, {q, d});
    if (qwen) {
      norm(p + "attn_q_norm.weight", hd);
      norm(p + "attn_k_norm.weight", hd);
    }
    norm(p + "ffn_norm.weight", d);
    if (s.n_expert) {
      const int64_t ne = s.n_expert, ff = s.n_ff_expert;
      weight(p + "ffn_gate_inp.weight", ggml_type::f32, {d, ne});
      weight(p + "ffn_gate_exps.weight", wtype, {d, ff, ne});
      weight(p + "ffn_up_exps.weight", wtype, {d, ff, ne});
      weight(p + "ffn_down_exps.weight", wtype, {ff, d, ne});
    } else {
      weight(p + "ffn_gate.weight", wtype, {d, int64_t(s.n_ff)});
      weight(p + "ffn_up.weight", wtype, {d, int64_t(s.n_ff)});
      weight(p + "ffn_down.weight", wtype, {int64_t(s.n_ff), d});
    }
  }
  layer = -1;
  norm("output_norm.weight", d);
  if (!s.tied)
    weight("output.weight", wtype, {d, int64_t(n_vocab)});
  return out;
}

/// Produces bytes [offset, offset + out.size()) of a tensor: the blocks
/// covering the range are generated and converted in parallel, then the
/// requested bytes copied out.
status fill_range(const tensor_plan &t, thread_pool &pool, uint64_t offset,
                  std::span<uint8_t> out) {
  const ggml_type_traits *tr = ggml_traits(t.type);
  const uint64_t bb = tr->type_size, be = tr->block_size;
  const uint64_t first = offset / bb,
                 last = (offset + out.size() + bb - 1) / bb;
  const uint64_t n_blocks = last - first;
  std::vector<uint8_t> bytes(n_blocks * bb);
  constexpr uint64_t kBlocksPerTask = 1024;
  std::vector<status> errors(size_t(pool.n_threads()));
  pool.parallel_for(
      int64_t((n_blocks + kBlocksPerTask - 1) / kBlocksPerTask), 1,
      [&](int64_t t0, int64_t t1, int w) {
        std::vector<float> vals(kBlocksPerTask * be);
        for (int64_t task = t0; task < t1; ++task) {
          const uint64_t b0 = uint64_t(task) * kBlocksPerTask;
          const uint64_t nb = std::min(kBlocksPerTask, n_blocks - b0);
          const uint64_t e0 = (first + b0) * be;
          for (uint64_t i = 0; i < nb * be; ++i)
            vals[i] = t.fixed.empty() ? t.gen(e0 + i) : t.fixed[e0 + i];
          status s =
              quantize_row(t.type, vals.data(), &bytes[b0 * bb], nb * be);
          if (!s && errors[size_t(w)])
            errors[size_t(w)] = s;
        }
      });
  for (const status &s : errors)
    if (!s)
      return s;
  std::memcpy(out.data(), &bytes[offset - first * bb], out.size());
  return status::ok();
}

void print_usage(FILE *f) {
  std::fprintf(
      f,
      "usage: smepilot-synth SHAPE -o FILE [options]\n"
      "       smepilot-synth --list\n"
      "\n"
      "Writes a GGUF model with random weights at the shapes of a published "
      "model.\n"
      "\n"
      "  -o, --output FILE     output file (required)\n"
      "      --type TYPE       matrix type: f32, f16, bf16, q8_0, q4_0, "
      "q6_k, q4_k,\n"
      "                        or q4_k_m (default: f16). Norms, rope_freqs "
      "and the MoE\n"
      "                        router stay f32. q4_k_m is llama-quantize's "
      "Q4_K_M mix:\n"
      "                        q6_K for output.weight (token_embd.weight when "
      "tied) and\n"
      "                        for attn_v and ffn_down of layers i < n/8, i >= "
      "7n/8 or\n"
      "                        (i - n/8) %% 3 == 2; q4_K for the rest "
      "(refused for\n"
      "                        8-expert shapes, where llama.cpp uses q5_K and "
      "q8_0).\n"
      "                        K-quants need rows (ne[0]) that are a multiple "
      "of 256:\n"
      "                        other tensors get q5_0 for q4_K, q8_0 for q6_K "
      "(f16 if\n"
      "                        32 does not divide the rows either), as "
      "llama-quantize\n"
      "                        does; the tiny-*-k shapes avoid that\n"
      "      --layers N        number of layers (default: the model's; "
      "qwen3-30b-a3b: 2)\n"
      "      --seed N          weight seed (default: 0)\n"
      "      --tokenizer FILE  GGUF to copy tokenizer.* from (default: the "
      "shape's\n"
      "                        tiny model in %s)\n"
      "  -t, --threads N       threads (default: all hardware threads)\n"
      "      --list            list the shapes\n"
      "  -h, --help            this text\n"
      "      --version         print the version\n",
      SMEPILOT_MODELS_DIR);
}

int fail(const std::string &message) {
  std::fprintf(stderr, "smepilot-synth: error: %s\n", message.c_str());
  return 1;
}

} // namespace

static int synth_main(int argc, char **argv) {
  std::string shape_name, output, type_name = "f16", tokenizer_path;
  long long layers = 0, seed = 0, threads = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char *flag) -> const char * {
      if (i + 1 >= argc)
        return nullptr;
      (void)flag;
      return argv[++i];
    };
    auto integer = [&](const char *flag, long long lo, long long hi,
                       long long &out) -> bool {
      const char *v = value(flag);
      if (!v) {
        fail(std::string("option ") + flag + " needs a value");
        return false;
      }
      char *end = nullptr;
      errno = 0;
      long long x = std::strtoll(v, &end, 10);
      if (*v == '\0' || *end != '\0' || errno || x < lo || x > hi) {
        fail(std::string("invalid value '") + v + "' for " + flag +
             ": expected an integer from " + std::to_string(lo) + " to " +
             std::to_string(hi));
        return false;
      }
      out = x;
      return true;
    };
    if (a == "-h" || a == "--help") {
      print_usage(stdout);
      return 0;
    } else if (a == "--version") {
      std::printf("smepilot-synth %s\n", version_string());
      return 0;
    } else if (a == "--list") {
      for (const shape &s : kShapes)
        std::printf("%-14s %-9s %-24s n_embd %u, layers %u (default %u), heads "
                    "%u/%u, head_dim "
                    "%u, ffn %u%s\n",
                    s.name, s.arch, s.source, s.n_embd, s.n_layer,
                    s.default_layers, s.n_head, s.n_head_kv, s.head_dim,
                    s.n_expert ? s.n_ff_expert : s.n_ff,
                    s.n_expert
                        ? (", " + std::to_string(s.n_expert) + " experts, " +
                           std::to_string(s.n_expert_used) + " used")
                              .c_str()
                        : "");
      return 0;
    } else if (a == "-o" || a == "--output" || a == "--type" ||
               a == "--tokenizer") {
      const char *v = value(a.c_str());
      if (!v)
        return fail("option " + a + " needs a value");
      (a == "--type"        ? type_name
       : a == "--tokenizer" ? tokenizer_path
                            : output) = v;
    } else if (a == "--layers") {
      if (!integer("--layers", 1, 1000, layers))
        return 1;
    } else if (a == "--seed") {
      if (!integer("--seed", 0, std::numeric_limits<long long>::max(), seed))
        return 1;
    } else if (a == "-t" || a == "--threads") {
      if (!integer(a.c_str(), 1, 1024, threads))
        return 1;
    } else if (!a.empty() && a[0] == '-') {
      return fail("unknown option '" + a + "' (see --help)");
    } else if (shape_name.empty()) {
      shape_name = a;
    } else {
      return fail("unexpected argument '" + a + "' (see --help)");
    }
  }
  if (shape_name.empty())
    return fail("no shape given (see --list)");
  const shape *s = find_shape(shape_name);
  if (!s)
    return fail("unknown shape '" + shape_name + "' (see --list)");
  if (output.empty())
    return fail("no output file given (-o FILE)");
  std::string type_lower = type_name;
  for (char &c : type_lower)
    c = char(std::tolower(static_cast<unsigned char>(c)));
  type_request req{ggml_type::f16, false};
  if (type_lower == "f32")
    req.base = ggml_type::f32;
  else if (type_lower == "f16")
    req.base = ggml_type::f16;
  else if (type_lower == "bf16")
    req.base = ggml_type::bf16;
  else if (type_lower == "q8_0")
    req.base = ggml_type::q8_0;
  else if (type_lower == "q4_0")
    req.base = ggml_type::q4_0;
  else if (type_lower == "q6_k")
    req.base = ggml_type::q6_k;
  else if (type_lower == "q4_k")
    req.base = ggml_type::q4_k;
  else if (type_lower == "q4_k_m")
    req = {ggml_type::q4_k, true};
  else
    return fail("unknown type '" + type_name +
                "' (expected f32, f16, bf16, q8_0, q4_0, q6_k, q4_k or "
                "q4_k_m)");
  const ggml_type wtype = req.base;
  if (req.q4_k_m && s->n_expert == 8)
    return fail("--type q4_k_m: for 8-expert models llama-quantize's Q4_K_M "
                "puts attn_output in q5_K, which smepilot-synth does not "
                "write (shape " +
                shape_name + ")");
  const uint32_t n_layer = layers > 0 ? uint32_t(layers) : s->default_layers;
  if (tokenizer_path.empty())
    tokenizer_path = std::string(SMEPILOT_MODELS_DIR) + "/" + s->tokenizer;

  if (status ok = check_output_path(output, {tokenizer_path}); !ok)
    return fail(ok.message());
  auto t0 = std::chrono::steady_clock::now();
  auto src = gguf_file::open(tokenizer_path);
  if (!src)
    return fail(src.error().message());

  gguf_writer w;
  const std::string arch = s->arch;
  w.add_string("general.architecture", arch);
  w.add_string("general.name", std::string("synthetic ") + s->name + " (" +
                                   s->source + " shapes, random weights)");
  uint32_t n_vocab = 0;
  status st = copy_tokenizer(**src, w, n_vocab);
  if (!st)
    return fail(st.message());
  w.add_u32(arch + ".context_length", s->n_ctx);
  w.add_u32(arch + ".embedding_length", s->n_embd);
  w.add_u32(arch + ".block_count", n_layer);
  w.add_u32(arch + ".feed_forward_length", s->n_ff);
  w.add_u32(arch + ".attention.head_count", s->n_head);
  w.add_u32(arch + ".attention.head_count_kv", s->n_head_kv);
  w.add_f32(arch + ".rope.freq_base", s->rope_theta);
  w.add_f32(arch + ".attention.layer_norm_rms_epsilon", s->rms_eps);
  w.add_u32(arch + ".attention.key_length", s->head_dim);
  w.add_u32(arch + ".attention.value_length", s->head_dim);
  if (arch == "llama") {
    w.add_u32(arch + ".rope.dimension_count", s->head_dim);
    w.add_u32(arch + ".vocab_size", n_vocab);
  }
  if (s->n_expert) {
    w.add_u32(arch + ".expert_count", s->n_expert);
    w.add_u32(arch + ".expert_used_count", s->n_expert_used);
    w.add_u32(arch + ".expert_feed_forward_length", s->n_ff_expert);
  }
  // llama.cpp's LLAMA_FTYPE_MOSTLY_Q4_K_M is 15.
  w.add_u32("general.file_type", req.q4_k_m ? 15 : file_type(wtype));
  if (ggml_traits(wtype)->block_size > 1)
    w.add_u32("general.quantization_version", 2);

  thread_pool pool(
      threads > 0 ? int(threads)
                  : int(std::max(1u, std::thread::hardware_concurrency())));
  if (!pool.start_error().empty()) // a thread the system refused
    return fail(pool.start_error() + "; lower -t");
  const std::vector<tensor_plan> plan =
      plan_tensors(*s, n_layer, n_vocab, req, uint64_t(seed));
  // Say which matrices did not get the requested type (K-quant rows).
  {
    size_t n_fallback = 0;
    std::string example;
    for (const tensor_plan &t : plan) {
      if (t.dims.size() < 2 || t.type == ggml_type::f32 ||
          ggml_traits(t.type)->block_size == 256 || t.type == wtype)
        continue;
      if (n_fallback++ == 0)
        example = t.name + " (rows of " + std::to_string(t.dims[0]) +
                  ") gets " + ggml_type_name(t.type);
    }
    if (n_fallback)
      std::fprintf(
          stderr,
          "smepilot-synth: note: %zu matrices have rows that are not "
          "a multiple of 256 and fall back from the requested type, e.g. "
          "%s\n",
          n_fallback, example.c_str());
  }
  for (const tensor_plan &t : plan)
    w.add_tensor_stream(t.name, t.type, t.dims,
                        [&t, &pool](uint64_t off, std::span<uint8_t> out) {
                          return fill_range(t, pool, off, out);
                        });
  if (!w.error())
    return fail(w.error().message());
  std::fprintf(stderr,
               "smepilot-synth: writing %s: %s shapes, %u layers, %s, vocab "
               "%u, %.2f GiB\n",
               output.c_str(), s->name, n_layer, type_name.c_str(), n_vocab,
               double(w.file_size()) / double(1ull << 30));
  // Through a temporary renamed into place; never onto the tokenizer file.
  st = w.write_file(output, {tokenizer_path});
  if (!st)
    return fail(st.message());
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  std::fprintf(stderr,
               "smepilot-synth: wrote %zu tensors, %llu bytes in %.1f s\n",
               plan.size(), (unsigned long long)w.file_size(), secs);
  return 0;
}

int main(int argc, char **argv) {
  const int rc = synth_main(argc, argv);
  // --help, --list and --version go to stdout: a failed write is an error.
  if (status st = flush_stdout(); !st)
    return rc != 0 ? rc : fail(st.message());
  return rc;
}
