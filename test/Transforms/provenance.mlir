// RUN: smepilot-opt %s --smepilot-roofline-annotate=profile=host-x86 -mlir-print-debuginfo | FileCheck %s --check-prefix=ANNOTATE
// RUN: smepilot-opt %s --smepilot-roofline-annotate="profile=apple-m4 force-mode=sme" --smepilot-tile-sme -mlir-print-debuginfo | FileCheck %s --check-prefix=SME

/// smepilot-roofline-annotate puts each op's decision into its location as
/// well (Provenance.h): a FusedLoc around the op's own location whose
/// metadata holds the decision, the loop ranges and a number per op, so
/// that what the op becomes (fused, tiled, lowered) still says what it
/// computes and what was decided for it.
// ANNOTATE-LABEL: func.func @proj
// ANNOTATE: linalg.matmul {{.*}} loc([[MM:#loc[0-9]*]])
// ANNOTATE: } -> tensor<8x?xf32> loc([[ADD:#loc[0-9]*]])
// ANNOTATE-DAG: [[MM]] = loc(fused<{id = 0 : i64, loops = array<i64: 8, 32, 16>, smepilot.op = #smepilot.decision<kind = "matmul", shape_class = "gemm", elem = f32, mode = cpu, flops = 8192,{{.*}}>}>[[[MMSRC:#loc[0-9]*]]])
// ANNOTATE-DAG: [[ADD]] = loc(fused<{id = 1 : i64, loops = array<i64: 8, -1>, smepilot.op = #smepilot.decision<kind = "generic", shape_class = "elementwise",{{.*}}assumed = "d1=128">}>[[[ADDSRC:#loc[0-9]*]]])
// ANNOTATE-DAG: [[MMSRC]] = loc("{{.*}}provenance.mlir":{{[0-9]+}}:8)

/// The K-major copies smepilot-tile-sme makes for the outer products are
/// layout changes: their records say so and wrap the location of the
/// contraction they were made for (which they do not compute).
// SME: [[MM:#loc[0-9]+]] = loc(fused<{id = 0 : i64, loops = array<i64: 8, 32, 16>, smepilot.op = #smepilot.decision<kind = "matmul",{{.*}}mode = sme,
// SME: linalg.transpose ins(%arg0 {{.*}} loc([[KMAJOR:#loc[0-9]*]])
// SME: linalg.transpose ins(%arg1 {{.*}}smepilot.pack_at_load{{.*}} loc([[KMAJOR]])
// SME: call @proj_sme0({{.*}} loc([[MM]])
// SME: [[KMAJOR]] = loc(fused<{smepilot.layout_change = "k-major"}>[[[MM]]])
func.func @proj(%x: tensor<8x16xf32>, %w: tensor<32x16xf32> {smepilot.weight},
                %c: tensor<8x32xf32>, %b: tensor<8x?xf32>) -> (tensor<8x32xf32>, tensor<8x?xf32>) {
  %0 = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>,
                                      affine_map<(m, n, k) -> (n, k)>,
                                      affine_map<(m, n, k) -> (m, n)>]
       ins(%x, %w : tensor<8x16xf32>, tensor<32x16xf32>) outs(%c : tensor<8x32xf32>) -> tensor<8x32xf32>
  %1 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                       iterator_types = ["parallel", "parallel"]}
       ins(%b : tensor<8x?xf32>) outs(%b : tensor<8x?xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %out : f32
    linalg.yield %s : f32
  } -> tensor<8x?xf32>
  return %0, %1 : tensor<8x32xf32>, tensor<8x?xf32>
}
