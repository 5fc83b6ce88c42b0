// A split that cannot be made is a diagnostic naming the op, never a crash.

// RUN: smepilot-opt %s -split-input-file -verify-diagnostics \
// RUN:   --smepilot-partition-collab='svl-bits=512'
// RUN: not smepilot-opt %s -split-input-file --smepilot-partition-collab='force-share=70000' 2>&1 \
// RUN:   | FileCheck %s --check-prefix=SHARE
// RUN: not smepilot-opt %s -split-input-file --smepilot-partition-collab='svl-bits=100' 2>&1 \
// RUN:   | FileCheck %s --check-prefix=SVL
// RUN: not smepilot-opt %s -split-input-file --smepilot-partition-collab='max-tiles=0' 2>&1 \
// RUN:   | FileCheck %s --check-prefix=TILES
// RUN: not smepilot-opt %s -split-input-file --smepilot-partition-collab='adaptive-margin=0.5' 2>&1 \
// RUN:   | FileCheck %s --check-prefix=MARGIN
// Without svl-bits and without a profile with a matrix unit there is no
// granule to compute: an error at the op.
// RUN: not smepilot-opt %s -split-input-file --smepilot-partition-collab 2>&1 \
// RUN:   | FileCheck %s --check-prefix=NOSVL

// SHARE: error: smepilot-partition-collab: force-share 70000 is out of range (0..65536 parts per 65536, or -1)
// SVL: error: smepilot-partition-collab: svl-bits 100 is not a positive multiple of 128
// TILES: error: smepilot-partition-collab: max-tiles must be >= 1
// MARGIN: error: smepilot-partition-collab: adaptive-margin 5.000000e-01 is not a factor >= 1 (or 0: none)
// NOSVL: error: 'linalg.matmul' op smepilot-partition-collab: cannot split this collab op between the units: no streaming vector length to compute the tile granule for (the module's profile has no matrix unit; set svl-bits)

#mk = affine_map<(m, n, k) -> (m, k)>
#nk = affine_map<(m, n, k) -> (n, k)>
#mn = affine_map<(m, n, k) -> (m, n)>
#collab = #smepilot.decision<kind = "matmul", shape_class = "gemm", elem = f32, mode = collab, flops = 1, weight_bytes = 1, act_bytes = 1, intensity = 1.0, cpu_us = 2.0, sme_us = 2.0, collab_us = 1.0, sme_fraction = 0.5, bound = "compute", vectorization = "full", reason = "roofline", assumed = "">

// Fewer tiles (2 of 8 features) than one SME granule (4 tiles at 512 bits).
func.func @too_small(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>, %c: tensor<4x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{smepilot-partition-collab: cannot split this collab op between the units: its 2 tiles of 8 output features are fewer than one SME granule (4 tiles at 512-bit SVL)}}
  %r = linalg.matmul indexing_maps = [#mk, #nk, #mn] {smepilot.decision = #collab}
         ins(%x, %w : tensor<4x8xf32>, tensor<16x8xf32>) outs(%c : tensor<4x16xf32>) -> tensor<4x16xf32>
  return %r : tensor<4x16xf32>
}

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#nk = affine_map<(m, n, k) -> (n, k)>
#mn = affine_map<(m, n, k) -> (m, n)>
#collab = #smepilot.decision<kind = "matmul", shape_class = "gemm", elem = f32, mode = collab, flops = 1, weight_bytes = 1, act_bytes = 1, intensity = 1.0, cpu_us = 2.0, sme_us = 2.0, collab_us = 1.0, sme_fraction = 0.5, bound = "compute", vectorization = "full", reason = "roofline", assumed = "">

// The output features must be static: the tile count is fixed.
func.func @dynamic_n(%x: tensor<4x8xf32>, %w: tensor<?x8xf32>, %c: tensor<4x?xf32>) -> tensor<4x?xf32> {
  // expected-error @+1 {{cannot split this collab op between the units: its output features (n) are dynamic: the tile count must be fixed}}
  %r = linalg.matmul indexing_maps = [#mk, #nk, #mn] {smepilot.decision = #collab}
         ins(%x, %w : tensor<4x8xf32>, tensor<?x8xf32>) outs(%c : tensor<4x?xf32>) -> tensor<4x?xf32>
  return %r : tensor<4x?xf32>
}

// -----

#mk = affine_map<(m, n, k) -> (m, k)>
#nk = affine_map<(m, n, k) -> (n, k)>
#mn = affine_map<(m, n, k) -> (m, n)>
#collab = #smepilot.decision<kind = "matmul", shape_class = "gemm", elem = i8, mode = collab, flops = 1, weight_bytes = 1, act_bytes = 1, intensity = 1.0, cpu_us = 2.0, sme_us = 2.0, collab_us = 1.0, sme_fraction = 0.5, bound = "compute", vectorization = "full", reason = "roofline", assumed = "">

// Collab variants compute in f32 only.
func.func @int8(%x: tensor<4x8xi8>, %w: tensor<64x8xi8>, %c: tensor<4x64xi32>) -> tensor<4x64xi32> {
  // expected-error @+1 {{cannot split this collab op between the units: it is not a matmul-like contraction on tensors}}
  %r = linalg.matmul indexing_maps = [#mk, #nk, #mn] {smepilot.decision = #collab}
         ins(%x, %w : tensor<4x8xi8>, tensor<64x8xi8>) outs(%c : tensor<4x64xi32>) -> tensor<4x64xi32>
  return %r : tensor<4x64xi32>
}

// -----

#id = affine_map<(i, j) -> (i, j)>
#collab = #smepilot.decision<kind = "generic", shape_class = "elementwise", elem = f32, mode = collab, flops = 1, weight_bytes = 1, act_bytes = 1, intensity = 1.0, cpu_us = 2.0, sme_us = 2.0, collab_us = 1.0, sme_fraction = 0.5, bound = "compute", vectorization = "full", reason = "roofline", assumed = "">

// Collab on an op with no SME variant.
func.func @elementwise(%x: tensor<4x64xf32>, %c: tensor<4x64xf32>) -> tensor<4x64xf32> {
  // expected-error @+1 {{cannot split this collab op between the units: it is not a matmul-like contraction on tensors}}
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
         {smepilot.decision = #collab}
         ins(%x : tensor<4x64xf32>) outs(%c : tensor<4x64xf32>) {
  ^bb0(%a: f32, %b: f32):
    %s = arith.addf %a, %a : f32
    linalg.yield %s : f32
  } -> tensor<4x64xf32>
  return %r : tensor<4x64xf32>
}
