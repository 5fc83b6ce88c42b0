// RUN: smepilot-opt %s --smepilot-roofline-annotate="profile=apple-m4 force-mode=sme" --smepilot-tile-sme | FileCheck %s --check-prefixes=CHECK,DECIDED
// RUN: smepilot-opt %s --smepilot-tile-sme=all-contractions=true | FileCheck %s --check-prefixes=CHECK,ALL
// RUN: smepilot-opt %s --smepilot-tile-sme | FileCheck %s --check-prefix=NONE

/// Without a decision (and without all-contractions) nothing goes to SME.
// NONE-NOT: smepilot.sme_kernel
// NONE-NOT: linalg.transpose

/// A projection with [out, in] weights, f32, dynamic sizes. Both operands
/// are transposed into K-major layouts in front of the call (the weight's
/// transpose marked for load-time packing); the kernel tiles m and n by
/// [8] scalable elements (2x2 ZA tiles of [4]x[4] f32) and k by 1. The C tile
/// is read once before the k loop, carried through it as an iter_arg and
/// updated by one outer product of two contiguous rows per k step (no
/// gathers, no column reads), then written once.
// CHECK-LABEL: func.func private @projection_sme0(
// CHECK-SAME: %[[AT:[^:]*]]: tensor<?x?xf32>, %[[WT:[^:]*]]: tensor<?x?xf32>, %[[C:[^:]*]]: tensor<?x?xf32>) -> tensor<?x?xf32>
// CHECK-SAME: attributes {smepilot.sme_kernel}
// CHECK-NOT: vector.gather
// CHECK: %[[VS:.*]] = vector.vscale
// CHECK: %[[STEP:.*]] = arith.muli %[[VS]], %c8
// CHECK: scf.for %[[M:.*]] = %c0 to %{{.*}} step %[[STEP]]
// CHECK: scf.for %[[N:.*]] = %c0 to %{{.*}} step %[[STEP]]
// CHECK: %[[ACC0:.*]] = vector.transfer_read {{.*}} : tensor<?x?xf32>, vector<[8]x[8]xf32>
// CHECK: %[[ACC:.*]] = scf.for %[[K:.*]] = %c0 to %{{.*}} step %c1 iter_args(%[[ITER:.*]] = %[[ACC0]]) -> (vector<[8]x[8]xf32>)
// CHECK-DAG: %[[AROW:.*]] = tensor.extract_slice %[[AT]][%[[K]], %[[M]]] [1, %{{.*}}] [1, 1] : tensor<?x?xf32> to tensor<1x?xf32>
// CHECK-DAG: %[[WROW:.*]] = tensor.extract_slice %[[WT]][%[[K]], %[[N]]] [1, %{{.*}}] [1, 1] : tensor<?x?xf32> to tensor<1x?xf32>
// CHECK-DAG: vector.transfer_read %[[AROW]]{{.*}} : tensor<1x?xf32>, vector<1x[8]xf32>
// CHECK-DAG: vector.transfer_read %[[WROW]]{{.*}} : tensor<1x?xf32>, vector<1x[8]xf32>
// CHECK-NOT: vector.gather
// CHECK: %[[OP:.*]] = vector.mask %{{.*}} { vector.outerproduct %{{.*}}, %{{.*}}, %[[ITER]] {kind = #vector.kind<add>} : vector<[8]xf32>, vector<[8]xf32> }
// CHECK-NEXT: scf.yield %[[OP]] : vector<[8]x[8]xf32>
// CHECK: vector.transfer_write %[[ACC]]
// CHECK: return
// CHECK-LABEL: func.func @projection(
// CHECK-SAME: %[[A:[^:]*]]: tensor<?x?xf32>, %[[W:[^:]*]]: tensor<?x?xf32>, %[[C2:[^:]*]]: tensor<?x?xf32>)
// CHECK: %[[AT2:.*]] = linalg.transpose ins(%[[A]] : tensor<?x?xf32>) {{.*}} permutation = [1, 0]
// CHECK-NOT: smepilot.pack_at_load
// CHECK: %[[WT2:.*]] = linalg.transpose ins(%[[W]] : tensor<?x?xf32>) {{.*}} permutation = [1, 0] {smepilot.pack_at_load}
// CHECK: %[[R:.*]] = call @projection_sme0(%[[AT2]], %[[WT2]], %[[C2]])
// CHECK: return %[[R]]
func.func @projection(%a: tensor<?x?xf32>, %w: tensor<?x?xf32>, %c: tensor<?x?xf32>) -> tensor<?x?xf32> {
  %r = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         ins(%a, %w : tensor<?x?xf32>, tensor<?x?xf32>) outs(%c : tensor<?x?xf32>) -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}

