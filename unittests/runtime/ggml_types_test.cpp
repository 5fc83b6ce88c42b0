// GGML type traits, fp16/bf16 conversion and dequantization.
//
// Expected values are computed here independently of the runtime: blocks are
// packed by hand from chosen per-element quants and scales following the
// format description (element -> byte/bit position), and the expected floats
// follow the format's formula per element. Real model files add a cross-check:
// the BF16 and Q8_0/Q4_0 test models were derived from the F16 one.
#include "smepilot_rt/ggml_types.h"
#include "smepilot_rt/gguf.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <random>
#include <vector>

using namespace smepilot::rt;

namespace {

uint16_t h16(float f) { return fp32_to_fp16(f); }
void put16(std::vector<uint8_t> &b, size_t at, uint16_t v) { std::memcpy(&b[at], &v, 2); }
float bits_to_float(uint32_t b) { return std::bit_cast<float>(b); }
uint32_t float_bits(float f) { return std::bit_cast<uint32_t>(f); }

// The value of an fp16 bit pattern by the IEEE formula.
double fp16_value(uint16_t h) {
  int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
  double v = e == 0 ? std::ldexp(double(m), -24) : std::ldexp(1.0 + m / 1024.0, e - 15);
  return s ? -v : v;
}

std::vector<float> dequant(ggml_type t, const std::vector<uint8_t> &b, uint64_t n) {
  std::vector<float> out(n, -12345.0f);
  status s = dequantize_row(t, b.data(), out.data(), n);
  EXPECT_TRUE(s.is_ok()) << s.message();
  return out;
}

void expect_floats(const std::vector<float> &got, const std::vector<float> &want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_FLOAT_EQ(got[i], want[i]) << "element " << i;
}

} // namespace

// --- traits --------------------------------------------------------------------

TEST(GgmlTraits, NamesAndBlockLayouts) {
  struct row {
    ggml_type type;
    const char *name;
    uint32_t block, size;
  };
  const row rows[] = {
      {ggml_type::f32, "f32", 1, 4},       {ggml_type::f16, "f16", 1, 2},
      {ggml_type::q4_0, "q4_0", 32, 18},   {ggml_type::q4_1, "q4_1", 32, 20},
      {ggml_type::q5_0, "q5_0", 32, 22},   {ggml_type::q5_1, "q5_1", 32, 24},
      {ggml_type::q8_0, "q8_0", 32, 34},   {ggml_type::q8_1, "q8_1", 32, 36},
      {ggml_type::q2_k, "q2_K", 256, 84},  {ggml_type::q3_k, "q3_K", 256, 110},
      {ggml_type::q4_k, "q4_K", 256, 144}, {ggml_type::q5_k, "q5_K", 256, 176},
      {ggml_type::q6_k, "q6_K", 256, 210}, {ggml_type::q8_k, "q8_K", 256, 292},
      {ggml_type::i8, "i8", 1, 1},         {ggml_type::i16, "i16", 1, 2},
      {ggml_type::i32, "i32", 1, 4},       {ggml_type::i64, "i64", 1, 8},
      {ggml_type::f64, "f64", 1, 8},       {ggml_type::bf16, "bf16", 1, 2},
  };
  for (const row &r : rows) {
    const ggml_type_traits *t = ggml_traits(r.type);
    ASSERT_NE(t, nullptr) << r.name;
    EXPECT_STREQ(t->name, r.name);
    EXPECT_STREQ(ggml_type_name(r.type), r.name);
    EXPECT_EQ(t->block_size, r.block) << r.name;
    EXPECT_EQ(t->type_size, r.size) << r.name;
    EXPECT_TRUE(t->dequantizable) << r.name;
  }
}

TEST(GgmlTraits, UnknownIds) {
  // (16-23, 29, 34, 35 and 39 are known by layout only: see below.)
  for (uint32_t id : {4u, 5u, 31u, 32u, 33u, 36u, 37u, 38u, 40u, 99u, 0xffffffffu})
    EXPECT_EQ(ggml_traits(id), nullptr) << id;
  EXPECT_STREQ(ggml_type_name(static_cast<ggml_type>(4)), "unknown");
  EXPECT_EQ(ggml_row_bytes(static_cast<ggml_type>(4), 32), 0u);
}

