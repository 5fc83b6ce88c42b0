// RUN: smepilot-opt %s --smepilot-form-dispatches -split-input-file | FileCheck %s

/// Two tiled dispatches (scf.forall tile spaces) through a temporary. The
/// arguments are buffers 0 (x) and 1 (out), the temporary buffer 2 (512
/// bytes, its alignment kept); %pos is constant 0. The first dispatch reads
/// x and writes tmp, the second reads tmp (so depends on dispatch 0) and
/// writes out. Both kernels are the same code with other bindings: one
/// kernel. The dealloc of the temporary is dropped: the runtime owns it.
/// The kernel (emitted before its table): each binding rebuilt as a memref
/// of the root's type from its pointer, then a loop over [tile_begin,
/// tile_end) running forall iteration 0 + t * 2.
// CHECK-LABEL: func.func @fwd_k0(
// CHECK-SAME: %[[BIND:.*]]: !llvm.ptr, %[[CONST:.*]]: !llvm.ptr, %[[TB:.*]]: i64, %[[TE:.*]]: i64) attributes {smepilot.kernel}
// CHECK: %[[SLOT0:.*]] = llvm.getelementptr %[[BIND]][0] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK: %[[P0:.*]] = llvm.load %[[SLOT0]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[D0:.*]] = llvm.insertvalue %[[P0]], %{{.*}}[1]
// CHECK: %[[S0:.*]] = builtin.unrealized_conversion_cast %{{.*}} : !llvm.struct<(ptr, ptr, i64)> to memref<f32>
// CHECK: %[[IN:.*]] = memref.reinterpret_cast %[[S0]] to offset: [0], sizes: [8, 16], strides: [16, 1] : memref<f32> to memref<8x16xf32>
// CHECK: %[[SLOT1:.*]] = llvm.getelementptr %[[BIND]][1] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK: llvm.load %[[SLOT1]]
// CHECK: %[[OUT:.*]] = memref.reinterpret_cast %{{.*}} to offset: [0], sizes: [8, 16], strides: [16, 1] : memref<f32> to memref<8x16xf32>
// CHECK: %[[B:.*]] = arith.index_cast %[[TB]] : i64 to index
// CHECK: %[[E:.*]] = arith.index_cast %[[TE]] : i64 to index
// CHECK: scf.for %[[T:.*]] = %[[B]] to %[[E]] step %{{.*}} {
// CHECK:   %[[MUL:.*]] = arith.muli %[[T]], %[[C2:.*]] : index
// CHECK:   %[[I:.*]] = arith.addi %{{.*}}, %[[MUL]] : index
// CHECK:   %[[SRC:.*]] = memref.subview %[[IN]][%[[I]], 0] [2, 16] [1, 1]
// CHECK:   %[[DST:.*]] = memref.subview %[[OUT]][%[[I]], 0] [2, 16] [1, 1]
// CHECK:   linalg.copy ins(%[[SRC]] : {{.*}}) outs(%[[DST]] : {{.*}})
// CHECK-LABEL: smepilot.dispatch_table @fwd
// CHECK-SAME: buffers = [#smepilot.buffer<name = "arg0", size = <512>>,
// CHECK-SAME: #smepilot.buffer<name = "arg2", size = <512>>,
// CHECK-SAME: #smepilot.buffer<name = "tmp0", size = <512>, alignment = 64>]
// CHECK-SAME: dispatches = [#smepilot.dispatch<name = "fwd_d0:scf.forall", kernel = 0, tiles = <4>, bindings = [<0, read>, <2, write>], deps = []>,
// CHECK-SAME: #smepilot.dispatch<name = "fwd_d1:scf.forall", kernel = 0, tiles = <4>, bindings = [<2, read>, <1, write>], deps = [0]>]
// CHECK-SAME: kernels = [@fwd_k0], n_arguments = 2 : i64, n_constants = 1 : i64
// CHECK-NOT: func.func @fwd(
// CHECK-NOT: @fwd_k1
func.func @fwd(%x: memref<8x16xf32>, %pos: index, %out: memref<8x16xf32>)
    attributes {smepilot.phase = "fwd"} {
  %tmp = memref.alloc() {alignment = 64 : i64} : memref<8x16xf32>
  scf.forall (%i) = (0) to (8) step (2) {
    %s = memref.subview %x[%i, 0] [2, 16] [1, 1]
        : memref<8x16xf32> to memref<2x16xf32, strided<[16, 1], offset: ?>>
    %d = memref.subview %tmp[%i, 0] [2, 16] [1, 1]
        : memref<8x16xf32> to memref<2x16xf32, strided<[16, 1], offset: ?>>
    linalg.copy ins(%s : memref<2x16xf32, strided<[16, 1], offset: ?>>)
                outs(%d : memref<2x16xf32, strided<[16, 1], offset: ?>>)
  }
  scf.forall (%i) = (0) to (8) step (2) {
    %s = memref.subview %tmp[%i, 0] [2, 16] [1, 1]
        : memref<8x16xf32> to memref<2x16xf32, strided<[16, 1], offset: ?>>
    %d = memref.subview %out[%i, 0] [2, 16] [1, 1]
        : memref<8x16xf32> to memref<2x16xf32, strided<[16, 1], offset: ?>>
    linalg.copy ins(%s : memref<2x16xf32, strided<[16, 1], offset: ?>>)
                outs(%d : memref<2x16xf32, strided<[16, 1], offset: ?>>)
  }
  memref.dealloc %tmp : memref<8x16xf32>
  return
}

