#include "smepilot_rt/ggml_types.h"
#include "smepilot_rt/kv_cache.h"

#include <gtest/gtest.h>

#include <vector>

using namespace smepilot::rt;

namespace {
kv_cache_shape small_shape() {
  kv_cache_shape s;
  s.n_layer = 2;
  s.n_ctx = 5;
  s.n_head_kv = 2;
  s.head_dim_k = 3;
  s.head_dim_v = 4;
  return s;
}
/// Distinct values per (layer, pos, element), kept in a table so that the
/// expected values are the very floats that were stored.
struct kv_values {
  std::vector<float> k, v; // [layer][pos][n_head_kv * head_dim]
  kv_values() : k(2 * 5 * 6), v(2 * 5 * 8) {
    for (size_t j = 0; j < k.size(); ++j)
      k[j] = 0.37f * float(j) + 0.0123f;
    for (size_t j = 0; j < v.size(); ++j)
      v[j] = -0.51f * float(j) - 0.75f;
  }
  const float *k_row(int l, int p) const { return &k[size_t((l * 5 + p) * 6)]; }
  const float *v_row(int l, int p) const { return &v[size_t((l * 5 + p) * 8)]; }
};
} // namespace

TEST(KvCache, StoresAndReadsPerHeadF32AndF16) {
  for (kv_cache_type type : {kv_cache_type::f32, kv_cache_type::f16}) {
    auto c = kv_cache::create(small_shape(), type);
    ASSERT_TRUE(c.is_ok()) << c.error().message();
    kv_cache &kv = **c;
    EXPECT_EQ(kv.capacity(), 5);
    size_t elt = type == kv_cache_type::f16 ? 2 : 4;
    EXPECT_EQ(kv.bytes(), 2u * 5 * 2 * (3 + 4) * elt);
    const kv_values values;
    for (int l = 0; l < 2; ++l)
      for (int p = 0; p < 5; ++p)
        kv.store(l, p, values.k_row(l, p), values.v_row(l, p));
    auto rounded = [&](float x) {
      return type == kv_cache_type::f16 ? fp16_to_fp32(fp32_to_fp16(x)) : x;
    };
    std::vector<float> scratch(5 * 4);
    for (int l = 0; l < 2; ++l)
      for (int h = 0; h < 2; ++h) {
        const float *k = kv.keys(l, h, 5, scratch.data());
        for (int p = 0; p < 5; ++p)
          for (int i = 0; i < 3; ++i)
            ASSERT_EQ(k[p * 3 + i], rounded(values.k_row(l, p)[h * 3 + i]))
                << "layer " << l << " head " << h << " pos " << p << " elt " << i;
        const float *v = kv.values(l, h, 5, scratch.data());
        for (int p = 0; p < 5; ++p)
          for (int i = 0; i < 4; ++i)
            ASSERT_EQ(v[p * 4 + i], rounded(values.v_row(l, p)[h * 4 + i]))
                << "layer " << l << " head " << h << " pos " << p << " elt " << i;
      }
  }
}

TEST(KvCache, RoomCheckNamesTheOverflow) {
  auto c = kv_cache::create(small_shape(), kv_cache_type::f32);
  ASSERT_TRUE(c.is_ok());
  EXPECT_TRUE((*c)->check_room(0, 5).is_ok());
  EXPECT_TRUE((*c)->check_room(4, 1).is_ok());
  status s = (*c)->check_room(3, 3);
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("context overflow"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("6"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("5"), std::string::npos) << s.message();
}

TEST(KvCache, RejectsBadShapesAndTypes) {
  kv_cache_shape s = small_shape();
  s.n_ctx = 0;
  EXPECT_FALSE(kv_cache::create(s, kv_cache_type::f32).is_ok());
  EXPECT_TRUE(parse_kv_cache_type("f16").is_ok());
  auto bad = parse_kv_cache_type("q8_0");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.error().message().find("f32 or f16"), std::string::npos);
}

// Byte counts whose product wraps 64 bits are refused with the flag to
// change, not reserved at their wrapped (small) size.
TEST(KvCache, OverflowingShapeIsRefused) {
  kv_cache_shape s;
  s.n_layer = 1 << 30;
  s.n_ctx = 2147483647;
  s.n_head_kv = 1 << 30;
  s.head_dim_k = 1 << 30;
  s.head_dim_v = 1;
  auto c = kv_cache::create(s, kv_cache_type::f32);
  ASSERT_FALSE(c.is_ok());
  EXPECT_NE(c.error().message().find("the KV cache of 2147483647 positions does not fit in the "
                                     "address space; use a smaller context size (-c)"),
            std::string::npos)
      << c.error().message();
}

// A large context is reserved, not backed: 2^24 positions of a 64-wide head
// reserve 8 GiB but only the positions written take memory. The first and
// last positions work.
TEST(KvCache, LargeContextIsReservedNotTouched) {
  kv_cache_shape s;
  s.n_layer = 1;
  s.n_ctx = 1 << 24;
  s.n_head_kv = 1;
  s.head_dim_k = 64;
  s.head_dim_v = 64;
  auto c = kv_cache::create(s, kv_cache_type::f32);
  ASSERT_TRUE(c.is_ok()) << c.error().message();
  EXPECT_EQ((*c)->bytes(), uint64_t(8) << 30);
  std::vector<float> k(64, 1.5f), v(64, -2.0f);
  (*c)->store(0, 0, k.data(), v.data());
  (*c)->store(0, s.n_ctx - 1, k.data(), v.data());
  const float *keys = (*c)->keys(0, 0, s.n_ctx, nullptr);
  EXPECT_EQ(keys[0], 1.5f);
  EXPECT_EQ(keys[size_t(s.n_ctx - 1) * 64 + 63], 1.5f);
  EXPECT_EQ(keys[64], 0.0f); // never written: zero
}