TEST(GgmlTraits, RowBytes) {
  EXPECT_EQ(ggml_row_bytes(ggml_type::f32, 64), 256u);
  EXPECT_EQ(ggml_row_bytes(ggml_type::bf16, 64), 128u);
  EXPECT_EQ(ggml_row_bytes(ggml_type::q4_0, 4096), 4096u / 32 * 18);
  EXPECT_EQ(ggml_row_bytes(ggml_type::q8_0, 64), 68u);
  EXPECT_EQ(ggml_row_bytes(ggml_type::q4_k, 4096), 16u * 144);
  EXPECT_EQ(ggml_row_bytes(ggml_type::q6_k, 512), 420u);
}

// --- fp16 ----------------------------------------------------------------------

TEST(Fp16, KnownEncodings) {
  EXPECT_EQ(h16(0.0f), 0x0000);
  EXPECT_EQ(h16(-0.0f), 0x8000);
  EXPECT_EQ(h16(1.0f), 0x3c00);
  EXPECT_EQ(h16(-2.0f), 0xc000);
  EXPECT_EQ(h16(0.5f), 0x3800);
  EXPECT_EQ(h16(0.1f), 0x2e66);
  EXPECT_EQ(h16(65504.0f), 0x7bff); // largest finite
  EXPECT_EQ(h16(65519.0f), 0x7bff); // below the halfway point
  EXPECT_EQ(h16(65520.0f), 0x7c00); // tie with odd 0x7bff: up, to inf
  EXPECT_EQ(h16(1e6f), 0x7c00);
  EXPECT_EQ(h16(-1e6f), 0xfc00);
  EXPECT_EQ(h16(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_EQ(h16(-std::numeric_limits<float>::infinity()), 0xfc00);
  EXPECT_EQ(h16(std::ldexp(1.0f, -14)), 0x0400);    // smallest normal
  EXPECT_EQ(h16(std::ldexp(1023.0f, -24)), 0x03ff); // largest subnormal
  EXPECT_EQ(h16(std::ldexp(1.0f, -24)), 0x0001);    // smallest subnormal
  EXPECT_EQ(h16(std::ldexp(1.0f, -25)), 0x0000);    // tie with 0: to even (0)
  EXPECT_EQ(h16(std::nextafter(std::ldexp(1.0f, -25), 1.0f)), 0x0001);
  EXPECT_EQ(h16(std::ldexp(3.0f, -25)), 0x0002);        // 1.5 ulp: tie, to even (2)
  EXPECT_EQ(h16(std::ldexp(5.0f, -25)), 0x0002);        // 2.5 ulp: tie, to even (2)
  EXPECT_EQ(h16(-std::ldexp(1.0f, -26)), 0x8000);       // underflow keeps the sign
  EXPECT_EQ(h16(1.0f + std::ldexp(1.0f, -11)), 0x3c00); // tie: to even
  EXPECT_EQ(h16(1.0f + std::ldexp(3.0f, -11)), 0x3c02); // tie: to even (up)
  EXPECT_EQ(h16(std::ldexp(2047.0f, -25)), 0x0400);     // rounds up into the normals
  EXPECT_EQ(h16(1e-10f), 0x0000);
}

TEST(Fp16, NaNStaysNaN) {
  for (uint32_t bits : {0x7fc00000u, 0xffc00000u, 0x7f800001u, 0x7f802000u, 0xff800001u}) {
    uint16_t h = h16(bits_to_float(bits));
    EXPECT_EQ(h & 0x7c00, 0x7c00) << std::hex << bits;
    EXPECT_NE(h & 0x03ff, 0) << std::hex << bits; // not inf
    EXPECT_EQ(h >> 15, bits >> 31) << std::hex << bits;
    EXPECT_TRUE(std::isnan(fp16_to_fp32(h)));
  }
  EXPECT_TRUE(std::isnan(fp16_to_fp32(0x7e00)));
  EXPECT_TRUE(std::isnan(fp16_to_fp32(0x7c01)));
  EXPECT_TRUE(std::isnan(fp16_to_fp32(0xfe00)));
}

TEST(Fp16, DecodeEveryPatternByFormula) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const int e = (h >> 10) & 31, m = h & 1023;
    float f = fp16_to_fp32(uint16_t(h));
    if (e == 31) {
      if (m == 0)
        EXPECT_EQ(f, (h >> 15) ? -INFINITY : INFINITY);
      else
        EXPECT_TRUE(std::isnan(f));
      continue;
    }
    EXPECT_EQ(double(f), fp16_value(uint16_t(h))) << std::hex << h;
    EXPECT_EQ(std::signbit(f), bool(h >> 15)) << std::hex << h;
  }
}