/// A plain matmul (B already [k, n]): only A is transposed.
// CHECK-LABEL: func.func private @plain_sme0(
// CHECK: vector.outerproduct {{.*}} : vector<[8]xf32>, vector<[8]xf32>
// CHECK-LABEL: func.func @plain(
// CHECK-SAME: %[[A:[^:]*]]: tensor<33x31xf32>, %[[B:[^:]*]]: tensor<31x17xf32>
// CHECK: %[[AT:.*]] = linalg.transpose ins(%[[A]] : tensor<33x31xf32>) outs(%{{.*}} : tensor<31x33xf32>)
// CHECK-NOT: linalg.transpose
// CHECK: call @plain_sme0(%[[AT]], %[[B]], %{{.*}}) : (tensor<31x33xf32>, tensor<31x17xf32>, tensor<33x17xf32>)
func.func @plain(%a: tensor<33x31xf32>, %b: tensor<31x17xf32>, %c: tensor<33x17xf32>) -> tensor<33x17xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<33x31xf32>, tensor<31x17xf32>) outs(%c : tensor<33x17xf32>) -> tensor<33x17xf32>
  return %r : tensor<33x17xf32>
}

/// bf16 inputs, f32 accumulation, static even K = 6: both operands are
/// packed as [K/2, X, 2] (collapsed to [3, 2X]: row k2 holds every x's pair
/// k = 2 k2, 2 k2 + 1 side by side), so one contiguous [8] x bf16 load is the
/// operand of a 2-way widening outer product for [4] rows. The kernel holds
/// a 2 x 2 block of [4] x [4] f32 tiles as the iter_args of a k loop over
/// the K/2 pairs and issues four arm_sme.fmopa_2way per step: no extension,
/// no pairing of two k rows in registers. No padding.
// CHECK-LABEL: func.func private @bf16_k6_sme0(
// CHECK-SAME: %[[AP:[^:]*]]: tensor<3x?xbf16>, %[[WP:[^:]*]]: tensor<3x?xbf16>, %{{.*}}: tensor<?x?xf32>
// CHECK-COUNT-4: vector.transfer_read {{.*}} : tensor<?x?xf32>, vector<[4]x[4]xf32>
// CHECK: scf.for %[[K2:.*]] = %c0 to %c3 step %c1 iter_args(%[[C00:[^ ]*]] = %{{[^,]*}}, %[[C01:[^ ]*]] = %{{[^,]*}}, %[[C10:[^ ]*]] = %{{[^,]*}}, %[[C11:[^ ]*]] = %{{[^)]*}}) -> (vector<[4]x[4]xf32>, vector<[4]x[4]xf32>, vector<[4]x[4]xf32>, vector<[4]x[4]xf32>)
// CHECK-NEXT: %[[A0:.*]] = vector.transfer_read %[[AP]][%[[K2]], %{{.*}}], %{{.*}} {in_bounds = [true]} : tensor<3x?xbf16>, vector<[8]xbf16>
// CHECK-NEXT: %[[A1:.*]] = vector.transfer_read %[[AP]][%[[K2]], %{{.*}}], %{{.*}} {in_bounds = [true]} : tensor<3x?xbf16>, vector<[8]xbf16>
// CHECK-NEXT: %[[B0:.*]] = vector.transfer_read %[[WP]][%[[K2]], %{{.*}}], %{{.*}} {in_bounds = [true]} : tensor<3x?xbf16>, vector<[8]xbf16>
// CHECK-NEXT: %[[B1:.*]] = vector.transfer_read %[[WP]][%[[K2]], %{{.*}}], %{{.*}} {in_bounds = [true]} : tensor<3x?xbf16>, vector<[8]xbf16>
// CHECK-NEXT: %[[P00:.*]] = arm_sme.fmopa_2way %[[A0]], %[[B0]] acc(%[[C00]]) : vector<[8]xbf16>, vector<[8]xbf16> into vector<[4]x[4]xf32>
// CHECK-NEXT: %[[P01:.*]] = arm_sme.fmopa_2way %[[A0]], %[[B1]] acc(%[[C01]])
// CHECK-NEXT: %[[P10:.*]] = arm_sme.fmopa_2way %[[A1]], %[[B0]] acc(%[[C10]])
// CHECK-NEXT: %[[P11:.*]] = arm_sme.fmopa_2way %[[A1]], %[[B1]] acc(%[[C11]])
// CHECK-NEXT: scf.yield %[[P00]], %[[P01]], %[[P10]], %[[P11]]
// CHECK-COUNT-4: vector.transfer_write {{.*}} : vector<[4]x[4]xf32>, tensor<?x?xf32>
// CHECK-NOT: vector.interleave
// CHECK-NOT: arith.extf
// CHECK-LABEL: func.func @bf16_k6(
// CHECK-NOT: tensor.pad
// CHECK: %[[EA:.*]] = tensor.expand_shape %{{.*}} {{\[}}[0], [1, 2]] output_shape [%{{.*}}, 3, 2] : tensor<?x6xbf16> into tensor<?x3x2xbf16>
// CHECK: %[[PA:.*]] = linalg.generic {{.*}} ins(%[[EA]] : tensor<?x3x2xbf16>) outs(%{{.*}} : tensor<3x?x2xbf16>)
// CHECK: %[[CA:.*]] = tensor.collapse_shape %[[PA]] {{\[}}[0], [1, 2]] : tensor<3x?x2xbf16> into tensor<3x?xbf16>
// CHECK: %[[PW:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<3x?x2xbf16>) attrs = {smepilot.pack_at_load}
// CHECK: %[[CW:.*]] = tensor.collapse_shape %[[PW]]
// CHECK: call @bf16_k6_sme0(%[[CA]], %[[CW]], %{{.*}})
func.func @bf16_k6(%a: tensor<?x6xbf16>, %w: tensor<?x6xbf16>, %c: tensor<?x?xf32>) -> tensor<?x?xf32> {
  %r = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         ins(%a, %w : tensor<?x6xbf16>, tensor<?x6xbf16>) outs(%c : tensor<?x?xf32>) -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}

