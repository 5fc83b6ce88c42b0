//===- PropagateLayout.cpp - Operand layouts per unit, moved into producers
//===//
//
// smepilot-propagate-layout (Passes.td, docs/layouts.md). A layout change
// is a linalg.transpose: a pass over memory that reads one tensor and
// writes it again in another order. The matrix unit wants its activation
// operands K-major; the ops that produce them (norms, RoPE, SwiGLU,
// softmax: linalg.generic) can write any order for the same cost, by
// permuting their output indexing map. So the pass states what each
// contraction on the matrix unit reads, as explicit transposes, and then
// pushes every transpose backwards until a producer writes that order
// itself, two transposes cancel, or something that cannot write another
// order (a function argument such as the KV cache, a named contraction, an
// insert_slice) is reached. What is left is the layout state of the module:
// each remaining change says, in `smepilot.layout_reason`, why no producer
// writes it.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Dialect/SMEPilot/IR/Provenance.h"
#include "smepilot/Dialect/SMEPilot/IR/SMEPilot.h"
#include "smepilot/Dialect/SMEPilot/Transforms/Layouts.h"
#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h"

#include "smepilot/Analysis/Roofline.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/STLExtras.h"

namespace mlir::smepilot {
#define GEN_PASS_DEF_PROPAGATELAYOUT
#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h.inc"
} // namespace mlir::smepilot

using namespace mlir;
using namespace mlir::smepilot;

