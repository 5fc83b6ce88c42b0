//===- FormDispatchRegions.cpp - tile spaces of future dispatches ---------===//
//
// The first half of dispatch formation (the second is FormDispatches.cpp,
// after bufferization). On tensors, before the CPU/SME tiling passes, every
// linalg op at the top level of a phase function (`smepilot.phase`) or of a
// function a phase calls (the layer body) is wrapped in an `scf.forall` over
// one of its parallel dimensions. That forall is the op's tile space: its
// iterations write disjoint slices of the results (the forall's contract), so
// the runtime may run any split of them on any workers, and results cannot
// depend on the thread count. The ops inside are then tiled and vectorized
// per unit as before, each on its slice.
//
// Which dimension. The parallel dimension whose split keeps each worker's
// data apart and the inner vectorization intact:
//   - contractions: the outermost static n dimension (output features: each
//     tile streams its own weight rows, the GEMV split of decode), else a
//     batch dimension (attention heads), else an m dimension;
//   - other ops: the outermost static parallel dimension of extent >= 2
//     (rows of a [C, D] elementwise op, heads of a softmax; the columns of a
//     [1, D] op in decode).
// Dynamic dimensions are never chosen (the tile count must be known from the
// table's constants), and an op with no such dimension, or with a static
// dimension of size 0 (it does nothing), is left alone: it becomes a
// single-tile dispatch.
//
// Fills. A fill of a fresh tensor (linalg.fill or its generic form) whose
// every use is the init of an op split here is not a dispatch of its own:
// each tile of the consumer fills its own slice right before writing it (in
// cache), and the consumer's forall writes into the fill's empty tensor.
// Left alone, the fill is a pass over memory of its own (146 dispatches per
// 64-token chunk of 1B prefill), and CSE shares one fill between consumers
// of the same shape, whose buffers one-shot bufferization then initializes
// by copying it (a memref.copy dispatch per consumer).
//
// Weight-only ops. An op whose inputs are all weights (function arguments
// marked `smepilot.weight`; the K-major weight copies of smepilot-tile-sme)
// computes the same result on every call: smepilot-form-dispatches moves it
// into the load table. Its result must then have a buffer of its own, so its
// `tensor.empty` init (which CSE shares between ops of one shape, and
// bufferization then reuses for both) is replaced by a
// `bufferization.alloc_tensor` here.
//
// Stages. An op of a pipelined schedule (smepilot-pipeline-attention) carries
// `smepilot.stage`, which its scf.forall must carry too: dispatch formation
// names dispatches after it. The passes in between rebuild ops without their
// discardable attributes (linalg-generalize-named-ops on fills and
// transposes, linalg-fuse-elementwise-ops on fused generics, the calls
// smepilot-tile-sme puts in place of SME contractions), but the per-head
// `tensor.empty` results survive with theirs. So an op without a stage takes
// the one of what it writes into: its init's producer (through fills), and
// for a call of an SME kernel its accumulator (the last operand). Calls lose
// their attributes again in one-shot bufferization, so the SME kernel
// function (smepilot-tile-sme outlines one per contraction) carries the stage
// of its call as well.
//
// Tile size. About `max-tiles` tiles of the dimension, rounded up to the
// block the vectorized tile works in (the `vector-width` lanes when the
// dimension is the op's innermost loop, 8 output rows for a contraction's n,
// else 1), preferring a size that divides the extent (no partial tile) when
// one is within a factor of two.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Analysis/Roofline.h"
#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::smepilot {
#define GEN_PASS_DEF_FORMDISPATCHREGIONS
#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h.inc"
} // namespace mlir::smepilot

using namespace mlir;
using namespace mlir::smepilot;

