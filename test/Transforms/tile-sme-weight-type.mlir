// RUN: smepilot-opt %s --smepilot-tile-sme="all-contractions=true weight-type=bf16" -split-input-file | FileCheck %s --check-prefix=BF16
// RUN: smepilot-opt %s --smepilot-tile-sme="all-contractions=true weight-type=f16" -split-input-file | FileCheck %s --check-prefix=F16
// RUN: smepilot-opt %s --smepilot-tile-sme="all-contractions=true" -split-input-file | FileCheck %s --check-prefix=F32
// RUN: not smepilot-opt %s --smepilot-tile-sme="weight-type=i4" -split-input-file 2>&1 | FileCheck %s --check-prefix=BAD

/// weight-type: an f32 projection with a weight (an argument marked
/// smepilot.weight) computes in the weights' type, as llama.cpp does for
/// BF16/F16 models. One linalg.generic per operand packs it for the 2-way
/// widening outer product ([K/2, X, 2]: K split into pairs by an
/// expand_shape, the pairs of every row side by side, collapsed to
/// [K/2, 2X]) and rounds it (arith.truncf); the weight's is marked for
/// load-time packing. K = 63 is odd: both operands are padded with a zero
/// column to 64 first. The kernel's k loop runs over the 32 pairs with
/// arm_sme.fmopa_2way accumulating in f32.
// BF16-LABEL: func.func private @proj_sme0(
// BF16-SAME: tensor<32x8xbf16>, %{{.*}}: tensor<32x96xbf16>, %{{.*}}: tensor<4x48xf32>) -> tensor<4x48xf32>
// BF16: scf.for %{{.*}} = %c0 to %c32 step %c1
// BF16: arm_sme.fmopa_2way {{.*}} : vector<[8]xbf16>, vector<[8]xbf16> into vector<[4]x[4]xf32>
// BF16-LABEL: func.func @proj(
// BF16-SAME: %[[X:[^:]*]]: tensor<4x63xf32>, %[[W:[^:]*]]: tensor<48x63xf32> {smepilot.weight}
// BF16: %[[XP:.*]] = tensor.pad %[[X]] low[0, 0] high[0, 1]
// BF16: %[[XE:.*]] = tensor.expand_shape %[[XP]] {{\[}}[0], [1, 2]] output_shape [4, 32, 2] : tensor<4x64xf32> into tensor<4x32x2xf32>
// BF16: %[[XT:.*]] = linalg.generic {{.*}} ins(%[[XE]] : tensor<4x32x2xf32>) outs(%{{.*}} : tensor<32x4x2xbf16>)
// BF16:   arith.truncf %{{.*}} : f32 to bf16
// BF16: %[[XC:.*]] = tensor.collapse_shape %[[XT]] {{\[}}[0], [1, 2]] : tensor<32x4x2xbf16> into tensor<32x8xbf16>
// BF16: %[[WP:.*]] = tensor.pad %[[W]] low[0, 0] high[0, 1]
// BF16: %[[WE:.*]] = tensor.expand_shape %[[WP]] {{\[}}[0], [1, 2]] output_shape [48, 32, 2]
// BF16: %[[WT:.*]] = linalg.generic {{.*}} ins(%[[WE]] : tensor<48x32x2xf32>) outs(%{{.*}} : tensor<32x48x2xbf16>) attrs = {smepilot.pack_at_load}
// BF16:   arith.truncf %{{.*}} : f32 to bf16
// BF16: %[[WC:.*]] = tensor.collapse_shape %[[WT]]
// BF16: call @proj_sme0(%[[XC]], %[[WC]], %{{.*}})
/// f16 the same way, into f16 operands.
// F16-LABEL: func.func private @proj_sme0(
// F16-SAME: tensor<32x8xf16>, %{{.*}}: tensor<32x96xf16>, %{{.*}}: tensor<4x48xf32>
// F16: arm_sme.fmopa_2way {{.*}} : vector<[8]xf16>, vector<[8]xf16> into vector<[4]x[4]xf32>
// F16: arith.truncf %{{.*}} : f32 to f16
/// The default keeps f32: plain transposes, no rounding.
// F32-LABEL: func.func private @proj_sme0(
// F32-SAME: tensor<63x4xf32>, %{{.*}}: tensor<63x48xf32>, %{{.*}}: tensor<4x48xf32>
// F32-LABEL: func.func @proj(
// F32-NOT: arith.truncf
// F32: call @proj_sme0
func.func @proj(%x: tensor<4x63xf32>, %w: tensor<48x63xf32> {smepilot.weight},
                %c: tensor<4x48xf32>) -> tensor<4x48xf32> {
  %r = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         ins(%x, %w : tensor<4x63xf32>, tensor<48x63xf32>) outs(%c : tensor<4x48xf32>) -> tensor<4x48xf32>
  return %r : tensor<4x48xf32>
}

