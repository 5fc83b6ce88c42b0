//===- Layouts.cpp - copies of operands in another layout -----------------===//
//
// See Layouts.h.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Dialect/SMEPilot/Transforms/Layouts.h"

#include "smepilot/Dialect/SMEPilot/IR/Provenance.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::smepilot;

namespace {

/// Groups the dimensions of `shape` around its non-unit ones (each takes
/// the unit dimensions after it; the first also those before it), as
/// collapse_shape / expand_shape reassociations; empty when every dimension
/// is 1 (a rank-0 tensor).
SmallVector<ReassociationIndices> groupAroundNonUnit(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> starts;
  for (auto [d, size] : llvm::enumerate(shape))
    if (size != 1)
      starts.push_back(starts.empty() ? 0 : int64_t(d));
  SmallVector<ReassociationIndices> groups;
  for (auto [j, start] : llvm::enumerate(starts)) {
    int64_t end = j + 1 < starts.size() ? starts[j + 1] : int64_t(shape.size());
    groups.push_back(llvm::to_vector(llvm::seq<int64_t>(start, end)));
  }
  return groups;
}

SmallVector<int64_t> nonUnit(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> sizes;
  for (int64_t s : shape)
    if (s != 1)
      sizes.push_back(s);
  return sizes;
}

/// The element types of a contraction the matrix unit can run, or failure
/// with `why` filled in.
FailureOr<SMEKind> classifyTypes(linalg::LinalgOp op, std::string &why) {
  Type a = getElementTypeOrSelf(op.getDpsInputOperand(0)->get().getType());
  Type b = getElementTypeOrSelf(op.getDpsInputOperand(1)->get().getType());
  Type c = getElementTypeOrSelf(op.getDpsInitOperand(0)->get().getType());
  if (a != b) {
    why = "inputs of different element types";
    return failure();
  }
  if (a.isF32() && c.isF32())
    return SMEKind{a, 1};
  if ((a.isBF16() || a.isF16()) && c.isF32())
    return SMEKind{a, 2};
  if (a.isInteger(8) && c.isInteger(32))
    return SMEKind{a, 4};
  why = "unsupported element types (f32, bf16/f16 -> f32, i8 -> i32 only)";
  return failure();
}

/// True if the body is the plain multiply-accumulate the named matmul
/// computes (signed extension of integers, the only one linalg.matmul uses).
bool hasMatmulBody(linalg::LinalgOp op) {
  return llvm::all_of(op.getBlock()->without_terminator(), [](Operation &o) {
    return isa<arith::MulFOp, arith::AddFOp, arith::MulIOp, arith::AddIOp,
               arith::ExtFOp, arith::ExtSIOp>(o);
  });
}

} // namespace

int64_t mlir::smepilot::resultPos(AffineMap map, unsigned dim) {
  for (unsigned i = 0; i < map.getNumResults(); ++i)
    if (map.getResult(i) == getAffineDimExpr(dim, map.getContext()))
      return i;
  return -1;
}

SmallVector<OpFoldResult>
mlir::smepilot::permutedSizes(OpBuilder &b, Location loc, Value v,
                              ArrayRef<int64_t> perm) {
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, v);
  return llvm::map_to_vector(perm, [&](int64_t p) { return sizes[p]; });
}

SmallVector<int64_t>
mlir::smepilot::operandPermutation(AffineMap map, ArrayRef<unsigned> order) {
  SmallVector<int64_t> perm;
  for (unsigned dim : order)
    perm.push_back(resultPos(map, dim));
  return perm;
}

/// Checks that `op` is a (batched) 2-D contraction C[b, m, n] += A(b, m, k) *
/// B(b, n, k) on tensors, each input a projection of its loops in any
/// order, with at most one batch dimension, a multiply-accumulate body and
/// supported types; `why` says what is not.
FailureOr<SMEContraction>
mlir::smepilot::matchSMEContraction(linalg::LinalgOp op, std::string &why) {
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::isaContractionOpInterface(op)
          ? linalg::inferContractionDims(op)
          : FailureOr<linalg::ContractionDimensions>(failure());
  if (failed(dims) || op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      dims->m.size() != 1 || dims->n.size() != 1 || dims->k.size() != 1 ||
      dims->batch.size() > 1 || op.getNumLoops() != 3 + dims->batch.size() ||
      !op.hasPureTensorSemantics() || !hasMatmulBody(op)) {
    why = "only matmul-like contractions on tensors (one m, n and k "
          "dimension, at most one batch dimension, multiply-accumulate body) "
          "can run on SME";
    return failure();
  }
  SMEContraction c;
  c.batch.assign(dims->batch.begin(), dims->batch.end());
  c.m = dims->m[0];
  c.n = dims->n[0];
  c.k = dims->k[0];
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  unsigned rank = 2 + c.batch.size();
  auto reads = [&](AffineMap map, unsigned x) {
    return map.getNumResults() == rank && map.isProjectedPermutation() &&
           resultPos(map, x) >= 0 && resultPos(map, c.k) >= 0 &&
           (c.batch.empty() || resultPos(map, c.batch[0]) >= 0);
  };
  SmallVector<unsigned> resultOrder(c.batch.begin(), c.batch.end());
  resultOrder.append({c.m, c.n});
  bool cInOrder = maps[2].getNumResults() == rank;
  for (auto [i, dim] : llvm::enumerate(resultOrder))
    cInOrder = cInOrder && resultPos(maps[2], dim) == int64_t(i);
  if (!reads(maps[0], c.m) || !reads(maps[1], c.n) || !cInOrder) {
    why = "operands must be A(b, m, k), B(b, n, k) in any order and "
          "C[b, m, n]";
    return failure();
  }
  FailureOr<SMEKind> kind = classifyTypes(op, why);
  if (failed(kind))
    return failure();
  c.kind = *kind;
  return c;
}

bool mlir::smepilot::movesOnlyUnitDims(RankedTensorType type,
                                       ArrayRef<int64_t> perm) {
  if (!type.hasStaticShape())
    return false;
  // Only unit dimensions move when the others come in the same order.
  SmallVector<int64_t> order, permutedOrder;
  for (auto [d, s] : llvm::enumerate(type.getShape()))
    if (s != 1)
      order.push_back(int64_t(d));
  for (int64_t p : perm)
    if (type.getDimSize(p) != 1)
      permutedOrder.push_back(p);
  return order == permutedOrder;
}

Value mlir::smepilot::permuteDims(OpBuilder &b, Location loc, Value v,
                                  ArrayRef<int64_t> perm, StringRef layout,
                                  Operation **copy) {
  if (copy)
    *copy = nullptr;
  auto type = cast<RankedTensorType>(v.getType());
  SmallVector<int64_t> shape(type.getShape());
  SmallVector<int64_t> permuted;
  for (int64_t p : perm)
    permuted.push_back(shape[p]);
  if (movesOnlyUnitDims(type, perm)) {
    auto flat = RankedTensorType::get(nonUnit(shape), type.getElementType());
    Value collapsed = tensor::CollapseShapeOp::create(
        b, loc, flat, v, groupAroundNonUnit(shape));
    return tensor::ExpandShapeOp::create(
        b, loc, RankedTensorType::get(permuted, type.getElementType()),
        collapsed, groupAroundNonUnit(permuted));
  }
  Value init = tensor::EmptyOp::create(b, loc, permutedSizes(b, loc, v, perm),
                                       type.getElementType());
  auto transpose = linalg::TransposeOp::create(b, withLayoutChange(loc, layout),
                                               v, init, perm);
  if (copy)
    *copy = transpose;
  return transpose->getResult(0);
}