namespace {

struct TileChoice {
  unsigned dim;
  int64_t size;
};

/// The dimension to split and the tile size, or nothing when the op should
/// stay one tile.
std::optional<TileChoice> chooseTile(linalg::LinalgOp op, int64_t maxTiles,
                                     int64_t vectorWidth) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  SmallVector<utils::IteratorType> iters = op.getIteratorTypesArray();
  // An empty iteration space (a static dimension of size 0) has nothing to
  // split, and MLIR's tiling crashes computing its slices: one (empty) tile.
  if (llvm::is_contained(ranges, 0))
    return std::nullopt;
  auto usable = [&](unsigned d) {
    return iters[d] == utils::IteratorType::parallel &&
           !ShapedType::isDynamic(ranges[d]) && ranges[d] >= 2;
  };
  std::optional<unsigned> dim;
  int64_t block = 1;
  // inferContractionDims also "succeeds" on elementwise ops (every dimension
  // a batch one): a contraction reduces over some k.
  FailureOr<linalg::ContractionDimensions> cdims =
      linalg::inferContractionDims(op);
  if (succeeded(cdims) && !cdims->k.empty()) {
    // Not a dimension some input has innermost (contiguous): its tiles
    // would read every row of that input in strided slivers (P V split
    // along head_dim: each tile reads all of V for 8 of its 64 columns).
    auto contiguousInSomeInput = [&](unsigned d) {
      return llvm::any_of(op.getDpsInputOperands(), [&](OpOperand *in) {
        AffineMap map = op.getMatchingIndexingMap(in);
        return map.getNumResults() > 0 &&
               map.getResults().back() == getAffineDimExpr(d, op.getContext());
      });
    };
    for (ArrayRef<unsigned> group :
         {ArrayRef<unsigned>(cdims->n), ArrayRef<unsigned>(cdims->batch),
          ArrayRef<unsigned>(cdims->m)}) {
      for (unsigned d : group)
        if (usable(d) && !contiguousInSomeInput(d) && (!dim || d < *dim))
          dim = d;
      if (dim)
        break;
    }
    if (dim && llvm::is_contained(cdims->n, *dim))
      block = 8;
  } else if (op.getNumReductionLoops() > 0) {
    // A contraction inferContractionDims does not take (more than two
    // inputs: a quantized weight's quants and scales, a fused norm): split
    // its largest weight matrix, so that each tile reads its own rows.
    int64_t largest = -1;
    for (OpOperand *in : op.getDpsInputOperands()) {
      auto type = dyn_cast<RankedTensorType>(in->get().getType());
      if (!type || !type.hasStaticShape() || type.getRank() < 2 ||
          type.getNumElements() <= largest || !isWeight(in->get()))
        continue;
      AffineMap map = op.getMatchingIndexingMap(in);
      std::optional<unsigned> best;
      for (unsigned d = 0; d < ranges.size(); ++d)
        if (usable(d) && map.isFunctionOfDim(d) && (!best || d < *best))
          best = d;
      if (best) {
        largest = type.getNumElements();
        dim = best;
      }
    }
    if (dim)
      block = 8;
  }
  if (!dim) {
    for (unsigned d = 0; d < ranges.size() && !dim; ++d)
      if (usable(d))
        dim = d;
    if (dim && *dim + 1 == ranges.size())
      block = vectorWidth;
  }
  if (!dim)
    return std::nullopt;
  // In unsigned arithmetic: extents up to INT64_MAX must not overflow.
  const uint64_t extent = ranges[*dim];
  uint64_t size = llvm::alignTo(llvm::divideCeil(extent, uint64_t(maxTiles)),
                                uint64_t(block));
  if (size >= extent)
    return std::nullopt;
  // A size dividing the extent, within a factor of two, avoids a partial
  // (masked) last tile. The search is bounded: with huge extents the
  // candidates between size and 2 * size are too many to try.
  constexpr unsigned kMaxCandidates = 1024;
  uint64_t s = size;
  for (unsigned i = 0; i < kMaxCandidates && s - size <= size && s < extent;
       ++i, s += uint64_t(block))
    if (extent % s == 0) {
      size = s;
      break;
    }
  return TileChoice{*dim, static_cast<int64_t>(size)};
}

/// Whether every input of `op` is a weight argument of `func`, as it is or
/// reshaped or zero-padded (smepilot-tile-sme's packs for the widening outer
/// products read a weight split along K, padded when K is odd).
bool readsWeightsOnly(linalg::LinalgOp op, func::FuncOp func) {
  if (op.getNumDpsInputs() == 0)
    return false;
  return llvm::all_of(op.getDpsInputs(), [&](Value v) {
    while (Operation *def = v.getDefiningOp()) {
      if (auto expand = dyn_cast<tensor::ExpandShapeOp>(def))
        v = expand.getSrc();
      else if (auto collapse = dyn_cast<tensor::CollapseShapeOp>(def))
        v = collapse.getSrc();
      else if (auto pad = dyn_cast<tensor::PadOp>(def);
               pad && pad.getConstantPaddingValue())
        v = pad.getSource();
      else
        break;
    }
    auto arg = dyn_cast<BlockArgument>(v);
    return arg && arg.getOwner() == &func.getBody().front() &&
           func.getArgAttr(arg.getArgNumber(), kWeightAttr);
  });
}

/// Gives each `tensor.empty` init of `op` a buffer of its own.
void useOwnBuffers(RewriterBase &rewriter, linalg::LinalgOp op) {
  for (OpOperand &init : op.getDpsInitsMutable()) {
    auto empty = init.get().getDefiningOp<tensor::EmptyOp>();
    if (!empty)
      continue;
    rewriter.setInsertionPoint(op);
    Value own = bufferization::AllocTensorOp::create(
        rewriter, empty.getLoc(), empty.getType(), empty.getDynamicSizes());
    rewriter.modifyOpInPlace(op, [&] { init.set(own); });
  }
}

