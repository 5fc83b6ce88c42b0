// RUN: smepilot-opt %s --smepilot-host-pipeline=stop-after=vectorize | FileCheck %s --check-prefix=VEC
// RUN: smepilot-opt %s --smepilot-host-pipeline | FileCheck %s --check-prefix=LLVM
// RUN: smepilot-opt %s --smepilot-host-pipeline \
// RUN:   | mlir-translate --allow-unregistered-dialect --mlir-to-llvmir \
// RUN:   | llc -O3 -mtriple=x86_64-unknown-linux-gnu -mattr=+avx512f,+fma \
// RUN:   | FileCheck %s --check-prefix=ASM

/// Contractions in every form the graph builder emits. Those whose reduction
/// dimension k is contiguous in both inputs (projections with [out, in]
/// weights, Q K^T) take the dot-product schedule: register blocks of output
/// rows x weight rows, a k loop of 16-lane loads and vector FMAs into
/// accumulators carried by scf.for, a masked k tail, and one horizontal sum
/// per output. The others (k-major B) keep 16x16 tiles over k steps of 1.

/// Projection with [out, in] weights (transposed B), odd sizes: 4 x 4 blocks
/// (the last ones partial: m = 5, n = 7), k = 40 = two full steps + a masked
/// tail of 8. The n loop is outside the m loop.
// VEC-LABEL: func.func @matmul_transposed_b
// VEC: scf.for %{{.*}} = %c0 to %c7 step %c4
// VEC: scf.for %{{.*}} = %c0 to %c5 step %c4
// VEC: %[[TAIL:.*]] = vector.constant_mask [8] : vector<16xi1>
// VEC: %[[ACCS:.*]]:16 = scf.for %[[K:.*]] = %c0 to %c32 step %c16 iter_args(%[[ACC0:[^ ]*]] = %[[ZERO:[^,]*]], {{.*}}) -> (vector<16xf32>,
// VEC-COUNT-8: vector.transfer_read {{.*}}[%{{.*}}, %[[K]]], %{{.*}} {in_bounds = [true]} : tensor<?x40xf32>, vector<16xf32>
// VEC-NEXT: vector.fma %{{.*}}, %{{.*}}, %[[ACC0]] : vector<16xf32>
// VEC-COUNT-15: vector.fma
// VEC-NEXT: scf.yield
// VEC: vector.transfer_read {{.*}}[%{{.*}}, %c32], %{{.*}}, %[[TAIL]] {in_bounds = [true]} : tensor<?x40xf32>, vector<16xf32>
// VEC: vector.fma {{.*}}, %[[ACCS]]#0 : vector<16xf32>
// VEC: vector.reduction <add>, %{{.*}} fastmath<reassoc> : vector<16xf32> into f32
// VEC: %[[BLOCK:.*]] = vector.from_elements {{.*}} : vector<4x4xf32>
// VEC: %[[MASK:.*]] = vector.create_mask %{{.*}}, %{{.*}} : vector<4x4xi1>
// VEC: %[[OLD:.*]] = vector.transfer_read {{.*}}, %[[MASK]] {{.*}} : tensor<?x?xf32>, vector<4x4xf32>
// VEC: %[[SUM:.*]] = arith.addf %[[OLD]], %[[BLOCK]] : vector<4x4xf32>
// VEC: vector.transfer_write %[[SUM]], {{.*}}, %[[MASK]]
// VEC-NOT: linalg.
// VEC-NOT: vector.contract
// VEC: return
// LLVM-LABEL: llvm.func @matmul_transposed_b
// LLVM-NOT: llvm.call
// LLVM-NOT: llvm.fmul
// LLVM: llvm.intr.fmuladd({{.*}}) : (vector<16xf32>, vector<16xf32>, vector<16xf32>) -> vector<16xf32>
// LLVM: llvm.intr.masked.load {{.*}} -> vector<16xf32>
// LLVM: "llvm.intr.vector.reduce.fadd"({{.*}}) <{fastmathFlags = #llvm.fastmath<reassoc>}> : (f32, vector<16xf32>) -> f32
// LLVM-NOT: llvm.fmul
// LLVM-LABEL: llvm.func @_mlir_ciface_matmul_transposed_b
func.func @matmul_transposed_b(%a: tensor<5x40xf32>, %b: tensor<7x40xf32>) -> tensor<5x7xf32>
    attributes {llvm.emit_c_interface} {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x7xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<5x7xf32>) -> tensor<5x7xf32>
  %r = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>,
                                      affine_map<(m, n, k) -> (n, k)>,
                                      affine_map<(m, n, k) -> (m, n)>]
         ins(%a, %b : tensor<5x40xf32>, tensor<7x40xf32>)
         outs(%c : tensor<5x7xf32>) -> tensor<5x7xf32>
  return %r : tensor<5x7xf32>
}

