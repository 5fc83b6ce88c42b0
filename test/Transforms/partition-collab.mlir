// smepilot-partition-collab: a collab contraction becomes one tile space over
// its output features with two variants, the SME one (a function computing a
// range of tiles from K-major operands) and the vector cores' one (an
// scf.forall over the tiles), with the share and the granule on both.

// With the profiles' own Roofline decisions (Llama-3.2-1B/3B shapes): the
// prefill projection and the decode matvec are collab on both profiles.
// The output parses back (every decision valid for its verifier: the
// variants' decisions say sme with share 1 and cpu with share 0).
// RUN: smepilot-opt %s --smepilot-roofline-annotate=profile=apple-m4 \
// RUN:   --smepilot-partition-collab | smepilot-opt | FileCheck %s --check-prefixes=CHECK,M4
// RUN: smepilot-opt %s --smepilot-roofline-annotate=profile=phone-c1-sme2 \
// RUN:   --smepilot-partition-collab | FileCheck %s --check-prefixes=CHECK,PHONE

// The prefill projection, x[128, 2048] W[2048, 2048]^T: 64 tiles of 32
// features; one SME block at 512-bit SVL is 32 columns, so the granule is one
// tile. The share is the Roofline split's sme_fraction (0.78 on the M4, 0.816
// on the phone) in parts per 65536.
// CHECK-LABEL: func.func private @llama1b_collab0(
// CHECK-SAME:      %[[AT:.*]]: tensor<2048x128xf32>, %[[WT:.*]]: tensor<2048x2048xf32>, %[[C:.*]]: tensor<128x2048xf32>, %[[TB:.*]]: index, %[[TE:.*]]: index) -> tensor<128x2048xf32>
// M4-SAME:       smepilot.collab = {sme_share = 51118 : i64, tile_granule = 1 : i64, tile_size = 32 : i64, tiles = 64 : i64}
// PHONE-SAME:    smepilot.collab = {sme_share = 53477 : i64, tile_granule = 1 : i64, tile_size = 32 : i64, tiles = 64 : i64}
// The columns of tiles [tile_begin, tile_end), clamped to N.
// CHECK:         %[[FIRST:.*]] = affine.apply #{{.*}}()[%[[TB]]]
// CHECK:         %[[LAST:.*]] = affine.min #{{.*}}()[%[[TE]]]
// CHECK:         %[[WIDTH:.*]] = affine.apply #{{.*}}()[%[[TB]], %[[LAST]]]
// CHECK:         %[[WS:.*]] = tensor.extract_slice %[[WT]][0, %[[FIRST]]] [2048, %[[WIDTH]]] [1, 1]
// CHECK:         %[[CS:.*]] = tensor.extract_slice %[[C]][0, %[[FIRST]]] [128, %[[WIDTH]]] [1, 1]
// The SME variant's contraction reads K-major operands and is decided sme.
// CHECK:         %[[MM:.*]] = linalg.matmul indexing_maps = [#[[KM:.*]], #[[KN:.*]], #{{.*}}] {smepilot.decision = #smepilot.decision<{{.*}}mode = sme{{.*}}sme_fraction = 1.0
// CHECK-SAME:        ins(%[[AT]], %[[WS]] : tensor<2048x128xf32>, tensor<2048x?xf32>) outs(%[[CS]] : tensor<128x?xf32>)
// CHECK:         %[[U:.*]] = tensor.insert_slice %[[MM]] into %[[C]][0, %[[FIRST]]] [128, %[[WIDTH]]] [1, 1]
// CHECK:         return %[[U]]

// The decode matvec (3B FFN up: x[1, 3072] W[8192, 3072]^T): 64 tiles of 128.
// CHECK-LABEL: func.func private @llama1b_collab1(
// CHECK-SAME:      tensor<3072x1xf32>, %{{.*}}: tensor<3072x8192xf32>, %{{.*}}: tensor<1x8192xf32>, %{{.*}}: index, %{{.*}}: index)
// M4-SAME:       smepilot.collab = {sme_share = 29098 : i64, tile_granule = 1 : i64, tile_size = 128 : i64, tiles = 64 : i64}
// PHONE-SAME:    smepilot.collab = {sme_share = 29753 : i64, tile_granule = 1 : i64, tile_size = 128 : i64, tiles = 64 : i64}

