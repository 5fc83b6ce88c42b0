// RUN: smepilot-opt %s --smepilot-form-dispatches --smepilot-hoist-load-time -split-input-file -verify-diagnostics | FileCheck %s
// RUN: smepilot-opt %s --smepilot-form-dispatches -split-input-file -verify-diagnostics | FileCheck %s --check-prefix=OFF

/// Work on weights alone moves into the load table. Both phases transpose
/// the weight %w into a K-major temporary and pass it to an SME kernel
/// (smepilot-tile-sme's shape of a projection). The transpose reads only a
/// weight and writes a fixed-size temporary nothing else writes: a load-time
/// dispatch. The two phases' transposes are the same kernel on the same
/// weight, so the load table holds it once. Its result is a packed buffer,
/// "pack0(w)": written by the load table, an argument of each phase, which
/// no longer binds "w" itself (only load-time work read it). The call's
/// bindings come from what the callee does: it reads A and B, reads and
/// writes C.
// CHECK-LABEL: smepilot.dispatch_table @c1
// CHECK-SAME: buffers = [#smepilot.buffer<name = "x", size = <64>>,
// CHECK-SAME: #smepilot.buffer<name = "out", size = <16>>,
// CHECK-SAME: #smepilot.buffer<name = "pack0(w)", size = <256>, alignment = 64>]
// CHECK-SAME: dispatches = [#smepilot.dispatch<name = "c1_d0:linalg.fill", kernel = 0, tiles = <1>, bindings = [<1, write>], deps = []>,
// CHECK-SAME: #smepilot.dispatch<name = "c1_d2:func.call", kernel = 1, sme_kernel = 1, mode = sme, tiles = <1>, bindings = [<0, read>, <2, read>, <1, read|write>], deps = [0]>]
// CHECK-SAME: n_arguments = 3 : i64, n_constants = 1 : i64
// CHECK-LABEL: smepilot.dispatch_table @c4
// CHECK-SAME: name = "pack0(w)"
// CHECK-SAME: n_arguments = 3 : i64
// CHECK-LABEL: smepilot.dispatch_table @load
// CHECK-SAME: buffers = [#smepilot.buffer<name = "w", size = <256>, weight = true>,
// CHECK-SAME: #smepilot.buffer<name = "pack0(w)", size = <256>, alignment = 64>]
// CHECK-SAME: dispatches = [#smepilot.dispatch<name = "load_d0:linalg.transpose", kernel = 0, tiles = <1>, bindings = [<0, read>, <1, write>], deps = []>]
// CHECK-SAME: kernels = [@c1_k1], n_arguments = 2 : i64, n_constants = 0 : i64, smepilot.load}
// CHECK-NOT: func.func @c4_k1(
// OFF-NOT: smepilot.dispatch_table @load
// OFF: smepilot.dispatch_table @c1
// OFF-SAME: name = "w"
// OFF-SAME: name = "c1_d1:linalg.transpose"
func.func private @mm(%a: memref<1x16xf32>, %b: memref<16x4xf32>, %c: memref<1x4xf32>)
    attributes {smepilot.sme_kernel} {
  linalg.matmul ins(%a, %b : memref<1x16xf32>, memref<16x4xf32>)
                outs(%c : memref<1x4xf32>)
  return
}
func.func @c1(%x: memref<1x16xf32> {smepilot.name = "x"}, %pos: index,
              %w: memref<4x16xf32> {smepilot.name = "w", smepilot.weight},
              %out: memref<1x4xf32> {smepilot.name = "out"})
    attributes {smepilot.phase = "c1"} {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%out : memref<1x4xf32>)
  %wt = memref.alloc() {alignment = 64 : i64} : memref<16x4xf32>
  linalg.transpose ins(%w : memref<4x16xf32>) outs(%wt : memref<16x4xf32>) permutation = [1, 0]
  call @mm(%x, %wt, %out) : (memref<1x16xf32>, memref<16x4xf32>, memref<1x4xf32>) -> ()
  memref.dealloc %wt : memref<16x4xf32>
  return
}
func.func @c4(%x: memref<1x16xf32> {smepilot.name = "x"}, %pos: index,
              %w: memref<4x16xf32> {smepilot.name = "w", smepilot.weight},
              %out: memref<1x4xf32> {smepilot.name = "out"})
    attributes {smepilot.phase = "c4"} {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%out : memref<1x4xf32>)
  %wt = memref.alloc() {alignment = 64 : i64} : memref<16x4xf32>
  linalg.transpose ins(%w : memref<4x16xf32>) outs(%wt : memref<16x4xf32>) permutation = [1, 0]
  call @mm(%x, %wt, %out) : (memref<1x16xf32>, memref<16x4xf32>, memref<1x4xf32>) -> ()
  return
}

