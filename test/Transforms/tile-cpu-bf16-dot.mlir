// RUN: smepilot-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(smepilot-tile-cpu{bf16-dot=true}))" | FileCheck %s
// RUN: smepilot-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(smepilot-tile-cpu{bf16-dot=true report=true}))" 2>&1 >/dev/null | FileCheck %s --check-prefix=REPORT
// RUN: smepilot-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(smepilot-tile-cpu))" | FileCheck %s --check-prefix=OFF

/// bf16-dot: a dot contraction of two bf16 factors (each widened by
/// arith.extf in the body: a BF16 weight by activations rounded to bf16, as
/// the graph builder emits it) takes k steps of 32 bf16 elements, one
/// x86vector.avx512.dot (vdpbf16ps: pairs of products summed into 16 f32
/// lanes) per output, neither operand widened. Without the option, the same
/// op widens both and uses f32 FMAs on k vectors of 16.

#m = affine_map<(m, n, k) -> (m, k)>
#n = affine_map<(m, n, k) -> (n, k)>
#o = affine_map<(m, n, k) -> (m, n)>

/// Prefill: 4 x 4 register blocks, activations already bf16 in memory (the
/// rounding shared by Q, K and V). k = 64: two full steps, no tail.
// REPORT: remark: smepilot-tile-cpu: dot-product schedule, register block 4x4, bf16 pair dot products (vdpbf16ps) on k vectors of 32
// CHECK-LABEL: func.func @bf16_prefill(
// CHECK: scf.for %[[K:.*]] = %c0 to %c64 step %c32 iter_args({{.*}}) -> (vector<16xf32>,
// CHECK-COUNT-8: vector.transfer_read {{.*}}[%{{.*}}, %[[K]]], %{{.*}} {in_bounds = [true]} : tensor<4x64xbf16>, vector<32xbf16>
// CHECK-COUNT-16: x86vector.avx512.dot %{{.*}}, %{{.*}}, %{{.*}} : vector<32xbf16> -> vector<16xf32>
// CHECK: scf.yield
// CHECK-NOT: arith.extf
// CHECK: vector.reduction <add>
// OFF-LABEL: func.func @bf16_prefill(
// OFF-NOT: x86vector
// OFF: arith.extf {{.*}} : vector<16xbf16> to vector<16xf32>
// OFF: vector.fma
func.func @bf16_prefill(%x: tensor<8x64xbf16>, %w: tensor<16x64xbf16>, %init: tensor<8x16xf32>) -> tensor<8x16xf32> {
  %r = linalg.generic {indexing_maps = [#m, #n, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<8x64xbf16>, tensor<16x64xbf16>) outs(%init : tensor<8x16xf32>) {
  ^bb0(%a: bf16, %b: bf16, %acc: f32):
    %af = arith.extf %a : bf16 to f32
    %bf = arith.extf %b : bf16 to f32
    %p = arith.mulf %af, %bf : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<8x16xf32>
  return %r : tensor<8x16xf32>
}

// -----

#m = affine_map<(m, n, k) -> (m, k)>
#n = affine_map<(m, n, k) -> (n, k)>
#o = affine_map<(m, n, k) -> (m, n)>

/// Decode (one row) keeps f32 FMAs on widened operands: that GEMV is bound
/// by the weight stream, and vdpbf16ps measured slower there. With the
/// rounding fused into the product, 16 f32 lanes are read, rounded to bf16
/// and widened back (the value the reference executor uses).
// REPORT: remark: smepilot-tile-cpu: dot-product schedule, register block 1x1, 4 accumulator groups, k vectors of 16
// CHECK-LABEL: func.func @bf16_decode_fused_rounding(
// CHECK-NOT: x86vector
// CHECK: %[[A:.*]] = vector.transfer_read {{.*}} : tensor<1x80xf32>, vector<16xf32>
// CHECK: %[[AB:.*]] = arith.truncf %[[A]] : vector<16xf32> to vector<16xbf16>
// CHECK: %[[AF:.*]] = arith.extf %[[AB]] : vector<16xbf16> to vector<16xf32>
// CHECK: vector.fma %[[AF]], %{{.*}}, %{{.*}} : vector<16xf32>
// CHECK: return
func.func @bf16_decode_fused_rounding(%x: tensor<1x80xf32>, %w: tensor<32x80xbf16>, %init: tensor<1x32xf32>) -> tensor<1x32xf32> {
  %r = linalg.generic {indexing_maps = [#m, #n, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<1x80xf32>, tensor<32x80xbf16>) outs(%init : tensor<1x32xf32>) {
  ^bb0(%a: f32, %b: bf16, %acc: f32):
    %ab = arith.truncf %a : f32 to bf16
    %af = arith.extf %ab : bf16 to f32
    %bf = arith.extf %b : bf16 to f32
    %p = arith.mulf %af, %bf : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x32xf32>
  return %r : tensor<1x32xf32>
}

// -----

#m = affine_map<(m, n, k) -> (m, k)>
#n = affine_map<(m, n, k) -> (n, k)>
#o = affine_map<(m, n, k) -> (m, n)>

/// Two rows with the rounding fused (a single-use activation in a short
/// prefill chunk): 2 x 4 blocks read 32 f32 lanes per row and round them in
/// registers (arith.truncf); k = 80 = two full steps of 32 and a masked tail
/// of 16, whose masked-off lanes are zero on both sides.
// REPORT: remark: smepilot-tile-cpu: dot-product schedule, register block 2x4, bf16 pair dot products (vdpbf16ps) on k vectors of 32
// CHECK-LABEL: func.func @bf16_rows_fused_rounding(
// CHECK: %[[TAIL:.*]] = vector.create_mask %c16 : vector<32xi1>
// CHECK: scf.for %{{.*}} = %c0 to %c64 step %c32
// CHECK: %[[A:.*]] = vector.transfer_read {{.*}} : tensor<2x80xf32>, vector<32xf32>
// CHECK: %[[AB:.*]] = arith.truncf %[[A]] : vector<32xf32> to vector<32xbf16>
// CHECK: x86vector.avx512.dot %{{.*}}, %[[AB]], %{{.*}} : vector<32xbf16> -> vector<16xf32>
// CHECK: vector.transfer_read {{.*}}[%c0, %c64], %{{.*}}, %[[TAIL]] {in_bounds = [true]} : tensor<2x80xf32>, vector<32xf32>
// CHECK: arith.select %[[TAIL]], %{{.*}}, %{{.*}} : vector<32xi1>, vector<32xbf16>
// CHECK: x86vector.avx512.dot
func.func @bf16_rows_fused_rounding(%x: tensor<2x80xf32>, %w: tensor<32x80xbf16>, %init: tensor<2x32xf32>) -> tensor<2x32xf32> {
  %r = linalg.generic {indexing_maps = [#m, #n, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<2x80xf32>, tensor<32x80xbf16>) outs(%init : tensor<2x32xf32>) {
  ^bb0(%a: f32, %b: bf16, %acc: f32):
    %ab = arith.truncf %a : f32 to bf16
    %af = arith.extf %ab : bf16 to f32
    %bf = arith.extf %b : bf16 to f32
    %p = arith.mulf %af, %bf : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<2x32xf32>
  return %r : tensor<2x32xf32>
}

// -----

#m = affine_map<(m, n, k) -> (m, k)>
#n = affine_map<(m, n, k) -> (n, k)>
#o = affine_map<(m, n, k) -> (m, n)>

/// F32 activations by a BF16 weight (--f32-activations): one factor is not
/// bf16, so f32 FMAs on the widened weight, as without the option.
// REPORT: remark: smepilot-tile-cpu: dot-product schedule, register block 4x4, k vectors of 16
// CHECK-LABEL: func.func @f32_activations(
// CHECK-NOT: x86vector
// CHECK: arith.extf {{.*}} : vector<16xbf16> to vector<16xf32>
// CHECK: vector.fma
func.func @f32_activations(%x: tensor<4x64xf32>, %w: tensor<32x64xbf16>, %init: tensor<4x32xf32>) -> tensor<4x32xf32> {
  %r = linalg.generic {indexing_maps = [#m, #n, #o], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<4x64xf32>, tensor<32x64xbf16>) outs(%init : tensor<4x32xf32>) {
  ^bb0(%a: f32, %b: bf16, %acc: f32):
    %bf = arith.extf %b : bf16 to f32
    %p = arith.mulf %a, %bf : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<4x32xf32>
  return %r : tensor<4x32xf32>
}
