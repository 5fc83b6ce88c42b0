// RUN: smepilot-opt %s --smepilot-hoist-load-time -split-input-file -verify-diagnostics

/// The pass runs once: a second run would make a second load table.
// expected-error @+1 {{smepilot-hoist-load-time: the module has a load table already}}
smepilot.dispatch_table @load {buffers = [], kernels = [], n_arguments = 0 : i64, n_constants = 0 : i64,
  dispatches = [], smepilot.load}

// -----

/// It compares kernels as smepilot-form-dispatches outlined them: after
/// they are lowered to LLVM it is too late.
llvm.func @k(%b: !llvm.ptr, %c: !llvm.ptr, %tb: i64, %te: i64) {
  llvm.return
}
// expected-error @+1 {{smepilot-hoist-load-time: kernel @k is not a func.func (run the pass right after smepilot-form-dispatches)}}
smepilot.dispatch_table @t {buffers = [#smepilot.buffer<name = "w", size = <4>, weight = true>, #smepilot.buffer<name = "tmp0", size = <4>>],
  kernels = [@k], n_arguments = 1 : i64, n_constants = 0 : i64,
  dispatches = [#smepilot.dispatch<name = "d", kernel = 0, tiles = <1>, bindings = [<0, read>, <1, write>], deps = []>]}
