// RUN: smepilot-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(smepilot-fuse-elementwise))" | FileCheck %s

/// A costly producer (silu: exp and a division) stays out of a contraction:
/// fused, its body would run once per use of each element (N / 4 times in
/// the dot-product schedule's prefill blocks). The cheap product with `up`
/// (a mulf) is fused into the silu generic itself, which has no reduction.
// CHECK-LABEL: func.func @swiglu_into_down
// CHECK: %[[ACT:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]
// CHECK: math.exp
// CHECK: arith.divf
// CHECK: arith.mulf
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]
// CHECK-SAME: ins(%[[ACT]], %{{.*}} : tensor<4x8xf32>, tensor<16x8xf32>)
// CHECK-NOT: math.exp
// CHECK: return
#id = affine_map<(i, j) -> (i, j)>
#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (n, k)>
#c = affine_map<(m, n, k) -> (m, n)>
func.func @swiglu_into_down(%gate: tensor<4x8xf32>, %up: tensor<4x8xf32>, %w: tensor<16x8xf32>,
                            %init: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %e = tensor.empty() : tensor<4x8xf32>
  %act = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%gate, %up : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%g: f32, %u: f32, %o: f32):
    %one = arith.constant 1.0 : f32
    %n = arith.negf %g : f32
    %x = math.exp %n : f32
    %d = arith.addf %one, %x : f32
    %s = arith.divf %g, %d : f32
    %y = arith.mulf %s, %u : f32
    linalg.yield %y : f32
  } -> tensor<4x8xf32>
  %r = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%act, %w : tensor<4x8xf32>, tensor<16x8xf32>) outs(%init : tensor<4x16xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<4x16xf32>
  return %r : tensor<4x16xf32>
}

// -----

/// A cheap producer (the final RMSNorm's x * scale * weight) is fused into
/// the LM head, so the normalized rows are never written.
// CHECK-LABEL: func.func @norm_into_head
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]
// CHECK-SAME: ins(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x8xf32>, tensor<1xf32>, tensor<8xf32>, tensor<16x8xf32>)
// CHECK-NOT: linalg.generic
// CHECK: return
#id = affine_map<(i, j) -> (i, j)>
#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (n, k)>
#c = affine_map<(m, n, k) -> (m, n)>
#row = affine_map<(i, j) -> (i)>
#col = affine_map<(i, j) -> (j)>
func.func @norm_into_head(%x: tensor<1x8xf32>, %scale: tensor<1xf32>, %nw: tensor<8xf32>, %w: tensor<16x8xf32>,
                          %init: tensor<1x16xf32>) -> tensor<1x16xf32> {
  %e = tensor.empty() : tensor<1x8xf32>
  %h = linalg.generic {indexing_maps = [#id, #row, #col, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x, %scale, %nw : tensor<1x8xf32>, tensor<1xf32>, tensor<8xf32>) outs(%e : tensor<1x8xf32>) {
  ^bb0(%a: f32, %s: f32, %g: f32, %o: f32):
    %t = arith.mulf %a, %s : f32
    %y = arith.mulf %t, %g : f32
    linalg.yield %y : f32
  } -> tensor<1x8xf32>
  %r = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%h, %w : tensor<1x8xf32>, tensor<16x8xf32>) outs(%init : tensor<1x16xf32>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x16xf32>
  return %r : tensor<1x16xf32>
}

// -----

/// Costly producers still fuse into elementwise consumers (no reduction):
/// exp then a scale become one generic.
// CHECK-LABEL: func.func @costly_into_elementwise
// CHECK: linalg.generic
// CHECK: math.exp
// CHECK: arith.mulf
// CHECK-NOT: linalg.generic
// CHECK: return
#id = affine_map<(i, j) -> (i, j)>
func.func @costly_into_elementwise(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %e = tensor.empty() : tensor<4x8xf32>
  %a = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%v: f32, %o: f32):
    %y = math.exp %v : f32
    linalg.yield %y : f32
  } -> tensor<4x8xf32>
  %e2 = tensor.empty() : tensor<4x8xf32>
  %b = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%a : tensor<4x8xf32>) outs(%e2 : tensor<4x8xf32>) {
  ^bb0(%v: f32, %o: f32):
    %two = arith.constant 2.0 : f32
    %y = arith.mulf %v, %two : f32
    linalg.yield %y : f32
  } -> tensor<4x8xf32>
  return %b : tensor<4x8xf32>
}

// -----

