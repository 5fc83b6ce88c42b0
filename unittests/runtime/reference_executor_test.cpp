// The reference executor against llama.cpp's recorded outputs
// (../shared/models/oracles, see ../shared/models/README.md), plus the
// executor's own invariants (thread count, chunking, cache rules).
//
// Teacher forcing: the oracle's prompt ids are evaluated in one call, then its
// generated ids one at a time, so every step sees exactly the tokens llama.cpp
// saw, whatever our own argmax would have been. Compared per step:
//  - the recorded logit rows (rows 0..4): the top-20 values and the 256 probe
//    values, each against our logit of the same id;
//  - every one of the 32 steps: the top-5 values;
//  - the argmax, wherever llama.cpp's top-1/top-2 gap exceeds twice the
//    tolerance (below that, rounding may legitimately swap them);
//  - the full last-prompt-position vectors stored as .npy.
// The models directory is required: a missing file fails the test.
#include "smepilot_rt/gguf.h"
#include "smepilot_rt/reference_executor.h"
#include "smepilot_rt/tokenizer.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

using namespace smepilot::rt;
using nlohmann::json;

namespace {

const std::string kModels = SMEPILOT_MODELS_DIR;

std::unique_ptr<gguf_file> open_model(const std::string &name) {
  auto f = gguf_file::open(kModels + "/" + name);
  EXPECT_TRUE(f.is_ok()) << (f ? "" : f.error().message());
  return f ? std::move(*f) : nullptr;
}

std::unique_ptr<engine> make_engine(const gguf_file &file, int n_threads, int32_t n_batch = 64,
                                    kv_cache_type kv = kv_cache_type::f32, int32_t n_ctx = 0) {
  engine_options o;
  o.n_threads = n_threads;
  o.n_batch = n_batch;
  o.kv_type = kv;
  o.n_ctx = n_ctx;
  auto e = load_reference_engine(file, o);
  EXPECT_TRUE(e.is_ok()) << (e ? "" : e.error().message());
  return e ? std::move(*e) : nullptr;
}

json load_json(const std::string &path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  if (!in.good())
    return json();
  return json::parse(in);
}

/// A 1-D or 2-D little-endian float32 C-order .npy file; empty on error.
std::vector<float> read_npy_f32(const std::string &path, std::vector<int64_t> *shape_out) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0)
    return {};
  const int major = uint8_t(bytes[6]);
  size_t header_len, header_start;
  if (major == 1) {
    header_len = uint8_t(bytes[8]) | size_t(uint8_t(bytes[9])) << 8;
    header_start = 10;
  } else {
    header_len = uint8_t(bytes[8]) | size_t(uint8_t(bytes[9])) << 8 |
                 size_t(uint8_t(bytes[10])) << 16 | size_t(uint8_t(bytes[11])) << 24;
    header_start = 12;
  }
  const std::string header = bytes.substr(header_start, header_len);
  if (header.find("'descr': '<f4'") == std::string::npos ||
      header.find("'fortran_order': False") == std::string::npos)
    return {};
  size_t lp = header.find('(', header.find("'shape'")), rp = header.find(')', lp);
  std::vector<int64_t> shape;
  std::stringstream dims(header.substr(lp + 1, rp - lp - 1));
  for (std::string item; std::getline(dims, item, ',');)
    if (item.find_first_of("0123456789") != std::string::npos)
      shape.push_back(std::stoll(item));
  int64_t count = 1;
  for (int64_t d : shape)
    count *= d;
  const size_t data_start = header_start + header_len;
  if (bytes.size() != data_start + size_t(count) * 4)
    return {};
  std::vector<float> out(static_cast<size_t>(count));
  std::memcpy(out.data(), bytes.data() + data_start, out.size() * 4);
  if (shape_out)
    *shape_out = shape;
  return out;
}

int32_t argmax(const std::vector<float> &v) {
  return int32_t(std::max_element(v.begin(), v.end()) - v.begin()); // first max: lowest id
}

