// Weight matrices in their own GGUF type (ModelBuildOptions::weightFormats):
// the forward function takes them as GGUF stores them, marks the type for the
// dispatch table, and the projections and the embedding read them in place.
//
// RUN: smepilot-build-model --preset=stories260k --weight-format=q8_0 | FileCheck %s --check-prefix=Q8
// RUN: smepilot-build-model --preset=stories260k --weight-format=q4_0 | FileCheck %s --check-prefix=Q4
// RUN: smepilot-build-model --preset=stories260k --weight-format=bf16 | FileCheck %s --check-prefix=BF16
// RUN: smepilot-build-model --preset=stories260k --weight-format=f16 | FileCheck %s --check-prefix=F16
// RUN: smepilot-build-model --preset=stories260k --weight-format=f32 | FileCheck %s --check-prefix=F32
// RUN: smepilot-build-model --preset=qwen3moe-tiny --weight-format=q8_0 | FileCheck %s --check-prefix=MOE
// RUN: not smepilot-build-model --preset=stories260k --weight-format=q5_k 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: smepilot-build-model --preset=stories260k --weight-format=q8_0 --quantized-activations --chunk-sizes=1,4 | FileCheck %s --check-prefix=QA

/// --quantized-activations: x is rounded to Q8_0 blocks as llama.cpp does,
/// once per x (Q, K and V share it): amax per block of 32, the scale
/// f16(amax / 127), the quants roundeven(x * 127 / amax).
// QA-LABEL: func.func private @smepilot_layer_c1(
// QA: %[[XB:.*]] = tensor.expand_shape %{{.*}} {{\[}}[0], [1, 2]] output_shape [1, 2, 32] : tensor<1x64xf32> into tensor<1x2x32xf32>
// QA: %[[AMAX:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[XB]] : tensor<1x2x32xf32>)
// QA: math.absf
// QA: arith.maximumf
// QA: %[[D:.*]] = linalg.generic {{.*}} ins(%[[AMAX]] : tensor<1x2xf32>)
// QA: arith.divf %{{.*}}, %{{.*}} : f32
// QA: arith.truncf %{{.*}} : f32 to f16
// QA: %[[XQ:.*]] = linalg.generic {{.*}} ins(%[[XB]], %[[AMAX]], %[[D]] : tensor<1x2x32xf32>, tensor<1x2xf32>, tensor<1x2xf32>) outs(%{{.*}} : tensor<1x2x32xi8>)
// QA: math.roundeven
// QA: arith.fptosi %{{.*}} : f32 to i8
/// A single row (decode): the int8 form, sitofp(q) * d on both sides, for
/// tile-cpu's int8 dot products; K and V take the same quants.
// QA: linalg.generic {{.*}} ins(%[[XQ]], %[[D]], %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x2x32xi8>, tensor<1x2xf32>, tensor<64x2x32xi8>, tensor<64x2x2xi8>, tensor<64x2x2xi8>)
// QA: ^bb0(%[[A:[a-z_0-9]+]]: i8, %[[DA:[a-z_0-9]+]]: f32, %[[Q:[a-z_0-9]+]]: i8,
// QA: %[[QF:.*]] = arith.sitofp %[[Q]] : i8 to f32
// QA: %[[W:.*]] = arith.mulf %[[QF]], %{{.*}} : f32
// QA: %[[AF:.*]] = arith.sitofp %[[A]] : i8 to f32
// QA: %[[X:.*]] = arith.mulf %[[AF]], %[[DA]] : f32
// QA: arith.mulf %[[X]], %[[W]] : f32
// QA: linalg.generic {{.*}} ins(%[[XQ]], %[[D]], %{{.*}} : tensor<1x2x32xi8>, tensor<1x2xf32>, tensor<32x2x32xi8>
/// A chunk of rows: x rounded to d * q in f32, then the f32-activation form.
// QA-LABEL: func.func private @smepilot_layer_c4(
// QA: %[[R:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<4x2x32xf32>)
// QA: math.roundeven
// QA: arith.mulf %{{.*}}, %{{.*}} : f32
// QA: %[[RX:.*]] = tensor.collapse_shape %[[R]] {{\[}}[0], [1, 2]] : tensor<4x2x32xf32> into tensor<4x64xf32>
// QA: tensor.expand_shape %[[RX]] {{\[}}[0], [1, 2]] output_shape [4, 2, 32] : tensor<4x64xf32> into tensor<4x2x32xf32>

