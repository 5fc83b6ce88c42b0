// What every engine shares (engine.h): non-finite logits are an error of the
// eval that would return them, never a result (issue 12: NaN logits from the
// JIT engine were sampled as token 0 with exit status 0). The compiled engine
// side is in compiled_engine_test.cpp; the reference engine is checked here
// on stories260K with a NaN written into its LM head.
#include "smepilot_rt/engine.h"

#include "smepilot_rt/gguf.h"
#include "smepilot_rt/reference_executor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

namespace rt = smepilot::rt;
using ::testing::HasSubstr;

namespace {

constexpr float nan_value = std::numeric_limits<float>::quiet_NaN();
constexpr float inf_value = std::numeric_limits<float>::infinity();

TEST(CheckLogitsFinite, FiniteRowsPass) {
  std::vector<float> rows = {0.0f, -1e30f, 3.4e38f, -3.4e38f, 1e-45f, 7.0f};
  EXPECT_TRUE(rt::check_logits_finite("jit", rows.data(), 2, 3, 0));
  EXPECT_TRUE(rt::check_logits_finite("jit", nullptr, 0, 3, 0)) << "no rows";
}

TEST(CheckLogitsFinite, NamesTheEngineTheFirstBadPositionAndWhatItFound) {
  // Rows for positions 10, 11, 12 of 4 logits; 11 and 12 are bad.
  std::vector<float> rows = {1, 2, 3, 4, 1, nan_value, 3, nan_value, inf_value, 2, 3, 4};
  rt::status st = rt::check_logits_finite("jit", rows.data(), 3, 4, 10);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.message(), "the jit engine produced non-finite logits at position 11 (NaN in 2 "
                          "of 4 logits); the model's weights may be out of range");

  st = rt::check_logits_finite("reference", rows.data() + 8, 1, 4, 12);
  ASSERT_FALSE(st);
  EXPECT_THAT(st.message(),
              HasSubstr("the reference engine produced non-finite logits at position 12 "
                        "(infinity in 1 of 4 logits)"));

  std::vector<float> both = {-inf_value, nan_value, 0.0f};
  st = rt::check_logits_finite("aot", both.data(), 1, 3, 0);
  ASSERT_FALSE(st);
  EXPECT_THAT(st.message(), HasSubstr("at position 0 (NaN and infinity in 2 of 3 logits)"));
}

/// stories260K with output.weight[7][0] = NaN: logit 7 is NaN at every
/// position (the reference multiplies it by the final hidden state).
std::unique_ptr<rt::gguf_file> stories_with_nan_logit() {
  const std::string path = std::string(SMEPILOT_MODELS_DIR) + "/stories260K.gguf";
  auto original = rt::gguf_file::open(path);
  EXPECT_TRUE(original) << original.error().message();
  if (!original)
    return nullptr;
  const rt::gguf_tensor_info *out = (*original)->find_tensor("output.weight");
  EXPECT_TRUE(out && out->type == rt::ggml_type::f32 && out->dims.size() == 2);
  if (!out)
    return nullptr;
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
  const uint64_t at = (*original)->data_offset() + out->offset + 7 * uint64_t(out->dims[0]) * 4;
  EXPECT_LE(at + 4, bytes.size());
  std::memcpy(bytes.data() + at, &nan_value, 4);
  auto file = rt::gguf_file::from_bytes(std::move(bytes), "stories-nan.gguf");
  EXPECT_TRUE(file) << file.error().message();
  return file ? std::move(*file) : nullptr;
}

TEST(ReferenceEngine, NonFiniteLogitsAreAnError) {
  std::unique_ptr<rt::gguf_file> file = stories_with_nan_logit();
  ASSERT_TRUE(file);
  rt::engine_options options;
  options.n_ctx = 16;
  options.n_batch = 4;
  auto eng = rt::load_reference_engine(*file, options);
  ASSERT_TRUE(eng) << eng.error().message();
  const int32_t vocab = (*eng)->n_vocab();
  const std::vector<int32_t> prompt = {1, 403, 407, 261, 378};
  std::vector<float> logits(prompt.size() * size_t(vocab));

  rt::status st = (*eng)->eval(prompt, 0, rt::logits_mode::all, logits.data());
  ASSERT_FALSE(st);
  EXPECT_EQ(st.message(), "the reference engine produced non-finite logits at position 0 (NaN in "
                          "1 of " +
                              std::to_string(vocab) +
                              " logits); the model's weights may be out of range");
  EXPECT_EQ((*eng)->n_past(), 5) << "the positions were evaluated";

  (*eng)->reset();
  st = (*eng)->eval(prompt, 0, rt::logits_mode::last, logits.data());
  ASSERT_FALSE(st);
  EXPECT_THAT(st.message(), HasSubstr("at position 4 (NaN in 1 of"));

  // Nothing returned, nothing checked: the cache can still be filled.
  (*eng)->reset();
  EXPECT_TRUE((*eng)->eval(prompt, 0, rt::logits_mode::none, nullptr));
  EXPECT_EQ((*eng)->n_past(), 5);
}

} // namespace
