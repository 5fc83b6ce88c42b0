// Layout changes per call of one Llama-3.2-1B layer (hidden 2048, 32 heads /
// 8 KV heads, head_dim 64, FFN 8192) as the graph builder emits it, on the
// phone profile (phone-c1-sme2): every projection is collab (the SME part
// reads K-major operands), prefill attention is pipelined per KV head with
// QK^T and PV on the matrix unit, decode runs attention on the vector cores.
// (A 256-token vocabulary keeps the file small; the layer does not see it.)
//
// RUN: smepilot-build-model --arch=llama --n-vocab=256 --n-embd=2048 --n-layer=1 \
// RUN:     --n-head=32 --n-head-kv=8 --head-dim=64 --n-ff=8192 --chunk-sizes=1,64 --n-ctx=512 \
// RUN:   | smepilot-opt --smepilot-roofline-annotate=profile=phone-c1-sme2 --smepilot-partition-collab \
// RUN:       --smepilot-pipeline-attention --canonicalize --cse --smepilot-propagate-layout=report \
// RUN:       -mlir-print-op-on-diagnostic=false -o %t.mlir 2>&1 | FileCheck %s --check-prefix=REPORT
// RUN: FileCheck %s < %t.mlir
//
// Decode (@smepilot_layer_c1, one token):
//   - 7 weights packed K-major once, at load (q, k, v, o, gate, up, down).
//   - The SME parts read the [1, K] activation rows as [K, 1]: the same
//     bytes, a view; no change.
//   - The graph's own two transposes (the new V row into the cache's
//     [kv head, position, d] order, and the heads back to token order
//     before the O projection) move only the unit token dimension: views.
//   = 0 layout changes per token.
// REPORT: remark: smepilot-propagate-layout: 0 inserted, 0 written by producers (0 as a second output), 2 cancelled or composed, 7 at load, 0 left
// CHECK-LABEL: func.func private @smepilot_layer_c1(
// Every change left is a weight's (reason "weight: ...").
// CHECK-NOT:     layout_reason = "{{[^w]}}
// CHECK-LABEL: func.func @smepilot_forward_c1(
//
// The LM head of decode: its weight is packed at load.
// REPORT: remark: smepilot-propagate-layout: 0 inserted, 0 written by producers (0 as a second output), 0 cancelled or composed, 1 at load, 0 left
//
// Prefill (@smepilot_layer_c64, 64 tokens per call), by consumer:
//   - Q, K, V projections (collab): the attention norm writes its output
//     twice in one pass, rows for the vector cores' tiles and K-major for
//     SME's: 0 changes.
//   - QK^T per KV head (8, on SME): Q_h K-major is a slice of RoPE's output,
//     which RoPE writes K-major ([kv head, d, group x token]): 0. K_h
//     K-major is a slice of the K cache, a function argument whose
//     [layer, kv head, position, d] layout is abi.h's, holding rows other
//     calls wrote: no producer in this call can write it. 1 per head: 8.
//   - PV per KV head (8, on SME): P_h K-major is written by softmax's last
//     op: 0; V_h [position, d] is already K-major: 0.
//   - O projection (collab): its input is assembled by inserting the 8
//     heads' PV results (contractions, whose tiling owns their output
//     layout); the graph's transpose of the heads back to token order feeds
//     the vector cores, and one more transpose of the assembled heads feeds
//     SME K-major (the composition of the graph's transpose and the
//     K-major one): 1.
//   - gate, up (collab): the FFN norm writes both layouts: 0.
//   - down (collab): SwiGLU writes both layouts: 0.
//   = 9 layout changes per call (0.14 per token), 0 of them of weights
//   (7 packed at load) and 8 of them of the row-major KV cache (the
//   K-major cache below removes them). Left besides: the graph's own two
//   transposes (the V rows into the cache order, and the heads back to
//   token order for the vector cores), 11 in all. The heads' slices (Q_h,
//   V_h, each PV result) are passed to the SME kernels as views
//   (smepilot-bufferize's strided kernel arguments), not copied.
// REPORT: remark: smepilot-propagate-layout: 0 inserted, 19 written by producers (4 as a second output), 1 cancelled or composed, 7 at load, 11 left
// CHECK-LABEL: func.func private @smepilot_layer_c64(
// The attention norm, both layouts.
// CHECK:         %[[N:.*]]:2 = linalg.generic
// CHECK:         } -> (tensor<64x2048xf32>, tensor<2048x64xf32>)
// CHECK:         call @smepilot_layer_c64_collab0(%[[N]]#1,
// The V rows into the cache order (the graph's).
// CHECK:         linalg.transpose ins(%{{.*}} : tensor<64x8x64xf32>) {{.*}} smepilot.layout_reason = "produced by tiles of a collab op (scf.forall): its tiling owns the output layout"
// The K cache, per KV head.
// CHECK-COUNT-8: linalg.transpose ins(%{{.*}} : tensor<1x?x64xf32>) outs(%{{.*}} : tensor<1x64x?xf32>) permutation = [0, 2, 1]  {smepilot.layout = #smepilot.layout<outer_dims_perm = [0, 2, 1]>, smepilot.layout_reason = "a slice of a cache argument (rows inserted this call): its layout is the ABI's"
// The assembled heads: to token order (the graph's), and K-major for SME.
// CHECK:         linalg.transpose ins(%[[O:.*]] : tensor<8x4x64x64xf32>) outs(%{{.*}} : tensor<64x8x4x64xf32>) permutation = [2, 0, 1, 3]
// CHECK:         linalg.transpose ins(%[[O]] : tensor<8x4x64x64xf32>) outs(%{{.*}} : tensor<8x4x64x64xf32>) permutation = [0, 1, 3, 2]  {{.*}}layout_reason = "tensor.insert_slice assembles its source"
// CHECK:         call @smepilot_layer_c64_collab3(
// The FFN norm and SwiGLU, both layouts each.
// CHECK:         %[[F:.*]]:2 = linalg.generic
// CHECK:         } -> (tensor<64x2048xf32>, tensor<2048x64xf32>)
// CHECK:         call @smepilot_layer_c64_collab4(%[[F]]#1,
// CHECK:         call @smepilot_layer_c64_collab5(%[[F]]#1,
// CHECK:         %[[S:.*]]:2 = linalg.generic
// CHECK:         } -> (tensor<64x8192xf32>, tensor<8192x64xf32>)
// CHECK:         call @smepilot_layer_c64_collab6(%[[S]]#1,
// CHECK-LABEL: func.func @smepilot_forward_c64(
//
// The LM head of prefill: the output norm writes both layouts.
// REPORT: remark: smepilot-propagate-layout: 0 inserted, 1 written by producers (1 as a second output), 0 cancelled or composed, 1 at load, 0 left

