// RUN: smepilot-opt %s --smepilot-tile-sme=all-contractions=true | FileCheck %s --check-prefix=SME
// RUN: smepilot-opt %s --smepilot-partition-collab="force-share=32768 svl-bits=512" | FileCheck %s --check-prefix=COLLAB

/// A decode step's activation [1, K] is already its K-major [K, 1]: only a
/// unit dimension moves, so smepilot-tile-sme and smepilot-partition-collab
/// reshape it (a view once bufferized) instead of copying it into a
/// transposed tensor each call (Layouts.h, permuteDims). The weight still
/// gets its K-major copy, packed once at load.
// SME-LABEL: func.func @decode
// SME: %[[FLAT:.*]] = tensor.collapse_shape %arg0 {{\[\[}}0, 1]] : tensor<1x64xf32> into tensor<64xf32>
// SME: %[[AT:.*]] = tensor.expand_shape %[[FLAT]] {{\[\[}}0, 1]] output_shape [64, 1] : tensor<64xf32> into tensor<64x1xf32>
// SME: %[[WT:.*]] = linalg.transpose ins(%arg1 : tensor<128x64xf32>) {{.*}} {smepilot.pack_at_load}
// SME: call @decode_sme0(%[[AT]], %[[WT]], %arg2)
// SME-NOT: linalg.transpose ins(%arg0

// COLLAB-LABEL: func.func @decode
// COLLAB: %[[FLAT:.*]] = tensor.collapse_shape %arg0 {{\[\[}}0, 1]] : tensor<1x64xf32> into tensor<64xf32>
// COLLAB: %[[AT:.*]] = tensor.expand_shape %[[FLAT]] {{\[\[}}0, 1]] output_shape [64, 1] : tensor<64xf32> into tensor<64x1xf32>
// COLLAB: %[[WT:.*]] = linalg.transpose ins(%arg1 : tensor<128x64xf32>) {{.*}} {smepilot.pack_at_load}
// COLLAB: call @decode_collab0(%[[AT]], %[[WT]], %arg2,
// COLLAB-NOT: linalg.transpose ins(%arg0
func.func @decode(%x: tensor<1x64xf32>, %w: tensor<128x64xf32> {smepilot.weight},
                  %c: tensor<1x128xf32>) -> tensor<1x128xf32> {
  %0 = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>,
                                      affine_map<(m, n, k) -> (n, k)>,
                                      affine_map<(m, n, k) -> (m, n)>]
       ins(%x, %w : tensor<1x64xf32>, tensor<128x64xf32>) outs(%c : tensor<1x128xf32>) -> tensor<1x128xf32>
  return %0 : tensor<1x128xf32>
}

/// With more than one row the activation is copied K-major as before.
// SME-LABEL: func.func @prefill
// SME: linalg.transpose ins(%arg0 : tensor<4x64xf32>)
// SME-NOT: tensor.collapse_shape
// COLLAB-LABEL: func.func @prefill
// COLLAB: linalg.transpose ins(%arg0 : tensor<4x64xf32>)
// COLLAB-NOT: tensor.collapse_shape
func.func @prefill(%x: tensor<4x64xf32>, %w: tensor<128x64xf32> {smepilot.weight},
                   %c: tensor<4x128xf32>) -> tensor<4x128xf32> {
  %0 = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>,
                                      affine_map<(m, n, k) -> (n, k)>,
                                      affine_map<(m, n, k) -> (m, n)>]
       ins(%x, %w : tensor<4x64xf32>, tensor<128x64xf32>) outs(%c : tensor<4x128xf32>) -> tensor<4x128xf32>
  return %0 : tensor<4x128xf32>
}
