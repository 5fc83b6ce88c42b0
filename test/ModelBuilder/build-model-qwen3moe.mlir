// The graph builder's MoE feed-forward (qwen3moe-tiny: 8 experts, 2 per
// token, expert ffn 32, softmax gating, top-k weights renormalized), for a
// 4-token chunk: router matmul, softmax over the experts, the top-k as scf
// loops over tensors, then per expert a GEMM over the rows routed to it
// (decode: per slot a GEMV), the expert's weights sliced out of the stacked
// [E, ...] tensors at a dynamic expert id.
//
// RUN: smepilot-build-model --preset=qwen3moe-tiny --n-vocab=64 --n-ctx=16 --chunk-sizes=1,4 | FileCheck %s
// RUN: smepilot-build-model --preset=qwen3moe-tiny --n-vocab=64 --n-ctx=16 --chunk-sizes=1,4 | FileCheck %s --check-prefix=DECODE
// RUN: smepilot-build-model --preset=qwen3moe-tiny --n-vocab=64 --n-ctx=16 --chunk-sizes=1,4 --expert-weights-norm=false --expert-gating=sigmoid | FileCheck %s --check-prefix=SIGMOID
// RUN: smepilot-build-model --preset=qwen3moe-tiny --n-vocab=64 --n-ctx=16 --chunk-sizes=1,4 \
// RUN:   | smepilot-opt --smepilot-host-pipeline=stop-after=bufferize | FileCheck %s --check-prefix=BUF
// RUN: smepilot-build-model --preset=qwen3moe-tiny --n-vocab=64 --n-ctx=16 --chunk-sizes=1,4 \
// RUN:   | smepilot-opt --smepilot-host-pipeline | FileCheck %s --check-prefix=LLVM

/// The MoE layer takes ffn_norm, the router [E, D] and the stacked expert
/// weights [E, Fe, D], [E, Fe, D], [E, D, Fe] instead of the dense FFN.
// CHECK-LABEL: func.func private @smepilot_layer_c4(
// CHECK-SAME: %{{[a-z0-9]+}}: tensor<32xf32> {smepilot.weight}, %{{[a-z0-9]+}}: tensor<64xf32> {smepilot.weight},
// CHECK-SAME: %[[ROUTER:[a-z0-9]+]]: tensor<8x64xf32> {smepilot.weight}, %[[GATE:[a-z0-9]+]]: tensor<8x32x64xf32> {smepilot.weight}, %[[UP:[a-z0-9]+]]: tensor<8x32x64xf32> {smepilot.weight}, %[[DOWN:[a-z0-9]+]]: tensor<8x64x32xf32> {smepilot.weight},
// CHECK-SAME: tensor<2x2x16x32xf32>, %{{[a-z0-9]+}}: tensor<2x2x16x32xf32>)

/// Router logits [C, E].
// CHECK: %[[LOGITS:.*]] = linalg.matmul {{.*}} ins(%{{.*}}, %[[ROUTER]] : tensor<4x64xf32>, tensor<8x64xf32>) {{.*}} -> tensor<4x8xf32>

/// Softmax over the experts as the reference's: row max, sum of exp in f64,
/// exp(x - max) * f32(1 / sum).
// CHECK: %[[MAX:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%[[LOGITS]] : tensor<4x8xf32>) outs(%{{.*}} : tensor<4xf32>)
// CHECK: arith.maximumf
// CHECK: %[[SUM:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%[[LOGITS]], %[[MAX]] : tensor<4x8xf32>, tensor<4xf32>) outs(%{{.*}} : tensor<4xf64>)
// CHECK: math.exp
// CHECK: arith.extf %{{.*}} : f32 to f64
// CHECK: %[[PROBS:.*]] = linalg.generic {{.*}} ins(%[[LOGITS]], %[[MAX]], %[[SUM]] : tensor<4x8xf32>, tensor<4xf32>, tensor<4xf64>) outs(%{{.*}} : tensor<4x8xf32>)
// CHECK: arith.divf %{{.*}} : f64
// CHECK: arith.truncf %{{.*}} : f64 to f32