/// Q8_0: [N, K/32, 34] bytes. stories260K's ffn_down has K = 172, not a
/// multiple of the block: it stays F32 in every layer (the runtime converts
/// it), and so do the norms.
// Q8-LABEL: func.func private @smepilot_layer_c1(
// Q8-SAME: %arg5: tensor<64xf32> {smepilot.weight}, %arg6: tensor<64x2x34xi8> {smepilot.weight}, %arg7: tensor<32x2x34xi8> {smepilot.weight}
// Q8-SAME: %arg11: tensor<172x2x34xi8> {smepilot.weight}, %arg12: tensor<172x2x34xi8> {smepilot.weight}, %arg13: tensor<64x172xf32> {smepilot.weight}
/// The q projection: quants and scale bytes are slices of the block rows, x
/// is read as [M, K/32, 32]; the body dequantizes in registers.
// Q8: %[[QS:.*]] = tensor.extract_slice %arg6[0, 0, 2] [64, 2, 32] [1, 1, 1] : tensor<64x2x34xi8> to tensor<64x2x32xi8>
// Q8: %[[SC:.*]] = tensor.extract_slice %arg6[0, 0, 0] [64, 2, 2] [1, 1, 1] : tensor<64x2x34xi8> to tensor<64x2x2xi8>
// Q8: %[[X:.*]] = tensor.expand_shape %{{.*}} {{\[}}[0], [1, 2]] output_shape [1, 2, 32] : tensor<1x64xf32> into tensor<1x2x32xf32>
// Q8: linalg.generic {indexing_maps = [#[[MX:map[0-9]*]], #[[MQ:map[0-9]*]], #[[MLO:map[0-9]*]], #[[MHI:map[0-9]*]], #{{map[0-9]*}}], iterator_types = ["parallel", "parallel", "reduction", "reduction"]}
// Q8-SAME: ins(%[[X]], %[[QS]], %[[SC]], %[[SC]] :
// Q8: ^bb0(%[[XV:[a-z_0-9]+]]: f32, %[[Q:[a-z_0-9]+]]: i8, %[[LO:[a-z_0-9]+]]: i8, %[[HI:[a-z_0-9]+]]: i8, %[[ACC:[a-z_0-9]+]]: f32):
// Q8: %[[LO16:.*]] = arith.extui %[[LO]] : i8 to i16
// Q8: %[[HI16:.*]] = arith.extui %[[HI]] : i8 to i16
// Q8: %[[SH:.*]] = arith.shli %[[HI16]], %{{.*}} : i16
// Q8: %[[BITS:.*]] = arith.ori %[[SH]], %[[LO16]] : i16
// Q8: %[[H:.*]] = arith.bitcast %[[BITS]] : i16 to f16
// Q8: %[[D:.*]] = arith.extf %[[H]] : f16 to f32
// Q8: %[[QF:.*]] = arith.sitofp %[[Q]] : i8 to f32
// Q8: %[[W:.*]] = arith.mulf %[[QF]], %[[D]] : f32
// Q8: %[[P:.*]] = arith.mulf %[[XV]], %[[W]] : f32
// Q8: arith.addf %[[ACC]], %[[P]] : f32
/// The forward function: the type of every typed weight for the runtime.
// Q8-LABEL: func.func @smepilot_forward_c1(
// Q8-SAME: %arg2: tensor<512x2x34xi8> {smepilot.ggml_type = 8 : i64, smepilot.name = "token_embd.weight", smepilot.weight}
// Q8-SAME: %arg3: tensor<64xf32> {smepilot.name = "output_norm.weight", smepilot.weight}
// Q8-SAME: tensor<64x172xf32> {smepilot.name = "blk.0.ffn_down.weight", smepilot.weight}
/// The embedding: block col / 32, quant (col % 32) + 2, scale bytes 0 and 1.
// Q8: linalg.generic
// Q8: %[[COL:.*]] = linalg.index 1 : index
// Q8: %[[BLK:.*]] = arith.divui %[[COL]], %{{c32[_0-9]*}}
// Q8: %[[J:.*]] = arith.remui %[[COL]], %{{c32[_0-9]*}}
// Q8: tensor.extract %arg2[%{{.*}}, %[[BLK]], %{{c0[_0-9]*}}] : tensor<512x2x34xi8>
// Q8: tensor.extract %arg2[%{{.*}}, %[[BLK]], %{{c1[_0-9]*}}] : tensor<512x2x34xi8>
// Q8: %[[AT:.*]] = arith.addi %[[J]], %{{c2[_0-9]*}}
// Q8: tensor.extract %arg2[%{{.*}}, %[[BLK]], %[[AT]]] : tensor<512x2x34xi8>

