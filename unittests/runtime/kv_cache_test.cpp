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
float kval(int layer, int pos, int i) { return 0.1f * float(layer * 100 + pos * 10 + i) + 0.0123f; }
float vval(int layer, int pos, int i) { return -kval(layer, pos, i) * 1.37f; }
} // namespace

TEST(KvCache, StoresAndReadsPerHeadF32AndF16) {
  for (kv_cache_type type : {kv_cache_type::f32, kv_cache_type::f16}) {
    auto c = kv_cache::create(small_shape(), type);
    ASSERT_TRUE(c.is_ok()) << c.error().message();
    kv_cache &kv = **c;
    EXPECT_EQ(kv.capacity(), 5);
    size_t elt = type == kv_cache_type::f16 ? 2 : 4;
    EXPECT_EQ(kv.bytes(), 2u * 5 * 2 * (3 + 4) * elt);
    for (int l = 0; l < 2; ++l)
      for (int p = 0; p < 5; ++p) {
        std::vector<float> k(6), v(8);
        for (int i = 0; i < 6; ++i)
          k[size_t(i)] = kval(l, p, i);
        for (int i = 0; i < 8; ++i)
          v[size_t(i)] = vval(l, p, i);
        kv.store(l, p, k.data(), v.data());
      }
    std::vector<float> scratch(5 * 4);
    for (int l = 0; l < 2; ++l)
      for (int h = 0; h < 2; ++h) {
        const float *k = kv.keys(l, h, 5, scratch.data());
        for (int p = 0; p < 5; ++p)
          for (int i = 0; i < 3; ++i) {
            float want = kval(l, p, h * 3 + i);
            if (type == kv_cache_type::f16)
              want = fp16_to_fp32(fp32_to_fp16(want));
            ASSERT_EQ(k[p * 3 + i], want);
          }
        const float *v = kv.values(l, h, 5, scratch.data());
        for (int p = 0; p < 5; ++p)
          for (int i = 0; i < 4; ++i) {
            float want = vval(l, p, h * 4 + i);
            if (type == kv_cache_type::f16)
              want = fp16_to_fp32(fp32_to_fp16(want));
            ASSERT_EQ(v[p * 4 + i], want);
          }
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
