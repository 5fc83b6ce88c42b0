// A collab contraction through the whole SME pipeline: one dispatch of mode
// collab whose SME kernel calls the streaming variant for the kernel's tile
// range and whose CPU kernel runs the forall's tiles.

// RUN: smepilot-opt %s --smepilot-roofline-annotate=profile=apple-m4 \
// RUN:   --smepilot-sme-pipeline='force-share=40000 stop-after=dispatch' \
// RUN:   | FileCheck %s --check-prefix=DISPATCH
// RUN: smepilot-opt %s --smepilot-roofline-annotate=profile=apple-m4 \
// RUN:   --smepilot-sme-pipeline='force-share=40000' | FileCheck %s --check-prefix=LLVM
// Without force-share the profile decides: at these sizes every op stays on
// the vector cores, so no collab dispatch.
// RUN: smepilot-opt %s --smepilot-roofline-annotate=profile=apple-m4 \
// RUN:   --smepilot-sme-pipeline='stop-after=dispatch' | FileCheck %s --check-prefix=PROFILE

// The SME variant, after tiling: the streaming kernel itself (no copies of
// the column slices at a call boundary). Its buffers are strided views
// (smepilot-bufferize): any caller buffer with contiguous rows passes as is.
// DISPATCH-LABEL: func.func private @proj_collab0(
// DISPATCH-SAME:      memref<63x16xf32, strided<[?, 1], offset: ?>>, %{{.*}}: memref<63x100xf32, strided<[?, 1], offset: ?>>, %{{.*}}: memref<16x100xf32, strided<[?, 1], offset: ?>>, %{{.*}}: index, %{{.*}}: index)
// DISPATCH-SAME:      smepilot.collab = {sme_share = 40000 : i64, tile_granule = 4 : i64, tile_size = 8 : i64, tiles = 13 : i64}, smepilot.sme_kernel
// DISPATCH-NOT:     memref.alloc
// DISPATCH-NOT:     memref.copy
// DISPATCH:         vector.outerproduct
// The SME kernel of the dispatch: the variant for the kernel's own tile
// range [tile_begin, tile_end) (its last two arguments, cast to index).
// DISPATCH:         call @proj_collab0(%{{.*}}, %{{.*}}, %{{.*}}, %[[B:[0-9]+]], %[[E:[0-9]+]])
// DISPATCH:       smepilot.dispatch_table @proj
// DISPATCH-SAME:    #smepilot.dispatch<name = "proj_d{{[0-9]+}}:collab", kernel = [[CPUI:[0-9]+]], sme_kernel = [[SMEI:[0-9]+]], mode = collab, sme_share = 40000, tile_granule = 4, tiles = <13>,
// The SME variant reads the packed (K-major) weight, the CPU variant the
// weight as stored; both write y.
// DISPATCH-SAME:    bindings = [<4, read>, <3, read>, <2, read|write>, <1, read>, <0, read>]
// The weight's transpose is load-time work.
// DISPATCH:       smepilot.dispatch_table @load {{.*}}#smepilot.buffer<name = "pack0(w)"

// LLVM: llvm.func @proj_collab0({{.*}}attributes {arm_locally_streaming, arm_new_za
// LLVM:   "arm_sme.intr.mopa"
// LLVM: llvm.mlir.global external constant @smepilot_table_proj()

// PROFILE-NOT: collab

#mk = affine_map<(m, n, k) -> (m, k)>
#nk = affine_map<(m, n, k) -> (n, k)>
#mn = affine_map<(m, n, k) -> (m, n)>
func.func @proj(%x: tensor<16x63xf32> {smepilot.name = "x"},
                %w: tensor<100x63xf32> {smepilot.name = "w", smepilot.weight})
    -> (tensor<16x100xf32> {smepilot.name = "y"})
    attributes {smepilot.phase = "proj", smepilot.chunk = 16 : i64} {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<16x100xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<16x100xf32>) -> tensor<16x100xf32>
  %r = linalg.matmul indexing_maps = [#mk, #nk, #mn]
         ins(%x, %w : tensor<16x63xf32>, tensor<100x63xf32>)
         outs(%f : tensor<16x100xf32>) -> tensor<16x100xf32>
  return %r : tensor<16x100xf32>
}