// -----

/// What stays in the phase. Each of these transposes reads only a buffer
/// and writes a temporary, but:
///   d0 reads a weight at the position (constant 0): not the same every run;
///   d1 reads %x, which is not a weight;
///   d2 reads %v, marked a weight but written by d3: not fixed;
///   d4 writes %t, which the phase's d5 also writes.
/// So there is no load table, and every argument stays.
// CHECK-LABEL: smepilot.dispatch_table @keep
// CHECK-SAME: name = "w"
// CHECK-SAME: name = "v"
// CHECK-SAME: name = "keep_d0:memref.copy"
// CHECK-SAME: name = "keep_d1:linalg.transpose"
// CHECK-SAME: name = "keep_d2:linalg.transpose"
// CHECK-SAME: name = "keep_d4:linalg.transpose"
// CHECK-NOT: smepilot.dispatch_table @load
func.func @keep(%x: memref<4x4xf32> {smepilot.name = "x"}, %pos: index,
                %w: memref<8x4xf32> {smepilot.name = "w", smepilot.weight},
                %v: memref<4x4xf32> {smepilot.name = "v", smepilot.weight},
                %out: memref<4x4xf32> {smepilot.name = "out"})
    attributes {smepilot.phase = "keep"} {
  %row = memref.alloc() {alignment = 64 : i64} : memref<1x4xf32>
  %s = memref.subview %w[%pos, 0] [1, 4] [1, 1] : memref<8x4xf32> to memref<1x4xf32, strided<[4, 1], offset: ?>>
  memref.copy %s, %row : memref<1x4xf32, strided<[4, 1], offset: ?>> to memref<1x4xf32>
  %xt = memref.alloc() {alignment = 64 : i64} : memref<4x4xf32>
  linalg.transpose ins(%x : memref<4x4xf32>) outs(%xt : memref<4x4xf32>) permutation = [1, 0]
  %vt = memref.alloc() {alignment = 64 : i64} : memref<4x4xf32>
  linalg.transpose ins(%v : memref<4x4xf32>) outs(%vt : memref<4x4xf32>) permutation = [1, 0]
  linalg.copy ins(%xt : memref<4x4xf32>) outs(%v : memref<4x4xf32>)
  %t = memref.alloc() {alignment = 64 : i64} : memref<4x4xf32>
  %w4 = memref.subview %w[0, 0] [4, 4] [1, 1] : memref<8x4xf32> to memref<4x4xf32, strided<[4, 1]>>
  linalg.transpose ins(%w4 : memref<4x4xf32, strided<[4, 1]>>) outs(%t : memref<4x4xf32>) permutation = [1, 0]
  linalg.add ins(%t, %vt : memref<4x4xf32>, memref<4x4xf32>) outs(%t : memref<4x4xf32>)
  linalg.add ins(%t, %xt : memref<4x4xf32>, memref<4x4xf32>) outs(%out : memref<4x4xf32>)
  %o = memref.subview %out[0, 0] [1, 4] [1, 1] : memref<4x4xf32> to memref<1x4xf32, strided<[4, 1]>>
  linalg.add ins(%row, %o : memref<1x4xf32>, memref<1x4xf32, strided<[4, 1]>>) outs(%o : memref<1x4xf32, strided<[4, 1]>>)
  return
}

// -----

