// RUN: smepilot-opt %s --smepilot-host-pipeline=stop-after=vectorize | FileCheck %s --check-prefix=VEC
// RUN: smepilot-opt %s --smepilot-host-pipeline \
// RUN:   | mlir-translate --allow-unregistered-dialect --mlir-to-llvmir \
// RUN:   | llc -O3 -mtriple=x86_64-unknown-linux-gnu -mattr=+avx512f,+fma \
// RUN:   | FileCheck %s --check-prefix=ASM

/// P V as the graph builder emits it: a generic contraction over KV heads g,
/// the query heads h of a group, queries q and head_dim d, reducing over the
/// positions n (dynamic). k (the positions) is not contiguous in V, so it is
/// not the dot-product schedule but 16 x 16 x 1 tiles. The vectorizer reads
/// every operand into the whole iteration space and tile-cpu folds those
/// broadcasts into the contraction: an [m, k] x [k, n] contraction per
/// position, lowered to outer products. Unfolded, the 5-d contraction was
/// unrolled into scalar multiplies (vmulss, ~9 GFLOP/s on 1B prefill).

/// Prefill: 16 query rows by 16 columns of head_dim per tile, one position
/// per step: a V row load and 16 FMAs with a broadcast P element each.
// VEC-LABEL: func.func @pv_prefill
// VEC: vector.contract {{.*}} : vector<16x1xf32>, vector<1x16xf32> into vector<16x16xf32>
// VEC-NOT: vector<1x1x16x16x1xf32>
// VEC: return
// ASM-LABEL: pv_prefill:
// ASM-NOT: vmulss
// ASM: Inner Loop Header
// ASM: vmovups (%{{.*}}), %zmm[[V:[0-9]+]]
// ASM-COUNT-16: vfmadd231ps {{.*}}{1to16}, %zmm[[V]], %zmm{{[0-9]+}}
// ASM-NOT: vmulss
// ASM: .Lfunc_end0:
func.func @pv_prefill(%p: tensor<8x4x64x?xf32>, %v: tensor<8x?x64xf32>, %c: tensor<8x4x64x64xf32>) -> tensor<8x4x64x64xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(g, h, q, d, n) -> (g, h, q, n)>,
                                        affine_map<(g, h, q, d, n) -> (g, n, d)>,
                                        affine_map<(g, h, q, d, n) -> (g, h, q, d)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %v : tensor<8x4x64x?xf32>, tensor<8x?x64xf32>) outs(%c : tensor<8x4x64x64xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<8x4x64x64xf32>
  return %r : tensor<8x4x64x64xf32>
}

/// Decode (one query): the 4 heads of a group by all 64 columns, one
/// position per step: 4 V row loads, then per head a broadcast of its P
/// element and 4 FMAs.
// VEC-LABEL: func.func @pv_decode
// VEC: vector.contract {{.*}} : vector<4x1x1xf32>, vector<1x64xf32> into vector<4x1x64xf32>
// VEC: return
// ASM-LABEL: pv_decode:
// ASM-NOT: vmulss
// ASM: Inner Loop Header
// ASM-COUNT-4: vmovups {{.*}}, %zmm{{[0-9]+}}
// ASM: vbroadcastss
// ASM-COUNT-4: vfmadd231ps
// ASM: vbroadcastss
// ASM-COUNT-4: vfmadd231ps
// ASM: vbroadcastss
// ASM-COUNT-4: vfmadd231ps
// ASM: vbroadcastss
// ASM-COUNT-4: vfmadd231ps
// ASM-NOT: vmulss
// ASM: .Lfunc_end1:
func.func @pv_decode(%p: tensor<8x4x1x?xf32>, %v: tensor<8x?x64xf32>, %c: tensor<8x4x1x64xf32>) -> tensor<8x4x1x64xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(g, h, q, d, n) -> (g, h, q, n)>,
                                        affine_map<(g, h, q, d, n) -> (g, n, d)>,
                                        affine_map<(g, h, q, d, n) -> (g, h, q, d)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %v : tensor<8x4x1x?xf32>, tensor<8x?x64xf32>) outs(%c : tensor<8x4x1x64xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<8x4x1x64xf32>
  return %r : tensor<8x4x1x64xf32>
}
