// RUN: smepilot-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(smepilot-tile-cpu))" | FileCheck %s
// RUN: smepilot-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(smepilot-tile-cpu{report=true}))" 2>&1 >/dev/null | FileCheck %s --check-prefix=REPORT
// RUN: smepilot-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(smepilot-tile-cpu{contraction-tile-sizes=8,4,2 vector-width=8}))" | FileCheck %s --check-prefix=SIZES

/// A projection with an [out, in] weight (k contiguous in both inputs): the
/// dot-product schedule. n blocks of 4 outside m blocks of 4, a k loop of
/// 16-lane reads carrying 4 x 4 accumulators updated by vector.fma, one
/// horizontal sum per output, added to the 4 x 4 block of C.
// REPORT: remark: smepilot-tile-cpu: dot-product schedule, register block 4x4, k vectors of 16
// CHECK-LABEL: func.func @projection(
// CHECK-SAME: %[[A:[^:]+]]: tensor<8x64xf32>, %[[W:[^:]+]]: tensor<32x64xf32>, %[[C:[^:]+]]: tensor<8x32xf32>)
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK-DAG: %[[C8:.*]] = arith.constant 8 : index
// CHECK-DAG: %[[C16:.*]] = arith.constant 16 : index
// CHECK-DAG: %[[C32:.*]] = arith.constant 32 : index
// CHECK-DAG: %[[C64:.*]] = arith.constant 64 : index
// CHECK: %[[OUT:.*]] = scf.for %[[N:.*]] = %[[C0]] to %[[C32]] step %[[C4]] iter_args(%[[CN:.*]] = %[[C]])
// CHECK: scf.for %[[M:.*]] = %[[C0]] to %[[C8]] step %[[C4]] iter_args(%[[CM:.*]] = %[[CN]])
// CHECK-DAG: %[[ABLK:.*]] = tensor.extract_slice %[[A]][%[[M]], 0] [4, 64] [1, 1]
// CHECK-DAG: %[[WBLK:.*]] = tensor.extract_slice %[[W]][%[[N]], 0] [4, 64] [1, 1]
// CHECK-DAG: %[[CBLK:.*]] = tensor.extract_slice %[[CM]][%[[M]], %[[N]]] [4, 4] [1, 1]
// CHECK: %[[ACC:.*]]:16 = scf.for %[[K:.*]] = %[[C0]] to %[[C64]] step %[[C16]] iter_args(%[[ACC0:[^ ]*]] = %{{.*}}, {{.*}}) -> (vector<16xf32>,
// CHECK: %[[A0:.*]] = vector.transfer_read %[[ABLK]][%[[C0]], %[[K]]], {{.*}} : tensor<4x64xf32>, vector<16xf32>
// CHECK-COUNT-3: vector.transfer_read %[[ABLK]]
// CHECK: %[[W0:.*]] = vector.transfer_read %[[WBLK]][%[[C0]], %[[K]]], {{.*}} : tensor<4x64xf32>, vector<16xf32>
// CHECK-COUNT-3: vector.transfer_read %[[WBLK]]
// CHECK: vector.fma %[[A0]], %[[W0]], %[[ACC0]] : vector<16xf32>
// CHECK-COUNT-15: vector.fma
// CHECK: scf.yield
// CHECK-NOT: vector.create_mask {{.*}} : vector<16xi1>
// CHECK: vector.reduction <add>, %[[ACC]]#0 fastmath<reassoc> : vector<16xf32> into f32
// CHECK-COUNT-15: vector.reduction <add>
// CHECK: %[[MASK:.*]] = vector.create_mask %[[C4]], %[[C4]] : vector<4x4xi1>
// CHECK: %[[OLD:.*]] = vector.transfer_read %[[CBLK]][%[[C0]], %[[C0]]], %{{.*}}, %[[MASK]]
// CHECK: %[[SUM:.*]] = arith.addf %[[OLD]], %{{.*}} : vector<4x4xf32>
// CHECK: %[[NEW:.*]] = vector.transfer_write %[[SUM]], %[[CBLK]][%[[C0]], %[[C0]]], %[[MASK]]
// CHECK: tensor.insert_slice %[[NEW]] into %[[CM]][%[[M]], %[[N]]] [4, 4] [1, 1]
// CHECK-NOT: linalg.matmul
// CHECK: return %[[OUT]]
func.func @projection(%a: tensor<8x64xf32>, %w: tensor<32x64xf32>, %c: tensor<8x32xf32>) -> tensor<8x32xf32> {
  %r = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         ins(%a, %w : tensor<8x64xf32>, tensor<32x64xf32>) outs(%c : tensor<8x32xf32>) -> tensor<8x32xf32>
  return %r : tensor<8x32xf32>
}

