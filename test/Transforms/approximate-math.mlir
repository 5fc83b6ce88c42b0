// RUN: smepilot-opt %s --pass-pipeline="builtin.module(func.func(smepilot-approximate-math))" | FileCheck %s
// RUN: smepilot-opt %s --pass-pipeline="builtin.module(func.func(smepilot-approximate-math{sin-cos=true}))" | FileCheck %s --check-prefix=SINCOS

/// exp on a scalar: range reduction (x = n ln2 + r), a polynomial in r
/// evaluated with math.fma, and 2^n built from the exponent bits. No libm
/// call is left.
// CHECK-LABEL: func.func @exp_scalar(
// CHECK-SAME: %[[X:.*]]: f32) -> f32
// CHECK-NOT: math.exp
// CHECK: arith.cmpf uge, %[[X]], %{{.*}} : f32
// CHECK: math.floor %{{.*}} : f32
// CHECK: math.fma
// CHECK: arith.fptosi %{{.*}} : f32 to i32
// CHECK: %[[E:.*]] = arith.shli %{{.*}}, %{{.*}} : i32
// CHECK: %[[POW2:.*]] = arith.bitcast %[[E]] : i32 to f32
// CHECK: %[[R:.*]] = arith.mulf %{{.*}}, %[[POW2]] : f32
// CHECK-NOT: math.exp
// CHECK: return %[[R]] : f32
func.func @exp_scalar(%x: f32) -> f32 {
  %r = math.exp %x : f32
  return %r : f32
}

/// tanh on a 16-lane vector: a rational approximation (two polynomials and
/// a division), lane-wise.
// CHECK-LABEL: func.func @tanh_vector(
// CHECK-NOT: math.tanh
// CHECK: math.absf %{{.*}} : vector<16xf32>
// CHECK: math.fma {{.*}} : vector<16xf32>
// CHECK: arith.divf {{.*}} : vector<16xf32>
// CHECK-NOT: math.tanh
// CHECK: return
func.func @tanh_vector(%x: vector<16xf32>) -> vector<16xf32> {
  %r = math.tanh %x : vector<16xf32>
  return %r : vector<16xf32>
}

/// f16 math is computed in f32: extended, approximated, truncated.
// CHECK-LABEL: func.func @exp_f16(
// CHECK-SAME: %[[X:.*]]: vector<8xf16>)
// CHECK: %[[WIDE:.*]] = arith.extf %[[X]] : vector<8xf16> to vector<8xf32>
// CHECK-NOT: math.exp
// CHECK: arith.cmpf uge, %[[WIDE]], %{{.*}} : vector<8xf32>
// CHECK: math.fma {{.*}} : vector<8xf32>
// CHECK: %[[NARROW:.*]] = arith.truncf %{{.*}} : vector<8xf32> to vector<8xf16>
// CHECK: return %[[NARROW]]
func.func @exp_f16(%x: vector<8xf16>) -> vector<8xf16> {
  %r = math.exp %x : vector<8xf16>
  return %r : vector<8xf16>
}

/// Composite functions are first expanded into primitives, which are then
/// approximated: sinh(x) = (exp(x) - exp(-x)) / 2 gives two exp
/// approximations (two range reductions).
// CHECK-LABEL: func.func @sinh(
// CHECK-NOT: math.sinh
// CHECK-NOT: math.exp
// CHECK: math.floor
// CHECK: math.floor
// CHECK-NOT: math.exp
// CHECK: return
func.func @sinh(%x: f32) -> f32 {
  %r = math.sinh %x : f32
  return %r : f32
}

/// Scalable vectors (a dynamic number of lanes) are approximated like fixed
/// ones.
// CHECK-LABEL: func.func @exp_scalable(
// CHECK-NOT: math.exp
// CHECK: math.fma {{.*}} : vector<[4]xf32>
// CHECK: arith.bitcast %{{.*}} : vector<[4]xi32> to vector<[4]xf32>
// CHECK-NOT: math.exp
// CHECK: return
func.func @exp_scalable(%x: vector<[4]xf32>) -> vector<[4]xf32> {
  %r = math.exp %x : vector<[4]xf32>
  return %r : vector<[4]xf32>
}

/// And so are 0-d vectors.
// CHECK-LABEL: func.func @exp_0d(
// CHECK-NOT: math.exp
// CHECK: math.fma {{.*}} : vector<f32>
// CHECK: return
func.func @exp_0d(%x: vector<f32>) -> vector<f32> {
  %r = math.exp %x : vector<f32>
  return %r : vector<f32>
}

/// sin and cos stay libm calls unless sin-cos is set (their range reduction
/// loses accuracy for the large angles of RoPE).
// CHECK-LABEL: func.func @sin_cos(
// CHECK: math.sin %{{.*}} : vector<4xf32>
// CHECK: math.cos %{{.*}} : vector<4xf32>
// SINCOS-LABEL: func.func @sin_cos(
// SINCOS-NOT: math.sin
// SINCOS-NOT: math.cos
// SINCOS: math.floor {{.*}} : vector<4xf32>
// SINCOS-NOT: math.sin
// SINCOS-NOT: math.cos
// SINCOS: return
func.func @sin_cos(%x: vector<4xf32>) -> (vector<4xf32>, vector<4xf32>) {
  %s = math.sin %x : vector<4xf32>
  %c = math.cos %x : vector<4xf32>
  return %s, %c : vector<4xf32>, vector<4xf32>
}

/// Left alone: sqrt and rsqrt (they lower to the sqrt instruction), and f64
/// math (no f64 approximation: a libm call).
// CHECK-LABEL: func.func @not_approximated(
// CHECK-NEXT: math.sqrt %{{.*}} : vector<4xf32>
// CHECK-NEXT: math.rsqrt %{{.*}} : vector<4xf32>
// CHECK-NEXT: math.exp %{{.*}} : f64
// CHECK-NEXT: return
func.func @not_approximated(%x: vector<4xf32>, %d: f64) -> (vector<4xf32>, vector<4xf32>, f64) {
  %s = math.sqrt %x : vector<4xf32>
  %r = math.rsqrt %x : vector<4xf32>
  %e = math.exp %d : f64
  return %s, %r, %e : vector<4xf32>, vector<4xf32>, f64
}
