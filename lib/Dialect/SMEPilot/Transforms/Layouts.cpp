//===- Layouts.cpp - copies of operands in another layout -----------------===//
//
// See Layouts.h.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Dialect/SMEPilot/Transforms/Layouts.h"

#include "smepilot/Dialect/SMEPilot/IR/Provenance.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ArmSME/IR/ArmSME.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

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

linalg::MatmulOp mlir::smepilot::createKMajorMatmul(OpBuilder &b, Location loc,
                                                    Value at, Value bt,
                                                    Value acc) {
  MLIRContext *ctx = b.getContext();
  AffineExpr dm = getAffineDimExpr(0, ctx), dn = getAffineDimExpr(1, ctx),
             dk = getAffineDimExpr(2, ctx);
  SmallVector<AffineMap> maps{AffineMap::get(3, 0, {dk, dm}, ctx),
                              AffineMap::get(3, 0, {dk, dn}, ctx),
                              AffineMap::get(3, 0, {dm, dn}, ctx)};
  NamedAttribute mapsAttr(b.getStringAttr("indexing_maps"),
                          b.getAffineMapArrayAttr(maps));
  return linalg::MatmulOp::create(b, loc, TypeRange{acc.getType()},
                                  ValueRange{at, bt}, ValueRange{acc},
                                  ArrayRef<NamedAttribute>{mapsAttr});
}