TEST(Fp16, RoundTripEveryPattern) {
  for (uint32_t h = 0; h < 65536; ++h) {
    float f = fp16_to_fp32(uint16_t(h));
    if (std::isnan(f))
      continue;
    EXPECT_EQ(fp32_to_fp16(f), h) << std::hex << h;
  }
}

// For sampled floats, the result must be the nearest fp16 value, ties to even.
TEST(Fp16, RoundsToNearestEven) {
  std::mt19937 rng(7);
  int checked = 0;
  for (int i = 0; i < 400000; ++i) {
    // Exponents spanning subnormals, normals and overflow of fp16.
    const int exp = int(rng() % 48) - 30;
    float x = std::ldexp(1.0f + float(rng() % (1u << 23)) / float(1u << 23), exp);
    if (rng() & 1)
      x = -x;
    if (i % 7 == 0) { // exact halfway points between fp16 neighbours
      const uint16_t lo = uint16_t(rng() % 0x7bff);
      x = float((fp16_value(lo) + fp16_value(uint16_t(lo + 1))) / 2);
      if (rng() & 1)
        x = -x;
    }
    const uint16_t h = fp32_to_fp16(x);
    const double v = double(x);
    if (std::fabs(v) >= 65520.0) {
      EXPECT_EQ(h & 0x7fff, 0x7c00) << v;
      continue;
    }
    const double got = fp16_value(h);
    ASSERT_FALSE(std::isnan(got));
    const uint16_t mag = h & 0x7fff;
    // Neighbours of the result in magnitude.
    for (int d : {-1, 1}) {
      int nb = int(mag) + d;
      if (nb < 0 || nb > 0x7bff)
        continue;
      const double other = fp16_value(uint16_t(nb | (h & 0x8000)));
      const double e_got = std::fabs(v - got), e_other = std::fabs(v - other);
      EXPECT_LE(e_got, e_other) << "x=" << v << " h=" << std::hex << h;
      if (e_got == e_other)
        EXPECT_EQ(mag & 1, 0) << "tie not to even: x=" << v;
    }
    ++checked;
  }
  EXPECT_GT(checked, 100000);
}

// --- bf16 ----------------------------------------------------------------------

