// RUN: smepilot-opt %s -split-input-file --smepilot-host-pipeline=stop-after=dispatch-regions | FileCheck %s --check-prefix=REGIONS
// RUN: smepilot-opt %s -split-input-file --smepilot-host-pipeline=stop-after=dispatch | FileCheck %s --check-prefix=TABLE
// RUN: smepilot-opt %s -split-input-file --smepilot-host-pipeline | FileCheck %s --check-prefix=LLVM

/// Phases with a 0-sized m, n or k (a prompt of 0 tokens, an empty head
/// group) compile: the empty ops are not split into tiles (which crashed
/// smepilot-form-dispatch-regions) and, doing nothing, leave no dispatch;
/// the non-empty op beside them keeps its tiled dispatch.
// REGIONS-LABEL: func.func @empty_matmuls
// REGIONS-NOT: scf.forall
// REGIONS: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<0x64xf32>, tensor<64x32xf32>)
// REGIONS-NOT: scf.forall
// REGIONS: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<16x64xf32>, tensor<64x0xf32>)
// REGIONS-NOT: scf.forall
// REGIONS: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<16x0xf32>, tensor<0x32xf32>)
// REGIONS: scf.forall
// TABLE-LABEL: smepilot.dispatch_table @empty
// TABLE-SAME: dispatches = [#smepilot.dispatch<name = "empty_d0:scf.forall", kernel = 0, tiles = <4>, bindings = [<9, read>, <10, write>], deps = []>], kernels = [@empty_k0]
// LLVM-LABEL: llvm.func @empty_k0(
// LLVM: llvm.mlir.global private constant @__smepilot_empty_dispatches() {{.*}} : !llvm.array<1 x struct
// LLVM: llvm.mlir.global external constant @smepilot_table_empty()
func.func @empty_matmuls(%a0: tensor<0x64xf32>, %w: tensor<64x32xf32>, %c0: tensor<0x32xf32>,
                         %a: tensor<16x64xf32>, %b0: tensor<64x0xf32>, %c1: tensor<16x0xf32>,
                         %ak: tensor<16x0xf32>, %bk: tensor<0x32xf32>, %c: tensor<16x32xf32>,
                         %x: tensor<4x64xf32>)
    -> (tensor<0x32xf32>, tensor<16x0xf32>, tensor<16x32xf32>, tensor<4x64xf32>)
    attributes {smepilot.phase = "empty"} {
  %0 = linalg.matmul ins(%a0, %w : tensor<0x64xf32>, tensor<64x32xf32>)
                     outs(%c0 : tensor<0x32xf32>) -> tensor<0x32xf32>
  %1 = linalg.matmul ins(%a, %b0 : tensor<16x64xf32>, tensor<64x0xf32>)
                     outs(%c1 : tensor<16x0xf32>) -> tensor<16x0xf32>
  %2 = linalg.matmul ins(%ak, %bk : tensor<16x0xf32>, tensor<0x32xf32>)
                     outs(%c : tensor<16x32xf32>) -> tensor<16x32xf32>
  %e = tensor.empty() : tensor<4x64xf32>
  %3 = linalg.exp ins(%x : tensor<4x64xf32>) outs(%e : tensor<4x64xf32>) -> tensor<4x64xf32>
  return %0, %1, %2, %3 : tensor<0x32xf32>, tensor<16x0xf32>, tensor<16x32xf32>, tensor<4x64xf32>
}

// -----

/// Outside a phase, 0-sized and dynamic dimensions compile to loops that
/// run as many iterations as the sizes say.
// REGIONS-LABEL: func.func @dynamic_and_empty
// REGIONS-NOT: scf.forall
// LLVM-LABEL: llvm.func @dynamic_and_empty
func.func @dynamic_and_empty(%a: tensor<?x?xf32>, %b: tensor<?x?xf32>, %c: tensor<?x?xf32>,
                             %a0: tensor<0x64xf32>, %b0: tensor<64x32xf32>, %c0: tensor<0x32xf32>)
    -> (tensor<?x?xf32>, tensor<0x32xf32>) {
  %0 = linalg.matmul ins(%a, %b : tensor<?x?xf32>, tensor<?x?xf32>)
                     outs(%c : tensor<?x?xf32>) -> tensor<?x?xf32>
  %1 = linalg.matmul ins(%a0, %b0 : tensor<0x64xf32>, tensor<64x32xf32>)
                     outs(%c0 : tensor<0x32xf32>) -> tensor<0x32xf32>
  return %0, %1 : tensor<?x?xf32>, tensor<0x32xf32>
}
