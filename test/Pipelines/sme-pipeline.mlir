// RUN: smepilot-opt %s --smepilot-sme-pipeline="all-contractions=true stop-after=lower-sme" | FileCheck %s --check-prefix=SME
// RUN: smepilot-opt %s --smepilot-sme-pipeline=all-contractions=true | FileCheck %s --check-prefix=LLVM
// RUN: smepilot-opt %s --smepilot-sme-pipeline="all-contractions=true target=sme2-nosve" | FileCheck %s --check-prefix=NOSVE
// RUN: not smepilot-opt %s --smepilot-sme-pipeline=target=sme3 2>&1 | FileCheck %s --check-prefix=BADTARGET
// RUN: not smepilot-opt %s --smepilot-sme-pipeline=stop-after=tile 2>&1 | FileCheck %s --check-prefix=BADSTAGE

// BADTARGET: for the --target option: Cannot find option named 'sme3'!
// BADTARGET: error: smepilot-sme-pipeline: bad options 'target=sme3'
// BADSTAGE: smepilot-sme-pipeline: unknown stop-after stage 'tile' (stages: partition-collab, pipeline-attention, propagate-layout, tile-sme, decompose, fuse, dispatch-regions, vectorize, approximate-math, bufferize, dispatch, lower-sme, lower-to-llvm)

// LLVM: module attributes {smepilot.sme_target = "sme-sve"}
// NOSVE: module attributes {smepilot.sme_target = "sme2-nosve"}

/// f32 projection followed by an elementwise SiLU: the contraction becomes
/// a streaming kernel with a new ZA state, four ZA tiles ([4]x[4] f32 each,
/// tile ids 0..3) accumulated by one fmopa each per k step; the SiLU stays in
/// the (non-streaming) caller as vector code with a polynomial exp.
// SME-LABEL: func.func private @proj_f32_sme0(
// SME-SAME: attributes {arm_locally_streaming, arm_new_za, smepilot.sme_kernel}
// SME: %[[ACC:.*]]:4 = scf.for {{.*}} iter_args(%[[T0:.*]] = %{{.*}}, %[[T1:.*]] = %{{.*}}, %[[T2:.*]] = %{{.*}}, %[[T3:.*]] = %{{.*}}) -> (vector<[4]x[4]xf32>, vector<[4]x[4]xf32>, vector<[4]x[4]xf32>, vector<[4]x[4]xf32>)
// SME-DAG: arm_sme.outerproduct {{.*}} acc(%[[T0]]) {{.*}} : vector<[4]xf32>, vector<[4]xf32>
// SME-DAG: arm_sme.outerproduct {{.*}} acc(%[[T1]]) {{.*}} : vector<[4]xf32>, vector<[4]xf32>
// SME-DAG: arm_sme.outerproduct {{.*}} acc(%[[T2]]) {{.*}} : vector<[4]xf32>, vector<[4]xf32>
// SME-DAG: arm_sme.outerproduct {{.*}} acc(%[[T3]]) {{.*}} : vector<[4]xf32>, vector<[4]xf32>
// SME: scf.yield
// SME-NOT: vector.gather
// SME: arm_sme.store_tile_slice %[[ACC]]#0
// SME-LABEL: func.func @proj_f32(
// SME-NOT: arm_
// SME: call @proj_f32_sme0
// SME-NOT: math.exp
// SME: return

// LLVM-LABEL: llvm.func @proj_f32_sme0(
// LLVM-SAME: attributes {arm_locally_streaming, arm_new_za, smepilot.sme_kernel
// LLVM-NOT: llvm.call
// LLVM-NOT: llvm.intr.masked.gather
// LLVM-NOT: llvm.load {{.*}} -> f32
// LLVM: llvm.intr.masked.load {{.*}} -> vector<[8]xf32>
// LLVM: llvm.intr.masked.load {{.*}} -> vector<[8]xf32>
// LLVM-NOT: llvm.load {{.*}} -> f32
// LLVM-DAG: "arm_sme.intr.mopa"({{.*}}) <{tile_id = 0 : i32}> : ({{.*}}vector<[4]xf32>, vector<[4]xf32>) -> ()
// LLVM-DAG: "arm_sme.intr.mopa"({{.*}}) <{tile_id = 1 : i32}>
// LLVM-DAG: "arm_sme.intr.mopa"({{.*}}) <{tile_id = 2 : i32}>
// LLVM-DAG: "arm_sme.intr.mopa"({{.*}}) <{tile_id = 3 : i32}>
// LLVM-NOT: llvm.call
// LLVM: llvm.return
// LLVM-NEXT: }
// LLVM-LABEL: llvm.func @proj_f32(
// LLVM-NOT: arm_locally_streaming
// LLVM-NOT: arm_new_za
// LLVM: llvm.call @proj_f32_sme0(
// LLVM-NOT: llvm.call @exp
// LLVM: llvm.fmul {{.*}} : vector<16xf32>
// LLVM: llvm.return
func.func @proj_f32(%a: tensor<?x?xf32>, %w: tensor<?x?xf32>, %c: tensor<?x?xf32>) -> tensor<?x?xf32> {
  %r = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         ins(%a, %w : tensor<?x?xf32>, tensor<?x?xf32>) outs(%c : tensor<?x?xf32>) -> tensor<?x?xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%r : tensor<?x?xf32>) outs(%c : tensor<?x?xf32>) {
  ^bb0(%x: f32, %o: f32):
    %one = arith.constant 1.0 : f32
    %n = arith.negf %x : f32
    %e = math.exp %n : f32
    %d = arith.addf %one, %e : f32
    %y = arith.divf %x, %d : f32
    linalg.yield %y : f32
  } -> tensor<?x?xf32>
  return %s : tensor<?x?xf32>
}