// In the caller: the activation and the weight made K-major (the weight's
// transpose packed once, at load), the SME variant called for the empty
// range [0, 0), then the vector cores' variant over every tile on the
// call's result: as written, each tile is computed once, by the vector
// cores; dispatch formation gives each variant its share.
// CHECK-LABEL: func.func @llama1b(
// CHECK:         %[[FILL:.*]] = linalg.fill
// CHECK:         %[[XT:.*]] = linalg.transpose ins(%arg0 : tensor<128x2048xf32>) {{.*}} permutation = [1, 0]
// CHECK-NOT:     pack_at_load
// CHECK:         %[[WPACK:.*]] = linalg.transpose ins(%arg1 : tensor<2048x2048xf32>) {{.*}} permutation = [1, 0] {smepilot.pack_at_load}
// CHECK:         %[[C0:.*]] = arith.constant 0 : index
// CHECK:         %[[SME:.*]] = call @llama1b_collab0(%[[XT]], %[[WPACK]], %[[FILL]], %[[C0]], %[[C0]])
// CHECK:         %[[CPU:.*]] = scf.forall (%[[T:.*]]) = (0) to (2048) step (32) shared_outs(%[[O:.*]] = %[[SME]])
// CHECK:           tensor.extract_slice %arg1[%[[T]], 0] [32, 2048] [1, 1]
// CHECK:           linalg.matmul {{.*}}smepilot.collab_part = "cpu", smepilot.decision = #smepilot.decision<{{.*}}mode = cpu{{.*}}sme_fraction = 0.0
// CHECK:           tensor.parallel_insert_slice {{.*}} into %[[O]][0, %[[T]]] [128, 32] [1, 1]
// M4:            } {smepilot.collab = {sme_share = 51118 : i64, tile_granule = 1 : i64, tile_size = 32 : i64, tiles = 64 : i64}}
// PHONE:         } {smepilot.collab = {sme_share = 53477 : i64, tile_granule = 1 : i64, tile_size = 32 : i64, tiles = 64 : i64}}
// CHECK:         call @llama1b_collab1(
// CHECK:         scf.forall (%{{.*}}) = (0) to (8192) step (128)
// CHECK:         return %[[CPU]], %{{.*}}

#mk = affine_map<(m, n, k) -> (m, k)>
#nk = affine_map<(m, n, k) -> (n, k)>
#mn = affine_map<(m, n, k) -> (m, n)>
func.func @llama1b(%x: tensor<128x2048xf32>, %w: tensor<2048x2048xf32> {smepilot.weight},
                   %x1: tensor<1x3072xf32>, %w1: tensor<8192x3072xf32> {smepilot.weight})
    -> (tensor<128x2048xf32>, tensor<1x8192xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<128x2048xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<128x2048xf32>) -> tensor<128x2048xf32>
  %r = linalg.matmul indexing_maps = [#mk, #nk, #mn]
         ins(%x, %w : tensor<128x2048xf32>, tensor<2048x2048xf32>)
         outs(%f : tensor<128x2048xf32>) -> tensor<128x2048xf32>
  %e1 = tensor.empty() : tensor<1x8192xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<1x8192xf32>) -> tensor<1x8192xf32>
  %r1 = linalg.matmul indexing_maps = [#mk, #nk, #mn]
          ins(%x1, %w1 : tensor<1x3072xf32>, tensor<8192x3072xf32>)
          outs(%f1 : tensor<1x8192xf32>) -> tensor<1x8192xf32>
  return %r, %r1 : tensor<128x2048xf32>, tensor<1x8192xf32>
}