struct oracle_case {
  const char *label;
  const char *model;  ///< File under models/.
  const char *oracle; ///< File under models/oracles/.
  const char *config; ///< "f32kv", ...
  kv_cache_type kv;
  /// Max allowed |ours - llama.cpp| per logit, and why it is that large.
  float tol;
  const char *why;
};

// Tolerances. Our executor computes in F32 throughout (weights dequantized to
// the same values llama.cpp sees); llama.cpp's CPU matmuls round the
// activations to the weight type (README "How close to expect": its own
// variants differ from the F32 file by F16 2e-4, BF16 2.7e-3, Q8_0 1e-2,
// Q4_0 0.125). Against llama.cpp on the SAME file only the activation
// rounding remains, so each tolerance is the README figure for that rounding
// with headroom. Q8_0 and Q4_0 both round activations to 8 bits (the Q4_0
// README figure mostly measures its 4-bit weights, which we share), hence
// the same 1.5e-2 for both. The test prints the measured maxima.
const oracle_case kCases[] = {
    {"stories260K", "stories260K.gguf", "stories260K.json", "f32kv", kv_cache_type::f32, 1e-4f,
     "F32 weights and F32 math on both sides: only summation order differs (README: 1e-4)"},
    {"qwen3_f32", "qwen3-tiny-f16.gguf", "qwen3-tiny-f32.json", "f32kv", kv_cache_type::f32, 1e-4f,
     "the F32 oracle file is the exact upcast of the F16 one; F32 math on both sides"},
    {"qwen3_f16", "qwen3-tiny-f16.gguf", "qwen3-tiny-f16.json", "f32kv", kv_cache_type::f32, 4e-4f,
     "llama.cpp rounds activations to F16 for F16 weights (README: 2e-4)"},
    {"qwen3_bf16", "qwen3-tiny-bf16.gguf", "qwen3-tiny-bf16.json", "f32kv", kv_cache_type::f32,
     4e-3f, "llama.cpp rounds activations to BF16 for BF16 weights (README: 2.7e-3)"},
    {"qwen3_q8_0", "qwen3-tiny-q8_0.gguf", "qwen3-tiny-q8_0.json", "f32kv", kv_cache_type::f32,
     1.5e-2f, "llama.cpp quantizes activations to 8 bits for Q8_0 weights (README: 1e-2)"},
    {"qwen3_q4_0", "qwen3-tiny-q4_0.gguf", "qwen3-tiny-q4_0.json", "f32kv", kv_cache_type::f32,
     1.5e-2f, "llama.cpp quantizes activations to 8 bits for Q4_0 weights, as for Q8_0"},
    {"qwen3_q4_0_norepack", "qwen3-tiny-q4_0.gguf", "qwen3-tiny-q4_0.json", "f32kv_norepack",
     kv_cache_type::f32, 1.5e-2f, "as qwen3_q4_0, llama.cpp without weight repacking"},
    {"qwen3moe_f16", "qwen3moe-tiny-f16.gguf", "qwen3moe-tiny-f16.json", "f32kv",
     kv_cache_type::f32, 4e-4f, "F16 activations in llama.cpp, as qwen3_f16"},
    {"llama3_f16", "llama3-tiny-f16.gguf", "llama3-tiny-f16.json", "f32kv", kv_cache_type::f32,
     4e-4f, "F16 activations in llama.cpp, as qwen3_f16"},
    // llama.cpp's defaults (F16 K/V, flash attention) against our F16 cache.
    // Its CPU flash attention also rounds Q to F16 and accumulates the
    // weighted V sum in F16: about 1e-3 relative to the logits' magnitude
    // (~1 for the random models, ~17 for stories260K).
    {"qwen3_f16_f16kv", "qwen3-tiny-f16.gguf", "qwen3-tiny-f16.json", "f16kv", kv_cache_type::f16,
     1e-3f, "F16 activations, F16 K/V, F16 flash-attention accumulation"},
    {"qwen3_q8_0_f16kv", "qwen3-tiny-q8_0.gguf", "qwen3-tiny-q8_0.json", "f16kv",
     kv_cache_type::f16, 1.5e-2f, "8-bit activations dominate, as qwen3_q8_0"},
    {"qwen3moe_f16_f16kv", "qwen3moe-tiny-f16.gguf", "qwen3moe-tiny-f16.json", "f16kv",
     kv_cache_type::f16, 1e-3f, "as qwen3_f16_f16kv"},
    {"llama3_f16_f16kv", "llama3-tiny-f16.gguf", "llama3-tiny-f16.json", "f16kv",
     kv_cache_type::f16, 1e-3f, "as qwen3_f16_f16kv"},
    {"stories260K_f16kv", "stories260K.gguf", "stories260K.json", "f16kv", kv_cache_type::f16,
     2.5e-2f, "F16 flash-attention accumulation on logits of magnitude ~17 (1.5e-3 relative)"},
};

