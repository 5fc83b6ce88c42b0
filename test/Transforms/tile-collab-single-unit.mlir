// RUN: smepilot-opt %s --smepilot-tile-sme | FileCheck %s --check-prefix=SME
// RUN: smepilot-opt %s --pass-pipeline="builtin.module(func.func(smepilot-tile-cpu))" | FileCheck %s --check-prefix=CPU

/// Until collab partitioning exists, a collab contraction runs whole on the
/// single unit the Roofline model predicts faster (getSingleUnit): SME here
/// (sme_us 5 < cpu_us 10). smepilot-tile-sme takes it; smepilot-tile-cpu
/// leaves it alone. Neither leaves it to scalar loops.
// SME-LABEL: func.func private @sme_faster_sme0(
// SME-SAME: smepilot.sme_kernel
// SME-LABEL: func.func @sme_faster(
// SME: call @sme_faster_sme0(
// SME-NOT: linalg.matmul
// CPU-LABEL: func.func @sme_faster(
// CPU-NOT: vector.
// CPU: linalg.matmul
// CPU-NOT: vector.
// CPU: return
func.func @sme_faster(%a: tensor<64x64xf32>, %b: tensor<64x64xf32>, %c: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %r = linalg.matmul {smepilot.decision = #smepilot.decision<kind = "matmul", shape_class = "gemm", elem = f32, mode = collab, flops = 524288, weight_bytes = 16384, act_bytes = 32768, intensity = 10.67, cpu_us = 10.0, sme_us = 5.0, collab_us = 4.0, sme_fraction = 0.6, bound = "compute", vectorization = "reduction", reason = "roofline", assumed = "">}
         ins(%a, %b : tensor<64x64xf32>, tensor<64x64xf32>) outs(%c : tensor<64x64xf32>) -> tensor<64x64xf32>
  return %r : tensor<64x64xf32>
}

/// The vector cores predicted faster (cpu_us 5 < sme_us 10): smepilot-tile-cpu
/// vectorizes it, smepilot-tile-sme does not take it.
// SME-LABEL: func.func @cpu_faster(
// SME-NOT: call
// SME: linalg.matmul
// CPU-LABEL: func.func @cpu_faster(
// CPU: vector.
// CPU-NOT: linalg.matmul
func.func @cpu_faster(%a: tensor<64x64xf32>, %b: tensor<64x64xf32>, %c: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %r = linalg.matmul {smepilot.decision = #smepilot.decision<kind = "matmul", shape_class = "gemm", elem = f32, mode = collab, flops = 524288, weight_bytes = 16384, act_bytes = 32768, intensity = 10.67, cpu_us = 5.0, sme_us = 10.0, collab_us = 4.0, sme_fraction = 0.4, bound = "compute", vectorization = "reduction", reason = "roofline", assumed = "">}
         ins(%a, %b : tensor<64x64xf32>, tensor<64x64xf32>) outs(%c : tensor<64x64xf32>) -> tensor<64x64xf32>
  return %r : tensor<64x64xf32>
}
