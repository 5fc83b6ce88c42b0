// RUN: smepilot-opt %s | FileCheck %s
// RUN: smepilot-opt %s | smepilot-opt | FileCheck %s
// RUN: smepilot-opt %s -mlir-print-op-generic | smepilot-opt | FileCheck %s

/// The dispatch table's parts round-trip: extents fixed and linear in a
/// constant, buffers with and without alignment and the weight mark,
/// bindings with each access, and dispatches with the fields abi.h gives
/// defaults (sme_kernel -1, mode cpu, sme_share 0, tile_granule 1,
/// reads_state false) left out of the text.
// CHECK-LABEL: smepilot.dispatch_table @forward_c4
// CHECK-SAME: buffers = [#smepilot.buffer<name = "x", size = <64>, weight = true, ggml_type = 30>,
// CHECK-SAME: #smepilot.buffer<name = "tmp0", size = <0 + 16 * c0>, alignment = 64>]
// CHECK-SAME: chunk = 4 : i64
// CHECK-SAME: dispatches = [#smepilot.dispatch<name = "forward_c4_d0:linalg.fill", kernel = 0, tiles = <4 + 2 * c0>, bindings = [<0, read>, <1, read|write, offset 256>], deps = []>,
// CHECK-SAME: #smepilot.dispatch<name = "forward_c4_d1:func.call", kernel = 1, sme_kernel = 1, mode = collab, sme_share = 32768, tile_granule = 4, tiles = <8>, bindings = [<1, read>], deps = [0], reads_state = true>]
// CHECK-SAME: kernels = [@k0, @k1], last_row_only, n_arguments = 1 : i64, n_constants = 1 : i64}
smepilot.dispatch_table @forward_c4 {
  kernels = [@k0, @k1], n_arguments = 1 : i64, n_constants = 1 : i64,
  chunk = 4 : i64, last_row_only,
  buffers = [#smepilot.buffer<name = "x", size = <64>, weight = true, ggml_type = 30>,
             #smepilot.buffer<name = "tmp0", size = <0 + 16 * c0>, alignment = 64>],
  dispatches = [
    #smepilot.dispatch<name = "forward_c4_d0:linalg.fill", kernel = 0,
                       tiles = <4 + 2 * c0>, bindings = [<0, read, offset 0>, <1, read|write, offset 256>], deps = []>,
    #smepilot.dispatch<name = "forward_c4_d1:func.call", kernel = 1, sme_kernel = 1,
                       mode = collab, sme_share = 32768, tile_granule = 4, tiles = <8>,
                       bindings = [<1, read>], deps = [0], reads_state = true>]}

/// Defaults may also be written out; they print as left out.
// CHECK-LABEL: smepilot.dispatch_table @load
// CHECK-SAME: buffers = [#smepilot.buffer<name = "w", size = <256>>, #smepilot.buffer<name = "pack0(w)", size = <256>>]
// CHECK-SAME: dispatches = [#smepilot.dispatch<name = "load_d0:linalg.transpose", kernel = 0, tiles = <1>, bindings = [<0, read>, <1, write>], deps = []>]
// CHECK-SAME: smepilot.load
smepilot.dispatch_table @load {
  kernels = [@k0], n_arguments = 2 : i64, n_constants = 0 : i64, smepilot.load,
  buffers = [#smepilot.buffer<name = "w", size = <256>, alignment = 0, weight = false>,
             #smepilot.buffer<name = "pack0(w)", size = <256>>],
  dispatches = [
    #smepilot.dispatch<name = "load_d0:linalg.transpose", kernel = 0, sme_kernel = -1,
                       mode = cpu, sme_share = 0, tile_granule = 1, tiles = <1>,
                       bindings = [<0, read>, <1, write>], deps = [], reads_state = false>]}
