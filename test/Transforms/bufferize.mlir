// RUN: smepilot-opt %s -split-input-file --smepilot-bufferize --cse --canonicalize | FileCheck %s
// RUN: smepilot-opt %s -split-input-file --smepilot-bufferize=strided-kernel-args=false --cse --canonicalize | FileCheck %s --check-prefix=IDENTITY

/// smepilot-bufferize: one-shot module bufferization with identity layouts
/// at function boundaries, except the matrix-unit kernels (smepilot.sme_kernel),
/// whose buffers are strided views with a unit innermost stride.

/// A head's rows at a nonzero offset go to the kernel as a view; the same
/// slice passed to an ordinary function is copied (identity layout).
// CHECK-LABEL: func.func private @kernel(
// CHECK-SAME:      %{{.*}}: memref<4x8xf32, strided<[?, 1], offset: ?>>, %{{.*}}: memref<4x8xf32, strided<[?, 1], offset: ?>>) -> memref<4x8xf32, strided<[?, 1], offset: ?>>
// CHECK-LABEL: func.func private @plain(
// CHECK-SAME:      %{{.*}}: memref<4x8xf32>, %{{.*}}: memref<4x8xf32>) -> memref<4x8xf32>
// CHECK-LABEL: func.func @heads(
// CHECK:         %[[HEAD:.*]] = memref.subview %{{.*}}[4, 0] [4, 8] [1, 1]
// CHECK:         %[[VIEW:.*]] = memref.cast %[[HEAD]] : memref<4x8xf32, strided<[8, 1], offset: 32>> to memref<4x8xf32, strided<[?, 1], offset: ?>>
// CHECK:         call @kernel(%[[VIEW]],
// CHECK:         %[[COPY:.*]] = memref.alloc() {{.*}} : memref<4x8xf32>
// CHECK:         memref.copy %[[HEAD]], %[[COPY]]
// CHECK:         call @plain(%[[COPY]],
// IDENTITY-LABEL: func.func private @kernel(
// IDENTITY-SAME:      %{{.*}}: memref<4x8xf32>, %{{.*}}: memref<4x8xf32>) -> memref<4x8xf32>
// IDENTITY-LABEL: func.func @heads(
// IDENTITY:         %[[HEAD:.*]] = memref.subview %{{.*}}[4, 0] [4, 8] [1, 1]
// IDENTITY:         %[[COPY:.*]] = memref.alloc() {{.*}} : memref<4x8xf32>
// IDENTITY:         memref.copy %[[HEAD]], %[[COPY]]
// IDENTITY:         call @kernel(%[[COPY]],
func.func private @kernel(%a: tensor<4x8xf32>, %c: tensor<4x8xf32>) -> tensor<4x8xf32>
    attributes {smepilot.sme_kernel} {
  %r = linalg.add ins(%a, %c : tensor<4x8xf32>, tensor<4x8xf32>) outs(%c : tensor<4x8xf32>) -> tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}
func.func private @plain(%a: tensor<4x8xf32>, %c: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %r = linalg.add ins(%a, %c : tensor<4x8xf32>, tensor<4x8xf32>) outs(%c : tensor<4x8xf32>) -> tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}
func.func @heads(%q: tensor<16x8xf32>, %c: tensor<4x8xf32>, %d: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %h = tensor.extract_slice %q[4, 0] [4, 8] [1, 1] : tensor<16x8xf32> to tensor<4x8xf32>
  %r = call @kernel(%h, %c) : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %s = call @plain(%h, %d) : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return %r, %s : tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

/// A kernel's output that starts empty and is inserted into a bigger tensor
/// (a head's PV result into the assembled heads) is written in place: the
/// kernel gets the destination's slice; no buffer of its own, no copy back.
/// The function returns the kernel's result: no copy into a result buffer
/// either (the result is the argument updated in place).
// CHECK-LABEL: func.func @assemble(
// CHECK-SAME:      %[[A:.*]]: memref<4x8xf32>, %[[OUT:.*]]: memref<12x8xf32>, %[[C:.*]]: memref<4x8xf32>)
// CHECK-NOT:     memref.alloc
// CHECK:         %[[PART:.*]] = memref.subview %[[OUT]][4, 0] [4, 8] [1, 1]
// CHECK:         linalg.fill {{.*}} outs(%[[PART]] :
// CHECK:         %[[VIEW:.*]] = memref.cast %[[PART]]
// CHECK:         call @kernel(%{{.*}}, %[[VIEW]])
// CHECK:         call @kernel(%{{.*}}, %{{.*}})
// CHECK-NOT:     memref.copy
// CHECK:         return %[[OUT]], %[[C]] : memref<12x8xf32>, memref<4x8xf32>
// IDENTITY-LABEL: func.func @assemble(
// IDENTITY:         memref.alloc() {{.*}} : memref<4x8xf32>
// IDENTITY:         call @kernel(
// IDENTITY:         memref.copy
func.func private @kernel(%a: tensor<4x8xf32>, %c: tensor<4x8xf32>) -> tensor<4x8xf32>
    attributes {smepilot.sme_kernel} {
  %r = linalg.add ins(%a, %c : tensor<4x8xf32>, tensor<4x8xf32>) outs(%c : tensor<4x8xf32>) -> tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}
func.func @assemble(%a: tensor<4x8xf32>, %out: tensor<12x8xf32>, %c: tensor<4x8xf32>) -> (tensor<12x8xf32>, tensor<4x8xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x8xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4x8xf32>) -> tensor<4x8xf32>
  %r = call @kernel(%a, %f) : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %o = tensor.insert_slice %r into %out[4, 0] [4, 8] [1, 1] : tensor<4x8xf32> into tensor<12x8xf32>
  %s = call @kernel(%a, %c) : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return %o, %s : tensor<12x8xf32>, tensor<4x8xf32>
}