/// Plain 64x64x64 (k-major B: not a dot product): 4x4 full 16x16 tiles, no
/// masks, the accumulator tile is loop-carried in registers across k steps
/// of 1.
// VEC-LABEL: func.func @matmul_64
// VEC: scf.for {{.*}} step %c16
// VEC: scf.for {{.*}} step %c16
// VEC: scf.for {{.*}} iter_args(%[[ACC:.*]] = %{{.*}}) -> (vector<16x16xf32>)
// VEC-NOT: vector.create_mask
// VEC-NOT: vector.fma
// VEC: vector.contract {{.*}}, %[[ACC]] : vector<16x1xf32>, vector<1x16xf32> into vector<16x16xf32>
// LLVM-LABEL: llvm.func @matmul_64
// LLVM-NOT: llvm.call
// LLVM: llvm.return
func.func @matmul_64(%a: tensor<64x64xf32>, %b: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x64xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<64x64xf32>) -> tensor<64x64xf32>
  %r = linalg.matmul ins(%a, %b : tensor<64x64xf32>, tensor<64x64xf32>)
         outs(%c : tensor<64x64xf32>) -> tensor<64x64xf32>
  return %r : tensor<64x64xf32>
}

/// Decode projection (M = 1): a GEMV one weight row at a time (each thread
/// streams W contiguously), k = 128 in full steps, so no mask anywhere. The
/// k steps go round-robin to 4 accumulators: per iteration 4 x vectors and 4
/// vectors of the row, 4 FMAs (the row's loads fold into the FMAs in the
/// machine code: vfmadd231ps zmm, mem), and the 4 are added before the
/// horizontal sum.
// VEC-LABEL: func.func @matvec
// VEC: scf.for %[[N:.*]] = %c0 to %c40 step %c1
// VEC: %[[ROW:.*]] = tensor.extract_slice %arg1[%[[N]], 0] [1, 128] [1, 1]
// VEC: %[[ACC:.*]]:4 = scf.for %[[K:.*]] = %c0 to %c128 step %c64 iter_args({{.*}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// VEC-NEXT: vector.transfer_read %arg0[%c0, %[[K]]], %{{.*}} {in_bounds = [true]} : tensor<1x128xf32>, vector<16xf32>
// VEC-NEXT: vector.transfer_read %[[ROW]][%c0, %[[K]]], %{{.*}} {in_bounds = [true]} : tensor<1x128xf32>, vector<16xf32>
// VEC-NEXT: vector.fma
// VEC-COUNT-3: vector.fma
// VEC-NEXT: scf.yield
// VEC-NOT: mask
// VEC: arith.addf %[[ACC]]#0, %[[ACC]]#1 : vector<16xf32>
// VEC: vector.reduction <add>
// VEC: vector.transfer_write {{.*}} : vector<1x1xf32>, tensor<1x1xf32>
// VEC: return
// LLVM-LABEL: llvm.func @matvec
// LLVM-NOT: llvm.intr.masked.load
// LLVM: llvm.intr.fmuladd({{.*}}) : (vector<16xf32>, vector<16xf32>, vector<16xf32>) -> vector<16xf32>
// LLVM: llvm.return
// ASM-LABEL: matvec:
// ASM-COUNT-4: vfmadd231ps {{-?[0-9]*}}(%{{.*}}), %zmm{{[0-9]+}}, %zmm{{[0-9]+}}
// ASM: .Lfunc_end
func.func @matvec(%x: tensor<1x128xf32>, %w: tensor<40x128xf32>) -> tensor<1x40xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x40xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<1x40xf32>) -> tensor<1x40xf32>
  %r = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>,
                                      affine_map<(m, n, k) -> (n, k)>,
                                      affine_map<(m, n, k) -> (m, n)>]
         ins(%x, %w : tensor<1x128xf32>, tensor<40x128xf32>)
         outs(%c : tensor<1x40xf32>) -> tensor<1x40xf32>
  return %r : tensor<1x40xf32>
}

