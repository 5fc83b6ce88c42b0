// RUN: smepilot-opt %s -verify-diagnostics --pass-pipeline="builtin.module(func.func(smepilot-tile-cpu{contraction-tile-sizes=16,16}))"
// RUN: smepilot-opt %s -verify-diagnostics --pass-pipeline="builtin.module(func.func(smepilot-tile-cpu{contraction-tile-sizes=16,0,1}))"
// RUN: smepilot-opt %s -verify-diagnostics --pass-pipeline="builtin.module(func.func(smepilot-tile-cpu{vector-width=0}))"

/// Tile sizes are checked before any op is touched: three positive
/// contraction tile sizes (m, n, k) and a positive vector width.
// expected-error @+1 {{smepilot-tile-cpu: contraction-tile-sizes needs three positive sizes (m,n,k) and vector-width must be positive}}
func.func @bad_sizes(%a: tensor<32x32xf32>, %b: tensor<32x32xf32>, %c: tensor<32x32xf32>) -> tensor<32x32xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<32x32xf32>, tensor<32x32xf32>) outs(%c : tensor<32x32xf32>) -> tensor<32x32xf32>
  return %r : tensor<32x32xf32>
}