// -----

/// A kernel's result read through an op that needs a contiguous layout
/// (collapse_shape) reads the kernel's own output buffer: the strided result
/// is the identity buffer the caller passed.
// CHECK-LABEL: func.func @collapse(
// CHECK:         %[[BUF:.*]] = memref.alloc() {{.*}} : memref<4x8xf32>
// CHECK:         call @kernel(%{{.*}}, %{{.*}})
// CHECK-NOT:     memref.copy
// CHECK:         memref.collapse_shape %[[BUF]] {{\[}}[0, 1]] : memref<4x8xf32> into memref<32xf32>
func.func private @kernel(%a: tensor<4x8xf32>, %c: tensor<4x8xf32>) -> tensor<4x8xf32>
    attributes {smepilot.sme_kernel} {
  %r = linalg.add ins(%a, %c : tensor<4x8xf32>, tensor<4x8xf32>) outs(%c : tensor<4x8xf32>) -> tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}
func.func @collapse(%a: tensor<4x8xf32>) -> tensor<32xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x8xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4x8xf32>) -> tensor<4x8xf32>
  %r = call @kernel(%a, %f) : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %flat = tensor.collapse_shape %r [[0, 1]] : tensor<4x8xf32> into tensor<32xf32>
  %y = linalg.exp ins(%flat : tensor<32xf32>) outs(%flat : tensor<32xf32>) -> tensor<32xf32>
  return %y : tensor<32xf32>
}

// -----

/// A slice whose innermost dimension is strided (every other column) has no
/// unit-stride view: it is still copied at the call.
// CHECK-LABEL: func.func @columns(
// CHECK:         %[[COLS:.*]] = memref.subview %{{.*}}[0, 0] [4, 8] [1, 2]
// CHECK:         %[[COPY:.*]] = memref.alloc() {{.*}} : memref<4x8xf32>
// CHECK:         memref.copy %[[COLS]], %[[COPY]]
// CHECK:         memref.cast %[[COPY]]
func.func private @kernel(%a: tensor<4x8xf32>, %c: tensor<4x8xf32>) -> tensor<4x8xf32>
    attributes {smepilot.sme_kernel} {
  %r = linalg.add ins(%a, %c : tensor<4x8xf32>, tensor<4x8xf32>) outs(%c : tensor<4x8xf32>) -> tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}
func.func @columns(%x: tensor<4x16xf32>, %c: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %cols = tensor.extract_slice %x[0, 0] [4, 8] [1, 2] : tensor<4x16xf32> to tensor<4x8xf32>
  %r = call @kernel(%cols, %c) : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}

// -----

/// One zero fill shared by two kernel outputs (CSE merges equal fills): the
/// analysis would copy the zeros before one of the writes; each call gets
/// a fill of its own instead, and no copy.
// CHECK-LABEL: func.func @shared_zeros(
// CHECK-NOT:     memref.copy
// CHECK-COUNT-2: linalg.fill
// CHECK-NOT:     memref.copy
// CHECK-COUNT-2: call @kernel(
// CHECK-NOT:     memref.copy
// CHECK:         return
// IDENTITY-LABEL: func.func @shared_zeros(
// IDENTITY-NOT:     memref.copy
// IDENTITY:         return
func.func private @kernel(%a: tensor<4x8xf32>, %c: tensor<4x8xf32>) -> tensor<4x8xf32>
    attributes {smepilot.sme_kernel} {
  %r = linalg.add ins(%a, %c : tensor<4x8xf32>, tensor<4x8xf32>) outs(%c : tensor<4x8xf32>) -> tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}
func.func @shared_zeros(%a: tensor<4x8xf32>, %b: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x8xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4x8xf32>) -> tensor<4x8xf32>
  %r = call @kernel(%a, %f) : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %s = call @kernel(%b, %f) : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return %r, %s : tensor<4x8xf32>, tensor<4x8xf32>
}
