// RUN: smepilot-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(smepilot-decompose-aggregates))" | FileCheck %s

/// linalg.softmax along the rows becomes four structured ops: a max
/// reduction (from the identity of maxnumf), exp(x - max), a sum reduction
/// (from 0) and a division, in that order.
// CHECK-DAG: #[[ROWS:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func.func @softmax(
// CHECK-SAME: %[[X:.*]]: tensor<2x16xf32>)
// CHECK-DAG: %[[OUT:.*]] = tensor.empty() : tensor<2x16xf32>
// CHECK-DAG: %[[RED:.*]] = tensor.empty() : tensor<2xf32>
// CHECK: %[[MAXINIT:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[RED]] : tensor<2xf32>)
// CHECK: %[[MAX:.*]] = linalg.generic {indexing_maps = [#[[ROWS]], #[[ROW]]], iterator_types = ["parallel", "reduction"]}
// CHECK-SAME: ins(%[[X]] : tensor<2x16xf32>) outs(%[[MAXINIT]] : tensor<2xf32>)
// CHECK: arith.maxnumf
// CHECK: %[[EXP:.*]] = linalg.generic {indexing_maps = [#[[ROWS]], #[[ROW]], #[[ROWS]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME: ins(%[[X]], %[[MAX]] : tensor<2x16xf32>, tensor<2xf32>) outs(%[[OUT]] : tensor<2x16xf32>)
// CHECK: arith.subf
// CHECK: math.exp
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[SUMINIT:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[RED]] : tensor<2xf32>)
// CHECK: %[[SUM:.*]] = linalg.generic {{.*}} ins(%[[EXP]] : tensor<2x16xf32>) outs(%[[SUMINIT]] : tensor<2xf32>)
// CHECK: arith.addf
// CHECK: %[[DIV:.*]] = linalg.generic {{.*}} ins(%[[EXP]], %[[SUM]] : tensor<2x16xf32>, tensor<2xf32>) outs(%[[OUT]] : tensor<2x16xf32>)
// CHECK: arith.divf
// CHECK-NOT: linalg.softmax
// CHECK: return %[[DIV]]
func.func @softmax(%x: tensor<2x16xf32>) -> tensor<2x16xf32> {
  %e = tensor.empty() : tensor<2x16xf32>
  %r = linalg.softmax dimension(1) ins(%x : tensor<2x16xf32>) outs(%e : tensor<2x16xf32>) -> tensor<2x16xf32>
  return %r : tensor<2x16xf32>
}

// -----

/// Along dimension 0 the reductions run over the columns.
// CHECK-DAG: #[[COL:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @softmax_columns(
// CHECK: tensor.empty() : tensor<16xf32>
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[COL]]], iterator_types = ["reduction", "parallel"]}
// CHECK: arith.maxnumf
// CHECK-NOT: linalg.softmax
func.func @softmax_columns(%x: tensor<2x16xf32>, %o: tensor<2x16xf32>) -> tensor<2x16xf32> {
  %r = linalg.softmax dimension(0) ins(%x : tensor<2x16xf32>) outs(%o : tensor<2x16xf32>) -> tensor<2x16xf32>
  return %r : tensor<2x16xf32>
}

// -----

/// Dynamic sizes: the reduction buffer takes its size from the input.
// CHECK-LABEL: func.func @softmax_dynamic(
// CHECK-SAME: %[[X:[^:]*]]: tensor<?x?xf32>, %[[O:[^:]*]]: tensor<?x?xf32>)
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: %[[ROWS:.*]] = tensor.dim %[[X]], %[[C0]] : tensor<?x?xf32>
// CHECK: %[[RED:.*]] = tensor.empty(%[[ROWS]]) : tensor<?xf32>
// CHECK: linalg.fill {{.*}} outs(%[[RED]] : tensor<?xf32>)
// CHECK: arith.maxnumf
// CHECK: linalg.generic {{.*}} outs(%[[O]] : tensor<?x?xf32>)
// CHECK: math.exp
// CHECK: arith.addf
// CHECK: %[[R:.*]] = linalg.generic {{.*}} outs(%[[O]] : tensor<?x?xf32>)
// CHECK: arith.divf
// CHECK-NOT: linalg.softmax
// CHECK: return %[[R]]
func.func @softmax_dynamic(%x: tensor<?x?xf32>, %o: tensor<?x?xf32>) -> tensor<?x?xf32> {
  %r = linalg.softmax dimension(1) ins(%x : tensor<?x?xf32>) outs(%o : tensor<?x?xf32>) -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}

// -----

/// 0 rows: the same four ops on empty tensors (they do nothing).
// CHECK-LABEL: func.func @softmax_empty(
// CHECK: tensor.empty() : tensor<0xf32>
// CHECK-COUNT-4: linalg.generic
// CHECK-NOT: linalg.softmax
// CHECK: return %{{.*}} : tensor<0x16xf32>
func.func @softmax_empty(%x: tensor<0x16xf32>, %o: tensor<0x16xf32>) -> tensor<0x16xf32> {
  %r = linalg.softmax dimension(1) ins(%x : tensor<0x16xf32>) outs(%o : tensor<0x16xf32>) -> tensor<0x16xf32>
  return %r : tensor<0x16xf32>
}

// -----

/// Structured ops are not aggregates: left alone.
// CHECK-LABEL: func.func @not_aggregates(
// CHECK-NEXT: %[[MM:.*]] = linalg.matmul ins
// CHECK-NEXT: linalg.exp ins(%[[MM]]
// CHECK-NEXT: return
func.func @not_aggregates(%a: tensor<4x8xf32>, %b: tensor<8x4xf32>, %c: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %m = linalg.matmul ins(%a, %b : tensor<4x8xf32>, tensor<8x4xf32>) outs(%c : tensor<4x4xf32>) -> tensor<4x4xf32>
  %e = linalg.exp ins(%m : tensor<4x4xf32>) outs(%c : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %e : tensor<4x4xf32>
}
