// RUN: smepilot-opt %s --pass-pipeline="builtin.module(func.func(smepilot-tile-cpu{report=true}))" 2>&1 | FileCheck %s

/// A gather over a dynamic dimension (the MoE: the rows of the tokens routed
/// to an expert, %n of them, picked by index from the hidden states). It is
/// tiled by 1 along the dynamic dimension, so each row's gather is static
/// and becomes a contiguous read of the picked row: masked, the LLVM 22
/// vectorizer gives the gather a mask of the wrong rank and the IR does not
/// verify.
// CHECK: remark: smepilot-tile-cpu: tiles [1, {{[0-9]+}}] vector sizes [1, {{[0-9]+}}] vectorized
// CHECK-LABEL: func.func @gather_rows(
// CHECK-NOT: vector.mask
// CHECK: scf.for
// CHECK: vector.transfer_read %{{.*}} : tensor<4x64xf32>, vector<1x16xf32>
// CHECK-NOT: vector.mask
// CHECK: return
func.func @gather_rows(%x: tensor<4x64xf32>, %rows: tensor<8xindex>, %n: index) -> tensor<?x64xf32> {
  %e = tensor.empty(%n) : tensor<?x64xf32>
  %g = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>],
                       iterator_types = ["parallel", "parallel"]}
       outs(%e : tensor<?x64xf32>) {
  ^bb0(%out: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %r = tensor.extract %rows[%i] : tensor<8xindex>
    %v = tensor.extract %x[%r, %j] : tensor<4x64xf32>
    linalg.yield %v : f32
  } -> tensor<?x64xf32>
  return %g : tensor<?x64xf32>
}