TEST(Bf16, KnownEncodingsAndRounding) {
  EXPECT_EQ(fp32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(fp32_to_bf16(-2.0f), 0xc000);
  EXPECT_EQ(fp32_to_bf16(0.0f), 0x0000);
  EXPECT_EQ(fp32_to_bf16(-0.0f), 0x8000);
  EXPECT_EQ(fp32_to_bf16(bits_to_float(0x3f808000)), 0x3f80); // tie, even stays
  EXPECT_EQ(fp32_to_bf16(bits_to_float(0x3f818000)), 0x3f82); // tie, odd rounds up
  EXPECT_EQ(fp32_to_bf16(bits_to_float(0x3f808001)), 0x3f81); // above the tie
  EXPECT_EQ(fp32_to_bf16(bits_to_float(0x3f807fff)), 0x3f80); // below the tie
  EXPECT_EQ(fp32_to_bf16(INFINITY), 0x7f80);
  EXPECT_EQ(fp32_to_bf16(-INFINITY), 0xff80);
  EXPECT_EQ(fp32_to_bf16(std::numeric_limits<float>::max()), 0x7f80); // rounds to inf
  EXPECT_EQ(fp32_to_bf16(bits_to_float(0x00010000)), 0x0001);         // subnormal
  EXPECT_EQ(fp32_to_bf16(bits_to_float(0x00008000)), 0x0000);         // subnormal tie
  EXPECT_EQ(fp32_to_bf16(bits_to_float(0x00018000)), 0x0002);
  EXPECT_EQ(bf16_to_fp32(0x3f80), 1.0f);
  EXPECT_EQ(bf16_to_fp32(0x0001), bits_to_float(0x00010000));
  EXPECT_EQ(bf16_to_fp32(0xff80), -INFINITY);
}

TEST(Bf16, NaNStaysNaN) {
  for (uint32_t bits : {0x7fc00000u, 0xffc00000u, 0x7f800001u, 0x7fffffffu, 0xff800001u}) {
    uint16_t h = fp32_to_bf16(bits_to_float(bits));
    EXPECT_TRUE(std::isnan(bf16_to_fp32(h))) << std::hex << bits;
    EXPECT_EQ(h >> 15, bits >> 31);
  }
}

TEST(Bf16, RoundTripEveryPattern) {
  for (uint32_t h = 0; h < 65536; ++h) {
    float f = bf16_to_fp32(uint16_t(h));
    EXPECT_EQ(float_bits(f), h << 16);
    if (!std::isnan(f))
      EXPECT_EQ(fp32_to_bf16(f), h) << std::hex << h;
  }
}

// --- dequantization: plain types ----------------------------------------------

TEST(Dequantize, PlainTypes) {
  const std::vector<float> want = {1.0f, -2.5f, 0.0f, 65504.0f, std::ldexp(1.0f, -24), -0.125f};
  std::vector<uint8_t> f32(want.size() * 4), f16(want.size() * 2), bf16(want.size() * 2);
  std::memcpy(f32.data(), want.data(), f32.size());
  const uint16_t f16_bits[] = {0x3c00, 0xc100, 0x0000, 0x7bff, 0x0001, 0xb000};
  // 0x477f is 65280, the bf16 just below 65504 (kept separate below).
  const uint16_t bf16_bits[] = {0x3f80, 0xc020, 0x0000, 0x477f, 0x3380, 0xbe00};
  for (size_t i = 0; i < want.size(); ++i) {
    put16(f16, 2 * i, f16_bits[i]);
    put16(bf16, 2 * i, bf16_bits[i]);
  }
  expect_floats(dequant(ggml_type::f32, f32, want.size()), want);
  expect_floats(dequant(ggml_type::f16, f16, want.size()), want);
  std::vector<float> bf16_want = want;
  bf16_want[3] = 65280.0f;
  expect_floats(dequant(ggml_type::bf16, bf16, want.size()), bf16_want);

  const int32_t ints[] = {-7, 0, 123456};
  std::vector<uint8_t> i32(sizeof ints);
  std::memcpy(i32.data(), ints, sizeof ints);
  expect_floats(dequant(ggml_type::i32, i32, 3), {-7.0f, 0.0f, 123456.0f});
  const double dbl[] = {0.25, -1e10};
  std::vector<uint8_t> f64(sizeof dbl);
  std::memcpy(f64.data(), dbl, sizeof dbl);
  expect_floats(dequant(ggml_type::f64, f64, 2), {0.25f, -1e10f});
}

// GGML types known by layout only: a GGUF holding them opens, binding fails.
TEST(GgmlTraits, UndequantizableTypesAreKnownByLayout) {
  struct row {
    uint32_t id;
    const char *name;
    uint32_t block, size;
  };
  const row rows[] = {
      {16, "iq2_xxs", 256, 66}, {17, "iq2_xs", 256, 74},  {18, "iq3_xxs", 256, 98},
      {19, "iq1_s", 256, 50},   {20, "iq4_nl", 32, 18},   {21, "iq3_s", 256, 110},
      {22, "iq2_s", 256, 82},   {23, "iq4_xs", 256, 136}, {29, "iq1_m", 256, 56},
      {34, "tq1_0", 256, 54},   {35, "tq2_0", 256, 66},   {39, "mxfp4", 32, 17},
  };
  std::vector<uint8_t> b(512);
  float out[256];
  for (const row &r : rows) {
    const ggml_type_traits *t = ggml_traits(r.id);
    ASSERT_NE(t, nullptr) << r.name;
    EXPECT_STREQ(t->name, r.name);
    EXPECT_EQ(t->block_size, r.block) << r.name;
    EXPECT_EQ(t->type_size, r.size) << r.name;
    EXPECT_FALSE(t->dequantizable) << r.name;
    status s = dequantize_row(static_cast<ggml_type>(r.id), b.data(), out, r.block);
    ASSERT_FALSE(s.is_ok()) << r.name;
    EXPECT_NE(s.message().find(std::string(r.name) + " is not supported by SMEPilot"),
              std::string::npos)
        << s.message();
  }
  // Ids GGML removed (4, 5, 31-33, 36-38) or never assigned stay unknown.
  for (uint32_t id : {4u, 5u, 31u, 33u, 36u, 38u, 40u, 99u})
    EXPECT_EQ(ggml_traits(id), nullptr) << id;
}

TEST(Dequantize, Errors) {
  std::vector<uint8_t> b(64);
  float out[64];
  status s = dequantize_row(ggml_type::q4_0, b.data(), out, 16);
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("block size 32"), std::string::npos) << s.message();
  s = dequantize_row(static_cast<ggml_type>(4), b.data(), out, 1);
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("unknown ggml type id 4"), std::string::npos) << s.message();
  EXPECT_TRUE(dequantize_row(ggml_type::q4_k, nullptr, nullptr, 0).is_ok());
}

