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
  std::vector<float> x(256, 1.0f);
  std::vector<uint8_t> out(1024);
  EXPECT_FALSE(quantize_row(ggml_type::q8_0, x.data(), out.data(), 40).is_ok());
  status k = quantize_row(ggml_type::q4_k, x.data(), out.data(), 128);
  ASSERT_FALSE(k.is_ok());
  EXPECT_NE(k.message().find("block size 256"), std::string::npos) << k.message();
  status s = quantize_row(ggml_type::q2_k, x.data(), out.data(), 256);
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("q2_K"), std::string::npos) << s.message();
}

TEST(Quantize, Q5_0ErrorIsAtMostAStep) {
  const auto x = random_row(32 * 64, 4, 0.02f);
  const auto y = round_trip(ggml_type::q5_0, x);
  for (size_t b = 0; b < x.size() / 32; ++b) {
    float amax = 0;
    for (size_t k = 0; k < 32; ++k)
      amax = std::max(amax, std::fabs(x[b * 32 + k]));
    const float d = amax / 16;
    const float bound = d + 16 * d * 0x1p-11f;
    for (size_t k = 0; k < 32; ++k)
      ASSERT_LE(std::fabs(x[b * 32 + k] - y[b * 32 + k]), bound) << "block " << b << " k " << k;
  }
  // Integers -16..15 are exact (m = -16 gives d = 1).
  std::vector<float> ints(32);
  for (size_t k = 0; k < 32; ++k)
    ints[k] = float(int(k) - 16);
  EXPECT_EQ(round_trip(ggml_type::q5_0, ints), ints);
}

namespace {
float rms(const std::vector<float> &v) {
  double s = 0;
  for (float x : v)
    s += double(x) * x;
  return float(std::sqrt(s / double(v.size())));
}
} // namespace

// Per sub-block the error is half the stored step, plus what the 6-bit
// rounding of the step and offset (half of d and dmin, the step's error
// counted over 15 levels) and the F16 rounding of d and dmin can add.
TEST(Quantize, Q4_KErrorIsBoundedByTheSubBlockStep) {
  const auto x = random_row(256 * 32, 5, 0.02f);
  const auto y = round_trip(ggml_type::q4_k, x);
  std::vector<float> err(x.size());
  for (size_t b = 0; b < x.size() / 256; ++b) {
    float step[8], max_step = 0, max_offset = 0;
    for (int i = 0; i < 8; ++i) {
      float lo = 0, hi = x[b * 256 + 32 * i];
      for (int l = 0; l < 32; ++l) {
        lo = std::min(lo, x[b * 256 + 32 * i + l]);
        hi = std::max(hi, x[b * 256 + 32 * i + l]);
      }
      step[i] = (hi - lo) / 15;
      max_step = std::max(max_step, step[i]);
      max_offset = std::max(max_offset, -lo);
    }
    const float d = max_step / 63, dmin = max_offset / 63;
    for (int i = 0; i < 8; ++i) {
      const float bound = 0.5f * step[i] + 8 * d + dmin + (15 * max_step + max_offset) * 0x1p-10f;
      for (int l = 0; l < 32; ++l) {
        const size_t e = b * 256 + 32 * i + l;
        err[e] = x[e] - y[e];
        ASSERT_LE(std::fabs(err[e]), bound) << "super-block " << b << " element " << 32 * i + l;
      }
    }
  }
  // 4 bits over a range of about 4.5 sigma: an RMS error near 0.09 sigma.
  EXPECT_LT(rms(err), 0.12f * rms(x));
  EXPECT_GT(rms(err), 0.0f);
}

// Per sub-block: half the stored step inside the range, a whole step where
// +32 clamps to 31, and 32 times the scale's rounding (d / 2) at -32.
TEST(Quantize, Q6_KErrorIsBoundedByTheSubBlockStep) {
  const auto x = random_row(256 * 32, 6, 0.02f);
  const auto y = round_trip(ggml_type::q6_k, x);
  std::vector<float> err(x.size());
  for (size_t b = 0; b < x.size() / 256; ++b) {
    float step[16], max_step = 0;
    for (int i = 0; i < 16; ++i) {
      float amax = 0;
      for (int l = 0; l < 16; ++l)
        amax = std::max(amax, std::fabs(x[b * 256 + 16 * i + l]));
      step[i] = amax / 32;
      max_step = std::max(max_step, step[i]);
    }
    const float d = max_step / 127;
    for (int i = 0; i < 16; ++i) {
      const float bound = step[i] + 17 * d + 32 * max_step * 0x1p-10f;
      for (int l = 0; l < 16; ++l) {
        const size_t e = b * 256 + 16 * i + l;
        err[e] = x[e] - y[e];
        ASSERT_LE(std::fabs(err[e]), bound) << "super-block " << b << " element " << 16 * i + l;
      }
    }
  }
  // 6 bits over +-2.2 sigma: an RMS error near 0.02 sigma.
  EXPECT_LT(rms(err), 0.03f * rms(x));
  EXPECT_GT(rms(err), 0.0f);
}