namespace {

/// The attribute recording the layout a change produces, and why it is left.
constexpr StringLiteral kLayoutAttr = "smepilot.layout";
constexpr StringLiteral kLayoutReasonAttr = "smepilot.layout_reason";

/// What the rewrites did, for the pass statistics.
struct Counts {
  int64_t inserted = 0, absorbed = 0, dualWrites = 0, cancelled = 0,
          hoisted = 0, atLoad = 0, left = 0;
};

bool isIdentityPerm(ArrayRef<int64_t> perm) {
  return llvm::equal(perm, llvm::seq<int64_t>(0, perm.size()));
}

LayoutAttr layoutFor(MLIRContext *ctx, ArrayRef<int64_t> perm) {
  return LayoutAttr::get(ctx, {}, {}, {}, perm);
}

/// A transpose of `v` by `perm` at the builder's point, carrying the
/// layout-change record and state of `like` (the transpose it replaces).
Value createTranspose(OpBuilder &b, linalg::TransposeOp like, Value v,
                      ArrayRef<int64_t> perm) {
  Location loc = like.getLoc();
  Value init = tensor::EmptyOp::create(b, loc, permutedSizes(b, loc, v, perm),
                                       getElementTypeOrSelf(v.getType()));
  auto t = linalg::TransposeOp::create(b, loc, v, init, perm);
  t->setDiscardableAttrs(like->getDiscardableAttrDictionary());
  t->setAttr(kLayoutAttr, layoutFor(b.getContext(), perm));
  return t->getResult(0);
}

//===----------------------------------------------------------------------===//
// Propagation patterns
//===----------------------------------------------------------------------===//

/// transpose(transpose(x, p1), p2) -> transpose(x, p1 o p2), or x.
struct ComposeTransposes : OpRewritePattern<linalg::TransposeOp> {
  ComposeTransposes(MLIRContext *ctx, Counts &counts)
      : OpRewritePattern(ctx, /*benefit=*/3), counts(counts) {}
  LogicalResult matchAndRewrite(linalg::TransposeOp t,
                                PatternRewriter &rewriter) const override {
    auto inner = t.getInput().getDefiningOp<linalg::TransposeOp>();
    if (!inner)
      return failure();
    ArrayRef<int64_t> p1 = inner.getPermutation(), p2 = t.getPermutation();
    SmallVector<int64_t> composed =
        llvm::map_to_vector(p2, [&](int64_t p) { return p1[p]; });
    ++counts.cancelled;
    if (isIdentityPerm(composed)) {
      rewriter.replaceOp(t, inner.getInput());
      return success();
    }
    rewriter.setInsertionPoint(t);
    rewriter.replaceOp(
        t, createTranspose(rewriter, t, inner.getInput(), composed));
    return success();
  }
  Counts &counts;
};

/// A transpose that moves only dimensions of size 1 is a reshape: the
/// bytes are already in the new order (a decode step's [1, heads, d] ->
/// [heads, 1, d]), a view once bufferized.
struct UnitDimTransposeToReshape : OpRewritePattern<linalg::TransposeOp> {
  UnitDimTransposeToReshape(MLIRContext *ctx, Counts &counts)
      : OpRewritePattern(ctx, /*benefit=*/4), counts(counts) {}
  LogicalResult matchAndRewrite(linalg::TransposeOp t,
                                PatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(t.getInput().getType());
    if (!movesOnlyUnitDims(type, t.getPermutation()))
      return failure();
    rewriter.setInsertionPoint(t);
    rewriter.replaceOp(t, permuteDims(rewriter, t.getLoc(), t.getInput(),
                                      t.getPermutation(), ""));
    ++counts.cancelled;
    return success();
  }
  Counts &counts;
};

/// Whether `v` is made by something a transpose can move into or through:
/// a linalg.generic, an elementwise linalg op, a transpose, or a reshape of
/// one of those.
bool isMovableSource(Value v) {
  Operation *def = v.getDefiningOp();
  if (!def)
    return false;
  if (isa<linalg::TransposeOp, linalg::GenericOp>(def))
    return true;
  if (auto l = dyn_cast<linalg::LinalgOp>(def))
    return linalg::isElementwise(l) && l.hasPureTensorSemantics();
  if (auto c = dyn_cast<tensor::CollapseShapeOp>(def))
    return isMovableSource(c.getSrc());
  if (auto e = dyn_cast<tensor::ExpandShapeOp>(def))
    return isMovableSource(e.getSrc());
  return false;
}

/// transpose(collapse_shape(x), p) -> collapse_shape(transpose(x, p')) when
/// p moves the collapsed groups whole (always: a collapsed dimension is one
/// group).
struct TransposeThroughCollapse : OpRewritePattern<linalg::TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(linalg::TransposeOp t,
                                PatternRewriter &rewriter) const override {
    auto collapse = t.getInput().getDefiningOp<tensor::CollapseShapeOp>();
    if (!collapse || !isMovableSource(collapse.getSrc()))
      return failure();
    SmallVector<ReassociationIndices> groups =
        collapse.getReassociationIndices();
    SmallVector<int64_t> expanded;
    SmallVector<ReassociationIndices> newGroups;
    for (int64_t p : t.getPermutation()) {
      ReassociationIndices g;
      for (int64_t d : groups[p]) {
        g.push_back(expanded.size());
        expanded.push_back(d);
      }
      newGroups.push_back(g);
    }
    rewriter.setInsertionPoint(t);
    Value moved = createTranspose(rewriter, t, collapse.getSrc(), expanded);
    rewriter.replaceOpWithNewOp<tensor::CollapseShapeOp>(
        t, t->getResult(0).getType(), moved, newGroups);
    return success();
  }
};

/// transpose(expand_shape(x), p) -> expand_shape(transpose(x, p')) when p
/// moves every expanded group whole and in order (static shapes).
struct TransposeThroughExpand : OpRewritePattern<linalg::TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(linalg::TransposeOp t,
                                PatternRewriter &rewriter) const override {
    auto expand = t.getInput().getDefiningOp<tensor::ExpandShapeOp>();
    auto resultType = cast<RankedTensorType>(t->getResult(0).getType());
    if (!expand || !resultType.hasStaticShape() ||
        !isMovableSource(expand.getSrc()))
      return failure();
    SmallVector<ReassociationIndices> groups = expand.getReassociationIndices();
    SmallVector<int64_t> groupOf(expand.getResultType().getRank());
    for (auto [g, dims] : llvm::enumerate(groups))
      for (int64_t d : dims)
        groupOf[d] = g;
    ArrayRef<int64_t> perm = t.getPermutation();
    SmallVector<int64_t> srcPerm;
    SmallVector<ReassociationIndices> newGroups;
    for (size_t i = 0; i < perm.size();) {
      const ReassociationIndices &g = groups[groupOf[perm[i]]];
      // The whole group, in order, starting here.
      if (perm.size() - i < g.size())
        return failure();
      ReassociationIndices ng;
      for (auto [j, d] : llvm::enumerate(g)) {
        if (perm[i + j] != d)
          return failure();
        ng.push_back(i + j);
      }
      srcPerm.push_back(groupOf[perm[i]]);
      newGroups.push_back(ng);
      i += g.size();
    }
    rewriter.setInsertionPoint(t);
    Value moved = createTranspose(rewriter, t, expand.getSrc(), srcPerm);
    rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(t, resultType, moved,
                                                       newGroups);
    return success();
  }
};

