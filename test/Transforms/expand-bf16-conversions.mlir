// RUN: smepilot-opt %s --smepilot-expand-bf16-conversions --split-input-file | FileCheck %s

// f32 -> bf16 truncation becomes integer arithmetic on the bits: no
// arith.truncf is left for LLVM to turn into __truncsfbf2 calls.
// Round to nearest even: add 0x7fff plus the lowest kept bit, keep the
// high half; a NaN becomes the quiet NaN 0x7fc0 (32704).
// CHECK-LABEL: func.func @truncate_vector
// CHECK-NOT:     arith.truncf
// CHECK-DAG:     %[[ONE:.*]] = arith.constant dense<1> : vector<16xi32>
// CHECK-DAG:     %[[SIXTEEN:.*]] = arith.constant dense<16> : vector<16xi32>
// CHECK-DAG:     %[[QNAN:.*]] = arith.constant dense<32704> : vector<16xi16>
// CHECK-DAG:     %[[HALF:.*]] = arith.constant dense<32767> : vector<16xi32>
// CHECK:         %[[ISNAN:.*]] = arith.cmpf une, %[[X:.*]], %[[X]] : vector<16xf32>
// CHECK:         %[[BITS:.*]] = arith.bitcast %[[X]] : vector<16xf32> to vector<16xi32>
// CHECK:         %[[LSB:.*]] = arith.shrui %[[BITS]], %[[SIXTEEN]]
// CHECK:         %[[ODD:.*]] = arith.andi %[[LSB]], %[[ONE]]
// CHECK:         %[[BIAS:.*]] = arith.addi %[[ODD]], %[[HALF]]
// CHECK:         %[[SUM:.*]] = arith.addi %[[BITS]], %[[BIAS]]
// CHECK:         %[[HIGH:.*]] = arith.shrui %[[SUM]], %[[SIXTEEN]]
// CHECK:         %[[NARROW:.*]] = arith.trunci %[[HIGH]] : vector<16xi32> to vector<16xi16>
// CHECK:         %[[SEL:.*]] = arith.select %[[ISNAN]], %[[QNAN]], %[[NARROW]]
// CHECK:         arith.bitcast %[[SEL]] : vector<16xi16> to vector<16xbf16>
// CHECK-NOT:     arith.truncf
func.func @truncate_vector(%x: vector<16xf32>) -> vector<16xbf16> {
  %b = arith.truncf %x : vector<16xf32> to vector<16xbf16>
  return %b : vector<16xbf16>
}

// -----

// bf16 -> f32 extension: a 16-bit shift.
// CHECK-LABEL: func.func @extend_scalar
// CHECK-NOT:     arith.extf
// CHECK:         arith.bitcast %{{.*}} : bf16 to i16
// CHECK:         arith.extui %{{.*}} : i16 to i32
// CHECK:         arith.shli
// CHECK:         arith.bitcast %{{.*}} : i32 to f32
func.func @extend_scalar(%b: bf16) -> f32 {
  %x = arith.extf %b : bf16 to f32
  return %x : f32
}

// -----

// Nothing else of arith-expand: max stays one op, f16 conversions stay.
// CHECK-LABEL: func.func @others_untouched
// CHECK:         arith.maximumf
// CHECK:         arith.truncf %{{.*}} : f32 to f16
func.func @others_untouched(%a: f32, %b: f32) -> f16 {
  %m = arith.maximumf %a, %b : f32
  %h = arith.truncf %m : f32 to f16
  return %h : f16
}
