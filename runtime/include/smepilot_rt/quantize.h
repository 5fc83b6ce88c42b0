// SMEPilot runtime: converting F32 rows to GGML storage types (the inverse of
// dequantize_row) for the types this project writes: f32, f16, bf16, q8_0,
// q5_0, q4_0, q6_K and q4_K. Used by the synthetic-model writer and by tests.
// The quantizers are simple (no error-minimizing search as llama-quantize
// does); they write exactly GGML's block layouts (see ggml_types.cpp).
//
//   q8_0 (blocks of 32 in 34 bytes): d = max|x| / 127, stored as F16;
//        q = round(x / d) (half away from zero), int8. x' = d * q.
//   q4_0 (blocks of 32 in 18 bytes): m = the element of largest magnitude,
//        with its sign; d = m / -8, stored as F16; q = min(15, trunc(x / d +
//        8.5)), so m maps to q = 0 exactly and -m is clamped to 7 * d.
//        Element k < 16 goes to the low nibble of byte k, element k + 16 to
//        its high nibble. x' = d * (q - 8).
//   q5_0 (blocks of 32 in 22 bytes): as q4_0 with 5 bits: d = m / -16,
//        q = min(31, trunc(x / d + 16.5)); the 5th bits go to the u32 qh.
//        x' = d * (q - 16).
//   q4_K (super-blocks of 256 in 144 bytes; 8 sub-blocks of 32): per
//        sub-block, step s = (max - min') / 15 and offset o = -min' with
//        min' = min(min, 0); d = max s / 63 and dmin = max o / 63 (F16);
//        6-bit sc = round(s / d), m = round(o / dmin);
//        q = clamp(round((x + dmin * m) / (d * sc)), 0, 15).
//        x' = d * sc * q - dmin * m.
//   q6_K (super-blocks of 256 in 210 bytes; 16 sub-blocks of 16): per
//        sub-block, signed step s = m / -32 (m its element of largest
//        magnitude); d = max |s| / 127 (F16); int8 sc = round(s / d);
//        q = clamp(round(x / (d * sc)), -32, 31). x' = d * sc * q.
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

/// The activations of a Q8_0 or Q4_0 matrix product as llama.cpp's CPU
/// backend rounds them (its AVX path of quantize_row_q8_0), and as the
/// compiled graph does (ModelBuildOptions::quantizedActivations): per block
/// of 32, amax = max |x|, d = f16(amax / 127) and q = roundeven(x * 127 /
/// amax) (q = 0 for an all-zero block); y = d * q in f32. `n` must be a
/// multiple of 32; y may be x.
void round_activations_q8_0(const float *x, float *y, uint64_t n);

/// The activations of a BF16 matrix product as llama.cpp's CPU backend takes
/// them (its vec_dot_type for BF16 is BF16): each rounded to the nearest
/// bf16 (ties to even, fp32_to_bf16), widened back to f32. The compiled
/// graph rounds alike (ModelBuildOptions::quantizedActivations) and then
/// multiplies bf16 pairs (vdpbf16ps). y may be x.
void round_activations_bf16(const float *x, float *y, uint64_t n);

} // namespace smepilot::rt
