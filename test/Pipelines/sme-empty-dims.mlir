// RUN: smepilot-opt %s -split-input-file --smepilot-sme-pipeline="all-contractions=true stop-after=dispatch" | FileCheck %s --check-prefix=TABLE
// RUN: smepilot-opt %s -split-input-file --smepilot-sme-pipeline=all-contractions=true | FileCheck %s --check-prefixes=LLVM,ALL
// RUN: smepilot-opt %s -split-input-file --smepilot-sme-pipeline | FileCheck %s --check-prefixes=LLVM,DECIDED
// RUN: smepilot-compile %s --all-contractions --emit=llvm-mlir -o - | FileCheck %s --check-prefix=COMPILE
// RUN: smepilot-compile %s --all-contractions --target=sme2-nosve -o %t.o
// RUN: llvm-objdump -t %t.o | FileCheck %s --check-prefix=OBJ

/// The SME pipeline and smepilot-compile on phases with a 0-sized m, n or k
/// (they crashed in smepilot-form-dispatch-regions, tiling the K-major
/// transpose of a 0-row operand). With all-contractions each empty matmul
/// is a one-tile SME dispatch (its kernel runs no iteration) and the
/// non-empty ops keep their tiles; decided by the Roofline model (cpu), the
/// empty matmuls fold away and only the exp is dispatched.
// TABLE-LABEL: smepilot.dispatch_table @empty
// TABLE-SAME: dispatches = [#smepilot.dispatch<name = "empty_d0:func.call", kernel = 0, sme_kernel = 0, mode = sme, tiles = <1>, bindings = [<11, read>, <1, read>, <2, read>], deps = []>,
// TABLE-SAME: #smepilot.dispatch<name = "empty_d2:func.call", kernel = 2, sme_kernel = 2, mode = sme, tiles = <1>,
// TABLE-SAME: #smepilot.dispatch<name = "empty_d3:func.call", kernel = 3, sme_kernel = 3, mode = sme, tiles = <1>,
// TABLE-SAME: #smepilot.dispatch<name = "empty_d4:scf.forall", kernel = 4, tiles = <4>, bindings = [<9, read>, <10, write>], deps = []>]
// ALL: llvm.mlir.global private constant @__smepilot_empty_dispatches() {{.*}} : !llvm.array<5 x struct
// DECIDED: llvm.mlir.global private constant @__smepilot_empty_dispatches() {{.*}} : !llvm.array<1 x struct
// LLVM: llvm.mlir.global external constant @smepilot_table_empty()
// COMPILE: llvm.mlir.global private constant @__smepilot_empty_dispatches() {{.*}} : !llvm.array<5 x struct
// COMPILE: llvm.mlir.global external constant @smepilot_table_empty()
// OBJ-DAG: O {{.*}} smepilot_table_empty
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

/// Outside a phase, dynamic and 0-sized contractions compile as well.
// LLVM-LABEL: llvm.func @dynamic_and_empty
// COMPILE: llvm.func @dynamic_and_empty
// OBJ-DAG: F {{.*}} dynamic_and_empty{{$}}
func.func @dynamic_and_empty(%a: tensor<?x?xf32>, %b: tensor<?x?xf32>, %c: tensor<?x?xf32>,
                             %a0: tensor<0x64xf32>, %b0: tensor<64x32xf32>, %c0: tensor<0x32xf32>)
    -> (tensor<?x?xf32>, tensor<0x32xf32>) {
  %0 = linalg.matmul ins(%a, %b : tensor<?x?xf32>, tensor<?x?xf32>)
                     outs(%c : tensor<?x?xf32>) -> tensor<?x?xf32>
  %1 = linalg.matmul ins(%a0, %b0 : tensor<0x64xf32>, tensor<64x32xf32>)
                     outs(%c0 : tensor<0x32xf32>) -> tensor<0x32xf32>
  return %0, %1 : tensor<?x?xf32>, tensor<0x32xf32>
}
