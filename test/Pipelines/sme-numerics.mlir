// REQUIRES: qemu-aarch64-sme
// RUN: smepilot-compile %s --all-contractions --target=sme-sve -o %t.o
// RUN: %clangxx-aarch64 -O1 %S/Inputs/sme-matmul-harness.cpp %sme-abi-routines %t.o -o %t.exe
// RUN: %qemu-sme128 %t.exe | FileCheck %s
// RUN: %qemu-sme256 %t.exe | FileCheck %s
// RUN: %qemu-sme512 %t.exe | FileCheck %s
// RUN: %qemu-sme1024 %t.exe | FileCheck %s
// RUN: %qemu-sme2048 %t.exe | FileCheck %s

/// SME kernels run under QEMU at SVL = 128, 256, 512, 1024 and 2048 bits (equal SVE and
/// SME vector lengths) against a scalar reference (Inputs/sme-matmul-harness.cpp):
/// f32 with [out, in] weights and with plain [k, n] B, sizes that are not
/// multiples of any tile (including 1x1x1), and bf16 -> f32 (and f16 -> f32) with static K,
/// even (2-way bfmopa directly) and odd (K = 5, padded to 6). The harness
/// prints MISMATCH and exits 1 if any element differs from the reference.
/// Batched (attention-like) contractions: Q K^T in bf16 with a static shape
/// and P V in f32 with dynamic shapes, B x M x N x K. A matvec with a static
/// M = 1 (decode), which tile-sme makes a streaming-SVE FMLA kernel.
/// The kernels accumulate into a nonzero C. First the harness calls a kernel
/// with a lazy ZA save pending (caller ZA live, TPIDR2_EL0 set): the save
/// buffer must then hold the caller's ZA (this checks the linked
/// __arm_tpidr2_save, %sme-abi-routines). @proj_silu adds an elementwise
/// SiLU after the SME kernel: host-pipeline vector code (NEON / SVE in
/// normal mode, polynomial exp) in the caller of the streaming kernel. i8 is not run: QEMU 7.2 computes
/// smopa wrong (see sme-object.mlir for its structural check).

// CHECK: OK f32_tb 7x13x5
// CHECK-NEXT: OK lazy-za-save SVL=[[SVL:[0-9]+]] bits
// CHECK-NEXT: OK f32_tb 7x13x5
// CHECK-NEXT: OK f32_nn 7x13x5
// CHECK-NEXT: OK f32_tb 33x17x31
// CHECK-NEXT: OK f32_nn 33x17x31
// CHECK-NEXT: OK f32_tb 64x64x64
// CHECK-NEXT: OK f32_nn 64x64x64
// CHECK-NEXT: OK f32_tb 1x1x1
// CHECK-NEXT: OK f32_nn 1x1x1
// CHECK-NEXT: OK f32_tb 4x40x9
// CHECK-NEXT: OK f32_nn 4x40x9
// CHECK-NEXT: OK bf16_tb 7x13x6
// CHECK-NEXT: OK bf16_tb 33x17x32
// CHECK-NEXT: OK bf16_tb 64x64x32
// CHECK-NEXT: OK bf16_tb 5x3x5
// CHECK-NEXT: OK f16_tb 33x17x32
// CHECK-NEXT: OK f32_silu 7x13x5
// CHECK-NEXT: OK f32_silu 33x17x31
// CHECK-NEXT: OK qkt_bf16 8x33x17x64
// CHECK-NEXT: OK pv_f32 3x9x20x7
// CHECK-NEXT: OK matvec_f32_tb 1x1x1
// CHECK-NEXT: OK matvec_f32_tb 1x13x5
// CHECK-NEXT: OK matvec_f32_tb 1x100x63
// CHECK-NEXT: OK matvec_f32_tb 1x257x31
// CHECK-NEXT: ALL OK

func.func @matmul_f32_tb(%a: tensor<?x?xf32>, %w: tensor<?x?xf32>, %c: tensor<?x?xf32>) -> tensor<?x?xf32> attributes {llvm.emit_c_interface} {
  %r = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         ins(%a, %w : tensor<?x?xf32>, tensor<?x?xf32>) outs(%c : tensor<?x?xf32>) -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}