/// transpose(extract_slice(x), p) -> extract_slice(transpose(x, p)) for a
/// rank-preserving slice with unit strides: the slices of one tensor (a
/// head each, in pipelined attention) then share one transposed tensor,
/// which the producer of x can write.
struct TransposeThroughSlice : OpRewritePattern<linalg::TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(linalg::TransposeOp t,
                                PatternRewriter &rewriter) const override {
    auto slice = t.getInput().getDefiningOp<tensor::ExtractSliceOp>();
    if (!slice || !isMovableSource(slice.getSource()) ||
        slice.getSourceType().getRank() != slice.getResultType().getRank() ||
        !llvm::all_of(slice.getMixedStrides(),
                      [](OpFoldResult s) { return isOneInteger(s); }))
      return failure();
    ArrayRef<int64_t> perm = t.getPermutation();
    auto permute = [&](SmallVector<OpFoldResult> v) {
      return llvm::map_to_vector(perm, [&](int64_t p) { return v[p]; });
    };
    rewriter.setInsertionPoint(t);
    Value moved = createTranspose(rewriter, t, slice.getSource(), perm);
    rewriter.replaceOpWithNewOp<tensor::ExtractSliceOp>(
        t, cast<RankedTensorType>(t->getResult(0).getType()), moved,
        permute(slice.getMixedOffsets()), permute(slice.getMixedSizes()),
        permute(slice.getMixedStrides()));
    return success();
  }
};

/// transpose(generic(...)#r, p): the generic writes result r permuted (its
/// output map's results permuted, into a new tensor), alone when r has no
/// other user, else as a second output beside r (both layouts in one pass;
/// an output already written in that layout is reused). An elementwise
/// named op is generalized first.
struct AbsorbIntoProducer : OpRewritePattern<linalg::TransposeOp> {
  AbsorbIntoProducer(MLIRContext *ctx, Counts &counts)
      : OpRewritePattern(ctx, /*benefit=*/2), counts(counts) {}