/// The pipeline stage of `op`: its own `smepilot.stage`, else the stage of
/// the value it writes into (see the file comment); null when none.
StringAttr getStage(Operation *op, unsigned depth = 0) {
  if (!op || depth > 8)
    return {};
  if (auto stage = op->getAttrOfType<StringAttr>(kStageAttr))
    return stage;
  Value written;
  if (auto dps = dyn_cast<DestinationStyleOpInterface>(op)) {
    if (dps.getNumDpsInits() > 0)
      written = dps.getDpsInits()[0];
  } else if (auto call = dyn_cast<func::CallOp>(op)) {
    auto callee = SymbolTable::lookupNearestSymbolFrom<func::FuncOp>(
        call, call.getCalleeAttr());
    if (callee && callee->hasAttr(kSMEKernelAttr) && call.getNumOperands() > 0)
      written = call.getOperands().back();
  }
  return written ? getStage(written.getDefiningOp(), depth + 1) : StringAttr();
}

/// Whether `op` only sets every element of a fresh tensor to a value that
/// reads no tensor (a linalg.fill of a tensor.empty, generalized or not):
/// such an op can be recomputed on any slice of its result.
bool isFreshFill(linalg::LinalgOp op) {
  if (!op.hasPureTensorSemantics() || op.getNumDpsInits() != 1 ||
      op.getNumLoops() != op.getNumParallelLoops() ||
      !op.getDpsInits()[0].getDefiningOp<tensor::EmptyOp>())
    return false;
  if (isa<linalg::FillOp>(op.getOperation()))
    return true;
  auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
  if (!generic || !generic.getMatchingIndexingMap(generic.getDpsInitOperand(0))
                       .isIdentity())
    return false;
  for (OpOperand *in : generic.getDpsInputOperands())
    if (isa<ShapedType>(in->get().getType()) ||
        generic.getMatchingIndexingMap(in).getNumResults() != 0)
      return false;
  return !generic.payloadUsesValueFromOperand(generic.getDpsInitOperand(0));
}

/// Whether every use of `fill`'s result is the init of a linalg op in
/// `consumers` (each of which gets a copy of the fill on its own slices).
bool onlyInitializes(linalg::LinalgOp fill,
                     const llvm::SetVector<Operation *> &consumers) {
  return llvm::all_of(fill->getResult(0).getUses(), [&](OpOperand &use) {
    auto user = dyn_cast<linalg::LinalgOp>(use.getOwner());
    return user && consumers.contains(user) && user.isDpsInit(&use);
  });
}

/// Wraps `op` in an scf.forall over `choice`; returns the forall and the
/// tiled op in its body.
FailureOr<std::pair<scf::ForallOp, Operation *>>
wrapInForall(RewriterBase &rewriter, linalg::LinalgOp op, TileChoice choice) {
  auto tileable = cast<TilingInterface>(op.getOperation());
  SmallVector<OpFoldResult> sizes(op.getNumLoops(), rewriter.getIndexAttr(0));
  sizes[choice.dim] = rewriter.getIndexAttr(choice.size);
  scf::SCFTilingOptions options;
  options.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp);
  options.setTileSizes(sizes);
  rewriter.setInsertionPoint(op);
  FailureOr<scf::SCFTilingResult> tiled =
      scf::tileUsingSCF(rewriter, tileable, options);
  if (failed(tiled) || tiled->loops.size() != 1 || tiled->tiledOps.size() != 1)
    return failure();
  rewriter.replaceOp(op, tiled->replacements);
  return std::make_pair(
      cast<scf::ForallOp>(tiled->loops.front().getOperation()),
      tiled->tiledOps.front());
}

/// Moves the fills of `forall`'s outputs into its body: each tile fills its
/// own slice right before `tiled` (the op the forall computes) writes it,
/// and the forall writes into the fill's empty tensor instead. Without this
/// a fill is a dispatch of its own, a pass over memory before the op's
/// pass, and CSE shares one fill between ops of the same shape, whose
/// buffers bufferization then initializes by copying it (memref.copy).
void fuseFillsOfOutputs(RewriterBase &rewriter, scf::ForallOp forall,
                        Operation *tiled,
                        const llvm::SetVector<Operation *> &fusable) {
  auto tiledOp = dyn_cast<linalg::LinalgOp>(tiled);
  if (!tiledOp || tiledOp.getNumDpsInits() != forall.getNumResults())
    return;
  for (unsigned i = 0; i < forall.getNumResults(); ++i) {
    OpOperand &shared = forall.getOutputsMutable()[i];
    auto fill = shared.get().getDefiningOp<linalg::LinalgOp>();
    if (!fill || !fusable.contains(fill))
      continue;
    OpOperand &init = tiledOp.getDpsInitsMutable()[i];
    auto slice = init.get().getDefiningOp<tensor::ExtractSliceOp>();
    if (!slice || slice.getSource() != forall.getTiedBlockArgument(&shared))
      continue;
    rewriter.setInsertionPoint(tiled);
    SmallVector<Value> operands(fill.getDpsInputs());
    operands.push_back(slice);
    Operation *local = mlir::clone(rewriter, fill, {slice.getType()}, operands);
    rewriter.modifyOpInPlace(tiled, [&] { init.set(local->getResult(0)); });
    rewriter.modifyOpInPlace(forall,
                             [&] { shared.set(fill.getDpsInits()[0]); });
  }
}

