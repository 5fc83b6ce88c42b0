// A phase without the module's smepilot.target (simulate-schedule.mlir).
func.func @p(%x: tensor<4xf32>) -> tensor<4xf32> attributes {smepilot.phase = "p"} {
  return %x : tensor<4xf32>
}