// -----

/// Decode (M = 1): a GEMV one weight row at a time, so a thread reads W as
/// one contiguous stream. The k steps go round-robin to 4 accumulators (a
/// loop of 4 steps per iteration up to the last multiple of 64, then single
/// steps on the first, then the masked tail on the first), added together
/// before the horizontal sum.
// REPORT: remark: smepilot-tile-cpu: dot-product schedule, register block 1x1, 4 accumulator groups, k vectors of 16
// CHECK-LABEL: func.func @gemv(
// CHECK-SAME: %[[A:[^:]+]]: tensor<1x100xf32>, %[[W:[^:]+]]: tensor<32x100xf32>
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[C16:.*]] = arith.constant 16 : index
// CHECK-DAG: %[[C64:.*]] = arith.constant 64 : index
// CHECK-DAG: %[[C96:.*]] = arith.constant 96 : index
// CHECK: scf.for %[[N:.*]] = %{{.*}} to %{{.*}} step %[[C1]]
// CHECK: %[[WROW:.*]] = tensor.extract_slice %[[W]][%[[N]], 0] [1, 100] [1, 1]
// CHECK: %[[ACC:.*]]:4 = scf.for %[[K:.*]] = %{{.*}} to %[[C64]] step %[[C64]] iter_args(%[[G0:[^ ]+]] = %{{.*}}, %[[G1:[^ ]+]] = %{{.*}}, %[[G2:[^ ]+]] = %{{.*}}, %[[G3:[^ ]+]] = %{{.*}})
// CHECK: vector.transfer_read %[[A]][%{{.*}}, %[[K]]]
// CHECK: vector.transfer_read %[[WROW]][%{{.*}}, %[[K]]]
// CHECK: %[[F0:.*]] = vector.fma %{{.*}}, %{{.*}}, %[[G0]]
// CHECK: %[[F1:.*]] = vector.fma %{{.*}}, %{{.*}}, %[[G1]]
// CHECK: %[[F2:.*]] = vector.fma %{{.*}}, %{{.*}}, %[[G2]]
// CHECK: %[[F3:.*]] = vector.fma %{{.*}}, %{{.*}}, %[[G3]]
// CHECK: scf.yield %[[F0]], %[[F1]], %[[F2]], %[[F3]]
// CHECK: %[[REST:.*]] = scf.for %{{.*}} = %[[C64]] to %[[C96]] step %[[C16]] iter_args(%{{.*}} = %[[ACC]]#0)
// CHECK: vector.transfer_read %[[WROW]][%{{.*}}, %[[C96]]], %{{.*}}, %[[MASK:[^ ]+]]
// CHECK: %[[TAIL:.*]] = vector.fma %{{.*}}, %{{.*}}, %[[REST]]
// CHECK: %[[S1:.*]] = arith.addf %[[TAIL]], %[[ACC]]#1
// CHECK: %[[S2:.*]] = arith.addf %[[S1]], %[[ACC]]#2
// CHECK: %[[S3:.*]] = arith.addf %[[S2]], %[[ACC]]#3
// CHECK: vector.reduction <add>, %[[S3]]
func.func @gemv(%a: tensor<1x100xf32>, %w: tensor<32x100xf32>, %c: tensor<1x32xf32>) -> tensor<1x32xf32> {
  %r = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         ins(%a, %w : tensor<1x100xf32>, tensor<32x100xf32>) outs(%c : tensor<1x32xf32>) -> tensor<1x32xf32>
  return %r : tensor<1x32xf32>
}

// -----

/// Dynamic m, n and k in the dot-product schedule: the block sizes are
/// clamped (affine.min), the k loop runs over whole vectors and a masked
/// step adds the k tail, and the block of C is written under a mask.
// REPORT: remark: smepilot-tile-cpu: dot-product schedule, register block 4x4, k vectors of 16
// CHECK-LABEL: func.func @projection_dynamic(
// CHECK: scf.for
// CHECK: scf.for
// CHECK-DAG: %[[NB:.*]] = affine.min
// CHECK-DAG: %[[MB:.*]] = affine.min
// CHECK: %[[TAIL:.*]] = vector.create_mask %{{.*}} : vector<16xi1>
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[KMAIN:.*]] step
// CHECK: scf.yield
// CHECK: vector.transfer_read %{{.*}}[%{{.*}}, %[[KMAIN]]], %{{.*}}, %[[TAIL]]
// CHECK: arith.select %[[TAIL]]
// CHECK: %[[MASK:.*]] = vector.create_mask %[[MB]], %[[NB]] : vector<4x4xi1>
// CHECK: vector.transfer_write %{{.*}}, %{{.*}}, %[[MASK]]
func.func @projection_dynamic(%a: tensor<?x?xf32>, %w: tensor<?x?xf32>, %c: tensor<?x?xf32>) -> tensor<?x?xf32> {
  %r = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         ins(%a, %w : tensor<?x?xf32>, tensor<?x?xf32>) outs(%c : tensor<?x?xf32>) -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}