// --- dequantization: 32-element blocks ------------------------------------------

// Quants q[k] for the 32 elements of a block, chosen to cover the whole range.
std::vector<int> quants(int levels, int salt) {
  std::vector<int> q(32);
  for (int k = 0; k < 32; ++k)
    q[k] = (k * 7 + salt) % levels;
  return q;
}

TEST(Dequantize, Q8_0) {
  // Two blocks: d = 0.5 and d = -0.0625; q from -128 to 127.
  std::vector<uint8_t> b(68);
  std::vector<float> want;
  const float ds[2] = {0.5f, -0.0625f};
  for (int blk = 0; blk < 2; ++blk) {
    put16(b, 34 * blk, h16(ds[blk]));
    for (int k = 0; k < 32; ++k) {
      int q = blk == 0 ? -128 + 8 * k : 127 - 3 * k;
      b[34 * blk + 2 + k] = uint8_t(int8_t(q));
      want.push_back(ds[blk] * float(q));
    }
  }
  expect_floats(dequant(ggml_type::q8_0, b, 64), want);
}

TEST(Dequantize, Q8_1) {
  std::vector<uint8_t> b(36);
  put16(b, 0, h16(0.25f));
  put16(b, 2, h16(99.0f)); // the sum field is not used for values
  std::vector<float> want;
  for (int k = 0; k < 32; ++k) {
    b[4 + k] = uint8_t(int8_t(k - 16));
    want.push_back(0.25f * float(k - 16));
  }
  expect_floats(dequant(ggml_type::q8_1, b, 32), want);
}

TEST(Dequantize, Q4_0) {
  // Element k < 16 is the low nibble of qs[k], element k + 16 its high nibble.
  std::vector<uint8_t> b(18);
  const float d = 0.25f;
  put16(b, 0, h16(d));
  std::vector<int> q = quants(16, 3);
  for (int j = 0; j < 16; ++j)
    b[2 + j] = uint8_t(q[j] | q[j + 16] << 4);
  std::vector<float> want;
  for (int k = 0; k < 32; ++k)
    want.push_back(d * float(q[k] - 8));
  expect_floats(dequant(ggml_type::q4_0, b, 32), want);
}

TEST(Dequantize, Q4_1) {
  std::vector<uint8_t> b(20);
  const float d = 0.5f, m = -1.75f;
  put16(b, 0, h16(d));
  put16(b, 2, h16(m));
  std::vector<int> q = quants(16, 5);
  for (int j = 0; j < 16; ++j)
    b[4 + j] = uint8_t(q[j] | q[j + 16] << 4);
  std::vector<float> want;
  for (int k = 0; k < 32; ++k)
    want.push_back(d * float(q[k]) + m);
  expect_floats(dequant(ggml_type::q4_1, b, 32), want);
}

// Packs 5-bit quants: low nibbles as in q4_0, the 5th bit of element k is bit
// k of the little-endian u32 qh.
void pack_q5(std::vector<uint8_t> &b, size_t qh_at, size_t qs_at, const std::vector<int> &q) {
  uint32_t qh = 0;
  for (int k = 0; k < 32; ++k)
    qh |= uint32_t(q[k] >> 4) << k;
  std::memcpy(&b[qh_at], &qh, 4);
  for (int j = 0; j < 16; ++j)
    b[qs_at + j] = uint8_t((q[j] & 15) | (q[j + 16] & 15) << 4);
}

TEST(Dequantize, Q5_0) {
  std::vector<uint8_t> b(22);
  const float d = -0.125f;
  put16(b, 0, h16(d));
  std::vector<int> q = quants(32, 1);
  pack_q5(b, 2, 6, q);
  std::vector<float> want;
  for (int k = 0; k < 32; ++k)
    want.push_back(d * float(q[k] - 16));
  expect_floats(dequant(ggml_type::q5_0, b, 32), want);
}