/// Returns `v` (an operand read through `map`, its loop dimensions in the
/// order `order` = [batch..., k, x]) packed for a `kStep`-way widening outer
/// product: [batch..., K / kStep, X * kStep] in `elementType`, element
/// [.., k2, x * kStep + j] = v(.., x, k = k2 * kStep + j), K padded with
/// zeros to `paddedK`. Row k2 holds, for every x, its kStep consecutive k
/// values side by side: the operand vector of `arm_sme.fmopa_2way` /
/// `smopa_4way` for [4] x values is one contiguous load, with no pairing in
/// registers. Built as an expand_shape that splits K into (K / kStep,
/// kStep), one linalg.generic that permutes to [batch..., k2, x, j] and
/// rounds, and a collapse_shape of (x, j): the copy is the generic alone.
/// When `v` is itself a collapse_shape (attention's heads assembled into
/// the O projection's K) whose innermost K dimension splits evenly, the
/// pack reads the collapse's source instead, so that elementwise fusion can
/// fold it into the producer of that source.
Value mlir::smepilot::packForWideningOuterProduct(
    OpBuilder &b, Location opLoc, Value v, AffineMap map,
    ArrayRef<unsigned> order, bool isWeight, Type elementType, int64_t kStep,
    int64_t paddedK, Value *rounded) {
  // Every op of the pack (the reshapes and the pad too, which end up in the
  // same dispatch) records the layout change, not the op it serves.
  std::string layout;
  llvm::raw_string_ostream(layout)
      << "k-packed [K/" << kStep << ", X, " << kStep << "] " << elementType;
  const Location loc = withLayoutChange(opLoc, layout);
  SmallVector<int64_t> perm = operandPermutation(map, order);
  const unsigned rank = perm.size();
  auto type = cast<RankedTensorType>(v.getType());
  const bool fromWeight = isWeight && isa<BlockArgument>(v);

  // The source and, per dimension of `v`, its source dimensions.
  Value src = v;
  SmallVector<ReassociationIndices> groups;
  for (unsigned d = 0; d < rank; ++d)
    groups.push_back({static_cast<int64_t>(d)});
  tensor::CollapseShapeOp readThrough; // src is this collapse's source
  const bool padded = type.getDimSize(perm[rank - 2]) != paddedK;
  if (padded) {
    SmallVector<int64_t> shape(type.getShape());
    int64_t kDim = perm[rank - 2];
    shape[kDim] = paddedK;
    Value zero =
        arith::ConstantOp::create(b, loc, b.getZeroAttr(type.getElementType()));
    SmallVector<OpFoldResult> low(rank, b.getIndexAttr(0));
    SmallVector<OpFoldResult> high(rank, b.getIndexAttr(0));
    high[kDim] = b.getIndexAttr(paddedK - type.getDimSize(kDim));
    src = tensor::PadOp::create(
        b, loc, RankedTensorType::get(shape, type.getElementType()), src, low,
        high, zero);
  } else if (auto collapse = v.getDefiningOp<tensor::CollapseShapeOp>()) {
    auto srcType = collapse.getSrcType();
    int64_t innerK = collapse.getReassociationIndices()[perm[rank - 2]].back();
    if (!srcType.isDynamicDim(innerK) &&
        srcType.getDimSize(innerK) % kStep == 0) {
      src = collapse.getSrc();
      groups = collapse.getReassociationIndices();
      readThrough = collapse;
    }
  }
  auto srcType = cast<RankedTensorType>(src.getType());
  const int64_t kLast = groups[perm[rank - 2]].back();

  // Split source dimension kLast into (k2, j) at kLast and kLast + 1.
  auto expandedPos = [&](int64_t d) { return d <= kLast ? d : d + 1; };
  SmallVector<int64_t> expandedShape;
  SmallVector<ReassociationIndices> expandMap;
  for (int64_t d = 0; d < srcType.getRank(); ++d) {
    if (d == kLast) {
      expandMap.push_back({kLast, kLast + 1});
      expandedShape.append({srcType.getDimSize(d) / kStep, kStep});
      continue;
    }
    expandMap.push_back({expandedPos(d)});
    expandedShape.push_back(srcType.getDimSize(d));
  }
  Value expanded = tensor::ExpandShapeOp::create(
      b, loc, RankedTensorType::get(expandedShape, srcType.getElementType()),
      src, expandMap);

  // out[batch..., k..., x..., j] = convert(expanded[...]): the source
  // dimensions of each loop dimension in the order `order`, then j.
  MLIRContext *ctx = b.getContext();
  const unsigned outRank = expandedShape.size();
  SmallVector<AffineExpr> inExprs(outRank);
  SmallVector<OpFoldResult> outSizes;
  SmallVector<ReassociationIndices> collapseMap;
  unsigned next = 0;
  for (unsigned i = 0; i < rank; ++i) {
    ReassociationIndices group;
    for (int64_t d : groups[perm[i]]) {
      inExprs[expandedPos(d)] = getAffineDimExpr(next, ctx);
      outSizes.push_back(
          tensor::getMixedSize(b, loc, expanded, expandedPos(d)));
      group.push_back(next++);
    }
    collapseMap.push_back(group);
  }
  inExprs[kLast + 1] = getAffineDimExpr(next, ctx);
  outSizes.push_back(b.getIndexAttr(kStep));
  collapseMap.back().push_back(next);
  // expandedPos(kLast) is the quotient, k2's innermost part.
  Value init = tensor::EmptyOp::create(b, loc, outSizes, elementType);
  AffineMap inMap = AffineMap::get(outRank, 0, inExprs, ctx);
  SmallVector<AffineMap> maps{inMap,
                              AffineMap::getMultiDimIdentityMap(outRank, ctx)};
  SmallVector<Value> inits{init};
  const Type srcElement = srcType.getElementType();
  const bool alsoRounded = rounded && srcElement != elementType;
  if (alsoRounded) {
    // The rounded copy is written where the input is read: the expanded
    // source's shape and order.
    inits.push_back(tensor::EmptyOp::create(
        b, loc, tensor::getMixedSizes(b, loc, expanded), srcElement));
    maps.push_back(inMap);
  }
  SmallVector<utils::IteratorType> iterators(outRank,
                                             utils::IteratorType::parallel);
  auto pack = linalg::GenericOp::create(
      b, loc, ValueRange(inits).getTypes(), ValueRange{expanded}, inits, maps,
      iterators, [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value r = args[0];
        if (r.getType() != elementType)
          r = arith::TruncFOp::create(nb, nloc, elementType, r);
        SmallVector<Value> results{r};
        if (alsoRounded)
          results.push_back(
              arith::ExtFOp::create(nb, nloc, srcElement, r).getResult());
        linalg::YieldOp::create(nb, nloc, results);
      });
  if (fromWeight)
    pack->setAttr("smepilot.pack_at_load", b.getUnitAttr());
  if (rounded) {
    *rounded = v;
    if (alsoRounded) {
      // Back to the source's shape, then to v's: v is the source, its
      // collapse, or the source without its K padding.
      Value r = tensor::CollapseShapeOp::create(b, loc, pack->getResult(1),
                                                expandMap);
      if (readThrough)
        r = tensor::CollapseShapeOp::create(
            b, loc, r, readThrough.getReassociationIndices());
      if (padded) {
        SmallVector<OpFoldResult> zeros(rank, b.getIndexAttr(0));
        SmallVector<OpFoldResult> ones(rank, b.getIndexAttr(1));
        r = tensor::ExtractSliceOp::create(
            b, loc, r, zeros, tensor::getMixedSizes(b, loc, v), ones);
      }
      *rounded = r;
    }
  }
  // [batch..., k2, x * kStep + j]: the bytes as they are.
  return tensor::CollapseShapeOp::create(b, loc, pack->getResult(0),
                                         collapseMap);
}