/// One buffer holding two packed weights in turn (what CSE of tensor.empty
/// and bufferization would make of two transposes of one shape): d1 reads
/// the first before d2 writes the second. The phase needs both contents,
/// which one buffer cannot give, so neither transpose moves. The
/// second weight's transpose into a buffer of its own (d4) still does.
// CHECK-LABEL: smepilot.dispatch_table @reuse
// CHECK-SAME: name = "reuse_d0:linalg.transpose"
// CHECK-SAME: name = "reuse_d2:linalg.transpose"
// CHECK-NOT: reuse_d4
// CHECK-LABEL: smepilot.dispatch_table @load
// CHECK-SAME: name = "pack0(b)"
// CHECK-SAME: dispatches = [#smepilot.dispatch<name = "load_d0:linalg.transpose", kernel = 0, tiles = <1>, bindings = [<0, read>, <1, write>], deps = []>]
func.func @reuse(%a: memref<4x4xf32> {smepilot.name = "a", smepilot.weight},
                 %b: memref<4x4xf32> {smepilot.name = "b", smepilot.weight},
                 %pos: index,
                 %out: memref<4x4xf32> {smepilot.name = "out"})
    attributes {smepilot.phase = "reuse"} {
  %t = memref.alloc() {alignment = 64 : i64} : memref<4x4xf32>
  linalg.transpose ins(%a : memref<4x4xf32>) outs(%t : memref<4x4xf32>) permutation = [1, 0]
  linalg.copy ins(%t : memref<4x4xf32>) outs(%out : memref<4x4xf32>)
  linalg.transpose ins(%b : memref<4x4xf32>) outs(%t : memref<4x4xf32>) permutation = [1, 0]
  linalg.add ins(%t, %out : memref<4x4xf32>, memref<4x4xf32>) outs(%out : memref<4x4xf32>)
  %u = memref.alloc() {alignment = 64 : i64} : memref<4x4xf32>
  linalg.transpose ins(%b : memref<4x4xf32>) outs(%u : memref<4x4xf32>) permutation = [1, 0]
  linalg.add ins(%u, %out : memref<4x4xf32>, memref<4x4xf32>) outs(%out : memref<4x4xf32>)
  return
}

// -----

// expected-error @+1 {{smepilot-form-dispatches: a phase may not be named 'load' (the load table's name)}}
func.func @p(%x: memref<4xf32>) attributes {smepilot.phase = "load"} {
  return
}

// -----

/// Work that reads nothing (a constant table the phase only reads) is the
/// same every run too: it moves, as "pack0(constant)".
// CHECK-LABEL: smepilot.dispatch_table @table
// CHECK-SAME: name = "pack0(constant)"
// CHECK-NOT: name = "table_d0:linalg.fill"
// CHECK-LABEL: smepilot.dispatch_table @load
// CHECK-SAME: buffers = [#smepilot.buffer<name = "pack0(constant)", size = <16>, alignment = 64>]
// CHECK-SAME: name = "load_d0:linalg.fill"
func.func @table(%x: memref<4xf32> {smepilot.name = "x"}, %pos: index,
                 %out: memref<4xf32> {smepilot.name = "out"})
    attributes {smepilot.phase = "table"} {
  %one = arith.constant 1.0 : f32
  %t = memref.alloc() {alignment = 64 : i64} : memref<4xf32>
  linalg.fill ins(%one : f32) outs(%t : memref<4xf32>)
  linalg.add ins(%x, %t : memref<4xf32>, memref<4xf32>) outs(%out : memref<4xf32>)
  return
}

// -----

