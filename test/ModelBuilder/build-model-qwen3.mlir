// The graph builder's module for a qwen3-tiny-like model: hidden 64, 2
// layers, 4 heads / 2 KV heads, head_dim 32 (q dim 128 != hidden 64), ffn
// 192, QK-RMSNorm, NEOX RoPE, theta 1e6, tied embeddings (the signature keeps
// a separate `output` argument; the runtime passes token_embd's buffer).
//
// RUN: smepilot-build-model --preset=qwen3-tiny --n-ctx=16 | FileCheck %s
// RUN: smepilot-build-model --preset=qwen3-tiny --n-ctx=16 | smepilot-opt --smepilot-roofline-annotate=profile=host-x86 | FileCheck %s --check-prefix=ROOF

// CHECK-LABEL: func.func private @smepilot_layer_c1(
// CHECK-SAME: %{{.*}}: tensor<1x16xf32>, %{{.*}}: tensor<1x16xf32>,
// CHECK-SAME: %{{.*}}: tensor<64xf32> {smepilot.weight}, %[[WQ:[a-z0-9]+]]: tensor<128x64xf32> {smepilot.weight}, %[[WK:[a-z0-9]+]]: tensor<64x64xf32> {smepilot.weight}, %[[WV:[a-z0-9]+]]: tensor<64x64xf32> {smepilot.weight}, %[[WO:[a-z0-9]+]]: tensor<64x128xf32> {smepilot.weight},
// CHECK-SAME: %[[QN:[a-z0-9]+]]: tensor<32xf32> {smepilot.weight}, %[[KN:[a-z0-9]+]]: tensor<32xf32> {smepilot.weight}, %{{.*}}: tensor<64xf32> {smepilot.weight},
// CHECK-SAME: tensor<192x64xf32> {smepilot.weight}, %{{.*}}: tensor<192x64xf32> {smepilot.weight}, %{{.*}}: tensor<64x192xf32> {smepilot.weight},
// CHECK-SAME: %[[KC:[a-z0-9]+]]: tensor<2x2x16x32xf32>, %[[VC:[a-z0-9]+]]: tensor<2x2x16x32xf32>)
// CHECK: linalg.matmul {{.*}} ins(%{{.*}}, %[[WQ]] : tensor<1x64xf32>, tensor<128x64xf32>) {{.*}} -> tensor<1x128xf32>
// CHECK: linalg.matmul {{.*}} ins(%{{.*}}, %[[WK]] : tensor<1x64xf32>, tensor<64x64xf32>) {{.*}} -> tensor<1x64xf32>
// CHECK: linalg.matmul {{.*}} ins(%{{.*}}, %[[WV]] : tensor<1x64xf32>, tensor<64x64xf32>) {{.*}} -> tensor<1x64xf32>
/// NEOX RoPE: pairs (i, i + 16) are the rows of a [2, 16] view of each head.
// CHECK: %[[QH:.*]] = tensor.expand_shape %{{.*}} {{\[}}[0], [1, 2, 3]] output_shape [1, 2, 2, 32] : tensor<1x128xf32> into tensor<1x2x2x32xf32>
// CHECK: %[[QP:.*]] = tensor.expand_shape %[[QH]] {{.*}} into tensor<1x2x2x2x16xf32>
/// QK-norm: sum of squares per head, fused with RoPE (the norm weight viewed
/// as the same pairs).
// CHECK: %[[QSS:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[QH]] : tensor<1x2x2x32xf32>) outs(%{{.*}} : tensor<1x2x2xf32>)
// CHECK: %[[QNP:.*]] = tensor.expand_shape %[[QN]] {{.*}} into tensor<2x16xf32>
// CHECK: linalg.generic {{.*}} ins(%[[QP]], %[[QP]], %[[QSS]], %[[QNP]], %[[QNP]], %{{.*}}, %{{.*}} : {{.*}}) outs(%{{.*}} : tensor<2x2x1x2x16xf32>)
// CHECK: math.sqrt
// CHECK: arith.select
// CHECK: tensor.collapse_shape {{.*}} into tensor<2x2x32xf32>
// CHECK: tensor.expand_shape %[[KN]] {{.*}} into tensor<2x16xf32>
// CHECK: tensor.collapse_shape {{.*}} into tensor<2x1x32xf32>
// CHECK: tensor.insert_slice %{{.*}} into %[[KC]][%{{.*}}, 0, %{{.*}}, 0] [1, 2, 1, 32] [1, 1, 1, 1] : tensor<2x1x32xf32> into tensor<2x2x16x32xf32>
// CHECK: tensor.insert_slice %{{.*}} into %[[VC]][%{{.*}}, 0, %{{.*}}, 0] [1, 2, 1, 32] [1, 1, 1, 1] : tensor<2x1x32xf32> into tensor<2x2x16x32xf32>
// CHECK: linalg.batch_matmul {{.*}} : tensor<2x2x32xf32>, tensor<2x?x32xf32>) {{.*}} -> tensor<2x2x?xf32>
/// Scores scaled by 1 / sqrt(32).
// CHECK: arith.constant 0.176776692 : f32
// CHECK: linalg.batch_matmul {{.*}} : tensor<2x2x?xf32>, tensor<2x?x32xf32>) {{.*}} -> tensor<2x2x32xf32>
// CHECK: linalg.matmul {{.*}} ins(%{{.*}}, %[[WO]] : tensor<1x128xf32>, tensor<64x128xf32>) {{.*}} -> tensor<1x64xf32>

// CHECK-LABEL: func.func @smepilot_forward_c1(
// CHECK-SAME: %{{.*}}: tensor<151936x64xf32> {smepilot.name = "{{[a-z0-9_.]+}}", smepilot.weight}, %{{.*}}: tensor<64xf32> {smepilot.name = "{{[a-z0-9_.]+}}", smepilot.weight}, %{{.*}}: tensor<151936x64xf32> {smepilot.name = "{{[a-z0-9_.]+}}", smepilot.weight}, %{{.*}}: tensor<64xf32> {smepilot.name = "{{[a-z0-9_.]+}}", smepilot.weight},
// CHECK-SAME: -> (tensor<1x151936xf32> {smepilot.name = "logits"}, tensor<2x2x16x32xf32>, tensor<2x2x16x32xf32>)
/// theta 1e6 over 32 dims: theta^(-2/32) = 1e6^(-1/16).
// CHECK: arith.constant dense<[1.000000e+00, 0.42169650342858{{[0-9]*}}, {{.*}}]> : tensor<16xf64>
// CHECK-COUNT-2: call @smepilot_layer_c1(
// CHECK-NOT: call
// CHECK: -> tensor<1x151936xf32>

/// QK-norm and RoPE are one elementwise op, costed on the vector cores.
// ROOF-LABEL: func.func private @smepilot_layer_c1(
// ROOF: linalg.matmul {{.*}}smepilot.decision = #smepilot.decision<kind = "matmul"
// ROOF: linalg.batch_matmul {{.*}}smepilot.decision = #smepilot.decision<kind = "batch_matmul"