  LogicalResult matchAndRewrite(linalg::TransposeOp t,
                                PatternRewriter &rewriter) const override {
    auto result = dyn_cast<OpResult>(t.getInput());
    if (!result)
      return failure();
    auto producer = dyn_cast<linalg::LinalgOp>(result.getOwner());
    if (!producer || !producer.hasPureTensorSemantics())
      return failure();
    auto generic = dyn_cast<linalg::GenericOp>(*producer);
    if (!generic) {
      if (!linalg::isElementwise(producer))
        return failure();
      rewriter.setInsertionPoint(producer);
      FailureOr<linalg::GenericOp> g =
          linalg::generalizeNamedOp(rewriter, producer);
      if (failed(g))
        return failure();
      generic = *g;
      result = cast<OpResult>(t.getInput());
    }
    unsigned r = result.getResultNumber();
    OpOperand *init = generic.getDpsInitOperand(r);
    const bool readsInit = !generic.getMatchingBlockArgument(init).use_empty();
    // An accumulating output (a reduction's) needs its initial values in the
    // new order too: only a fill can be redone for free.
    auto fill = init->get().getDefiningOp<linalg::FillOp>();
    if (readsInit && !fill)
      return failure();
    ArrayRef<int64_t> perm = t.getPermutation();
    AffineMap map = generic.getMatchingIndexingMap(init);
    AffineMap newMap = AffineMap::get(
        map.getNumDims(), map.getNumSymbols(),
        llvm::map_to_vector(perm, [&](int64_t p) { return map.getResult(p); }),
        rewriter.getContext());
    auto yield = cast<linalg::YieldOp>(generic.getBody()->getTerminator());
    const bool alone = result.hasOneUse();
    if (!alone && readsInit)
      return failure();

    // Already written in that layout (another slice's or consumer's; also
    // when this is the last reader of result r: r is then left unused and
    // canonicalization drops it, instead of the producer writing the same
    // layout twice).
    if (!readsInit)
      for (OpOperand &other : generic.getDpsInitsMutable())
        if (other.getOperandNumber() != init->getOperandNumber() &&
            generic.getMatchingIndexingMap(&other) == newMap &&
            yield->getOperand(other.getOperandNumber() -
                              generic.getNumDpsInputs()) ==
                yield->getOperand(r) &&
            generic.getMatchingBlockArgument(&other).use_empty() &&
            generic->getResult(other.getOperandNumber() -
                               generic.getNumDpsInputs())
                    .getType() == t->getResult(0).getType()) {
          rewriter.replaceOp(t, generic->getResult(other.getOperandNumber() -
                                                   generic.getNumDpsInputs()));
          ++counts.absorbed;
          return success();
        }

    rewriter.setInsertionPoint(generic);
    Location loc = generic.getLoc();
    Value newInit;
    if (readsInit) {
      Value empty = tensor::EmptyOp::create(
          rewriter, loc, permutedSizes(rewriter, loc, init->get(), perm),
          getElementTypeOrSelf(init->get().getType()));
      auto newFill = linalg::FillOp::create(rewriter, fill.getLoc(),
                                            fill.getInputs(), empty);
      newFill->setDiscardableAttrs(fill->getDiscardableAttrDictionary());
      newInit = newFill.getResult(0);
    } else {
      newInit = tensor::EmptyOp::create(
          rewriter, loc, permutedSizes(rewriter, loc, init->get(), perm),
          getElementTypeOrSelf(init->get().getType()));
    }
    SmallVector<Value> outs(generic.getDpsInits());
    SmallVector<AffineMap> maps = generic.getIndexingMapsArray();
    SmallVector<Type> types(generic->getResultTypes());
    Type permutedType = t->getResult(0).getType();
    if (alone) {
      outs[r] = newInit;
      maps[generic.getNumDpsInputs() + r] = newMap;
      types[r] = permutedType;
    } else {
      outs.push_back(newInit);
      maps.push_back(newMap);
      types.push_back(permutedType);
    }
    auto rewritten =
        linalg::GenericOp::create(rewriter, loc, types, generic.getInputs(),
                                  outs, maps, generic.getIteratorTypesArray());
    rewritten->setDiscardableAttrs(generic->getDiscardableAttrDictionary());
    rewriter.inlineRegionBefore(generic.getRegion(), rewritten.getRegion(),
                                rewritten.getRegion().begin());
    unsigned written = r;
    if (!alone) {
      Block &body = rewritten.getRegion().front();
      body.addArgument(getElementTypeOrSelf(permutedType), loc);
      auto y = cast<linalg::YieldOp>(body.getTerminator());
      SmallVector<Value> values(y.getOperands());
      values.push_back(values[r]);
      rewriter.modifyOpInPlace(y, [&] { y->setOperands(values); });
      written = types.size() - 1;
      ++counts.dualWrites;
    }
    rewriter.replaceOp(t, rewritten->getResult(written));
    for (unsigned i = 0; i < generic->getNumResults(); ++i)
      if (i != r || !alone)
        rewriter.replaceAllUsesWith(generic->getResult(i),
                                    rewritten->getResult(i));
    rewriter.eraseOp(generic);
    ++counts.absorbed;
    return success();
  }
  Counts &counts;
};