struct FormDispatchRegionsPass
    : public smepilot::impl::FormDispatchRegionsBase<FormDispatchRegionsPass> {
  using FormDispatchRegionsBase::FormDispatchRegionsBase;

  void runOnOperation() override {
    if (maxTiles < 1 || vectorWidth < 1) {
      getOperation().emitError()
          << "smepilot-form-dispatch-regions: max-tiles and vector-width must "
             "be positive";
      return signalPassFailure();
    }
    // Phases and the functions they call.
    SymbolTable symbols(getOperation());
    llvm::SetVector<func::FuncOp> funcs;
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (func->hasAttr(kPhaseAttr))
        funcs.insert(func);
    for (unsigned i = 0; i < funcs.size(); ++i)
      func::FuncOp(funcs[i]).walk([&](func::CallOp call) {
        if (auto callee = symbols.lookup<func::FuncOp>(call.getCallee()))
          if (!callee.isExternal())
            funcs.insert(callee);
      });

    IRRewriter rewriter(&getContext());
    for (func::FuncOp func : funcs) {
      if (func.isExternal())
        continue;
      SmallVector<linalg::LinalgOp> ops;
      SmallVector<std::pair<Operation *, StringAttr>> staged;
      for (Operation &op : func.getBody().front()) {
        if (auto linalgOp = dyn_cast<linalg::LinalgOp>(&op))
          if (linalgOp.hasPureTensorSemantics())
            ops.push_back(linalgOp);
        if (isa<linalg::LinalgOp, func::CallOp>(op))
          if (StringAttr stage = getStage(&op))
            staged.push_back({&op, stage});
      }
      // Stages first: wrapping replaces ops and their inits. One-shot
      // bufferization rebuilds calls without their attributes, so an SME
      // kernel (one per contraction) carries its call's stage itself.
      for (auto [op, stage] : staged) {
        op->setAttr(kStageAttr, stage);
        if (auto call = dyn_cast<func::CallOp>(op))
          if (auto callee = symbols.lookup<func::FuncOp>(call.getCallee());
              callee && callee->hasAttr(kSMEKernelAttr) &&
              !callee->hasAttr(kStageAttr))
            callee->setAttr(kStageAttr, stage);
      }
      // Each op's tile space, chosen once (it depends on the op's loops and
      // inputs, which the rewrites below leave alone).
      SmallVector<std::optional<TileChoice>> choices;
      for (linalg::LinalgOp op : ops)
        choices.push_back(chooseTile(op, maxTiles, vectorWidth));
      // Fills whose every use is the init of an op split here go into
      // the consumers' foralls (fuseFillsOfOutputs) instead of their own.
      llvm::SetVector<Operation *> split, fusable;
      SmallVector<linalg::LinalgOp> fills;
      for (auto [op, choice] : llvm::zip_equal(ops, choices)) {
        if (isFreshFill(op))
          fills.push_back(op);
        else if (choice && !readsWeightsOnly(op, func))
          split.insert(op);
      }
      for (linalg::LinalgOp fill : fills)
        if (!fill->use_empty() && onlyInitializes(fill, split))
          fusable.insert(fill);
      for (auto [op, choice] : llvm::zip_equal(ops, choices)) {
        if (fusable.contains(op))
          continue;
        if (readsWeightsOnly(op, func))
          useOwnBuffers(rewriter, op);
        if (!choice)
          continue;
        StringAttr stage = op->getAttrOfType<StringAttr>(kStageAttr);
        auto wrapped = wrapInForall(rewriter, op, *choice);
        if (failed(wrapped)) {
          op.emitError("smepilot-form-dispatch-regions: cannot tile dimension ")
              << choice->dim << " by " << choice->size;
          return signalPassFailure();
        }
        auto [forall, tiled] = *wrapped;
        if (stage)
          forall->setAttr(kStageAttr, stage);
        fuseFillsOfOutputs(rewriter, forall, tiled, fusable);
      }
      for (Operation *fill : fusable)
        if (fill->use_empty())
          rewriter.eraseOp(fill);
    }
  }
};

} // namespace