/// Names the case in test listings (instead of a byte dump).
void PrintTo(const oracle_case &c, std::ostream *os) { *os << c.label; }

class OracleTest : public ::testing::TestWithParam<oracle_case> {};

} // namespace

TEST_P(OracleTest, TeacherForcedLogitsMatch) {
  const oracle_case &c = GetParam();
  SCOPED_TRACE(std::string(c.label) + ": tolerance " + std::to_string(c.tol) + " because " + c.why);
  auto file = open_model(c.model);
  ASSERT_TRUE(file);
  const json oracle = load_json(kModels + "/oracles/" + c.oracle);
  ASSERT_TRUE(oracle.contains("configs")) << c.oracle;
  ASSERT_TRUE(oracle["configs"].contains(c.config)) << c.config;
  const json &prompts = oracle["configs"][c.config]["prompts"];
  auto eng = make_engine(*file, 2, 64, c.kv);
  ASSERT_TRUE(eng);
  const int32_t n_vocab = eng->n_vocab();
  ASSERT_EQ(n_vocab, oracle["n_vocab"].get<int32_t>());

  double max_rows = 0, max_top5 = 0, max_npy = 0;
  int argmax_checked = 0, n_npy = 0;
  size_t n_steps = 0;
  for (const auto &[pname, p] : prompts.items()) {
    SCOPED_TRACE(pname);
    const auto prompt = p["prompt_ids"].get<std::vector<int32_t>>();
    const auto gen = p["generated_ids"].get<std::vector<int32_t>>();
    const json &steps = p["gen_steps"];
    const json &rows = p["logits"];
    eng->reset();
    std::vector<float> logits(static_cast<size_t>(n_vocab));
    ASSERT_TRUE(eng->eval(prompt, 0, logits_mode::last, logits.data()).is_ok());
    for (size_t k = 0; k < steps.size(); ++k) {
      if (k > 0) {
        const int32_t fed = gen[k - 1];
        ASSERT_TRUE(
            eng->eval({&fed, 1}, int32_t(prompt.size() + k - 1), logits_mode::last, logits.data())
                .is_ok());
      }
      const json &step = steps[k];
      ++n_steps;
      ASSERT_EQ(step["step"].get<size_t>(), k);
      for (const json &pair : step["top5"]) {
        double diff = std::fabs(logits[pair[0].get<size_t>()] - pair[1].get<double>());
        max_top5 = std::max(max_top5, diff);
        EXPECT_LE(diff, c.tol) << "step " << k << " id " << pair[0];
      }
      if (step["top1_minus_top2"].get<double>() > 2.0 * c.tol) {
        ++argmax_checked;
        EXPECT_EQ(argmax(logits), step["token"].get<int32_t>()) << "step " << k;
      }
      for (const json &row : rows) {
        if (row["row"].get<size_t>() != k)
          continue;
        for (const json &pair : row["top20"]) {
          double diff = std::fabs(logits[pair[0].get<size_t>()] - pair[1].get<double>());
          max_rows = std::max(max_rows, diff);
          EXPECT_LE(diff, c.tol) << "row " << k << " top20 id " << pair[0];
        }
        const auto probe_ids = p["probe_ids"].get<std::vector<size_t>>();
        const auto probe_values = row["probe_values"].get<std::vector<double>>();
        ASSERT_EQ(probe_ids.size(), probe_values.size());
        for (size_t j = 0; j < probe_ids.size(); ++j) {
          double diff = std::fabs(logits[probe_ids[j]] - probe_values[j]);
          max_rows = std::max(max_rows, diff);
          EXPECT_LE(diff, c.tol) << "row " << k << " probe id " << probe_ids[j];
        }
        if (row.contains("full_npy")) {
          std::vector<int64_t> shape;
          auto full =
              read_npy_f32(kModels + "/oracles/" + row["full_npy"].get<std::string>(), &shape);
          ASSERT_EQ(full.size(), size_t(n_vocab)) << row["full_npy"];
          ++n_npy;
          for (int32_t id = 0; id < n_vocab; ++id) {
            double diff = std::fabs(logits[size_t(id)] - full[size_t(id)]);
            max_npy = std::max(max_npy, diff);
            ASSERT_LE(diff, c.tol) << row["full_npy"] << " id " << id;
          }
        }
      }
    }
  }
  EXPECT_GT(argmax_checked, 0);
  std::printf("[ oracle   ] %-20s tol %-8g max|diff| rows %.3g, top5 %.3g, npy %s; argmax "
              "checked at %d of %zu steps\n",
              c.label, double(c.tol), max_rows, max_top5,
              n_npy ? std::to_string(max_npy).c_str() : "n/a", argmax_checked, n_steps);
}