// -----

/// A K-major right-hand side (P V): 16 x 16 x 1 tiles vectorized to
/// vector.contract (with contraction-tile-sizes=8,4,2: 8 x 4 x 2).
// REPORT: remark: smepilot-tile-cpu: tiles [16, 16, 1] vector sizes [16, 16, 1] vectorized
// CHECK-LABEL: func.func @k_major(
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[C16:.*]] = arith.constant 16 : index
// CHECK: scf.for %{{.*}} step %[[C16]]
// CHECK: scf.for %{{.*}} step %[[C16]]
// CHECK: scf.for %{{.*}} step %[[C1]]
// CHECK: %[[LHS:.*]] = vector.transfer_read {{.*}} : tensor<16x1xf32>, vector<16x1xf32>
// CHECK: %[[RHS:.*]] = vector.transfer_read {{.*}} : tensor<1x16xf32>, vector<1x16xf32>
// CHECK: %[[ACC:.*]] = vector.transfer_read {{.*}} : tensor<16x16xf32>, vector<16x16xf32>
// CHECK: vector.contract {{.*}} %[[LHS]], %[[RHS]], %[[ACC]] : vector<16x1xf32>, vector<1x16xf32> into vector<16x16xf32>
// CHECK-NOT: linalg.matmul
// SIZES-LABEL: func.func @k_major(
// SIZES: vector.contract {{.*}} : vector<8x2xf32>, vector<2x4xf32> into vector<8x4xf32>
func.func @k_major(%a: tensor<32x32xf32>, %b: tensor<32x32xf32>, %c: tensor<32x32xf32>) -> tensor<32x32xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<32x32xf32>, tensor<32x32xf32>) outs(%c : tensor<32x32xf32>) -> tensor<32x32xf32>
  return %r : tensor<32x32xf32>
}

// -----

/// The same with dynamic sizes: partial tiles are masked.
// REPORT: remark: smepilot-tile-cpu: tiles [16, 16, 1] vector sizes [16, 16, 1] vectorized
// CHECK-LABEL: func.func @k_major_dynamic(
// CHECK: %[[MASK:.*]] = vector.create_mask %{{.*}}, %{{.*}}, %{{.*}} : vector<16x16x1xi1>
// CHECK: vector.mask %[[MASK]] { vector.contract
func.func @k_major_dynamic(%a: tensor<?x?xf32>, %b: tensor<?x?xf32>, %c: tensor<?x?xf32>) -> tensor<?x?xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<?x?xf32>, tensor<?x?xf32>) outs(%c : tensor<?x?xf32>) -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}

// -----

/// Elementwise: vector-width lanes along the innermost loop, 1 along the
/// others; a dimension no larger than its tile is not tiled.
// REPORT: remark: smepilot-tile-cpu: tiles [1, 0] vector sizes [1, 16] vectorized
// CHECK-LABEL: func.func @elementwise(
// CHECK: scf.for
// CHECK-NOT: scf.for
// CHECK: %[[X:.*]] = vector.transfer_read {{.*}} : tensor<1x16xf32>, vector<1x16xf32>
// CHECK: %[[Y:.*]] = vector.transfer_read {{.*}} : tensor<1x16xf32>, vector<1x16xf32>
// CHECK: %[[S:.*]] = arith.addf %[[X]], %[[Y]] : vector<1x16xf32>
// CHECK: vector.transfer_write %[[S]]
// CHECK-NOT: linalg.add
// SIZES-LABEL: func.func @elementwise(
// SIZES: arith.addf {{.*}} : vector<1x8xf32>
func.func @elementwise(%a: tensor<4x16xf32>, %b: tensor<4x16xf32>, %o: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %r = linalg.add ins(%a, %b : tensor<4x16xf32>, tensor<4x16xf32>) outs(%o : tensor<4x16xf32>) -> tensor<4x16xf32>
  return %r : tensor<4x16xf32>
}

