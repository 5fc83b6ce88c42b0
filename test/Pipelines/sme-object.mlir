// RUN: smepilot-compile %s --all-contractions --target=sme-sve -o %t.sve.o
// RUN: llvm-objdump -dr --mattr=+sme,+sve,+bf16 %t.sve.o | FileCheck %s
// RUN: smepilot-compile %s --all-contractions --target=sme2-nosve -o %t.nosve.o
// RUN: llvm-objdump -dr --mattr=+sme2,+bf16 %t.nosve.o | FileCheck %s
// RUN: llvm-objdump -d --mattr=+sme2,+bf16 %t.nosve.o | %python %S/Inputs/check-streaming-regions.py | FileCheck %s --check-prefix=REGIONS-NOSVE
// RUN: llvm-objdump -d --mattr=+sme,+sve,+bf16 %t.sve.o | not %python %S/Inputs/check-streaming-regions.py | FileCheck %s --check-prefix=REGIONS-SVE
// RUN: llvm-objdump -d --mattr=+sme,+sve,+bf16 %t.sve.o | FileCheck %s --check-prefix=LOADS
// RUN: not smepilot-compile %s --target=sme9 -o %t.bad.o 2>&1 | FileCheck %s --check-prefix=BADTARGET
// Output files (docs/tools.md): never onto the input, never into a device
// or a directory; `-o -` is stdout, and a stdout that fails is an error.
// RUN: cp %s %t.in.mlir
// RUN: not smepilot-compile %t.in.mlir -o %t.in.mlir 2>&1 | FileCheck %s --check-prefix=INPUT
// RUN: diff %s %t.in.mlir
// RUN: not smepilot-compile %s -o /dev/null 2>&1 | FileCheck %s --check-prefix=DEVNULL
// RUN: rm -rf %t.dir && mkdir -p %t.dir
// RUN: not smepilot-compile %s -o %t.dir 2>&1 | FileCheck %s --check-prefix=DIR
// RUN: smepilot-compile %s --all-contractions --emit=llvm-mlir -o - | FileCheck %s --check-prefix=STDOUT
// RUN: not smepilot-compile %s --all-contractions -o - > /dev/full 2> %t.full.err
// RUN: FileCheck %s --check-prefix=FULL < %t.full.err

/// The emitted aarch64 objects. Each kernel saves a live lazy ZA state
/// (__arm_tpidr2_save), enters streaming mode with ZA, runs the outer
/// products on all four 32-bit ZA tiles and leaves both modes before it
/// returns; its caller (transposes, allocation) runs in normal mode.
///
/// For sme2-nosve (SME without plain SVE, Apple M4) nothing outside the
/// smstart..smstop regions may query the SVE vector length (cntd, rdvl: LLVM
/// emits those before smstart with +sve) or touch an SVE register: the
/// region checker finds no violation. The same checker run on the sme-sve
/// object reports the SVE predicate spills LLVM puts in the kernels'
/// prologue there, which shows that it detects SVE-only code.

/// Operand loads in the kernels are contiguous vector loads (ld1w / ld1h /
/// ld1b of z registers): no gather (vector-of-addresses form) and no scalar
/// FP or integer-element load feeds the outer products. (Reloads of 32-bit
/// values the register allocator spilled, `ldr wN, [sp, ...]`, are not
/// element loads: the strided arguments' offsets and strides keep more
/// scalars live around the tile loops.)
// LOADS-LABEL: <proj_f32_sme0>:
// LOADS-NOT: {{\[x[0-9]+, z[0-9]+}}
// LOADS-NOT: {{ldr[bh]? +[bhsdw][0-9]+, \[x}}
// LOADS: ld1w {{.*}}{ z{{[0-9]+}}.s }
// LOADS-NOT: {{\[x[0-9]+, z[0-9]+}}
// LOADS-NOT: {{ldr[bh]? +[bhsdw][0-9]+, \[x}}
// LOADS-LABEL: <proj_f32>:
///
/// The widening kernels read operands packed in k pairs (bf16, [K/2, N, 2])
/// or quadruples (i8, [K/4, N, 4]): each ld1h / ld1b is the operand of a
/// bfmopa / smopa as loaded, so no permute (zip, uzp, unpack) pairs up k
/// rows in registers anywhere in the kernel. The bf16 k loop is 4 ld1h, 4
/// bfmopa and the loop control (docs/sme-path.md shows it).
// LOADS-LABEL: <proj_bf16_sme0>:
// LOADS-NOT: {{\[x[0-9]+, z[0-9]+}}
// LOADS-NOT: {{ldr[bh]? +[bhsdw][0-9]+, \[x}}
// LOADS-NOT: {{zip[12]|uzp[12]|unpk}}
// LOADS: ld1h {{.*}}{ z{{[0-9]+}}.h }
// LOADS-NOT: {{\[x[0-9]+, z[0-9]+}}
// LOADS-NOT: {{ldr[bh]? +[bhsdw][0-9]+, \[x}}
// LOADS-NOT: {{zip[12]|uzp[12]|unpk}}
// LOADS-LABEL: <proj_bf16>:
// LOADS-LABEL: <proj_i8_sme0>:
// LOADS-NOT: {{\[x[0-9]+, z[0-9]+}}
// LOADS-NOT: {{ldr[bh]? +[bhsdw][0-9]+, \[x}}
// LOADS-NOT: {{zip[12]|uzp[12]|unpk}}
// LOADS: ld1b {{.*}}{ z{{[0-9]+}}.b }
// LOADS-NOT: {{\[x[0-9]+, z[0-9]+}}
// LOADS-NOT: {{ldr[bh]? +[bhsdw][0-9]+, \[x}}
// LOADS-NOT: {{zip[12]|uzp[12]|unpk}}
// LOADS-LABEL: <proj_i8>:

// BADTARGET: smepilot-compile: for the --target option: Cannot find option named 'sme9'!
// INPUT: smepilot-compile: error: '{{.*}}.in.mlir': is the input file {{.*}}.in.mlir; refusing to overwrite it
// DEVNULL: smepilot-compile: error: '/dev/null': is a character device, not a regular file
// DIR: smepilot-compile: error: '{{.*}}.dir': is a directory, not a regular file
// STDOUT: llvm.func
// FULL: smepilot-compile: error: cannot write to standard output: No space left on device

// REGIONS-NOSVE: streaming regions: 3, {{.*}} violations outside streaming mode: 0
// REGIONS-SVE: streaming regions: 3, {{.*}} violations outside streaming mode: {{[1-9][0-9]*}}
// REGIONS-SVE: violation: proj_f32_sme0+0x{{[0-9a-f]+}}: str p{{[0-9]+}}

// CHECK-LABEL: <proj_f32_sme0>:
// CHECK: mrs x{{[0-9]+}}, TPIDR2_EL0
// CHECK: R_AARCH64_CALL26 __arm_tpidr2_save
// CHECK: smstart za
// CHECK-NEXT: smstart sm
// CHECK-DAG: fmopa za0.s, p{{[0-9]+}}/m, p{{[0-9]+}}/m, z{{[0-9]+}}.s, z{{[0-9]+}}.s
// CHECK-DAG: fmopa za1.s
// CHECK-DAG: fmopa za2.s
// CHECK-DAG: fmopa za3.s
// CHECK: smstop sm
// CHECK: smstop za
// CHECK: ret
// CHECK-LABEL: <proj_f32>:
// CHECK-NOT: smstart
// CHECK: R_AARCH64_CALL26 proj_f32_sme0
// CHECK-NOT: smstart
// CHECK-LABEL: <_mlir_ciface_proj_f32>:
func.func @proj_f32(%a: tensor<?x?xf32>, %w: tensor<?x?xf32>, %c: tensor<?x?xf32>) -> tensor<?x?xf32> attributes {llvm.emit_c_interface} {
  %r = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         ins(%a, %w : tensor<?x?xf32>, tensor<?x?xf32>) outs(%c : tensor<?x?xf32>) -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}

// CHECK-LABEL: <proj_bf16_sme0>:
// CHECK: smstart sm
// CHECK-DAG: bfmopa za0.s, p{{[0-9]+}}/m, p{{[0-9]+}}/m, z{{[0-9]+}}.h, z{{[0-9]+}}.h
// CHECK-DAG: bfmopa za1.s
// CHECK-DAG: bfmopa za2.s
// CHECK-DAG: bfmopa za3.s
// CHECK: smstop sm
// CHECK-LABEL: <proj_bf16>:
func.func @proj_bf16(%a: tensor<?x64xbf16>, %w: tensor<?x64xbf16>, %c: tensor<?x?xf32>) -> tensor<?x?xf32> {
  %r = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         ins(%a, %w : tensor<?x64xbf16>, tensor<?x64xbf16>) outs(%c : tensor<?x?xf32>) -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}

// CHECK-LABEL: <proj_i8_sme0>:
// CHECK: smstart sm
// CHECK-DAG: smopa za0.s, p{{[0-9]+}}/m, p{{[0-9]+}}/m, z{{[0-9]+}}.b, z{{[0-9]+}}.b
// CHECK-DAG: smopa za1.s
// CHECK-DAG: smopa za2.s
// CHECK-DAG: smopa za3.s
// CHECK: smstop sm
// CHECK-LABEL: <proj_i8>:
func.func @proj_i8(%a: tensor<?x64xi8>, %w: tensor<?x64xi8>, %c: tensor<?x?xi32>) -> tensor<?x?xi32> {
  %r = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         ins(%a, %w : tensor<?x64xi8>, tensor<?x64xi8>) outs(%c : tensor<?x?xi32>) -> tensor<?x?xi32>
  return %r : tensor<?x?xi32>
}
