// RUN: smepilot-opt %s --smepilot-emit-dispatch-tables -verify-diagnostics

/// Before convert-func-to-llvm the kernels cannot be pointed at.
func.func @f(%b: !llvm.ptr, %c: !llvm.ptr, %tb: i64, %te: i64) {
  return
}
// expected-error @+1 {{kernel @f is not an LLVM function yet (run smepilot-emit-dispatch-tables after convert-func-to-llvm)}}
smepilot.dispatch_table @early {
  buffers = [], dispatches = [], kernels = [@f], n_arguments = 0 : i64, n_constants = 0 : i64}