/// The tile loops of a widening kernel on packed operands (packForWidening-
/// OuterProduct): C[m, n] += sum over k2, j of At2[k2, m * s + j] *
/// Bt2[k2, n * s + j], s = `kStep`. m and n step by [8] scalable elements;
/// each step holds a 2 x 2 block of [4] x [4] accumulator tiles (all four
/// 32-bit ZA tiles) as the k loop's iter_args, read before the loop and
/// written after it (masked at the m/n edges). One k step loads the operand
/// vectors of both row halves of At2 and both column halves of Bt2 (each
/// [4 * s] elements, contiguous, zero past the edge) and issues the four
/// widening outer products `arm_sme.fmopa_2way` (bf16/f16) or
/// `arm_sme.smopa_4way` (i8) on them: nothing to pair up in registers, which
/// is what the upstream fusion of single outer products has to do
/// (vector.interleave) when the operands are merely K-major.
Value mlir::smepilot::buildWideningKernelLoops(OpBuilder &rewriter,
                                               Location loc, Value at, Value bt,
                                               Value acc, int64_t kStep) {
  Type inputType = getElementTypeOrSelf(at.getType());
  Type accType = getElementTypeOrSelf(acc.getType());
  Type i1 = rewriter.getI1Type();
  auto operandType = VectorType::get({4 * kStep}, inputType, {true});
  auto operandMaskType = VectorType::get({4 * kStep}, i1, {true});
  auto tileType = VectorType::get({4, 4}, accType, {true, true});
  auto tileMaskType = VectorType::get({4, 4}, i1, {true, true});
  MLIRContext *ctx = rewriter.getContext();
  AffineMapAttr rowMap =
      AffineMapAttr::get(AffineMap::getMinorIdentityMap(2, 1, ctx));

  Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
  Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
  Value step = arith::ConstantIndexOp::create(rewriter, loc, kStep);
  Value vscale = vector::VectorScaleOp::create(rewriter, loc);
  // [4] rows or columns per ZA tile of 32-bit accumulators, a block of 2 x 2
  // tiles per m and n step.
  Value quarter = arith::MulIOp::create(
      rewriter, loc, vscale, arith::ConstantIndexOp::create(rewriter, loc, 4));
  Value tile = arith::MulIOp::create(
      rewriter, loc, vscale,
      arith::ConstantIndexOp::create(rewriter, loc, 2 * 4));
  Value inputPad =
      arith::ConstantOp::create(rewriter, loc, rewriter.getZeroAttr(inputType));
  Value accPad =
      arith::ConstantOp::create(rewriter, loc, rewriter.getZeroAttr(accType));
  Value m = tensor::DimOp::create(rewriter, loc, acc, 0);
  Value n = tensor::DimOp::create(rewriter, loc, acc, 1);
  Value k2 = tensor::DimOp::create(rewriter, loc, at, 0);

  // The start of half `h` of a block at `base`, and how many of its [4]
  // rows (or columns) exist: clamp(extent - start, 0, [4]).
  auto half = [&](Value base, Value extent, int64_t h) {
    Value start = base;
    if (h == 1)
      start = arith::AddIOp::create(rewriter, loc, base, quarter);
    Value left = arith::SubIOp::create(rewriter, loc, extent, start);
    Value count = arith::MaxSIOp::create(
        rewriter, loc, zero,
        arith::MinSIOp::create(rewriter, loc, quarter, left));
    return std::make_pair(start, count);
  };

  auto mLoop = scf::ForOp::create(rewriter, loc, zero, m, tile, acc);
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPointToStart(mLoop.getBody());
  Value m0 = mLoop.getInductionVar();
  auto nLoop = scf::ForOp::create(rewriter, loc, zero, n, tile,
                                  mLoop.getRegionIterArgs()[0]);
  rewriter.setInsertionPointToStart(nLoop.getBody());
  Value n0 = nLoop.getInductionVar();
  Value c = nLoop.getRegionIterArgs()[0];
  std::pair<Value, Value> rows[2] = {half(m0, m, 0), half(m0, m, 1)};
  std::pair<Value, Value> cols[2] = {half(n0, n, 0), half(n0, n, 1)};
  ArrayAttr tileInBounds = rewriter.getBoolArrayAttr({true, true});
  ArrayAttr rowInBounds = rewriter.getBoolArrayAttr({true});
  SmallVector<Value> tileMasks, inits;
  for (auto &[rowStart, rowCount] : rows)
    for (auto &[colStart, colCount] : cols) {
      Value mask = vector::CreateMaskOp::create(rewriter, loc, tileMaskType,
                                                ValueRange{rowCount, colCount});
      tileMasks.push_back(mask);
      inits.push_back(vector::TransferReadOp::create(
          rewriter, loc, tileType, c, ValueRange{rowStart, colStart},
          AffineMapAttr::get(AffineMap::getMultiDimIdentityMap(2, ctx)), accPad,
          mask, tileInBounds));
    }
  // Operand vectors: [4] rows (columns) x kStep values, from element
  // start * kStep of the packed row.
  auto operandMask = [&](Value count) {
    Value lanes = arith::MulIOp::create(rewriter, loc, count, step);
    return vector::CreateMaskOp::create(rewriter, loc, operandMaskType,
                                        ValueRange{lanes});
  };
  Value rowMasks[2] = {operandMask(rows[0].second),
                       operandMask(rows[1].second)};
  Value colMasks[2] = {operandMask(cols[0].second),
                       operandMask(cols[1].second)};
  auto kLoop = scf::ForOp::create(rewriter, loc, zero, k2, one, inits);
  {
    OpBuilder::InsertionGuard inner(rewriter);
    rewriter.setInsertionPointToStart(kLoop.getBody());
    Value kk = kLoop.getInductionVar();
    auto load = [&](Value packed, Value start, Value mask) -> Value {
      Value offset = arith::MulIOp::create(rewriter, loc, start, step);
      return vector::TransferReadOp::create(rewriter, loc, operandType, packed,
                                            ValueRange{kk, offset}, rowMap,
                                            inputPad, mask, rowInBounds);
    };
    Value lhs[2] = {load(at, rows[0].first, rowMasks[0]),
                    load(at, rows[1].first, rowMasks[1])};
    Value rhs[2] = {load(bt, cols[0].first, colMasks[0]),
                    load(bt, cols[1].first, colMasks[1])};
    SmallVector<Value> updated;
    for (unsigned i = 0; i < 2; ++i)
      for (unsigned j = 0; j < 2; ++j) {
        Value accTile = kLoop.getRegionIterArgs()[i * 2 + j];
        if (kStep == 2)
          updated.push_back(
              arm_sme::FMopa2WayOp::create(rewriter, loc, tileType, lhs[i],
                                           rhs[j], Value(), Value(), accTile));
        else
          updated.push_back(
              arm_sme::SMopa4WayOp::create(rewriter, loc, tileType, lhs[i],
                                           rhs[j], Value(), Value(), accTile));
      }
    scf::YieldOp::create(rewriter, loc, updated);
  }
  Value written = c;
  for (unsigned i = 0; i < 2; ++i)
    for (unsigned j = 0; j < 2; ++j)
      written =
          vector::TransferWriteOp::create(
              rewriter, loc, kLoop.getResult(i * 2 + j), written,
              ValueRange{rows[i].first, cols[j].first},
              AffineMapAttr::get(AffineMap::getMultiDimIdentityMap(2, ctx)),
              tileMasks[i * 2 + j], tileInBounds)
              .getResult();
  scf::YieldOp::create(rewriter, loc, written);
  rewriter.setInsertionPointAfter(nLoop);
  scf::YieldOp::create(rewriter, loc, nLoop.getResults());
  rewriter.setInsertionPointAfter(mLoop);
  return mLoop.getResult(0);
}

