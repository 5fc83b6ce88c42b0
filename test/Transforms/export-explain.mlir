// RUN: smepilot-opt %s --smepilot-export-explain -split-input-file -verify-diagnostics | FileCheck %s

/// The decisions behind each dispatch come from the provenance records in
/// the locations of its kernels' ops (Provenance.h): @k0 computes builder
/// op 7 itself and op 9 through the function it calls; its constant (whose
/// location names op 8, as CSE may leave it) and its binding unpacking
/// (a pointer load at op 8's location) compute no data and are not
/// counted. @k1 is a layout change made for op 9: it lists the change, not
/// op 9, which it does not compute. @k2 has no record at all (a copy). The
/// JSON names buffers by index; equal decisions are listed once.
// CHECK: llvm.mlir.global external constant @smepilot_explain(
// CHECK-SAME: {\22version\22:1,\22target\22:\22host\22,\22profile\22:null,
// CHECK-SAME: \22records\22:[{\22decision\22:0,\22id\22:7,\22loops\22:[4,8,16]},{\22decision\22:1,\22id\22:9,\22loops\22:[4,-1]},{\22layout_change\22:\22k-major\22}],
// CHECK-SAME: \22decisions\22:[{\22kind\22:\22matmul\22,\22shape_class\22:\22gemm\22,\22elem\22:\22f32\22,\22mode\22:\22cpu\22,\22sme_fraction\22:0.0,\22flops\22:1024,\22weight_bytes\22:512,\22act_bytes\22:512,\22cpu_us\22:0.5,\22sme_us\22:-1.0,\22collab_us\22:-1.0,\22bound\22:\22memory\22,\22vectorization\22:\22full\22,\22reason\22:\22roofline\22,\22assumed\22:\22\22},{\22kind\22:\22generic\22,\22shape_class\22:\22elementwise\22,
// CHECK-SAME: \22assumed\22:\22d1=128\22}],
// CHECK-SAME: \22tables\22:[{\22name\22:\22ph\22,\22chunk\22:4,\22last_row_only\22:false,\22load\22:false,\22buffers\22:[\22arg0\22,\22tmp0\22],
// CHECK-SAME: \22dispatches\22:[{\22name\22:\22ph_d0\22,\22mode\22:\22cpu\22,\22sme_share\22:0,\22reads\22:[0],\22writes\22:[1],\22records\22:[0,1]},
// CHECK-SAME: {\22name\22:\22ph_d1\22,\22mode\22:\22collab\22,\22sme_share\22:32768,\22reads\22:[1],\22writes\22:[1],\22records\22:[2]},
// CHECK-SAME: {\22name\22:\22ph_d2:memref.copy\22,{{.*}}\22records\22:[]}]}]}\00")
#matmul = #smepilot.decision<kind = "matmul", shape_class = "gemm", elem = f32, mode = cpu, flops = 1024, weight_bytes = 512, act_bytes = 512, intensity = 1.0, cpu_us = 0.5, sme_us = -1.0, collab_us = -1.0, sme_fraction = 0.0, bound = "memory", vectorization = "full", reason = "roofline", assumed = "">
#add = #smepilot.decision<kind = "generic", shape_class = "elementwise", elem = f32, mode = cpu, flops = 16, weight_bytes = 0, act_bytes = 192, intensity = 0.08333, cpu_us = 0.01, sme_us = -1.0, collab_us = -1.0, sme_fraction = 0.0, bound = "memory", vectorization = "full", reason = "roofline", assumed = "d1=128">
#fill = #smepilot.decision<kind = "fill", shape_class = "fill", elem = f32, mode = cpu, flops = 0, weight_bytes = 0, act_bytes = 64, intensity = 0.0, cpu_us = 0.01, sme_us = -1.0, collab_us = -1.0, sme_fraction = 0.0, bound = "memory", vectorization = "full", reason = "roofline", assumed = "">
#op7 = loc(fused<{smepilot.op = #matmul, loops = array<i64: 4, 8, 16>, id = 7 : i64}>["a.mlir":1:1])
#op8 = loc(fused<{smepilot.op = #fill, loops = array<i64: 4>, id = 8 : i64}>["a.mlir":2:1])
#op9 = loc(fused<{smepilot.op = #add, loops = array<i64: 4, -1>, id = 9 : i64}>["a.mlir":3:1])
#kmajor = loc(fused<{smepilot.layout_change = "k-major"}>[#op9])
llvm.func @helper(%x: vector<4xf32>) -> vector<4xf32> {
  %y = llvm.fadd %x, %x : vector<4xf32> loc(#op9)
  llvm.return %y : vector<4xf32>
}
llvm.func @k0(%b: !llvm.ptr, %c: !llvm.ptr, %tb: i64, %te: i64) {
  %p = llvm.load %b : !llvm.ptr -> !llvm.ptr loc(#op8)
  %zero = llvm.mlir.constant(dense<0.0> : vector<4xf32>) : vector<4xf32> loc(#op8)
  %v = llvm.load %p : !llvm.ptr -> vector<4xf32> loc(#op7)
  %s = llvm.fadd %v, %zero : vector<4xf32> loc(#op7)
  %r = llvm.call @helper(%s) : (vector<4xf32>) -> vector<4xf32>
  llvm.store %r, %p : vector<4xf32>, !llvm.ptr loc(#op7)
  llvm.return
}
llvm.func @k1(%b: !llvm.ptr, %c: !llvm.ptr, %tb: i64, %te: i64) {
  %p = llvm.load %b : !llvm.ptr -> !llvm.ptr
  %v = llvm.load %p : !llvm.ptr -> vector<4xf32> loc(#kmajor)
  llvm.store %v, %p : vector<4xf32>, !llvm.ptr loc(#kmajor)
  llvm.return
}
llvm.func @k2(%b: !llvm.ptr, %c: !llvm.ptr, %tb: i64, %te: i64) {
  %p = llvm.load %b : !llvm.ptr -> !llvm.ptr loc(#op8)
  %v = llvm.load %p : !llvm.ptr -> vector<4xf32>
  llvm.store %v, %p : vector<4xf32>, !llvm.ptr
  llvm.return
}
smepilot.dispatch_table @ph {
  buffers = [#smepilot.buffer<name = "arg0", size = <64>>,
             #smepilot.buffer<name = "tmp0", size = <64>>],
  dispatches = [#smepilot.dispatch<name = "ph_d0", kernel = 0, tiles = <4>,
                                   bindings = [<0, read>, <1, write>], deps = []>,
                #smepilot.dispatch<name = "ph_d1", kernel = 1, sme_kernel = 1,
                                   mode = collab, sme_share = 32768, tile_granule = 2,
                                   tiles = <2 + 3 * c0>, bindings = [<1, read|write>],
                                   deps = [0]>,
                #smepilot.dispatch<name = "ph_d2:memref.copy", kernel = 2, tiles = <1>,
                                   bindings = [<1, read>, <0, write>], deps = [1]>],
  kernels = [@k0, @k1, @k2], n_arguments = 1 : i64, n_constants = 1 : i64,
  chunk = 4 : i64}

// -----

/// Kernels are shared between structurally equal ops (dedup-kernels): a
/// dispatch may run one op's CPU kernel (@cpu, op 4) beside another's SME
/// variant (@sme, op 5, the same decision over the same loops). That is one
/// op of the dispatch, listed once.
// CHECK: llvm.mlir.global external constant @smepilot_explain(
// CHECK-SAME: \22records\22:[{\22decision\22:0,\22id\22:4,\22loops\22:[1,512]}],
// CHECK-SAME: \22records\22:[0]}]}]}\00")
#proj = #smepilot.decision<kind = "matmul", shape_class = "gemv", elem = f32, mode = collab, flops = 1024, weight_bytes = 2048, act_bytes = 8, intensity = 0.4984, cpu_us = 0.5, sme_us = 0.6, collab_us = 0.4, sme_fraction = 0.5, bound = "memory", vectorization = "reduction", reason = "roofline", assumed = "">
#k = loc(fused<{smepilot.op = #proj, loops = array<i64: 1, 512>, id = 4 : i64}>["b.mlir":1:1])
#v = loc(fused<{smepilot.op = #proj, loops = array<i64: 1, 512>, id = 5 : i64}>["b.mlir":2:1])
llvm.func @cpu(%b: !llvm.ptr, %c: !llvm.ptr, %tb: i64, %te: i64) {
  %p = llvm.load %b : !llvm.ptr -> !llvm.ptr
  %v = llvm.load %p : !llvm.ptr -> vector<4xf32> loc(#k)
  llvm.store %v, %p : vector<4xf32>, !llvm.ptr loc(#k)
  llvm.return
}
llvm.func @sme(%b: !llvm.ptr, %c: !llvm.ptr, %tb: i64, %te: i64) {
  %p = llvm.load %b : !llvm.ptr -> !llvm.ptr
  %v = llvm.load %p : !llvm.ptr -> vector<4xf32> loc(#v)
  llvm.store %v, %p : vector<4xf32>, !llvm.ptr loc(#v)
  llvm.return
}
smepilot.dispatch_table @ph {
  buffers = [#smepilot.buffer<name = "arg0", size = <64>>],
  dispatches = [#smepilot.dispatch<name = "ph_d0", kernel = 0, sme_kernel = 1,
                                   mode = collab, sme_share = 32768, tiles = <4>,
                                   bindings = [<0, read|write>], deps = []>],
  kernels = [@cpu, @sme], n_arguments = 1 : i64, n_constants = 1 : i64,
  chunk = 1 : i64}

// -----

/// No tables: nothing to explain, no global.
// CHECK-LABEL: llvm.func @no_tables
// CHECK-NOT: smepilot_explain
llvm.func @no_tables() {
  llvm.return
}

// -----

// expected-error @below {{smepilot-export-explain: the module already defines @smepilot_explain}}
module {
  llvm.mlir.global external constant @smepilot_explain("{}\00") {addr_space = 0 : i32}
  llvm.func @k(%b: !llvm.ptr, %c: !llvm.ptr, %tb: i64, %te: i64) {
    llvm.return
  }
  smepilot.dispatch_table @ph {
    buffers = [#smepilot.buffer<name = "arg0", size = <64>>],
    dispatches = [#smepilot.dispatch<name = "only", kernel = 0, tiles = <1>,
                                     bindings = [<0, read>], deps = []>],
    kernels = [@k], n_arguments = 1 : i64, n_constants = 0 : i64}
}
