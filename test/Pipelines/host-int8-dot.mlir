// RUN: smepilot-opt %s --smepilot-host-pipeline="int8-dot=true" \
// RUN:   | mlir-translate --allow-unregistered-dialect --mlir-to-llvmir \
// RUN:   | llc -O3 -mtriple=x86_64-unknown-linux-gnu -mcpu=znver5 \
// RUN:   | FileCheck %s
// RUN: smepilot-opt %s --smepilot-host-pipeline \
// RUN:   | mlir-translate --allow-unregistered-dialect --mlir-to-llvmir \
// RUN:   | llc -O3 -mtriple=x86_64-unknown-linux-gnu -mcpu=znver5 \
// RUN:   | FileCheck %s --check-prefix=OFF

/// The x86 code of int8 dot contractions (Q8_0/Q4_0 weights by activations
/// rounded to Q8_0; the vector IR is in test/Transforms/tile-cpu-int8-dot.mlir)
/// on a pinned CPU with AVX512-VNNI and VL: per block and output one 256-bit
/// vpdpbusd of the weight's quants xor 0x80 by the activation's, started at
/// minus 128 * the activation's sum (one more vpdpbusd by a splat 0x80 per
/// row), then one conversion and one FMA by the product of the two scales.

// CHECK-LABEL: q8_0_decode:
// CHECK-DAG: vpxor {{.*}}, %ymm{{[0-9]+}}
// CHECK-DAG: vpdpbusd %ymm{{[0-9]+}}, %ymm{{[0-9]+}}, %ymm{{[0-9]+}}
// CHECK-DAG: vpsubd %ymm{{[0-9]+}}, %ymm{{[0-9]+}}, %ymm{{[0-9]+}}
// CHECK-DAG: vcvtdq2ps %ymm{{[0-9]+}}, %ymm{{[0-9]+}}
// CHECK-DAG: vcvtph2ps %xmm{{[0-9]+}}, %xmm{{[0-9]+}}
// CHECK-DAG: vfmadd{{(132|213|231)}}ps %ymm{{[0-9]+}}, %ymm{{[0-9]+}}, %ymm{{[0-9]+}}
// CHECK-NOT: call
// CHECK: .size q8_0_decode
// OFF-LABEL: q8_0_decode:
// OFF-NOT: vpdpbusd
// OFF: .size q8_0_decode

/// Q4_0: the two 16-byte halves of nibbles (shift, mask, minus 8) are joined
/// into one ymm (vinserti32x4; the activation's halves are adjacent in
/// memory: one 32-byte load); one vpdpbusd per block.
// CHECK-LABEL: q4_0_decode:
// CHECK-DAG: vinserti{{(128|32x4)}} $1, %xmm{{[0-9]+}}, %ymm{{[0-9]+}}, %ymm{{[0-9]+}}
// CHECK-DAG: vpdpbusd %ymm{{[0-9]+}}, %ymm{{[0-9]+}}, %ymm{{[0-9]+}}
// CHECK-DAG: vcvtdq2ps %ymm{{[0-9]+}}, %ymm{{[0-9]+}}
// CHECK-DAG: vfmadd{{(132|213|231)}}ps %ymm{{[0-9]+}}, %ymm{{[0-9]+}}, %ymm{{[0-9]+}}
// CHECK-NOT: call
// CHECK: .size q4_0_decode
// OFF-LABEL: q4_0_decode:
// OFF-NOT: vpdpbusd
// OFF: .size q4_0_decode

#xq = affine_map<(m, n, b, j) -> (m, b, j)>
#xd = affine_map<(m, n, b, j) -> (m, b)>
#q = affine_map<(m, n, b, j) -> (n, b, j)>
#lo = affine_map<(m, n, b, j) -> (n, b, 0)>
#hi = affine_map<(m, n, b, j) -> (n, b, 1)>
#c = affine_map<(m, n, b, j) -> (m, n)>
func.func @q8_0_decode(%xq: tensor<1x4x32xi8>, %xd: tensor<1x4xf32>, %qs: tensor<16x4x32xi8>,
                       %sc: tensor<16x4x2xi8>, %init: tensor<1x16xf32>) -> tensor<1x16xf32> {
  %r = linalg.generic {indexing_maps = [#xq, #xd, #q, #lo, #hi, #c],
                       iterator_types = ["parallel", "parallel", "reduction", "reduction"]}
      ins(%xq, %xd, %qs, %sc, %sc : tensor<1x4x32xi8>, tensor<1x4xf32>, tensor<16x4x32xi8>, tensor<16x4x2xi8>, tensor<16x4x2xi8>)
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