// -----

/// A dynamic elementwise op: 16-lane tiles, the last one masked.
// REPORT: remark: smepilot-tile-cpu: tiles [16] vector sizes [16] vectorized
// CHECK-LABEL: func.func @elementwise_dynamic(
// CHECK: scf.for %{{.*}} step
// CHECK: %[[N:.*]] = affine.min
// CHECK: %[[MASK:.*]] = vector.create_mask %[[N]] : vector<16xi1>
// CHECK: vector.mask %[[MASK]] { vector.transfer_read
// CHECK: vector.mask %[[MASK]] { vector.transfer_write
func.func @elementwise_dynamic(%a: tensor<?xf32>, %o: tensor<?xf32>) -> tensor<?xf32> {
  %r = linalg.add ins(%a, %a : tensor<?xf32>, tensor<?xf32>) outs(%o : tensor<?xf32>) -> tensor<?xf32>
  return %r : tensor<?xf32>
}

// -----

/// 0-sized m, n or k: the op does no work and no vector has 0 lanes. It is
/// left alone (its loops, lowered later, run no iteration).
// REPORT: remark: smepilot-tile-cpu: empty iteration space, not tiled
// REPORT: remark: smepilot-tile-cpu: empty iteration space, not tiled
// REPORT: remark: smepilot-tile-cpu: empty iteration space, not tiled
// REPORT: remark: smepilot-tile-cpu: empty iteration space, not tiled
// CHECK-LABEL: func.func @zero_sized(
// CHECK-NOT: scf.for
// CHECK-NOT: vector.
// CHECK: linalg.matmul {{.*}} tensor<0x64xf32>
// CHECK: linalg.matmul {{.*}} tensor<0x64xf32>
// CHECK: linalg.matmul {{.*}} tensor<8x0xf32>
// CHECK: linalg.add {{.*}} tensor<0xf32>
// CHECK: return
func.func @zero_sized(%a: tensor<8x64xf32>, %w: tensor<32x64xf32>, %c: tensor<8x32xf32>,
                      %a0: tensor<0x64xf32>, %c0: tensor<0x32xf32>,
                      %w0: tensor<0x64xf32>, %cn0: tensor<8x0xf32>,
                      %ak0: tensor<8x0xf32>, %wk0: tensor<32x0xf32>,
                      %v0: tensor<0xf32>)
    -> (tensor<0x32xf32>, tensor<8x0xf32>, tensor<8x32xf32>, tensor<0xf32>) {
  %m0 = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
          ins(%a0, %w : tensor<0x64xf32>, tensor<32x64xf32>) outs(%c0 : tensor<0x32xf32>) -> tensor<0x32xf32>
  %n0 = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
          ins(%a, %w0 : tensor<8x64xf32>, tensor<0x64xf32>) outs(%cn0 : tensor<8x0xf32>) -> tensor<8x0xf32>
  %k0 = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
          ins(%ak0, %wk0 : tensor<8x0xf32>, tensor<32x0xf32>) outs(%c : tensor<8x32xf32>) -> tensor<8x32xf32>
  %e0 = linalg.add ins(%v0, %v0 : tensor<0xf32>, tensor<0xf32>) outs(%v0 : tensor<0xf32>) -> tensor<0xf32>
  return %m0, %n0, %k0, %e0 : tensor<0x32xf32>, tensor<8x0xf32>, tensor<8x32xf32>, tensor<0xf32>
}

// -----