/// bf16 x bf16 -> f32, K = 64: pairs of k steps fuse into 2-way widening
/// outer products (bfmopa) on the four f32 tiles; the bf16 extensions are
/// gone from the kernel.
// SME-LABEL: func.func private @proj_bf16_sme0(
// SME-SAME: attributes {arm_locally_streaming, arm_new_za, smepilot.sme_kernel}
// SME-NOT: arith.extf {{.*}} : vector<[8]xbf16>
// SME-COUNT-4: arm_sme.fmopa_2way {{.*}} : vector<[8]xbf16>, vector<[8]xbf16> into vector<[4]x[4]xf32>
// SME-NOT: arm_sme.outerproduct
// SME: return
// LLVM-LABEL: llvm.func @proj_bf16_sme0(
// LLVM-SAME: attributes {arm_locally_streaming, arm_new_za
// LLVM-NOT: llvm.call
// LLVM-DAG: "arm_sme.intr.mopa.wide"({{.*}}) <{tile_id = 0 : i32}> : ({{.*}}vector<[8]xbf16>, vector<[8]xbf16>) -> ()
// LLVM-DAG: "arm_sme.intr.mopa.wide"({{.*}}) <{tile_id = 1 : i32}>
// LLVM-DAG: "arm_sme.intr.mopa.wide"({{.*}}) <{tile_id = 2 : i32}>
// LLVM-DAG: "arm_sme.intr.mopa.wide"({{.*}}) <{tile_id = 3 : i32}>
// LLVM-NOT: llvm.call
// LLVM: llvm.return
// LLVM-NEXT: }
func.func @proj_bf16(%a: tensor<?x64xbf16>, %w: tensor<?x64xbf16>, %c: tensor<?x?xf32>) -> tensor<?x?xf32> {
  %r = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         ins(%a, %w : tensor<?x64xbf16>, tensor<?x64xbf16>) outs(%c : tensor<?x?xf32>) -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}

/// i8 x i8 -> i32, K = 64: quadruples of k steps fuse into 4-way smopa on the
/// four i32 tiles (checked structurally only: QEMU 7.2 computes smopa wrong).
// SME-LABEL: func.func private @proj_i8_sme0(
// SME-NOT: arith.extsi {{.*}} : vector<[8]xi8>
// SME-COUNT-4: arm_sme.smopa_4way {{.*}} : vector<[16]xi8>, vector<[16]xi8> into vector<[4]x[4]xi32>
// SME-NOT: arm_sme.outerproduct
// SME: return
// LLVM-LABEL: llvm.func @proj_i8_sme0(
// LLVM-NOT: llvm.call
// LLVM-DAG: "arm_sme.intr.smopa.wide"({{.*}}) <{tile_id = 0 : i32}> : ({{.*}}vector<[16]xi8>, vector<[16]xi8>) -> ()
// LLVM-DAG: "arm_sme.intr.smopa.wide"({{.*}}) <{tile_id = 1 : i32}>
// LLVM-DAG: "arm_sme.intr.smopa.wide"({{.*}}) <{tile_id = 2 : i32}>
// LLVM-DAG: "arm_sme.intr.smopa.wide"({{.*}}) <{tile_id = 3 : i32}>
// LLVM-NOT: llvm.call
// LLVM: llvm.return
// LLVM-NEXT: }
func.func @proj_i8(%a: tensor<?x64xi8>, %w: tensor<?x64xi8>, %c: tensor<?x?xi32>) -> tensor<?x?xi32> {
  %r = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         ins(%a, %w : tensor<?x64xi8>, tensor<?x64xi8>) outs(%c : tensor<?x?xi32>) -> tensor<?x?xi32>
  return %r : tensor<?x?xi32>
}

/// f16 x f16 -> f32 takes the same 2-way widening path (fmopa_2way on f16).
// SME-LABEL: func.func private @proj_f16_sme0(
// SME-NOT: arith.extf {{.*}} : vector<[8]xf16>
// SME-COUNT-4: arm_sme.fmopa_2way {{.*}} : vector<[8]xf16>, vector<[8]xf16> into vector<[4]x[4]xf32>
// SME-NOT: arm_sme.outerproduct
// SME: return
func.func @proj_f16(%a: tensor<?x64xf16>, %w: tensor<?x64xf16>, %c: tensor<?x?xf32>) -> tensor<?x?xf32> {
  %r = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         ins(%a, %w : tensor<?x64xf16>, tensor<?x64xf16>) outs(%c : tensor<?x?xf32>) -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}
