// RoPE variants: Llama-3 frequency factors (rope_freqs divides each
// frequency), the f32 table, and the two pairings on the same shapes.
//
// RUN: smepilot-build-model --preset=llama3-tiny --n-ctx=16 | FileCheck %s --check-prefix=FREQS
// RUN: smepilot-build-model --preset=llama3-tiny --n-ctx=16 --rope-f32 | FileCheck %s --check-prefix=F32
// RUN: smepilot-build-model --preset=stories260k --n-layer=1 --n-ctx=4 | FileCheck %s --check-prefix=INTERLEAVED
// RUN: smepilot-build-model --preset=stories260k --n-layer=1 --n-ctx=4 --rope-style=neox | FileCheck %s --check-prefix=NEOX

/// rope_freqs [rope_dim / 2] follows `output`, before the layer weights.
// FREQS-LABEL: func.func @smepilot_forward_c1(
// FREQS-SAME: %{{.*}}: tensor<128256x64xf32> {smepilot.name = "{{[a-z0-9_.]+}}", smepilot.weight}, %[[RF:[a-z0-9]+]]: tensor<8xf32> {smepilot.name = "{{[a-z0-9_.]+}}", smepilot.weight}, %{{.*}}: tensor<64xf32> {smepilot.name = "{{[a-z0-9_.]+}}", smepilot.weight}
// FREQS: %[[BASE:.*]] = arith.constant dense<{{.*}}> : tensor<8xf64>
// FREQS: linalg.generic {{.*}} ins(%[[BASE]], %[[RF]] : tensor<8xf64>, tensor<8xf32>)
// FREQS: ^bb0(%[[F:[a-z0-9_]+]]: f64, %[[FF:[a-z0-9_]+]]: f32,
// FREQS: %[[P:.*]] = arith.sitofp %{{.*}} : i64 to f64
// FREQS: %[[FFW:.*]] = arith.extf %[[FF]] : f32 to f64
// FREQS: %[[Q:.*]] = arith.divf %[[F]], %[[FFW]] : f64
// FREQS: %[[A:.*]] = arith.mulf %[[P]], %[[Q]] : f64
// FREQS: math.cos %[[A]] : f64
// FREQS: math.sin %[[A]] : f64

// F32-LABEL: func.func @smepilot_forward_c1(
// F32: arith.constant dense<{{.*}}> : tensor<8xf32>
// F32: arith.sitofp %{{.*}} : i64 to f32
// F32-NOT: f64
// F32: math.cos %{{.*}} : f32

/// Interleaved pairs (2i, 2i + 1) are the last dim of a [4, 2] view; NEOX
/// pairs (i, i + 4) the first dim of a [2, 4] view. The element of the pair
/// (k = loop 4) selects x0 cos - x1 sin or x0 sin + x1 cos.
// INTERLEAVED-DAG: #[[X0:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4) -> (d2, d0, d1, d3, 0)>
// INTERLEAVED-DAG: #[[X1:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4) -> (d2, d0, d1, d3, 1)>
// INTERLEAVED-DAG: #[[OUT:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
// INTERLEAVED-LABEL: func.func private @smepilot_layer_c1(
// INTERLEAVED: tensor.expand_shape {{.*}} into tensor<1x4x2x4x2xf32>
// INTERLEAVED: linalg.generic {indexing_maps = [#[[X0]], #[[X1]], #{{.*}}, #{{.*}}, #[[OUT]]]
// INTERLEAVED-SAME: outs(%{{.*}} : tensor<4x2x1x4x2xf32>)
// NEOX-DAG: #[[X0:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4) -> (d2, d0, d1, 0, d3)>
// NEOX-DAG: #[[X1:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4) -> (d2, d0, d1, 1, d3)>
// NEOX-DAG: #[[OUT:map[0-9]*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4, d3)>
// NEOX-LABEL: func.func private @smepilot_layer_c1(
// NEOX: tensor.expand_shape {{.*}} into tensor<1x4x2x2x4xf32>
// NEOX: linalg.generic {indexing_maps = [#[[X0]], #[[X1]], #{{.*}}, #{{.*}}, #[[OUT]]]
// NEOX-SAME: outs(%{{.*}} : tensor<4x2x1x2x4xf32>)