/// Attention scores Q K^T as a generic batch contraction (heads x queries x
/// keys, head_dim contiguous in both), with a dynamic number of keys (the
/// cache history): heads tiled by 1, all 3 queries x 4 keys per block with
/// the key rows clamped (affine.min) and the last block masked at the write.
// VEC-LABEL: func.func @batch_contraction
// VEC: scf.for %{{.*}} = %c0 to %c4 step %c1
// VEC: scf.for %[[J:.*]] = %c0 to %{{.*}} step %c4
// VEC: %[[SIZE:.*]] = affine.min #{{.*}}(%[[J]])[%{{.*}}]
// VEC: %[[ROW:.*]] = affine.min #{{.*}}(%[[SIZE]])
// VEC: vector.transfer_read {{.*}}[%c0, %[[ROW]], %c0], %{{.*}} {in_bounds = [true]} : tensor<1x?x16xf32>, vector<16xf32>
// VEC: vector.fma
// VEC: vector.from_elements {{.*}} : vector<3x4xf32>
// VEC: %[[MASK:.*]] = vector.create_mask %c3, %{{.*}} : vector<3x4xi1>
// VEC: vector.transfer_write {{.*}}, %[[MASK]] {{.*}} : vector<3x4xf32>, tensor<1x3x?xf32>
// VEC-NOT: linalg.generic
// VEC-NOT: vector.contract
// VEC: return
// LLVM-LABEL: llvm.func @batch_contraction
// LLVM: llvm.intr.fmuladd({{.*}}) : (vector<16xf32>, vector<16xf32>, vector<16xf32>) -> vector<16xf32>
func.func @batch_contraction(%q: tensor<4x3x16xf32>, %k: tensor<4x?x16xf32>) -> tensor<4x3x?xf32> {
  %z = arith.constant 0.0 : f32
  %c1 = arith.constant 1 : index
  %d = tensor.dim %k, %c1 : tensor<4x?x16xf32>
  %e = tensor.empty(%d) : tensor<4x3x?xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<4x3x?xf32>) -> tensor<4x3x?xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(b, m, n, k) -> (b, m, k)>,
                                        affine_map<(b, m, n, k) -> (b, n, k)>,
                                        affine_map<(b, m, n, k) -> (b, m, n)>],
                       iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %k : tensor<4x3x16xf32>, tensor<4x?x16xf32>) outs(%c : tensor<4x3x?xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<4x3x?xf32>
  return %r : tensor<4x3x?xf32>
}

/// Attention output P V (V is [keys, head_dim]: k is not contiguous in V):
/// not a dot product, so it keeps the vector.contract schedule, each operand
/// read in its own shape (test/Pipelines/host-attention-pv.mlir).
// VEC-LABEL: func.func @batch_contraction_k_major
// VEC-NOT: vector.fma
// VEC: vector.contract {{.*}} : vector<3x1xf32>, vector<1x16xf32> into vector<3x16xf32>
// VEC: return
func.func @batch_contraction_k_major(%p: tensor<4x3x10xf32>, %v: tensor<4x10x16xf32>) -> tensor<4x3x16xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x3x16xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<4x3x16xf32>) -> tensor<4x3x16xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(b, m, n, k) -> (b, m, k)>,
                                        affine_map<(b, m, n, k) -> (b, k, n)>,
                                        affine_map<(b, m, n, k) -> (b, m, n)>],
                       iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %v : tensor<4x3x10xf32>, tensor<4x10x16xf32>) outs(%c : tensor<4x3x16xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<4x3x16xf32>
  return %r : tensor<4x3x16xf32>
}

