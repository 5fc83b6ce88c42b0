// RUN: smepilot-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(smepilot-tile-cpu))" | FileCheck %s
// RUN: smepilot-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(smepilot-tile-cpu{report=true}))" 2>&1 >/dev/null | FileCheck %s --check-prefix=REPORT

/// Projections by weights in their GGUF types (the graph builder's forms,
/// lib/ModelBuilder/GraphEmitter.cpp) take the dot-product schedule: the
/// weight's own elements are read along k and widened or dequantized lane by
/// lane in registers, never converted in memory.

/// Q8_0 decode: loops (m, n, block, j); the quants are read 16 at a time
/// along j (k), the two scale bytes once per block (an outer reduction loop,
/// a scalar loop around the k loop) and splat.
// REPORT: remark: smepilot-tile-cpu: dot-product schedule, register block 1x1, 4 accumulator groups, k vectors of 16
// CHECK-LABEL: func.func @q8_0_decode(
// CHECK-SAME: %[[X:[^:]+]]: tensor<1x4x32xf32>, %[[QS:[^:]+]]: tensor<16x4x32xi8>, %[[SC:[^:]+]]: tensor<16x4x2xi8>
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK-DAG: %[[C16:.*]] = arith.constant 16 : index
// CHECK-DAG: %[[C32:.*]] = arith.constant 32 : index
/// One weight row at a time; the block loop is the one whose iterations go
/// round-robin to the 4 accumulator groups, each block's k loop on its own.
// CHECK: scf.for %[[N:[a-z0-9_]+]] = %[[C0]] to %[[C16]] step %[[C1]]
// CHECK: %[[QROW:.*]] = tensor.extract_slice %[[QS]][%[[N]], 0, 0] [1, 4, 32] [1, 1, 1]
// CHECK: %[[SROW:.*]] = tensor.extract_slice %[[SC]][%[[N]], 0, 0] [1, 4, 2] [1, 1, 1]
// CHECK: %[[ACC:.*]]:4 = scf.for %[[B:[a-z0-9_]+]] = %[[C0]] to %[[C4]] step %[[C4]] iter_args(%[[G0:[^ ]+]] = %{{.*}}, %[[G1:[^ ]+]] = %{{.*}}, %[[G2:[^ ]+]] = %{{.*}}, %[[G3:[^ ]+]] = %{{.*}}) -> (vector<16xf32>,
// CHECK: scf.for %[[K:[a-z0-9_]+]] = %[[C0]] to %[[C32]] step %[[C16]] iter_args(%{{.*}} = %[[G0]]) -> (vector<16xf32>)
// CHECK: vector.transfer_read %[[X]][%[[C0]], %[[B]], %[[K]]], {{.*}} : tensor<1x4x32xf32>, vector<16xf32>
// CHECK: %[[LO:.*]] = tensor.extract %[[SROW]][%{{.*}}, %[[B]], %[[C0]]] : tensor<1x4x2xi8>
// CHECK: %[[HI:.*]] = tensor.extract %{{.*}}[%{{.*}}, %[[B]], %[[C1]]] : tensor<1x4x2xi8>
// CHECK: %[[Q:.*]] = vector.transfer_read %[[QROW]][%{{.*}}, %[[B]], %[[K]]], {{.*}} : tensor<1x4x32xi8>, vector<16xi8>
// CHECK: arith.extui %[[LO]] : i8 to i16
// CHECK: arith.shli %{{.*}}, %{{.*}} : i16
// CHECK: arith.bitcast %{{.*}} : i16 to f16
// CHECK: %[[D:.*]] = arith.extf %{{.*}} : f16 to f32
// CHECK: %[[QF:.*]] = arith.sitofp %[[Q]] : vector<16xi8> to vector<16xf32>
// CHECK: %[[DV:.*]] = vector.broadcast %[[D]] : f32 to vector<16xf32>
// CHECK: %[[W:.*]] = arith.mulf %[[QF]], %[[DV]] : vector<16xf32>
// CHECK: vector.fma %{{.*}}, %[[W]], %{{.*}} : vector<16xf32>
// CHECK: scf.for %{{.*}} iter_args(%{{.*}} = %[[G1]])
// CHECK: scf.for %{{.*}} iter_args(%{{.*}} = %[[G2]])
// CHECK: scf.for %{{.*}} iter_args(%{{.*}} = %[[G3]])
// CHECK: arith.addf %{{.*}}, %[[ACC]]#1
// CHECK: vector.reduction <add>
// CHECK-NOT: linalg.generic
#x = affine_map<(m, n, b, j) -> (m, b, j)>
#q = affine_map<(m, n, b, j) -> (n, b, j)>
#lo = affine_map<(m, n, b, j) -> (n, b, 0)>
#hi = affine_map<(m, n, b, j) -> (n, b, 1)>
#c = affine_map<(m, n, b, j) -> (m, n)>
func.func @q8_0_decode(%x: tensor<1x4x32xf32>, %qs: tensor<16x4x32xi8>, %sc: tensor<16x4x2xi8>,
                       %init: tensor<1x16xf32>) -> tensor<1x16xf32> {
  %r = linalg.generic {indexing_maps = [#x, #q, #lo, #hi, #c],
                       iterator_types = ["parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %qs, %sc, %sc : tensor<1x4x32xf32>, tensor<16x4x32xi8>, tensor<16x4x2xi8>, tensor<16x4x2xi8>)
      outs(%init : tensor<1x16xf32>) {
  ^bb0(%xv: f32, %q: i8, %lo: i8, %hi: i8, %acc: f32):
    %eight = arith.constant 8 : i16
    %lo16 = arith.extui %lo : i8 to i16
    %hi16 = arith.extui %hi : i8 to i16
    %sh = arith.shli %hi16, %eight : i16
    %bits = arith.ori %sh, %lo16 : i16
    %h = arith.bitcast %bits : i16 to f16
    %d = arith.extf %h : f16 to f32
    %qf = arith.sitofp %q : i8 to f32
    %w = arith.mulf %qf, %d : f32
    %p = arith.mulf %xv, %w : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x16xf32>
  return %r : tensor<1x16xf32>
}

// -----

/// Q4_0 prefill: loops (m, n, block, half, i); i (16 bytes) is k, the half
/// selects the nibble through a constant shift table read per half.
// REPORT: remark: smepilot-tile-cpu: dot-product schedule, register block 4x4, k vectors of 16
// CHECK-LABEL: func.func @q4_0_prefill(
// CHECK: scf.for
// CHECK: scf.for
// CHECK: scf.for %[[B:[a-z0-9_]+]] = {{.*}} -> (vector<16xf32>,
// CHECK: scf.for %[[H:[a-z0-9_]+]] = {{.*}} -> (vector<16xf32>,
// CHECK: %[[S:.*]] = tensor.extract %{{.*}}[%[[H]]] : tensor<2xi8>
// CHECK: %[[BYTES:.*]] = vector.transfer_read %{{.*}}[%{{.*}}, %[[B]], %{{.*}}], {{.*}} : tensor<4x2x16xi8>, vector<16xi8>
// CHECK: %[[SV:.*]] = vector.broadcast %[[S]] : i8 to vector<16xi8>
// CHECK: %[[NIB:.*]] = arith.shrui %[[BYTES]], %[[SV]] : vector<16xi8>
// CHECK: %[[MASKED:.*]] = arith.andi %[[NIB]], %{{.*}} : vector<16xi8>
// CHECK: arith.subi %[[MASKED]], %{{.*}} : vector<16xi8>
// CHECK: arith.sitofp %{{.*}} : vector<16xi8> to vector<16xf32>
// CHECK-COUNT-16: vector.fma
#x4 = affine_map<(m, n, b, h, i) -> (m, b, h, i)>
#q4 = affine_map<(m, n, b, h, i) -> (n, b, i)>
#s4 = affine_map<(m, n, b, h, i) -> (h)>
#lo4 = affine_map<(m, n, b, h, i) -> (n, b, 0)>
#hi4 = affine_map<(m, n, b, h, i) -> (n, b, 1)>
#c4 = affine_map<(m, n, b, h, i) -> (m, n)>
func.func @q4_0_prefill(%x: tensor<8x2x2x16xf32>, %qs: tensor<16x2x16xi8>, %sc: tensor<16x2x2xi8>,
                        %init: tensor<8x16xf32>) -> tensor<8x16xf32> {
  %shifts = arith.constant dense<[0, 4]> : tensor<2xi8>
  %r = linalg.generic {indexing_maps = [#x4, #q4, #s4, #lo4, #hi4, #c4],
                       iterator_types = ["parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%x, %qs, %shifts, %sc, %sc : tensor<8x2x2x16xf32>, tensor<16x2x16xi8>, tensor<2xi8>, tensor<16x2x2xi8>, tensor<16x2x2xi8>)
      outs(%init : tensor<8x16xf32>) {
  ^bb0(%xv: f32, %byte: i8, %shift: i8, %lo: i8, %hi: i8, %acc: f32):
    %eight = arith.constant 8 : i16
    %lo16 = arith.extui %lo : i8 to i16
    %hi16 = arith.extui %hi : i8 to i16
    %sh = arith.shli %hi16, %eight : i16
    %bits = arith.ori %sh, %lo16 : i16
    %h = arith.bitcast %bits : i16 to f16
    %d = arith.extf %h : f16 to f32
    %fifteen = arith.constant 15 : i8
    %eight8 = arith.constant 8 : i8
    %nib = arith.shrui %byte, %shift : i8
    %m = arith.andi %nib, %fifteen : i8
    %c = arith.subi %m, %eight8 : i8
    %qf = arith.sitofp %c : i8 to f32
    %w = arith.mulf %qf, %d : f32
    %p = arith.mulf %xv, %w : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<8x16xf32>
  return %r : tensor<8x16xf32>
}

// -----

/// BF16: the weight is read as bf16 vectors and widened (arith.extf) in
/// registers.
// REPORT: remark: smepilot-tile-cpu: dot-product schedule, register block 1x1, 4 accumulator groups, k vectors of 16
// CHECK-LABEL: func.func @bf16_decode(
// CHECK: %[[W:.*]] = vector.transfer_read %{{.*}} : tensor<1x64xbf16>, vector<16xbf16>
// CHECK: %[[WF:.*]] = arith.extf %[[W]] : vector<16xbf16> to vector<16xf32>
// CHECK: vector.fma %{{.*}}, %[[WF]], %{{.*}} : vector<16xf32>
#m2 = affine_map<(m, n, k) -> (m, k)>
#n2 = affine_map<(m, n, k) -> (n, k)>
#o2 = affine_map<(m, n, k) -> (m, n)>
func.func @bf16_decode(%x: tensor<1x64xf32>, %w: tensor<32x64xbf16>, %init: tensor<1x32xf32>) -> tensor<1x32xf32> {
  %r = linalg.generic {indexing_maps = [#m2, #n2, #o2], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<1x64xf32>, tensor<32x64xbf16>) outs(%init : tensor<1x32xf32>) {
  ^bb0(%a: f32, %b: bf16, %acc: f32):
    %bf = arith.extf %b : bf16 to f32
    %p = arith.mulf %a, %bf : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x32xf32>
  return %r : tensor<1x32xf32>
}

// -----

/// Quants read with j not contiguous (a transposed block, [N, 32, blocks]):
/// no reduction loop is the last dimension of every input reading it, so
/// not the dot-product schedule (the vectorizer's, or scalar loops).
// REPORT: remark: smepilot-tile-cpu: tiles
// REPORT-NOT: dot-product schedule
#xt = affine_map<(m, n, b, j) -> (m, b, j)>
#qt = affine_map<(m, n, b, j) -> (n, j, b)>
#ct = affine_map<(m, n, b, j) -> (m, n)>
func.func @transposed_quants(%x: tensor<1x4x32xf32>, %qs: tensor<16x32x4xi8>, %init: tensor<1x16xf32>) -> tensor<1x16xf32> {
  %r = linalg.generic {indexing_maps = [#xt, #qt, #ct], iterator_types = ["parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %qs : tensor<1x4x32xf32>, tensor<16x32x4xi8>) outs(%init : tensor<1x16xf32>) {
  ^bb0(%a: f32, %q: i8, %acc: f32):
    %qf = arith.sitofp %q : i8 to f32
    %p = arith.mulf %a, %qf : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x16xf32>
  return %r : tensor<1x16xf32>
}
