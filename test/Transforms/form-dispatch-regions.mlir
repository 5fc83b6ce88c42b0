// RUN: smepilot-opt %s --smepilot-form-dispatch-regions="max-tiles=8" -split-input-file | FileCheck %s
// RUN: not smepilot-opt %s --smepilot-form-dispatch-regions="max-tiles=0" -split-input-file 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: smepilot-form-dispatch-regions: max-tiles and vector-width must be positive

#proj = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>,
         affine_map<(m, n, k) -> (m, n)>]

/// A projection (C = A W^T, GGUF [out, in] weights) is split along n, the
/// output features: 256 / 8 tiles = 32 rows of W per tile, a multiple of the
/// 8-row block. Each tile reads its own rows of W. The fill of its
/// accumulator is no dispatch of its own: each tile fills its own slice of
/// the empty result right before the matmul writes it.
// CHECK-LABEL: func.func @projection
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<1x64xf32>, %[[W:[a-z0-9]+]]: tensor<256x64xf32>
// CHECK: %[[E:.*]] = tensor.empty() : tensor<1x256xf32>
// CHECK-NOT: linalg.fill
// CHECK: scf.forall (%[[I:.*]]) = (0) to (256) step (32) shared_outs(%[[OUT:.*]] = %[[E]]) -> (tensor<1x256xf32>)
// CHECK:   %[[XS:.*]] = tensor.extract_slice %[[X]][0, 0] [1, 64] [1, 1]
// CHECK:   %[[WS:.*]] = tensor.extract_slice %[[W]][%[[I]], 0] [32, 64] [1, 1]
// CHECK:   %[[OS:.*]] = tensor.extract_slice %[[OUT]][0, %[[I]]] [1, 32] [1, 1]
// CHECK:   %[[Z:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[OS]] : tensor<1x32xf32>) -> tensor<1x32xf32>
// CHECK:   %[[T:.*]] = linalg.matmul indexing_maps = {{.*}} ins(%[[XS]], %[[WS]] : tensor<1x64xf32>, tensor<32x64xf32>) outs(%[[Z]] : tensor<1x32xf32>)
// CHECK:   scf.forall.in_parallel
// CHECK:     tensor.parallel_insert_slice %[[T]] into %[[OUT]][0, %[[I]]] [1, 32] [1, 1]
func.func @projection(%x: tensor<1x64xf32>, %w: tensor<256x64xf32>) -> tensor<1x256xf32>
    attributes {smepilot.phase = "p"} {
  %cst = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x256xf32>
  %z = linalg.fill ins(%cst : f32) outs(%e : tensor<1x256xf32>) -> tensor<1x256xf32>
  %r = linalg.matmul indexing_maps = #proj
         ins(%x, %w : tensor<1x64xf32>, tensor<256x64xf32>)
         outs(%z : tensor<1x256xf32>) -> tensor<1x256xf32>
  return %r : tensor<1x256xf32>
}

// -----

