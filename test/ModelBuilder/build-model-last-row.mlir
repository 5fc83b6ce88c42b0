// --last-row-logits adds, for each chunk size above 1, a variant computing
// only the last position's logits: the final hidden row is sliced out before
// the output norm and the LM head, which then run on [1, D].
//
// RUN: smepilot-build-model --preset=stories260k --chunk-sizes=1,4 --last-row-logits | FileCheck %s
// RUN: smepilot-build-model --preset=stories260k --chunk-sizes=1,4 | FileCheck %s --check-prefix=NOLAST

/// Every phase names its buffers for the runtime (abi.h, compiled models)
/// and says its chunk; the last-row variant says so too.
// CHECK-LABEL: func.func @smepilot_forward_c1(
// CHECK-SAME: %arg0: tensor<1xi32> {smepilot.name = "tokens"}
// CHECK-SAME: %arg2: tensor<512x64xf32> {smepilot.name = "token_embd.weight", smepilot.weight}
// CHECK-SAME: %arg6: tensor<64x64xf32> {smepilot.name = "blk.0.attn_q.weight", smepilot.weight}
// CHECK-SAME: -> (tensor<1x512xf32> {smepilot.name = "logits"},
// CHECK-SAME: smepilot.chunk = 1 : i64
// CHECK-NOT: smepilot.last_row
// CHECK-LABEL: func.func @smepilot_forward_c4(
// CHECK-SAME: -> (tensor<4x512xf32> {smepilot.name = "logits"},
// CHECK-SAME: smepilot.chunk = 4 : i64
// CHECK-NOT: smepilot.last_row
// CHECK-LABEL: func.func @smepilot_forward_c4_last(
// CHECK-SAME: -> (tensor<1x512xf32> {smepilot.name = "logits"},
// CHECK-SAME: smepilot.chunk = 4 : i64, smepilot.last_row
// CHECK-COUNT-5: call @smepilot_layer_c4(
// CHECK: %[[LAST:.*]] = tensor.extract_slice %{{.*}}[3, 0] [1, 64] [1, 1] : tensor<4x64xf32> to tensor<1x64xf32>
// CHECK: linalg.matmul {{.*}} -> tensor<1x512xf32>
// CHECK-NOT: func.func @smepilot_forward_c1_last

// NOLAST-NOT: _last