/// Odd K = 5 with bf16: both operands are padded with zeros to K = 6 along
/// their K dimension in the caller, before they are packed in pairs.
// CHECK-LABEL: func.func private @bf16_k5_sme0(
// CHECK-SAME: tensor<3x?xbf16>, %{{.*}}: tensor<3x?xbf16>
// CHECK: scf.for %{{.*}} = %c0 to %c3 step %c1
// CHECK-COUNT-4: arm_sme.fmopa_2way
// CHECK-LABEL: func.func @bf16_k5(
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : bf16
// CHECK: %[[PA:.*]] = tensor.pad %{{.*}} low[0, 0] high[0, 1]
// CHECK: tensor.yield %[[ZERO]]
// CHECK: tensor<?x5xbf16> to tensor<?x6xbf16>
// CHECK: tensor.expand_shape %[[PA]]
// CHECK: %[[PW:.*]] = tensor.pad %{{.*}} low[0, 0] high[0, 1]
// CHECK: tensor.expand_shape %[[PW]]
// CHECK: call @bf16_k5_sme0(
func.func @bf16_k5(%a: tensor<?x5xbf16>, %w: tensor<?x5xbf16>, %c: tensor<?x?xf32>) -> tensor<?x?xf32> {
  %r = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         ins(%a, %w : tensor<?x5xbf16>, tensor<?x5xbf16>) outs(%c : tensor<?x?xf32>) -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}

/// i8 x i8 -> i32, K = 8: packed as [K/4, X, 4]; the k loop runs over the
/// 2 quadruples with four 4-way widening arm_sme.smopa_4way per step on
/// [16] x i8 operand vectors.
// CHECK-LABEL: func.func private @i8_sme0(
// CHECK-SAME: tensor<2x?xi8>, %{{.*}}: tensor<2x?xi8>
// CHECK: scf.for %{{.*}} = %c0 to %c2 step %c1 iter_args(%{{.*}}) -> (vector<[4]x[4]xi32>, vector<[4]x[4]xi32>, vector<[4]x[4]xi32>, vector<[4]x[4]xi32>)
// CHECK-COUNT-4: vector.transfer_read {{.*}} : tensor<2x?xi8>, vector<[16]xi8>
// CHECK-COUNT-4: arm_sme.smopa_4way {{.*}} : vector<[16]xi8>, vector<[16]xi8> into vector<[4]x[4]xi32>
// CHECK-LABEL: func.func @i8(
// CHECK: tensor.expand_shape %{{.*}} {{\[}}[0], [1, 2]] output_shape [%{{.*}}, 2, 4]
func.func @i8(%a: tensor<?x8xi8>, %w: tensor<?x8xi8>, %c: tensor<?x?xi32>) -> tensor<?x?xi32> {
  %r = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         ins(%a, %w : tensor<?x8xi8>, tensor<?x8xi8>) outs(%c : tensor<?x?xi32>) -> tensor<?x?xi32>
  return %r : tensor<?x?xi32>
}

