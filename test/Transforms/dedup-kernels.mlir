// RUN: smepilot-opt %s --smepilot-form-dispatches --smepilot-dedup-kernels -split-input-file | FileCheck %s
// RUN: smepilot-opt %s --smepilot-form-dispatches -split-input-file | FileCheck %s --check-prefix=OFF

/// Two phases with the same copy (same shapes, same tiles) and one op of
/// their own each. form-dispatches gives each table its own copy kernel;
/// the pass keeps @a_k0, points @b's table at it and erases @b_k0. The
/// kernels that differ (a scale by 2 in @a, by 3 in @b) both stay. Indices
/// into the tables' arrays do not change.
// CHECK-LABEL: func.func @a_k0(
// CHECK: memref.copy
// CHECK-LABEL: func.func @a_k1(
// CHECK: arith.constant 2.000000e+00 : f32
// CHECK-LABEL: smepilot.dispatch_table @a
// CHECK-SAME: kernels = [@a_k0, @a_k1]
// CHECK-NOT: func.func @b_k0(
// CHECK-LABEL: func.func @b_k1(
// CHECK: arith.constant 3.000000e+00 : f32
// CHECK-LABEL: smepilot.dispatch_table @b
// CHECK-SAME: dispatches = [#smepilot.dispatch<name = "b_d0:memref.copy", kernel = 0,
// CHECK-SAME: #smepilot.dispatch<name = "b_d1:scf.forall", kernel = 1,
// CHECK-SAME: kernels = [@a_k0, @b_k1]
// OFF-LABEL: func.func @b_k0(
// OFF: smepilot.dispatch_table @b
// OFF-SAME: kernels = [@b_k0, @b_k1]
func.func @a(%x: memref<8x16xf32>, %pos: index, %out: memref<8x16xf32>)
    attributes {smepilot.phase = "a"} {
  memref.copy %x, %out : memref<8x16xf32> to memref<8x16xf32>
  %two = arith.constant 2.0 : f32
  scf.forall (%i) = (0) to (8) step (2) {
    %v = memref.load %out[%i, %i] : memref<8x16xf32>
    %s = arith.mulf %v, %two : f32
    memref.store %s, %out[%i, %i] : memref<8x16xf32>
  }
  return
}
func.func @b(%x: memref<8x16xf32>, %pos: index, %out: memref<8x16xf32>)
    attributes {smepilot.phase = "b"} {
  memref.copy %x, %out : memref<8x16xf32> to memref<8x16xf32>
  %three = arith.constant 3.0 : f32
  scf.forall (%i) = (0) to (8) step (2) {
    %v = memref.load %out[%i, %i] : memref<8x16xf32>
    %s = arith.mulf %v, %three : f32
    memref.store %s, %out[%i, %i] : memref<8x16xf32>
  }
  return
}

// -----

/// Same ops, same types, same attributes, but the operands used the other
/// way round (x - y against y - x): the hash ignores operands, the exact
/// comparison does not, so both kernels stay. Other shapes (8x16 against
/// 4x16) stay apart too.
// CHECK-LABEL: func.func @p_k0(
// CHECK: %[[PX:.*]] = memref.load
// CHECK: %[[PY:.*]] = memref.load
// CHECK: arith.subf %[[PX]], %[[PY]]
// CHECK-LABEL: smepilot.dispatch_table @p
// CHECK-SAME: kernels = [@p_k0]
// CHECK-LABEL: func.func @q_k0(
// CHECK: %[[QX:.*]] = memref.load
// CHECK: %[[QY:.*]] = memref.load
// CHECK: arith.subf %[[QY]], %[[QX]]
// CHECK-LABEL: smepilot.dispatch_table @q
// CHECK-SAME: kernels = [@q_k0]
// CHECK-LABEL: func.func @r_k0(
// CHECK-LABEL: smepilot.dispatch_table @r
// CHECK-SAME: kernels = [@r_k0]
func.func @p(%x: memref<8xf32>, %y: memref<8xf32>, %pos: index,
             %out: memref<8xf32>) attributes {smepilot.phase = "p"} {
  scf.forall (%i) = (0) to (8) step (1) {
    %a = memref.load %x[%i] : memref<8xf32>
    %b = memref.load %y[%i] : memref<8xf32>
    %d = arith.subf %a, %b : f32
    memref.store %d, %out[%i] : memref<8xf32>
  }
  return
}
func.func @q(%x: memref<8xf32>, %y: memref<8xf32>, %pos: index,
             %out: memref<8xf32>) attributes {smepilot.phase = "q"} {
  scf.forall (%i) = (0) to (8) step (1) {
    %a = memref.load %x[%i] : memref<8xf32>
    %b = memref.load %y[%i] : memref<8xf32>
    %d = arith.subf %b, %a : f32
    memref.store %d, %out[%i] : memref<8xf32>
  }
  return
}
func.func @r(%x: memref<4xf32>, %y: memref<4xf32>, %pos: index,
             %out: memref<4xf32>) attributes {smepilot.phase = "r"} {
  scf.forall (%i) = (0) to (4) step (1) {
    %a = memref.load %x[%i] : memref<4xf32>
    %b = memref.load %y[%i] : memref<4xf32>
    %d = arith.subf %a, %b : f32
    memref.store %d, %out[%i] : memref<4xf32>
  }
  return
}

// -----

/// Three tables with one kernel body: the first in module order stays. A
/// function no table names (@helper, which does the same copy) is not a
/// kernel and is left alone.
// CHECK-LABEL: func.func private @helper(
// CHECK-LABEL: func.func @t1_k0(
// CHECK-LABEL: smepilot.dispatch_table @t1
// CHECK-SAME: kernels = [@t1_k0]
// CHECK-NOT: func.func @t2_k0(
// CHECK-LABEL: smepilot.dispatch_table @t2
// CHECK-SAME: kernels = [@t1_k0]
// CHECK-NOT: func.func @t3_k0(
// CHECK-LABEL: smepilot.dispatch_table @t3
// CHECK-SAME: kernels = [@t1_k0]
func.func private @helper(%x: memref<4xf32>, %out: memref<4xf32>) {
  memref.copy %x, %out : memref<4xf32> to memref<4xf32>
  return
}
func.func @t1(%x: memref<4xf32>, %pos: index, %out: memref<4xf32>)
    attributes {smepilot.phase = "t1"} {
  memref.copy %x, %out : memref<4xf32> to memref<4xf32>
  return
}
func.func @t2(%x: memref<4xf32>, %pos: index, %out: memref<4xf32>)
    attributes {smepilot.phase = "t2"} {
  memref.copy %x, %out : memref<4xf32> to memref<4xf32>
  return
}
func.func @t3(%x: memref<4xf32>, %pos: index, %out: memref<4xf32>)
    attributes {smepilot.phase = "t3"} {
  memref.copy %x, %out : memref<4xf32> to memref<4xf32>
  return
}
