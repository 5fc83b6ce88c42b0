// RUN: smepilot-opt %s -split-input-file --smepilot-roofline-annotate=profile=apple-m4 | FileCheck %s --check-prefix=M4
// RUN: smepilot-opt %s -split-input-file --smepilot-roofline-annotate=profile=host-x86 | FileCheck %s --check-prefix=HOST
// RUN: smepilot-opt %s -split-input-file --smepilot-roofline-annotate="profile=apple-m4 force-mode=sme" | FileCheck %s --check-prefix=FORCE
// RUN: smepilot-opt %s -split-input-file --smepilot-roofline-annotate="profile=apple-m4 force-kind=matmul:cpu" | FileCheck %s --check-prefix=KIND
// RUN: smepilot-opt %s -split-input-file --smepilot-roofline-annotate="profile=apple-m4 explain" -o /dev/null 2>&1 | FileCheck %s --check-prefix=EXPLAIN
// RUN: smepilot-opt %s -split-input-file --smepilot-roofline-annotate="profile=apple-m4 annotate-layouts" | FileCheck %s --check-prefix=SMELAYOUT
// RUN: smepilot-opt %s -split-input-file --smepilot-roofline-annotate="profile=host-x86 annotate-layouts" | FileCheck %s --check-prefix=CPULAYOUT

/// The profile is attached to the module.
// M4: module attributes {smepilot.target = #smepilot.target<name = "apple-m4"
// HOST: module attributes {smepilot.target = #smepilot.target<name = "host-x86"

/// A prefill-sized bf16 projection: compute-bound, the matrix unit is about
/// twice as fast as the vector cores, and splitting beats both.
// M4-LABEL: func.func @prefill_projection
// M4: linalg.matmul
// M4-SAME: #smepilot.decision<kind = "matmul", shape_class = "gemm", elem = bf16, mode = collab, flops = 805306368, weight_bytes = 6291456, act_bytes = 3407872
// M4-SAME: bound = "compute", vectorization = "reduction", reason = "roofline", assumed = "">
// HOST-LABEL: func.func @prefill_projection
// HOST: linalg.matmul
// HOST-SAME: mode = cpu, {{.*}} sme_us = -1.0, collab_us = -1.0, sme_fraction = 0.0, bound = "compute"
// FORCE-LABEL: func.func @prefill_projection
// FORCE: mode = sme, {{.*}} sme_fraction = 1.0, {{.*}} reason = "forced"
// KIND-LABEL: func.func @prefill_projection
// KIND: mode = cpu, {{.*}} reason = "forced"
/// explain: one remark per op with the numbers behind the choice.
// EXPLAIN: remark: roofline[apple-m4]: matmul (gemm, 'bf16') -> collab; flops=805306368 weight_bytes=6291456 act_bytes=3407872 intensity=83.03 flop/B; cpu 714.94 us (compute 714.94, memory 96.99); sme 403.30 us (compute 403.30, memory 121.24, tile use 100.00%); collab 259.85 us (sme share 0.64); compute-bound
/// Layouts for SME: both operands in SVL/32-row panels (vscale x 4) with K
/// pairs packed for the 2-way bf16 outer product; the output unpacked.
// SMELAYOUT-LABEL: func.func @prefill_projection
// SMELAYOUT: smepilot.operand_layouts = [#smepilot.layout<inner_dims_pos = [0, 1], inner_tiles = {{\[}}[4], 2], outer_dims_perm = [0, 1]>, #smepilot.layout<inner_dims_pos = [0, 1], inner_tiles = {{\[}}[4], 2], outer_dims_perm = [0, 1]>, #smepilot.layout<>]
/// Layouts for the vector cores: W [N, K] in 16-wide N panels (one AVX-512
/// register of f32), A as it is.
// CPULAYOUT-LABEL: func.func @prefill_projection
// CPULAYOUT: smepilot.operand_layouts = [#smepilot.layout<>, #smepilot.layout<inner_dims_pos = [0], inner_tiles = [16], outer_dims_perm = [0, 1]>, #smepilot.layout<>]
#mA = affine_map<(m, n, k) -> (m, k)>
#mBt = affine_map<(m, n, k) -> (n, k)>
#mC = affine_map<(m, n, k) -> (m, n)>
func.func @prefill_projection(%x: tensor<128x1024xbf16>,
                              %w: tensor<3072x1024xbf16> {smepilot.weight},
                              %acc: tensor<128x3072xf32>) -> tensor<128x3072xf32> {
  %0 = linalg.matmul indexing_maps = [#mA, #mBt, #mC]
         ins(%x, %w : tensor<128x1024xbf16>, tensor<3072x1024xbf16>)
         outs(%acc : tensor<128x3072xf32>) -> tensor<128x3072xf32>
  return %0 : tensor<128x3072xf32>
}

// -----

/// A small f32 GEMM: the split's sync overhead outweighs the gain, so the
/// faster single unit (the matrix unit) takes it whole.
/// W [K, N] (not transposed): the N panel is dimension 1, outer order [1, 0].
// CPULAYOUT-LABEL: func.func @small_gemm
// CPULAYOUT: smepilot.operand_layouts = [#smepilot.layout<>, #smepilot.layout<inner_dims_pos = [1], inner_tiles = [16], outer_dims_perm = [1, 0]>, #smepilot.layout<>]
// M4-LABEL: func.func @small_gemm
// M4: linalg.matmul
// M4-SAME: mode = sme, {{.*}} sme_fraction = 1.0
// HOST-LABEL: func.func @small_gemm
// HOST: linalg.matmul
// HOST-SAME: mode = cpu
func.func @small_gemm(%a: tensor<64x64xf32>, %b: tensor<64x64xf32>,
                      %c: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<64x64xf32>, tensor<64x64xf32>)
                     outs(%c : tensor<64x64xf32>) -> tensor<64x64xf32>
  return %0 : tensor<64x64xf32>
}

