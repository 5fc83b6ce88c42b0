// SMEPilot runtime: GGML element types, their block layouts, dequantization
// to f32, and fp16/bf16 conversion.
//
// Block layouts (little-endian; "half" is an IEEE binary16 scale). Within a
// block, element k of the block is written x[k]:
//
//   q4_0  32 in 18:  half d; u8 qs[16]
//         x[j] = d * ((qs[j] & 15) - 8),  x[j+16] = d * ((qs[j] >> 4) - 8)
//   q4_1  32 in 20:  half d, m; u8 qs[16]      x = d * q + m   (q as in q4_0, no -8)
//   q5_0  32 in 22:  half d; u8 qh[4]; u8 qs[16]
//         the 5th bit of x[j] is bit j of the u32 qh, of x[j+16] bit j+16;
//         x = d * (q - 16)
//   q5_1  32 in 24:  half d, m; u8 qh[4]; u8 qs[16]   x = d * q + m
//   q8_0  32 in 34:  half d; i8 qs[32]          x = d * q
//   q8_1  32 in 36:  half d, s (= d * sum q); i8 qs[32]   x = d * q
//
// K-quants: super-blocks of 256 elements made of sub-blocks.
//   q2_K  256 in 84:  u8 scales[16]; u8 qs[64]; half d, dmin
//         16 sub-blocks of 16; scales[i] = scale (low nibble) | min (high nibble);
//         2-bit q: for each half h (128 elements, qs[32h .. 32h+32)) and each
//         shift s in 0,2,4,6 (quarter t = s/2): elements 128h + 32t + l (l < 32)
//         take (qs[32h + l] >> s) & 3; sub-block = 8h + 2t + (l >= 16).
//         x = d * scale * q - dmin * min
//   q3_K  256 in 110: u8 hmask[32]; u8 qs[64]; u8 scales[12]; half d
//         16 sub-blocks of 16 with 6-bit scales: low 4 bits of scale i are
//         scales[i] & 15 (i < 8) or scales[i-8] >> 4 (i >= 8); high 2 bits are
//         (scales[8 + i%4] >> (2*(i/4))) & 3. Low 2 bits of q laid out as in
//         q2_K; the 3rd bit of element 32t + 128h + l (t = quarter) is bit
//         (4h + t) of hmask[l]; x = d * (scale - 32) * (q - (bit ? 0 : 4))
//   q4_K  256 in 144: half d, dmin; u8 scales[12]; u8 qs[128]
//         8 sub-blocks of 32 with 6-bit scale sc and min m: for i < 4,
//         sc = scales[i] & 63, m = scales[i+4] & 63; for i >= 4,
//         sc = (scales[i+4] & 15) | (scales[i-4] >> 6) << 4,
//         m = (scales[i+4] >> 4) | (scales[i] >> 6) << 4.
//         Chunk c (64 elements) uses qs[32c .. 32c+32): low nibbles are
//         sub-block 2c, high nibbles sub-block 2c+1. x = d * sc * q - dmin * m
//   q5_K  256 in 176: half d, dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]
//         as q4_K, plus the 5th bit of element l of sub-block i is bit i of qh[l]
//   q6_K  256 in 210: u8 ql[128]; u8 qh[64]; i8 scales[16]; half d
//         for each half h (128 elements; ql[64h..], qh[32h..]) and l < 32:
//         element 128h + 32t + l (t = 0..3) has low 4 bits from
//         ql[64h + l + 32*(t&1)] (low nibble for t < 2, high for t >= 2) and
//         high 2 bits (qh[32h + l] >> 2t) & 3; its scale is
//         scales[8h + 2t + l/16]; x = d * scale * (q - 32)
//   q8_K  256 in 292: f32 d; i8 qs[256]; i16 bsums[16]   x = d * q
#include "smepilot_rt/ggml_types.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <string>

