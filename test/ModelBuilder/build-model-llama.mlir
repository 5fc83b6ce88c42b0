// The graph builder's module for a stories260K-like llama (dim 64, 5 layers,
// 8 heads / 4 KV heads, head_dim 8, ffn 172, vocab 512), decode (C = 1) and a
// prefill chunk of 4, with a 16-position K/V cache.
//
// RUN: smepilot-build-model --preset=stories260k --chunk-sizes=1,4 --n-ctx=16 | FileCheck %s
// RUN: smepilot-build-model --preset=stories260k --chunk-sizes=1,4 --n-ctx=16 | smepilot-opt --smepilot-roofline-annotate=profile=host-x86 | FileCheck %s --check-prefix=ROOF

/// The layer body: built once per chunk size, private, weights marked.
// CHECK-LABEL: func.func private @smepilot_layer_c1(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<1x64xf32>, %[[POS:[a-z0-9]+]]: index, %[[L:[a-z0-9]+]]: index, %{{.*}}: tensor<1x4xf32>, %{{.*}}: tensor<1x4xf32>,
// CHECK-SAME: %{{.*}}: tensor<64xf32> {smepilot.weight}, %[[WQ:[a-z0-9]+]]: tensor<64x64xf32> {smepilot.weight}, %[[WK:[a-z0-9]+]]: tensor<32x64xf32> {smepilot.weight},
// CHECK-SAME: %[[KC:[a-z0-9]+]]: tensor<5x4x16x8xf32>, %[[VC:[a-z0-9]+]]: tensor<5x4x16x8xf32>)
// CHECK-SAME: -> (tensor<1x64xf32>, tensor<5x4x16x8xf32>, tensor<5x4x16x8xf32>)
/// Projections are matmuls with a transposed-B map over [out, in] weights.
// CHECK: linalg.matmul indexing_maps = [#[[A:map[0-9]*]], #[[BT:map[0-9]*]], #[[C:map[0-9]*]]] ins(%{{.*}}, %[[WQ]] : tensor<1x64xf32>, tensor<64x64xf32>) {{.*}} -> tensor<1x64xf32>
// CHECK: linalg.matmul {{.*}} ins(%{{.*}}, %[[WK]] : tensor<1x64xf32>, tensor<32x64xf32>) {{.*}} -> tensor<1x32xf32>
// CHECK: linalg.matmul {{.*}} tensor<32x64xf32>) {{.*}} -> tensor<1x32xf32>
/// Interleaved RoPE: head dims viewed as pairs (2i, 2i + 1), query heads
/// grouped under their KV head: [token, kv head, group, pair, 2].
// CHECK: tensor.expand_shape {{.*}} into tensor<1x4x2x4x2xf32>
// CHECK: linalg.generic {{.*}} ins({{.*}} : tensor<1x4x2x4x2xf32>, tensor<1x4x2x4x2xf32>, tensor<1x4xf32>, tensor<1x4xf32>) outs({{.*}} : tensor<4x2x1x4x2xf32>)
// CHECK: linalg.index 4
// CHECK: tensor.collapse_shape {{.*}} into tensor<4x2x8xf32>
/// The new K/V rows go into the caches at [layer, :, pos, :]; attention reads
/// keys [0, pos + 1) of the updated cache.
// CHECK: %[[KNEW:.*]] = tensor.insert_slice %{{.*}} into %[[KC]][%[[L]], 0, %[[POS]], 0] [1, 4, 1, 8] [1, 1, 1, 1] : tensor<4x1x8xf32> into tensor<5x4x16x8xf32>
// CHECK: %[[VNEW:.*]] = tensor.insert_slice %{{.*}} into %[[VC]][%[[L]], 0, %[[POS]], 0] [1, 4, 1, 8] [1, 1, 1, 1] : tensor<4x1x8xf32> into tensor<5x4x16x8xf32>
// CHECK: %[[T:.*]] = arith.addi %[[POS]], %c1
// CHECK: %[[KEYS:.*]] = tensor.extract_slice %[[KNEW]][%[[L]], 0, 0, 0] [1, 4, %[[T]], 8] [1, 1, 1, 1] : tensor<5x4x16x8xf32> to tensor<4x?x8xf32>
// CHECK: %[[VALS:.*]] = tensor.extract_slice %[[VNEW]][%[[L]], 0, 0, 0] [1, 4, %[[T]], 8] [1, 1, 1, 1] : tensor<5x4x16x8xf32> to tensor<4x?x8xf32>
/// GQA: per KV head, the 2 query heads of the group are the rows of Q K^T.
// CHECK: linalg.batch_matmul indexing_maps = {{.*}} ins(%{{.*}}, %[[KEYS]] : tensor<4x2x8xf32>, tensor<4x?x8xf32>) {{.*}} -> tensor<4x2x?xf32>
/// Causal mask: key t is visible to row r iff t <= pos + r mod C.
// CHECK: linalg.generic
// CHECK: arith.remui
// CHECK: arith.addi %[[POS]]
// CHECK: arith.cmpi ule
// CHECK: arith.select {{.*}}, %cst{{.*}} : f32
/// Softmax: row max, sum of exponentials, normalization.
// CHECK: arith.maximumf
// CHECK: math.exp
// CHECK: math.exp
// CHECK: linalg.batch_matmul ins(%{{.*}}, %[[VALS]] : tensor<4x2x?xf32>, tensor<4x?x8xf32>) {{.*}} -> tensor<4x2x8xf32>
// CHECK: linalg.transpose {{.*}} permutation = [2, 0, 1, 3]
// CHECK: linalg.matmul {{.*}} tensor<1x64xf32>, tensor<64x64xf32>) {{.*}} -> tensor<1x64xf32>
// CHECK: linalg.add
/// SwiGLU.
// CHECK: linalg.matmul {{.*}} tensor<172x64xf32>) {{.*}} -> tensor<1x172xf32>
// CHECK: linalg.matmul {{.*}} tensor<172x64xf32>) {{.*}} -> tensor<1x172xf32>
// CHECK: math.exp
// CHECK: arith.divf
// CHECK: linalg.matmul {{.*}} tensor<1x172xf32>, tensor<64x172xf32>) {{.*}} -> tensor<1x64xf32>
// CHECK: linalg.add
// CHECK: return %{{.*}}, %[[KNEW]], %[[VNEW]] : tensor<1x64xf32>, tensor<5x4x16x8xf32>, tensor<5x4x16x8xf32>