/// P V (head_dim, an n dimension, is the contiguous last dimension of V):
/// not split along head_dim, where each tile would read every row of V in
/// slivers, but along the batch of KV heads: each tile reads its own head's
/// V rows whole.
// CHECK-LABEL: func.func @pv
// CHECK-SAME: %[[P:[a-z0-9]+]]: tensor<8x4x16xf32>, %[[V:[a-z0-9]+]]: tensor<8x16x64xf32>
// CHECK: scf.forall (%[[G:.*]]) in (8) shared_outs(%{{.*}} = %{{.*}}) -> (tensor<8x4x64xf32>)
// CHECK:   tensor.extract_slice %[[V]][%[[G]], 0, 0] [1, 16, 64] [1, 1, 1]
// CHECK:   linalg.generic {{.*}} outs(%{{.*}} : tensor<1x4x64xf32>)
func.func @pv(%p: tensor<8x4x16xf32>, %v: tensor<8x16x64xf32>, %init: tensor<8x4x64xf32>) -> tensor<8x4x64xf32>
    attributes {smepilot.phase = "p"} {
  %r = linalg.generic {indexing_maps = [affine_map<(g, h, d, n) -> (g, h, n)>,
                                        affine_map<(g, h, d, n) -> (g, n, d)>,
                                        affine_map<(g, h, d, n) -> (g, h, d)>],
                       iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %v : tensor<8x4x16xf32>, tensor<8x16x64xf32>) outs(%init : tensor<8x4x64xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<8x4x64xf32>
  return %r : tensor<8x4x64xf32>
}

// -----

/// Elementwise on [4, 64]: the outermost parallel dimension, one row a tile.
/// On [1, 64] (decode) the row dimension is 1: the columns are split, in
/// multiples of the 16 vector lanes.
// CHECK-LABEL: func.func @elementwise
// CHECK: scf.forall (%{{.*}}) in (4)
// CHECK:   linalg.add {{.*}} -> tensor<1x64xf32>
// CHECK: scf.forall (%{{.*}}) = (0) to (64) step (16)
// CHECK:   linalg.mul {{.*}} -> tensor<1x16xf32>
func.func @elementwise(%a: tensor<4x64xf32>, %b: tensor<1x64xf32>)
    -> (tensor<4x64xf32>, tensor<1x64xf32>) attributes {smepilot.phase = "p"} {
  %e = tensor.empty() : tensor<4x64xf32>
  %r = linalg.add ins(%a, %a : tensor<4x64xf32>, tensor<4x64xf32>)
         outs(%e : tensor<4x64xf32>) -> tensor<4x64xf32>
  %e1 = tensor.empty() : tensor<1x64xf32>
  %s = linalg.mul ins(%b, %b : tensor<1x64xf32>, tensor<1x64xf32>)
         outs(%e1 : tensor<1x64xf32>) -> tensor<1x64xf32>
  return %r, %s : tensor<4x64xf32>, tensor<1x64xf32>
}

// -----

/// The layer body a phase calls gets tile spaces too; a function no phase
/// reaches does not. A dimension that is dynamic, or too small to split,
/// leaves its op alone (a one-tile dispatch later).
// CHECK-LABEL: func.func private @layer
// CHECK: scf.forall
// CHECK-LABEL: func.func @phase
// CHECK-NOT: scf.forall
// CHECK: call @layer
// CHECK-LABEL: func.func @not_a_phase
// CHECK-NOT: scf.forall
// CHECK: linalg.add
// CHECK-LABEL: func.func @too_small
// CHECK-NOT: scf.forall
// CHECK: linalg.add
// CHECK-NOT: scf.forall
// CHECK: linalg.add
// CHECK: return
func.func private @layer(%a: tensor<8x64xf32>) -> tensor<8x64xf32> {
  %e = tensor.empty() : tensor<8x64xf32>
  %r = linalg.add ins(%a, %a : tensor<8x64xf32>, tensor<8x64xf32>)
         outs(%e : tensor<8x64xf32>) -> tensor<8x64xf32>
  return %r : tensor<8x64xf32>
}
func.func @phase(%a: tensor<8x64xf32>) -> tensor<8x64xf32>
    attributes {smepilot.phase = "p"} {
  %r = call @layer(%a) : (tensor<8x64xf32>) -> tensor<8x64xf32>
  return %r : tensor<8x64xf32>
}
func.func @not_a_phase(%a: tensor<8x64xf32>) -> tensor<8x64xf32> {
  %e = tensor.empty() : tensor<8x64xf32>
  %r = linalg.add ins(%a, %a : tensor<8x64xf32>, tensor<8x64xf32>)
         outs(%e : tensor<8x64xf32>) -> tensor<8x64xf32>
  return %r : tensor<8x64xf32>
}
func.func @too_small(%a: tensor<1x8xf32>, %d: tensor<?xf32>)
    -> (tensor<1x8xf32>, tensor<?xf32>) attributes {smepilot.phase = "q"} {
  %e = tensor.empty() : tensor<1x8xf32>
  %r = linalg.add ins(%a, %a : tensor<1x8xf32>, tensor<1x8xf32>)
         outs(%e : tensor<1x8xf32>) -> tensor<1x8xf32>
  %c0 = arith.constant 0 : index
  %n = tensor.dim %d, %c0 : tensor<?xf32>
  %e2 = tensor.empty(%n) : tensor<?xf32>
  %s = linalg.add ins(%d, %d : tensor<?xf32>, tensor<?xf32>)
         outs(%e2 : tensor<?xf32>) -> tensor<?xf32>
  return %r, %s : tensor<1x8xf32>, tensor<?xf32>
}

// -----

/// Ops that read only weights (arguments marked smepilot.weight) get a
/// buffer of their own: their shared tensor.empty init (CSE makes one of
/// every empty of a shape) becomes one bufferization.alloc_tensor each, so
/// that bufferization cannot give both K-major copies one buffer and
/// smepilot-form-dispatches can move them into the load table. The op that
/// also reads an activation keeps the shared empty.
// CHECK-LABEL: func.func @weights_only
// CHECK-SAME: %[[WK:[a-z0-9]+]]: tensor<32x64xf32> {smepilot.weight}, %[[WV:[a-z0-9]+]]: tensor<32x64xf32> {smepilot.weight}
// CHECK: %[[E:.*]] = tensor.empty() : tensor<64x32xf32>
// CHECK: %[[OWN1:.*]] = bufferization.alloc_tensor() : tensor<64x32xf32>
// CHECK: scf.forall {{.*}} shared_outs(%{{.*}} = %[[OWN1]])
// CHECK:   tensor.extract_slice %[[WK]]
// CHECK: %[[OWN2:.*]] = bufferization.alloc_tensor() : tensor<64x32xf32>
// CHECK: scf.forall {{.*}} shared_outs(%{{.*}} = %[[OWN2]])
// CHECK:   tensor.extract_slice %[[WV]]
// CHECK: scf.forall {{.*}} shared_outs(%{{.*}} = %[[E]])
func.func @weights_only(%wk: tensor<32x64xf32> {smepilot.weight},
                        %wv: tensor<32x64xf32> {smepilot.weight},
                        %x: tensor<64x32xf32>)
    -> (tensor<64x32xf32>, tensor<64x32xf32>, tensor<64x32xf32>)
    attributes {smepilot.phase = "w"} {
  %e = tensor.empty() : tensor<64x32xf32>
  %kt = linalg.transpose ins(%wk : tensor<32x64xf32>) outs(%e : tensor<64x32xf32>) permutation = [1, 0]
  %vt = linalg.transpose ins(%wv : tensor<32x64xf32>) outs(%e : tensor<64x32xf32>) permutation = [1, 0]
  %s = linalg.add ins(%x, %x : tensor<64x32xf32>, tensor<64x32xf32>) outs(%e : tensor<64x32xf32>) -> tensor<64x32xf32>
  return %kt, %vt, %s : tensor<64x32xf32>, tensor<64x32xf32>, tensor<64x32xf32>
}

// -----

/// An op with a static dimension of size 0 does nothing: it stays one
/// (empty) tile, whichever dimension is 0 (m, n or k of a matmul, or the
/// rows of an elementwise op), even when another dimension could be split.
/// Tiling it used to crash in MLIR's slice computation. A non-empty op of
/// the same phase is still split.
// CHECK-LABEL: func.func @empty_dims
// CHECK-NOT: scf.forall
// CHECK: linalg.matmul ins(%{{.*}} : tensor<0x64xf32>, tensor<64x32xf32>)
// CHECK-NOT: scf.forall
// CHECK: linalg.matmul ins(%{{.*}} : tensor<16x64xf32>, tensor<64x0xf32>)
// CHECK-NOT: scf.forall
// CHECK: linalg.matmul ins(%{{.*}} : tensor<16x0xf32>, tensor<0x32xf32>)
// CHECK-NOT: scf.forall
// CHECK: linalg.exp ins(%{{.*}} : tensor<0x64xf32>)
// CHECK: scf.forall
// CHECK:   linalg.exp {{.*}} -> tensor<1x64xf32>
func.func @empty_dims(%a0: tensor<0x64xf32>, %w: tensor<64x32xf32>, %c0: tensor<0x32xf32>,
                      %a: tensor<16x64xf32>, %b0: tensor<64x0xf32>, %c1: tensor<16x0xf32>,
                      %ak: tensor<16x0xf32>, %bk: tensor<0x32xf32>, %c: tensor<16x32xf32>,
                      %x0: tensor<0x64xf32>, %x: tensor<4x64xf32>)
    -> (tensor<0x32xf32>, tensor<16x0xf32>, tensor<16x32xf32>, tensor<0x64xf32>, tensor<4x64xf32>)
    attributes {smepilot.phase = "p"} {
  %0 = linalg.matmul ins(%a0, %w : tensor<0x64xf32>, tensor<64x32xf32>)
                     outs(%c0 : tensor<0x32xf32>) -> tensor<0x32xf32>
  %1 = linalg.matmul ins(%a, %b0 : tensor<16x64xf32>, tensor<64x0xf32>)
                     outs(%c1 : tensor<16x0xf32>) -> tensor<16x0xf32>
  %2 = linalg.matmul ins(%ak, %bk : tensor<16x0xf32>, tensor<0x32xf32>)
                     outs(%c : tensor<16x32xf32>) -> tensor<16x32xf32>
  %e0 = tensor.empty() : tensor<0x64xf32>
  %3 = linalg.exp ins(%x0 : tensor<0x64xf32>) outs(%e0 : tensor<0x64xf32>) -> tensor<0x64xf32>
  %e = tensor.empty() : tensor<4x64xf32>
  %4 = linalg.exp ins(%x : tensor<4x64xf32>) outs(%e : tensor<4x64xf32>) -> tensor<4x64xf32>
  return %0, %1, %2, %3, %4 : tensor<0x32xf32>, tensor<16x0xf32>, tensor<16x32xf32>, tensor<0x64xf32>, tensor<4x64xf32>
}

// -----

/// Sizes near INT64_MAX: the tile size and count stay in range (the rows are
/// split in max-tiles parts of INT64_MAX / 8 rounded up).
// CHECK-LABEL: func.func @int64_max_rows
// CHECK: scf.forall (%{{.*}}) = (0) to (9223372036854775807) step (1152921504606846976)
func.func @int64_max_rows(%x: tensor<9223372036854775807x4xf32>)
    -> tensor<9223372036854775807x4xf32> attributes {smepilot.phase = "p"} {
  %e = tensor.empty() : tensor<9223372036854775807x4xf32>
  %0 = linalg.exp ins(%x : tensor<9223372036854775807x4xf32>)
                  outs(%e : tensor<9223372036854775807x4xf32>) -> tensor<9223372036854775807x4xf32>
  return %0 : tensor<9223372036854775807x4xf32>
}

// -----

#proj = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>,
         affine_map<(m, n, k) -> (m, n)>]

