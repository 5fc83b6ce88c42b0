// RUN: smepilot-opt %s --pass-pipeline="builtin.module(func.func(smepilot-tile-cpu))" | FileCheck %s
// RUN: smepilot-opt %s --pass-pipeline="builtin.module(func.func(smepilot-tile-cpu))" \
// RUN:   | smepilot-opt --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" \
// RUN:       --convert-linalg-to-loops --lower-vector-mask \
// RUN:       --lower-vector-multi-reduction="lowering-strategy=inner-reduction" \
// RUN:       --convert-vector-to-scf="full-unroll" --lower-affine --convert-scf-to-cf \
// RUN:       --expand-strided-metadata --lower-affine --convert-vector-to-llvm \
// RUN:       --finalize-memref-to-llvm --convert-arith-to-llvm --convert-index-to-llvm \
// RUN:       --convert-func-to-llvm --convert-cf-to-llvm --convert-ub-to-llvm \
// RUN:       --reconcile-unrealized-casts > %t.ll.mlir
// RUN: mlir-runner %t.ll.mlir -e max_of_negative_rows -entry-point-result=f32 | FileCheck %s --check-prefix=MAX
// RUN: mlir-runner %t.ll.mlir -e min_of_infinite_row -entry-point-result=f32 | FileCheck %s --check-prefix=MIN

/// Row max and row min over a dynamic dimension: 16-lane tiles, the last
/// one masked. The masked-off lanes hold the reduction's identity (-inf for
/// max, +inf for min), selected in before an unmasked reduction: the LLVM 22
/// lowering of a masked maximumf reduction fills them with -FLT_TRUE_MIN
/// (about -1.4e-45), which made the max of a row of negative numbers about 0
/// (and a softmax over it NaN once every score was 88 below that).
// CHECK-LABEL: func.func @row_max(
// CHECK-DAG: %[[NEGINF:.*]] = arith.constant dense<0xFF800000> : vector<1x16xf32>
// CHECK: %[[MASK:.*]] = vector.create_mask %{{.*}}, %{{.*}} : vector<1x16xi1>
// CHECK: %[[X:.*]] = vector.mask %[[MASK]] { vector.transfer_read
// CHECK: %[[SEL:.*]] = arith.select %[[MASK]], %[[X]], %[[NEGINF]] : vector<1x16xi1>, vector<1x16xf32>
// CHECK-NOT: vector.mask
// CHECK: vector.multi_reduction <maximumf>, %[[SEL]], %{{.*}} [1] : vector<1x16xf32> to vector<1xf32>
// CHECK-LABEL: func.func @row_min(
// CHECK-DAG: %[[POSINF:.*]] = arith.constant dense<0x7F800000> : vector<1x16xf32>
// CHECK: %[[MASK:.*]] = vector.create_mask %{{.*}}, %{{.*}} : vector<1x16xi1>
// CHECK: %[[X:.*]] = vector.mask %[[MASK]] { vector.transfer_read
// CHECK: %[[SEL:.*]] = arith.select %[[MASK]], %[[X]], %[[POSINF]]
// CHECK-NOT: vector.mask
// CHECK: vector.multi_reduction <minimumf>, %[[SEL]], %{{.*}} [1] : vector<1x16xf32> to vector<1xf32>

/// A masked sum keeps its mask: the lowering's masked add is right.
// CHECK-LABEL: func.func @row_sum(
// CHECK: %[[MASK:.*]] = vector.create_mask
// CHECK: vector.mask %[[MASK]] { vector.multi_reduction <add>

/// Executed: max(-300, -200, -250) + max(-1e30, -5, -7) = -205 (-2.8e-45
/// before the fix), and the min of a row of +inf is +inf (FLT_MAX before).
// MAX: {{^}}-2.050000e+02{{$}}
// MIN: {{^}}INF{{$}}

#id = affine_map<(i, j) -> (i, j)>
#row = affine_map<(i, j) -> (i)>

func.func @row_max(%x: tensor<2x?xf32>, %init: tensor<2xf32>) -> tensor<2xf32> {
  %r = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
      ins(%x : tensor<2x?xf32>) outs(%init : tensor<2xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %m = arith.maximumf %in, %acc : f32
    linalg.yield %m : f32
  } -> tensor<2xf32>
  return %r : tensor<2xf32>
}

func.func @row_min(%x: tensor<1x?xf32>, %init: tensor<1xf32>) -> tensor<1xf32> {
  %r = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
      ins(%x : tensor<1x?xf32>) outs(%init : tensor<1xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %m = arith.minimumf %in, %acc : f32
    linalg.yield %m : f32
  } -> tensor<1xf32>
  return %r : tensor<1xf32>
}

func.func @row_sum(%x: tensor<2x?xf32>, %init: tensor<2xf32>) -> tensor<2xf32> {
  %r = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
      ins(%x : tensor<2x?xf32>) outs(%init : tensor<2xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %s = arith.addf %in, %acc : f32
    linalg.yield %s : f32
  } -> tensor<2xf32>
  return %r : tensor<2xf32>
}

func.func @max_of_negative_rows() -> f32 {
  %x = arith.constant dense<[[-300.0, -200.0, -250.0], [-1.0e30, -5.0, -7.0]]> : tensor<2x3xf32>
  %xd = tensor.cast %x : tensor<2x3xf32> to tensor<2x?xf32>
  %init = arith.constant dense<0xFF800000> : tensor<2xf32>
  %m = func.call @row_max(%xd, %init) : (tensor<2x?xf32>, tensor<2xf32>) -> tensor<2xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %m0 = tensor.extract %m[%c0] : tensor<2xf32>
  %m1 = tensor.extract %m[%c1] : tensor<2xf32>
  %s = arith.addf %m0, %m1 : f32
  return %s : f32
}

func.func @min_of_infinite_row() -> f32 {
  %x = arith.constant dense<[[0x7F800000, 0x7F800000, 0x7F800000]]> : tensor<1x3xf32>
  %xd = tensor.cast %x : tensor<1x3xf32> to tensor<1x?xf32>
  %init = arith.constant dense<0x7F800000> : tensor<1xf32>
  %m = func.call @row_min(%xd, %init) : (tensor<1x?xf32>, tensor<1xf32>) -> tensor<1xf32>
  %c0 = arith.constant 0 : index
  %r = tensor.extract %m[%c0] : tensor<1xf32>
  return %r : f32
}
