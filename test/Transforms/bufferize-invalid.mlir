// RUN: smepilot-opt %s --smepilot-bufferize -verify-diagnostics -split-input-file

/// An op on tensors that nothing can bufferize is an error naming it (the
/// pipeline's earlier stages never leave one; a hand-written input can).
func.func @f(%a: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @below {{op was not bufferized}}
  %r = math.exp %a : tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

/// The same inside a kernel: the kernel's strided signature does not hide it.
func.func private @kernel(%a: tensor<4xf32>) -> tensor<4xf32> attributes {smepilot.sme_kernel} {
  // expected-error @below {{op was not bufferized}}
  %r = math.exp %a : tensor<4xf32>
  return %r : tensor<4xf32>
}
func.func @g(%a: tensor<4xf32>) -> tensor<4xf32> {
  %r = call @kernel(%a) : (tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}
