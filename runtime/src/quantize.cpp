// SMEPilot runtime: F32 -> GGML storage types (see quantize.h for the block
// formulas).
#include "smepilot_rt/quantize.h"

#include <cmath>
#include <cstring>
#include <string>

namespace smepilot::rt {

namespace {

constexpr uint64_t kBlock = 32;

void store_u16(uint8_t *p, uint16_t v) {
  p[0] = uint8_t(v & 0xff);
  p[1] = uint8_t(v >> 8);
}

void quantize_block_q8_0(const float *x, uint8_t *out) {
  float amax = 0;
  for (uint64_t k = 0; k < kBlock; ++k)
    amax = std::max(amax, std::fabs(x[k]));
  const float d = amax / 127.0f;
  const float id = d != 0 ? 1.0f / d : 0.0f;
  store_u16(out, fp32_to_fp16(d));
  for (uint64_t k = 0; k < kBlock; ++k)
    out[2 + k] = uint8_t(int8_t(std::round(x[k] * id)));
}

void quantize_block_q4_0(const float *x, uint8_t *out) {
  float amax = 0, m = 0;
  for (uint64_t k = 0; k < kBlock; ++k)
    if (std::fabs(x[k]) > amax) {
      amax = std::fabs(x[k]);
      m = x[k];
    }
  const float d = m / -8.0f;
  const float id = d != 0 ? 1.0f / d : 0.0f;
  store_u16(out, fp32_to_fp16(d));
  auto q = [&](float v) {
    int t = int(v * id + 8.5f);
    return uint8_t(t > 15 ? 15 : (t < 0 ? 0 : t));
  };
  for (uint64_t k = 0; k < kBlock / 2; ++k)
    out[2 + k] = uint8_t(q(x[k]) | q(x[k + kBlock / 2]) << 4);
}

} // namespace

status quantize_row(ggml_type type, const float *src, void *dst, uint64_t n) {
  uint8_t *out = static_cast<uint8_t *>(dst);
  switch (type) {
  case ggml_type::f32:
    std::memcpy(out, src, n * sizeof(float));
    return status::ok();
  case ggml_type::f16:
    for (uint64_t i = 0; i < n; ++i)
      store_u16(out + 2 * i, fp32_to_fp16(src[i]));
    return status::ok();
  case ggml_type::bf16:
    for (uint64_t i = 0; i < n; ++i)
      store_u16(out + 2 * i, fp32_to_bf16(src[i]));
    return status::ok();
  case ggml_type::q8_0:
  case ggml_type::q4_0: {
    if (n % kBlock != 0)
      return status::error("quantize_row: " + std::to_string(n) +
                           " elements is not a multiple of the block size 32");
    const bool q8 = type == ggml_type::q8_0;
    const uint64_t block_bytes = q8 ? 34 : 18;
    for (uint64_t b = 0; b < n / kBlock; ++b) {
      if (q8)
        quantize_block_q8_0(src + b * kBlock, out + b * block_bytes);
      else
        quantize_block_q4_0(src + b * kBlock, out + b * block_bytes);
    }
    return status::ok();
  }
  default:
    return status::error(std::string("quantize_row: cannot convert to type ") +
                         ggml_type_name(type) + " (supported: f32, f16, bf16, q8_0, q4_0)");
  }
}

} // namespace smepilot::rt