TEST(Dequantize, Q5_1) {
  std::vector<uint8_t> b(24);
  const float d = 0.0625f, m = 2.0f;
  put16(b, 0, h16(d));
  put16(b, 2, h16(m));
  std::vector<int> q = quants(32, 11);
  pack_q5(b, 4, 8, q);
  std::vector<float> want;
  for (int k = 0; k < 32; ++k)
    want.push_back(d * float(q[k]) + m);
  expect_floats(dequant(ggml_type::q5_1, b, 32), want);
}

// --- dequantization: K-quants ----------------------------------------------------

// Packs the 12-byte 6-bit scales/mins of q4_K/q5_K for sub-blocks 0..7.
void pack_k4_scales(uint8_t *s, const int sc[8], const int mn[8]) {
  std::memset(s, 0, 12);
  for (int i = 0; i < 4; ++i) {
    s[i] = uint8_t(sc[i] & 63);
    s[i + 4] = uint8_t(mn[i] & 63);
  }
  for (int i = 4; i < 8; ++i) {
    s[i + 4] = uint8_t((sc[i] & 15) | (mn[i] & 15) << 4);
    s[i - 4] |= uint8_t((sc[i] >> 4) << 6); // top bits of the scale
    s[i] |= uint8_t((mn[i] >> 4) << 6);     // top bits of the min
  }
}

TEST(Dequantize, Q4_K) {
  // 8 sub-blocks of 32 elements; element e is in sub-block e/32, chunk
  // c = e/64 uses qs[32c..32c+32): the low nibble for the first 32 elements
  // of the chunk, the high nibble for the next 32.
  std::vector<uint8_t> b(144);
  const float d = 0.5f, dmin = 0.25f;
  put16(b, 0, h16(d));
  put16(b, 2, h16(dmin));
  const int sc[8] = {1, 63, 17, 32, 5, 48, 60, 33};
  const int mn[8] = {0, 7, 63, 16, 47, 1, 31, 62};
  pack_k4_scales(&b[4], sc, mn);
  std::vector<float> want(256);
  for (int e = 0; e < 256; ++e) {
    const int q = (e * 5 + e / 32) % 16, c = e / 64, l = e % 32;
    uint8_t &byte = b[16 + 32 * c + l];
    byte |= uint8_t((e % 64) < 32 ? q : q << 4);
    want[e] = d * float(sc[e / 32]) * float(q) - dmin * float(mn[e / 32]);
  }
  expect_floats(dequant(ggml_type::q4_k, b, 256), want);
}

TEST(Dequantize, Q5_K) {
  // As q4_K, plus the 5th bit of element e is bit (e/32) of qh[e % 32].
  std::vector<uint8_t> b(176);
  const float d = 0.125f, dmin = 1.0f;
  put16(b, 0, h16(d));
  put16(b, 2, h16(dmin));
  const int sc[8] = {63, 2, 40, 9, 16, 55, 27, 44};
  const int mn[8] = {3, 60, 0, 21, 36, 63, 12, 50};
  pack_k4_scales(&b[4], sc, mn);
  std::vector<float> want(256);
  for (int e = 0; e < 256; ++e) {
    const int q = (e * 11 + 3) % 32, c = e / 64, l = e % 32;
    b[16 + l] |= uint8_t((q >> 4) << (e / 32));
    b[48 + 32 * c + l] |= uint8_t((e % 64) < 32 ? (q & 15) : (q & 15) << 4);
    want[e] = d * float(sc[e / 32]) * float(q) - dmin * float(mn[e / 32]);
  }
  expect_floats(dequant(ggml_type::q5_k, b, 256), want);
}

TEST(Dequantize, Q6_K) {
  // Element e: half h = e/128, r = e%128, quarter t = r/32, l = r%32. Low 4
  // bits in ql[64h + l + 32*(t%2)] (low nibble for t < 2, high for t >= 2),
  // high 2 bits at bit 2t of qh[32h + l]; signed 8-bit scale scales[e/16].
  std::vector<uint8_t> b(210);
  const float d = 0.03125f;
  put16(b, 208, h16(d));
  int8_t scales[16];
  for (int i = 0; i < 16; ++i) {
    scales[i] = int8_t(i * 17 - 128); // -128 .. 127
    b[192 + i] = uint8_t(scales[i]);
  }
  std::vector<float> want(256);
  for (int e = 0; e < 256; ++e) {
    const int q = (e * 13 + 7) % 64;
    const int h = e / 128, r = e % 128, t = r / 32, l = r % 32;
    b[64 * h + l + 32 * (t % 2)] |= uint8_t(t < 2 ? (q & 15) : (q & 15) << 4);
    b[128 + 32 * h + l] |= uint8_t((q >> 4) << (2 * t));
    want[e] = d * float(scales[e / 16]) * float(q - 32);
  }
  expect_floats(dequant(ggml_type::q6_k, b, 256), want);
}