INSTANTIATE_TEST_SUITE_P(Models, OracleTest, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<oracle_case> &info) {
                           return std::string(info.param.label);
                         });

// Q8_0 and Q4_0 products take their activations rounded to Q8_0 blocks
// (engine_options::f32_activations off, the default), as llama.cpp's CPU
// backend does: the logits are then llama.cpp's own, not merely close.
// Teacher-forced over each oracle prompt (f32kv config), the largest
// difference to llama.cpp's top-20 and probe logits: measured 0 (to the
// oracle's printed digits) on P1 and P2 for both models, and ~3e-3 on P3,
// where one rounding lands on the other side of a boundary (summation
// order) and that changes a quant by one; with F32 activations 4e-3..7e-3 on
// every prompt. So: most prompts within 1e-5 when rounded, none when not.
//
// BF16 products take their activations rounded to bf16, as llama.cpp's BF16
// path does (its vec_dot_type for BF16 is BF16): measured 0.9e-7..1.5e-7 on
// every prompt of qwen3-tiny-bf16 (the oracle's printed digits), 1.3e-3..
// 2.2e-3 with F32 activations.
TEST(ReferenceExecutor, RoundedActivationsReproduceLlamaCpp) {
  for (const char *name : {"qwen3-tiny-q8_0", "qwen3-tiny-q4_0", "qwen3-tiny-bf16"}) {
    SCOPED_TRACE(name);
    auto file = open_model(std::string(name) + ".gguf");
    ASSERT_TRUE(file);
    const json oracle = load_json(kModels + "/oracles/" + name + ".json");
    const json &prompts = oracle["configs"]["f32kv"]["prompts"];
    for (bool f32_activations : {false, true}) {
      engine_options o;
      o.n_threads = 2;
      o.f32_activations = f32_activations;
      auto eng = load_reference_engine(*file, o);
      ASSERT_TRUE(eng.is_ok()) << eng.error().message();
      const int32_t n_vocab = (*eng)->n_vocab();
      int exact = 0, n_prompts = 0;
      for (const auto &[pname, p] : prompts.items()) {
        const auto prompt = p["prompt_ids"].get<std::vector<int32_t>>();
        auto seq = prompt;
        const auto gen = p["generated_ids"].get<std::vector<int32_t>>();
        seq.insert(seq.end(), gen.begin(), gen.end() - 1);
        std::vector<float> logits(seq.size() * size_t(n_vocab));
        (*eng)->reset();
        ASSERT_TRUE((*eng)->eval(seq, 0, logits_mode::all, logits.data()).is_ok());
        const auto probe_ids = p["probe_ids"].get<std::vector<size_t>>();
        double max_diff = 0;
        for (const json &row : p["logits"]) {
          const float *r = &logits[(prompt.size() - 1 + row["row"].get<size_t>()) * n_vocab];
          for (const json &pair : row["top20"])
            max_diff =
                std::max(max_diff, std::fabs(r[pair[0].get<size_t>()] - pair[1].get<double>()));
          const auto values = row["probe_values"].get<std::vector<double>>();
          for (size_t j = 0; j < probe_ids.size(); ++j)
            max_diff = std::max(max_diff, std::fabs(r[probe_ids[j]] - values[j]));
        }
        std::printf("[ rounding ] %s %s %s: max |reference - llama.cpp| = %.3g\n", name,
                    f32_activations ? "f32 activations" : "rounded", pname.c_str(), max_diff);
        exact += max_diff <= 1e-5;
        ++n_prompts;
        EXPECT_LE(max_diff, 1.5e-2) << pname;
      }
      if (f32_activations)
        EXPECT_EQ(exact, 0);
      else
        EXPECT_GE(2 * exact, n_prompts + 1) << "most prompts reproduce llama.cpp";
    }
  }
}

