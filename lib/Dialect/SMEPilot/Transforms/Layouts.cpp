//===- Layouts.cpp - copies of operands in another layout -----------------===//
//
// See Layouts.h.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Dialect/SMEPilot/Transforms/Layouts.h"

#include "smepilot/Dialect/SMEPilot/IR/Provenance.h"

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

} // namespace

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
  // Only unit dimensions move when the others come in the same order.
  SmallVector<int64_t> order, permutedOrder;
  for (auto [d, s] : llvm::enumerate(shape))
    if (s != 1)
      order.push_back(int64_t(d));
  for (int64_t p : perm)
    if (shape[p] != 1)
      permutedOrder.push_back(p);
  if (type.hasStaticShape() && order == permutedOrder) {
    auto flat = RankedTensorType::get(nonUnit(shape), type.getElementType());
    Value collapsed = tensor::CollapseShapeOp::create(
        b, loc, flat, v, groupAroundNonUnit(shape));
    return tensor::ExpandShapeOp::create(
        b, loc, RankedTensorType::get(permuted, type.getElementType()),
        collapsed, groupAroundNonUnit(permuted));
  }
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, v);
  SmallVector<OpFoldResult> permutedSizes;
  for (int64_t p : perm)
    permutedSizes.push_back(sizes[p]);
  Value init =
      tensor::EmptyOp::create(b, loc, permutedSizes, type.getElementType());
  auto transpose = linalg::TransposeOp::create(b, withLayoutChange(loc, layout),
                                               v, init, perm);
  if (copy)
    *copy = transpose;
  return transpose->getResult(0);
}
