// The whole stories260K graph through the host pipeline: the phases become
// kernels (the layer function inlined into them) and dispatch tables; no
// kernel calls memrefCopy (strided K/V row copies are lowered in-line) or
// libm's exp.
//
// RUN: smepilot-build-model --preset=stories260k --chunk-sizes=1,4 | smepilot-opt --smepilot-host-pipeline | FileCheck %s
// CHECK-NOT: memrefCopy
// CHECK-NOT: @expf
// CHECK-NOT: smepilot_layer_c1
// CHECK-LABEL: llvm.func @forward_c1_k0(
// CHECK-NOT: llvm.call @memrefCopy
// CHECK-NOT: llvm.call @expf
// CHECK: llvm.mlir.global external constant @smepilot_table_forward_c1()
// CHECK-NOT: llvm.call @memrefCopy
// CHECK-NOT: llvm.call @expf
// CHECK-LABEL: llvm.func @forward_c4_k0(
// CHECK-NOT: llvm.call @memrefCopy
// CHECK-NOT: llvm.call @expf
// CHECK: llvm.mlir.global external constant @smepilot_table_forward_c4()
