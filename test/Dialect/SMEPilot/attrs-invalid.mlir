// RUN: smepilot-opt %s -split-input-file -verify-diagnostics

/// Negative peaks are rejected by name.
// expected-error @+1 {{peaks: 'bf16' must be a finite FLOP/cycle >= 0, got -1.0}}
func.func private @f() attributes {p = #smepilot.peaks<f32 = 1, f16 = 1, bf16 = -1.0, i8 = 0>}

// -----

/// A profile needs vector cores.
// expected-error @+1 {{target 't': 'vector_cores' must be at least 1}}
func.func private @f() attributes {t = #smepilot.target<name = "t", arch = "aarch64", features = "", vector_cores = 0, vector_bits = 128, vector_ghz = 1, vector_flops = <f32 = 8, f16 = 0, bf16 = 0, i8 = 0>, vector_bw_gbps = 10, matrix_units = 0, matrix_ghz = 0, matrix_flops = <f32 = 0, f16 = 0, bf16 = 0, i8 = 0>, matrix_bw_gbps = 0, svl_bits = 0, mem_bw_gbps = 10, llc_bytes = 0, sync_overhead_us = 0>}

// -----

/// Unknown ISA.
// expected-error @+1 {{target 't': 'arch' must be aarch64 or x86_64, got 'riscv64'}}
func.func private @f() attributes {t = #smepilot.target<name = "t", arch = "riscv64", features = "", vector_cores = 1, vector_bits = 128, vector_ghz = 1, vector_flops = <f32 = 8, f16 = 0, bf16 = 0, i8 = 0>, vector_bw_gbps = 10, matrix_units = 0, matrix_ghz = 0, matrix_flops = <f32 = 0, f16 = 0, bf16 = 0, i8 = 0>, matrix_bw_gbps = 0, svl_bits = 0, mem_bw_gbps = 10, llc_bytes = 0, sync_overhead_us = 0>}

// -----

/// A matrix unit needs a legal streaming vector length.
// expected-error @+1 {{target 't': 'svl_bits' must be a power of two in [128, 2048], got 384}}
func.func private @f() attributes {t = #smepilot.target<name = "t", arch = "aarch64", features = "", vector_cores = 1, vector_bits = 128, vector_ghz = 1, vector_flops = <f32 = 8, f16 = 0, bf16 = 0, i8 = 0>, vector_bw_gbps = 10, matrix_units = 1, matrix_ghz = 1, matrix_flops = <f32 = 512, f16 = 0, bf16 = 0, i8 = 0>, matrix_bw_gbps = 10, svl_bits = 384, mem_bw_gbps = 10, llc_bytes = 0, sync_overhead_us = 0>}

// -----

/// No unit can draw more than the memory system delivers.
// expected-error @+1 {{target 't': 'matrix_bw_gbps' (20.0) exceeds 'mem_bw_gbps' (10.0)}}
func.func private @f() attributes {t = #smepilot.target<name = "t", arch = "aarch64", features = "", vector_cores = 1, vector_bits = 128, vector_ghz = 1, vector_flops = <f32 = 8, f16 = 0, bf16 = 0, i8 = 0>, vector_bw_gbps = 10, matrix_units = 1, matrix_ghz = 1, matrix_flops = <f32 = 512, f16 = 0, bf16 = 0, i8 = 0>, matrix_bw_gbps = 20, svl_bits = 512, mem_bw_gbps = 10, llc_bytes = 0, sync_overhead_us = 0>}

// -----

/// Mode and split must agree.
// expected-error @+1 {{decision: mode collab needs 0 < 'sme_fraction' < 1, got 1.0}}
func.func private @f() attributes {d = #smepilot.decision<kind = "matmul", shape_class = "gemm", elem = f32, mode = collab, flops = 1, weight_bytes = 1, act_bytes = 1, intensity = 0.5, cpu_us = 1, sme_us = 1, collab_us = 1, sme_fraction = 1, bound = "compute", vectorization = "full", reason = "roofline", assumed = "">}

// -----

/// sme cannot be the roofline's choice for an op the matrix unit cannot run.
// expected-error @+1 {{decision: mode sme chosen but 'sme_us' says the matrix unit cannot run this op}}
func.func private @f() attributes {d = #smepilot.decision<kind = "softmax", shape_class = "softmax", elem = f32, mode = sme, flops = 1, weight_bytes = 0, act_bytes = 1, intensity = 1, cpu_us = 1, sme_us = -1.0, collab_us = -1.0, sme_fraction = 1, bound = "memory", vectorization = "reduction", reason = "roofline", assumed = "">}

// -----

/// Unknown shape class.
// expected-error @+1 {{decision: unknown 'shape_class' 'conv'}}
func.func private @f() attributes {d = #smepilot.decision<kind = "x", shape_class = "conv", elem = f32, mode = cpu, flops = 1, weight_bytes = 0, act_bytes = 1, intensity = 1, cpu_us = 1, sme_us = -1.0, collab_us = -1.0, sme_fraction = 0, bound = "memory", vectorization = "full", reason = "roofline", assumed = "">}

// -----

/// Tiles and tiled dimensions must pair up.
// expected-error @+1 {{layout: 'inner_dims_pos' has 2 entries but 'inner_tiles' has 1}}
func.func private @f() attributes {l = #smepilot.layout<inner_dims_pos = [0, 1], inner_tiles = [16]>}

// -----

// expected-error @+1 {{layout: dimension 1 is tiled twice in 'inner_dims_pos'}}
func.func private @f() attributes {l = #smepilot.layout<inner_dims_pos = [1, 1], inner_tiles = [16, 4]>}

// -----

// expected-error @+1 {{layout: 'outer_dims_perm' must be a permutation of 0..1}}
func.func private @f() attributes {l = #smepilot.layout<inner_dims_pos = [1], inner_tiles = [16], outer_dims_perm = [1, 1]>}

// -----

// expected-error @+1 {{layout: tile sizes must be positive, got 0}}
func.func private @f() attributes {l = #smepilot.layout<inner_dims_pos = [0], inner_tiles = [[0]]>}

// -----

// expected-error @+1 {{layout: unknown field 'tiles'}}
func.func private @f() attributes {l = #smepilot.layout<tiles = [16]>}

// -----

// expected-error @+2 {{expected ::mlir::smepilot::ExecMode to be one of: cpu, sme, collab}}
// expected-error @+1 {{failed to parse SMEPilot_ExecModeAttr parameter 'value'}}
func.func private @f() attributes {m = #smepilot.mode<gpu>}
