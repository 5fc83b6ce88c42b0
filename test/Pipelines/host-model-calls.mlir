// The whole stories260K graph through the host pipeline: the only calls
// left in the LLVM dialect are the layer functions, the forward functions'
// C-interface wrappers and malloc/free of temporaries; in particular no
// memrefCopy (strided K/V row copies are lowered in-line) and no libm exp.
//
// RUN: smepilot-build-model --preset=stories260k --chunk-sizes=1,4 | smepilot-opt --smepilot-host-pipeline | FileCheck %s
// CHECK-NOT: memrefCopy
// CHECK-LABEL: llvm.func @smepilot_layer_c1
// CHECK-NOT: llvm.call @memrefCopy
// CHECK-NOT: llvm.call @expf
// CHECK: llvm.func @_mlir_ciface_smepilot_forward_c1
// CHECK-NOT: llvm.call @memrefCopy
// CHECK: llvm.func @_mlir_ciface_smepilot_forward_c4