namespace smepilot::rt {
namespace {

static_assert(std::endian::native == std::endian::little,
              "GGUF data is little-endian; this runtime reads it in place");

constexpr uint32_t max_type_id = 40;

struct traits_table {
  ggml_type_traits entries[max_type_id] = {};
  bool known[max_type_id] = {};
  constexpr void set(ggml_type t, const char *name, uint32_t block, uint32_t size,
                     bool dequantizable = true) {
    auto id = static_cast<uint32_t>(t);
    entries[id] = {name, block, size, dequantizable};
    known[id] = true;
  }
  constexpr traits_table() {
    set(ggml_type::f32, "f32", 1, 4);
    set(ggml_type::f16, "f16", 1, 2);
    set(ggml_type::q4_0, "q4_0", 32, 18);
    set(ggml_type::q4_1, "q4_1", 32, 20);
    set(ggml_type::q5_0, "q5_0", 32, 22);
    set(ggml_type::q5_1, "q5_1", 32, 24);
    set(ggml_type::q8_0, "q8_0", 32, 34);
    set(ggml_type::q8_1, "q8_1", 32, 36);
    set(ggml_type::q2_k, "q2_K", 256, 84);
    set(ggml_type::q3_k, "q3_K", 256, 110);
    set(ggml_type::q4_k, "q4_K", 256, 144);
    set(ggml_type::q5_k, "q5_K", 256, 176);
    set(ggml_type::q6_k, "q6_K", 256, 210);
    set(ggml_type::q8_k, "q8_K", 256, 292);
    set(ggml_type::i8, "i8", 1, 1);
    set(ggml_type::i16, "i16", 1, 2);
    set(ggml_type::i32, "i32", 1, 4);
    set(ggml_type::i64, "i64", 1, 8);
    set(ggml_type::f64, "f64", 1, 8);
    set(ggml_type::bf16, "bf16", 1, 2);
    // Sizes only (GGML's block structs), so their tensors can be placed and
    // listed; dequantize_row() rejects them.
    set(ggml_type::iq2_xxs, "iq2_xxs", 256, 66, false);
    set(ggml_type::iq2_xs, "iq2_xs", 256, 74, false);
    set(ggml_type::iq3_xxs, "iq3_xxs", 256, 98, false);
    set(ggml_type::iq1_s, "iq1_s", 256, 50, false);
    set(ggml_type::iq4_nl, "iq4_nl", 32, 18, false);
    set(ggml_type::iq3_s, "iq3_s", 256, 110, false);
    set(ggml_type::iq2_s, "iq2_s", 256, 82, false);
    set(ggml_type::iq4_xs, "iq4_xs", 256, 136, false);
    set(ggml_type::iq1_m, "iq1_m", 256, 56, false);
    set(ggml_type::tq1_0, "tq1_0", 256, 54, false);
    set(ggml_type::tq2_0, "tq2_0", 256, 66, false);
    set(ggml_type::mxfp4, "mxfp4", 32, 17, false);
  }
};

constexpr traits_table table;

// Unaligned little-endian loads (quantized blocks are not naturally aligned).
template <typename T> inline T load(const uint8_t *p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}
inline float load_half(const uint8_t *p) { return fp16_to_fp32(load<uint16_t>(p)); }

// --- 32-element blocks -----------------------------------------------------

void dequant_q4_0(const uint8_t *b, float *y) {
  const float d = load_half(b);
  const uint8_t *qs = b + 2;
  for (int j = 0; j < 16; ++j) {
    y[j] = d * float(int(qs[j] & 15) - 8);
    y[j + 16] = d * float(int(qs[j] >> 4) - 8);
  }
}

void dequant_q4_1(const uint8_t *b, float *y) {
  const float d = load_half(b), m = load_half(b + 2);
  const uint8_t *qs = b + 4;
  for (int j = 0; j < 16; ++j) {
    y[j] = d * float(qs[j] & 15) + m;
    y[j + 16] = d * float(qs[j] >> 4) + m;
  }
}

void dequant_q5_0(const uint8_t *b, float *y) {
  const float d = load_half(b);
  const uint32_t qh = load<uint32_t>(b + 2);
  const uint8_t *qs = b + 6;
  for (int j = 0; j < 16; ++j) {
    int lo = (qs[j] & 15) | int((qh >> j) & 1) << 4;
    int hi = (qs[j] >> 4) | int((qh >> (j + 16)) & 1) << 4;
    y[j] = d * float(lo - 16);
    y[j + 16] = d * float(hi - 16);
  }
}

void dequant_q5_1(const uint8_t *b, float *y) {
  const float d = load_half(b), m = load_half(b + 2);
  const uint32_t qh = load<uint32_t>(b + 4);
  const uint8_t *qs = b + 8;
  for (int j = 0; j < 16; ++j) {
    int lo = (qs[j] & 15) | int((qh >> j) & 1) << 4;
    int hi = (qs[j] >> 4) | int((qh >> (j + 16)) & 1) << 4;
    y[j] = d * float(lo) + m;
    y[j + 16] = d * float(hi) + m;
  }
}

void dequant_q8_0(const uint8_t *b, float *y) {
  const float d = load_half(b);
  const auto *qs = reinterpret_cast<const int8_t *>(b + 2);
  for (int j = 0; j < 32; ++j)
    y[j] = d * float(qs[j]);
}

void dequant_q8_1(const uint8_t *b, float *y) {
  const float d = load_half(b);
  const auto *qs = reinterpret_cast<const int8_t *>(b + 4);
  for (int j = 0; j < 32; ++j)
    y[j] = d * float(qs[j]);
}

// --- 256-element super-blocks ------------------------------------------------

void dequant_q2_k(const uint8_t *b, float *y) {
  const uint8_t *scales = b, *qs = b + 16;
  const float d = load_half(b + 80), dmin = load_half(b + 82);
  for (int h = 0; h < 2; ++h) {
    for (int t = 0; t < 4; ++t) {
      for (int l = 0; l < 32; ++l) {
        uint8_t sc = scales[8 * h + 2 * t + l / 16];
        int q = (qs[32 * h + l] >> (2 * t)) & 3;
        y[128 * h + 32 * t + l] = d * float(sc & 15) * float(q) - dmin * float(sc >> 4);
      }
    }
  }
}

int q3_k_scale(const uint8_t *s, int i) {
  int lo = i < 8 ? (s[i] & 15) : (s[i - 8] >> 4);
  int hi = (s[8 + i % 4] >> (2 * (i / 4))) & 3;
  return (lo | hi << 4) - 32;
}

void dequant_q3_k(const uint8_t *b, float *y) {
  const uint8_t *hmask = b, *qs = b + 32, *scales = b + 96;
  const float d = load_half(b + 108);
  for (int h = 0; h < 2; ++h) {
    for (int t = 0; t < 4; ++t) {
      for (int l = 0; l < 32; ++l) {
        int sc = q3_k_scale(scales, 8 * h + 2 * t + l / 16);
        int q = (qs[32 * h + l] >> (2 * t)) & 3;
        bool high = (hmask[l] >> (4 * h + t)) & 1;
        y[128 * h + 32 * t + l] = d * float(sc) * float(q - (high ? 0 : 4));
      }
    }
  }
}

// The 6-bit scale and min of sub-block i (0..7) of q4_K / q5_K.
void k4_scale_min(const uint8_t *s, int i, int &sc, int &m) {
  if (i < 4) {
    sc = s[i] & 63;
    m = s[i + 4] & 63;
  } else {
    sc = (s[i + 4] & 15) | (s[i - 4] >> 6) << 4;
    m = (s[i + 4] >> 4) | (s[i] >> 6) << 4;
  }
}

// q4_K and q5_K: four chunks of 64 elements, each two sub-blocks of 32 with a
// 6-bit scale and min; the low nibbles of qs[32c..32c+32) are the first
// sub-block, the high nibbles the second. q5_K adds each element's 5th bit:
// bit (e/32) of qh[e % 32].
template <bool five_bit> void dequant_k4(const uint8_t *b, float *y) {
  const float d = load_half(b), dmin = load_half(b + 2);
  const uint8_t *scales = b + 4, *qh = b + 16, *qs = five_bit ? b + 48 : b + 16;
  for (int c = 0; c < 4; ++c) {
    int sc0, m0, sc1, m1;
    k4_scale_min(scales, 2 * c, sc0, m0);
    k4_scale_min(scales, 2 * c + 1, sc1, m1);
    const float d0 = d * float(sc0), o0 = dmin * float(m0);
    const float d1 = d * float(sc1), o1 = dmin * float(m1);
    for (int l = 0; l < 32; ++l) {
      int q0 = qs[32 * c + l] & 15, q1 = qs[32 * c + l] >> 4;
      if constexpr (five_bit) {
        q0 |= ((qh[l] >> (2 * c)) & 1) << 4;
        q1 |= ((qh[l] >> (2 * c + 1)) & 1) << 4;
      }
      y[64 * c + l] = d0 * float(q0) - o0;
      y[64 * c + 32 + l] = d1 * float(q1) - o1;
    }
  }
}

void dequant_q6_k(const uint8_t *b, float *y) {
  const uint8_t *ql = b, *qh = b + 128;
  const auto *scales = reinterpret_cast<const int8_t *>(b + 192);
  const float d = load_half(b + 208);
  for (int h = 0; h < 2; ++h) {
    for (int t = 0; t < 4; ++t) {
      for (int l = 0; l < 32; ++l) {
        uint8_t low_byte = ql[64 * h + l + 32 * (t & 1)];
        int lo = t < 2 ? (low_byte & 15) : (low_byte >> 4);
        int hi = (qh[32 * h + l] >> (2 * t)) & 3;
        int q = (lo | hi << 4) - 32;
        y[128 * h + 32 * t + l] = d * float(scales[8 * h + 2 * t + l / 16]) * float(q);
      }
    }
  }
}

void dequant_q8_k(const uint8_t *b, float *y) {
  const float d = load<float>(b);
  const auto *qs = reinterpret_cast<const int8_t *>(b + 4);
  for (int j = 0; j < 256; ++j)
    y[j] = d * float(qs[j]);
}

using block_fn = void (*)(const uint8_t *, float *);

block_fn block_dequantizer(ggml_type type) {
  switch (type) {
  case ggml_type::q4_0:
    return dequant_q4_0;
  case ggml_type::q4_1:
    return dequant_q4_1;
  case ggml_type::q5_0:
    return dequant_q5_0;
  case ggml_type::q5_1:
    return dequant_q5_1;
  case ggml_type::q8_0:
    return dequant_q8_0;
  case ggml_type::q8_1:
    return dequant_q8_1;
  case ggml_type::q2_k:
    return dequant_q2_k;
  case ggml_type::q3_k:
    return dequant_q3_k;
  case ggml_type::q4_k:
    return dequant_k4<false>;
  case ggml_type::q5_k:
    return dequant_k4<true>;
  case ggml_type::q6_k:
    return dequant_q6_k;
  case ggml_type::q8_k:
    return dequant_q8_k;
  default:
    return nullptr;
  }
}

template <typename T> void convert_plain(const uint8_t *src, float *dst, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i)
    dst[i] = static_cast<float>(load<T>(src + i * sizeof(T)));
}

} // namespace

