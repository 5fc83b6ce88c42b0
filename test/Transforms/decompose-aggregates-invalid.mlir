// RUN: smepilot-opt %s -split-input-file -verify-diagnostics --pass-pipeline="builtin.module(func.func(smepilot-decompose-aggregates))"

/// linalg.softmax on buffers verifies, but its decomposition builds tensors
/// (reduction results, tensor.empty) and would mix them with the buffers:
/// the pass runs before bufferization.
func.func @softmax_on_buffers(%x: memref<2x16xf32>, %o: memref<2x16xf32>) {
  // expected-error @+1 {{smepilot-decompose-aggregates: cannot decompose an op on buffers (the decomposition is on tensors: run the pass before bufferization)}}
  linalg.softmax dimension(1) ins(%x : memref<2x16xf32>) outs(%o : memref<2x16xf32>)
  return
}

// -----

/// The same with dynamic and 0-sized buffers.
func.func @softmax_on_dynamic_buffers(%x: memref<?x?xf32>, %o: memref<?x?xf32>) {
  // expected-error @+1 {{smepilot-decompose-aggregates: cannot decompose an op on buffers}}
  linalg.softmax dimension(1) ins(%x : memref<?x?xf32>) outs(%o : memref<?x?xf32>)
  return
}

// -----

func.func @softmax_on_empty_buffers(%x: memref<0x16xf32>, %o: memref<0x16xf32>) {
  // expected-error @+1 {{smepilot-decompose-aggregates: cannot decompose an op on buffers}}
  linalg.softmax dimension(1) ins(%x : memref<0x16xf32>) outs(%o : memref<0x16xf32>)
  return
}