/// A transpose of a weight argument: work on the weight alone, run once by
/// the load table.
struct HoistWeightTranspose : OpRewritePattern<linalg::TransposeOp> {
  HoistWeightTranspose(MLIRContext *ctx, Counts &counts)
      : OpRewritePattern(ctx), counts(counts) {}
  LogicalResult matchAndRewrite(linalg::TransposeOp t,
                                PatternRewriter &rewriter) const override {
    if (t->hasAttr("smepilot.pack_at_load") ||
        !isa<BlockArgument>(t.getInput()) || !isWeight(t.getInput()))
      return failure();
    rewriter.modifyOpInPlace(t, [&] {
      t->setAttr("smepilot.pack_at_load", rewriter.getUnitAttr());
    });
    ++counts.hoisted;
    return success();
  }
  Counts &counts;
};

/// Why no producer writes the layout of the change `t` makes.
std::string reasonLeft(linalg::TransposeOp t) {
  if (t->hasAttr("smepilot.pack_at_load"))
    return "weight: packed once, by the load table";
  Value v = t.getInput();
  while (true) {
    if (auto slice = v.getDefiningOp<tensor::ExtractSliceOp>()) {
      v = slice.getSource();
      continue;
    }
    if (auto c = v.getDefiningOp<tensor::CollapseShapeOp>()) {
      v = c.getSrc();
      continue;
    }
    if (auto e = v.getDefiningOp<tensor::ExpandShapeOp>()) {
      v = e.getSrc();
      continue;
    }
    break;
  }
  if (auto arg = dyn_cast<BlockArgument>(v)) {
    auto fn = dyn_cast<func::FuncOp>(arg.getOwner()->getParentOp());
    return fn ? "function argument " + std::to_string(arg.getArgNumber()) +
                    " of @" + fn.getSymName().str() +
                    ": its layout is the caller's"
              : "a region argument";
  }
  Operation *def = v.getDefiningOp();
  if (isa<tensor::InsertSliceOp>(def)) {
    // The KV cache: rows inserted into a function argument.
    Value dest = def->getOperand(1);
    while (auto ins = dest.getDefiningOp<tensor::InsertSliceOp>())
      dest = ins.getDest();
    if (isa<BlockArgument>(dest))
      return "a slice of a cache argument (rows inserted this call): its "
             "layout is the ABI's";
    return "tensor.insert_slice assembles its source";
  }
  if (auto l = dyn_cast<linalg::LinalgOp>(def)) {
    if (linalg::isaContractionOpInterface(l))
      return "produced by a contraction (" +
             def->getName().getStringRef().str() +
             "): its tiling owns the output layout";
    if (!l.hasPureTensorSemantics())
      return "produced on buffers";
    return "produced by " + def->getName().getStringRef().str() +
           " accumulating into an initial value that is not a fill";
  }
  if (isa<scf::ForallOp>(def))
    return "produced by tiles of a collab op (scf.forall): its tiling owns "
           "the output layout";
  return "produced by " + def->getName().getStringRef().str() +
         ", which writes one layout";
}

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

/// True if the matrix unit runs `op` whole (tile-sme's choice).
bool isForSME(Operation *op) {
  auto decision = op->getAttrOfType<DecisionAttr>(DecisionAttr::kAttrName);
  return getSingleUnit(decision) == ExecMode::sme;
}

