// smepilot-partition-collab with force-share: every contraction the matrix
// unit can run is split, whatever its decision, with the given share.

// RUN: smepilot-opt %s --smepilot-partition-collab='force-share=40000 svl-bits=512' \
// RUN:   | FileCheck %s
// The granule follows the streaming vector length the pass is given: at 128
// bits one SME block is 8 columns, one tile.
// RUN: smepilot-opt %s --smepilot-partition-collab='force-share=40000 svl-bits=128' \
// RUN:   | FileCheck %s --check-prefix=SVL128
// Forced partitioning leaves what it cannot split to the vector cores.
// RUN: smepilot-opt %s --smepilot-partition-collab='force-share=65536 svl-bits=2048' \
// RUN:   | FileCheck %s --check-prefix=WIDE

// An odd N (100 = 12 tiles of 8 and a remainder tile of 4) and a K (63) that
// is no multiple of any widening factor: the collab variants compute in f32
// (widening factor 1), so nothing is padded. At 512 bits one SME block is 32
// columns: a granule of 4 tiles.
// CHECK-LABEL: func.func private @odd_collab0(
// CHECK-SAME:      tensor<63x16xf32>, %{{.*}}: tensor<63x100xf32>, %{{.*}}: tensor<16x100xf32>, %{{.*}}: index, %{{.*}}: index) -> tensor<16x100xf32>
// CHECK-SAME:    smepilot.collab = {sme_share = 40000 : i64, tile_granule = 4 : i64, tile_size = 8 : i64, tiles = 13 : i64}
// The last tile is clamped to N = 100.
// CHECK:         affine.min #[[CLAMP:.*]]()[%arg4]
// CHECK-NOT:     tensor.pad
// CHECK:         linalg.matmul
// CHECK-LABEL: func.func @odd(
// CHECK:         call @odd_collab0(
// CHECK:         scf.forall (%[[T:.*]]) = (0) to (100) step (8)
// The remainder tile: min(8, 100 - t).
// CHECK:           %[[SIZE:.*]] = affine.min #{{.*}}(%[[T]])
// CHECK:           tensor.extract_slice %arg1[%[[T]], 0] [%[[SIZE]], 63] [1, 1]
// CHECK:         } {smepilot.collab = {sme_share = 40000 : i64, tile_granule = 4 : i64, tile_size = 8 : i64, tiles = 13 : i64}}
// A weight in [k, n] layout is K-major already: no transpose of it.
// CHECK-LABEL: func.func private @kn_collab0(
// CHECK-LABEL: func.func @kn(
// CHECK:         %[[AT:.*]] = linalg.transpose ins(%arg0
// CHECK-NOT:     linalg.transpose
// CHECK:         call @kn_collab0(%[[AT]], %arg1,
// Only top-level ops become dispatches: a contraction nested in a loop (as
// the MoE experts' are) is left alone.
// CHECK-LABEL: func.func @nested(
// CHECK-NOT:     call
// CHECK:         scf.for
// CHECK:           linalg.matmul
// CHECK-NOT:     scf.forall
// Attention's batched contractions are not partitioned.
// CHECK-LABEL: func.func @batched(
// CHECK-NOT:     call
// CHECK:         linalg.batch_matmul
// CHECK-NOT:     scf.forall

// SVL128: @odd_collab0({{.*}}smepilot.collab = {sme_share = 40000 : i64, tile_granule = 1 : i64, tile_size = 8 : i64, tiles = 13 : i64}

// At 2048 bits a block is 128 columns, 16 tiles of 8: more than @odd's 13,
// so it stays whole on the vector cores; @kn (N = 256) is split.
// WIDE-LABEL: func.func @odd(
// WIDE-NOT:     call
// WIDE:         linalg.matmul
// WIDE-LABEL: func.func @kn(
// WIDE:         call @kn_collab0(

#mk = affine_map<(m, n, k) -> (m, k)>
#nk = affine_map<(m, n, k) -> (n, k)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>
func.func @odd(%x: tensor<16x63xf32>, %w: tensor<100x63xf32> {smepilot.weight},
               %c: tensor<16x100xf32>) -> tensor<16x100xf32> {
  %r = linalg.matmul indexing_maps = [#mk, #nk, #mn]
         ins(%x, %w : tensor<16x63xf32>, tensor<100x63xf32>)
         outs(%c : tensor<16x100xf32>) -> tensor<16x100xf32>
  return %r : tensor<16x100xf32>
}

func.func @kn(%x: tensor<4x32xf32>, %w: tensor<32x256xf32> {smepilot.weight},
              %c: tensor<4x256xf32>) -> tensor<4x256xf32> {
  %r = linalg.matmul indexing_maps = [#mk, #kn, #mn]
         ins(%x, %w : tensor<4x32xf32>, tensor<32x256xf32>)
         outs(%c : tensor<4x256xf32>) -> tensor<4x256xf32>
  return %r : tensor<4x256xf32>
}

func.func @nested(%x: tensor<4x32xf32>, %w: tensor<256x32xf32> {smepilot.weight},
                  %c: tensor<4x256xf32>, %n: index) -> tensor<4x256xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %c) -> tensor<4x256xf32> {
    %m = linalg.matmul indexing_maps = [#mk, #nk, #mn]
           ins(%x, %w : tensor<4x32xf32>, tensor<256x32xf32>)
           outs(%acc : tensor<4x256xf32>) -> tensor<4x256xf32>
    scf.yield %m : tensor<4x256xf32>
  }
  return %r : tensor<4x256xf32>
}

func.func @batched(%q: tensor<4x8x16xf32>, %k: tensor<4x16x32xf32>,
                   %c: tensor<4x8x32xf32>) -> tensor<4x8x32xf32> {
  %r = linalg.batch_matmul ins(%q, %k : tensor<4x8x16xf32>, tensor<4x16x32xf32>)
         outs(%c : tensor<4x8x32xf32>) -> tensor<4x8x32xf32>
  return %r : tensor<4x8x32xf32>
}