const ggml_type_traits *ggml_traits(uint32_t type_id) {
  if (type_id >= max_type_id || !table.known[type_id])
    return nullptr;
  return &table.entries[type_id];
}

const char *ggml_type_name(ggml_type type) {
  const ggml_type_traits *t = ggml_traits(type);
  return t ? t->name : "unknown";
}

uint64_t ggml_row_bytes(ggml_type type, uint64_t n) {
  const ggml_type_traits *t = ggml_traits(type);
  if (!t)
    return 0;
  return n / t->block_size * t->type_size;
}

status dequantize_row(ggml_type type, const void *src, float *dst, uint64_t n) {
  const ggml_type_traits *t = ggml_traits(type);
  if (!t)
    return status::error("dequantize_row: unknown ggml type id " +
                         std::to_string(static_cast<uint32_t>(type)));
  if (n % t->block_size != 0)
    return status::error(std::string("dequantize_row: ") + std::to_string(n) + " elements of " +
                         t->name + " is not a multiple of its block size " +
                         std::to_string(t->block_size));
  const auto *s = static_cast<const uint8_t *>(src);
  switch (type) {
  case ggml_type::f32:
    if (n)
      std::memcpy(dst, s, n * sizeof(float));
    return status::ok();
  case ggml_type::f16:
    for (uint64_t i = 0; i < n; ++i)
      dst[i] = fp16_to_fp32(load<uint16_t>(s + 2 * i));
    return status::ok();
  case ggml_type::bf16:
    for (uint64_t i = 0; i < n; ++i)
      dst[i] = bf16_to_fp32(load<uint16_t>(s + 2 * i));
    return status::ok();
  case ggml_type::f64:
    convert_plain<double>(s, dst, n);
    return status::ok();
  case ggml_type::i8:
    convert_plain<int8_t>(s, dst, n);
    return status::ok();
  case ggml_type::i16:
    convert_plain<int16_t>(s, dst, n);
    return status::ok();
  case ggml_type::i32:
    convert_plain<int32_t>(s, dst, n);
    return status::ok();
  case ggml_type::i64:
    convert_plain<int64_t>(s, dst, n);
    return status::ok();
  default:
    break;
  }
  block_fn fn = block_dequantizer(type);
  if (!fn)
    return status::error(std::string("dequantize_row: type ") + t->name +
                         " is not supported by SMEPilot (no dequantizer)");
  const uint64_t n_blocks = n / t->block_size;
  for (uint64_t i = 0; i < n_blocks; ++i)
    fn(s + i * t->type_size, dst + i * t->block_size);
  return status::ok();
}

