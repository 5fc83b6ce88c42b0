// RUN: smepilot-opt %s -split-input-file -verify-diagnostics --allow-unregistered-dialect

/// Every index of a dispatch names something of its own table.
// expected-error @+1 {{dispatch 0: its kernels must index the kernels}}
smepilot.dispatch_table @t {buffers = [], kernels = [], n_arguments = 0 : i64, n_constants = 0 : i64,
  dispatches = [#smepilot.dispatch<name = "d", kernel = 0, tiles = <1>, bindings = [], deps = []>]}

// -----

// expected-error @+1 {{dispatch 0: its kernels must index the kernels}}
smepilot.dispatch_table @t {buffers = [], kernels = [@k], n_arguments = 0 : i64, n_constants = 0 : i64,
  dispatches = [#smepilot.dispatch<name = "d", kernel = 0, sme_kernel = 1, mode = sme, tiles = <1>, bindings = [], deps = []>]}

// -----

// expected-error @+1 {{dispatch 1: dependency 1 is not an earlier dispatch}}
smepilot.dispatch_table @t {buffers = [], kernels = [@k], n_arguments = 0 : i64, n_constants = 0 : i64,
  dispatches = [#smepilot.dispatch<name = "d0", kernel = 0, tiles = <1>, bindings = [], deps = []>,
                #smepilot.dispatch<name = "d1", kernel = 0, tiles = <1>, bindings = [], deps = [1]>]}

// -----

// expected-error @+1 {{dispatch 0: binding 0 names no buffer}}
smepilot.dispatch_table @t {buffers = [], kernels = [@k], n_arguments = 0 : i64, n_constants = 0 : i64,
  dispatches = [#smepilot.dispatch<name = "d", kernel = 0, tiles = <1>, bindings = [<0, read>], deps = []>]}

// -----

// expected-error @+1 {{buffer 0: constant index 2 out of range}}
smepilot.dispatch_table @t {buffers = [#smepilot.buffer<name = "x", size = <4 + 1 * c2>>], kernels = [], n_arguments = 1 : i64, n_constants = 1 : i64,
  dispatches = []}

// -----

// expected-error @+1 {{dispatch 0: constant index 0 out of range}}
smepilot.dispatch_table @t {buffers = [], kernels = [@k], n_arguments = 0 : i64, n_constants = 0 : i64,
  dispatches = [#smepilot.dispatch<name = "d", kernel = 0, tiles = <0 + 1 * c0>, bindings = [], deps = []>]}

// -----

// expected-error @+1 {{n_arguments = 2 and n_constants = 0 must be non-negative, n_arguments <= 1 buffers}}
smepilot.dispatch_table @t {buffers = [#smepilot.buffer<name = "x", size = <4>>], kernels = [], n_arguments = 2 : i64, n_constants = 0 : i64,
  dispatches = []}

// -----

/// The typed lists hold nothing else.
// expected-error @+1 {{'smepilot.dispatch_table' op attribute 'buffers' failed to satisfy constraint: buffers}}
smepilot.dispatch_table @t {buffers = [{size = array<i64: 4, 0, -1>}], kernels = [], n_arguments = 0 : i64, n_constants = 0 : i64,
  dispatches = []}

// -----

// expected-error @+1 {{'smepilot.dispatch_table' op attribute 'dispatches' failed to satisfy constraint: dispatches}}
smepilot.dispatch_table @t {buffers = [], kernels = [@k], n_arguments = 0 : i64, n_constants = 0 : i64,
  dispatches = [{kernel = 0 : i64, tiles = array<i64: 1, 0, -1>, bindings = array<i64>, deps = array<i64>}]}

// -----

/// The load table runs once, before any phase: it has no constants.
// expected-error @+1 {{the load table (smepilot.load) takes no constants and has no chunk or last_row_only}}
smepilot.dispatch_table @load {buffers = [], kernels = [], n_arguments = 0 : i64, n_constants = 1 : i64,
  dispatches = [], smepilot.load}

// -----

// expected-error @+1 {{the load table (smepilot.load) takes no constants and has no chunk or last_row_only}}
smepilot.dispatch_table @load {buffers = [], kernels = [], n_arguments = 0 : i64, n_constants = 0 : i64,
  dispatches = [], chunk = 4 : i64, smepilot.load}

// -----

// expected-error @+1 {{chunk 0 must be >= 1}}
smepilot.dispatch_table @c0 {buffers = [], kernels = [], n_arguments = 0 : i64, n_constants = 0 : i64,
  dispatches = [], chunk = 0 : i64}

// -----

//===----------------------------------------------------------------------===//
// The parts on their own.
//===----------------------------------------------------------------------===//

// expected-error @+1 {{binding of buffer 0: access must be read, write or read|write}}
"test.op"() {b = #smepilot.binding<0, none>} : () -> ()

// -----

// expected-error @+1 {{binding: buffer index -1 is negative}}
"test.op"() {b = #smepilot.binding<-1, read>} : () -> ()

// -----

// expected-error @+1 {{binding of buffer 2: offset -64 is negative}}
"test.op"() {b = #smepilot.binding<2, read, offset -64>} : () -> ()

// -----

// expected-error @+2 {{expected ::mlir::smepilot::Access to be one of: none, read, write}}
// expected-error @+1 {{failed to parse SMEPilot_BindingAttr parameter 'access'}}
"test.op"() {b = #smepilot.binding<0, readwrite>} : () -> ()

// -----

// expected-error @+1 {{extent: expected `scale * cN` (N: a constant's index)}}
"test.op"() {e = #smepilot.extent<4 + 2 * x0>} : () -> ()

// -----

// expected-error @+1 {{extent: -4 + -1 * c is negative for every constant}}
"test.op"() {e = #smepilot.extent<-4 + -1 * c0>} : () -> ()

// -----

// expected-error @+1 {{extent: -4 + 0 * c is negative for every constant}}
"test.op"() {e = #smepilot.extent<-4>} : () -> ()

// -----

// expected-error @+1 {{buffer 'x': alignment 48 is not 0 or a power of two}}
"test.op"() {b = #smepilot.buffer<name = "x", size = <4>, alignment = 48>} : () -> ()

// -----

// expected-error @+1 {{buffer 'x': ggml_type 8 on a buffer that is not a weight}}
"test.op"() {b = #smepilot.buffer<name = "x", size = <34>, ggml_type = 8>} : () -> ()

// -----

// expected-error @+1 {{buffer 'w': ggml_type -1 is not a GGML type id}}
"test.op"() {b = #smepilot.buffer<name = "w", size = <34>, weight = true, ggml_type = -1>} : () -> ()

// -----

// expected-error @+1 {{dispatch 'd': mode sme needs an sme_kernel}}
"test.op"() {d = #smepilot.dispatch<name = "d", kernel = 0, mode = sme, tiles = <1>, bindings = [], deps = []>} : () -> ()

// -----

// expected-error @+1 {{dispatch 'd': sme_share 65537 is not in [0, 65536] (parts per 65536)}}
"test.op"() {d = #smepilot.dispatch<name = "d", kernel = 0, sme_kernel = 0, mode = collab, sme_share = 65537, tiles = <1>, bindings = [], deps = []>} : () -> ()

// -----

// expected-error @+1 {{dispatch 'd': tile_granule 0 must be >= 1}}
"test.op"() {d = #smepilot.dispatch<name = "d", kernel = 0, tile_granule = 0, tiles = <1>, bindings = [], deps = []>} : () -> ()

// -----

// expected-error @+1 {{dispatch 'd': deps must be increasing dispatch indices}}
"test.op"() {d = #smepilot.dispatch<name = "d", kernel = 0, tiles = <1>, bindings = [], deps = [1, 0]>} : () -> ()

// -----

// expected-error @+1 {{dispatch 'd': kernel index -1 is negative}}
"test.op"() {d = #smepilot.dispatch<name = "d", kernel = -1, tiles = <1>, bindings = [], deps = []>} : () -> ()