Value mlir::smepilot::buildMatvecLoops(OpBuilder &b, Location loc, Value xt,
                                       Value wt, Value acc, int64_t kStep) {
  assert((kStep == 1 || kStep == 2) && "f32 or 2-way widening matvec");
  // [16] f32 outputs per n step: 4 accumulators of [4] lanes, for the FMA
  // pipes.
  constexpr int64_t kLanes = 16;
  Type inputType = getElementTypeOrSelf(xt.getType());
  Type f32 = b.getF32Type();
  Type i1 = b.getI1Type();
  // The values of one k step for [16] outputs: a weight row's [16 * kStep].
  auto stepType = VectorType::get({kStep * kLanes}, inputType, {true});
  auto stepF32 = VectorType::get({kStep * kLanes}, f32, {true});
  auto outType = VectorType::get({kLanes}, f32, {true});
  MLIRContext *ctx = b.getContext();
  AffineMapAttr rowMap =
      AffineMapAttr::get(AffineMap::getMinorIdentityMap(2, 1, ctx));
  ArrayAttr inBounds = b.getBoolArrayAttr({true});

  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value lanes =
      arith::MulIOp::create(b, loc, vector::VectorScaleOp::create(b, loc),
                            arith::ConstantIndexOp::create(b, loc, kLanes));
  Value f32Pad = arith::ConstantOp::create(b, loc, b.getZeroAttr(f32));
  Value inputPad =
      kStep == 1 ? f32Pad
                 : arith::ConstantOp::create(b, loc, b.getZeroAttr(inputType));
  Value n = tensor::DimOp::create(b, loc, acc, 1);
  Value k = tensor::DimOp::create(b, loc, wt, 0);

  auto nLoop = scf::ForOp::create(b, loc, zero, n, lanes, acc);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(nLoop.getBody());
  Value n0 = nLoop.getInductionVar();
  Value c = nLoop.getRegionIterArgs()[0];
  Value len = arith::MinSIOp::create(b, loc, lanes,
                                     arith::SubIOp::create(b, loc, n, n0));
  Value outMask = vector::CreateMaskOp::create(
      b, loc, VectorType::get({kLanes}, i1, {true}), ValueRange{len});
  Value stepMask = outMask, w0 = n0;
  Value init;
  if (kStep == 1) {
    // f32: C's row is the accumulator.
    init =
        vector::TransferReadOp::create(b, loc, outType, c, ValueRange{zero, n0},
                                       rowMap, f32Pad, outMask, inBounds);
  } else {
    // Pairs: lane 2n + j accumulates the products of k = 2 k2 + j from zero.
    Value step = arith::ConstantIndexOp::create(b, loc, kStep);
    stepMask = vector::CreateMaskOp::create(
        b, loc, VectorType::get({kStep * kLanes}, i1, {true}),
        ValueRange{arith::MulIOp::create(b, loc, len, step)});
    w0 = arith::MulIOp::create(b, loc, n0, step);
    init = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(stepF32, b.getZeroAttr(f32)));
  }
  auto kLoop = scf::ForOp::create(b, loc, zero, k, one, init);
  {
    OpBuilder::InsertionGuard inner(b);
    b.setInsertionPointToStart(kLoop.getBody());
    Value kk = kLoop.getInductionVar();
    Value xs;
    if (kStep == 1) {
      Value x = tensor::ExtractOp::create(b, loc, xt, ValueRange{kk, zero});
      xs = vector::BroadcastOp::create(b, loc, stepType, x);
    } else {
      // The x pair as one 32-bit lane, broadcast: x0 x1 x0 x1 ...
      Type i32 = b.getI32Type();
      Value pair = vector::TransferReadOp::create(
          b, loc, VectorType::get({2}, inputType), xt, ValueRange{kk, zero},
          rowMap, inputPad, /*mask=*/Value(), inBounds);
      Value pairBits = vector::ExtractOp::create(
          b, loc,
          vector::BitCastOp::create(b, loc, VectorType::get({1}, i32), pair),
          ArrayRef<int64_t>{0});
      xs = vector::BitCastOp::create(
          b, loc, stepType,
          vector::BroadcastOp::create(
              b, loc, VectorType::get({kLanes}, i32, {true}), pairBits));
    }
    Value w =
        vector::TransferReadOp::create(b, loc, stepType, wt, ValueRange{kk, w0},
                                       rowMap, inputPad, stepMask, inBounds);
    if (inputType != f32) {
      xs = arith::ExtFOp::create(b, loc, stepF32, xs);
      w = arith::ExtFOp::create(b, loc, stepF32, w);
    }
    Value sum =
        vector::FMAOp::create(b, loc, xs, w, kLoop.getRegionIterArgs()[0]);
    scf::YieldOp::create(b, loc, sum);
  }
  Value y = kLoop.getResult(0);
  if (kStep == 2) {
    // y[n] = C[n] + lane 2n (the first of each k pair) + lane 2n + 1.
    auto halves = vector::DeinterleaveOp::create(b, loc, y);
    Value old =
        vector::TransferReadOp::create(b, loc, outType, c, ValueRange{zero, n0},
                                       rowMap, f32Pad, outMask, inBounds);
    y = arith::AddFOp::create(
        b, loc, old,
        arith::AddFOp::create(b, loc, halves.getRes1(), halves.getRes2()));
  }
  Value written =
      vector::TransferWriteOp::create(b, loc, y, c, ValueRange{zero, n0},
                                      rowMap, outMask, inBounds)
          .getResult();
  scf::YieldOp::create(b, loc, written);
  b.setInsertionPointAfter(nLoop);
  return nLoop.getResult(0);
}
