// RUN: smepilot-opt %s --smepilot-host-pipeline=stop-after=vectorize | FileCheck %s --check-prefix=VEC
// RUN: smepilot-opt %s --smepilot-host-pipeline=stop-after=approximate-math | FileCheck %s --check-prefix=MATH
// RUN: smepilot-opt %s --smepilot-host-pipeline | FileCheck %s --check-prefix=LLVM
// RUN: smepilot-opt %s --smepilot-host-pipeline=approximate-sin-cos=true | FileCheck %s --check-prefix=SINCOS

/// Normalization, activation and softmax: 16-lane vectors along the
/// innermost dimension, masked tails, polynomial exp (no libm call left).

/// RMSNorm: a row reduction with a loop-carried vector accumulator (the sum
/// of squares folds into a vector.contract), then an
/// elementwise scale with math.rsqrt (lowered to sqrt + divide, no call).
// VEC-LABEL: func.func @rmsnorm
// VEC: scf.for {{.*}} iter_args(%[[ACC:.*]] = %{{.*}}) -> (vector<1xf32>)
// VEC: %[[X:.*]] = vector.transfer_read {{.*}} : tensor<1x16xf32>, vector<1x16xf32>
// VEC: vector.contract {{.*}} %[[X]], %[[X]], %[[ACC]] : vector<1x16xf32>, vector<1x16xf32> into vector<1xf32>
// VEC: math.rsqrt {{.*}} : vector<1x16xf32>
// LLVM-LABEL: llvm.func @rmsnorm
// LLVM: llvm.intr.sqrt
// LLVM-NOT: llvm.call @{{(sqrtf|expf|powf)}}
// LLVM: llvm.return
func.func @rmsnorm(%x: tensor<4x64xf32>, %w: tensor<64xf32>) -> tensor<4x64xf32> {
  %z = arith.constant 0.0 : f32
  %n = arith.constant 64.0 : f32
  %eps = arith.constant 1.0e-5 : f32
  %e = tensor.empty() : tensor<4xf32>
  %acc = linalg.fill ins(%z : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  %ss = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>],
                        iterator_types = ["parallel", "reduction"]}
      ins(%x : tensor<4x64xf32>) outs(%acc : tensor<4xf32>) {
  ^bb0(%v: f32, %a: f32):
    %sq = arith.mulf %v, %v : f32
    %s = arith.addf %a, %sq : f32
    linalg.yield %s : f32
  } -> tensor<4xf32>
  %e2 = tensor.empty() : tensor<4x64xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>,
                                        affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%x, %ss, %w : tensor<4x64xf32>, tensor<4xf32>, tensor<64xf32>) outs(%e2 : tensor<4x64xf32>) {
  ^bb0(%v: f32, %s: f32, %g: f32, %o: f32):
    %m = arith.divf %s, %n : f32
    %me = arith.addf %m, %eps : f32
    %r = math.rsqrt %me : f32
    %t = arith.mulf %v, %r : f32
    %u = arith.mulf %t, %g : f32
    linalg.yield %u : f32
  } -> tensor<4x64xf32>
  return %y : tensor<4x64xf32>
}

/// linalg.softmax is decomposed (max, exp(x - max), sum, divide); the odd
/// row length 37 gives masked tails; exp becomes a polynomial.
// VEC-LABEL: func.func @softmax
// VEC-NOT: linalg.softmax
// VEC: vector.multi_reduction <maxnumf>
// VEC: math.exp {{.*}} : vector<1x16xf32>
// VEC: vector.multi_reduction <add>
// VEC: arith.divf {{.*}} : vector<1x16xf32>
// MATH-LABEL: func.func @softmax
// MATH-NOT: math.exp
// MATH: return
// LLVM-LABEL: llvm.func @softmax
// LLVM-NOT: llvm.intr.exp
// LLVM-NOT: llvm.call @expf
// LLVM: llvm.intr.masked.load {{.*}} -> vector<16xf32>
// LLVM-NOT: llvm.intr.exp
// LLVM: llvm.return
func.func @softmax(%x: tensor<3x37xf32>) -> tensor<3x37xf32> {
  %e = tensor.empty() : tensor<3x37xf32>
  %r = linalg.softmax dimension(1) ins(%x : tensor<3x37xf32>) outs(%e : tensor<3x37xf32>) -> tensor<3x37xf32>
  return %r : tensor<3x37xf32>
}

