// RUN: smepilot-opt %s --smepilot-host-pipeline \
// RUN:   | mlir-translate --allow-unregistered-dialect --mlir-to-llvmir \
// RUN:   | llc -O3 -mtriple=x86_64-unknown-linux-gnu -mcpu=znver5 \
// RUN:   | FileCheck %s

/// The x86 code of projections by typed weights (the graph builder's forms;
/// see test/Transforms/tile-cpu-typed-weights.mlir for the vector IR), on a
/// pinned CPU (AVX-512, F16C): the weight's own bytes are loaded and widened
/// in registers.

/// Q8_0: the int8 quants are sign-extended from memory to 16 dwords and
/// converted to f32; a block's f16 scale (its two bytes) is converted once,
/// as a scalar, and broadcast; then FMAs into the accumulators.
// CHECK-LABEL: q8_0_decode:
// CHECK-DAG: vpmovsxbd {{.*}}, %zmm{{[0-9]+}}
// CHECK-DAG: vcvtph2ps %xmm{{[0-9]+}}, %xmm{{[0-9]+}}
// CHECK-DAG: vbroadcastss %xmm{{[0-9]+}}, %zmm{{[0-9]+}}
// CHECK-DAG: vcvtdq2ps %zmm{{[0-9]+}}, %zmm{{[0-9]+}}
// CHECK-DAG: vfmadd{{(132|213|231)}}ps {{.*}}%zmm{{[0-9]+}}
// CHECK-NOT: call
// CHECK: .size q8_0_decode

/// BF16: 16 bf16 weights zero-extended to dwords and shifted into the high
/// half (a bf16 is the top of an f32).
// CHECK-LABEL: bf16_decode:
// CHECK-DAG: vpmovzxwd {{.*}}, %zmm{{[0-9]+}}
// CHECK-DAG: vpslld $16, %zmm{{[0-9]+}}, %zmm{{[0-9]+}}
// CHECK-DAG: vfmadd{{(132|213|231)}}ps {{.*}}%zmm{{[0-9]+}}
// CHECK-NOT: call
// CHECK: .size bf16_decode

/// F16: converted by vcvtph2ps from memory.
// CHECK-LABEL: f16_decode:
// CHECK-DAG: vcvtph2ps {{.*}}, %zmm{{[0-9]+}}
// CHECK-DAG: vfmadd{{(132|213|231)}}ps {{.*}}%zmm{{[0-9]+}}
// CHECK-NOT: call
// CHECK: .size f16_decode

/// Q4_0: 16 bytes of nibble pairs, shifted by 0 or 4, masked, centered by 8,
/// sign-extended and converted.
// CHECK-LABEL: q4_0_decode:
// CHECK-DAG: vpmovsxbd {{.*}}, %zmm{{[0-9]+}}
// CHECK-DAG: vcvtdq2ps %zmm{{[0-9]+}}, %zmm{{[0-9]+}}
// CHECK-DAG: vfmadd{{(132|213|231)}}ps {{.*}}%zmm{{[0-9]+}}
// CHECK-NOT: call
// CHECK: .size q4_0_decode

