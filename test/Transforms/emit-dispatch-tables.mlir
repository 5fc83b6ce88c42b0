// RUN: smepilot-opt %s --smepilot-emit-dispatch-tables -split-input-file | FileCheck %s --check-prefix=MLIR
// RUN: smepilot-opt %s --smepilot-emit-dispatch-tables -split-input-file | mlir-translate --mlir-to-llvmir -split-input-file | FileCheck %s

/// One table in the layout of abi.h (checked in LLVM IR, where the
/// initializers are readable). smepilot_rt_dispatch_table: abi_version 5,
/// n_constants 1, phase_name, n_kernels 1, n_arguments 1, kernels,
/// n_buffers 2, n_dispatches 2, buffers, dispatches, n_bindings 3, n_deps 1,
/// bindings, deps.
// MLIR-NOT: smepilot.dispatch_table
// MLIR: llvm.mlir.global external constant @smepilot_table_ph()
//
// CHECK-DAG: @__smepilot_ph_s0 = private constant [5 x i8] c"arg0\00"
// CHECK-DAG: @__smepilot_ph_s1 = private constant [5 x i8] c"tmp0\00"
// CHECK-DAG: @__smepilot_ph_s2 = private constant [5 x i8] c"fill\00"
// CHECK-DAG: @__smepilot_ph_s4 = private constant [3 x i8] c"ph\00"
// CHECK-DAG: @__smepilot_ph_kernels = private constant [1 x ptr] [ptr @k0]
/// smepilot_rt_buffer: name, size {base, scale, constant, 0}, alignment,
/// type (arg0 is a Q8_0 weight: 8).
// CHECK-DAG: @__smepilot_ph_buffers = private constant [2 x { ptr, { i64, i64, i32, i32 }, i32, i32 }] [{ ptr, { i64, i64, i32, i32 }, i32, i32 } { ptr @__smepilot_ph_s0, { i64, i64, i32, i32 } { i64 64, i64 0, i32 -1, i32 0 }, i32 0, i32 8 }, { ptr, { i64, i64, i32, i32 }, i32, i32 } { ptr @__smepilot_ph_s1, { i64, i64, i32, i32 } { i64 24, i64 8, i32 0, i32 0 }, i32 64, i32 0 }]
/// smepilot_rt_dispatch: name, cpu_kernel, sme_kernel (none = -1), mode
/// (cpu = 0, collab = 2), sme_share, tile_granule, tile_count, bindings
/// begin/count, deps begin/count: "fill" with every field abi.h gives a
/// default left out, "use" a collab dispatch with all of them given.
// CHECK-DAG: @__smepilot_ph_dispatches = private constant [2 x {{.*}}] [{{.*}} { ptr @__smepilot_ph_s2, i32 0, i32 -1, i32 0, i32 0, i64 1, { i64, i64, i32, i32 } { i64 4, i64 0, i32 -1, i32 0 }, i32 0, i32 1, i32 0, i32 0 }, {{.*}} { ptr @__smepilot_ph_s3, i32 0, i32 0, i32 2, i32 32768, i64 2, { i64, i64, i32, i32 } { i64 2, i64 3, i32 0, i32 0 }, i32 1, i32 2, i32 0, i32 1 }]
/// bindings: buffer, access, offset (bytes: "use" reads buffer 1 from 4096
/// bytes in; an offset of 0 is not printed in the attribute).
// CHECK-DAG: @__smepilot_ph_bindings = private constant [3 x { i32, i32, i64 }] [{ i32, i32, i64 } { i32 1, i32 2, i64 0 }, { i32, i32, i64 } { i32 1, i32 1, i64 4096 }, { i32, i32, i64 } { i32 0, i32 2, i64 0 }]
// CHECK-DAG: @__smepilot_ph_deps = private constant [1 x i32] zeroinitializer
// CHECK-DAG: @smepilot_table_ph = constant { i32, i32, ptr, i32, i32, ptr, i32, i32, ptr, ptr, i32, i32, ptr, ptr } { i32 5, i32 1, ptr @__smepilot_ph_s4, i32 1, i32 1, ptr @__smepilot_ph_kernels, i32 2, i32 2, ptr @__smepilot_ph_buffers, ptr @__smepilot_ph_dispatches, i32 3, i32 1, ptr @__smepilot_ph_bindings, ptr @__smepilot_ph_deps }
/// The compiled model lists the table as a phase, with the chunk and
/// last-row flag the table carries (smepilot_rt_compiled_model: abi_version,
/// n_phases, phases, target, load (none: null); smepilot_rt_phase: name, chunk,
/// last_row_only, 0, table).
// CHECK-DAG: @__smepilot_model_target = private constant [5 x i8] c"host\00"
// CHECK-DAG: @__smepilot_model_phases = private constant [1 x { ptr, i64, i32, i32, ptr }] [{ ptr, i64, i32, i32, ptr } { ptr @__smepilot_ph_s_phase, i64 4, i32 1, i32 0, ptr @smepilot_table_ph }]
// CHECK-DAG: @smepilot_compiled_model = constant { i32, i32, ptr, ptr, ptr } { i32 5, i32 1, ptr @__smepilot_model_phases, ptr @__smepilot_model_target, ptr null }
llvm.func @k0(%b: !llvm.ptr, %c: !llvm.ptr, %tb: i64, %te: i64) {
  llvm.return
}
smepilot.dispatch_table @ph {
  buffers = [#smepilot.buffer<name = "arg0", size = <64>, weight = true, ggml_type = 8>,
             #smepilot.buffer<name = "tmp0", size = <24 + 8 * c0>, alignment = 64>],
  dispatches = [#smepilot.dispatch<name = "fill", kernel = 0, tiles = <4>,
                                   bindings = [<1, write>], deps = []>,
                #smepilot.dispatch<name = "use", kernel = 0, sme_kernel = 0,
                                   mode = collab, sme_share = 32768, tile_granule = 2,
                                   tiles = <2 + 3 * c0>, bindings = [<1, read, offset 4096>, <0, write>],
                                   deps = [0]>],
  kernels = [@k0], n_arguments = 1 : i64, n_constants = 1 : i64,
  chunk = 4 : i64, last_row_only}

// -----

/// A table with no deps: the deps pointer is null.
// CHECK-LABEL: @smepilot_table_nodeps = constant
// CHECK-SAME: i32 1, i32 0, ptr @__smepilot_nodeps_bindings, ptr null }
llvm.func @k(%b: !llvm.ptr, %c: !llvm.ptr, %tb: i64, %te: i64) {
  llvm.return
}
smepilot.dispatch_table @nodeps {
  buffers = [#smepilot.buffer<name = "arg0", size = <64>>],
  dispatches = [#smepilot.dispatch<name = "only", kernel = 0, tiles = <1>,
                                   bindings = [<0, read|write>], deps = []>],
  kernels = [@k], n_arguments = 1 : i64, n_constants = 0 : i64}

// -----

/// The load table (`smepilot.load`) is not a phase: the compiled model
/// lists the one phase and points its `load` field at the load table.
// CHECK-DAG: @smepilot_table_load = constant { {{.*}} } { i32 5, i32 0, ptr @__smepilot_load_s{{[0-9]+}}, i32 1, i32 2,
// CHECK-DAG: @__smepilot_model_phases = private constant [1 x { ptr, i64, i32, i32, ptr }] [{ ptr, i64, i32, i32, ptr } { ptr @__smepilot_decode_s_phase, i64 1, i32 0, i32 0, ptr @smepilot_table_decode }]
// CHECK-DAG: @smepilot_compiled_model = constant { i32, i32, ptr, ptr, ptr } { i32 5, i32 1, ptr @__smepilot_model_phases, ptr @__smepilot_model_target, ptr @smepilot_table_load }
llvm.func @kl(%b: !llvm.ptr, %c: !llvm.ptr, %tb: i64, %te: i64) {
  llvm.return
}
smepilot.dispatch_table @decode {
  buffers = [#smepilot.buffer<name = "pack0(w)", size = <64>>],
  dispatches = [#smepilot.dispatch<name = "use", kernel = 0, tiles = <1>,
                                   bindings = [<0, read>], deps = []>],
  kernels = [@kl], n_arguments = 1 : i64, n_constants = 1 : i64, chunk = 1 : i64}
smepilot.dispatch_table @load {
  buffers = [#smepilot.buffer<name = "w", size = <64>>,
             #smepilot.buffer<name = "pack0(w)", size = <64>, alignment = 64>],
  dispatches = [#smepilot.dispatch<name = "load_d0:pack", kernel = 0, tiles = <4>,
                                   bindings = [<0, read>, <1, write>], deps = []>],
  kernels = [@kl], n_arguments = 2 : i64, n_constants = 0 : i64, smepilot.load}

// -----

/// A 0-sized buffer and a dispatch of 0 tiles are emitted as they are
/// (size {0, 0, -1, 0}, tile count {0, 0, -1, 0}): the runtime allocates
/// nothing and runs no tile.
// CHECK-LABEL: @__smepilot_empty_buffers = private constant
// CHECK-SAME: { i64, i64, i32, i32 } { i64 0, i64 0, i32 -1, i32 0 }, i32 0, i32 0 }]
// CHECK-LABEL: @__smepilot_empty_dispatches = private constant
// CHECK-SAME: i32 0, i32 -1, i32 0, i32 0, i64 1, { i64, i64, i32, i32 } { i64 0, i64 0, i32 -1, i32 0 }, i32 0, i32 1, i32 0, i32 0 }]
llvm.func @k(%b: !llvm.ptr, %c: !llvm.ptr, %tb: i64, %te: i64) {
  llvm.return
}
smepilot.dispatch_table @empty {
  buffers = [#smepilot.buffer<name = "arg0", size = <0>>],
  dispatches = [#smepilot.dispatch<name = "none", kernel = 0, tiles = <0>,
                                   bindings = [<0, write>], deps = []>],
  kernels = [@k], n_arguments = 1 : i64, n_constants = 0 : i64}
