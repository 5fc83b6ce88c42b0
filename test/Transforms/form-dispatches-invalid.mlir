// RUN: smepilot-opt %s --smepilot-form-dispatches -split-input-file -verify-diagnostics

/// Results must have become out-params (bufferization) first.
// expected-error @+1 {{phase 'p' has results; bufferize with out-params first}}
func.func @results(%x: memref<4xf32>) -> memref<4xf32> attributes {smepilot.phase = "p"} {
  return %x : memref<4xf32>
}

// -----

/// Buffers and integer constants are all a table can pass.
// expected-error @+1 {{phase argument 1 has type 'f32'; only memrefs (buffers) and integers (constants) are supported}}
func.func @float_arg(%x: memref<4xf32>, %s: f32) attributes {smepilot.phase = "p"} {
  return
}

// -----

/// A buffer the runtime passes is a bare pointer: its layout must be known.
// expected-error @+1 {{phase argument 0 must be a statically shaped identity-layout memref}}
func.func @dynamic_arg(%x: memref<?xf32>) attributes {smepilot.phase = "p"} {
  return
}

// -----

/// Temporary sizes are extents: base + scale * one constant.
func.func @quadratic(%out: memref<1xf32>, %pos: index) attributes {smepilot.phase = "p"} {
  %n = arith.muli %pos, %pos : index
  // expected-error @+1 {{the size of this temporary is not linear in one constant}}
  %t = memref.alloc(%n) : memref<?xf32>
  memref.dealloc %t : memref<?xf32>
  return
}

// -----

/// A phase is a public function with a body and a name.
// expected-error @+1 {{phase 'p' must be a public function}}
func.func private @hidden(%x: memref<4xf32>) attributes {smepilot.phase = "p"} {
  return
}

// -----

// expected-error @+1 {{'smepilot.phase' must be a non-empty string}}
func.func @unnamed(%x: memref<4xf32>) attributes {smepilot.phase = ""} {
  return
}

// -----

// expected-error @+1 {{phase 'decl' is a declaration: a phase needs a body to form dispatches from}}
func.func private @declared(%x: memref<4xf32>) attributes {smepilot.phase = "decl"}

// -----

func.func private @external(memref<4xf32>)
func.func @calls_external(%x: memref<4xf32>) attributes {smepilot.phase = "p"} {
  // expected-error @+1 {{cannot inline a call to an external function into a phase}}
  func.call @external(%x) : (memref<4xf32>) -> ()
  return
}
