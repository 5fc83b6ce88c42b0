// RUN: smepilot-opt %s -split-input-file -verify-diagnostics --smepilot-host-pipeline
// RUN: smepilot-opt %s -split-input-file -verify-diagnostics --smepilot-sme-pipeline=all-contractions=true
// RUN: not smepilot-compile %s --all-contractions -o %t.o 2>&1 | FileCheck %s

/// A phase's buffers are sized in its dispatch table, so its arguments need
/// static shapes: a dynamic matmul in a phase is an error of the pipelines
/// and of smepilot-compile (naming the argument), not a crash. The same
/// matmul outside a phase compiles (host-empty-dims.mlir, sme-empty-dims.mlir).
// CHECK: error: smepilot-form-dispatches: phase argument 0 must be a statically shaped identity-layout memref
// expected-error @+1 {{smepilot-form-dispatches: phase argument 0 must be a statically shaped identity-layout memref}}
func.func @dynamic(%a: tensor<?x?xf32>, %b: tensor<?x?xf32>, %c: tensor<?x?xf32>) -> tensor<?x?xf32>
    attributes {smepilot.phase = "p"} {
  %r = linalg.matmul ins(%a, %b : tensor<?x?xf32>, tensor<?x?xf32>)
                     outs(%c : tensor<?x?xf32>) -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}
