// quantize_row against the independent dequantize_row: round trips stay
// within each format's rounding bound, and exact cases are exact.
#include "smepilot_rt/ggml_types.h"
#include "smepilot_rt/quantize.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

using namespace smepilot::rt;

namespace {
std::vector<float> random_row(size_t n, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> x(n);
  for (float &v : x)
    v = dist(rng);
  return x;
}

std::vector<float> round_trip(ggml_type type, const std::vector<float> &x) {
  std::vector<uint8_t> q(ggml_row_bytes(type, x.size()));
  EXPECT_TRUE(quantize_row(type, x.data(), q.data(), x.size()).is_ok());
  std::vector<float> y(x.size());
  EXPECT_TRUE(dequantize_row(type, q.data(), y.data(), x.size()).is_ok());
  return y;
}
} // namespace

TEST(Quantize, Q8_0ErrorIsHalfAStep) {
  const auto x = random_row(32 * 64, 1, 0.02f);
  const auto y = round_trip(ggml_type::q8_0, x);
  for (size_t b = 0; b < x.size() / 32; ++b) {
    float amax = 0;
    for (size_t k = 0; k < 32; ++k)
      amax = std::max(amax, std::fabs(x[b * 32 + k]));
    const float d = amax / 127;
    // Half a step, plus the F16 rounding of d (relative 2^-11) times |q| <= 127.
    const float bound = 0.5f * d + 127 * d * 0x1p-11f;
    for (size_t k = 0; k < 32; ++k)
      ASSERT_LE(std::fabs(x[b * 32 + k] - y[b * 32 + k]), bound) << "block " << b << " k " << k;
  }
}

TEST(Quantize, Q4_0ErrorIsAtMostAStep) {
  const auto x = random_row(32 * 64, 2, 0.02f);
  const auto y = round_trip(ggml_type::q4_0, x);
  for (size_t b = 0; b < x.size() / 32; ++b) {
    float amax = 0;
    for (size_t k = 0; k < 32; ++k)
      amax = std::max(amax, std::fabs(x[b * 32 + k]));
    const float d = amax / 8;
    // Half a step inside the range; a full step for values clamped at 7 * d.
    const float bound = d + 8 * d * 0x1p-11f;
    for (size_t k = 0; k < 32; ++k)
      ASSERT_LE(std::fabs(x[b * 32 + k] - y[b * 32 + k]), bound) << "block " << b << " k " << k;
  }
}

TEST(Quantize, ExactValuesSurvive) {
  // Integers -8..7: exact in Q4_0 (m = -8, the first largest magnitude,
  // gives d = 1 and q = x + 8).
  std::vector<float> x(32);
  for (size_t k = 0; k < 32; ++k)
    x[k] = float(int(k % 16) - 8);
  EXPECT_EQ(round_trip(ggml_type::q4_0, x), x);
  // Integers with max |x| = 127: exact in Q8_0 (d = 1).
  std::vector<float> ints(32);
  for (size_t k = 0; k < 32; ++k)
    ints[k] = float(int(k * 8) - 127);
  ints[31] = 127.0f;
  EXPECT_EQ(round_trip(ggml_type::q8_0, ints), ints);
  std::vector<float> z(64, 0.0f);
  EXPECT_EQ(round_trip(ggml_type::q8_0, z), z);
  EXPECT_EQ(round_trip(ggml_type::q4_0, z), z);
  const auto r = random_row(96, 3, 1.0f);
  EXPECT_EQ(round_trip(ggml_type::f32, r), r);
  const auto h = round_trip(ggml_type::f16, r);
  const auto bf = round_trip(ggml_type::bf16, r);
  for (size_t i = 0; i < r.size(); ++i) {
    EXPECT_EQ(h[i], fp16_to_fp32(fp32_to_fp16(r[i])));
    EXPECT_EQ(bf[i], bf16_to_fp32(fp32_to_bf16(r[i])));
  }
}

TEST(Quantize, RejectsPartialBlocksAndOtherTypes) {
  std::vector<float> x(40, 1.0f);
  std::vector<uint8_t> out(1024);
  EXPECT_FALSE(quantize_row(ggml_type::q8_0, x.data(), out.data(), 40).is_ok());
  status s = quantize_row(ggml_type::q4_k, x.data(), out.data(), 256);
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("q4_K"), std::string::npos) << s.message();
}
