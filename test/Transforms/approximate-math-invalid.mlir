// RUN: smepilot-opt %s -split-input-file -verify-diagnostics --pass-pipeline="builtin.module(func.func(smepilot-approximate-math))"

/// Math on tensors (dynamic or 0-sized alike): the polynomial patterns build
/// scalar and vector constants and would produce IR that does not verify.
/// The pass works on kernels, where math is applied to scalars (in a linalg
/// op's body) or vectors.
func.func @exp_tensor_dynamic(%x: tensor<?xf32>) -> tensor<?xf32> {
  // expected-error @+1 {{smepilot-approximate-math: math on tensors is not supported (only scalars and vectors: apply it in a linalg op's body)}}
  %r = math.exp %x : tensor<?xf32>
  return %r : tensor<?xf32>
}

// -----

func.func @sinh_tensor_empty(%x: tensor<0x4xf32>) -> tensor<0x4xf32> {
  // expected-error @+1 {{smepilot-approximate-math: math on tensors is not supported}}
  %r = math.sinh %x : tensor<0x4xf32>
  return %r : tensor<0x4xf32>
}

// -----

/// Math on tensors the pass does not rewrite is no error.
func.func @sqrt_tensor(%x: tensor<?xf32>) -> tensor<?xf32> {
  %r = math.sqrt %x : tensor<?xf32>
  return %r : tensor<?xf32>
}