// -----

/// A vector read in one top-level op and written by the next: one one-tile
/// dispatch, since no SSA value may leave a dispatch. The view of the cache
/// at row %pos is free: it is re-made inside the kernel from the cache's
/// binding and constants[0], so the dispatch reads run-time state
/// (`reads_state`: never load-time work). The first case's kernels, which
/// read no constant, do not.
// CHECK-LABEL: func.func @rows_k0(
// CHECK-SAME: %[[BIND:.*]]: !llvm.ptr, %[[CONST:.*]]: !llvm.ptr
// CHECK: %[[ROW:.*]] = memref.reinterpret_cast %{{.*}} to offset: [0], sizes: [1, 16], strides: [16, 1]
// CHECK: llvm.getelementptr %[[BIND]][1]
// CHECK: %[[CACHE:.*]] = memref.reinterpret_cast %{{.*}} to offset: [0], sizes: [4, 16], strides: [16, 1]
// CHECK: %[[SLOT:.*]] = llvm.getelementptr %[[CONST]][0] : (!llvm.ptr) -> !llvm.ptr, i64
// CHECK: %[[POS64:.*]] = llvm.load %[[SLOT]] : !llvm.ptr -> i64
// CHECK: %[[POS:.*]] = arith.index_cast %[[POS64]] : i64 to index
// CHECK: %[[VIEW:.*]] = memref.subview %[[CACHE]][%[[POS]], 0] [1, 16] [1, 1]
// CHECK-NOT: scf.for
// CHECK: %[[V:.*]] = vector.transfer_read %[[ROW]]
// CHECK: vector.transfer_write %[[V]], %[[VIEW]]
// CHECK-LABEL: smepilot.dispatch_table @rows
// CHECK-SAME: dispatches = [#smepilot.dispatch<name = "rows_d0:vector.transfer_read", kernel = 0, tiles = <1>, bindings = [<1, read>, <0, write>], deps = [], reads_state = true>]
// CHECK-SAME: n_arguments = 2 : i64, n_constants = 1 : i64
func.func @rows(%cache: memref<4x16xf32>, %pos: index, %row: memref<1x16xf32>)
    attributes {smepilot.phase = "rows"} {
  %v = memref.subview %cache[%pos, 0] [1, 16] [1, 1]
      : memref<4x16xf32> to memref<1x16xf32, strided<[16, 1], offset: ?>>
  %c0 = arith.constant 0 : index
  %cst = arith.constant 0.0 : f32
  %r = vector.transfer_read %row[%c0, %c0], %cst {in_bounds = [true]}
      : memref<1x16xf32>, vector<16xf32>
  vector.transfer_write %r, %v[%c0, %c0] {in_bounds = [true]}
      : vector<16xf32>, memref<1x16xf32, strided<[16, 1], offset: ?>>
  return
}

// -----

