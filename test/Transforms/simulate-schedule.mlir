// smepilot-simulate-schedule: each phase list-scheduled on one matrix-unit
// worker and a pool of vector-core workers, with the Roofline times of the
// decisions and a shared memory bandwidth. Every number below is computed by
// hand from the decisions and the toy profile.

// RUN: smepilot-opt %s --smepilot-simulate-schedule=trace=true -o /dev/null \
// RUN:   | FileCheck %s
// RUN: smepilot-opt %s --smepilot-simulate-schedule=vector-workers=2 -o /dev/null \
// RUN:   | FileCheck %s --check-prefix=TWO
// RUN: smepilot-opt %s --smepilot-simulate-schedule=dispatch-overhead-us=1.0 -o /dev/null \
// RUN:   | FileCheck %s --check-prefix=OVERHEAD
// RUN: smepilot-opt %S/Inputs/simulate-schedule-collab.mlir \
// RUN:   --smepilot-roofline-annotate=profile=apple-m4 \
// RUN:   --smepilot-sme-pipeline=stop-after=pipeline-attention \
// RUN:   --smepilot-simulate-schedule=trace=true -o /dev/null | FileCheck %s --check-prefix=COLLAB
// RUN: smepilot-opt %S/Inputs/simulate-schedule-collab.mlir \
// RUN:   --smepilot-roofline-annotate=profile=apple-m4 \
// RUN:   --smepilot-sme-pipeline=stop-after=dispatch \
// RUN:   --smepilot-simulate-schedule -o /dev/null | FileCheck %s --check-prefix=TABLES
// RUN: smepilot-opt %S/pipeline-attention.mlir \
// RUN:   --smepilot-roofline-annotate=profile=apple-m4 \
// RUN:   "--smepilot-sme-pipeline=pipeline-attention=true stop-after=dispatch" \
// RUN:   --smepilot-simulate-schedule -o /dev/null | FileCheck %s --check-prefix=PIPELINED
// RUN: not smepilot-opt %S/Inputs/simulate-schedule-no-target.mlir \
// RUN:   --smepilot-simulate-schedule -o /dev/null 2>&1 | FileCheck %s --check-prefix=NOTARGET
// RUN: not smepilot-opt %s --smepilot-simulate-schedule=vector-workers=-1 \
// RUN:   -o /dev/null 2>&1 | FileCheck %s --check-prefix=NEGATIVE