TEST(ReferenceExecutor, Stories260KMatchesLlama2cReference) {
  auto file = open_model("stories260K.gguf");
  ASSERT_TRUE(file);
  const json ref = load_json(kModels + "/oracles/stories260K.llama2c-reference.json");
  auto eng = make_engine(*file, 2);
  ASSERT_TRUE(eng);
  // Position 0 (BOS): all 512 logits within 1e-4.
  const auto want = ref["bos_pos0_logits_all_float32"].get<std::vector<float>>();
  ASSERT_EQ(want.size(), 512u);
  std::vector<float> logits(512);
  const int32_t bos = 1;
  ASSERT_TRUE(eng->eval({&bos, 1}, 0, logits_mode::last, logits.data()).is_ok());
  for (size_t i = 0; i < 512; ++i)
    EXPECT_NEAR(logits[i], want[i], 1e-4) << "id " << i;
  // Greedy continuation of "Once upon a time": the 65 reference ids.
  const json &g = ref["greedy_prompt_once_upon_a_time_n64"];
  const auto ids = g["ids"].get<std::vector<int32_t>>();
  std::vector<int32_t> seq = g["prompt_ids"].get<std::vector<int32_t>>();
  eng->reset();
  ASSERT_TRUE(eng->eval(seq, 0, logits_mode::last, logits.data()).is_ok());
  while (seq.size() < ids.size()) {
    const int32_t next = argmax(logits);
    seq.push_back(next);
    ASSERT_TRUE(
        eng->eval({&next, 1}, int32_t(seq.size() - 1), logits_mode::last, logits.data()).is_ok());
  }
  EXPECT_EQ(seq, ids);
}

TEST(ReferenceExecutor, Stories260KGreedyTextMatchesOracle) {
  // Free-running greedy generation (not teacher forced) reproduces llama.cpp's
  // 32 tokens and their text for every prompt, tokenized by our tokenizer:
  // stories260K is a real model without near-ties.
  auto file = open_model("stories260K.gguf");
  ASSERT_TRUE(file);
  auto tok = tokenizer::from_gguf(*file);
  ASSERT_TRUE(tok.is_ok()) << tok.error().message();
  const json oracle = load_json(kModels + "/oracles/stories260K.json");
  auto eng = make_engine(*file, 2);
  ASSERT_TRUE(eng);
  std::vector<float> logits(512);
  for (const auto &[pname, p] : oracle["configs"]["f32kv"]["prompts"].items()) {
    SCOPED_TRACE(pname);
    const auto prompt = (*tok)->encode(p["prompt"].get<std::string>(), true, true);
    ASSERT_EQ(prompt, p["prompt_ids"].get<std::vector<int32_t>>());
    eng->reset();
    ASSERT_TRUE(eng->eval(prompt, 0, logits_mode::last, logits.data()).is_ok());
    std::vector<int32_t> got;
    int32_t pos = int32_t(prompt.size());
    const size_t n_gen = p["generated_ids"].size();
    while (got.size() < n_gen) {
      const int32_t next = argmax(logits);
      got.push_back(next);
      ASSERT_TRUE(eng->eval({&next, 1}, pos++, logits_mode::last, logits.data()).is_ok());
    }
    EXPECT_EQ(got, p["generated_ids"].get<std::vector<int32_t>>());
    // llama_detokenize of the generated ids alone (SPM: the first token's
    // leading space dropped), and of the whole sequence.
    EXPECT_EQ((*tok)->detokenize(got), p["generated_text"].get<std::string>());
    std::vector<int32_t> all = prompt;
    all.insert(all.end(), got.begin(), got.end());
    EXPECT_EQ((*tok)->detokenize(all), p["full_text"].get<std::string>());
  }
}