/// A temporary whose size grows with the position: 2 x (pos + 3) floats =
/// 24 + 8 * constants[0] bytes. Its dynamic size is re-made in the kernel
/// from the constant.
// CHECK-LABEL: func.func @dyn_k0(
// CHECK: %[[POS:.*]] = arith.index_cast %{{.*}} : i64 to index
// CHECK: %[[N:.*]] = arith.addi %[[POS]], %{{.*}} : index
// CHECK: %[[T:.*]] = memref.reinterpret_cast %{{.*}} to offset: [0], sizes: [2, %[[N]]], strides: [%[[N]], 1] : memref<f32> to memref<2x?xf32>
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%[[T]] : memref<2x?xf32>)
// CHECK-LABEL: smepilot.dispatch_table @dyn
// CHECK-SAME: #smepilot.buffer<name = "tmp0", size = <24 + 8 * c0>>
// CHECK-SAME: dispatches = [#smepilot.dispatch<name = "dyn_d0:linalg.fill", kernel = 0, tiles = <1>, bindings = [<1, write>], deps = [], reads_state = true>,
// CHECK-SAME: #smepilot.dispatch<name = "dyn_d1:memref.load", kernel = 1, tiles = <1>, bindings = [<1, read>, <0, write>], deps = [0], reads_state = true>]
func.func @dyn(%out: memref<1xf32>, %pos: index) attributes {smepilot.phase = "dyn"} {
  %c0 = arith.constant 0 : index
  %c3 = arith.constant 3 : index
  %cst = arith.constant 1.0 : f32
  %n = arith.addi %pos, %c3 : index
  %t = memref.alloc(%n) : memref<2x?xf32>
  linalg.fill ins(%cst : f32) outs(%t : memref<2x?xf32>)
  %v = memref.load %t[%c0, %c0] : memref<2x?xf32>
  memref.store %v, %out[%c0] : memref<1xf32>
  memref.dealloc %t : memref<2x?xf32>
  return
}

// -----

/// Calls to single-block functions are inlined before outlining; the callee
/// goes once no phase calls it. Kernels of different phases are numbered and
/// deduplicated per phase.
// CHECK-NOT: func.func private @layer
// CHECK-LABEL: func.func @a_k0(
// CHECK: linalg.add
// CHECK-LABEL: smepilot.dispatch_table @a
// CHECK-SAME: kernels = [@a_k0]
// CHECK-LABEL: func.func @b_k0(
// CHECK-NOT: func.call
// CHECK-LABEL: smepilot.dispatch_table @b
// CHECK-SAME: kernels = [@b_k0]
func.func private @layer(%x: memref<4xf32>, %y: memref<4xf32>) {
  linalg.add ins(%x, %x : memref<4xf32>, memref<4xf32>) outs(%y : memref<4xf32>)
  return
}
func.func @pa(%x: memref<4xf32>, %y: memref<4xf32>) attributes {smepilot.phase = "a"} {
  func.call @layer(%x, %y) : (memref<4xf32>, memref<4xf32>) -> ()
  return
}
func.func @pb(%x: memref<4xf32>, %y: memref<4xf32>) attributes {smepilot.phase = "b"} {
  func.call @layer(%y, %x) : (memref<4xf32>, memref<4xf32>) -> ()
  return
}

// -----

/// 0-sized buffers are buffers of size 0: the dispatches, their bindings
/// and hazards are formed as for any other size (the runtime runs a kernel
/// whose loops do nothing).
// CHECK-LABEL: smepilot.dispatch_table @empty
// CHECK-SAME: buffers = [#smepilot.buffer<name = "arg0", size = <0>>,
// CHECK-SAME: #smepilot.buffer<name = "arg2", size = <0>>,
// CHECK-SAME: #smepilot.buffer<name = "tmp0", size = <0>, alignment = 64>]
// CHECK-SAME: bindings = [<0, read>, <2, write>], deps = []>,
// CHECK-SAME: bindings = [<2, read>, <1, write>], deps = [0]>]
func.func @empty(%x: memref<0x16xf32>, %pos: index, %out: memref<0x16xf32>)
    attributes {smepilot.phase = "empty"} {
  %tmp = memref.alloc() {alignment = 64 : i64} : memref<0x16xf32>
  linalg.copy ins(%x : memref<0x16xf32>) outs(%tmp : memref<0x16xf32>)
  linalg.copy ins(%tmp : memref<0x16xf32>) outs(%out : memref<0x16xf32>)
  memref.dealloc %tmp : memref<0x16xf32>
  return
}