// -----

/// Decode GEMV: memory-bound everywhere; the matrix unit alone draws less
/// bandwidth than the cores, together they reach the shared 120 GB/s.
// M4-LABEL: func.func @decode_gemv
// M4: linalg.matvec
// M4-SAME: shape_class = "gemv", elem = f16
// M4-SAME: mode = collab
// M4-SAME: bound = "memory"
// FORCE-LABEL: func.func @decode_gemv
// FORCE: linalg.matvec
// FORCE-SAME: mode = sme
func.func @decode_gemv(%w: tensor<8192x2048xf16> {smepilot.weight}, %x: tensor<2048xf16>,
                       %y: tensor<8192xf16>) -> tensor<8192xf16> {
  %0 = linalg.matvec ins(%w, %x : tensor<8192x2048xf16>, tensor<2048xf16>)
                     outs(%y : tensor<8192xf16>) -> tensor<8192xf16>
  return %0 : tensor<8192xf16>
}

// -----

/// A tiny GEMV: the sync overhead dwarfs the work, the vector cores win.
// M4-LABEL: func.func @tiny_gemv
// M4: linalg.matvec
// M4-SAME: mode = cpu
func.func @tiny_gemv(%w: tensor<64x64xf32> {smepilot.weight}, %x: tensor<64xf32>,
                     %y: tensor<64xf32>) -> tensor<64xf32> {
  %0 = linalg.matvec ins(%w, %x : tensor<64x64xf32>, tensor<64xf32>)
                     outs(%y : tensor<64xf32>) -> tensor<64xf32>
  return %0 : tensor<64xf32>
}

// -----

/// Softmax is not a contraction: vector cores, even when sme is forced.
/// Non-contractions need no packed layout.
// SMELAYOUT-LABEL: func.func @softmax
// SMELAYOUT: smepilot.operand_layouts = [#smepilot.layout<>, #smepilot.layout<>]
// M4-LABEL: func.func @softmax
// M4: linalg.softmax
// M4-SAME: #smepilot.decision<kind = "softmax", shape_class = "softmax", elem = f32, mode = cpu, flops = 69632, weight_bytes = 0, act_bytes = 32768
// M4-SAME: sme_us = -1.0, collab_us = -1.0
// FORCE-LABEL: func.func @softmax
// FORCE: linalg.softmax
// FORCE-SAME: mode = cpu, {{.*}} reason = "roofline"
func.func @softmax(%x: tensor<32x128xf32>, %o: tensor<32x128xf32>) -> tensor<32x128xf32> {
  %0 = linalg.softmax dimension(1) ins(%x : tensor<32x128xf32>)
                                   outs(%o : tensor<32x128xf32>) -> tensor<32x128xf32>
  return %0 : tensor<32x128xf32>
}

// -----

/// RMSNorm's sum of squares: a reduction, vector cores.
// M4-LABEL: func.func @rmsnorm_sum
// M4: linalg.generic
// M4-SAME: shape_class = "reduction", elem = f32, mode = cpu, flops = 32768, weight_bytes = 0, act_bytes = 65792
#row_d = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>
func.func @rmsnorm_sum(%x: tensor<32x512xf32>, %acc: tensor<32xf32>) -> tensor<32xf32> {
  %0 = linalg.generic {indexing_maps = [#row_d, #row], iterator_types = ["parallel", "reduction"]}
      ins(%x : tensor<32x512xf32>) outs(%acc : tensor<32xf32>) {
  ^bb0(%a: f32, %s: f32):
    %sq = arith.mulf %a, %a : f32
    %r = arith.addf %sq, %s : f32
    linalg.yield %r : f32
  } -> tensor<32xf32>
  return %0 : tensor<32xf32>
}

// -----

/// Dynamic sizes take the assumed size, and the decision records it.
// M4-LABEL: func.func @dynamic_rows
// M4: linalg.matmul
// M4-SAME: flops = 2097152,
// M4-SAME: assumed = "d0=128"
func.func @dynamic_rows(%a: tensor<?x64xf32>, %b: tensor<64x128xf32> {smepilot.weight},
                        %c: tensor<?x128xf32>) -> tensor<?x128xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<?x64xf32>, tensor<64x128xf32>)
                     outs(%c : tensor<?x128xf32>) -> tensor<?x128xf32>
  return %0 : tensor<?x128xf32>
}

