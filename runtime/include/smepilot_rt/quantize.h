// SMEPilot runtime: converting F32 rows to GGML storage types (the inverse of
// dequantize_row) for the types this project writes: f32, f16, bf16, q8_0 and
// q4_0. Used by the synthetic-model writer and by tests.
//
//   q8_0 (blocks of 32 in 34 bytes): d = max|x| / 127, stored as F16;
//        q = round(x / d) (half away from zero), int8. x' = d * q.
//   q4_0 (blocks of 32 in 18 bytes): m = the element of largest magnitude,
//        with its sign; d = m / -8, stored as F16; q = min(15, trunc(x / d +
//        8.5)), so m maps to q = 0 exactly and -m is clamped to 7 * d.
//        Element k < 16 goes to the low nibble of byte k, element k + 16 to
//        its high nibble. x' = d * (q - 8).
// An all-zero block gets d = 0 and dequantizes to zeros.
#pragma once

#include "smepilot_rt/ggml_types.h"
#include "smepilot_rt/status.h"

#include <cstdint>

namespace smepilot::rt {

/// Converts `n` floats (a multiple of the type's block size) to `type` at
/// `dst` (ggml_row_bytes(type, n) bytes). Fails for other types or a partial
/// block.
status quantize_row(ggml_type type, const float *src, void *dst, uint64_t n);

} // namespace smepilot::rt
