// RUN: smepilot-opt %s -split-input-file -verify-diagnostics --smepilot-drop-inplace-results

/// A function whose signature changes may only be used by func.call: any
/// other use (a func.constant here) would keep the old type.
func.func @update(%cache: memref<8x16xf32>) -> memref<8x16xf32> {
  return %cache : memref<8x16xf32>
}

func.func @take_address() -> ((memref<8x16xf32>) -> memref<8x16xf32>) {
  // expected-error @+1 {{smepilot-drop-inplace-results: unsupported use of @update}}
  %f = func.constant @update : (memref<8x16xf32>) -> memref<8x16xf32>
  return %f : (memref<8x16xf32>) -> memref<8x16xf32>
}
