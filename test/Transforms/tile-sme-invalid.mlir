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

/// A batched contraction assigned to SME: only 2-D contractions are tiled.
func.func @decided_batch(%a: tensor<2x8x8xf32>, %b: tensor<2x8x8xf32>, %c: tensor<2x8x8xf32>) -> tensor<2x8x8xf32> {
  // expected-error @+1 {{'linalg.batch_matmul' op smepilot-tile-sme: only 2-D matmul-like contractions on tensors (one m, n and k dimension, multiply-accumulate body) can run on SME}}
  %r = linalg.batch_matmul {smepilot.decision = #smepilot.decision<kind = "matmul", shape_class = "gemm", elem = f32, mode = sme, flops = 2048, weight_bytes = 0, act_bytes = 1536, intensity = 1.3, cpu_us = 1.0, sme_us = 1.0, collab_us = 1.0, sme_fraction = 1.0, bound = "memory", vectorization = "reduction", reason = "forced", assumed = "">}
         ins(%a, %b : tensor<2x8x8xf32>, tensor<2x8x8xf32>) outs(%c : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  return %r : tensor<2x8x8xf32>
}