namespace {
/// Logits of every position of `tokens` evaluated as `chunks` (sizes).
std::vector<float> run_all(engine &eng, const std::vector<int32_t> &tokens,
                           const std::vector<size_t> &chunks) {
  std::vector<float> out(tokens.size() * size_t(eng.n_vocab()));
  eng.reset();
  size_t off = 0;
  for (size_t len : chunks) {
    EXPECT_TRUE(eng.eval(std::span<const int32_t>(tokens).subspan(off, len), int32_t(off),
                         logits_mode::all, out.data() + off * size_t(eng.n_vocab()))
                    .is_ok());
    off += len;
  }
  EXPECT_EQ(off, tokens.size());
  return out;
}

/// The first `n` ids of an oracle's prompt followed by its generated ids.
/// Short sequences keep these all-positions tests fast (every row costs a
/// full vocabulary projection), also under qemu-aarch64.
std::vector<int32_t> oracle_sequence(const char *oracle_file, const char *prompt, size_t n) {
  const json o = load_json(kModels + "/oracles/" + oracle_file);
  const json &p = o["configs"]["f32kv"]["prompts"][prompt];
  auto seq = p["prompt_ids"].get<std::vector<int32_t>>();
  auto gen = p["generated_ids"].get<std::vector<int32_t>>();
  seq.insert(seq.end(), gen.begin(), gen.end());
  EXPECT_GE(seq.size(), n);
  seq.resize(std::min(seq.size(), n));
  return seq;
}
} // namespace

TEST(ReferenceExecutor, LogitsAreBitIdenticalForOneTwoAndThreeThreads) {
  const std::pair<const char *, const char *> models[] = {
      {"stories260K.gguf", "stories260K.json"},
      {"llama3-tiny-f16.gguf", "llama3-tiny-f16.json"},
      {"qwen3moe-tiny-f16.gguf", "qwen3moe-tiny-f16.json"},
  };
  for (const auto &[model, oracle] : models) {
    SCOPED_TRACE(model);
    auto file = open_model(model);
    ASSERT_TRUE(file);
    const auto seq = oracle_sequence(oracle, "P3", 24);
    std::vector<float> reference;
    for (int threads : {1, 2, 3}) {
      auto eng = make_engine(*file, threads);
      ASSERT_TRUE(eng);
      // The prompt in one call, then the continuation token by token.
      std::vector<size_t> chunks = {seq.size() - 8};
      chunks.insert(chunks.end(), 8, 1);
      auto got = run_all(*eng, seq, chunks);
      if (reference.empty())
        reference = got;
      else
        ASSERT_EQ(std::memcmp(got.data(), reference.data(), got.size() * sizeof(float)), 0)
            << threads << " threads differ from 1 thread";
    }
  }
}

TEST(ReferenceExecutor, ChunkingDoesNotChangeLogits) {
  // A prompt longer than one chunk (n_batch 7 splits the 24-token sequence
  // into 4, the last one partial), one call per token, and one chunk:
  // bit-identical logits.
  auto file = open_model("qwen3moe-tiny-f16.gguf");
  ASSERT_TRUE(file);
  const auto seq = oracle_sequence("qwen3moe-tiny-f16.json", "P3", 24);
  auto one_chunk = make_engine(*file, 2, 512);
  auto small_chunks = make_engine(*file, 2, 7);
  ASSERT_TRUE(one_chunk && small_chunks);
  const auto a = run_all(*one_chunk, seq, {seq.size()});
  const auto b = run_all(*small_chunks, seq, {seq.size()});
  const auto c = run_all(*one_chunk, seq, std::vector<size_t>(seq.size(), 1));
  ASSERT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0);
  ASSERT_EQ(std::memcmp(a.data(), c.data(), a.size() * sizeof(float)), 0);
}