/// Top-k: per token, k passes of a strict-greater argmax (ties keep the lower
/// id); the taken expert's probability becomes -inf in the scratch copy.
// CHECK: %[[NEG_INF:.*]] = arith.constant 0xFF800000 : f32
// CHECK: %[[TOPK:.*]]:3 = scf.for %[[TOK:[a-z0-9]+]] = {{.*}} iter_args(%{{.*}} = %[[PROBS]], {{.*}}) -> (tensor<4x8xf32>, tensor<4x2xi32>, tensor<4x2xf32>) {
// CHECK: %[[PICKED:.*]]:3 = scf.for %[[SLOT:[a-z0-9]+]] = {{.*}} -> (tensor<4x8xf32>, tensor<4x2xi32>, tensor<4x2xf32>) {
// CHECK: %[[FIRST:.*]] = tensor.extract %{{.*}}[%[[TOK]], %[[C0:.*]]] : tensor<4x8xf32>
// CHECK: %[[BEST:.*]]:2 = scf.for %[[E:[a-z0-9]+]] = %{{.*}} to %c8 {{.*}} iter_args(%[[BI:.*]] = %[[C0]], %[[BV:.*]] = %[[FIRST]]) -> (index, f32) {
// CHECK: %[[V:.*]] = tensor.extract %{{.*}}[%[[TOK]], %[[E]]] : tensor<4x8xf32>
// CHECK: %[[GT:.*]] = arith.cmpf ogt, %[[V]], %[[BV]] : f32
// CHECK: arith.select %[[GT]], %[[E]], %[[BI]] : index
// CHECK: %[[ID:.*]] = arith.index_cast %[[BEST]]#0 : index to i32
// CHECK: tensor.insert %[[ID]] into %{{.*}}[%[[TOK]], %[[SLOT]]] : tensor<4x2xi32>
// CHECK: tensor.insert %[[BEST]]#1 into %{{.*}}[%[[TOK]], %[[SLOT]]] : tensor<4x2xf32>
// CHECK: tensor.insert %[[NEG_INF]] into %{{.*}}[%[[TOK]], %[[BEST]]#0] : tensor<4x8xf32>
/// Renormalization: sum of the k weights in f64, then w / sum.
// CHECK: %[[WSUM:.*]] = scf.for {{.*}} -> (f64) {
// CHECK: arith.extf
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[PICKED]]#2) -> (tensor<4x2xf32>) {
// CHECK: arith.divf %{{.*}}, %[[WSUM]] : f64

