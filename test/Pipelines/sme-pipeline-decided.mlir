// RUN: smepilot-opt %s --smepilot-sme-pipeline=stop-after=vectorize | FileCheck %s
// RUN: smepilot-opt %s --smepilot-sme-pipeline | FileCheck %s --check-prefix=LLVM

/// Without all-contractions the pipeline follows the Roofline decisions: in
/// one function, the projection decided `sme` becomes a streaming kernel and
/// the one decided `cpu` takes the host schedule (smepilot-tile-cpu's dot
/// products: vector.fma on 16 lanes along k), in normal mode.

// CHECK-LABEL: func.func private @two_projections_sme0(
// CHECK-SAME: attributes {smepilot.sme_kernel}
// CHECK: vector.outerproduct {{.*}} : vector<[8]xf32>, vector<[8]xf32>
// CHECK-NOT: func.func private
// CHECK-LABEL: func.func @two_projections(
// CHECK: %[[SME:.*]] = call @two_projections_sme0(
// CHECK-NOT: call @
// CHECK: vector.fma {{.*}} : vector<16xf32>
// CHECK-NOT: vector.outerproduct {{.*}}[8]
// CHECK: return

// LLVM-LABEL: llvm.func @two_projections_sme0(
// LLVM-SAME: arm_locally_streaming, arm_new_za
// LLVM: "arm_sme.intr.mopa"
// LLVM-LABEL: llvm.func @two_projections(
// LLVM-NOT: arm_
// LLVM: llvm.call @two_projections_sme0(
// LLVM: llvm.intr.fmuladd({{.*}}) : (vector<16xf32>, vector<16xf32>, vector<16xf32>) -> vector<16xf32>
func.func @two_projections(%x: tensor<32x64xf32>, %wq: tensor<64x64xf32>, %wk: tensor<16x64xf32>,
                           %q: tensor<32x64xf32>, %k: tensor<32x16xf32>) -> (tensor<32x64xf32>, tensor<32x16xf32>) {
  %0 = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         {smepilot.decision = #smepilot.decision<kind = "matmul", shape_class = "gemm", elem = f32, mode = sme, flops = 262144, weight_bytes = 16384, act_bytes = 16384, intensity = 8.0, cpu_us = 1.0, sme_us = 0.5, collab_us = 0.8, sme_fraction = 1.0, bound = "memory", vectorization = "reduction", reason = "forced", assumed = "">}
         ins(%x, %wq : tensor<32x64xf32>, tensor<64x64xf32>) outs(%q : tensor<32x64xf32>) -> tensor<32x64xf32>
  %1 = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         {smepilot.decision = #smepilot.decision<kind = "matmul", shape_class = "gemm", elem = f32, mode = cpu, flops = 65536, weight_bytes = 4096, act_bytes = 10240, intensity = 4.7, cpu_us = 0.5, sme_us = 0.6, collab_us = 0.8, sme_fraction = 0.0, bound = "memory", vectorization = "reduction", reason = "forced", assumed = "">}
         ins(%x, %wk : tensor<32x64xf32>, tensor<16x64xf32>) outs(%k : tensor<32x16xf32>) -> tensor<32x16xf32>
  return %0, %1 : tensor<32x64xf32>, tensor<32x16xf32>
}