TEST(Dequantize, Q2_K) {
  // Element e: h = e/128, t = (e%128)/32, l = e%32; 2 bits at bit 2t of
  // qs[32h + l]; scales[e/16] holds scale (low nibble) and min (high nibble).
  std::vector<uint8_t> b(84);
  const float d = 0.5f, dmin = 0.125f;
  put16(b, 80, h16(d));
  put16(b, 82, h16(dmin));
  for (int i = 0; i < 16; ++i)
    b[i] = uint8_t((i * 5 + 1) % 16 | ((15 - i) << 4));
  std::vector<float> want(256);
  for (int e = 0; e < 256; ++e) {
    const int q = (e * 3 + e / 7) % 4, h = e / 128, t = (e % 128) / 32, l = e % 32;
    b[16 + 32 * h + l] |= uint8_t(q << (2 * t));
    const int sc = b[e / 16] & 15, mn = b[e / 16] >> 4;
    want[e] = d * float(sc) * float(q) - dmin * float(mn);
  }
  expect_floats(dequant(ggml_type::q2_k, b, 256), want);
}

TEST(Dequantize, Q3_K) {
  // 16 signed 6-bit scales (stored + 32): low 4 bits of scale i in
  // scales[i] (i < 8, low nibble) or scales[i-8] (high nibble); high 2 bits
  // at bit 2*(i/4) of scales[8 + i%4]. Low 2 bits of q as in q2_K; the 3rd
  // bit of element e is bit 4h+t of hmask[e%32]; a clear bit subtracts 4.
  std::vector<uint8_t> b(110);
  const float d = 0.25f;
  put16(b, 108, h16(d));
  int scale[16];
  for (int i = 0; i < 16; ++i) {
    scale[i] = (i * 23 + 5) % 64 - 32; // -32 .. 31
    const int u = scale[i] + 32;
    if (i < 8)
      b[96 + i] |= uint8_t(u & 15);
    else
      b[96 + i - 8] |= uint8_t((u & 15) << 4);
    b[96 + 8 + i % 4] |= uint8_t((u >> 4) << (2 * (i / 4)));
  }
  std::vector<float> want(256);
  for (int e = 0; e < 256; ++e) {
    const int q3 = (e * 5 + 2) % 8; // 0..7, value q3 - 4
    const int h = e / 128, t = (e % 128) / 32, l = e % 32;
    b[32 + 32 * h + l] |= uint8_t((q3 & 3) << (2 * t));
    if (q3 & 4)
      b[l] |= uint8_t(1 << (4 * h + t));
    want[e] = d * float(scale[e / 16]) * float(q3 - 4);
  }
  expect_floats(dequant(ggml_type::q3_k, b, 256), want);
}

TEST(Dequantize, Q8_K) {
  std::vector<uint8_t> b(292);
  const float d = 0.001f;
  std::memcpy(&b[0], &d, 4);
  std::vector<float> want(256);
  for (int e = 0; e < 256; ++e) {
    b[4 + e] = uint8_t(int8_t(e - 128));
    want[e] = d * float(e - 128);
  }
  expect_floats(dequant(ggml_type::q8_k, b, 256), want);
}

TEST(Dequantize, UnalignedSource) {
  // Quantized rows are read at any address.
  std::vector<uint8_t> b(1 + 34);
  put16(b, 1, h16(2.0f));
  for (int k = 0; k < 32; ++k)
    b[3 + k] = uint8_t(k);
  std::vector<float> out(32);
  ASSERT_TRUE(dequantize_row(ggml_type::q8_0, b.data() + 1, out.data(), 32).is_ok());
  for (int k = 0; k < 32; ++k)
    EXPECT_EQ(out[k], 2.0f * float(k));
}

// --- cross-checks against the real test models -------------------------------------

