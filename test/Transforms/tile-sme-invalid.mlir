// RUN: smepilot-opt %s -split-input-file -verify-diagnostics --smepilot-tile-sme=all-contractions=true

/// The 2-way widening outer product cannot be masked along K: a bf16
/// contraction needs a static K (to pad it to even).
func.func @bf16_dynamic_k(%a: tensor<?x?xbf16>, %w: tensor<?x?xbf16>, %c: tensor<?x?xf32>) -> tensor<?x?xf32> {
  // expected-error @+1 {{'linalg.matmul' op smepilot-tile-sme: a 'bf16' contraction needs a static K (the 2-way widening outer product cannot be masked along K)}}
  %r = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         ins(%a, %w : tensor<?x?xbf16>, tensor<?x?xbf16>) outs(%c : tensor<?x?xf32>) -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}

// -----

/// The same for i8 (4-way).
func.func @i8_dynamic_k(%a: tensor<?x?xi8>, %w: tensor<?x?xi8>, %c: tensor<?x?xi32>) -> tensor<?x?xi32> {
  // expected-error @+1 {{smepilot-tile-sme: a 'i8' contraction needs a static K (the 4-way widening}}
  %r = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         ins(%a, %w : tensor<?x?xi8>, tensor<?x?xi8>) outs(%c : tensor<?x?xi32>) -> tensor<?x?xi32>
  return %r : tensor<?x?xi32>
}

// -----

/// An op the Roofline decision put on SME whose element types the matrix
/// unit lowering does not support is an error (not silently left on the
/// vector cores).
func.func @decided_f64(%a: tensor<8x8xf64>, %b: tensor<8x8xf64>, %c: tensor<8x8xf64>) -> tensor<8x8xf64> {
  // expected-error @+1 {{'linalg.matmul' op smepilot-tile-sme: unsupported element types (f32, bf16/f16 -> f32, i8 -> i32 only)}}
  %r = linalg.matmul {smepilot.decision = #smepilot.decision<kind = "matmul", shape_class = "gemm", elem = f64, mode = sme, flops = 1024, weight_bytes = 0, act_bytes = 1536, intensity = 0.6, cpu_us = 1.0, sme_us = 1.0, collab_us = 1.0, sme_fraction = 1.0, bound = "memory", vectorization = "reduction", reason = "forced", assumed = "">}
         ins(%a, %b : tensor<8x8xf64>, tensor<8x8xf64>) outs(%c : tensor<8x8xf64>) -> tensor<8x8xf64>
  return %r : tensor<8x8xf64>
}

// -----

/// A contraction with two batch dimensions assigned to SME: at most one
/// batch dimension is supported.
func.func @decided_two_batch_dims(%a: tensor<2x3x8x8xf32>, %b: tensor<2x3x8x8xf32>, %c: tensor<2x3x8x8xf32>) -> tensor<2x3x8x8xf32> {
  // expected-error @+1 {{'linalg.generic' op smepilot-tile-sme: only matmul-like contractions on tensors (one m, n and k dimension, at most one batch dimension, multiply-accumulate body) can run on SME}}
  %r = linalg.generic {indexing_maps = [affine_map<(b0, b1, m, n, k) -> (b0, b1, m, k)>, affine_map<(b0, b1, m, n, k) -> (b0, b1, n, k)>, affine_map<(b0, b1, m, n, k) -> (b0, b1, m, n)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"],
                       smepilot.decision = #smepilot.decision<kind = "matmul", shape_class = "gemm", elem = f32, mode = sme, flops = 6144, weight_bytes = 0, act_bytes = 4608, intensity = 1.3, cpu_us = 1.0, sme_us = 1.0, collab_us = 1.0, sme_fraction = 1.0, bound = "memory", vectorization = "reduction", reason = "forced", assumed = "">}
      ins(%a, %b : tensor<2x3x8x8xf32>, tensor<2x3x8x8xf32>) outs(%c : tensor<2x3x8x8xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<2x3x8x8xf32>
  return %r : tensor<2x3x8x8xf32>
}

// -----

/// An elementwise op decided sme: the matrix unit only runs contractions.
func.func @decided_elementwise(%a: tensor<8xf32>, %o: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{'linalg.generic' op smepilot-tile-sme: only matmul-like contractions on tensors}}
  %r = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"],
                       smepilot.decision = #smepilot.decision<kind = "elementwise", shape_class = "elementwise", elem = f32, mode = sme, flops = 8, weight_bytes = 0, act_bytes = 64, intensity = 0.1, cpu_us = 1.0, sme_us = 1.0, collab_us = 1.0, sme_fraction = 1.0, bound = "memory", vectorization = "full", reason = "forced", assumed = "">}
      ins(%a : tensor<8xf32>) outs(%o : tensor<8xf32>) {
  ^bb0(%x: f32, %y: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  } -> tensor<8xf32>
  return %r : tensor<8xf32>
}