/// Q4_0: [N, K/32, 18]; a block's two halves are a reduction loop whose
/// nibble shift (0, 4) is a constant input.
// Q4-LABEL: func.func private @smepilot_layer_c1(
// Q4-SAME: %arg6: tensor<64x2x18xi8> {smepilot.weight}
// Q4: %[[QS:.*]] = tensor.extract_slice %arg6[0, 0, 2] [64, 2, 16] [1, 1, 1] : tensor<64x2x18xi8> to tensor<64x2x16xi8>
// Q4: %[[SC:.*]] = tensor.extract_slice %arg6[0, 0, 0] [64, 2, 2] [1, 1, 1]
// Q4: %[[X:.*]] = tensor.expand_shape %{{.*}} {{\[}}[0], [1, 2, 3]] output_shape [1, 2, 2, 16] : tensor<1x64xf32> into tensor<1x2x2x16xf32>
// Q4: %[[SHIFTS:.*]] = arith.constant dense<[0, 4]> : tensor<2xi8>
// Q4: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction", "reduction", "reduction"]}
// Q4-SAME: ins(%[[X]], %[[QS]], %[[SHIFTS]], %[[SC]], %[[SC]] :
// Q4: ^bb0(%{{[a-z_0-9]+}}: f32, %[[B:[a-z_0-9]+]]: i8, %[[S:[a-z_0-9]+]]: i8,
// Q4: %[[NIB:.*]] = arith.shrui %[[B]], %[[S]] : i8
// Q4: arith.andi %[[NIB]], %{{.*}} : i8
// Q4: arith.subi
// Q4: arith.sitofp %{{.*}} : i8 to f32
// Q4-LABEL: func.func @smepilot_forward_c1(
// Q4-SAME: tensor<512x2x18xi8> {smepilot.ggml_type = 2 : i64, smepilot.name = "token_embd.weight", smepilot.weight}

/// Half-precision weights keep the GGUF [N, K] layout, widened in the body.
// BF16-LABEL: func.func private @smepilot_layer_c1(
// BF16-SAME: %arg6: tensor<64x64xbf16> {smepilot.weight}
// BF16: linalg.generic {{.*}} ins(%{{.*}}, %arg6 : tensor<1x64xf32>, tensor<64x64xbf16>)
// BF16: arith.extf %{{.*}} : bf16 to f32
// BF16-LABEL: func.func @smepilot_forward_c1(
// BF16-SAME: tensor<512x64xbf16> {smepilot.ggml_type = 30 : i64, smepilot.name = "token_embd.weight", smepilot.weight}
// F16-LABEL: func.func private @smepilot_layer_c1(
// F16-SAME: tensor<64x172xf16> {smepilot.weight}
// F16: arith.extf %{{.*}} : f16 to f32
// F16-LABEL: func.func @smepilot_forward_c1(
// F16-SAME: tensor<512x64xf16> {smepilot.ggml_type = 1 : i64, smepilot.name = "token_embd.weight", smepilot.weight}

/// F32 (the default): named matmuls and no type attribute.
// F32-NOT: smepilot.ggml_type
// F32: linalg.matmul
// F32-NOT: smepilot.ggml_type

/// MoE: the stacked experts [E, F, D] are [E, F, D/32, 34] bytes (down:
/// K = 32, one block), sliced per expert in that format; the router is F32.
// MOE-LABEL: func.func private @smepilot_layer_c1(
// MOE-SAME: tensor<8x64xf32> {smepilot.weight}, %{{.*}}: tensor<8x32x2x34xi8> {smepilot.weight}, %{{.*}}: tensor<8x32x2x34xi8> {smepilot.weight}, %{{.*}}: tensor<8x64x1x34xi8> {smepilot.weight}
// MOE: tensor.extract_slice %{{.*}}[%{{.*}}, 0, 0, 0] [1, 32, 2, 34] [1, 1, 1, 1] : tensor<8x32x2x34xi8> to tensor<32x2x34xi8>
// MOE: tensor.extract_slice %{{.*}}[%{{.*}}, 0, 0, 0] [1, 64, 1, 34] [1, 1, 1, 1] : tensor<8x64x1x34xi8> to tensor<64x1x34xi8>

// BAD: error: --weight-format=q5_k: expected f32, f16, bf16, q8_0 or q4_0
