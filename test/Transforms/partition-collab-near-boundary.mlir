// smepilot-partition-collab with adaptive-margin: a contraction decided cpu
// or sme whose other unit the model predicts within the margin of its own
// time gets both variants, with the share its decision implies, so that the
// runtime can move its tiles when measured times disagree (adaptive.h).

// RUN: smepilot-opt %s --smepilot-partition-collab='adaptive-margin=1.5 svl-bits=512' \
// RUN:   | smepilot-opt | FileCheck %s
// Without the margin (the default) nothing but collab decisions is split.
// RUN: smepilot-opt %s --smepilot-partition-collab='svl-bits=512' \
// RUN:   | FileCheck %s --check-prefix=OFF
// A wider margin also takes the op the model decided by 4x.
// RUN: smepilot-opt %s --smepilot-partition-collab='adaptive-margin=4 svl-bits=512' \
// RUN:   | FileCheck %s --check-prefix=WIDE

#mk = affine_map<(m, n, k) -> (m, k)>
#nk = affine_map<(m, n, k) -> (n, k)>
#mn = affine_map<(m, n, k) -> (m, n)>
// sme by 1.2x: all 8 tiles (of 8 features) stay on the matrix unit.
#sme_near = #smepilot.decision<kind = "matmul", shape_class = "gemm", elem = f32, mode = sme, flops = 1, weight_bytes = 1, act_bytes = 1, intensity = 1.0, cpu_us = 12.0, sme_us = 10.0, collab_us = 6.0, sme_fraction = 1.0, bound = "compute", vectorization = "full", reason = "roofline", assumed = "">
// cpu by 1.4x: no tile on the matrix unit.
#cpu_near = #smepilot.decision<kind = "matmul", shape_class = "gemm", elem = f32, mode = cpu, flops = 1, weight_bytes = 1, act_bytes = 1, intensity = 1.0, cpu_us = 10.0, sme_us = 14.0, collab_us = 6.0, sme_fraction = 0.0, bound = "memory", vectorization = "full", reason = "roofline", assumed = "">
// sme by 4x: far from the boundary.
#sme_far = #smepilot.decision<kind = "matmul", shape_class = "gemm", elem = f32, mode = sme, flops = 1, weight_bytes = 1, act_bytes = 1, intensity = 1.0, cpu_us = 40.0, sme_us = 10.0, collab_us = 9.0, sme_fraction = 1.0, bound = "compute", vectorization = "full", reason = "roofline", assumed = "">
// The matrix unit cannot run it (sme_us < 0).
#cpu_only = #smepilot.decision<kind = "matmul", shape_class = "gemm", elem = f32, mode = cpu, flops = 1, weight_bytes = 1, act_bytes = 1, intensity = 1.0, cpu_us = 10.0, sme_us = -1.0, collab_us = -1.0, sme_fraction = 0.0, bound = "compute", vectorization = "full", reason = "roofline", assumed = "">

