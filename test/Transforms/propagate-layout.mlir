// smepilot-propagate-layout: the matrix unit's operands are read K-major;
// every layout change (linalg.transpose) moves back until a producer writes
// that layout itself, two changes cancel, or nothing can (a function
// argument, a contraction); what is left carries its layout and the reason.

// RUN: smepilot-opt %s --smepilot-propagate-layout | FileCheck %s
// With report, a remark per function counts the changes.
// RUN: smepilot-opt %s --smepilot-propagate-layout=report -mlir-print-op-on-diagnostic=false -o /dev/null 2>&1 | FileCheck %s --check-prefix=REPORT
// With all-contractions (smepilot-tile-sme's, for --sme-all), contractions
// without a decision are laid out too.
// RUN: smepilot-opt %s --smepilot-propagate-layout=all-contractions | FileCheck %s --check-prefix=ALL
// The output parses back.
// RUN: smepilot-opt %s --smepilot-propagate-layout | smepilot-opt | FileCheck %s --check-prefix=ROUND
// ROUND-LABEL: func.func @insert

#mk = affine_map<(m, n, k) -> (m, k)>
#nk = affine_map<(m, n, k) -> (n, k)>
#mn = affine_map<(m, n, k) -> (m, n)>
#id2 = affine_map<(i, j) -> (i, j)>
#row = affine_map<(i, j) -> (i)>
#col = affine_map<(i, j) -> (j)>
#sme = #smepilot.decision<kind = "matmul", shape_class = "gemm", elem = f32, mode = sme, flops = 1, weight_bytes = 1, act_bytes = 1, intensity = 1.0, cpu_us = 2.0, sme_us = 1.0, collab_us = -1.0, sme_fraction = 1.0, bound = "compute", vectorization = "full", reason = "roofline", assumed = "">
#cpu = #smepilot.decision<kind = "matmul", shape_class = "gemm", elem = f32, mode = cpu, flops = 1, weight_bytes = 1, act_bytes = 1, intensity = 1.0, cpu_us = 1.0, sme_us = 2.0, collab_us = -1.0, sme_fraction = 0.0, bound = "compute", vectorization = "full", reason = "roofline", assumed = "">

