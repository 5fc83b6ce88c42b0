// RUN: smepilot-opt %s --smepilot-host-pipeline=stop-after=vectorize | FileCheck %s --check-prefix=VEC
// RUN: smepilot-opt %s --smepilot-host-pipeline | FileCheck %s --check-prefix=LLVM

/// Contractions in every form the graph builder emits: each is tiled into
/// 16x16 (m x n) register tiles over k steps of 1, with masked transfers
/// where a tile is partial, vectorized to vector.contract and lowered to
/// LLVM without calls. (The k = 1 outer products still lower to per-element
/// multiplies: a known performance gap, see docs/compiled-model.md.)

/// Projection with [out, in] weights (transposed B), odd sizes: one masked
/// 5x7 tile, B read through a transposing permutation map.
// VEC-LABEL: func.func @matmul_transposed_b
// VEC: scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[ACC:.*]] = %{{.*}}) -> (vector<5x7xf32>)
// VEC: %[[A:.*]] = vector.transfer_read {{.*}} permutation_map = {{.*}} : tensor<5x1xf32>, vector<5x7x1xf32>
// VEC: %[[B:.*]] = vector.transfer_read {{.*}} permutation_map = {{.*}} : tensor<7x1xf32>, vector<5x7x1xf32>
// VEC: vector.contract {{.*}} %[[A]], %[[B]], %[[ACC]] : vector<5x7x1xf32>, vector<5x7x1xf32> into vector<5x7xf32>
// VEC-NOT: linalg.
// VEC: return
// LLVM-LABEL: llvm.func @matmul_transposed_b
// LLVM-NOT: llvm.call
// LLVM: llvm.fmul
// LLVM-LABEL: llvm.func @_mlir_ciface_matmul_transposed_b
func.func @matmul_transposed_b(%a: tensor<5x9xf32>, %b: tensor<7x9xf32>) -> tensor<5x7xf32>
    attributes {llvm.emit_c_interface} {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x7xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<5x7xf32>) -> tensor<5x7xf32>
  %r = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>,
                                      affine_map<(m, n, k) -> (n, k)>,
                                      affine_map<(m, n, k) -> (m, n)>]
         ins(%a, %b : tensor<5x9xf32>, tensor<7x9xf32>)
         outs(%c : tensor<5x7xf32>) -> tensor<5x7xf32>
  return %r : tensor<5x7xf32>
}

/// Plain 64x64x64: 4x4 full 16x16 tiles, no masks, the accumulator tile is
/// loop-carried in registers across k.
// VEC-LABEL: func.func @matmul_64
// VEC: scf.for {{.*}} step %c16
// VEC: scf.for {{.*}} step %c16
// VEC: scf.for {{.*}} iter_args(%[[ACC:.*]] = %{{.*}}) -> (vector<16x16xf32>)
// VEC-NOT: vector.create_mask
// VEC: vector.contract {{.*}}, %[[ACC]] : vector<16x16x1xf32>, vector<16x16x1xf32> into vector<16x16xf32>
// LLVM-LABEL: llvm.func @matmul_64
// LLVM-NOT: llvm.call
// LLVM: llvm.fmul
// LLVM: llvm.return
func.func @matmul_64(%a: tensor<64x64xf32>, %b: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x64xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<64x64xf32>) -> tensor<64x64xf32>
  %r = linalg.matmul ins(%a, %b : tensor<64x64xf32>, tensor<64x64xf32>)
         outs(%c : tensor<64x64xf32>) -> tensor<64x64xf32>
  return %r : tensor<64x64xf32>
}

/// Decode projection (M = 1): n is tiled by 16 with a masked last tile
/// (40 = 16 + 16 + 8), lowered to AVX-512 masked loads and stores.
// VEC-LABEL: func.func @matvec
// VEC: %[[MASK:.*]] = vector.create_mask %c1, %{{.*}} : vector<1x16xi1>
// VEC: vector.transfer_write {{.*}}, %[[MASK]]
// VEC: %[[MASKK:.*]] = vector.create_mask %c1, %{{.*}} : vector<1x16xi1>
// VEC: %[[C:.*]] = vector.transfer_read {{.*}}, %[[MASKK]] {{.*}} : tensor<1x?xf32>, vector<1x16xf32>
// VEC: vector.mask {{.*}} vector.contract {{.*}}, %[[C]] : vector<1x16x1xf32>, vector<1x16x1xf32> into vector<1x16xf32>
// VEC: vector.transfer_write {{.*}}, %[[MASKK]]
// LLVM-LABEL: llvm.func @matvec
// LLVM: llvm.intr.masked.load {{.*}} -> vector<16xf32>
// LLVM: llvm.intr.masked.store
func.func @matvec(%x: tensor<1x64xf32>, %w: tensor<40x64xf32>) -> tensor<1x40xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x40xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<1x40xf32>) -> tensor<1x40xf32>
  %r = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>,
                                      affine_map<(m, n, k) -> (n, k)>,
                                      affine_map<(m, n, k) -> (m, n)>]
         ins(%x, %w : tensor<1x64xf32>, tensor<40x64xf32>)
         outs(%c : tensor<1x40xf32>) -> tensor<1x40xf32>
  return %r : tensor<1x40xf32>
}

/// Attention scores as a generic batch contraction (heads x queries x keys,
/// K transposed): batch and m are tiled by 1, the whole 3x10 tile per head
/// is one vector accumulator.
// VEC-LABEL: func.func @batch_contraction
// VEC: scf.for
// VEC: scf.for {{.*}} -> (vector<1x3x10xf32>)
// VEC: vector.contract {{.*}} : vector<1x3x10x1xf32>, vector<1x3x10x1xf32> into vector<1x3x10xf32>
// VEC-NOT: linalg.generic
// VEC: return
// LLVM-LABEL: llvm.func @batch_contraction
// LLVM: llvm.fmul
func.func @batch_contraction(%q: tensor<4x3x16xf32>, %k: tensor<4x10x16xf32>) -> tensor<4x3x10xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x3x10xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<4x3x10xf32>) -> tensor<4x3x10xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(b, m, n, k) -> (b, m, k)>,
                                        affine_map<(b, m, n, k) -> (b, n, k)>,
                                        affine_map<(b, m, n, k) -> (b, m, n)>],
                       iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %k : tensor<4x3x16xf32>, tensor<4x10x16xf32>) outs(%c : tensor<4x3x10xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<4x3x10xf32>
  return %r : tensor<4x3x10xf32>
}
