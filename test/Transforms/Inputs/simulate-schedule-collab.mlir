// A phase with one prefill projection, x[128, 2048] W[2048, 2048]^T, which
// the apple-m4 profile decides collab (simulate-schedule.mlir).
func.func @prefill(%x: tensor<128x2048xf32> {smepilot.name = "x"},
                   %w: tensor<2048x2048xf32> {smepilot.name = "w", smepilot.weight})
    -> (tensor<128x2048xf32> {smepilot.name = "y"})
    attributes {smepilot.phase = "prefill", smepilot.chunk = 128 : i64} {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<128x2048xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<128x2048xf32>) -> tensor<128x2048xf32>
  %y = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
      ins(%x, %w : tensor<128x2048xf32>, tensor<2048x2048xf32>) outs(%c : tensor<128x2048xf32>) -> tensor<128x2048xf32>
  return %y : tensor<128x2048xf32>
}