TEST(ReferenceExecutor, F16CacheStaysCloseToF32Cache) {
  // F16 K/V rounds each cached element (relative 2^-11); on these models the
  // logits move by well under the F16-weight tolerance.
  auto file = open_model("qwen3-tiny-f16.gguf");
  ASSERT_TRUE(file);
  const auto seq = oracle_sequence("qwen3-tiny-f16.json", "P3", 64);
  auto f32 = make_engine(*file, 2, 64, kv_cache_type::f32);
  auto f16 = make_engine(*file, 2, 64, kv_cache_type::f16);
  ASSERT_TRUE(f32 && f16);
  // The prompt, then the continuation with logits at the end only.
  std::vector<float> a(size_t(f32->n_vocab())), b(a.size());
  double max_diff = 0;
  for (size_t i = 16; i <= seq.size(); i += 16) {
    const auto part = std::span<const int32_t>(seq).first(i).last(16);
    ASSERT_TRUE(f32->eval(part, int32_t(i - 16), logits_mode::last, a.data()).is_ok());
    ASSERT_TRUE(f16->eval(part, int32_t(i - 16), logits_mode::last, b.data()).is_ok());
    for (size_t j = 0; j < a.size(); ++j)
      max_diff = std::max(max_diff, double(std::fabs(a[j] - b[j])));
  }
  EXPECT_GT(max_diff, 0.0); // the cache really is F16
  EXPECT_LT(max_diff, 1e-3);
}

TEST(ReferenceExecutor, EvalRejectsBadInputWithoutTouchingTheCache) {
  auto file = open_model("stories260K.gguf");
  ASSERT_TRUE(file);
  auto eng = make_engine(*file, 1, 64, kv_cache_type::f32, /*n_ctx=*/8);
  ASSERT_TRUE(eng);
  EXPECT_EQ(eng->n_ctx(), 8);
  EXPECT_EQ(eng->n_vocab(), 512);
  std::vector<float> logits(512), again(512);
  const std::vector<int32_t> prompt = {1, 403, 407, 261, 378};
  ASSERT_TRUE(eng->eval(prompt, 0, logits_mode::last, logits.data()).is_ok());
  EXPECT_EQ(eng->n_past(), 5);

  status hole = eng->eval(prompt, 6, logits_mode::last, again.data());
  EXPECT_FALSE(hole.is_ok());
  EXPECT_NE(hole.message().find("position 6"), std::string::npos) << hole.message();

  status overflow = eng->eval(prompt, 5, logits_mode::last, again.data());
  ASSERT_FALSE(overflow.is_ok());
  EXPECT_NE(overflow.message().find("context overflow"), std::string::npos) << overflow.message();

  const int32_t bad = 512;
  status range = eng->eval({&bad, 1}, 5, logits_mode::last, again.data());
  ASSERT_FALSE(range.is_ok());
  EXPECT_NE(range.message().find("out of range"), std::string::npos) << range.message();
  EXPECT_EQ(eng->n_past(), 5);

  // Re-evaluating the last token overwrites its cache entry: same logits.
  ASSERT_TRUE(eng->eval({&prompt[4], 1}, 4, logits_mode::last, again.data()).is_ok());
  EXPECT_EQ(logits, again);
}

TEST(ReferenceExecutor, DefaultContextIsTheTrainingContext) {
  auto file = open_model("stories260K.gguf");
  ASSERT_TRUE(file);
  auto eng = make_engine(*file, 1);
  ASSERT_TRUE(eng);
  EXPECT_EQ(eng->n_ctx(), 512);
}