// CHECK-LABEL: func.func private @sme_near_collab0(
// CHECK-SAME:      smepilot.collab = {sme_share = 65536 : i64, tile_granule = 4 : i64, tile_size = 8 : i64, tiles = 8 : i64}
// CHECK:         linalg.matmul {{.*}}smepilot.decision = #smepilot.decision<{{.*}}mode = sme, {{.*}}cpu_us = 12.0, sme_us = 10.0, {{.*}}sme_fraction = 1.0{{.*}}reason = "near-boundary"
// CHECK-LABEL: func.func @sme_near(
// CHECK:         call @sme_near_collab0(
// CHECK:         scf.forall
// CHECK:           linalg.matmul {{.*}}smepilot.collab_part = "cpu", smepilot.decision = #smepilot.decision<{{.*}}mode = cpu{{.*}}reason = "near-boundary"
// CHECK:         } {smepilot.collab = {sme_share = 65536 : i64, tile_granule = 4 : i64, tile_size = 8 : i64, tiles = 8 : i64}}
// OFF-LABEL: func.func @sme_near(
// OFF-NOT:     call
// OFF:         linalg.matmul {{.*}}mode = sme
func.func @sme_near(%x: tensor<4x32xf32>, %w: tensor<64x32xf32> {smepilot.weight}, %c: tensor<4x64xf32>) -> tensor<4x64xf32> {
  %r = linalg.matmul indexing_maps = [#mk, #nk, #mn] {smepilot.decision = #sme_near}
         ins(%x, %w : tensor<4x32xf32>, tensor<64x32xf32>) outs(%c : tensor<4x64xf32>) -> tensor<4x64xf32>
  return %r : tensor<4x64xf32>
}

// CHECK-LABEL: func.func private @cpu_near_collab0(
// CHECK-SAME:      smepilot.collab = {sme_share = 0 : i64, tile_granule = 4 : i64, tile_size = 8 : i64, tiles = 8 : i64}
// CHECK-LABEL: func.func @cpu_near(
// CHECK:         call @cpu_near_collab0(
// CHECK:         scf.forall
// CHECK:         } {smepilot.collab = {sme_share = 0 : i64,
func.func @cpu_near(%x: tensor<4x32xf32>, %w: tensor<64x32xf32> {smepilot.weight}, %c: tensor<4x64xf32>) -> tensor<4x64xf32> {
  %r = linalg.matmul indexing_maps = [#mk, #nk, #mn] {smepilot.decision = #cpu_near}
         ins(%x, %w : tensor<4x32xf32>, tensor<64x32xf32>) outs(%c : tensor<4x64xf32>) -> tensor<4x64xf32>
  return %r : tensor<4x64xf32>
}

// CHECK-LABEL: func.func @sme_far(
// CHECK-NOT:     call
// CHECK-NOT:     scf.forall
// CHECK:         linalg.matmul {{.*}}mode = sme{{.*}}reason = "roofline"
// WIDE-LABEL: func.func private @sme_far_collab0(
// WIDE-SAME:      sme_share = 65536
func.func @sme_far(%x: tensor<4x32xf32>, %w: tensor<64x32xf32> {smepilot.weight}, %c: tensor<4x64xf32>) -> tensor<4x64xf32> {
  %r = linalg.matmul indexing_maps = [#mk, #nk, #mn] {smepilot.decision = #sme_far}
         ins(%x, %w : tensor<4x32xf32>, tensor<64x32xf32>) outs(%c : tensor<4x64xf32>) -> tensor<4x64xf32>
  return %r : tensor<4x64xf32>
}

// CHECK-LABEL: func.func @cpu_only(
// CHECK-NOT:     call
// CHECK-NOT:     scf.forall
// WIDE-LABEL: func.func @cpu_only(
// WIDE-NOT:     call
func.func @cpu_only(%x: tensor<4x32xf32>, %w: tensor<64x32xf32> {smepilot.weight}, %c: tensor<4x64xf32>) -> tensor<4x64xf32> {
  %r = linalg.matmul indexing_maps = [#mk, #nk, #mn] {smepilot.decision = #cpu_only}
         ins(%x, %w : tensor<4x32xf32>, tensor<64x32xf32>) outs(%c : tensor<4x64xf32>) -> tensor<4x64xf32>
  return %r : tensor<4x64xf32>
}

// Near the boundary but too small to split (2 tiles, a granule is 4): it
// keeps its decision, no error (only a collab decision must be honoured).
// CHECK-LABEL: func.func @small_near(
// CHECK-NOT:     call
// CHECK:         linalg.matmul {{.*}}mode = sme{{.*}}reason = "roofline"
func.func @small_near(%x: tensor<4x32xf32>, %w: tensor<16x32xf32> {smepilot.weight}, %c: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %r = linalg.matmul indexing_maps = [#mk, #nk, #mn] {smepilot.decision = #sme_near}
         ins(%x, %w : tensor<4x32xf32>, tensor<16x32xf32>) outs(%c : tensor<4x16xf32>) -> tensor<4x16xf32>
  return %r : tensor<4x16xf32>
}
