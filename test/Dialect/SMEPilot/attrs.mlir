// RUN: smepilot-opt %s | FileCheck %s
// RUN: smepilot-opt %s | smepilot-opt | FileCheck %s

/// A full target profile round-trips, with shortest-form doubles.
// CHECK: module attributes {smepilot.target = #smepilot.target<name = "m4", arch = "aarch64", features = "+sme2", vector_cores = 4, vector_bits = 128, vector_ghz = 4.4, vector_flops = <f32 = 32.0, f16 = 64.0, bf16 = 64.0, i8 = 128.0>, vector_bw_gbps = 100.0, matrix_units = 1, matrix_ghz = 3.9, matrix_flops = <f32 = 512.0, f16 = 512.0, bf16 = 512.0, i8 = 1024.0>, matrix_bw_gbps = 80.0, svl_bits = 512, mem_bw_gbps = 120.0, llc_bytes = 16777216, sync_overhead_us = 2.0>}
module attributes {smepilot.target = #smepilot.target<name = "m4", arch = "aarch64", features = "+sme2", vector_cores = 4, vector_bits = 128, vector_ghz = 4.4, vector_flops = <f32 = 32, f16 = 64, bf16 = 64, i8 = 128>, vector_bw_gbps = 100, matrix_units = 1, matrix_ghz = 3.9, matrix_flops = <f32 = 512, f16 = 512, bf16 = 512, i8 = 1024>, matrix_bw_gbps = 80, svl_bits = 512, mem_bw_gbps = 120, llc_bytes = 16777216, sync_overhead_us = 2.0>} {

  /// Modes, decisions and layouts on ops (printed in attribute-name order).
  // CHECK-LABEL: func.func @decisions
  func.func @decisions() attributes {
    // CHECK-SAME: cpu_only = #smepilot.decision<{{.*}}mode = cpu, {{.*}}sme_us = -1.0, collab_us = -1.0, sme_fraction = 0.0
    cpu_only = #smepilot.decision<kind = "softmax", shape_class = "softmax", elem = f32, mode = cpu, flops = 17, weight_bytes = 0, act_bytes = 8, intensity = 2.125, cpu_us = 0.001, sme_us = -1.0, collab_us = -1.0, sme_fraction = 0, bound = "memory", vectorization = "reduction", reason = "roofline", assumed = "">,
    // CHECK-SAME: cpu_panel = #smepilot.layout<inner_dims_pos = [0], inner_tiles = [16], outer_dims_perm = [0, 1]>
    cpu_panel = #smepilot.layout<outer_dims_perm = [0, 1], inner_tiles = [16], inner_dims_pos = [0]>,
    // CHECK-SAME: decision = #smepilot.decision<kind = "matmul", shape_class = "gemm", elem = bf16, mode = collab, flops = 2048, weight_bytes = 512, act_bytes = 256, intensity = 2.667, cpu_us = 1.5, sme_us = 0.75, collab_us = 0.5, sme_fraction = 0.625, bound = "compute", vectorization = "reduction", reason = "roofline", assumed = "d0=128">
    decision = #smepilot.decision<kind = "matmul", shape_class = "gemm", elem = bf16, mode = collab, flops = 2048, weight_bytes = 512, act_bytes = 256, intensity = 2.667, cpu_us = 1.5, sme_us = 0.75, collab_us = 0.5, sme_fraction = 0.625, bound = "compute", vectorization = "reduction", reason = "roofline", assumed = "d0=128">,
    // CHECK-SAME: mode = #smepilot.mode<collab>
    mode = #smepilot.mode<collab>,
    // CHECK-SAME: plain = #smepilot.layout<>
    plain = #smepilot.layout<>,
    // CHECK-SAME: sme_panel = #smepilot.layout<inner_dims_pos = [0, 1], inner_tiles = {{\[}}[4], 2], outer_dims_perm = [0, 1]>
    sme_panel = #smepilot.layout<inner_dims_pos = [0, 1], inner_tiles = [[4], 2], outer_dims_perm = [0, 1]>,
    /// Times whose shortest form has an exponent still print as float
    /// literals ("4e-05" would lex as the integer 4): the second RUN line
    /// parses them back.
    // CHECK-SAME: tiny = #smepilot.decision<{{.*}}intensity = 0.001, cpu_us = 4.0e-05, sme_us = 1.0e+20, collab_us = 2.5e-07
    tiny = #smepilot.decision<kind = "generic", shape_class = "elementwise", elem = f32, mode = cpu, flops = 1, weight_bytes = 0, act_bytes = 1000, intensity = 0.001, cpu_us = 0.00004, sme_us = 1.0e20, collab_us = 0.00000025, sme_fraction = 0, bound = "memory", vectorization = "full", reason = "roofline", assumed = "">
  } {
    return
  }
}
