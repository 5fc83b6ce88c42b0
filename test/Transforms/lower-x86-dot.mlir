// RUN: smepilot-opt %s -split-input-file -verify-diagnostics --smepilot-lower-x86-dot | FileCheck %s

/// smepilot.dot4_u8s8 becomes the vpdpbusd intrinsic of its width, with the
/// same operands (LLVM 22's form: i32 accumulator, i8 vector operands).
// CHECK-LABEL: func.func @widths(
// CHECK-SAME: %[[A4:[^:]+]]: vector<4xi32>, %[[U16:[^:]+]]: vector<16xi8>, %[[S16:[^:]+]]: vector<16xi8>, %[[A8:[^:]+]]: vector<8xi32>, %[[U32:[^:]+]]: vector<32xi8>, %[[S32:[^:]+]]: vector<32xi8>, %[[A16:[^:]+]]: vector<16xi32>, %[[U64:[^:]+]]: vector<64xi8>, %[[S64:[^:]+]]: vector<64xi8>
// CHECK: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.128"(%[[A4]], %[[U16]], %[[S16]]) : (vector<4xi32>, vector<16xi8>, vector<16xi8>) -> vector<4xi32>
// CHECK: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"(%[[A8]], %[[U32]], %[[S32]]) : (vector<8xi32>, vector<32xi8>, vector<32xi8>) -> vector<8xi32>
// CHECK: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%[[A16]], %[[U64]], %[[S64]]) : (vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
// CHECK-NOT: smepilot.dot4_u8s8
func.func @widths(%a4: vector<4xi32>, %u16: vector<16xi8>, %s16: vector<16xi8>,
                  %a8: vector<8xi32>, %u32: vector<32xi8>, %s32: vector<32xi8>,
                  %a16: vector<16xi32>, %u64: vector<64xi8>, %s64: vector<64xi8>)
    -> (vector<4xi32>, vector<8xi32>, vector<16xi32>) {
  %r4 = smepilot.dot4_u8s8 %a4, %u16, %s16 : vector<16xi8> into vector<4xi32>
  %r8 = smepilot.dot4_u8s8 %a8, %u32, %s32 : vector<32xi8> into vector<8xi32>
  %r16 = smepilot.dot4_u8s8 %a16, %u64, %s64 : vector<64xi8> into vector<16xi32>
  return %r4, %r8, %r16 : vector<4xi32>, vector<8xi32>, vector<16xi32>
}

// -----

func.func @bytes_per_lane(%a: vector<8xi32>, %u: vector<16xi8>, %s: vector<16xi8>) -> vector<8xi32> {
  // expected-error @+1 {{needs 4 bytes per i32 lane: 16 bytes for 8 lanes}}
  %r = smepilot.dot4_u8s8 %a, %u, %s : vector<16xi8> into vector<8xi32>
  return %r : vector<8xi32>
}

// -----

func.func @no_such_width(%a: vector<2xi32>, %u: vector<8xi8>, %s: vector<8xi8>) -> vector<2xi32> {
  // expected-error @+1 {{has 2 i32 lanes; vpdpbusd has 4, 8 or 16}}
  %r = smepilot.dot4_u8s8 %a, %u, %s : vector<8xi8> into vector<2xi32>
  return %r : vector<2xi32>
}