/// The toy profile: vector cores 4 x 250 FLOP/cycle x 1 GHz = 1e6 FLOP/us,
/// the matrix unit 2e6 FLOP/us; each unit draws up to 100 GB/s (1e5 bytes/us),
/// and so does the memory system for both together; a split costs 1 us.
module attributes {smepilot.target = #smepilot.target<name = "toy", arch = "aarch64", features = "+sme", vector_cores = 4, vector_bits = 128, vector_ghz = 1.0, vector_flops = <f32 = 250.0, f16 = 250.0, bf16 = 250.0, i8 = 250.0>, vector_bw_gbps = 100.0, matrix_units = 1, matrix_ghz = 1.0, matrix_flops = <f32 = 2000.0, f16 = 2000.0, bf16 = 2000.0, i8 = 2000.0>, matrix_bw_gbps = 100.0, svl_bits = 512, mem_bw_gbps = 100.0, llc_bytes = 1048576, sync_overhead_us = 1.0>} {

// The SME variant of a collab op: 8 tiles, half of them (32768 / 65536) on
// the matrix unit. Its decision is the whole op's.
func.func private @p_collab0(%at: tensor<4xf32>, %c: tensor<4xf32>, %b: index, %e: index) -> tensor<4xf32> attributes {smepilot.collab = {sme_share = 32768 : i64, tile_granule = 1 : i64, tile_size = 1 : i64, tiles = 8 : i64}} {
  %r = linalg.add {smepilot.decision = #smepilot.decision<kind = "add", shape_class = "elementwise", elem = f32, mode = sme, flops = 30000000, weight_bytes = 0, act_bytes = 10000, intensity = 0.0, cpu_us = 30.0, sme_us = 15.0, collab_us = 16.0, sme_fraction = 1.0, bound = "compute", vectorization = "full", reason = "roofline", assumed = "">} ins(%at, %at : tensor<4xf32>, tensor<4xf32>) outs(%c : tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}

/// %a (sme, 10 us) and %b (cpu, 4 us) are independent: they overlap. %c
/// needs both. %d (sme) and %e (cpu) are memory-bound, 5 us each alone, and
/// together would draw twice the memory system's bandwidth: both take 10 us.
/// %f is collab: the SME half is 0.5 x 15 = 7.5 us, the CPU half
/// 0.5 x 30 = 15 us, started together at 22; done after the 1 us sync, at
/// 38. %g (sme, pipelined) is ready at 22 but the matrix unit first runs
/// the lower-numbered collab half: 29.5..34.5. %h needs %f and %g: 38..40.
// CHECK:      schedule simulation, profile 'toy': 1 matrix-unit worker, 4 vector-core workers (4 in the profile), shared 100.00 GB/s; predictions, not measurements
// CHECK-LABEL: phase p: 8 tasks (cpu 4, sme 3, collab 1; pipelined 1)
/// 20 + 4 + 2 + 5 + 5 + 30 + 10 + 2; and with each op in its mode, serially,
/// 10 + 4 + 2 + 5 + 5 + 16 (collab_us) + 5 + 2.
// CHECK-NEXT:   all-cpu:   78.00 us
// CHECK-NEXT:   serial:    49.00 us (these modes, one task at a time)
/// Busy: matrix 10 + 10 + 7.5 + 5, vector 4 + 2 + 10 + 15 + 2; both at
/// once during 0..4, 12..22 and 22..34.5.
// CHECK-NEXT:   scheduled: 40.00 us (x1.95); matrix unit busy 32.50 us, vector cores busy 33.00 us, both 26.50 us
// CHECK-NEXT:   task 0 sme p:linalg.add sme 0.00..10.00 done 10.00
// CHECK-NEXT:   task 1 cpu p:linalg.add cpu 0.00..4.00 done 4.00
// CHECK-NEXT:   task 2 cpu p:linalg.add cpu 10.00..12.00 done 12.00
// CHECK-NEXT:   task 3 sme p:linalg.add sme 12.00..22.00 done 22.00
// CHECK-NEXT:   task 4 cpu p:linalg.add cpu 12.00..22.00 done 22.00
// CHECK-NEXT:   task 5 collab p:collab sme 22.00..29.50 cpu 22.00..37.00 done 38.00
// CHECK-NEXT:   task 6 sme p:linalg.add@attn.qk.h0 sme 29.50..34.50 done 34.50
// CHECK-NEXT:   task 7 cpu p:linalg.add cpu 38.00..40.00 done 40.00
func.func @p(%x: tensor<4xf32>) -> tensor<4xf32> attributes {smepilot.phase = "p"} {
  %c0 = arith.constant 0 : index
  %a = linalg.add {smepilot.decision = #smepilot.decision<kind = "add", shape_class = "elementwise", elem = f32, mode = sme, flops = 20000000, weight_bytes = 0, act_bytes = 10000, intensity = 0.0, cpu_us = 20.0, sme_us = 10.0, collab_us = -1.0, sme_fraction = 1.0, bound = "compute", vectorization = "full", reason = "roofline", assumed = "">} ins(%x, %x : tensor<4xf32>, tensor<4xf32>) outs(%x : tensor<4xf32>) -> tensor<4xf32>
  %b = linalg.add {smepilot.decision = #smepilot.decision<kind = "add", shape_class = "elementwise", elem = f32, mode = cpu, flops = 4000000, weight_bytes = 0, act_bytes = 10000, intensity = 0.0, cpu_us = 4.0, sme_us = -1.0, collab_us = -1.0, sme_fraction = 0.0, bound = "compute", vectorization = "full", reason = "roofline", assumed = "">} ins(%x, %x : tensor<4xf32>, tensor<4xf32>) outs(%x : tensor<4xf32>) -> tensor<4xf32>
  %c = linalg.add {smepilot.decision = #smepilot.decision<kind = "add", shape_class = "elementwise", elem = f32, mode = cpu, flops = 2000000, weight_bytes = 0, act_bytes = 10000, intensity = 0.0, cpu_us = 2.0, sme_us = -1.0, collab_us = -1.0, sme_fraction = 0.0, bound = "compute", vectorization = "full", reason = "roofline", assumed = "">} ins(%a, %b : tensor<4xf32>, tensor<4xf32>) outs(%x : tensor<4xf32>) -> tensor<4xf32>
  %d = linalg.add {smepilot.decision = #smepilot.decision<kind = "add", shape_class = "elementwise", elem = f32, mode = sme, flops = 1000, weight_bytes = 0, act_bytes = 500000, intensity = 0.0, cpu_us = 5.0, sme_us = 5.0, collab_us = -1.0, sme_fraction = 1.0, bound = "memory", vectorization = "full", reason = "roofline", assumed = "">} ins(%c, %c : tensor<4xf32>, tensor<4xf32>) outs(%x : tensor<4xf32>) -> tensor<4xf32>
  %e = linalg.add {smepilot.decision = #smepilot.decision<kind = "add", shape_class = "elementwise", elem = f32, mode = cpu, flops = 1000, weight_bytes = 0, act_bytes = 500000, intensity = 0.0, cpu_us = 5.0, sme_us = -1.0, collab_us = -1.0, sme_fraction = 0.0, bound = "memory", vectorization = "full", reason = "roofline", assumed = "">} ins(%c, %c : tensor<4xf32>, tensor<4xf32>) outs(%x : tensor<4xf32>) -> tensor<4xf32>
  %fs = call @p_collab0(%d, %x, %c0, %c0) : (tensor<4xf32>, tensor<4xf32>, index, index) -> tensor<4xf32>
  %f = scf.forall (%i) in (4) shared_outs(%o = %fs) -> (tensor<4xf32>) {
    %s = tensor.extract_slice %e[%i] [1] [1] : tensor<4xf32> to tensor<1xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %s into %o[%i] [1] [1] : tensor<1xf32> into tensor<4xf32>
    }
  } {smepilot.collab = {sme_share = 32768 : i64, tile_granule = 1 : i64, tile_size = 1 : i64, tiles = 8 : i64}}
  %g = linalg.add {smepilot.decision = #smepilot.decision<kind = "add", shape_class = "elementwise", elem = f32, mode = sme, flops = 10000000, weight_bytes = 0, act_bytes = 10000, intensity = 0.0, cpu_us = 10.0, sme_us = 5.0, collab_us = -1.0, sme_fraction = 1.0, bound = "compute", vectorization = "full", reason = "roofline", assumed = "">, smepilot.stage = "attn.qk.h0"} ins(%d, %d : tensor<4xf32>, tensor<4xf32>) outs(%x : tensor<4xf32>) -> tensor<4xf32>
  %h = linalg.add {smepilot.decision = #smepilot.decision<kind = "add", shape_class = "elementwise", elem = f32, mode = cpu, flops = 2000000, weight_bytes = 0, act_bytes = 10000, intensity = 0.0, cpu_us = 2.0, sme_us = -1.0, collab_us = -1.0, sme_fraction = 0.0, bound = "compute", vectorization = "full", reason = "roofline", assumed = "">} ins(%f, %g : tensor<4xf32>, tensor<4xf32>) outs(%x : tensor<4xf32>) -> tensor<4xf32>
  return %h : tensor<4xf32>
}

/// A layer function is unrolled once per call: the second call's ops
/// depend on the first call's result. Per layer, %s (sme, 10 us) overlaps
/// %c (cpu, 4 us), then %r (cpu, 2 us): 12 us a layer.
// CHECK-LABEL: phase q: 6 tasks (cpu 4, sme 2, collab 0; pipelined 0)
// CHECK-NEXT:   all-cpu:   52.00 us
// CHECK-NEXT:   serial:    32.00 us
// CHECK-NEXT:   scheduled: 24.00 us (x2.17)
// CHECK-NEXT:   task 0 sme q:linalg.add sme 0.00..10.00 done 10.00
// CHECK-NEXT:   task 1 cpu q:linalg.add cpu 0.00..4.00 done 4.00
// CHECK-NEXT:   task 2 cpu q:linalg.add cpu 10.00..12.00 done 12.00
// CHECK-NEXT:   task 3 sme q:linalg.add sme 12.00..22.00 done 22.00
// CHECK-NEXT:   task 4 cpu q:linalg.add cpu 12.00..16.00 done 16.00
// CHECK-NEXT:   task 5 cpu q:linalg.add cpu 22.00..24.00 done 24.00
/// With 2 vector-core workers, CPU compute takes twice as long (8 and 4 us),
/// the matrix unit's does not: 10 + 4 per layer.
// TWO: 1 matrix-unit worker, 2 vector-core workers (4 in the profile)
// TWO-LABEL: phase q:
// TWO:   scheduled: 28.00 us
/// A fixed cost per task, on its unit: (10 + 1) + (2 + 1) per layer.
// OVERHEAD-LABEL: phase q:
// OVERHEAD:   scheduled: 28.00 us
func.func private @layer(%x: tensor<4xf32>) -> tensor<4xf32> {
  %s = linalg.add {smepilot.decision = #smepilot.decision<kind = "add", shape_class = "elementwise", elem = f32, mode = sme, flops = 20000000, weight_bytes = 0, act_bytes = 10000, intensity = 0.0, cpu_us = 20.0, sme_us = 10.0, collab_us = -1.0, sme_fraction = 1.0, bound = "compute", vectorization = "full", reason = "roofline", assumed = "">} ins(%x, %x : tensor<4xf32>, tensor<4xf32>) outs(%x : tensor<4xf32>) -> tensor<4xf32>
  %c = linalg.add {smepilot.decision = #smepilot.decision<kind = "add", shape_class = "elementwise", elem = f32, mode = cpu, flops = 4000000, weight_bytes = 0, act_bytes = 10000, intensity = 0.0, cpu_us = 4.0, sme_us = -1.0, collab_us = -1.0, sme_fraction = 0.0, bound = "compute", vectorization = "full", reason = "roofline", assumed = "">} ins(%x, %x : tensor<4xf32>, tensor<4xf32>) outs(%x : tensor<4xf32>) -> tensor<4xf32>
  %r = linalg.add {smepilot.decision = #smepilot.decision<kind = "add", shape_class = "elementwise", elem = f32, mode = cpu, flops = 2000000, weight_bytes = 0, act_bytes = 10000, intensity = 0.0, cpu_us = 2.0, sme_us = -1.0, collab_us = -1.0, sme_fraction = 0.0, bound = "compute", vectorization = "full", reason = "roofline", assumed = "">} ins(%s, %c : tensor<4xf32>, tensor<4xf32>) outs(%x : tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}
func.func @q(%x: tensor<4xf32>) -> tensor<4xf32> attributes {smepilot.phase = "q"} {
  %r1 = call @layer(%x) : (tensor<4xf32>) -> tensor<4xf32>
  %r2 = call @layer(%r1) : (tensor<4xf32>) -> tensor<4xf32>
  return %r2 : tensor<4xf32>
}
}

/// A real collab op after partition-collab: the call of its SME variant and
/// the scf.forall after it are one task, whose halves start together; the
/// weight's K-major copy is load-time work and no task; the activation's is.
// COLLAB-LABEL: phase prefill: 3 tasks (cpu 2, sme 0, collab 1; pipelined 0)
// COLLAB:       task 1 cpu prefill:linalg.transpose cpu {{.*}} done [[READY:[0-9.]+]]
// COLLAB-NEXT:  task 2 collab prefill:collab sme [[READY]]..{{[0-9.]+}} cpu [[READY]]..{{[0-9.]+}} done
/// After the dispatch stage: the real tables' dispatches by mode.
// TABLES: table prefill: 3 dispatches (cpu 2, sme 0, collab 1; pipelined 0)
// TABLES: table load: 1 dispatches (cpu 1, sme 0, collab 0; pipelined 0)
/// Pipelined dispatches are those named after an attention stage.
// PIPELINED: table prefill: {{[0-9]+}} dispatches (cpu {{[0-9]+}}, sme 4, collab 0; pipelined {{[1-9][0-9]*}})

// NOTARGET: error: smepilot-simulate-schedule: the module has no 'smepilot.target': run smepilot-roofline-annotate first
// NEGATIVE: error: smepilot-simulate-schedule: vector-workers and dispatch-overhead-us must not be negative