#x = affine_map<(m, n, b, j) -> (m, b, j)>
#q = affine_map<(m, n, b, j) -> (n, b, j)>
#lo = affine_map<(m, n, b, j) -> (n, b, 0)>
#hi = affine_map<(m, n, b, j) -> (n, b, 1)>
#c = affine_map<(m, n, b, j) -> (m, n)>
func.func @q8_0_decode(%x: tensor<1x4x32xf32>, %qs: tensor<16x4x32xi8>, %sc: tensor<16x4x2xi8>,
                       %init: tensor<1x16xf32>) -> tensor<1x16xf32> {
  %r = linalg.generic {indexing_maps = [#x, #q, #lo, #hi, #c],
                       iterator_types = ["parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %qs, %sc, %sc : tensor<1x4x32xf32>, tensor<16x4x32xi8>, tensor<16x4x2xi8>, tensor<16x4x2xi8>)
      outs(%init : tensor<1x16xf32>) {
  ^bb0(%xv: f32, %q: i8, %lo: i8, %hi: i8, %acc: f32):
    %eight = arith.constant 8 : i16
    %lo16 = arith.extui %lo : i8 to i16
    %hi16 = arith.extui %hi : i8 to i16
    %sh = arith.shli %hi16, %eight : i16
    %bits = arith.ori %sh, %lo16 : i16
    %h = arith.bitcast %bits : i16 to f16
    %d = arith.extf %h : f16 to f32
    %qf = arith.sitofp %q : i8 to f32
    %w = arith.mulf %qf, %d : f32
    %p = arith.mulf %xv, %w : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x16xf32>
  return %r : tensor<1x16xf32>
}
#m2 = affine_map<(m, n, k) -> (m, k)>
#n2 = affine_map<(m, n, k) -> (n, k)>
#o2 = affine_map<(m, n, k) -> (m, n)>
func.func @bf16_decode(%x: tensor<1x64xf32>, %w: tensor<32x64xbf16>, %init: tensor<1x32xf32>) -> tensor<1x32xf32> {
  %r = linalg.generic {indexing_maps = [#m2, #n2, #o2], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<1x64xf32>, tensor<32x64xbf16>) outs(%init : tensor<1x32xf32>) {
  ^bb0(%a: f32, %b: bf16, %acc: f32):
    %bf = arith.extf %b : bf16 to f32
    %p = arith.mulf %a, %bf : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x32xf32>
  return %r : tensor<1x32xf32>
}
func.func @f16_decode(%x: tensor<1x64xf32>, %w: tensor<32x64xf16>, %init: tensor<1x32xf32>) -> tensor<1x32xf32> {
  %r = linalg.generic {indexing_maps = [#m2, #n2, #o2], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<1x64xf32>, tensor<32x64xf16>) outs(%init : tensor<1x32xf32>) {
  ^bb0(%a: f32, %b: f16, %acc: f32):
    %bf = arith.extf %b : f16 to f32
    %p = arith.mulf %a, %bf : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x32xf32>
  return %r : tensor<1x32xf32>
}
#x4 = affine_map<(m, n, b, h, i) -> (m, b, h, i)>
#q4 = affine_map<(m, n, b, h, i) -> (n, b, i)>
#s4 = affine_map<(m, n, b, h, i) -> (h)>
#lo4 = affine_map<(m, n, b, h, i) -> (n, b, 0)>
#hi4 = affine_map<(m, n, b, h, i) -> (n, b, 1)>
#c4 = affine_map<(m, n, b, h, i) -> (m, n)>
func.func @q4_0_decode(%x: tensor<1x2x2x16xf32>, %qs: tensor<16x2x16xi8>, %sc: tensor<16x2x2xi8>,
                       %init: tensor<1x16xf32>) -> tensor<1x16xf32> {
  %shifts = arith.constant dense<[0, 4]> : tensor<2xi8>
  %r = linalg.generic {indexing_maps = [#x4, #q4, #s4, #lo4, #hi4, #c4],
                       iterator_types = ["parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%x, %qs, %shifts, %sc, %sc : tensor<1x2x2x16xf32>, tensor<16x2x16xi8>, tensor<2xi8>, tensor<16x2x2xi8>, tensor<16x2x2xi8>)
      outs(%init : tensor<1x16xf32>) {
  ^bb0(%xv: f32, %byte: i8, %shift: i8, %lo: i8, %hi: i8, %acc: f32):
    %eight = arith.constant 8 : i16
    %lo16 = arith.extui %lo : i8 to i16
    %hi16 = arith.extui %hi : i8 to i16
    %sh = arith.shli %hi16, %eight : i16
    %bits = arith.ori %sh, %lo16 : i16
    %h = arith.bitcast %bits : i16 to f16
    %d = arith.extf %h : f16 to f32
    %fifteen = arith.constant 15 : i8
    %eight8 = arith.constant 8 : i8
    %nib = arith.shrui %byte, %shift : i8
    %m = arith.andi %nib, %fifteen : i8
    %c = arith.subi %m, %eight8 : i8
    %qf = arith.sitofp %c : i8 to f32
    %w = arith.mulf %qf, %d : f32
    %p = arith.mulf %xv, %w : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x16xf32>
  return %r : tensor<1x16xf32>
}