// -----

/// Non-operators are left alone.
// M4-LABEL: func.func @no_operators
// M4-NOT: smepilot.decision
// M4: return
func.func @no_operators(%a: tensor<4x4xf32>) -> tensor<16xf32> {
  %0 = tensor.collapse_shape %a [[0, 1]] : tensor<4x4xf32> into tensor<16xf32>
  return %0 : tensor<16xf32>
}

// -----

/// FLOP and byte counts saturate instead of wrapping around 2^64: a matmul of
/// 2^22 x 2^22 x 2^22 does 2^67 FLOPs, recorded as the ceiling INT64_MAX
/// (it used to be "flops = 0"), and its predicted time is huge, not 0.
// M4-LABEL: func.func @huge_matmul
// M4: linalg.matmul
// M4-SAME: mode = [[MODE:cpu|sme|collab]], flops = 9223372036854775807, weight_bytes = 70368744177664, act_bytes = 211106232532992
// M4-SAME: cpu_us = {{[0-9.]+}}e+13, sme_us = {{[0-9.]+}}e+{{1[0-9]}}, collab_us = {{[0-9.]+}}e+{{1[0-9]}}
// M4-SAME: bound = "compute"
func.func @huge_matmul(%a: tensor<4194304x4194304xf32>,
                       %w: tensor<4194304x4194304xf32> {smepilot.weight},
                       %c: tensor<4194304x4194304xf32>) -> tensor<4194304x4194304xf32> {
  %0 = linalg.matmul ins(%a, %w : tensor<4194304x4194304xf32>, tensor<4194304x4194304xf32>)
                     outs(%c : tensor<4194304x4194304xf32>) -> tensor<4194304x4194304xf32>
  return %0 : tensor<4194304x4194304xf32>
}

// -----

/// A static size of INT64_MAX: the element and byte counts saturate too.
// M4-LABEL: func.func @int64_max_rows
// M4: linalg.matmul
// M4-SAME: flops = 9223372036854775807, weight_bytes = 32, act_bytes = 9223372036854775807
// M4-NOT: nan
func.func @int64_max_rows(%a: tensor<9223372036854775807x2xf32>, %w: tensor<2x4xf32> {smepilot.weight},
                          %c: tensor<9223372036854775807x4xf32>) -> tensor<9223372036854775807x4xf32> {
  %0 = linalg.matmul ins(%a, %w : tensor<9223372036854775807x2xf32>, tensor<2x4xf32>)
                     outs(%c : tensor<9223372036854775807x4xf32>) -> tensor<9223372036854775807x4xf32>
  return %0 : tensor<9223372036854775807x4xf32>
}

// -----

/// 0-sized m, n or k: no FLOPs, only the traffic of the non-empty operands,
/// and finite times (the matrix unit's tile use is 0; its time used to be
/// 0 * inf = NaN).
// M4-LABEL: func.func @empty_matmuls
// M4: linalg.matmul
// M4-SAME: flops = 0, weight_bytes = 8192, act_bytes = 0, {{.*}} sme_us = {{[0-9.e+-]+}}, collab_us = {{[0-9.e+-]+}},
// M4: linalg.matmul
// M4-SAME: flops = 0, weight_bytes = 0, act_bytes = 4096,
// M4: linalg.matmul
// M4-SAME: flops = 0, weight_bytes = 0, act_bytes = 4096,
// M4-NOT: nan
func.func @empty_matmuls(%a0: tensor<0x64xf32>, %w: tensor<64x32xf32> {smepilot.weight}, %c0: tensor<0x32xf32>,
                         %a: tensor<16x64xf32>, %b0: tensor<64x0xf32>, %c1: tensor<16x0xf32>,
                         %ak: tensor<16x0xf32>, %bk: tensor<0x32xf32>, %c: tensor<16x32xf32>)
    -> (tensor<0x32xf32>, tensor<16x0xf32>, tensor<16x32xf32>) {
  %0 = linalg.matmul ins(%a0, %w : tensor<0x64xf32>, tensor<64x32xf32>)
                     outs(%c0 : tensor<0x32xf32>) -> tensor<0x32xf32>
  %1 = linalg.matmul ins(%a, %b0 : tensor<16x64xf32>, tensor<64x0xf32>)
                     outs(%c1 : tensor<16x0xf32>) -> tensor<16x0xf32>
  %2 = linalg.matmul ins(%ak, %bk : tensor<16x0xf32>, tensor<0x32xf32>)
                     outs(%c : tensor<16x32xf32>) -> tensor<16x32xf32>
  return %0, %1, %2 : tensor<0x32xf32>, tensor<16x0xf32>, tensor<16x32xf32>
}
