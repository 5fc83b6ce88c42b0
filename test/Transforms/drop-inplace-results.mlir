// RUN: smepilot-opt %s -split-input-file --smepilot-drop-inplace-results | FileCheck %s

/// A public entry point that returns the KV cache it updated in place: the
/// result leaves the signature (public functions included), and the caller
/// uses its own argument instead of the result.
// CHECK-LABEL: func.func @update_cache(
// CHECK-SAME: %[[CACHE:[^:]*]]: memref<8x16xf32>, %[[ROW:[^:]*]]: memref<16xf32>, %[[I:[^:]*]]: index) {
// CHECK: memref.subview %[[CACHE]][%[[I]], 0]
// CHECK: memref.copy
// CHECK-NEXT: return{{$}}
func.func @update_cache(%cache: memref<8x16xf32>, %row: memref<16xf32>, %i: index) -> memref<8x16xf32> {
  %view = memref.subview %cache[%i, 0] [1, 16] [1, 1] : memref<8x16xf32> to memref<16xf32, strided<[1], offset: ?>>
  memref.copy %row, %view : memref<16xf32> to memref<16xf32, strided<[1], offset: ?>>
  return %cache : memref<8x16xf32>
}

// CHECK-LABEL: func.func @caller(
// CHECK-SAME: %[[C:[^:]*]]: memref<8x16xf32>, %[[R:[^:]*]]: memref<16xf32>)
// CHECK: call @update_cache(%[[C]], %[[R]], %{{.*}}) : (memref<8x16xf32>, memref<16xf32>, index) -> (){{$}}
// CHECK: %[[V:.*]] = memref.load %[[C]]
// CHECK: return %[[V]] : f32
func.func @caller(%c: memref<8x16xf32>, %r: memref<16xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %u = call @update_cache(%c, %r, %c0) : (memref<8x16xf32>, memref<16xf32>, index) -> memref<8x16xf32>
  %v = memref.load %u[%c0, %c0] : memref<8x16xf32>
  return %v : f32
}

// -----

/// Only the results that return an argument go: a fresh buffer stays a
/// result, at the right position at the call site.
// CHECK-LABEL: func.func private @mixed(
// CHECK-SAME: %[[A:[^:]*]]: memref<4xf32>, %[[B:[^:]*]]: memref<4xf32>) -> memref<4xf32> {
// CHECK: %[[NEW:.*]] = memref.alloc() : memref<4xf32>
// CHECK: return %[[NEW]] : memref<4xf32>
func.func private @mixed(%a: memref<4xf32>, %b: memref<4xf32>) -> (memref<4xf32>, memref<4xf32>, memref<4xf32>) {
  %new = memref.alloc() : memref<4xf32>
  return %b, %new, %a : memref<4xf32>, memref<4xf32>, memref<4xf32>
}

/// The caller then returns its own arguments as is: those results go too.
// CHECK-LABEL: func.func @mixed_caller(
// CHECK-SAME: %[[X:[^:]*]]: memref<4xf32>, %[[Y:[^:]*]]: memref<4xf32>) -> memref<4xf32> {
// CHECK: %[[NEW:.*]] = call @mixed(%[[X]], %[[Y]]) : (memref<4xf32>, memref<4xf32>) -> memref<4xf32>
// CHECK: return %[[NEW]] : memref<4xf32>
func.func @mixed_caller(%x: memref<4xf32>, %y: memref<4xf32>) -> (memref<4xf32>, memref<4xf32>, memref<4xf32>) {
  %r:3 = call @mixed(%x, %y) : (memref<4xf32>, memref<4xf32>) -> (memref<4xf32>, memref<4xf32>, memref<4xf32>)
  return %r#0, %r#1, %r#2 : memref<4xf32>, memref<4xf32>, memref<4xf32>
}

// -----

/// Dynamic and 0-sized buffers are buffers like any other.
// CHECK-LABEL: func.func @shapes(
// CHECK-SAME: %{{.*}}: memref<?x16xf32>, %{{.*}}: memref<0x16xf32>) {
// CHECK-NEXT: return{{$}}
func.func @shapes(%dyn: memref<?x16xf32>, %empty: memref<0x16xf32>) -> (memref<?x16xf32>, memref<0x16xf32>) {
  return %dyn, %empty : memref<?x16xf32>, memref<0x16xf32>
}

// -----

/// Left alone: results that are not buffers (tensors, scalars), functions
/// with several returns (the result might be a different argument on each
/// path), and declarations.
// CHECK-LABEL: func.func @not_buffers(
// CHECK-SAME: -> (tensor<4xf32>, index)
// CHECK: return %{{.*}}, %{{.*}} : tensor<4xf32>, index
func.func @not_buffers(%t: tensor<4xf32>, %i: index) -> (tensor<4xf32>, index) {
  return %t, %i : tensor<4xf32>, index
}

// CHECK-LABEL: func.func @two_returns(
// CHECK-SAME: -> memref<4xf32>
// CHECK: return %{{.*}} : memref<4xf32>
// CHECK: return %{{.*}} : memref<4xf32>
func.func @two_returns(%a: memref<4xf32>, %b: memref<4xf32>, %c: i1) -> memref<4xf32> {
  cf.cond_br %c, ^bb1, ^bb2
^bb1:
  return %a : memref<4xf32>
^bb2:
  return %b : memref<4xf32>
}

// CHECK-LABEL: func.func private @declared(memref<4xf32>) -> memref<4xf32>
func.func private @declared(memref<4xf32>) -> memref<4xf32>
