// RUN: smepilot-opt %s --smepilot-emit-dispatch-tables -split-input-file -verify-diagnostics

/// Before convert-func-to-llvm the kernels cannot be pointed at.
func.func @f(%b: !llvm.ptr, %c: !llvm.ptr, %tb: i64, %te: i64) {
  return
}
// expected-error @+1 {{kernel @f is not an LLVM function yet (run smepilot-emit-dispatch-tables after convert-func-to-llvm)}}
smepilot.dispatch_table @early {
  buffers = [], dispatches = [], kernels = [@f], n_arguments = 0 : i64, n_constants = 0 : i64}

// -----

/// A compiled model has one load table (abi.h: one `load` field).
smepilot.dispatch_table @load {
  buffers = [], dispatches = [], kernels = [], n_arguments = 0 : i64, n_constants = 0 : i64,
  smepilot.load}
// expected-error @+1 {{is a second load table; a module has at most one (@load)}}
smepilot.dispatch_table @load2 {
  buffers = [], dispatches = [], kernels = [], n_arguments = 0 : i64, n_constants = 0 : i64,
  smepilot.load}