/// Prefill groups the work by expert: per expert, the rows r = token * K +
/// slot routed to it are listed at run time (rows[m] is written for every r,
/// m advances on a hit), an unused expert is skipped, the listed tokens' rows
/// are gathered into a dynamically sized [M, D], the expert's matrices are
/// slices at the loop's expert id and run as [M, D] GEMMs, and the outputs
/// are scattered back to expert_out[r].
// CHECK: %[[IDS:.*]] = tensor.collapse_shape %[[TOPK]]#1 {{\[}}[0, 1]] : tensor<4x2xi32> into tensor<8xi32>
// CHECK: %[[EOUT:.*]] = scf.for %[[EXP:[a-z0-9]+]] = {{.*}} -> (tensor<8x64xf32>) {
// CHECK: %[[LIST:.*]]:2 = scf.for %[[R:[a-z0-9]+]] = {{.*}} -> (tensor<8xindex>, index) {
// CHECK: %[[RID:.*]] = tensor.extract %[[IDS]][%[[R]]] : tensor<8xi32>
// CHECK: %[[RIDX:.*]] = arith.index_cast %[[RID]] : i32 to index
// CHECK: arith.cmpi eq, %[[RIDX]], %[[EXP]] : index
// CHECK: tensor.insert %[[R]] into %{{.*}} : tensor<8xindex>
// CHECK: %[[USED:.*]] = arith.cmpi ugt, %[[LIST]]#1, %{{.*}} : index
// CHECK: scf.if %[[USED]] -> (tensor<8x64xf32>) {
// CHECK: %[[XE:.*]] = tensor.empty(%[[LIST]]#1) : tensor<?x64xf32>
// CHECK: %[[X:.*]] = linalg.generic {{.*}} outs(%[[XE]] : tensor<?x64xf32>)
// CHECK: tensor.extract %[[LIST]]#0[%{{.*}}] : tensor<8xindex>
// CHECK: arith.divui
// CHECK: %[[WG:.*]] = tensor.extract_slice %[[GATE]][%[[EXP]], 0, 0] [1, 32, 64] [1, 1, 1] : tensor<8x32x64xf32> to tensor<32x64xf32>
// CHECK: %[[G:.*]] = linalg.matmul {{.*}} ins(%[[X]], %[[WG]] : tensor<?x64xf32>, tensor<32x64xf32>) {{.*}} -> tensor<?x32xf32>
// CHECK: %[[WU:.*]] = tensor.extract_slice %[[UP]][%[[EXP]], 0, 0] [1, 32, 64] [1, 1, 1] : tensor<8x32x64xf32> to tensor<32x64xf32>
// CHECK: %[[U:.*]] = linalg.matmul {{.*}} ins(%[[X]], %[[WU]] : tensor<?x64xf32>, tensor<32x64xf32>) {{.*}} -> tensor<?x32xf32>
// CHECK: %[[ACT:.*]] = linalg.generic {{.*}} ins(%[[G]], %[[U]] : tensor<?x32xf32>, tensor<?x32xf32>)
// CHECK: %[[WD:.*]] = tensor.extract_slice %[[DOWN]][%[[EXP]], 0, 0] [1, 64, 32] [1, 1, 1] : tensor<8x64x32xf32> to tensor<64x32xf32>
// CHECK: %[[Y:.*]] = linalg.matmul {{.*}} ins(%[[ACT]], %[[WD]] : tensor<?x32xf32>, tensor<64x32xf32>) {{.*}} -> tensor<?x64xf32>
// CHECK: scf.for %[[I:[a-z0-9]+]] = %{{.*}} to %[[LIST]]#1 {{.*}} -> (tensor<8x64xf32>) {
// CHECK: %[[ROWID:.*]] = tensor.extract %[[LIST]]#0[%[[I]]] : tensor<8xindex>
// CHECK: %[[YROW:.*]] = tensor.extract_slice %[[Y]][%[[I]], 0] [1, 64] [1, 1] : tensor<?x64xf32> to tensor<1x64xf32>
// CHECK: tensor.insert_slice %[[YROW]] into %{{.*}}[%[[ROWID]], 0] [1, 64] [1, 1] : tensor<1x64xf32> into tensor<8x64xf32>
// CHECK: } else {
// CHECK-NEXT: scf.yield %{{.*}} : tensor<8x64xf32>
/// out[c] = sum over slots s, in order, of w[c, s] * expert_out[c * K + s].
// CHECK: %[[EO3:.*]] = tensor.expand_shape %[[EOUT]] {{\[}}[0, 1], [2]] output_shape [4, 2, 64] : tensor<8x64xf32> into tensor<4x2x64xf32>
// CHECK: %[[MOE:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[EO3]], %[[TOPK]]#2 : tensor<4x2x64xf32>, tensor<4x2xf32>) outs(%{{.*}} : tensor<4x64xf32>)
// CHECK: linalg.add ins(%{{.*}}, %[[MOE]] : tensor<4x64xf32>, tensor<4x64xf32>)