/// RoPE (its body reads linalg.index to pick a pair's half) is not fused
/// into Q K^T: it would be recomputed for every key, and the contraction
/// would lose the dot-product form smepilot-tile-cpu schedules.
// CHECK-LABEL: func.func @rope_not_into_scores
// CHECK: %[[ROT:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel"]
// CHECK: linalg.index 2
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction", "reduction"]
// CHECK-SAME: ins(%[[ROT]], %{{.*}} : tensor<4x32x2xf32>, tensor<16x32x2xf32>)
// CHECK-NOT: linalg.index
// CHECK: return
func.func @rope_not_into_scores(%q: tensor<4x32x2xf32>, %cos: tensor<32xf32>, %sin: tensor<32xf32>,
                                %k: tensor<16x32x2xf32>, %init: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %e = tensor.empty() : tensor<4x32x2xf32>
  %rot = linalg.generic {indexing_maps = [affine_map<(h, i, j) -> (h, i, 0)>, affine_map<(h, i, j) -> (h, i, 1)>,
                                          affine_map<(h, i, j) -> (i)>, affine_map<(h, i, j) -> (i)>,
                                          affine_map<(h, i, j) -> (h, i, j)>],
                         iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%q, %q, %cos, %sin : tensor<4x32x2xf32>, tensor<4x32x2xf32>, tensor<32xf32>, tensor<32xf32>)
      outs(%e : tensor<4x32x2xf32>) {
  ^bb0(%x0: f32, %x1: f32, %c: f32, %s: f32, %o: f32):
    %j = linalg.index 2 : index
    %zero = arith.constant 0 : index
    %a = arith.mulf %x0, %c : f32
    %b = arith.mulf %x1, %s : f32
    %r0 = arith.subf %a, %b : f32
    %d = arith.mulf %x0, %s : f32
    %f = arith.mulf %x1, %c : f32
    %r1 = arith.addf %d, %f : f32
    %first = arith.cmpi eq, %j, %zero : index
    %r = arith.select %first, %r0, %r1 : f32
    linalg.yield %r : f32
  } -> tensor<4x32x2xf32>
  %scores = linalg.generic {indexing_maps = [affine_map<(h, n, i, j) -> (h, i, j)>, affine_map<(h, n, i, j) -> (n, i, j)>,
                                             affine_map<(h, n, i, j) -> (h, n)>],
                            iterator_types = ["parallel", "parallel", "reduction", "reduction"]}
      ins(%rot, %k : tensor<4x32x2xf32>, tensor<16x32x2xf32>) outs(%init : tensor<4x16xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<4x16xf32>
  return %scores : tensor<4x16xf32>
}

// -----

/// The fused op keeps both locations: the producer's (a norm's scaling, say)
/// and the consumer's (a k-pair pack recording a layout change), so the
/// compiled model's explain export still sees the op the producer computes
/// (upstream's fusion keeps the consumer's location alone).
// RUN: smepilot-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(smepilot-fuse-elementwise))" -mlir-print-debuginfo | FileCheck %s --check-prefix=LOC
// LOC-LABEL: func.func @scale_into_pack
// LOC: linalg.generic
// LOC: arith.mulf
// LOC: arith.truncf
// LOC: } -> tensor<4x8xbf16> loc(#[[FUSED:loc[0-9]*]])
// LOC-NOT: linalg.generic
// LOC: return
// LOC-DAG: #[[PRODUCER:loc[0-9]*]] = loc("scale")
// LOC-DAG: #[[CONSUMER:loc[0-9]*]] = loc("pack")
// LOC-DAG: #[[FUSED]] = loc(fused[#[[CONSUMER]], #[[PRODUCER]]])
#id2 = affine_map<(i, j) -> (i, j)>
func.func @scale_into_pack(%x: tensor<4x8xf32>, %s: tensor<4x8xf32>) -> tensor<4x8xbf16> {
  %e = tensor.empty() : tensor<4x8xf32>
  %y = linalg.generic {indexing_maps = [#id2, #id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%x, %s : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    linalg.yield %m : f32
  } -> tensor<4x8xf32> loc("scale")
  %eb = tensor.empty() : tensor<4x8xbf16>
  %p = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%y : tensor<4x8xf32>) outs(%eb : tensor<4x8xbf16>) {
  ^bb0(%a: f32, %o: bf16):
    %t = arith.truncf %a : f32 to bf16
    linalg.yield %t : bf16
  } -> tensor<4x8xbf16> loc("pack")
  return %p : tensor<4x8xbf16>
}