// The same layer with the SME path's K-major K cache (abi.h v4,
// "k_cache_kmajor" [layer, kv head, d, position]; smepilot-run --target
// and the aarch64 JIT build it so):
// RUN: smepilot-build-model --arch=llama --n-vocab=256 --n-embd=2048 --n-layer=1 \
// RUN:     --n-head=32 --n-head-kv=8 --head-dim=64 --n-ff=8192 --chunk-sizes=1,64 --n-ctx=512 \
// RUN:     --key-cache-kmajor \
// RUN:   | smepilot-opt --smepilot-roofline-annotate=profile=phone-c1-sme2 --smepilot-partition-collab \
// RUN:       --smepilot-pipeline-attention --canonicalize --cse --smepilot-propagate-layout=report \
// RUN:       -mlir-print-op-on-diagnostic=false -o %t.kmajor.mlir 2>&1 | FileCheck %s --check-prefix=KMAJOR
// RUN: FileCheck %s --check-prefix=KMAJOR-IR < %t.kmajor.mlir
//
// Decode: the new K column [kv head, d, 1] moves only the unit token
// dimension: a view, one more composed: still 0 changes.
// KMAJOR: remark: smepilot-propagate-layout: 0 inserted, 0 written by producers (0 as a second output), 3 cancelled or composed, 7 at load, 0 left
// KMAJOR: remark: smepilot-propagate-layout: 0 inserted, 0 written by producers (0 as a second output), 0 cancelled or composed, 1 at load, 0 left
// Prefill, the consumers that differ from the row-major cache above:
//   - QK^T per KV head: K_h K-major is a slice of the cache as it lies
//     ([d, position] of head h): 0 instead of 8.
//   - The new keys: the graph transposes RoPE's [kv head, token, d] into
//     the cache's [kv head, d, token] block; RoPE writes that order itself
//     (one more written by a producer: 20; the pass adds it as a second
//     output, and the row-major one, left without readers, is dropped).
//   = 1 layout change per call (the assembled heads for the O projection's
//   SME part), 0 of the KV cache; 3 left with the graph's own two.
// KMAJOR: remark: smepilot-propagate-layout: 0 inserted, 20 written by producers (5 as a second output), 1 cancelled or composed, 7 at load, 3 left
// KMAJOR-IR-LABEL: func.func private @smepilot_layer_c64(
// KMAJOR-IR-SAME:    %{{.*}}: tensor<1x8x64x512xf32>, %{{.*}}: tensor<1x8x512x64xf32>)
// KMAJOR-IR-NOT:     a slice of a cache argument
// KMAJOR-IR:         tensor.insert_slice %{{.*}} into %{{.*}}[%{{.*}}, 0, 0, %{{.*}}] [1, 8, 64, 64] [1, 1, 1, 1] : tensor<8x64x64xf32> into tensor<1x8x64x512xf32>
// KMAJOR-IR-NOT:     a slice of a cache argument
// KMAJOR-IR:         layout_reason = "tensor.insert_slice assembles its source"
// KMAJOR-IR-NOT:     a slice of a cache argument
// KMAJOR-IR-LABEL: func.func @smepilot_forward_c64(
// KMAJOR-IR-SAME:    {smepilot.name = "k_cache_kmajor"}