/// A linalg.generic contraction (Q K^T style, k contiguous in both) takes the
/// same path as the named form.
// CHECK-LABEL: func.func private @generic_sme0(
// CHECK: vector.outerproduct {{.*}} : vector<[8]xf32>, vector<[8]xf32>
// CHECK-LABEL: func.func @generic(
// CHECK: linalg.transpose
// CHECK: linalg.transpose
// CHECK: call @generic_sme0
func.func @generic(%q: tensor<16x64xf32>, %k: tensor<16x64xf32>, %s: tensor<16x16xf32>) -> tensor<16x16xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(i, j, d) -> (i, d)>, affine_map<(i, j, d) -> (j, d)>, affine_map<(i, j, d) -> (i, j)>],
                       iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%q, %k : tensor<16x64xf32>, tensor<16x64xf32>) outs(%s : tensor<16x16xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %a = arith.addf %acc, %p : f32
    linalg.yield %a : f32
  } -> tensor<16x16xf32>
  return %r : tensor<16x16xf32>
}

/// Attention's Q K^T in bf16, batched over heads: the packed operands keep
/// the batch dimension in front ([B, K/2, 2X]), and the kernel loops over the
/// batch, running the 2-D schedule on rank-reduced slices.
// CHECK-LABEL: func.func private @qkt_sme0(
// CHECK-SAME: %[[QT:[^:]*]]: tensor<8x32x66xbf16>, %[[KT:[^:]*]]: tensor<8x32x34xbf16>, %[[S:[^:]*]]: tensor<8x33x17xf32>
// CHECK: %[[OUT:.*]] = scf.for %[[B:.*]] = %c0 to %c8 step %c1 iter_args(%[[SB:.*]] = %[[S]]) -> (tensor<8x33x17xf32>)
// CHECK-DAG: tensor.extract_slice %[[QT]][%[[B]], 0, 0] [1, 32, 66] [1, 1, 1] : tensor<8x32x66xbf16> to tensor<32x66xbf16>
// CHECK-DAG: tensor.extract_slice %[[KT]][%[[B]], 0, 0] [1, 32, 34] [1, 1, 1] : tensor<8x32x34xbf16> to tensor<32x34xbf16>
// CHECK-DAG: %[[S2:.*]] = tensor.extract_slice %[[SB]][%[[B]], 0, 0] [1, 33, 17] [1, 1, 1] : tensor<8x33x17xf32> to tensor<33x17xf32>
// CHECK: %[[T:.*]] = scf.for %{{.*}} iter_args(%{{.*}} = %[[S2]]) -> (tensor<33x17xf32>)
// CHECK: scf.for %{{.*}} = %c0 to %c32 step %c1 iter_args(%{{.*}}) -> (vector<[4]x[4]xf32>, vector<[4]x[4]xf32>, vector<[4]x[4]xf32>, vector<[4]x[4]xf32>)
// CHECK: arm_sme.fmopa_2way
// CHECK: tensor.insert_slice %[[T]] into %[[SB]][%[[B]], 0, 0] [1, 33, 17] [1, 1, 1]
// CHECK: return %[[OUT]]
// CHECK-LABEL: func.func @qkt(
// CHECK: tensor.expand_shape %{{.*}} {{\[}}[0], [1], [2, 3]] output_shape [8, 33, 32, 2]
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<8x32x33x2xbf16>)
// CHECK: tensor.collapse_shape %{{.*}} : tensor<8x32x33x2xbf16> into tensor<8x32x66xbf16>
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<8x32x17x2xbf16>) attrs = {smepilot.pack_at_load}
// CHECK: call @qkt_sme0
func.func @qkt(%q: tensor<8x33x64xbf16>, %k: tensor<8x17x64xbf16>, %s: tensor<8x33x17xf32>) -> tensor<8x33x17xf32> {
  %r = linalg.batch_matmul indexing_maps = [affine_map<(b, m, n, k) -> (b, m, k)>, affine_map<(b, m, n, k) -> (b, n, k)>, affine_map<(b, m, n, k) -> (b, m, n)>]
         ins(%q, %k : tensor<8x33x64xbf16>, tensor<8x17x64xbf16>) outs(%s : tensor<8x33x17xf32>) -> tensor<8x33x17xf32>
  return %r : tensor<8x33x17xf32>
}

/// f64 has no ZA accumulator type here: with all-contractions it stays on
/// the vector cores (untouched).
// ALL-LABEL: func.func @f64(
// ALL-NOT: call
// ALL: linalg.matmul
// DECIDED-LABEL: func.func @f64(
// DECIDED-NOT: call
// DECIDED: linalg.matmul
func.func @f64(%a: tensor<8x8xf64>, %b: tensor<8x8xf64>, %c: tensor<8x8xf64>) -> tensor<8x8xf64> {
  %r = linalg.matmul ins(%a, %b : tensor<8x8xf64>, tensor<8x8xf64>) outs(%c : tensor<8x8xf64>) -> tensor<8x8xf64>
  return %r : tensor<8x8xf64>
}