// A static M = 1 (decode): the streaming-SVE FMLA kernel, not outer products.
func.func @matvec_f32_tb(%a: tensor<1x?xf32>, %w: tensor<?x?xf32>, %c: tensor<1x?xf32>) -> tensor<1x?xf32> attributes {llvm.emit_c_interface} {
  %r = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         ins(%a, %w : tensor<1x?xf32>, tensor<?x?xf32>) outs(%c : tensor<1x?xf32>) -> tensor<1x?xf32>
  return %r : tensor<1x?xf32>
}
func.func @matmul_f32_nn(%a: tensor<?x?xf32>, %b: tensor<?x?xf32>, %c: tensor<?x?xf32>) -> tensor<?x?xf32> attributes {llvm.emit_c_interface} {
  %r = linalg.matmul ins(%a, %b : tensor<?x?xf32>, tensor<?x?xf32>) outs(%c : tensor<?x?xf32>) -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}
func.func @matmul_bf16_tb_k6(%a: tensor<?x6xbf16>, %w: tensor<?x6xbf16>, %c: tensor<?x?xf32>) -> tensor<?x?xf32> attributes {llvm.emit_c_interface} {
  %r = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         ins(%a, %w : tensor<?x6xbf16>, tensor<?x6xbf16>) outs(%c : tensor<?x?xf32>) -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}
func.func @matmul_bf16_tb_k32(%a: tensor<?x32xbf16>, %w: tensor<?x32xbf16>, %c: tensor<?x?xf32>) -> tensor<?x?xf32> attributes {llvm.emit_c_interface} {
  %r = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         ins(%a, %w : tensor<?x32xbf16>, tensor<?x32xbf16>) outs(%c : tensor<?x?xf32>) -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}
func.func @matmul_bf16_tb_k5(%a: tensor<?x5xbf16>, %w: tensor<?x5xbf16>, %c: tensor<?x?xf32>) -> tensor<?x?xf32> attributes {llvm.emit_c_interface} {
  %r = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         ins(%a, %w : tensor<?x5xbf16>, tensor<?x5xbf16>) outs(%c : tensor<?x?xf32>) -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}
func.func @matmul_f16_tb_k32(%a: tensor<?x32xf16>, %w: tensor<?x32xf16>, %c: tensor<?x?xf32>) -> tensor<?x?xf32> attributes {llvm.emit_c_interface} {
  %r = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         ins(%a, %w : tensor<?x32xf16>, tensor<?x32xf16>) outs(%c : tensor<?x?xf32>) -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}
func.func @proj_silu(%a: tensor<?x?xf32>, %w: tensor<?x?xf32>, %c: tensor<?x?xf32>) -> tensor<?x?xf32> attributes {llvm.emit_c_interface} {
  %r = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         ins(%a, %w : tensor<?x?xf32>, tensor<?x?xf32>) outs(%c : tensor<?x?xf32>) -> tensor<?x?xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%r : tensor<?x?xf32>) outs(%c : tensor<?x?xf32>) {
  ^bb0(%x: f32, %o: f32):
    %one = arith.constant 1.0 : f32
    %n = arith.negf %x : f32
    %e = math.exp %n : f32
    %d = arith.addf %one, %e : f32
    %y = arith.divf %x, %d : f32
    linalg.yield %y : f32
  } -> tensor<?x?xf32>
  return %s : tensor<?x?xf32>
}
func.func @qkt_bf16(%q: tensor<8x33x64xbf16>, %k: tensor<8x17x64xbf16>, %s: tensor<8x33x17xf32>) -> tensor<8x33x17xf32> attributes {llvm.emit_c_interface} {
  %r = linalg.batch_matmul indexing_maps = [affine_map<(b, m, n, k) -> (b, m, k)>, affine_map<(b, m, n, k) -> (b, n, k)>, affine_map<(b, m, n, k) -> (b, m, n)>]
         ins(%q, %k : tensor<8x33x64xbf16>, tensor<8x17x64xbf16>) outs(%s : tensor<8x33x17xf32>) -> tensor<8x33x17xf32>
  return %r : tensor<8x33x17xf32>
}
func.func @pv_f32(%p: tensor<?x?x?xf32>, %v: tensor<?x?x?xf32>, %o: tensor<?x?x?xf32>) -> tensor<?x?x?xf32> attributes {llvm.emit_c_interface} {
  %r = linalg.batch_matmul ins(%p, %v : tensor<?x?x?xf32>, tensor<?x?x?xf32>) outs(%o : tensor<?x?x?xf32>) -> tensor<?x?x?xf32>
  return %r : tensor<?x?x?xf32>
}