/// Decode: the token's k experts run as GEMVs ([1, D] GEMMs) on the slices
/// at the ids the top-k chose, summed in slot order; no row lists.
// DECODE-LABEL: func.func private @smepilot_layer_c1(
// DECODE-SAME: %[[GATE:[a-z0-9]+]]: tensor<8x32x64xf32> {smepilot.weight}, %[[UP:[a-z0-9]+]]: tensor<8x32x64xf32> {smepilot.weight}, %[[DOWN:[a-z0-9]+]]: tensor<8x64x32xf32> {smepilot.weight},
// DECODE: %[[TOPK:.*]]:3 = scf.for {{.*}} -> (tensor<1x8xf32>, tensor<1x2xi32>, tensor<1x2xf32>) {
// DECODE: %[[MOE:.*]] = scf.for %[[T:[a-z0-9]+]] = {{.*}} -> (tensor<1x64xf32>) {
// DECODE: %[[ROW:.*]] = tensor.extract_slice %{{.*}}[%[[T]], 0] [1, 64] [1, 1] : tensor<1x64xf32> to tensor<1x64xf32>
// DECODE: scf.for %[[S:[a-z0-9]+]] = {{.*}} -> (tensor<1x64xf32>) {
// DECODE: %[[EID:.*]] = tensor.extract %[[TOPK]]#1[%[[T]], %[[S]]] : tensor<1x2xi32>
// DECODE: %[[EX:.*]] = arith.index_cast %[[EID]] : i32 to index
// DECODE: %[[W:.*]] = tensor.extract %[[TOPK]]#2[%[[T]], %[[S]]] : tensor<1x2xf32>
// DECODE: %[[WG:.*]] = tensor.extract_slice %[[GATE]][%[[EX]], 0, 0] [1, 32, 64] [1, 1, 1] : tensor<8x32x64xf32> to tensor<32x64xf32>
// DECODE: %[[G:.*]] = linalg.matmul {{.*}} ins(%[[ROW]], %[[WG]] : tensor<1x64xf32>, tensor<32x64xf32>) {{.*}} -> tensor<1x32xf32>
// DECODE: %[[WU:.*]] = tensor.extract_slice %[[UP]][%[[EX]], 0, 0] [1, 32, 64] [1, 1, 1] : tensor<8x32x64xf32> to tensor<32x64xf32>
// DECODE: %[[U:.*]] = linalg.matmul {{.*}} ins(%[[ROW]], %[[WU]] : tensor<1x64xf32>, tensor<32x64xf32>) {{.*}} -> tensor<1x32xf32>
// DECODE: %[[ACT:.*]] = linalg.generic {{.*}} ins(%[[G]], %[[U]] : tensor<1x32xf32>, tensor<1x32xf32>)
// DECODE: %[[WD:.*]] = tensor.extract_slice %[[DOWN]][%[[EX]], 0, 0] [1, 64, 32] [1, 1, 1] : tensor<8x64x32xf32> to tensor<64x32xf32>
// DECODE: %[[Y:.*]] = linalg.matmul {{.*}} ins(%[[ACT]], %[[WD]] : tensor<1x32xf32>, tensor<64x32xf32>) {{.*}} -> tensor<1x64xf32>
/// acc += w * y, slot by slot.
// DECODE: linalg.generic {{.*}} ins(%[[Y]] : tensor<1x64xf32>)
// DECODE: arith.mulf %[[W]], %{{.*}} : f32
// DECODE: tensor.insert_slice %{{.*}} into %{{.*}}[%[[T]], 0] [1, 64] [1, 1] : tensor<1x64xf32> into tensor<1x64xf32>
// DECODE-NOT: scf.if
// DECODE: linalg.add ins(%{{.*}}, %[[MOE]] : tensor<1x64xf32>, tensor<1x64xf32>)
// DECODE-LABEL: func.func @smepilot_forward_c1(

