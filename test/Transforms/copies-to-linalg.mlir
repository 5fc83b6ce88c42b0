// RUN: smepilot-opt %s --pass-pipeline="builtin.module(func.func(smepilot-copies-to-linalg))" | FileCheck %s

/// A copy into a strided view (new K/V rows into the cache) becomes a
/// linalg.copy, which lowers to loops instead of a memrefCopy call.
// CHECK-LABEL: func.func @into_cache_rows
// CHECK-SAME: (%[[ROWS:.*]]: memref<2x8xf32>, %[[CACHE:.*]]: memref<4x16x8xf32>, %[[POS:.*]]: index)
// CHECK: %[[VIEW:.*]] = memref.subview %[[CACHE]]
// CHECK-NOT: memref.copy
// CHECK: linalg.copy ins(%[[ROWS]] : memref<2x8xf32>) outs(%[[VIEW]] : memref<2x8xf32, strided<[8, 1], offset: ?>>)
func.func @into_cache_rows(%rows: memref<2x8xf32>, %cache: memref<4x16x8xf32>, %pos: index) {
  %c1 = arith.constant 1 : index
  %view = memref.subview %cache[%c1, %pos, 0] [1, 2, 8] [1, 1, 1]
      : memref<4x16x8xf32> to memref<2x8xf32, strided<[8, 1], offset: ?>>
  memref.copy %rows, %view : memref<2x8xf32> to memref<2x8xf32, strided<[8, 1], offset: ?>>
  return
}

/// Contiguous copies stay: they lower to a memcpy intrinsic.
// CHECK-LABEL: func.func @contiguous
// CHECK: memref.copy
// CHECK-NOT: linalg.copy
func.func @contiguous(%a: memref<2x8xf32>, %b: memref<2x8xf32>) {
  memref.copy %a, %b : memref<2x8xf32> to memref<2x8xf32>
  return
}

/// A 0-sized strided copy is still a linalg.copy (it lowers to loops that
/// run zero times), and so is one with dynamic sizes.
// CHECK-LABEL: func.func @zero_rows
// CHECK-NOT: memref.copy
// CHECK: linalg.copy ins(%{{.*}} : memref<0x8xf32>) outs(%{{.*}} : memref<0x8xf32, strided<[8, 1], offset: ?>>)
func.func @zero_rows(%rows: memref<0x8xf32>, %cache: memref<4x16x8xf32>, %pos: index) {
  %c1 = arith.constant 1 : index
  %view = memref.subview %cache[%c1, %pos, 0] [1, 0, 8] [1, 1, 1]
      : memref<4x16x8xf32> to memref<0x8xf32, strided<[8, 1], offset: ?>>
  memref.copy %rows, %view : memref<0x8xf32> to memref<0x8xf32, strided<[8, 1], offset: ?>>
  return
}

// CHECK-LABEL: func.func @dynamic_rows
// CHECK-NOT: memref.copy
// CHECK: linalg.copy ins(%{{.*}} : memref<?x8xf32>) outs(%{{.*}} : memref<?x8xf32, strided<[8, 1], offset: ?>>)
func.func @dynamic_rows(%rows: memref<?x8xf32>, %cache: memref<4x?x8xf32>, %pos: index, %n: index) {
  %c1 = arith.constant 1 : index
  %view = memref.subview %cache[%c1, %pos, 0] [1, %n, 8] [1, 1, 1]
      : memref<4x?x8xf32> to memref<?x8xf32, strided<[8, 1], offset: ?>>
  memref.copy %rows, %view : memref<?x8xf32> to memref<?x8xf32, strided<[8, 1], offset: ?>>
  return
}