// --- fp16 / bf16 -------------------------------------------------------------

float fp16_to_fp32(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 31;
  const uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    // Zero or subnormal: mant * 2^-24, exact in f32.
    float f = float(mant) * 0x1p-24f;
    return sign ? -f : f;
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | mant << 13; // inf, or NaN with its payload
  } else {
    bits = sign | (exp + 112) << 23 | mant << 13; // rebias 15 -> 127
  }
  return std::bit_cast<float>(bits);
}

uint16_t fp32_to_fp16(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  const uint16_t sign = uint16_t((x >> 16) & 0x8000);
  const uint32_t a = x & 0x7fffffffu;
  if (a > 0x7f800000u) // NaN: keep the top payload bits, force quiet
    return sign | 0x7e00 | uint16_t((a >> 13) & 0x1ff);
  if (a >= 0x47800000u) // >= 65536 (incl. inf): overflows to inf
    return sign | 0x7c00;
  if (a >= 0x38800000u) { // normal in fp16 (>= 2^-14)
    uint32_t h = ((a >> 23) - 112) << 10 | (a & 0x7fffff) >> 13;
    uint32_t rem = a & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1)))
      ++h; // may carry into the exponent, up to inf (0x7c00): correct
    return sign | uint16_t(h);
  }
  if (a <= 0x33000000u) // <= 2^-25: rounds to zero (2^-25 is a tie, to even 0)
    return sign;
  // Subnormal: the value is m * 2^(e-150); in units of 2^-24 that is
  // m >> (126 - e), rounded to nearest even.
  const uint32_t e = a >> 23;
  const uint32_t m = (a & 0x7fffff) | 0x800000;
  const uint32_t shift = 126 - e; // 14..24
  uint32_t h = m >> shift;
  const uint32_t rem = m & ((1u << shift) - 1);
  const uint32_t half = 1u << (shift - 1);
  if (rem > half || (rem == half && (h & 1)))
    ++h; // may become 0x400, the smallest normal: correct
  return sign | uint16_t(h);
}

float bf16_to_fp32(uint16_t h) { return std::bit_cast<float>(uint32_t(h) << 16); }

uint16_t fp32_to_bf16(float f) {
  uint32_t x = std::bit_cast<uint32_t>(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) // NaN: keep sign and top payload, force quiet
    return uint16_t((x >> 16) | 0x0040);
  x += 0x7fff + ((x >> 16) & 1);
  return uint16_t(x >> 16);
}

} // namespace smepilot::rt