/// SwiGLU: silu(gate) * up in one generic, exp approximated.
// VEC-LABEL: func.func @swiglu
// VEC: math.exp {{.*}} : vector<1x16xf32>
// MATH-LABEL: func.func @swiglu
// MATH-NOT: math.exp
// MATH: return
// LLVM-LABEL: llvm.func @swiglu
// LLVM-NOT: llvm.intr.exp
// LLVM-NOT: llvm.call @expf
// LLVM: llvm.return
func.func @swiglu(%g: tensor<5x33xf32>, %u: tensor<5x33xf32>) -> tensor<5x33xf32> {
  %one = arith.constant 1.0 : f32
  %e = tensor.empty() : tensor<5x33xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>,
                                        affine_map<(i, j) -> (i, j)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%g, %u : tensor<5x33xf32>, tensor<5x33xf32>) outs(%e : tensor<5x33xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %n = arith.negf %a : f32
    %x = math.exp %n : f32
    %d = arith.addf %one, %x : f32
    %s = arith.divf %a, %d : f32
    %p = arith.mulf %s, %b : f32
    linalg.yield %p : f32
  } -> tensor<5x33xf32>
  return %r : tensor<5x33xf32>
}

/// RoPE-like generic (linalg.index, tensor.extract of the paired element,
/// cos/sin of position * frequency): vectorized with a gather. cos/sin stay
/// llvm.intr.cos/sin (sinf/cosf calls after LLVM codegen) unless
/// approximate-sin-cos is set.
// VEC-LABEL: func.func @rope
// VEC: vector.gather
// VEC: math.cos {{.*}} : vector<1x1x8xf32>
// MATH-LABEL: func.func @rope
// MATH-NOT: math.exp
// MATH: math.cos
// MATH: math.sin
// LLVM-LABEL: llvm.func @rope
// LLVM: llvm.intr.masked.gather
// LLVM: llvm.intr.cos
// LLVM: llvm.intr.sin
// SINCOS-LABEL: llvm.func @rope
// SINCOS-NOT: llvm.intr.cos
// SINCOS-NOT: llvm.intr.sin
// SINCOS: llvm.return
func.func @rope(%x: tensor<4x2x8xf32>, %pos: index) -> tensor<4x2x8xf32> {
  %e = tensor.empty() : tensor<4x2x8xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(t, h, d) -> (t, h, d)>],
                       iterator_types = ["parallel", "parallel", "parallel"]}
      outs(%e : tensor<4x2x8xf32>) {
  ^bb0(%o: f32):
    %t = linalg.index 0 : index
    %h = linalg.index 1 : index
    %d = linalg.index 2 : index
    %p = arith.addi %t, %pos : index
    %c1 = arith.constant 1 : index
    %pair = arith.xori %d, %c1 : index
    %xi = tensor.extract %x[%t, %h, %d] : tensor<4x2x8xf32>
    %xp = tensor.extract %x[%t, %h, %pair] : tensor<4x2x8xf32>
    %half = arith.shrui %d, %c1 : index
    %hi = arith.index_cast %half : index to i64
    %hf = arith.sitofp %hi : i64 to f32
    %pi = arith.index_cast %p : index to i64
    %pf = arith.sitofp %pi : i64 to f32
    %scale = arith.constant -0.5 : f32
    %ex = arith.mulf %hf, %scale : f32
    %freq = math.exp %ex : f32
    %ang = arith.mulf %pf, %freq : f32
    %c = math.cos %ang : f32
    %s = math.sin %ang : f32
    %odd = arith.andi %d, %c1 : index
    %c0 = arith.constant 0 : index
    %isodd = arith.cmpi ne, %odd, %c0 : index
    %a = arith.mulf %xi, %c : f32
    %b = arith.mulf %xp, %s : f32
    %even_v = arith.subf %a, %b : f32
    %odd_v = arith.addf %a, %b : f32
    %v = arith.select %isodd, %odd_v, %even_v : f32
    linalg.yield %v : f32
  } -> tensor<4x2x8xf32>
  return %r : tensor<4x2x8xf32>
}

/// Embedding lookup: a gather through tensor.extract with a data-dependent
/// row, vectorized to vector.gather (masked for the 20 = 16 + 4 tail).
// VEC-LABEL: func.func @embed
// VEC: vector.gather {{.*}} : tensor<50x20xf32>, vector<1x16xindex>, vector<1x16xi1>, vector<1x16xf32> into vector<1x16xf32>
// LLVM-LABEL: llvm.func @embed
// LLVM: llvm.intr.masked.gather
func.func @embed(%tokens: tensor<3xi32>, %table: tensor<50x20xf32>) -> tensor<3x20xf32> {
  %e = tensor.empty() : tensor<3x20xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i)>, affine_map<(i, j) -> (i, j)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%tokens : tensor<3xi32>) outs(%e : tensor<3x20xf32>) {
  ^bb0(%t: i32, %o: f32):
    %row = arith.index_cast %t : i32 to index
    %col = linalg.index 1 : index
    %v = tensor.extract %table[%row, %col] : tensor<50x20xf32>
    linalg.yield %v : f32
  } -> tensor<3x20xf32>
  return %r : tensor<3x20xf32>
}