// An activation argument: an explicit change, the contraction reads it
// K-major; the weight is tile-sme's (packed in the load table).
// REPORT: remark: smepilot-propagate-layout: 1 inserted, 0 written by producers (0 as a second output), 0 cancelled or composed, 0 at load, 1 left
// CHECK-LABEL: func.func @insert(
// CHECK:         %[[T:.*]] = linalg.transpose ins(%arg0 : tensor<16x32xf32>) outs(%{{.*}} : tensor<32x16xf32>) permutation = [1, 0]  {smepilot.layout = #smepilot.layout<outer_dims_perm = [1, 0]>, smepilot.layout_reason = "function argument 0 of @insert: its layout is the caller's"}
// CHECK:         linalg.matmul indexing_maps = [#[[KM:.*]], #[[NK:.*]], #[[MN:.*]]] {{.*}} ins(%[[T]], %arg1 : tensor<32x16xf32>, tensor<64x32xf32>)
func.func @insert(%x: tensor<16x32xf32>, %w: tensor<64x32xf32> {smepilot.weight}, %c: tensor<16x64xf32>) -> tensor<16x64xf32> {
  %r = linalg.matmul indexing_maps = [#mk, #nk, #mn] {smepilot.decision = #sme}
         ins(%x, %w : tensor<16x32xf32>, tensor<64x32xf32>) outs(%c : tensor<16x64xf32>) -> tensor<16x64xf32>
  return %r : tensor<16x64xf32>
}

// An elementwise chain: its last op writes K-major (output map (j, i)).
// REPORT: remark: smepilot-propagate-layout: 1 inserted, 1 written by producers (0 as a second output), 0 cancelled or composed, 0 at load, 0 left
// CHECK-LABEL: func.func @chain(
// CHECK-NOT:     linalg.transpose
// CHECK:         %[[E:.*]] = tensor.empty() : tensor<32x16xf32>
// CHECK:         %[[B:.*]] = linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #[[JI:.*]]], {{.*}} outs(%[[E]] : tensor<32x16xf32>)
// CHECK:           arith.mulf
// CHECK:         } -> tensor<32x16xf32>
// CHECK-NOT:     linalg.transpose
// CHECK:         linalg.matmul {{.*}} ins(%[[B]], %arg2 : tensor<32x16xf32>, tensor<64x32xf32>)
func.func @chain(%x: tensor<16x32xf32>, %g: tensor<32xf32>, %w: tensor<64x32xf32> {smepilot.weight}, %c: tensor<16x64xf32>) -> tensor<16x64xf32> {
  %e = tensor.empty() : tensor<16x32xf32>
  %a = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
         ins(%x : tensor<16x32xf32>) outs(%e : tensor<16x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    %n = arith.negf %in : f32
    linalg.yield %n : f32
  } -> tensor<16x32xf32>
  %b = linalg.generic {indexing_maps = [#id2, #col, #id2], iterator_types = ["parallel", "parallel"]}
         ins(%a, %g : tensor<16x32xf32>, tensor<32xf32>) outs(%e : tensor<16x32xf32>) {
  ^bb0(%in: f32, %s: f32, %out: f32):
    %m = arith.mulf %in, %s : f32
    linalg.yield %m : f32
  } -> tensor<16x32xf32>
  %r = linalg.matmul indexing_maps = [#mk, #nk, #mn] {smepilot.decision = #sme}
         ins(%b, %w : tensor<16x32xf32>, tensor<64x32xf32>) outs(%c : tensor<16x64xf32>) -> tensor<16x64xf32>
  return %r : tensor<16x64xf32>
}

// Two consumers, two layouts: the producer writes both in one pass.
// REPORT: remark: smepilot-propagate-layout: 1 inserted, 1 written by producers (1 as a second output), 0 cancelled or composed, 0 at load, 0 left
// CHECK-LABEL: func.func @dual(
// CHECK-NOT:     linalg.transpose
// CHECK:         %[[G:.*]]:2 = linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #[[JI]]], {{.*}} outs(%{{.*}}, %{{.*}} : tensor<16x32xf32>, tensor<32x16xf32>)
// CHECK:           %[[N:.*]] = arith.negf
// CHECK:           linalg.yield %[[N]], %[[N]] : f32, f32
// CHECK:         linalg.matmul {{.*}} ins(%[[G]]#1, %arg1 : tensor<32x16xf32>, tensor<64x32xf32>)
// CHECK:         linalg.matmul {{.*}} ins(%[[G]]#0, %arg1 : tensor<16x32xf32>, tensor<64x32xf32>)
func.func @dual(%x: tensor<16x32xf32>, %w: tensor<64x32xf32> {smepilot.weight}, %c: tensor<16x64xf32>) -> (tensor<16x64xf32>, tensor<16x64xf32>) {
  %e = tensor.empty() : tensor<16x32xf32>
  %a = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
         ins(%x : tensor<16x32xf32>) outs(%e : tensor<16x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    %n = arith.negf %in : f32
    linalg.yield %n : f32
  } -> tensor<16x32xf32>
  %r = linalg.matmul indexing_maps = [#mk, #nk, #mn] {smepilot.decision = #sme}
         ins(%a, %w : tensor<16x32xf32>, tensor<64x32xf32>) outs(%c : tensor<16x64xf32>) -> tensor<16x64xf32>
  %s = linalg.matmul indexing_maps = [#mk, #nk, #mn] {smepilot.decision = #cpu}
         ins(%a, %w : tensor<16x32xf32>, tensor<64x32xf32>) outs(%c : tensor<16x64xf32>) -> tensor<16x64xf32>
  return %r, %s : tensor<16x64xf32>, tensor<16x64xf32>
}

// Three consumers wanting the same layout (a norm feeding Q, K and V): the
// first change becomes a second output while the others still read the
// rows; the next ones, including the last reader of the rows, reuse it, so
// the producer writes the K-major layout once and its row-major result,
// left unused, is dropped, not rewritten into a duplicate K-major one.
// REPORT: remark: smepilot-propagate-layout: 3 inserted, 3 written by producers (1 as a second output), 0 cancelled or composed, 0 at load, 0 left
// CHECK-LABEL: func.func @same_layout_thrice(
// CHECK-NOT:     linalg.transpose
// CHECK:         %[[G:[^ ]*]] = linalg.generic {indexing_maps = [#{{.*}}, #[[JI]]], {{.*}} outs(%{{.*}} : tensor<32x16xf32>)
// CHECK:         linalg.matmul {{.*}} ins(%[[G]], %arg1 : tensor<32x16xf32>, tensor<64x32xf32>)
// CHECK:         linalg.matmul {{.*}} ins(%[[G]], %arg1 : tensor<32x16xf32>, tensor<64x32xf32>)
// CHECK:         linalg.matmul {{.*}} ins(%[[G]], %arg1 : tensor<32x16xf32>, tensor<64x32xf32>)
func.func @same_layout_thrice(%x: tensor<16x32xf32>, %w: tensor<64x32xf32> {smepilot.weight}, %c: tensor<16x64xf32>) -> (tensor<16x64xf32>, tensor<16x64xf32>, tensor<16x64xf32>) {
  %e = tensor.empty() : tensor<16x32xf32>
  %a = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
         ins(%x : tensor<16x32xf32>) outs(%e : tensor<16x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    %n = arith.negf %in : f32
    linalg.yield %n : f32
  } -> tensor<16x32xf32>
  %q = linalg.matmul indexing_maps = [#mk, #nk, #mn] {smepilot.decision = #sme}
         ins(%a, %w : tensor<16x32xf32>, tensor<64x32xf32>) outs(%c : tensor<16x64xf32>) -> tensor<16x64xf32>
  %k = linalg.matmul indexing_maps = [#mk, #nk, #mn] {smepilot.decision = #sme}
         ins(%a, %w : tensor<16x32xf32>, tensor<64x32xf32>) outs(%c : tensor<16x64xf32>) -> tensor<16x64xf32>
  %v = linalg.matmul indexing_maps = [#mk, #nk, #mn] {smepilot.decision = #sme}
         ins(%a, %w : tensor<16x32xf32>, tensor<64x32xf32>) outs(%c : tensor<16x64xf32>) -> tensor<16x64xf32>
  return %q, %k, %v : tensor<16x64xf32>, tensor<16x64xf32>, tensor<16x64xf32>
}

// Inverse changes cancel; consecutive ones compose into one.
// REPORT: remark: smepilot-propagate-layout: 0 inserted, 0 written by producers (0 as a second output), 2 cancelled or composed, 0 at load, 1 left
// CHECK-LABEL: func.func @cancel(
// CHECK:         %[[V:.*]] = tensor.expand_shape %arg0
// CHECK:         %[[T:.*]] = linalg.transpose ins(%[[V]] : tensor<4x4x32xf32>) outs(%{{.*}} : tensor<4x32x4xf32>) permutation = [1, 2, 0]
// CHECK-NOT:     linalg.transpose
// CHECK:         return %arg0, %[[T]]
func.func @cancel(%x: tensor<16x32xf32>) -> (tensor<16x32xf32>, tensor<4x32x4xf32>) {
  %e = tensor.empty() : tensor<32x16xf32>
  %t = linalg.transpose ins(%x : tensor<16x32xf32>) outs(%e : tensor<32x16xf32>) permutation = [1, 0]
  %e2 = tensor.empty() : tensor<16x32xf32>
  %u = linalg.transpose ins(%t : tensor<32x16xf32>) outs(%e2 : tensor<16x32xf32>) permutation = [1, 0]
  %v = tensor.expand_shape %x [[0, 1], [2]] output_shape [4, 4, 32] : tensor<16x32xf32> into tensor<4x4x32xf32>
  %e3 = tensor.empty() : tensor<4x4x32xf32>
  %t3 = linalg.transpose ins(%v : tensor<4x4x32xf32>) outs(%e3 : tensor<4x4x32xf32>) permutation = [1, 0, 2]
  %e4 = tensor.empty() : tensor<4x32x4xf32>
  %t4 = linalg.transpose ins(%t3 : tensor<4x4x32xf32>) outs(%e4 : tensor<4x32x4xf32>) permutation = [0, 2, 1]
  return %u, %t4 : tensor<16x32xf32>, tensor<4x32x4xf32>
}

// A weight's change runs once, in the load table.
// REPORT: remark: smepilot-propagate-layout: 0 inserted, 0 written by producers (0 as a second output), 0 cancelled or composed, 1 at load, 0 left
// CHECK-LABEL: func.func @hoist(
// CHECK:         linalg.transpose ins(%arg0 : tensor<64x32xf32>) {{.*}} smepilot.layout_reason = "weight: packed once, by the load table", smepilot.pack_at_load}
func.func @hoist(%w: tensor<64x32xf32> {smepilot.weight}) -> tensor<32x64xf32> {
  %e = tensor.empty() : tensor<32x64xf32>
  %t = linalg.transpose ins(%w : tensor<64x32xf32>) outs(%e : tensor<32x64xf32>) permutation = [1, 0]
  return %t : tensor<32x64xf32>
}

// A decode row [1, K] is its own K-major [K, 1]: a reshape, no change.
// REPORT: remark: smepilot-propagate-layout: 0 inserted, 0 written by producers (0 as a second output), 0 cancelled or composed, 0 at load, 0 left
// CHECK-LABEL: func.func @decode(
// CHECK-NOT:     linalg.transpose
// CHECK:         tensor.expand_shape {{.*}} into tensor<32x1xf32>
// CHECK:         linalg.matmul
func.func @decode(%x: tensor<1x32xf32>, %w: tensor<64x32xf32> {smepilot.weight}, %c: tensor<1x64xf32>) -> tensor<1x64xf32> {
  %r = linalg.matmul indexing_maps = [#mk, #nk, #mn] {smepilot.decision = #sme}
         ins(%x, %w : tensor<1x32xf32>, tensor<64x32xf32>) outs(%c : tensor<1x64xf32>) -> tensor<1x64xf32>
  return %r : tensor<1x64xf32>
}

// A reduction accumulating into a fill: the fill is redone in the new order
// and the reduction writes K-major.
// REPORT: remark: smepilot-propagate-layout: 1 inserted, 1 written by producers (0 as a second output), 0 cancelled or composed, 0 at load, 0 left
// CHECK-LABEL: func.func @reduction(
// CHECK:         %[[F:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<32x16xf32>)
// CHECK:         %[[S:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction", "parallel"]} ins(%arg0 : tensor<16x8x32xf32>) outs(%[[F]] : tensor<32x16xf32>)
// CHECK-NOT:     linalg.transpose
// CHECK:         linalg.matmul {{.*}} ins(%[[S]], %arg1 : tensor<32x16xf32>
func.func @reduction(%x: tensor<16x8x32xf32>, %w: tensor<64x32xf32> {smepilot.weight}, %c: tensor<16x64xf32>) -> tensor<16x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<16x32xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<16x32xf32>) -> tensor<16x32xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(i, r, j) -> (i, r, j)>, affine_map<(i, r, j) -> (i, j)>], iterator_types = ["parallel", "reduction", "parallel"]}
         ins(%x : tensor<16x8x32xf32>) outs(%f : tensor<16x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    %a = arith.addf %in, %out : f32
    linalg.yield %a : f32
  } -> tensor<16x32xf32>
  %r = linalg.matmul indexing_maps = [#mk, #nk, #mn] {smepilot.decision = #sme}
         ins(%s, %w : tensor<16x32xf32>, tensor<64x32xf32>) outs(%c : tensor<16x64xf32>) -> tensor<16x64xf32>
  return %r : tensor<16x64xf32>
}

// A named elementwise producer (a residual add) is generalized and writes
// K-major.
// REPORT: remark: smepilot-propagate-layout: 1 inserted, 1 written by producers (0 as a second output), 0 cancelled or composed, 0 at load, 0 left
// CHECK-LABEL: func.func @named(
// CHECK-NOT:     linalg.add
// CHECK:         %[[A:.*]] = linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #[[JI]]], {{.*}} outs(%{{.*}} : tensor<32x16xf32>)
// CHECK:           arith.addf
// CHECK-NOT:     linalg.transpose
// CHECK:         linalg.matmul {{.*}} ins(%[[A]], %arg2
func.func @named(%x: tensor<16x32xf32>, %y: tensor<16x32xf32>, %w: tensor<64x32xf32> {smepilot.weight}, %c: tensor<16x64xf32>) -> tensor<16x64xf32> {
  %e = tensor.empty() : tensor<16x32xf32>
  %a = linalg.add ins(%x, %y : tensor<16x32xf32>, tensor<16x32xf32>) outs(%e : tensor<16x32xf32>) -> tensor<16x32xf32>
  %r = linalg.matmul indexing_maps = [#mk, #nk, #mn] {smepilot.decision = #sme}
         ins(%a, %w : tensor<16x32xf32>, tensor<64x32xf32>) outs(%c : tensor<16x64xf32>) -> tensor<16x64xf32>
  return %r : tensor<16x64xf32>
}

// Heads sliced from RoPE's output and transposed one by one (pipelined
// attention's Q^T): the slices move behind one transposed tensor, which the
// RoPE generic (it reads its input at computed positions through
// linalg.index) writes itself.
// REPORT: remark: smepilot-propagate-layout: 0 inserted, 2 written by producers (1 as a second output), 0 cancelled or composed, 0 at load, 0 left
// CHECK-LABEL: func.func @rope_heads(
// CHECK-NOT:     linalg.transpose
// CHECK:         %[[R:.*]] = linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #[[HDS:.*]]], {{.*}} outs(%{{.*}} : tensor<2x8x16xf32>)
// CHECK:           linalg.index 2
// CHECK:         } -> tensor<2x8x16xf32>
// CHECK-NOT:     linalg.transpose
// CHECK:         %[[H0:.*]] = tensor.extract_slice %[[R]][0, 0, 0] [1, 8, 16] [1, 1, 1]
// CHECK:         %[[H1:.*]] = tensor.extract_slice %[[R]][1, 0, 0] [1, 8, 16] [1, 1, 1]
// CHECK:         return %[[H0]], %[[H1]]
func.func @rope_heads(%q: tensor<2x16x8xf32>, %cos: tensor<16xf32>) -> (tensor<1x8x16xf32>, tensor<1x8x16xf32>) {
  %e = tensor.empty() : tensor<2x16x8xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(h, s, d) -> (h, s, d)>, affine_map<(h, s, d) -> (s)>, affine_map<(h, s, d) -> (h, s, d)>], iterator_types = ["parallel", "parallel", "parallel"]}
         ins(%q, %cos : tensor<2x16x8xf32>, tensor<16xf32>) outs(%e : tensor<2x16x8xf32>) {
  ^bb0(%in: f32, %c: f32, %out: f32):
    %d = linalg.index 2 : index
    %c0 = arith.constant 0 : index
    %even = arith.cmpi eq, %d, %c0 : index
    %m = arith.mulf %in, %c : f32
    %s = arith.select %even, %m, %in : f32
    linalg.yield %s : f32
  } -> tensor<2x16x8xf32>
  %h0 = tensor.extract_slice %r[0, 0, 0] [1, 16, 8] [1, 1, 1] : tensor<2x16x8xf32> to tensor<1x16x8xf32>
  %e0 = tensor.empty() : tensor<1x8x16xf32>
  %t0 = linalg.transpose ins(%h0 : tensor<1x16x8xf32>) outs(%e0 : tensor<1x8x16xf32>) permutation = [0, 2, 1]
  %h1 = tensor.extract_slice %r[1, 0, 0] [1, 16, 8] [1, 1, 1] : tensor<2x16x8xf32> to tensor<1x16x8xf32>
  %e1 = tensor.empty() : tensor<1x8x16xf32>
  %t1 = linalg.transpose ins(%h1 : tensor<1x16x8xf32>) outs(%e1 : tensor<1x8x16xf32>) permutation = [0, 2, 1]
  return %t0, %t1 : tensor<1x8x16xf32>, tensor<1x8x16xf32>
}

// The K cache: this call's rows are inserted into the cache argument and
// attention reads a slice of it; the cache's layout is the ABI's, so the
// K-major copy for the matrix unit stays, and says why.
// REPORT: remark: smepilot-propagate-layout: 1 inserted, 0 written by producers (0 as a second output), 0 cancelled or composed, 0 at load, 1 left
// CHECK-LABEL: func.func @kv_cache(
// CHECK:         %[[C:.*]] = tensor.insert_slice %arg1 into %arg2
// CHECK:         %[[K:.*]] = tensor.extract_slice %[[C]]
// CHECK:         linalg.transpose ins(%[[K]] : tensor<2x?x8xf32>) outs(%{{.*}} : tensor<2x8x?xf32>) permutation = [0, 2, 1]  {smepilot.layout = #smepilot.layout<outer_dims_perm = [0, 2, 1]>, smepilot.layout_reason = "a slice of a cache argument (rows inserted this call): its layout is the ABI's"}
func.func @kv_cache(%q: tensor<2x16x8xf32>, %knew: tensor<2x16x8xf32>, %cache: tensor<2x64x8xf32>, %pos: index, %len: index, %s: tensor<2x16x?xf32>) -> tensor<2x16x?xf32> {
  %c = tensor.insert_slice %knew into %cache[0, %pos, 0] [2, 16, 8] [1, 1, 1] : tensor<2x16x8xf32> into tensor<2x64x8xf32>
  %k = tensor.extract_slice %c[0, 0, 0] [2, %len, 8] [1, 1, 1] : tensor<2x64x8xf32> to tensor<2x?x8xf32>
  %r = linalg.batch_matmul indexing_maps = [affine_map<(b, m, n, k) -> (b, k, m)>, affine_map<(b, m, n, k) -> (b, n, k)>, affine_map<(b, m, n, k) -> (b, m, n)>] {smepilot.decision = #sme}
         ins(%q, %k : tensor<2x16x8xf32>, tensor<2x?x8xf32>) outs(%s : tensor<2x16x?xf32>) -> tensor<2x16x?xf32>
  return %r : tensor<2x16x?xf32>
}

// A decode step's [1, heads, d] -> [heads, 1, d] moves a unit dimension
// only: a reshape (a view), not a copy.
// REPORT: remark: smepilot-propagate-layout: 0 inserted, 0 written by producers (0 as a second output), 1 cancelled or composed, 0 at load, 0 left
// CHECK-LABEL: func.func @unit_dims(
// CHECK-NOT:     linalg.transpose
// CHECK:         tensor.collapse_shape %arg0
// CHECK:         tensor.expand_shape
func.func @unit_dims(%x: tensor<1x4x8xf32>) -> tensor<4x1x8xf32> {
  %e = tensor.empty() : tensor<4x1x8xf32>
  %t = linalg.transpose ins(%x : tensor<1x4x8xf32>) outs(%e : tensor<4x1x8xf32>) permutation = [1, 0, 2]
  return %t : tensor<4x1x8xf32>
}

// No decision: left alone, unless all-contractions.
// CHECK-LABEL: func.func @undecided(
// CHECK-NOT:     linalg.transpose
// CHECK:         linalg.matmul indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}] ins(%arg0, %arg1
// ALL-LABEL:   func.func @undecided(
// ALL:           %[[T:.*]] = linalg.transpose ins(%arg0 : tensor<16x32xf32>) outs(%{{.*}} : tensor<32x16xf32>) permutation = [1, 0]
// ALL:           linalg.matmul {{.*}} ins(%[[T]], %arg1
func.func @undecided(%x: tensor<16x32xf32>, %w: tensor<64x32xf32> {smepilot.weight}, %c: tensor<16x64xf32>) -> tensor<16x64xf32> {
  %r = linalg.matmul indexing_maps = [#mk, #nk, #mn]
         ins(%x, %w : tensor<16x32xf32>, tensor<64x32xf32>) outs(%c : tensor<16x64xf32>) -> tensor<16x64xf32>
  return %r : tensor<16x64xf32>
}
