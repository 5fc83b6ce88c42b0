// RUN: smepilot-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(smepilot-tile-cpu{int8-dot=true}))" | FileCheck %s
// RUN: smepilot-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(smepilot-tile-cpu{int8-dot=true report=true}))" 2>&1 >/dev/null | FileCheck %s --check-prefix=REPORT
// RUN: smepilot-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(smepilot-tile-cpu))" | FileCheck %s --check-prefix=OFF

/// Int8 dot products (the graph builder's form for a Q8_0 or Q4_0 weight by
/// activations rounded to Q8_0 blocks, GraphEmitter::projectionQuantized):
/// both factors are scale * sitofp(i8). With int8-dot, per block the
/// integer products are summed exactly by smepilot.dot4_u8s8 (vpdpbusd:
/// unsigned by signed bytes, so the weight's quants are offset by 128 with a
/// xor and 128 * sum(activation quants) is subtracted, as the initial value),
/// then converted and scaled once: one FMA per block and output.

/// Q8_0 decode: loops (m, n, block, j), j = 32 int8 lanes: a 256-bit dot
/// (8 i32 lanes), one weight row at a time (register block 1x1). The blocks
/// go round-robin to 4 accumulator groups: blocks 0-3 in one iteration, then
/// blocks 4 and 5 one at a time into the first group; the groups are added
/// before the horizontal sum. The scales (an f32 per activation block, an f16
/// from two bytes per weight block) are scalars, computed once per block and
/// splat.
// REPORT: remark: smepilot-tile-cpu: dot-product schedule, register block 1x1, 4 accumulator groups, int8 dot products (vpdpbusd) on 32 bytes
// CHECK-LABEL: func.func @q8_0_decode(
// CHECK-SAME: %[[XQ:[^:]+]]: tensor<1x6x32xi8>, %[[XD:[^:]+]]: tensor<1x6xf32>
// CHECK-DAG: %[[BIAS:.*]] = arith.constant dense<-128> : vector<32xi8>
// CHECK-DAG: %[[IZERO:.*]] = arith.constant dense<0> : vector<8xi32>
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK-DAG: %[[C6:.*]] = arith.constant 6 : index
// CHECK: scf.for %[[N:[a-z0-9_]+]] =
// CHECK: %[[ACC:.*]]:4 = scf.for %[[B:[a-z0-9_]+]] = %{{.*}} to %[[C4]] step %[[C4]] iter_args(%[[G0:[^ ]+]] = %{{.*}}, %[[G1:[^ ]+]] = %{{.*}}, %[[G2:[^ ]+]] = %{{.*}}, %[[G3:[^ ]+]] = %{{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK: %[[A:.*]] = vector.transfer_read %[[XQ]][%{{.*}}, %[[B]], %{{.*}}], {{.*}} : tensor<1x6x32xi8>, vector<32xi8>
// CHECK: %[[W:.*]] = vector.transfer_read %{{.*}}[%{{.*}}, %[[B]], %{{.*}}], {{.*}} : tensor<1x6x32xi8>, vector<32xi8>
// CHECK: %[[WU:.*]] = arith.xori %[[W]], %[[BIAS]] : vector<32xi8>
// CHECK: %[[SUMA:.*]] = smepilot.dot4_u8s8 %[[IZERO]], %[[BIAS]], %[[A]] : vector<32xi8> into vector<8xi32>
// CHECK: %[[CORR:.*]] = arith.subi %[[IZERO]], %[[SUMA]] : vector<8xi32>
// CHECK: %[[ISUM:.*]] = smepilot.dot4_u8s8 %[[CORR]], %[[WU]], %[[A]] : vector<32xi8> into vector<8xi32>
// CHECK: %[[SA:.*]] = tensor.extract %[[XD]][%{{.*}}, %[[B]]] : tensor<1x6xf32>
// CHECK: arith.bitcast %{{.*}} : i16 to f16
// CHECK: %[[SW:.*]] = arith.extf %{{.*}} : f16 to f32
// CHECK: %[[F:.*]] = arith.sitofp %[[ISUM]] : vector<8xi32> to vector<8xf32>
// CHECK: %[[F0:.*]] = vector.fma %[[F]], %{{.*}}, %[[G0]] : vector<8xf32>
// CHECK: %[[F1:.*]] = vector.fma %{{.*}}, %{{.*}}, %[[G1]] : vector<8xf32>
// CHECK: %[[F2:.*]] = vector.fma %{{.*}}, %{{.*}}, %[[G2]] : vector<8xf32>
// CHECK: %[[F3:.*]] = vector.fma %{{.*}}, %{{.*}}, %[[G3]] : vector<8xf32>
// CHECK: scf.yield %[[F0]], %[[F1]], %[[F2]], %[[F3]]
// CHECK: %[[REST:.*]] = scf.for %{{.*}} = %[[C4]] to %[[C6]] step %{{.*}} iter_args(%{{.*}} = %[[ACC]]#0) -> (vector<8xf32>)
// CHECK: smepilot.dot4_u8s8
// CHECK: scf.yield
// CHECK: %[[S1:.*]] = arith.addf %[[REST]], %[[ACC]]#1
// CHECK: %[[S2:.*]] = arith.addf %[[S1]], %[[ACC]]#2
// CHECK: %[[S3:.*]] = arith.addf %[[S2]], %[[ACC]]#3
// CHECK: vector.reduction <add>, %[[S3]]
// CHECK-NOT: vector.reduction
// CHECK-NOT: linalg.generic
/// Without int8-dot the same contraction takes f32 FMAs on both factors
/// dequantized in registers.
// OFF-LABEL: func.func @q8_0_decode(
// OFF-NOT: smepilot.dot4_u8s8
// OFF: vector.fma %{{.*}} : vector<16xf32>
#xq = affine_map<(m, n, b, j) -> (m, b, j)>
#xd = affine_map<(m, n, b, j) -> (m, b)>
#q = affine_map<(m, n, b, j) -> (n, b, j)>
#lo = affine_map<(m, n, b, j) -> (n, b, 0)>
#hi = affine_map<(m, n, b, j) -> (n, b, 1)>
#c = affine_map<(m, n, b, j) -> (m, n)>
func.func @q8_0_decode(%xq: tensor<1x6x32xi8>, %xd: tensor<1x6xf32>, %qs: tensor<16x6x32xi8>,
                       %sc: tensor<16x6x2xi8>, %init: tensor<1x16xf32>) -> tensor<1x16xf32> {
  %r = linalg.generic {indexing_maps = [#xq, #xd, #q, #lo, #hi, #c],
                       iterator_types = ["parallel", "parallel", "reduction", "reduction"]}
      ins(%xq, %xd, %qs, %sc, %sc : tensor<1x6x32xi8>, tensor<1x6xf32>, tensor<16x6x32xi8>, tensor<16x6x2xi8>, tensor<16x6x2xi8>)
      outs(%init : tensor<1x16xf32>) {
  ^bb0(%a: i8, %da: f32, %q: i8, %lo: i8, %hi: i8, %acc: f32):
    %eight = arith.constant 8 : i16
    %lo16 = arith.extui %lo : i8 to i16
    %hi16 = arith.extui %hi : i8 to i16
    %sh = arith.shli %hi16, %eight : i16
    %bits = arith.ori %sh, %lo16 : i16
    %h = arith.bitcast %bits : i16 to f16
    %d = arith.extf %h : f16 to f32
    %qf = arith.sitofp %q : i8 to f32
    %w = arith.mulf %qf, %d : f32
    %af = arith.sitofp %a : i8 to f32
    %x = arith.mulf %af, %da : f32
    %p = arith.mulf %x, %w : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x16xf32>
  return %r : tensor<1x16xf32>
}

// -----

/// Q4_0 decode: loops (m, n, block, half, i), i = 16 bytes. The half is an
/// integer loop (the scales do not read it): it is unrolled, and each
/// side's two 16-byte vectors are concatenated (the activation's halves in
/// the same order as the weight's nibbles), so a block is again one 256-bit
/// dot. The weight's quant is nibble - 8, the nibble `(byte >> s) & 15` in
/// [0, 15]: the nibbles are vpdpbusd's unsigned operand as they are (no
/// subtraction, no offset of 128), and the correction is 8 * sum(a).
// REPORT: remark: smepilot-tile-cpu: dot-product schedule, register block 1x1, 4 accumulator groups, int8 dot products (vpdpbusd) on 32 bytes
// CHECK-LABEL: func.func @q4_0_decode(
// CHECK-DAG: %[[SH4:.*]] = arith.constant dense<4> : vector<16xi8>
// CHECK-DAG: %[[EIGHT:.*]] = arith.constant dense<8> : vector<32xi8>
// CHECK-DAG: %[[IZERO:.*]] = arith.constant dense<0> : vector<8xi32>
// CHECK: scf.for %[[B:[a-z0-9_]+]] = {{.*}} -> (vector<8xf32>,
// CHECK-NOT: scf.for
/// Half 0 (shift 0, folded away) of the activation and each weight row, then
/// half 1 (shift 4), then each row's halves joined.
// CHECK: %[[A0:.*]] = vector.transfer_read %{{.*}}[%{{.*}}, %[[B]], %{{.*}}, %{{.*}}], {{.*}} : tensor<1x4x2x16xi8>, vector<16xi8>
// CHECK: %[[W0:.*]] = vector.transfer_read %{{.*}} : tensor<1x4x16xi8>, vector<16xi8>
// CHECK: %[[N0:.*]] = arith.andi %[[W0]], %{{.*}} : vector<16xi8>
// CHECK-NOT: arith.subi
// CHECK: %[[A1:.*]] = vector.transfer_read %{{.*}}[%{{.*}}, %[[B]], %{{.*}}, %{{.*}}], {{.*}} : tensor<1x4x2x16xi8>, vector<16xi8>
// CHECK: %[[W1:.*]] = vector.transfer_read %{{.*}} : tensor<1x4x16xi8>, vector<16xi8>
// CHECK: %[[S1:.*]] = arith.shrui %[[W1]], %[[SH4]] : vector<16xi8>
// CHECK: %[[N1:.*]] = arith.andi %[[S1]], %{{.*}} : vector<16xi8>
// CHECK: %[[A:.*]] = vector.shuffle %[[A0]], %[[A1]] [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31] : vector<16xi8>, vector<16xi8>
// CHECK: %[[W:.*]] = vector.shuffle %[[N0]], %[[N1]] [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31] : vector<16xi8>, vector<16xi8>
// CHECK-NOT: arith.xori
// CHECK: %[[SUMA:.*]] = smepilot.dot4_u8s8 %[[IZERO]], %[[EIGHT]], %[[A]] : vector<32xi8> into vector<8xi32>
// CHECK: %[[CORR:.*]] = arith.subi %[[IZERO]], %[[SUMA]] : vector<8xi32>
// CHECK: smepilot.dot4_u8s8 %[[CORR]], %[[W]], %[[A]] : vector<32xi8> into vector<8xi32>
// CHECK-NOT: linalg.generic
#xq4 = affine_map<(m, n, b, h, i) -> (m, b, h, i)>
#xd4 = affine_map<(m, n, b, h, i) -> (m, b)>
#q4 = affine_map<(m, n, b, h, i) -> (n, b, i)>
#sh4 = affine_map<(m, n, b, h, i) -> (h)>
#lo4 = affine_map<(m, n, b, h, i) -> (n, b, 0)>
#hi4 = affine_map<(m, n, b, h, i) -> (n, b, 1)>
#c4 = affine_map<(m, n, b, h, i) -> (m, n)>
func.func @q4_0_decode(%xq: tensor<1x4x2x16xi8>, %xd: tensor<1x4xf32>, %qs: tensor<16x4x16xi8>,
                       %sc: tensor<16x4x2xi8>, %init: tensor<1x16xf32>) -> tensor<1x16xf32> {
  %shifts = arith.constant dense<[0, 4]> : tensor<2xi8>
  %r = linalg.generic {indexing_maps = [#xq4, #xd4, #q4, #sh4, #lo4, #hi4, #c4],
                       iterator_types = ["parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%xq, %xd, %qs, %shifts, %sc, %sc : tensor<1x4x2x16xi8>, tensor<1x4xf32>, tensor<16x4x16xi8>, tensor<2xi8>, tensor<16x4x2xi8>, tensor<16x4x2xi8>)
      outs(%init : tensor<1x16xf32>) {
  ^bb0(%a: i8, %da: f32, %byte: i8, %shift: i8, %lo: i8, %hi: i8, %acc: f32):
    %eight = arith.constant 8 : i16
    %lo16 = arith.extui %lo : i8 to i16
    %hi16 = arith.extui %hi : i8 to i16
    %sh = arith.shli %hi16, %eight : i16
    %bits = arith.ori %sh, %lo16 : i16
    %h = arith.bitcast %bits : i16 to f16
    %d = arith.extf %h : f16 to f32
    %nib0 = arith.shrui %byte, %shift : i8
    %c15 = arith.constant 15 : i8
    %nib = arith.andi %nib0, %c15 : i8
    %c8 = arith.constant 8 : i8
    %cen = arith.subi %nib, %c8 : i8
    %qf = arith.sitofp %cen : i8 to f32
    %w = arith.mulf %qf, %d : f32
    %af = arith.sitofp %a : i8 to f32
    %x = arith.mulf %af, %da : f32
    %p = arith.mulf %x, %w : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x16xf32>
  return %r : tensor<1x16xf32>
}

// -----

/// Rows of a prompt chunk: the same form in 4x4 register blocks (the graph
/// builder emits it for single rows only, where it pays; the schedule takes
/// any M).
// REPORT: remark: smepilot-tile-cpu: dot-product schedule, register block 4x4, int8 dot products (vpdpbusd) on 32 bytes
// CHECK-LABEL: func.func @q8_0_rows(
// CHECK-COUNT-4: smepilot.dot4_u8s8 %{{.*}}, %{{.*}}, %{{.*}} : vector<32xi8> into vector<8xi32>
// CHECK-COUNT-16: smepilot.dot4_u8s8
// CHECK-COUNT-16: vector.fma
#xq = affine_map<(m, n, b, j) -> (m, b, j)>
#xd = affine_map<(m, n, b, j) -> (m, b)>
#q = affine_map<(m, n, b, j) -> (n, b, j)>
#lo = affine_map<(m, n, b, j) -> (n, b, 0)>
#hi = affine_map<(m, n, b, j) -> (n, b, 1)>
#c = affine_map<(m, n, b, j) -> (m, n)>
func.func @q8_0_rows(%xq: tensor<8x4x32xi8>, %xd: tensor<8x4xf32>, %qs: tensor<16x4x32xi8>,
                     %sc: tensor<16x4x2xi8>, %init: tensor<8x16xf32>) -> tensor<8x16xf32> {
  %r = linalg.generic {indexing_maps = [#xq, #xd, #q, #lo, #hi, #c],
                       iterator_types = ["parallel", "parallel", "reduction", "reduction"]}
      ins(%xq, %xd, %qs, %sc, %sc : tensor<8x4x32xi8>, tensor<8x4xf32>, tensor<16x4x32xi8>, tensor<16x4x2xi8>, tensor<16x4x2xi8>)
      outs(%init : tensor<8x16xf32>) {
  ^bb0(%a: i8, %da: f32, %q: i8, %lo: i8, %hi: i8, %acc: f32):
    %eight = arith.constant 8 : i16
    %lo16 = arith.extui %lo : i8 to i16
    %hi16 = arith.extui %hi : i8 to i16
    %sh = arith.shli %hi16, %eight : i16
    %bits = arith.ori %sh, %lo16 : i16
    %h = arith.bitcast %bits : i16 to f16
    %d = arith.extf %h : f16 to f32
    %qf = arith.sitofp %q : i8 to f32
    %w = arith.mulf %qf, %d : f32
    %af = arith.sitofp %a : i8 to f32
    %x = arith.mulf %af, %da : f32
    %p = arith.mulf %x, %w : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<8x16xf32>
  return %r : tensor<8x16xf32>
}

// -----

/// Not the int8 form: the weight's scale varies along k (a per-element
/// scale), so it cannot be taken out of the block's integer sum. The f32
/// schedule takes it.
// REPORT: remark: smepilot-tile-cpu: dot-product schedule, register block 1x1, 4 accumulator groups, k vectors of 16{{$}}
// CHECK-LABEL: func.func @scale_along_k(
// CHECK-NOT: smepilot.dot4_u8s8
// CHECK: vector.fma %{{.*}} : vector<16xf32>
#xq = affine_map<(m, n, b, j) -> (m, b, j)>
#xd = affine_map<(m, n, b, j) -> (m, b)>
#q = affine_map<(m, n, b, j) -> (n, b, j)>
#lo = affine_map<(m, n, b, j) -> (n, b, 0)>
#hi = affine_map<(m, n, b, j) -> (n, b, 1)>
#c = affine_map<(m, n, b, j) -> (m, n)>
#ks = affine_map<(m, n, b, j) -> (n, b, j)>
func.func @scale_along_k(%xq: tensor<1x4x32xi8>, %xd: tensor<1x4xf32>, %qs: tensor<16x4x32xi8>,
                         %ws: tensor<16x4x32xf32>, %init: tensor<1x16xf32>) -> tensor<1x16xf32> {
  %r = linalg.generic {indexing_maps = [#xq, #xd, #q, #ks, #c],
                       iterator_types = ["parallel", "parallel", "reduction", "reduction"]}
      ins(%xq, %xd, %qs, %ws : tensor<1x4x32xi8>, tensor<1x4xf32>, tensor<16x4x32xi8>, tensor<16x4x32xf32>)
      outs(%init : tensor<1x16xf32>) {
  ^bb0(%a: i8, %da: f32, %q: i8, %d: f32, %acc: f32):
    %qf = arith.sitofp %q : i8 to f32
    %w = arith.mulf %qf, %d : f32
    %af = arith.sitofp %a : i8 to f32
    %x = arith.mulf %af, %da : f32
    %p = arith.mulf %x, %w : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x16xf32>
  return %r : tensor<1x16xf32>
}

// -----

/// A weight quant `q - 8` whose q is not known to lie in [0, 127] (no mask)
/// is not vpdpbusd's unsigned operand as it is: it takes the offset of 128
/// (xor 0x80), the subtraction done in bytes first.
// CHECK-LABEL: func.func @offset_without_mask(
// CHECK: arith.subi %{{.*}}, %{{.*}} : vector<32xi8>
// CHECK: arith.xori %{{.*}}, %{{.*}} : vector<32xi8>
// CHECK: smepilot.dot4_u8s8
#xq = affine_map<(m, n, b, j) -> (m, b, j)>
#xd = affine_map<(m, n, b, j) -> (m, b)>
#q = affine_map<(m, n, b, j) -> (n, b, j)>
#sc = affine_map<(m, n, b, j) -> (n, b)>
#c = affine_map<(m, n, b, j) -> (m, n)>
func.func @offset_without_mask(%xq: tensor<1x4x32xi8>, %xd: tensor<1x4xf32>, %qs: tensor<16x4x32xi8>,
                               %ws: tensor<16x4xf32>, %init: tensor<1x16xf32>) -> tensor<1x16xf32> {
  %r = linalg.generic {indexing_maps = [#xq, #xd, #q, #sc, #c],
                       iterator_types = ["parallel", "parallel", "reduction", "reduction"]}
      ins(%xq, %xd, %qs, %ws : tensor<1x4x32xi8>, tensor<1x4xf32>, tensor<16x4x32xi8>, tensor<16x4xf32>)
      outs(%init : tensor<1x16xf32>) {
  ^bb0(%a: i8, %da: f32, %q: i8, %d: f32, %acc: f32):
    %c8 = arith.constant 8 : i8
    %qc = arith.subi %q, %c8 : i8
    %qf = arith.sitofp %qc : i8 to f32
    %w = arith.mulf %qf, %d : f32
    %af = arith.sitofp %a : i8 to f32
    %x = arith.mulf %af, %da : f32
    %p = arith.mulf %x, %w : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x16xf32>
  return %r : tensor<1x16xf32>
}