/// A 0-sized m (an empty prompt): outlined like any other contraction, and
/// the kernel's loops over 0 rows fold away, leaving C as it was. The pass
/// must not build 0-lane vectors or divide by the 0 extent.
// CHECK-LABEL: func.func private @empty_m_sme0(
// CHECK-SAME: %{{.*}}: tensor<64x0xf32>, %{{.*}}: tensor<64x32xf32>, %[[C:.*]]: tensor<0x32xf32>) -> tensor<0x32xf32> attributes {smepilot.sme_kernel}
// CHECK-NEXT: return %[[C]] : tensor<0x32xf32>
// CHECK-LABEL: func.func @empty_m(
// CHECK: linalg.transpose ins(%{{.*}} : tensor<0x64xf32>) outs(%{{.*}} : tensor<64x0xf32>) permutation = [1, 0]
// CHECK: call @empty_m_sme0
func.func @empty_m(%a: tensor<0x64xf32>, %b: tensor<64x32xf32>, %c: tensor<0x32xf32>) -> tensor<0x32xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<0x64xf32>, tensor<64x32xf32>) outs(%c : tensor<0x32xf32>) -> tensor<0x32xf32>
  return %r : tensor<0x32xf32>
}

/// A decode matvec (a static M = 1, f32): a streaming-SVE FMLA kernel
/// instead of outer products (which would fill one row of a ZA tile). n is
/// tiled by [16] scalable lanes (four SVE vectors), k by 1; each k step reads
/// the contiguous row Wt[k, n : n + 16 x vscale] under the n mask,
/// broadcasts x[k] and accumulates with one FMA into the k loop's iter_arg;
/// C is read and written once per n tile. The kernel has no arm_sme op, so it
/// is marked streaming itself.
// CHECK-LABEL: func.func private @matvec_sme0(
// CHECK-SAME: %[[XT:[^:]*]]: tensor<64x1xf32>, %[[WT:[^:]*]]: tensor<64x100xf32>, %[[C:[^:]*]]: tensor<1x100xf32>) -> tensor<1x100xf32>
// CHECK-SAME: attributes {arm_locally_streaming, smepilot.sme_kernel}
// CHECK-NOT: vector.outerproduct
// CHECK: %[[VS:.*]] = vector.vscale
// CHECK: %[[LANES:.*]] = arith.muli %[[VS]], %c16
// CHECK: scf.for %[[N:.*]] = %c0 to %c100 step %[[LANES]] iter_args(%[[CT:.*]] = %[[C]])
// CHECK: %[[MASK:.*]] = vector.create_mask %{{.*}} : vector<[16]xi1>
// CHECK: %[[ACC0:.*]] = vector.transfer_read %[[CT]][%c0, %[[N]]], %{{.*}}, %[[MASK]] {in_bounds = [true]} : tensor<1x100xf32>, vector<[16]xf32>
// CHECK: %[[ACC:.*]] = scf.for %[[K:.*]] = %c0 to %c64 step %c1 iter_args(%[[ITER:.*]] = %[[ACC0]]) -> (vector<[16]xf32>)
// CHECK: %[[X:.*]] = tensor.extract %[[XT]][%[[K]], %c0]
// CHECK: %[[XS:.*]] = vector.broadcast %[[X]] : f32 to vector<[16]xf32>
// CHECK: %[[W:.*]] = vector.transfer_read %[[WT]][%[[K]], %[[N]]], %{{.*}}, %[[MASK]] {in_bounds = [true]} : tensor<64x100xf32>, vector<[16]xf32>
// CHECK: %[[FMA:.*]] = vector.fma %[[XS]], %[[W]], %[[ITER]] : vector<[16]xf32>
// CHECK: scf.yield %[[FMA]]
// CHECK: vector.transfer_write %[[ACC]], %[[CT]][%c0, %[[N]]], %[[MASK]] {in_bounds = [true]}
// CHECK-LABEL: func.func @matvec(
// CHECK: call @matvec_sme0(
func.func @matvec(%x: tensor<1x64xf32>, %w: tensor<100x64xf32>, %c: tensor<1x100xf32>) -> tensor<1x100xf32> {
  %r = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         ins(%x, %w : tensor<1x64xf32>, tensor<100x64xf32>) outs(%c : tensor<1x100xf32>) -> tensor<1x100xf32>
  return %r : tensor<1x100xf32>
}
