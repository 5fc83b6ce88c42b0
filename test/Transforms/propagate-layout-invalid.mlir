// smepilot-propagate-layout on an op decided sme that no layout of the
// matrix unit can feed: a diagnostic naming the op and why, never a crash.

// RUN: smepilot-opt %s -split-input-file -verify-diagnostics --smepilot-propagate-layout

#mk = affine_map<(m, n, k) -> (m, k)>
#nk = affine_map<(m, n, k) -> (n, k)>
#mn = affine_map<(m, n, k) -> (m, n)>
#sme = #smepilot.decision<kind = "matmul", shape_class = "gemm", elem = f64, mode = sme, flops = 1, weight_bytes = 1, act_bytes = 1, intensity = 1.0, cpu_us = 2.0, sme_us = 1.0, collab_us = -1.0, sme_fraction = 1.0, bound = "compute", vectorization = "full", reason = "roofline", assumed = "">

// f64: the outer products take f32, bf16/f16 and i8 only.
func.func @f64(%x: tensor<16x32xf64>, %w: tensor<64x32xf64>, %c: tensor<16x64xf64>) -> tensor<16x64xf64> {
  // expected-error @+1 {{smepilot-propagate-layout: no layout of the matrix unit can feed this op (decided sme): unsupported element types (f32, bf16/f16 -> f32, i8 -> i32 only)}}
  %r = linalg.matmul indexing_maps = [#mk, #nk, #mn] {smepilot.decision = #sme}
         ins(%x, %w : tensor<16x32xf64>, tensor<64x32xf64>) outs(%c : tensor<16x64xf64>) -> tensor<16x64xf64>
  return %r : tensor<16x64xf64>
}

// -----

#sme = #smepilot.decision<kind = "generic", shape_class = "elementwise", elem = f32, mode = sme, flops = 1, weight_bytes = 1, act_bytes = 1, intensity = 1.0, cpu_us = 2.0, sme_us = 1.0, collab_us = -1.0, sme_fraction = 1.0, bound = "compute", vectorization = "full", reason = "roofline", assumed = "">

// Not a contraction: there is no K to lay out.
func.func @elementwise(%x: tensor<16x32xf32>) -> tensor<16x32xf32> {
  %e = tensor.empty() : tensor<16x32xf32>
  // expected-error @+1 {{smepilot-propagate-layout: no layout of the matrix unit can feed this op (decided sme): only matmul-like contractions on tensors}}
  %r = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} {smepilot.decision = #sme}
         ins(%x : tensor<16x32xf32>) outs(%e : tensor<16x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    %n = arith.negf %in : f32
    linalg.yield %n : f32
  } -> tensor<16x32xf32>
  return %r : tensor<16x32xf32>
}
