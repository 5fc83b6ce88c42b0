//===- Layouts.h - copies of operands in another layout ---*- C++ -*-===//
//
// What the passes that lay operands out for a unit share (smepilot-tile-sme,
// smepilot-partition-collab, smepilot-pipeline-attention: the K-major
// operands of the SME outer products).
//
//===----------------------------------------------------------------------===//

#ifndef SMEPILOT_DIALECT_SMEPILOT_TRANSFORMS_LAYOUTS_H
#define SMEPILOT_DIALECT_SMEPILOT_TRANSFORMS_LAYOUTS_H

#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Value.h"

#include <string>

namespace mlir::smepilot {

/// The position of loop dimension `dim` in the results of `map`, or -1.
int64_t resultPos(AffineMap map, unsigned dim);

/// What the SME lowering supports: the input element type and the
/// reduction step (the widening factor of the outer product).
struct SMEKind {
  Type inputType;
  int64_t kStep;
};

/// A contraction the matrix unit can run: its types and loop dimensions
/// (`batch` is empty or one dimension).
struct SMEContraction {
  SMEKind kind;
  SmallVector<unsigned, 1> batch;
  unsigned m, n, k;
};

/// Checks that `op` is a (batched) 2-D contraction C[b, m, n] += A(b, m, k) *
/// B(b, n, k) on tensors, each input a projection of its loops in any
/// order, with at most one batch dimension, a multiply-accumulate body and
/// types the matrix unit supports (f32, bf16/f16 -> f32, i8 -> i32); `why`
/// says what is not.
FailureOr<SMEContraction> matchSMEContraction(linalg::LinalgOp op,
                                              std::string &why);

/// The permutation that reads operand `map` (of a contraction) in the loop
/// order `order`: result i is the map's result position of loop order[i].
SmallVector<int64_t> operandPermutation(AffineMap map,
                                        ArrayRef<unsigned> order);

/// The sizes of `v` permuted: result i is v's dimension perm[i].
SmallVector<OpFoldResult> permutedSizes(OpBuilder &b, Location loc, Value v,
                                        ArrayRef<int64_t> perm);

/// Whether permuting a tensor of `type` by `perm` moves only dimensions of
/// static size 1 (the others keep their order): the bytes stay in place.
bool movesOnlyUnitDims(RankedTensorType type, ArrayRef<int64_t> perm);

/// `v` with its dimensions in the order `perm` (result dimension i is `v`'s
/// dimension perm[i]). When the permutation moves only dimensions of static
/// size 1 (the others keep their order), the bytes are already in the new
/// order: the result is a reshape of `v` (its unit dimensions collapsed
/// away and expanded back where `perm` puts them), a view once bufferized,
/// and `copy` is null. Otherwise it is a linalg.transpose into a new
/// tensor, `copy`, whose location records a layout change to `layout`
/// (Provenance.h). A decode step's activation [1, K] is its K-major [K, 1]
/// as it stands.
Value permuteDims(OpBuilder &b, Location loc, Value v, ArrayRef<int64_t> perm,
                  StringRef layout, Operation **copy = nullptr);

/// C[m, n] += At[k, m] * Bt[k, n]: the `linalg.matmul` on K-major operands
/// that the SME kernels tile (maps [(k, m), (k, n), (m, n)]).
linalg::MatmulOp createKMajorMatmul(OpBuilder &b, Location loc, Value at,
                                    Value bt, Value acc);

/// Returns `v` (an operand read through `map`, its loop dimensions in the
/// order `order` = [batch..., k, x]) packed for a `kStep`-way widening outer
/// product: [batch..., K / kStep, X * kStep] in `elementType`, element
/// [.., k2, x * kStep + j] = v(.., x, k = k2 * kStep + j), K padded with
/// zeros to `paddedK` (docs/layouts.md). A weight argument's pack
/// (`isWeight`) is marked `smepilot.pack_at_load`. With `rounded`, the same
/// linalg.generic also writes `v` rounded to `elementType` and widened back,
/// in `v`'s own type and layout, returned there (one pass over `v` for both:
/// a single use its producer can be fused into).
Value packForWideningOuterProduct(OpBuilder &b, Location loc, Value v,
                                  AffineMap map, ArrayRef<unsigned> order,
                                  bool isWeight, Type elementType,
                                  int64_t kStep, int64_t paddedK,
                                  Value *rounded = nullptr);

/// The tile loops of a widening SME kernel on packed operands (2-D
/// [K / kStep, M * kStep] and [K / kStep, N * kStep]) accumulating into
/// `acc` [M, N]: `arm_sme.fmopa_2way` (kStep 2) or `smopa_4way` (kStep 4)
/// on 2 x 2 [4] x [4] tiles held across the k loop. Returns the result.
Value buildWideningKernelLoops(OpBuilder &b, Location loc, Value at, Value bt,
                               Value acc, int64_t kStep);

/// The loops of a matrix-vector kernel (M = 1) in streaming-SVE FMLA, not
/// outer products (which would fill one row of a ZA tile), accumulating into
/// `acc` [1, N] f32; per [16] outputs, each k step loads the contiguous
/// values of a `wt` row and multiplies them by x broadcast. `kStep` 1: f32,
/// `xt` [K, 1] and `wt` [K, N] (K-major), C's row the accumulator. `kStep`
/// 2: bf16/f16 packed in k pairs as packForWideningOuterProduct lays them
/// out, `xt` [K / 2, 2] and `wt` [K / 2, N * 2]: the x pair is broadcast as
/// one 32-bit lane to every pair of lanes, both are widened, lane 2n + j
/// accumulates the products of k = 2 k2 + j in f32, and the even and odd
/// lanes are added to C once after the k loop. The caller marks the function
/// streaming (`arm_locally_streaming`). Returns the result.
Value buildMatvecLoops(OpBuilder &b, Location loc, Value xt, Value wt,
                       Value acc, int64_t kStep);

} // namespace mlir::smepilot

#endif // SMEPILOT_DIALECT_SMEPILOT_TRANSFORMS_LAYOUTS_H
