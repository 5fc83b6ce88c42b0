// SMEPilot runtime: F32 -> GGML storage types (see quantize.h for the block
// formulas; ggml_types.cpp documents the block layouts this writes).
#include "smepilot_rt/quantize.h"

#include <algorithm>
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

void quantize_block_q5_0(const float *x, uint8_t *out) {
  float amax = 0, m = 0;
  for (uint64_t k = 0; k < kBlock; ++k)
    if (std::fabs(x[k]) > amax) {
      amax = std::fabs(x[k]);
      m = x[k];
    }
  const float d = m / -16.0f;
  const float id = d != 0 ? 1.0f / d : 0.0f;
  store_u16(out, fp32_to_fp16(d));
  uint32_t qh = 0;
  uint8_t *qs = out + 6;
  for (uint64_t k = 0; k < kBlock / 2; ++k) {
    const int lo = std::min(31, int(x[k] * id + 16.5f));
    const int hi = std::min(31, int(x[k + kBlock / 2] * id + 16.5f));
    qs[k] = uint8_t((lo & 15) | (hi & 15) << 4);
    qh |= uint32_t(lo >> 4) << k | uint32_t(hi >> 4) << (k + kBlock / 2);
  }
  std::memcpy(out + 2, &qh, 4);
}

// --- K-quants: super-blocks of 256 -------------------------------------------

int clamp_int(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }

// q4_K: eight sub-blocks of 32, each with a step s_i = (max - min) / 15 and
// an offset o_i = -min (the minimum is taken with 0, so o_i >= 0). The
// super-block stores d = max s_i / 63 and dmin = max o_i / 63 as F16 and the
// 6-bit integers sc_i = round(s_i / d), m_i = round(o_i / dmin); each element
// is then rounded against the step and offset the block really stores,
// q = clamp(round((x + dmin * m_i) / (d * sc_i)), 0, 15).
void quantize_block_q4_k(const float *x, uint8_t *out) {
  float step[8], offset[8], max_step = 0, max_offset = 0;
  for (int i = 0; i < 8; ++i) {
    float lo = 0, hi = x[32 * i];
    for (int l = 0; l < 32; ++l) {
      lo = std::min(lo, x[32 * i + l]);
      hi = std::max(hi, x[32 * i + l]);
    }
    step[i] = (hi - lo) / 15.0f;
    offset[i] = -lo;
    max_step = std::max(max_step, step[i]);
    max_offset = std::max(max_offset, offset[i]);
  }
  const uint16_t d_bits = fp32_to_fp16(max_step / 63.0f);
  const uint16_t dmin_bits = fp32_to_fp16(max_offset / 63.0f);
  const float d = fp16_to_fp32(d_bits), dmin = fp16_to_fp32(dmin_bits);
  int sc[8], mn[8];
  for (int i = 0; i < 8; ++i) {
    sc[i] = d > 0 ? clamp_int(int(std::lround(step[i] / d)), 0, 63) : 0;
    mn[i] = dmin > 0 ? clamp_int(int(std::lround(offset[i] / dmin)), 0, 63) : 0;
  }
  store_u16(out, d_bits);
  store_u16(out + 2, dmin_bits);
  uint8_t *scales = out + 4, *qs = out + 16;
  // The packing dequantization reads back (ggml_types.cpp, k4_scale_min).
  for (int i = 0; i < 4; ++i) {
    scales[i] = uint8_t(sc[i] | (sc[i + 4] >> 4) << 6);
    scales[i + 4] = uint8_t(mn[i] | (mn[i + 4] >> 4) << 6);
    scales[i + 8] = uint8_t((sc[i + 4] & 15) | (mn[i + 4] & 15) << 4);
  }
  auto q = [&](int i, int l) {
    const float s = d * float(sc[i]);
    if (s == 0)
      return 0;
    return clamp_int(int(std::lround((x[32 * i + l] + dmin * float(mn[i])) / s)), 0, 15);
  };
  for (int c = 0; c < 4; ++c)
    for (int l = 0; l < 32; ++l)
      qs[32 * c + l] = uint8_t(q(2 * c, l) | q(2 * c + 1, l) << 4);
}