/// Each forward function passes every layer its 12 weights (the MoE ones
/// included) and calls the layer twice.
// CHECK-LABEL: func.func @smepilot_forward_c4(
// CHECK-SAME: tensor<8x64xf32> {smepilot.name = "{{[a-z0-9_.]+}}", smepilot.weight}, %{{[a-z0-9]+}}: tensor<8x32x64xf32> {smepilot.name = "{{[a-z0-9_.]+}}", smepilot.weight}, %{{[a-z0-9]+}}: tensor<8x32x64xf32> {smepilot.name = "{{[a-z0-9_.]+}}", smepilot.weight}, %{{[a-z0-9]+}}: tensor<8x64x32xf32> {smepilot.name = "{{[a-z0-9_.]+}}", smepilot.weight}
// CHECK-SAME: tensor<8x64xf32> {smepilot.name = "{{[a-z0-9_.]+}}", smepilot.weight}, %{{[a-z0-9]+}}: tensor<8x32x64xf32> {smepilot.name = "{{[a-z0-9_.]+}}", smepilot.weight}, %{{[a-z0-9]+}}: tensor<8x32x64xf32> {smepilot.name = "{{[a-z0-9_.]+}}", smepilot.weight}, %{{[a-z0-9]+}}: tensor<8x64x32xf32> {smepilot.name = "{{[a-z0-9_.]+}}", smepilot.weight}
// CHECK-COUNT-2: call @smepilot_layer_c4(

/// Sigmoid gating and no renormalization: no softmax reduction, no f64 sum
/// of the chosen weights.
// SIGMOID-LABEL: func.func private @smepilot_layer_c4(
// SIGMOID: %[[LOGITS:.*]] = linalg.matmul {{.*}} -> tensor<4x8xf32>
// SIGMOID-NOT: iterator_types = ["parallel", "reduction"]
// SIGMOID: linalg.generic {{.*}} ins(%[[LOGITS]] : tensor<4x8xf32>) outs(%{{.*}} : tensor<4x8xf32>)
// SIGMOID: math.exp
// SIGMOID: arith.divf
// SIGMOID: scf.for {{.*}} -> (tensor<4x8xf32>, tensor<4x2xi32>, tensor<4x2xf32>)
// SIGMOID-NOT: -> (f64)
// SIGMOID: tensor.extract_slice {{.*}} : tensor<8x32x64xf32> to tensor<32x64xf32>
// SIGMOID-LABEL: func.func @smepilot_forward_c4(

/// Bufferized: the expert matrices are subviews of the weight arguments at
/// the dynamic id (no copy of a weight), and the top-k updates its buffers
/// in place.
// BUF-LABEL: func.func private @smepilot_layer_c4(
// BUF: memref.store %{{.*}} : memref<4x2xi32>
// BUF: memref.store %{{.*}} : memref<4x8xf32>
// BUF: memref.subview %{{.*}}[%{{.*}}, 0, 0] [1, 32, 64] [1, 1, 1] : memref<8x32x64xf32> to memref<32x64xf32, strided<[64, 1], offset: ?>>
// BUF: memref.subview %{{.*}}[%{{.*}}, 0, 0] [1, 64, 32] [1, 1, 1] : memref<8x64x32xf32> to memref<64x32xf32, strided<[32, 1], offset: ?>>
// BUF-NOT: memref.copy {{.*}}memref<8x
// BUF-LABEL: func.func @smepilot_forward_c4(

/// The host pipeline lowers the loops, slices and GEMVs all the way to the
/// LLVM dialect; each phase is kernels and a dispatch table, the layer functions are gone
/// (inlined into the phases before outlining).
// LLVM-NOT: unrealized_conversion_cast
// LLVM-NOT: scf.for
// LLVM-NOT: tensor.
// LLVM-NOT: smepilot_layer_c
// LLVM-DAG: llvm.func @forward_c1_k0(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: i64, %{{.*}}: i64)
// LLVM-DAG: llvm.func @forward_c4_k0(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: i64, %{{.*}}: i64)
// LLVM-DAG: llvm.mlir.global external constant @smepilot_table_forward_c1()
// LLVM-DAG: llvm.mlir.global external constant @smepilot_table_forward_c4()