/// The decode function: the contract's signature, C interface.
// CHECK-LABEL: func.func @smepilot_forward_c1(
// CHECK-SAME: %[[TOK:[a-z0-9]+]]: tensor<1xi32> {smepilot.name = "tokens"}, %[[FPOS:[a-z0-9]+]]: index, %[[EMB:[a-z0-9]+]]: tensor<512x64xf32> {smepilot.name = "{{[a-z0-9_.]+}}", smepilot.weight}, %{{.*}}: tensor<64xf32> {smepilot.name = "{{[a-z0-9_.]+}}", smepilot.weight}, %[[OUT:[a-z0-9]+]]: tensor<512x64xf32> {smepilot.name = "{{[a-z0-9_.]+}}", smepilot.weight},
// CHECK-SAME: %[[K0:[a-z0-9]+]]: tensor<5x4x16x8xf32> {smepilot.name = "k_cache"}, %[[V0:[a-z0-9]+]]: tensor<5x4x16x8xf32> {smepilot.name = "v_cache"}) -> (tensor<1x512xf32> {smepilot.name = "logits"}, tensor<5x4x16x8xf32>, tensor<5x4x16x8xf32>)
// CHECK-SAME: attributes {llvm.emit_c_interface, smepilot.chunk = 1 : i64, smepilot.phase = "forward_c1"}
/// Embedding gather.
// CHECK: linalg.generic {{.*}} ins(%[[TOK]] : tensor<1xi32>)
// CHECK: arith.index_cast
// CHECK: tensor.extract %[[EMB]]
/// RoPE table: angles (pos + c) * theta^(-2i/d) in f64, rounded to f32.
// CHECK: arith.constant dense<[1.000000e+00, 1.000000e-01, 1.000000e-02, 1.000000e-03]> : tensor<4xf64>
// CHECK: linalg.generic
// CHECK: arith.addi %[[FPOS]]
// CHECK: arith.sitofp {{.*}} : i64 to f64
// CHECK: math.cos {{.*}} : f64
// CHECK: math.sin {{.*}} : f64
// CHECK: arith.truncf
/// One call per layer, threading the caches through.
// CHECK: %[[R0:.*]]:3 = call @smepilot_layer_c1({{.*}}, %[[K0]], %[[V0]])
// CHECK: %[[R1:.*]]:3 = call @smepilot_layer_c1(%[[R0]]#0, {{.*}}, %[[R0]]#1, %[[R0]]#2)
// CHECK-COUNT-3: call @smepilot_layer_c1(
// CHECK-NOT: call
/// Output norm and the logits of every position.
// CHECK: linalg.matmul {{.*}} ins(%{{.*}}, %[[OUT]] : tensor<1x64xf32>, tensor<512x64xf32>) {{.*}} -> tensor<1x512xf32>
// CHECK: return %{{.*}}, %{{.*}}#1, %{{.*}}#2 : tensor<1x512xf32>, tensor<5x4x16x8xf32>, tensor<5x4x16x8xf32>

/// The prefill chunk: 4 tokens, 8 query rows per KV head.
// CHECK-LABEL: func.func private @smepilot_layer_c4(
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[%{{.*}}, 0, %{{.*}}, 0] [1, 4, 4, 8] [1, 1, 1, 1] : tensor<4x4x8xf32> into tensor<5x4x16x8xf32>
// CHECK: linalg.batch_matmul {{.*}} : tensor<4x8x8xf32>, tensor<4x?x8xf32>) {{.*}} -> tensor<4x8x?xf32>
// CHECK-LABEL: func.func @smepilot_forward_c4(
// CHECK-SAME: tensor<4xi32>
// CHECK-SAME: -> (tensor<4x512xf32> {smepilot.name = "logits"}, tensor<5x4x16x8xf32>, tensor<5x4x16x8xf32>)
// CHECK-COUNT-5: call @smepilot_layer_c4(

/// The Roofline annotation costs every op of the module (dynamic key length
/// assumed): the projections and the attention matmuls get a decision.
// ROOF: module attributes {smepilot.target = #smepilot.target<name = "host-x86"
// ROOF-LABEL: func.func private @smepilot_layer_c1(
// ROOF: linalg.matmul {{.*}}smepilot.decision = #smepilot.decision<kind = "matmul", shape_class = "gemv"
// ROOF: linalg.batch_matmul {{.*}}smepilot.decision = #smepilot.decision<kind = "batch_matmul"
// ROOF-LABEL: func.func @smepilot_forward_c1(
// ROOF: linalg.matmul {{.*}}smepilot.decision = #smepilot.decision<kind = "matmul"