// -----

/// A row written into layer L of a [layers, positions, d] cache at %pos: the
/// kernel of each layer would differ by L's fixed offset. Where every view of
/// a binding starts at one fixed layer, the view starts at layer 0 (a
/// constant 0 in the old constant's place) and the binding points L layers
/// (L * 4 * 8 * 4 bytes) into the cache instead, so the three layers are one
/// kernel. A kernel whose views of one binding start at two layers (the
/// copy from layer 1 to layer 2) keeps them, and offset 0.
// CHECK-LABEL: func.func @cache_k0(
// CHECK: %[[CACHE:.*]] = memref.reinterpret_cast %{{.*}} sizes: [3, 4, 8]
// CHECK-NEXT: %[[ZERO:.*]] = arith.constant 0 : index
// CHECK-NOT: arith.constant
// CHECK: memref.subview %[[CACHE]][%[[ZERO]], %{{.*}}, 0] [1, 1, 8]
// CHECK-LABEL: func.func @cache_k1(
// CHECK: memref.subview %{{.*}}[1, %{{.*}}, 0] [1, 1, 8]
// CHECK: memref.subview %{{.*}}[2, %{{.*}}, 0] [1, 1, 8]
// CHECK-LABEL: smepilot.dispatch_table @cache
// CHECK-SAME: dispatches = [#smepilot.dispatch<name = "cache_d0:linalg.copy", kernel = 0, tiles = <1>, bindings = [<1, read>, <0, write>], deps = [], reads_state = true>,
// CHECK-SAME: #smepilot.dispatch<name = "cache_d1:linalg.copy", kernel = 0, tiles = <1>, bindings = [<1, read>, <0, write, offset 128>], deps = [0], reads_state = true>,
// CHECK-SAME: #smepilot.dispatch<name = "cache_d2:linalg.copy", kernel = 0, tiles = <1>, bindings = [<1, read>, <0, write, offset 256>], deps = [1], reads_state = true>,
// CHECK-SAME: #smepilot.dispatch<name = "cache_d3:linalg.copy", kernel = 1, tiles = <1>, bindings = [<0, read|write>], deps = [2], reads_state = true>]
// CHECK-SAME: kernels = [@cache_k0, @cache_k1]
func.func @cache(%cache: memref<3x4x8xf32>, %row: memref<8xf32>, %pos: index)
    attributes {smepilot.phase = "cache"} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %l0 = memref.subview %cache[%c0, %pos, 0] [1, 1, 8] [1, 1, 1]
      : memref<3x4x8xf32> to memref<8xf32, strided<[1], offset: ?>>
  linalg.copy ins(%row : memref<8xf32>) outs(%l0 : memref<8xf32, strided<[1], offset: ?>>)
  %l1 = memref.subview %cache[%c1, %pos, 0] [1, 1, 8] [1, 1, 1]
      : memref<3x4x8xf32> to memref<8xf32, strided<[1], offset: ?>>
  linalg.copy ins(%row : memref<8xf32>) outs(%l1 : memref<8xf32, strided<[1], offset: ?>>)
  %l2 = memref.subview %cache[%c2, %pos, 0] [1, 1, 8] [1, 1, 1]
      : memref<3x4x8xf32> to memref<8xf32, strided<[1], offset: ?>>
  linalg.copy ins(%row : memref<8xf32>) outs(%l2 : memref<8xf32, strided<[1], offset: ?>>)
  %from = memref.subview %cache[1, %pos, 0] [1, 1, 8] [1, 1, 1]
      : memref<3x4x8xf32> to memref<8xf32, strided<[1], offset: ?>>
  %to = memref.subview %cache[2, %pos, 0] [1, 1, 8] [1, 1, 1]
      : memref<3x4x8xf32> to memref<8xf32, strided<[1], offset: ?>>
  linalg.copy ins(%from : memref<8xf32, strided<[1], offset: ?>>)
              outs(%to : memref<8xf32, strided<[1], offset: ?>>)
  return
}
