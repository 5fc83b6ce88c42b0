// SMEPilot runtime: GGML tensor element types and their block layouts.
//
// Quantized types store blocks of `block_size` elements in `type_size` bytes
// along ne[0] (the innermost dimension), exactly as GGML lays them out.
#pragma once

#include "smepilot_rt/status.h"

#include <cstddef>
#include <cstdint>

namespace smepilot::rt {

/// GGML type ids as stored in GGUF tensor infos.
enum class ggml_type : uint32_t {
  f32 = 0,
  f16 = 1,
  q4_0 = 2,
  q4_1 = 3,
  q5_0 = 6,
  q5_1 = 7,
  q8_0 = 8,
  q8_1 = 9,
  q2_k = 10,
  q3_k = 11,
  q4_k = 12,
  q5_k = 13,
  q6_k = 14,
  q8_k = 15,
  // Known to the GGUF reader (block layout only), not dequantizable here.
  iq2_xxs = 16,
  iq2_xs = 17,
  iq3_xxs = 18,
  iq1_s = 19,
  iq4_nl = 20,
  iq3_s = 21,
  iq2_s = 22,
  iq4_xs = 23,
  i8 = 24,
  i16 = 25,
  i32 = 26,
  i64 = 27,
  f64 = 28,
  iq1_m = 29,
  bf16 = 30,
  tq1_0 = 34,
  tq2_0 = 35,
  mxfp4 = 39,
};

struct ggml_type_traits {
  const char *name;    ///< "f32", "q4_K", ... as llama.cpp prints them.
  uint32_t block_size; ///< Elements per block (1 for plain types).
  uint32_t type_size;  ///< Bytes per block.
  bool dequantizable;  ///< Whether dequantize_row() supports it.
};

/// Traits of a known type, or nullptr for an id this runtime does not know.
/// Types GGML defines but dequantize_row() does not (the IQ, TQ and MXFP4
/// families) are known with dequantizable = false, so that a file holding
/// them opens and can be listed; binding such a tensor to a model fails.
const ggml_type_traits *ggml_traits(uint32_t type_id);
inline const ggml_type_traits *ggml_traits(ggml_type type) {
  return ggml_traits(static_cast<uint32_t>(type));
}

/// The llama.cpp name of `type` ("q4_K"), or "unknown".
const char *ggml_type_name(ggml_type type);

/// Bytes for `n` elements of `type` (n must be a multiple of block_size; 0
/// for an unknown type).
uint64_t ggml_row_bytes(ggml_type type, uint64_t n);

/// Converts `n` elements (a multiple of the block size) at `src` to f32.
/// Every type whose traits say `dequantizable` is supported (integer types
/// convert by value). `src` needs no alignment. Fails for an unknown or
/// undequantizable type (the IQ, TQ and MXFP4 families) or a partial block.
status dequantize_row(ggml_type type, const void *src, float *dst, uint64_t n);

float fp16_to_fp32(uint16_t h);
uint16_t fp32_to_fp16(float f); ///< Round to nearest even.
float bf16_to_fp32(uint16_t h);
uint16_t fp32_to_bf16(float f); ///< Round to nearest even; NaN stays NaN.

} // namespace smepilot::rt