/// Ops the pass leaves alone: an op the Roofline decision put on the matrix
/// unit (smepilot-tile-sme's), and ops on buffers (already bufferized).
// CHECK-LABEL: func.func @not_for_the_vector_cores(
// CHECK-NOT: scf.for
// CHECK-NOT: vector.
// CHECK: linalg.matmul {smepilot.decision = #smepilot.decision<{{.*}}mode = sme
// CHECK: linalg.add ins(%{{.*}} : memref<64xf32>, memref<64xf32>)
// CHECK: return
func.func @not_for_the_vector_cores(%a: tensor<64x64xf32>, %b: tensor<64x64xf32>, %c: tensor<64x64xf32>,
                                    %x: memref<64xf32>, %y: memref<64xf32>) -> tensor<64x64xf32> {
  %r = linalg.matmul {smepilot.decision = #smepilot.decision<kind = "matmul", shape_class = "gemm", elem = f32, mode = sme, flops = 524288, weight_bytes = 0, act_bytes = 49152, intensity = 10.7, cpu_us = 1.0, sme_us = 1.0, collab_us = 1.0, sme_fraction = 1.0, bound = "compute", vectorization = "reduction", reason = "forced", assumed = "">}
         ins(%a, %b : tensor<64x64xf32>, tensor<64x64xf32>) outs(%c : tensor<64x64xf32>) -> tensor<64x64xf32>
  linalg.add ins(%x, %x : memref<64xf32>, memref<64xf32>) outs(%y : memref<64xf32>)
  return %r : tensor<64x64xf32>
}

// -----

/// P V in decode (one query, the 4 query heads of a KV group, head_dim 64
/// contiguous in V and the output, the positions a dynamic reduction): the
/// m tile skips the unit query dimension and takes the 4 heads, and with 4
/// rows the n tile grows to all 64 columns (4 x 16 lanes), so each position
/// reads its V row once for the 16 accumulators of the 4 heads. Each operand
/// is read in its own shape (P: the 4 heads' weights of one position, V: one
/// row), not broadcast over the iteration space, and the contraction has no
/// leading unit dimensions: it lowers to outer products, not scalar code.
// REPORT: remark: smepilot-tile-cpu: tiles [1, 0, 0, 0, 1] vector sizes [1, 4, 1, 64, 1] vectorized
// CHECK-LABEL: func.func @pv_decode(
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}}
// CHECK: scf.for %[[N:.*]] = %{{.*}} to %{{.*}} step %{{.*}}
// CHECK: %[[P:.*]] = vector.transfer_read {{.*}} : tensor<1x4x1x1xf32>, vector<4x1x1xf32>
// CHECK: %[[V:.*]] = vector.transfer_read {{.*}} : tensor<1x1x64xf32>, vector<64xf32>
// CHECK: vector.contract {{.*}} : vector<4x1x1xf32>, vector<1x64xf32> into vector<4x1x64xf32>
// CHECK-NOT: linalg.generic
func.func @pv_decode(%p: tensor<8x4x1x?xf32>, %v: tensor<8x?x64xf32>, %c: tensor<8x4x1x64xf32>) -> tensor<8x4x1x64xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(g, h, q, d, n) -> (g, h, q, n)>,
                                        affine_map<(g, h, q, d, n) -> (g, n, d)>,
                                        affine_map<(g, h, q, d, n) -> (g, h, q, d)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %v : tensor<8x4x1x?xf32>, tensor<8x?x64xf32>) outs(%c : tensor<8x4x1x64xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<8x4x1x64xf32>
  return %r : tensor<8x4x1x64xf32>
}

// -----

/// Q K^T with head_dim split into [32, 2] (RoPE's rotated pairs, after
/// reshape propagation): the two trailing reduction loops, read as one
/// contiguous sequence by both inputs, are collapsed into one k of 64 before
/// the dot-product schedule (else k would be the 2-lane loop: 14 of every
/// 16 lanes masked off).
// REPORT: remark: smepilot-tile-cpu: dot-product schedule, register block 4x4, k vectors of 16
// CHECK-LABEL: func.func @qk_split_head_dim(
// CHECK-SAME: %[[Q:[^:]+]]: tensor<8x4x32x2xf32>, %[[K:[^:]+]]: tensor<8x?x32x2xf32>
// CHECK-DAG: %[[QC:.*]] = tensor.collapse_shape %[[Q]] {{\[}}[0], [1], [2, 3]] : tensor<8x4x32x2xf32> into tensor<8x4x64xf32>
// CHECK-DAG: %[[KC:.*]] = tensor.collapse_shape %[[K]] {{\[}}[0], [1], [2, 3]] : tensor<8x?x32x2xf32> into tensor<8x?x64xf32>
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} iter_args({{.*}}) -> (vector<16xf32>,
// CHECK: vector.transfer_read {{.*}} : tensor<1x4x64xf32>, vector<16xf32>
// CHECK: vector.fma
// CHECK-NOT: linalg.generic
func.func @qk_split_head_dim(%q: tensor<8x4x32x2xf32>, %k: tensor<8x?x32x2xf32>, %c: tensor<8x4x?xf32>) -> tensor<8x4x?xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(g, h, n, i, j) -> (g, h, i, j)>,
                                        affine_map<(g, h, n, i, j) -> (g, n, i, j)>,
                                        affine_map<(g, h, n, i, j) -> (g, h, n)>],
                       iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%q, %k : tensor<8x4x32x2xf32>, tensor<8x?x32x2xf32>) outs(%c : tensor<8x4x?xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<8x4x?xf32>
  return %r : tensor<8x4x?xf32>
}