/// Two pads of the same shape (a fill of a new buffer, then a copy of a
/// weight into part of it): the fills are the same kernel on no inputs, but
/// each buffer's contents are its whole sequence, so nothing is shared: two
/// packs, each named after its weight, each written by its own fill and
/// copy.
// CHECK-LABEL: smepilot.dispatch_table @pads
// CHECK-SAME: name = "pack0(a)"
// CHECK-SAME: name = "pack1(b)"
// CHECK-SAME: dispatches = [#smepilot.dispatch<name = "pads_d4:linalg.add", kernel = 0, tiles = <1>, bindings = [<2, read>, <3, read>, <1, write>], deps = []>]
// CHECK-LABEL: smepilot.dispatch_table @load
// CHECK-SAME: name = "pack0(a)"
// CHECK-SAME: name = "pack1(b)"
// CHECK-SAME: dispatches = [#smepilot.dispatch<name = "load_d0:linalg.fill", kernel = 0, tiles = <1>, bindings = [<2, write>], deps = []>,
// CHECK-SAME: #smepilot.dispatch<name = "load_d1:memref.copy", kernel = 1, tiles = <1>, bindings = [<0, read>, <2, write>], deps = [0]>,
// CHECK-SAME: #smepilot.dispatch<name = "load_d2:linalg.fill", kernel = 0, tiles = <1>, bindings = [<3, write>], deps = []>,
// CHECK-SAME: #smepilot.dispatch<name = "load_d3:memref.copy", kernel = 1, tiles = <1>, bindings = [<1, read>, <3, write>], deps = [2]>]
func.func @pads(%x: memref<4x4xf32> {smepilot.name = "x"}, %pos: index,
                %a: memref<3x4xf32> {smepilot.name = "a", smepilot.weight},
                %b: memref<3x4xf32> {smepilot.name = "b", smepilot.weight},
                %out: memref<4x4xf32> {smepilot.name = "out"})
    attributes {smepilot.phase = "pads"} {
  %zero = arith.constant 0.0 : f32
  %pa = memref.alloc() {alignment = 64 : i64} : memref<4x4xf32>
  linalg.fill ins(%zero : f32) outs(%pa : memref<4x4xf32>)
  %pas = memref.subview %pa[0, 0] [3, 4] [1, 1] : memref<4x4xf32> to memref<3x4xf32, strided<[4, 1]>>
  memref.copy %a, %pas : memref<3x4xf32> to memref<3x4xf32, strided<[4, 1]>>
  %pb = memref.alloc() {alignment = 64 : i64} : memref<4x4xf32>
  linalg.fill ins(%zero : f32) outs(%pb : memref<4x4xf32>)
  %pbs = memref.subview %pb[0, 0] [3, 4] [1, 1] : memref<4x4xf32> to memref<3x4xf32, strided<[4, 1]>>
  memref.copy %b, %pbs : memref<3x4xf32> to memref<3x4xf32, strided<[4, 1]>>
  linalg.add ins(%pa, %pb : memref<4x4xf32>, memref<4x4xf32>) outs(%out : memref<4x4xf32>)
  return
}

// -----

/// The same kernel over the same weight with other tile spaces (2 and 4
/// iterations of one forall body) are different work: two packs.
// CHECK-LABEL: smepilot.dispatch_table @two
// CHECK-SAME: name = "pack0(w)"
// CHECK-LABEL: smepilot.dispatch_table @four
// CHECK-SAME: name = "pack1(w)"
// CHECK-LABEL: smepilot.dispatch_table @load
// CHECK-SAME: tiles = <2>
// CHECK-SAME: tiles = <4>
func.func @two(%w: memref<4x4xf32> {smepilot.name = "w", smepilot.weight}, %pos: index,
               %out: memref<4x4xf32> {smepilot.name = "out"}) attributes {smepilot.phase = "two"} {
  %t = memref.alloc() {alignment = 64 : i64} : memref<4x4xf32>
  scf.forall (%i) in (2) {
    %s = memref.subview %w[%i, 0] [1, 4] [1, 1] : memref<4x4xf32> to memref<1x4xf32, strided<[4, 1], offset: ?>>
    %d = memref.subview %t[%i, 0] [1, 4] [1, 1] : memref<4x4xf32> to memref<1x4xf32, strided<[4, 1], offset: ?>>
    memref.copy %s, %d : memref<1x4xf32, strided<[4, 1], offset: ?>> to memref<1x4xf32, strided<[4, 1], offset: ?>>
  }
  linalg.copy ins(%t : memref<4x4xf32>) outs(%out : memref<4x4xf32>)
  return
}
func.func @four(%w: memref<4x4xf32> {smepilot.name = "w", smepilot.weight}, %pos: index,
                %out: memref<4x4xf32> {smepilot.name = "out"}) attributes {smepilot.phase = "four"} {
  %t = memref.alloc() {alignment = 64 : i64} : memref<4x4xf32>
  scf.forall (%i) in (4) {
    %s = memref.subview %w[%i, 0] [1, 4] [1, 1] : memref<4x4xf32> to memref<1x4xf32, strided<[4, 1], offset: ?>>
    %d = memref.subview %t[%i, 0] [1, 4] [1, 1] : memref<4x4xf32> to memref<1x4xf32, strided<[4, 1], offset: ?>>
    memref.copy %s, %d : memref<1x4xf32, strided<[4, 1], offset: ?>> to memref<1x4xf32, strided<[4, 1], offset: ?>>
  }
  linalg.copy ins(%t : memref<4x4xf32>) outs(%out : memref<4x4xf32>)
  return
}