// -----

/// Without a weight operand (attention's Q K^T reads two activations) the
/// contraction stays f32 whatever weight-type says.
// BF16-LABEL: func.func private @scores_sme0(
// BF16-SAME: tensor<16x4xf32>, %{{.*}}: tensor<16x8xf32>
// BF16-LABEL: func.func @scores(
// BF16-NOT: arith.truncf
func.func @scores(%q: tensor<4x16xf32>, %k: tensor<8x16xf32>, %c: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %r = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         ins(%q, %k : tensor<4x16xf32>, tensor<8x16xf32>) outs(%c : tensor<4x8xf32>) -> tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}

// -----

/// A decode step (M = 1) in bf16: the x row packs to [K/2, 2] (one pair per
/// row) and the kernel is the streaming-SVE FMLA matvec, not outer products
/// (M = 1 would fill one row of a ZA tile): per [16] outputs, the k loop over
/// the 32 pairs loads the [32] packed weight values of a row, broadcasts the
/// x pair as one 32-bit lane to every pair of lanes, widens both and
/// accumulates in f32; the even and odd lanes are added after it.
// BF16-LABEL: func.func private @decode_sme0(
// BF16-SAME: %[[XT:[^:]*]]: tensor<32x2xbf16>, %[[WT:[^:]*]]: tensor<32x96xbf16>, %[[C:[^:]*]]: tensor<1x48xf32>) -> tensor<1x48xf32>
// BF16-SAME: arm_locally_streaming
// BF16-NOT: arm_sme.
// BF16: scf.for %[[N0:.*]] = %c0 to %c48 step %{{.*}} iter_args(%[[CI:.*]] = %[[C]])
// BF16: %[[KL:.*]] = scf.for %[[K:.*]] = %c0 to %c32 step %c1 iter_args(%[[ACC:.*]] = %{{.*}}) -> (vector<[32]xf32>)
// BF16:   %[[PAIR:.*]] = vector.transfer_read %[[XT]][%[[K]], %c0]{{.*}} : tensor<32x2xbf16>, vector<2xbf16>
// BF16:   %[[BITS:.*]] = vector.bitcast %[[PAIR]] : vector<2xbf16> to vector<1xi32>
// BF16:   vector.broadcast %{{.*}} : i32 to vector<[16]xi32>
// BF16:   %[[XS:.*]] = vector.bitcast %{{.*}} : vector<[16]xi32> to vector<[32]xbf16>
// BF16:   %[[W:.*]] = vector.transfer_read %[[WT]][%[[K]], %{{.*}}], %{{.*}}, %{{.*}} {in_bounds = [true]} : tensor<32x96xbf16>, vector<[32]xbf16>
// BF16:   %[[XF:.*]] = arith.extf %[[XS]] : vector<[32]xbf16> to vector<[32]xf32>
// BF16:   %[[WF:.*]] = arith.extf %[[W]] : vector<[32]xbf16> to vector<[32]xf32>
// BF16:   %[[FMA:.*]] = vector.fma %[[XF]], %[[WF]], %[[ACC]] : vector<[32]xf32>
// BF16:   scf.yield %[[FMA]]
// BF16: %[[EVEN:.*]], %[[ODD:.*]] = vector.deinterleave %[[KL]] : vector<[32]xf32> -> vector<[16]xf32>
// BF16: %[[OLD:.*]] = vector.transfer_read %[[CI]][%c0, %[[N0]]]
// BF16: %[[SUM:.*]] = arith.addf %[[EVEN]], %[[ODD]] : vector<[16]xf32>
// BF16: arith.addf %[[OLD]], %[[SUM]] : vector<[16]xf32>
// BF16: vector.transfer_write
// BF16-LABEL: func.func @decode(
// BF16: linalg.generic {{.*}} outs(%{{.*}} : tensor<32x1x2xbf16>)
// BF16: linalg.generic {{.*}} outs(%{{.*}} : tensor<32x48x2xbf16>) attrs = {smepilot.pack_at_load}
// BF16: call @decode_sme0(
/// The f32 default keeps the f32 FMLA matvec on the K-major copy.
// F32-LABEL: func.func private @decode_sme0(
// F32-SAME: tensor<64x1xf32>, %{{.*}}: tensor<64x48xf32>
// F32-NOT: vector.deinterleave
// F32-LABEL: func.func @decode(
func.func @decode(%x: tensor<1x64xf32>, %w: tensor<48x64xf32> {smepilot.weight},
                  %c: tensor<1x48xf32>) -> tensor<1x48xf32> {
  %r = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         ins(%x, %w : tensor<1x64xf32>, tensor<48x64xf32>) outs(%c : tensor<1x48xf32>) -> tensor<1x48xf32>
  return %r : tensor<1x48xf32>
}

// BAD: for the --weight-type option: Cannot find option named 'i4'!