/// One fill (CSE shares it) initializes two projections of one shape, in
/// its generic form (linalg-generalize-named-ops runs before this pass):
/// each projection's tiles fill their own slices of the empty tensor, and
/// the fill is gone. Bufferization then gives each forall a buffer of its
/// own without copying a filled one into it.
// CHECK-LABEL: func.func @shared_fill
// CHECK: %[[E:.*]] = tensor.empty() : tensor<1x256xf32>
// CHECK-NOT: linalg.generic
// CHECK: scf.forall (%{{.*}}) = (0) to (256) step (32) shared_outs(%[[O1:.*]] = %[[E]])
// CHECK:   %[[S1:.*]] = tensor.extract_slice %[[O1]]
// CHECK:   %[[F1:.*]] = linalg.generic {{.*}} ins(%{{.*}} : f32) outs(%[[S1]] : tensor<1x32xf32>)
// CHECK:   linalg.matmul {{.*}} outs(%[[F1]] : tensor<1x32xf32>)
// CHECK: scf.forall (%{{.*}}) = (0) to (256) step (32) shared_outs(%[[O2:.*]] = %[[E]])
// CHECK:   %[[S2:.*]] = tensor.extract_slice %[[O2]]
// CHECK:   %[[F2:.*]] = linalg.generic {{.*}} ins(%{{.*}} : f32) outs(%[[S2]] : tensor<1x32xf32>)
// CHECK:   linalg.matmul {{.*}} outs(%[[F2]] : tensor<1x32xf32>)
func.func @shared_fill(%x: tensor<1x64xf32>, %w1: tensor<256x64xf32>, %w2: tensor<256x64xf32>)
    -> (tensor<1x256xf32>, tensor<1x256xf32>) attributes {smepilot.phase = "p"} {
  %cst = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x256xf32>
  %z = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> ()>, affine_map<(d0, d1) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%cst : f32) outs(%e : tensor<1x256xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x256xf32>
  %r1 = linalg.matmul indexing_maps = #proj
          ins(%x, %w1 : tensor<1x64xf32>, tensor<256x64xf32>)
          outs(%z : tensor<1x256xf32>) -> tensor<1x256xf32>
  %r2 = linalg.matmul indexing_maps = #proj
          ins(%x, %w2 : tensor<1x64xf32>, tensor<256x64xf32>)
          outs(%z : tensor<1x256xf32>) -> tensor<1x256xf32>
  return %r1, %r2 : tensor<1x256xf32>, tensor<1x256xf32>
}

// -----

#proj = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>,
         affine_map<(m, n, k) -> (m, n)>]

/// A fill that is also returned (a use that is no split op's init) stays a
/// dispatch of its own, and its consumer reads it.
// CHECK-LABEL: func.func @fill_also_returned
// CHECK: %[[Z:.*]] = scf.forall
// CHECK:   linalg.fill
// CHECK: scf.forall (%{{.*}}) = (0) to (256) step (32) shared_outs(%{{.*}} = %[[Z]])
// CHECK-NOT: linalg.fill
// CHECK:   linalg.matmul
func.func @fill_also_returned(%x: tensor<1x64xf32>, %w: tensor<256x64xf32>)
    -> (tensor<1x256xf32>, tensor<1x256xf32>) attributes {smepilot.phase = "p"} {
  %cst = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x256xf32>
  %z = linalg.fill ins(%cst : f32) outs(%e : tensor<1x256xf32>) -> tensor<1x256xf32>
  %r = linalg.matmul indexing_maps = #proj
         ins(%x, %w : tensor<1x64xf32>, tensor<256x64xf32>)
         outs(%z : tensor<1x256xf32>) -> tensor<1x256xf32>
  return %r, %z : tensor<1x256xf32>, tensor<1x256xf32>
}