// -----

/// A copy out of a global the phase writes back every run reads run state:
/// it stays in the phase.
// CHECK-LABEL: smepilot.dispatch_table @stateful
// CHECK-SAME: name = "stateful_d0:linalg.copy"
// CHECK-NOT: smepilot.dispatch_table @load
memref.global "private" @acc : memref<4xf32> = dense<0.0>
func.func @stateful(%x: memref<4xf32> {smepilot.name = "x"}, %pos: index,
                    %out: memref<4xf32> {smepilot.name = "out"})
    attributes {smepilot.phase = "stateful"} {
  %g = memref.get_global @acc : memref<4xf32>
  %t = memref.alloc() {alignment = 64 : i64} : memref<4xf32>
  linalg.copy ins(%g : memref<4xf32>) outs(%t : memref<4xf32>)
  linalg.add ins(%x, %t : memref<4xf32>, memref<4xf32>) outs(%out : memref<4xf32>)
  linalg.copy ins(%out : memref<4xf32>) outs(%g : memref<4xf32>)
  return
}

// -----

/// A callee of several blocks: its accesses are not traced, so the call
/// binds everything read-write and the later reader depends on it.
// CHECK-LABEL: smepilot.dispatch_table @branchy
// CHECK-SAME: #smepilot.dispatch<name = "branchy_d1:func.call", kernel = 1, sme_kernel = 1, mode = sme, tiles = <1>, bindings = [<0, read|write>, <2, read|write>], deps = [0]>
// CHECK-SAME: #smepilot.dispatch<name = "branchy_d2:linalg.copy", kernel = 0, tiles = <1>, bindings = [<2, read>, <1, write>], deps = [1]>
func.func private @two_blocks(%a: memref<4xf32>, %c: memref<4xf32>) attributes {smepilot.sme_kernel} {
  cf.br ^bb1
^bb1:
  linalg.copy ins(%a : memref<4xf32>) outs(%c : memref<4xf32>)
  return
}
func.func @branchy(%x: memref<4xf32> {smepilot.name = "x"}, %pos: index,
                   %out: memref<4xf32> {smepilot.name = "out"})
    attributes {smepilot.phase = "branchy"} {
  %t = memref.alloc() {alignment = 64 : i64} : memref<4xf32>
  linalg.copy ins(%x : memref<4xf32>) outs(%t : memref<4xf32>)
  call @two_blocks(%x, %t) : (memref<4xf32>, memref<4xf32>) -> ()
  linalg.copy ins(%t : memref<4xf32>) outs(%out : memref<4xf32>)
  return
}

// -----

