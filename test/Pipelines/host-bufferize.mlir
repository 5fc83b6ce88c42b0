// RUN: smepilot-opt %s --smepilot-host-pipeline=stop-after=bufferize | FileCheck %s
// RUN: smepilot-opt %s --smepilot-host-pipeline | FileCheck %s --check-prefix=LLVM

/// The calling convention after bufferization: arguments in order, then one
/// caller-allocated out-param per result that is not an argument updated in
/// place; no result is returned.

/// KV-cache update through a private layer function: the insert_slice into
/// the argument is done in place (a copy of one row into a subview of the
/// caller's cache), the private and the public function lose their result,
/// and no cache-sized copy or allocation remains.
// CHECK-LABEL: func.func private @store_row
// CHECK-SAME: (%[[CACHE:.*]]: memref<8x16xf32>, %[[ROW:.*]]: memref<1x16xf32>, %[[POS:.*]]: index) {
// CHECK: %[[SV:.*]] = memref.subview %[[CACHE]][%[[POS]], 0] [1, 16] [1, 1]
// CHECK: memref.copy %[[ROW]], %[[SV]] : memref<1x16xf32> to memref<1x16xf32, strided<[16, 1], offset: ?>>
// CHECK: return{{$}}
// CHECK-LABEL: func.func @update
// CHECK-SAME: (%[[C:.*]]: memref<8x16xf32>, %{{.*}}: memref<1x16xf32>, %[[P:.*]]: index) attributes {llvm.emit_c_interface} {
// CHECK-NOT: memref.alloc() {{.*}} : memref<8x16xf32>
// CHECK: call @store_row(%[[C]], %{{.*}}, %[[P]]) : (memref<8x16xf32>, memref<1x16xf32>, index) -> ()
// CHECK-NOT: memref.copy {{.*}} : memref<8x16xf32> to memref<8x16xf32>
// CHECK: return{{$}}
// LLVM-LABEL: llvm.func @_mlir_ciface_update
// LLVM-SAME: (%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: i64)
func.func private @store_row(%cache: tensor<8x16xf32>, %row: tensor<1x16xf32>, %pos: index) -> tensor<8x16xf32> {
  %r = tensor.insert_slice %row into %cache[%pos, 0] [1, 16] [1, 1] : tensor<1x16xf32> into tensor<8x16xf32>
  return %r : tensor<8x16xf32>
}
func.func @update(%cache: tensor<8x16xf32>, %x: tensor<1x16xf32>, %pos: index) -> tensor<8x16xf32>
    attributes {llvm.emit_c_interface} {
  %two = arith.constant 2.0 : f32
  %e = tensor.empty() : tensor<1x16xf32>
  %row = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                         iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<1x16xf32>) outs(%e : tensor<1x16xf32>) {
  ^bb0(%a: f32, %o: f32):
    %v = arith.mulf %a, %two : f32
    linalg.yield %v : f32
  } -> tensor<1x16xf32>
  %r = func.call @store_row(%cache, %row, %pos) : (tensor<8x16xf32>, tensor<1x16xf32>, index) -> tensor<8x16xf32>
  return %r : tensor<8x16xf32>
}

/// A static result computed into a fresh tensor is written straight into
/// the out-param (the allocation is replaced, no copy); an extra result that
/// is an updated argument is dropped while the other stays.
// CHECK-LABEL: func.func @two_results
// CHECK-SAME: (%[[A:.*]]: memref<4x16xf32>, %[[OUT:.*]]: memref<4x16xf32>)
// CHECK-NOT: memref.alloc
// CHECK: %[[SV:.*]] = memref.subview %[[OUT]]
// CHECK: vector.transfer_write {{.*}}, %[[SV]]
// CHECK-NOT: memref.copy
// CHECK: return{{$}}
func.func @two_results(%a: tensor<4x16xf32>) -> (tensor<4x16xf32>, tensor<4x16xf32>) {
  %e = tensor.empty() : tensor<4x16xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%a : tensor<4x16xf32>) outs(%e : tensor<4x16xf32>) {
  ^bb0(%v: f32, %o: f32):
    %n = arith.negf %v : f32
    linalg.yield %n : f32
  } -> tensor<4x16xf32>
  return %a, %r : tensor<4x16xf32>, tensor<4x16xf32>
}

/// Dynamic sizes from an index argument: masked vectors over a dynamic
/// extract_slice; the dynamic result is an out-param the caller sizes (the
/// kernel's buffer is copied into it).
// CHECK-LABEL: func.func @prefix_exp
// CHECK-SAME: (%{{.*}}: memref<64xf32>, %[[N:.*]]: index, %[[OUT:.*]]: memref<?xf32>)
// CHECK: vector.transfer_read {{.*}} : memref<?xf32, strided<[1], offset: ?>>, vector<16xf32>
// CHECK: memref.copy %{{.*}}, %[[OUT]]
// LLVM-LABEL: llvm.func @prefix_exp
// LLVM: llvm.intr.masked.load {{.*}} -> vector<16xf32>
// LLVM-NOT: llvm.intr.exp
// LLVM: llvm.return
func.func @prefix_exp(%x: tensor<64xf32>, %n: index) -> tensor<?xf32> {
  %s = tensor.extract_slice %x[0] [%n] [1] : tensor<64xf32> to tensor<?xf32>
  %e = tensor.empty(%n) : tensor<?xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>],
                       iterator_types = ["parallel"]}
      ins(%s : tensor<?xf32>) outs(%e : tensor<?xf32>) {
  ^bb0(%a: f32, %o: f32):
    %v = math.exp %a : f32
    linalg.yield %v : f32
  } -> tensor<?xf32>
  return %r : tensor<?xf32>
}