/// The LM head with the final RMSNorm fused in by elementwise fusion:
/// acc + x * (1 / sqrt(s / K + eps)) * gamma * W. The normalized row is the
/// lhs factor, computed as a k vector (the row's scale 1 / sqrt(s / K + eps)
/// from the per-row sum s, the same in every lane, once as a scalar and
/// broadcast), the weight row is the rhs factor: one FMA per k step (k = 64:
/// the 4 steps of one iteration of the 4 accumulator groups, unrolled).
// VEC-LABEL: func.func @fused_norm_projection
// VEC: scf.for %[[N:.*]] = %c0 to %c40 step %c1
// VEC: %[[ROW:.*]] = tensor.extract_slice %arg3[%[[N]], 0] [1, 64] [1, 1]
// VEC-DAG: %[[G:.*]] = vector.transfer_read %arg2[%c0]
// VEC-DAG: %[[S:.*]] = tensor.extract %arg1[%c0] : tensor<1xf32>
// VEC-DAG: %[[X:.*]] = vector.transfer_read %arg0[%c0, %c0]
// VEC: %[[ROOT:.*]] = math.sqrt %{{.*}} : f32
// VEC: %[[INV:.*]] = arith.divf %{{.*}}, %[[ROOT]] : f32
// VEC: vector.broadcast %[[INV]] : f32 to vector<16xf32>
// VEC: %[[XN:.*]] = arith.mulf %{{.*}}, %[[G]] : vector<16xf32>
// VEC: %[[W:.*]] = vector.transfer_read %[[ROW]][%c0, %c0], %{{.*}} {in_bounds = [true]} : tensor<1x64xf32>, vector<16xf32>
// VEC: vector.fma %[[XN]], %[[W]], %{{.*}} : vector<16xf32>
// VEC-COUNT-3: vector.fma
// VEC: vector.reduction <add>
// VEC-NOT: linalg.generic
// VEC: return
func.func @fused_norm_projection(%x: tensor<1x64xf32>, %s: tensor<1xf32>, %g: tensor<64xf32>,
                                 %w: tensor<40x64xf32>) -> tensor<1x40xf32> {
  %z = arith.constant 0.0 : f32
  %n = arith.constant 64.0 : f32
  %eps = arith.constant 1.0e-5 : f32
  %one = arith.constant 1.0 : f32
  %e = tensor.empty() : tensor<1x40xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<1x40xf32>) -> tensor<1x40xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>,
                                        affine_map<(m, n, k) -> (m)>,
                                        affine_map<(m, n, k) -> (k)>,
                                        affine_map<(m, n, k) -> (n, k)>,
                                        affine_map<(m, n, k) -> (m, n)>],
                       iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %s, %g, %w : tensor<1x64xf32>, tensor<1xf32>, tensor<64xf32>, tensor<40x64xf32>)
      outs(%c : tensor<1x40xf32>) {
  ^bb0(%xi: f32, %si: f32, %gi: f32, %wi: f32, %o: f32):
    %mean = arith.divf %si, %n : f32
    %v = arith.addf %mean, %eps : f32
    %sq = math.sqrt %v : f32
    %inv = arith.divf %one, %sq : f32
    %xn = arith.mulf %xi, %inv : f32
    %xg = arith.mulf %xn, %gi : f32
    %p = arith.mulf %xg, %wi : f32
    %acc = arith.addf %o, %p : f32
    linalg.yield %acc : f32
  } -> tensor<1x40xf32>
  return %r : tensor<1x40xf32>
}

/// The attention output projection after reshape propagation: the reduction
/// runs over [heads, head_dim] as two loops. head_dim (contiguous) is the k
/// vector loop; the heads loop wraps it, its iterations going round-robin
/// to the 4 accumulator groups (one k loop per head), so there is still one
/// horizontal sum per output.
// VEC-LABEL: func.func @two_reduction_dims
// VEC: scf.for %{{.*}} = %c0 to %c40 step %c1
// VEC: %[[OUT:.*]]:4 = scf.for %[[H:.*]] = %c0 to %c8 step %c4 iter_args(%[[G0:[^ ]+]] = %{{.*}}, %[[G1:[^ ]+]] = %{{.*}}, %[[G2:[^ ]+]] = %{{.*}}, %[[G3:[^ ]+]] = %{{.*}}) -> (vector<16xf32>,
// VEC: %[[IN0:.*]] = scf.for %[[K:.*]] = %c0 to %c32 step %c16 iter_args(%{{.*}} = %[[G0]]) -> (vector<16xf32>)
// VEC: vector.transfer_read %arg0[%c0, %[[H]], %[[K]]]
// VEC: vector.transfer_read %{{.*}}[%c0, %[[H]], %[[K]]]
// VEC: vector.fma
// VEC: %[[H1:.*]] = arith.addi %[[H]], %c1
// VEC: %[[IN1:.*]] = scf.for %[[K1:.*]] = %c0 to %c32 step %c16 iter_args(%{{.*}} = %[[G1]]) -> (vector<16xf32>)
// VEC: vector.transfer_read %arg0[%c0, %[[H1]], %[[K1]]]
// VEC: scf.for {{.*}} iter_args(%{{.*}} = %[[G2]])
// VEC: scf.for {{.*}} iter_args(%{{.*}} = %[[G3]])
// VEC: scf.yield %[[IN0]], %[[IN1]],
// VEC: arith.addf %[[OUT]]#0, %[[OUT]]#1
// VEC: vector.reduction <add>
// VEC-NOT: vector.reduction
// VEC-NOT: vector.contract
// VEC: return
func.func @two_reduction_dims(%x: tensor<1x8x32xf32>, %w: tensor<40x8x32xf32>) -> tensor<1x40xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x40xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<1x40xf32>) -> tensor<1x40xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(m, n, h, k) -> (m, h, k)>,
                                        affine_map<(m, n, h, k) -> (n, h, k)>,
                                        affine_map<(m, n, h, k) -> (m, n)>],
                       iterator_types = ["parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %w : tensor<1x8x32xf32>, tensor<40x8x32xf32>) outs(%c : tensor<1x40xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x40xf32>
  return %r : tensor<1x40xf32>
}