struct PropagateLayoutPass
    : public smepilot::impl::PropagateLayoutBase<PropagateLayoutPass> {
  using PropagateLayoutBase::PropagateLayoutBase;

  /// Rewrites the activation operands of `op` to be read K-major, through
  /// explicit layout changes. Fails (with a diagnostic) when no layout of
  /// the matrix unit can feed it.
  LogicalResult insertLayoutChanges(linalg::LinalgOp op, Counts &counts) {
    std::string why;
    FailureOr<SMEContraction> c = matchSMEContraction(op, why);
    if (failed(c))
      return op->emitOpError(
                 "smepilot-propagate-layout: no layout of the matrix unit "
                 "can feed this op (decided sme): ")
             << why;
    OpBuilder b(op);
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    bool changed = false;
    for (unsigned i = 0; i < 2; ++i) {
      OpOperand *operand = op.getDpsInputOperand(i);
      Value v = operand->get();
      // A weight's layout (and type) is tile-sme's, in the load table.
      if (isWeight(v))
        continue;
      SmallVector<unsigned> order(c->batch.begin(), c->batch.end());
      order.append({c->k, i == 0 ? c->m : c->n});
      SmallVector<int64_t> perm = operandPermutation(maps[i], order);
      if (isIdentityPerm(perm))
        continue;
      Operation *copy = nullptr;
      Value kMajor = permuteDims(b, op.getLoc(), v, perm, "k-major", &copy);
      if (copy) {
        copy->setAttr(kLayoutAttr, layoutFor(op->getContext(), perm));
        ++counts.inserted;
      }
      op->setOperand(operand->getOperandNumber(), kMajor);
      maps[i] = AffineMap::get(
          maps[i].getNumDims(), 0,
          llvm::map_to_vector(
              order, [&](unsigned d) { return b.getAffineDimExpr(d); }),
          op->getContext());
      changed = true;
    }
    if (changed)
      op->setAttr("indexing_maps", b.getAffineMapArrayAttr(maps));
    return success();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    bool failedAny = false;
    for (func::FuncOp fn : module.getOps<func::FuncOp>()) {
      if (fn.isExternal() || fn->hasAttr(kSMEKernelAttr) ||
          fn->hasAttr(kCollabKernelAttr))
        continue;
      Counts counts;
      SmallVector<linalg::LinalgOp> selected;
      // As smepilot-tile-sme selects: every op decided sme (an error if the
      // matrix unit cannot run it); with all-contractions, every contraction
      // it can.
      fn.walk([&](linalg::LinalgOp op) {
        if (op->hasAttr("smepilot.collab_part"))
          return;
        if (isForSME(op) ||
            (allContractions && linalg::isaContractionOpInterface(op)))
          selected.push_back(op);
      });
      bool failedHere = false;
      for (linalg::LinalgOp op : selected) {
        std::string why;
        if (!isForSME(op) && failed(matchSMEContraction(op, why)))
          continue;
        if (failed(insertLayoutChanges(op, counts)))
          failedHere = true;
      }
      if (failedHere || failed(propagate(fn, counts))) {
        failedAny = true;
        continue;
      }
      if (report)
        fn.emitRemark("smepilot-propagate-layout: ")
            << counts.inserted << " inserted, " << counts.absorbed
            << " written by producers (" << counts.dualWrites
            << " as a second output), " << counts.cancelled
            << " cancelled or composed, " << counts.atLoad << " at load, "
            << counts.left << " left";
    }
    if (failedAny)
      signalPassFailure();
  }

  /// Moves the layout changes of `fn` into producers, then records the
  /// layout state of the ones left.
  LogicalResult propagate(func::FuncOp fn, Counts &counts) {
    MLIRContext *ctx = fn.getContext();
    RewritePatternSet patterns(ctx);
    patterns.add<UnitDimTransposeToReshape, ComposeTransposes,
                 AbsorbIntoProducer, HoistWeightTranspose>(ctx, counts);
    patterns.add<TransposeThroughCollapse, TransposeThroughExpand,
                 TransposeThroughSlice>(ctx);
    // Outputs nobody reads any more (a producer now writing only the
    // layout its consumers read) are dropped.
    linalg::populateEraseUnusedOperandsAndResultsPatterns(patterns);
    tensor::EmptyOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::CollapseShapeOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::ExpandShapeOp::getCanonicalizationPatterns(patterns, ctx);
    if (failed(applyPatternsGreedily(fn, std::move(patterns))))
      return fn.emitError("smepilot-propagate-layout: propagation did not "
                          "converge");
    // The state: every change left says what it makes and why it stays.
    fn.walk([&](linalg::TransposeOp t) {
      t->setAttr(kLayoutAttr, layoutFor(ctx, t.getPermutation()));
      t->setAttr(kLayoutReasonAttr, StringAttr::get(ctx, reasonLeft(t)));
      ++(t->hasAttr("smepilot.pack_at_load") ? counts.atLoad : counts.left);
    });
    return success();
  }
};

} // namespace