// q6_K: sixteen sub-blocks of 16, each with a signed step s_i = m / -32 where
// m is its element of largest magnitude (so m is q = -32 exactly). The
// super-block stores d = max |s_i| / 127 as F16 and the int8 scales
// sc_i = round(s_i / d); q = clamp(round(x / (d * sc_i)), -32, 31) + 32.
void quantize_block_q6_k(const float *x, uint8_t *out) {
  float step[16], max_abs_step = 0;
  for (int i = 0; i < 16; ++i) {
    float amax = 0, m = 0;
    for (int l = 0; l < 16; ++l)
      if (std::fabs(x[16 * i + l]) > amax) {
        amax = std::fabs(x[16 * i + l]);
        m = x[16 * i + l];
      }
    step[i] = m / -32.0f;
    max_abs_step = std::max(max_abs_step, amax / 32.0f);
  }
  const uint16_t d_bits = fp32_to_fp16(max_abs_step / 127.0f);
  const float d = fp16_to_fp32(d_bits);
  uint8_t *ql = out, *qh = out + 128;
  auto *scales = reinterpret_cast<int8_t *>(out + 192);
  uint8_t q[256];
  for (int i = 0; i < 16; ++i) {
    const int sc = d > 0 ? clamp_int(int(std::lround(step[i] / d)), -127, 127) : 0;
    scales[i] = int8_t(sc);
    const float s = d * float(sc);
    for (int l = 0; l < 16; ++l)
      q[16 * i + l] =
          uint8_t(32 + (s == 0 ? 0 : clamp_int(int(std::lround(x[16 * i + l] / s)), -32, 31)));
  }
  store_u16(out + 208, d_bits);
  std::memset(ql, 0, 128 + 64);
  // Element 128h + 32t + l: low 4 bits in ql[64h + l + 32 (t & 1)] (low
  // nibble for t < 2), high 2 bits at bit 2t of qh[32h + l].
  for (int h = 0; h < 2; ++h)
    for (int t = 0; t < 4; ++t)
      for (int l = 0; l < 32; ++l) {
        const uint8_t v = q[128 * h + 32 * t + l];
        ql[64 * h + l + 32 * (t & 1)] |= uint8_t((v & 15) << (t < 2 ? 0 : 4));
        qh[32 * h + l] |= uint8_t((v >> 4) << (2 * t));
      }
}

} // namespace

void round_activations_q8_0(const float *x, float *y, uint64_t n) {
  for (uint64_t b = 0; b + kBlock <= n; b += kBlock) {
    float amax = 0;
    for (uint64_t k = 0; k < kBlock; ++k)
      amax = std::max(amax, std::fabs(x[b + k]));
    const float d = fp16_to_fp32(fp32_to_fp16(amax / 127.0f));
    const float inv = amax != 0 ? 127.0f / amax : 0.0f;
    for (uint64_t k = 0; k < kBlock; ++k)
      y[b + k] = std::nearbyint(x[b + k] * inv) * d;
  }
}

void round_activations_bf16(const float *x, float *y, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i)
    y[i] = bf16_to_fp32(fp32_to_bf16(x[i]));
}

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
  default:
    break;
  }
  void (*block_fn)(const float *, uint8_t *) = nullptr;
  switch (type) {
  case ggml_type::q8_0:
    block_fn = quantize_block_q8_0;
    break;
  case ggml_type::q4_0:
    block_fn = quantize_block_q4_0;
    break;
  case ggml_type::q5_0:
    block_fn = quantize_block_q5_0;
    break;
  case ggml_type::q4_k:
    block_fn = quantize_block_q4_k;
    break;
  case ggml_type::q6_k:
    block_fn = quantize_block_q6_k;
    break;
  default:
    return status::error(std::string("quantize_row: cannot convert to type ") +
                         ggml_type_name(type) +
                         " (supported: f32, f16, bf16, q8_0, q5_0, q4_0, q6_K, q4_K)");
  }
  const ggml_type_traits *t = ggml_traits(type);
  if (n % t->block_size != 0)
    return status::error("quantize_row: " + std::to_string(n) +
                         " elements is not a multiple of the " + t->name + " block size " +
                         std::to_string(t->block_size));
  for (uint64_t b = 0; b < n / t->block_size; ++b)
    block_fn(src + b * t->block_size, out + b * t->type_size);
  return status::ok();
}

} // namespace smepilot::rt