/// The pass works on finished tables, not on the phases: here a table
/// written by hand. Only d0 moves: d1 reads `v`, which is not marked a
/// weight; d2 reads run state (`reads_state`); d3 reads what the phase
/// computes. d0's temporary becomes the packed argument pack0(w) (fourth
/// argument, after the phase's own), `w` stays an argument since d2 still
/// reads it, and what stays is renumbered: d3 depended on d0, d1 and d2
/// and now depends on 0 and 1.
// CHECK-LABEL: smepilot.dispatch_table @t {
// CHECK-SAME: buffers = [#smepilot.buffer<name = "w", size = <64>, weight = true>, #smepilot.buffer<name = "v", size = <64>>, #smepilot.buffer<name = "out", size = <64>>,
// CHECK-SAME: #smepilot.buffer<name = "pack0(w)", size = <64>, alignment = 64>, #smepilot.buffer<name = "tmp1", size = <64>>, #smepilot.buffer<name = "tmp2", size = <64>>]
// CHECK-SAME: dispatches = [#smepilot.dispatch<name = "t_d1", kernel = 0, tiles = <1>, bindings = [<1, read>, <4, write>], deps = []>,
// CHECK-SAME: #smepilot.dispatch<name = "t_d2", kernel = 0, tiles = <1>, bindings = [<0, read>, <5, write>], deps = [], reads_state = true>,
// CHECK-SAME: #smepilot.dispatch<name = "t_d3", kernel = 1, tiles = <1>, bindings = [<3, read>, <4, read>, <5, read>, <2, write>], deps = [0, 1]>]
// CHECK-SAME: kernels = [@t_k0, @t_k1], n_arguments = 4 : i64, n_constants = 0 : i64}
// CHECK-LABEL: smepilot.dispatch_table @load
// CHECK-SAME: buffers = [#smepilot.buffer<name = "w", size = <64>, weight = true>, #smepilot.buffer<name = "pack0(w)", size = <64>, alignment = 64>]
// CHECK-SAME: dispatches = [#smepilot.dispatch<name = "load_d0:t_d0", kernel = 0, tiles = <1>, bindings = [<0, read>, <1, write>], deps = []>]
// CHECK-SAME: kernels = [@t_k0], n_arguments = 2 : i64, n_constants = 0 : i64, smepilot.load}
// OFF-LABEL: smepilot.dispatch_table @t {
// OFF-SAME: name = "t_d0"
// OFF-NOT: smepilot.dispatch_table @load
func.func @t_k0(%b: !llvm.ptr, %c: !llvm.ptr, %tb: i64, %te: i64) attributes {smepilot.kernel} {
  return
}
func.func @t_k1(%b: !llvm.ptr, %c: !llvm.ptr, %tb: i64, %te: i64) attributes {smepilot.kernel} {
  %x = arith.constant 1 : i64
  return
}
smepilot.dispatch_table @t {
  kernels = [@t_k0, @t_k1], n_arguments = 3 : i64, n_constants = 0 : i64,
  buffers = [#smepilot.buffer<name = "w", size = <64>, weight = true>,
             #smepilot.buffer<name = "v", size = <64>>,
             #smepilot.buffer<name = "out", size = <64>>,
             #smepilot.buffer<name = "tmp0", size = <64>, alignment = 64>,
             #smepilot.buffer<name = "tmp1", size = <64>>,
             #smepilot.buffer<name = "tmp2", size = <64>>],
  dispatches = [
    #smepilot.dispatch<name = "t_d0", kernel = 0, tiles = <1>, bindings = [<0, read>, <3, write>], deps = []>,
    #smepilot.dispatch<name = "t_d1", kernel = 0, tiles = <1>, bindings = [<1, read>, <4, write>], deps = []>,
    #smepilot.dispatch<name = "t_d2", kernel = 0, tiles = <1>, bindings = [<0, read>, <5, write>], deps = [], reads_state = true>,
    #smepilot.dispatch<name = "t_d3", kernel = 1, tiles = <1>, bindings = [<3, read>, <4, read>, <5, read>, <2, write>], deps = [0, 1, 2]>]}

// -----

/// A 0-sized weight is hoisted like any other: its packed buffer has size 0.
// CHECK-LABEL: smepilot.dispatch_table @z
// CHECK-SAME: #smepilot.buffer<name = "pack0(w)", size = <0>, alignment = 64>]
// CHECK-LABEL: smepilot.dispatch_table @load
// CHECK-SAME: buffers = [#smepilot.buffer<name = "w", size = <0>, weight = true>,
// CHECK-SAME: #smepilot.buffer<name = "pack0(w)", size = <0>, alignment = 64>]
// CHECK-SAME: name = "load_d0:linalg.transpose"
// OFF-LABEL: smepilot.dispatch_table @z
// OFF-SAME: name = "z_d1:linalg.transpose"
func.func private @mm(%a: memref<1x0xf32>, %b: memref<0x4xf32>, %c: memref<1x4xf32>)
    attributes {smepilot.sme_kernel} {
  linalg.matmul ins(%a, %b : memref<1x0xf32>, memref<0x4xf32>)
                outs(%c : memref<1x4xf32>)
  return
}
func.func @z(%x: memref<1x0xf32> {smepilot.name = "x"}, %pos: index,
             %w: memref<4x0xf32> {smepilot.name = "w", smepilot.weight},
             %out: memref<1x4xf32> {smepilot.name = "out"})
    attributes {smepilot.phase = "z"} {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%out : memref<1x4xf32>)
  %wt = memref.alloc() {alignment = 64 : i64} : memref<0x4xf32>
  linalg.transpose ins(%w : memref<4x0xf32>) outs(%wt : memref<0x4xf32>) permutation = [1, 0]
  call @mm(%x, %wt, %out) : (memref<1x0xf32>, memref<0x4xf32>, memref<1x4xf32>) -> ()
  memref.dealloc %wt : memref<0x4xf32>
  return
}