namespace {

std::string model_path(const char *name) { return std::string(SMEPILOT_MODELS_DIR) + "/" + name; }

std::unique_ptr<gguf_file> open_model(const char *name) {
  auto f = gguf_file::open(model_path(name));
  EXPECT_TRUE(f.is_ok()) << (f ? "" : f.error().message());
  return f ? std::move(*f) : nullptr;
}

std::vector<float> dequant_tensor(const gguf_tensor_info &t) {
  std::vector<float> out(t.n_elements);
  status s = dequantize_row(t.type, t.data, out.data(), t.n_elements);
  EXPECT_TRUE(s.is_ok()) << s.message();
  return out;
}

} // namespace

// qwen3-tiny-bf16 is the round-to-nearest-even of the F16 file's values
// (models/README.md): converting each F16 value must give the stored BF16 bits.
TEST(DequantizeModels, Bf16FileIsRneOfF16File) {
  ASSERT_TRUE(std::filesystem::is_directory(SMEPILOT_MODELS_DIR)) << SMEPILOT_MODELS_DIR;
  auto f16 = open_model("qwen3-tiny-f16.gguf");
  auto bf16 = open_model("qwen3-tiny-bf16.gguf");
  ASSERT_TRUE(f16 && bf16);
  int compared = 0;
  for (const gguf_tensor_info &a : f16->tensors()) {
    if (a.type != ggml_type::f16)
      continue;
    const gguf_tensor_info *b = bf16->find_tensor(a.name);
    ASSERT_NE(b, nullptr);
    ASSERT_EQ(b->type, ggml_type::bf16);
    ASSERT_EQ(a.n_elements, b->n_elements);
    for (uint64_t i = 0; i < a.n_elements; ++i) {
      uint16_t h, g;
      std::memcpy(&h, a.data + 2 * i, 2);
      std::memcpy(&g, b->data + 2 * i, 2);
      ASSERT_EQ(fp32_to_bf16(fp16_to_fp32(h)), g) << a.name << " element " << i;
    }
    ++compared;
  }
  EXPECT_GE(compared, 10);
}

// The Q8_0/Q4_0 files were quantized from the F16 one: each dequantized value
// must lie within the rounding error of the F16 value: half a step for Q8_0,
// a full step for Q4_0 (the side opposite the block maximum clamps at +7),
// plus |q| times the error of storing the scale d as fp16 (2^-11 relative).
TEST(DequantizeModels, QuantizedFilesMatchF16File) {
  ASSERT_TRUE(std::filesystem::is_directory(SMEPILOT_MODELS_DIR)) << SMEPILOT_MODELS_DIR;
  auto f16 = open_model("qwen3-tiny-f16.gguf");
  ASSERT_TRUE(f16);
  struct variant {
    const char *file;
    ggml_type type;
    float steps; // allowed rounding error in units of the block's |d|
    float q_max; // largest |q|
  };
  for (variant v : {variant{"qwen3-tiny-q8_0.gguf", ggml_type::q8_0, 0.5f, 128.0f},
                    variant{"qwen3-tiny-q4_0.gguf", ggml_type::q4_0, 1.0f, 8.0f}}) {
    const float allowed = v.steps + v.q_max * std::ldexp(1.0f, -11);
    auto q = open_model(v.file);
    ASSERT_TRUE(q);
    const uint32_t block_bytes = ggml_traits(v.type)->type_size;
    int compared = 0;
    for (const gguf_tensor_info &a : f16->tensors()) {
      if (a.type != ggml_type::f16)
        continue;
      const gguf_tensor_info *b = q->find_tensor(a.name);
      ASSERT_NE(b, nullptr) << a.name;
      ASSERT_EQ(b->type, v.type) << a.name;
      ASSERT_EQ(b->dims, a.dims);
      std::vector<float> ref = dequant_tensor(a), got = dequant_tensor(*b);
      for (uint64_t i = 0; i < ref.size(); ++i) {
        uint16_t dbits;
        std::memcpy(&dbits, b->data + (i / 32) * block_bytes, 2);
        const float step = std::fabs(fp16_to_fp32(dbits));
        ASSERT_LE(std::fabs(got[i] - ref[i]), allowed * step + 1e-7f)
            << v.file << " " << a.name << " element " << i;
      }
      ++compared;
    }
    EXPECT_GE(compared, 10) << v.file;
  }
}
