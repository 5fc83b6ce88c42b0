// The K/V caches stay in place through one-shot bufferization with function
// boundaries: no cache-sized buffer is allocated or copied, each layer writes
// its new rows into a subview of the caller's cache and reads the keys and
// values through subviews, and the forward function returns the very cache
// buffers it was given.
//
// RUN: smepilot-build-model --preset=stories260k --chunk-sizes=1,4 --n-ctx=16 \
// RUN:   | smepilot-opt --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" \
// RUN:   | FileCheck %s
// RUN: smepilot-build-model --preset=stories260k --chunk-sizes=1,4 --n-ctx=16 \
// RUN:   | smepilot-opt --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" \
// RUN:   | FileCheck %s --check-prefix=NOCOPY
// RUN: smepilot-build-model --preset=stories260k --chunk-sizes=1,4 --n-ctx=16 \
// RUN:   | smepilot-opt --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" --drop-equivalent-buffer-results \
// RUN:   | FileCheck %s --check-prefix=EQUIV
// RUN: smepilot-build-model --preset=qwen3-tiny --chunk-sizes=1,3 --n-ctx=8 \
// RUN:   | smepilot-opt --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" \
// RUN:   | FileCheck %s --check-prefix=QWEN

/// Nowhere a buffer of the cache's type is allocated, and nothing is copied
/// into or out of a whole cache.
// NOCOPY-NOT: memref.alloc{{.*}}: memref<5x4x16x8xf32>
// NOCOPY-NOT: memref.copy {{.*}}memref<5x4x16x8xf32>{{.*}}to
// NOCOPY-NOT: memref.copy {{.*}} to memref<5x4x16x8xf32>
// NOCOPY: func.func @smepilot_forward_c4
// NOCOPY-NOT: memref.alloc{{.*}}: memref<5x4x16x8xf32>
// NOCOPY-NOT: memref.copy {{.*}} to memref<5x4x16x8xf32>

/// In the layer: the new rows (C x KVH x HD) are copied into a subview of the
/// cache argument; attention reads subviews of the same argument, which is
/// returned.
// CHECK-LABEL: func.func private @smepilot_layer_c1(
// CHECK-SAME: %[[POS:arg1]]: index, %[[L:arg2]]: index
// CHECK-SAME: %[[KC:arg14]]: memref<5x4x16x8xf32>, %[[VC:arg15]]: memref<5x4x16x8xf32>)
// CHECK: %[[KROW:.*]] = memref.subview %[[KC]][%[[L]], 0, %[[POS]], 0] [1, 4, 1, 8] [1, 1, 1, 1]
// CHECK: memref.copy %{{.*}}, %[[KROW]] : memref<4x1x8xf32> to memref<4x1x8xf32, strided<[128, 8, 1], offset: ?>>
// CHECK: %[[VROW:.*]] = memref.subview %[[VC]][%[[L]], 0, %[[POS]], 0] [1, 4, 1, 8] [1, 1, 1, 1]
// CHECK: memref.copy %{{.*}}, %[[VROW]]
// CHECK: %[[KEYS:.*]] = memref.subview %[[KC]][%[[L]], 0, 0, 0] [1, 4, %{{.*}}, 8] [1, 1, 1, 1] : memref<5x4x16x8xf32> to memref<4x?x8xf32
// CHECK: %[[VALS:.*]] = memref.subview %[[VC]][%[[L]], 0, 0, 0] [1, 4, %{{.*}}, 8] [1, 1, 1, 1] : memref<5x4x16x8xf32> to memref<4x?x8xf32
// CHECK: linalg.batch_matmul {{.*}}ins(%{{.*}}, %[[KEYS]] :
// CHECK: linalg.batch_matmul ins(%{{.*}}, %[[VALS]] :
// CHECK: return %{{.*}}, %[[KC]], %[[VC]] : memref<1x64xf32>, memref<5x4x16x8xf32>, memref<5x4x16x8xf32>

/// The forward function hands the caches from call to call.
// CHECK-LABEL: func.func @smepilot_forward_c1(
// CHECK-SAME: %[[K0:arg50]]: memref<5x4x16x8xf32> {smepilot.name = "k_cache"}, %[[V0:arg51]]: memref<5x4x16x8xf32> {smepilot.name = "v_cache"})
// CHECK: %[[R0:.*]]:3 = call @smepilot_layer_c1({{.*}}, %[[K0]], %[[V0]])
// CHECK: %[[R1:.*]]:3 = call @smepilot_layer_c1({{.*}}, %[[R0]]#1, %[[R0]]#2)

/// The analysis proved every returned cache equivalent to the argument: the
/// layer functions lose those results, the forward function returns its own
/// cache arguments.
// EQUIV-LABEL: func.func private @smepilot_layer_c1(
// EQUIV-SAME: -> memref<1x64xf32>
// EQUIV: return %{{.*}} : memref<1x64xf32>
// EQUIV-LABEL: func.func @smepilot_forward_c1(
// EQUIV: return %{{.*}}, %arg50, %arg51 : memref<1x512xf32>, memref<5x4x16x8xf32>, memref<5x4x16x8xf32>
// EQUIV-LABEL: func.func @smepilot_forward_c4(
// EQUIV: return %{{.*}}, %arg50, %arg51 : memref<4x512xf32>, memref<5x4x16x8xf32>, memref<5x4x16x8xf32>

/// qwen3-tiny (QK-norm, head_dim 32, cache [2, 2, 8, 32]): the same.
// QWEN-NOT: memref.alloc{{.*}}: memref<2x2x8x32xf32>
// QWEN-NOT: memref.copy {{.*}} to memref<2x2x8x32xf32>
// QWEN-LABEL: func.func private @smepilot_layer_c3(
// QWEN-NOT: memref.alloc{{.*}}: memref<2x2x8x32xf32>
// QWEN: memref.copy %{{.*}}, %{{.*}} : memref<2x3x32xf32> to memref<2x3x32xf32, strided<[256, 32, 1], offset: ?>>
// QWEN-NOT: memref.alloc{{.*}}: memref<2x2x8x32xf32>
// QWEN-NOT: memref.copy {{.*}} to memref<2x2x8x32xf32>