// weight-type=bf16: the SME variant computes in bf16 on operands packed in k
// pairs ([K/2, X, 2] collapsed to [K/2, 2X]), its loops built by the pass
// (smepilot.collab_packed): the prefill one on 2-way widening outer
// products, the decode one (M = 1) on streaming-SVE FMLA over the pairs
// (arm_locally_streaming). Its weight slice covers 2 columns per output
// feature.
// RUN: smepilot-opt %s --smepilot-roofline-annotate=profile=apple-m4 \
// RUN:   --smepilot-partition-collab=weight-type=bf16 | smepilot-opt | FileCheck %s --check-prefix=BF16
// BF16-LABEL: func.func private @llama1b_collab0(
// BF16-SAME:      %[[AT:.*]]: tensor<1024x256xbf16>, %[[WT:.*]]: tensor<1024x4096xbf16>, %[[C:.*]]: tensor<128x2048xf32>, %[[TB:.*]]: index, %[[TE:.*]]: index) -> tensor<128x2048xf32>
// BF16-SAME:      smepilot.collab_packed
// BF16:         %[[FIRST:.*]] = affine.apply #{{.*}}()[%[[TB]]]
// BF16:         %[[WFIRST:.*]] = affine.apply #{{.*}}()[%[[TB]]]
// BF16:         %[[WS:.*]] = tensor.extract_slice %[[WT]][0, %[[WFIRST]]] [1024, %{{.*}}] [1, 1]
// BF16:         %[[CS:.*]] = tensor.extract_slice %[[C]][0, %[[FIRST]]] [128, %{{.*}}] [1, 1]
// BF16:         scf.for
// BF16:           scf.for
// BF16:             arm_sme.fmopa_2way {{.*}} : vector<[8]xbf16>, vector<[8]xbf16> into vector<[4]x[4]xf32>
// BF16-NOT:     linalg.matmul
// BF16:         return
// BF16-LABEL: func.func private @llama1b_collab1(
// BF16-SAME:      tensor<1536x2xbf16>, %{{.*}}: tensor<1536x16384xbf16>, %{{.*}}: tensor<1x8192xf32>
// BF16-SAME:      arm_locally_streaming
// BF16-SAME:      smepilot.collab_packed
// BF16:         vector.fma {{.*}} : vector<[32]xf32>
// BF16:         vector.deinterleave
// BF16-NOT:     arm_sme.
// BF16-LABEL: func.func @llama1b(
// The activation's pack writes, in the same generic, the activation rounded
// to bf16 and widened back, for the vector cores: both units compute the same
// products (llama.cpp's for BF16 weights), and the activation has one use for
// its producer to be fused into.
// BF16:         %[[XE:.*]] = tensor.expand_shape %arg0 {{\[}}[0], [1, 2]] output_shape [128, 1024, 2]
// BF16:         %[[XP:.*]]:2 = linalg.generic {{.*}} ins(%[[XE]] : tensor<128x1024x2xf32>) outs(%{{.*}}, %{{.*}} : tensor<1024x128x2xbf16>, tensor<128x1024x2xf32>)
// BF16-NEXT:    ^bb0
// BF16-NEXT:      %[[T:.*]] = arith.truncf %{{.*}} : f32 to bf16
// BF16-NEXT:      %[[E:.*]] = arith.extf %[[T]] : bf16 to f32
// BF16-NEXT:      linalg.yield %[[T]], %[[E]]
// BF16:         %[[RND:.*]] = tensor.collapse_shape %[[XP]]#1 {{\[}}[0], [1, 2]] : tensor<128x1024x2xf32> into tensor<128x2048xf32>
// BF16-NOT:     pack_at_load
// BF16:         linalg.generic {{.*}} outs(%{{.*}} : tensor<1024x2048x2xbf16>) attrs = {smepilot.pack_at_load}
// BF16:         call @llama1b_collab0(
// BF16-NEXT:    scf.forall
// BF16-NEXT:      tensor.extract_slice %[[RND]][0, 0] [128, 2048] [1, 1]
// BF16-NEXT:      tensor.extract_slice %arg1[%{{.*}}, 0] [32, 2048] [1, 1] : tensor<2048x2048xf32> to tensor<32x2048xf32>
// BF16:           linalg.matmul {{.*}}smepilot.collab_part = "cpu"
// BF16:         call @llama1b_collab1(