// A hand-made q4_K block whose steps and offsets are exact: sub-block i holds
// sc[i] / 64 * q - m[i] / 32 for every q in 0..15, so d = 1/64, dmin = 1/32,
// and the bytes follow from the layout alone.
TEST(Quantize, Q4_KHandMadeBlockLayout) {
  const int sc[8] = {63, 10, 20, 30, 40, 50, 60, 33};
  const int m[8] = {63, 5, 17, 1, 48, 32, 7, 60};
  auto q = [](int i, int l) { return (l + i) % 16; };
  std::vector<float> x(256);
  for (int i = 0; i < 8; ++i)
    for (int l = 0; l < 32; ++l)
      x[32 * i + l] = float(sc[i]) / 64 * float(q(i, l)) - float(m[i]) / 32;
  std::vector<uint8_t> b(144);
  ASSERT_TRUE(quantize_row(ggml_type::q4_k, x.data(), b.data(), 256).is_ok());
  EXPECT_EQ(b[0] | b[1] << 8, 0x2400); // d = 1/64
  EXPECT_EQ(b[2] | b[3] << 8, 0x2800); // dmin = 1/32
  // Bytes 0-3: sc[0..3] | high bits of sc[4..7] << 6; bytes 4-7: m[0..3] |
  // high bits of m[4..7] << 6; bytes 8-11: low nibbles of sc[4..7] | those
  // of m[4..7] << 4 (40 = 0b10'1000, 50 = 0b11'0010, 60 = 0b11'1100,
  // 33 = 0b10'0001; 48 = 0b11'0000, 32 = 0b10'0000, 7, 60).
  const std::vector<uint8_t> scales = {0xBF, 0xCA, 0xD4, 0x9E, 0xFF, 0x85,
                                       0x11, 0xC1, 0x08, 0x02, 0x7C, 0xC1};
  EXPECT_EQ(std::vector<uint8_t>(b.begin() + 4, b.begin() + 16), scales);
  // qs[32c + l]: sub-block 2c in the low nibble, 2c + 1 in the high one.
  EXPECT_EQ(b[16 + 0], 0x10);       // q(0, 0) = 0, q(1, 0) = 1
  EXPECT_EQ(b[16 + 64 + 3], 0x87);  // q(4, 3) = 7, q(5, 3) = 8
  EXPECT_EQ(b[16 + 96 + 31], 0x65); // q(6, 31) = 5, q(7, 31) = 6
  std::vector<float> y(256);
  ASSERT_TRUE(dequantize_row(ggml_type::q4_k, b.data(), y.data(), 256).is_ok());
  EXPECT_EQ(y, x);
}

// A hand-made q6_K block: sub-block i holds d * sc[i] * (q - 32) with d =
// 1/128, q = 0 first (the largest magnitude, so the step is exact).
TEST(Quantize, Q6_KHandMadeBlockLayout) {
  const int sc[16] = {127, -100, 1, -1, 64, -64, 33, -7, 90, 2, -127, 50, 3, -3, 17, 100};
  auto q = [](int i, int l) { return l == 0 ? 0 : (7 * l + 3 * i) % 64; };
  std::vector<float> x(256);
  for (int i = 0; i < 16; ++i)
    for (int l = 0; l < 16; ++l)
      x[16 * i + l] = float(sc[i]) / 128 * float(q(i, l) - 32);
  std::vector<uint8_t> b(210);
  ASSERT_TRUE(quantize_row(ggml_type::q6_k, x.data(), b.data(), 256).is_ok());
  EXPECT_EQ(b[208] | b[209] << 8, 0x2000); // d = 1/128
  for (int i = 0; i < 16; ++i)
    EXPECT_EQ(int8_t(b[192 + i]), sc[i]) << "scale " << i;
  // Element 133 (half 1, quarter 0, sub-block 8, l 5): q = 59 = 0b11'1011;
  // element 197 (half 1, quarter 2, sub-block 12, l 5): q = 7. Both share
  // ql[64 + 5] (low and high nibble); qh[32 + 5] holds the high bits of
  // elements 133, 165, 197, 229 (q 59, 1, 7, 13) at bits 0, 2, 4, 6.
  EXPECT_EQ(b[69], 0x7B);
  EXPECT_EQ(b[128 + 37], 0x03);
  EXPECT_EQ(b[0], 0x00); // element 0 and element 64: q = 0 and 0
  std::vector<float> y(256);
  ASSERT_TRUE(dequantize_row(ggml_type::q6_k, b.data(), y.data(), 256).is_ok());
  EXPECT_EQ(y, x);
}

TEST(Quantize, KQuantsOfZerosAndConstants) {
  std::vector<float> z(256, 0.0f);
  EXPECT_EQ(round_trip(ggml_type::q4_k, z), z);
  EXPECT_EQ(round_trip(ggml_type::q6_k, z), z);
  EXPECT_EQ(round_trip(ggml_type::q5_0, z), z);
  // A negative constant is all offset (step 0); a positive one is 15 steps.
  // Only the F16 rounding of d or dmin (relative 2^-11) separates them from
  // the input.
  for (float c : {-0.5f, 0.75f})
    for (ggml_type t : {ggml_type::q4_k, ggml_type::q6_k}) {
      const std::vector<float> x(256, c);
      for (float v : round_trip(t, x))
        ASSERT_NEAR(v, c, std::fabs(c) * 0x1p-10f) << ggml_type_name(t);
    }
}
