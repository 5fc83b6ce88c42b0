// RUN: smepilot-opt %s --smepilot-host-pipeline="bf16-dot=true" \
// RUN:   | mlir-translate --allow-unregistered-dialect --mlir-to-llvmir \
// RUN:   | llc -O3 -mtriple=x86_64-unknown-linux-gnu -mcpu=znver5 \
// RUN:   | FileCheck %s
// RUN: smepilot-opt %s --smepilot-host-pipeline="bf16-dot=true" | FileCheck %s --check-prefix=LLVM

/// The x86 code of a BF16 projection whose activations are rounded to bf16
/// (the graph builder's form with rounded activations; the vector IR is in
/// test/Transforms/tile-cpu-bf16-dot.mlir), on a pinned CPU with
/// AVX512-BF16: the inner loop multiplies 32 bf16 pairs per instruction
/// straight from the loaded bytes, with no widening of either side.
// LLVM-LABEL: llvm.func @bf16_prefill
// LLVM: llvm.call_intrinsic "llvm.x86.avx512bf16.dpbf16ps.512"
// CHECK-LABEL: bf16_prefill:
// CHECK: Inner Loop Header
// CHECK-COUNT-16: vdpbf16ps
// CHECK-NOT: vpmovzxwd
// CHECK-NOT: vpslld
// CHECK: .size bf16_prefill
#m = affine_map<(m, n, k) -> (m, k)>
#n = affine_map<(m, n, k) -> (n, k)>
#o = affine_map<(m, n, k) -> (m, n)>
func.func @bf16_prefill(%x: tensor<8x256xbf16>, %w: tensor<64x256xbf16>, %init: tensor<8x64xf32>) -> tensor<8x64xf32> {
  %r = linalg.generic {indexing_maps = [#m, #n, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<8x256xbf16>, tensor<64x256xbf16>) outs(%init : tensor<8x64xf32>) {
  ^bb0(%a: bf16, %b: bf16, %acc: f32):
    %af = arith.extf %a : bf16 to f32
    %bf = arith.extf %b : bf16 to f32
    %p = arith.mulf %af, %bf : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<8x64xf32>
  return %r : tensor<8x64xf32>
}
