//===- PipelineAttention.cpp - smepilot-pipeline-attention ----------------===//
//
// Attention as a pipeline over KV heads (docs/sme-path.md,
// "smepilot-pipeline-attention"). The graph builder emits one layer's
// attention as three head-batched steps:
//
//   scores[H, M, T] = Q[H, M, D] K[H, T, D]^T        (matrix unit)
//   probs[H, M, T]  = softmax(mask(scores))           (vector cores)
//   attn[H, M, D]   = probs[H, M, T] V[H, T, D]       (matrix unit)
//
// with H the KV heads, M = G x C query rows per KV head (G query heads per KV
// head, C tokens) and T the keys so far. Dispatched as they are, each step
// waits for the whole previous one, so the matrix unit idles while the
// vector cores run the softmax of every head and the other way round. This
// pass cuts the three steps into per-head stages
//
//   attn.qk.h<h>  ->  attn.softmax.h<h>  ->  attn.pv.h<h>
//
// whose only data dependencies are within head h. Once dispatches are
// formed (their dependencies come from buffer hazards, DispatchUtils.cpp),
// head h+1's QK^T may run on the matrix unit while head h's softmax runs on
// the vector cores.
//
// Matching. A head-batched contraction (QK^T: loop dimension 0 is the batch
// dimension of all three operands, one m, n and k, multiply-accumulate body,
// f32) whose result flows only through head-parallel linalg ops (the
// softmax: loop 0 parallel and, where an operand uses it, its leading
// dimension) into the A operand of a second head-batched contraction (PV).
// Anything else is left alone.
//
// When. With `force`, always. Otherwise when QK^T or PV is decided `sme`,
// or decided `collab` in a prefill phase (`smepilot.chunk` > 1 on the
// function or on every phase calling it): decode attention stays on the
// vector cores unless its decisions say sme.
//
// Rewrite, per head h, in program order before the old PV:
//   - Q, K, V are sliced along the head dimension (extent 1, so every op
//     keeps its rank and its maps); QK^T and PV get their operands in the
//     K-major layout smepilot-tile-sme reads ([1, k, m] and [1, k, n],
//     linalg.transpose as tile-sme would make them, but per head and as
//     part of the stage) and become linalg.batch_matmul with maps
//     [(b,k,m), (b,k,n), (b,m,n)], decided `sme`;
//   - each softmax op is cloned on the head's slices, decided `cpu`, with
//     `linalg.index 0` replaced by h;
//   - every per-head result gets a `tensor.empty` (and `linalg.fill`) of its
//     own: one-shot bufferization then gives each head its own temporaries,
//     so no buffer is shared between heads;
//   - PV of head h accumulates into a [1, M, D] tensor of its own, inserted
//     into slice h of the output. PV into slices of the output itself would
//     chain every PV dispatch to the previous one (the output is one
//     buffer, and dependencies come from whole-buffer hazards); the copies
//     into the output (M x D floats per head) chain instead.
// Every op of a stage carries `smepilot.stage` = "attn.qk.h<h>",
// "attn.softmax.h<h>" or "attn.pv.h<h>"; the attribute also keeps CSE from
// merging the heads' (otherwise identical) empty tensors. Decisions are
// split evenly between the heads (FLOPs, bytes, times) and keep their other
// fields; a mode the pass changes is marked reason = "forced".
// smepilot-form-dispatch-regions carries the stage to the scf.forall of each
// op and to the SME kernels smepilot-tile-sme outlines.
//
// Limits: one stage per KV head (no blocks of heads, no split of long
// contexts into KV blocks: T is dynamic and the softmax is not online);
// only f32 (QK^T and PV multiply activations, and PV's K is the dynamic T,
// which the widening types cannot mask); about 14 dispatches and 2 SME
// kernel functions per head and layer instead of about 12 and 2 per layer.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Dialect/SMEPilot/IR/Provenance.h"
#include "smepilot/Dialect/SMEPilot/Transforms/Layouts.h"
#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::smepilot {
#define GEN_PASS_DEF_PIPELINEATTENTION
#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h.inc"
} // namespace mlir::smepilot

using namespace mlir;
using namespace mlir::smepilot;

namespace {

/// True if the dimension-0 loop of `op` is the head dimension: parallel,
/// of static extent `heads`, and every operand indexed by it has it as its
/// leading dimension and nowhere else (inits always do).
bool isHeadParallel(linalg::LinalgOp op, int64_t heads) {
  if (!op.hasPureTensorSemantics() || op.getNumLoops() == 0 ||
      op.getIteratorTypesArray()[0] != utils::IteratorType::parallel ||
      op.getStaticLoopRanges()[0] != heads)
    return false;
  AffineExpr d0 = getAffineDimExpr(0, op.getContext());
  for (OpOperand &operand : op->getOpOperands()) {
    AffineMap map = op.getMatchingIndexingMap(&operand);
    bool usesD0 = map.isFunctionOfDim(0);
    if (!usesD0) {
      if (op.isDpsInit(&operand))
        return false;
      continue;
    }
    if (map.getNumResults() == 0 || map.getResult(0) != d0)
      return false;
    for (AffineExpr e : map.getResults().drop_front())
      if (e.isFunctionOfDim(0))
        return false;
    auto type = dyn_cast<RankedTensorType>(operand.get().getType());
    if (!type || type.getDimSize(0) != heads)
      return false;
  }
  return true;
}

/// The loop dimensions of a head-batched contraction C[b, m, n] +=
/// A(b, m, k) B(b, n, k) (operands in any order but b leading).
struct HeadContraction {
  unsigned m, n, k;
};

/// Matches an f32 contraction with loop 0 as its one batch dimension, one
/// m, n and k, a multiply-accumulate body and C indexed [b, m, n].
std::optional<HeadContraction> matchHeadContraction(linalg::LinalgOp op) {
  if (!op.hasPureTensorSemantics() || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1 || op.getNumLoops() != 4 ||
      !linalg::isaContractionOpInterface(op))
    return std::nullopt;
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(op);
  if (failed(dims) || dims->batch.size() != 1 || dims->batch[0] != 0 ||
      dims->m.size() != 1 || dims->n.size() != 1 || dims->k.size() != 1)
    return std::nullopt;
  if (!llvm::all_of(op.getBlock()->without_terminator(), [](Operation &o) {
        return isa<arith::MulFOp, arith::AddFOp>(o);
      }))
    return std::nullopt;
  for (Value v : op->getOperands())
    if (!getElementTypeOrSelf(v.getType()).isF32())
      return std::nullopt;
  HeadContraction c{dims->m[0], dims->n[0], dims->k[0]};
  MLIRContext *ctx = op.getContext();
  AffineMap cMap = op.getIndexingMapsArray()[2];
  if (cMap !=
      AffineMap::get(4, 0,
                     {getAffineDimExpr(0, ctx), getAffineDimExpr(c.m, ctx),
                      getAffineDimExpr(c.n, ctx)},
                     ctx))
    return std::nullopt;
  return c;
}

/// One attention: QK^T, the head-parallel ops between (program order) and
/// PV.
struct Attention {
  linalg::LinalgOp qk, pv;
  HeadContraction qkDims, pvDims;
  SmallVector<linalg::LinalgOp> softmax;
  int64_t heads;
};

/// Matches the attention starting at `qk`.
std::optional<Attention> matchAttention(linalg::LinalgOp qk) {
  std::optional<HeadContraction> qkDims = matchHeadContraction(qk);
  if (!qkDims)
    return std::nullopt;
  Attention att;
  att.qk = qk;
  att.qkDims = *qkDims;
  att.heads = qk.getStaticLoopRanges()[0];
  if (ShapedType::isDynamic(att.heads) || att.heads < 1 ||
      !isHeadParallel(qk, att.heads))
    return std::nullopt;
  Block *block = qk->getBlock();
  llvm::SetVector<Operation *> chain;
  SmallVector<Value> worklist{qk->getResult(0)};
  while (!worklist.empty()) {
    Value v = worklist.pop_back_val();
    for (OpOperand &use : v.getUses()) {
      Operation *user = use.getOwner();
      auto linalgUser = dyn_cast<linalg::LinalgOp>(user);
      if (!linalgUser || user->getBlock() != block)
        return std::nullopt;
      // PV: a head-batched contraction reading the softmax as A.
      if (std::optional<HeadContraction> pvDims =
              matchHeadContraction(linalgUser);
          pvDims && use.getOperandNumber() == 0 && v != qk->getResult(0)) {
        if (att.pv && att.pv != linalgUser)
          return std::nullopt;
        att.pv = linalgUser;
        att.pvDims = *pvDims;
        continue;
      }
      if (linalgUser.getNumDpsInits() == 0 ||
          !isHeadParallel(linalgUser, att.heads))
        return std::nullopt;
      if (chain.insert(user))
        for (Value r : user->getResults())
          worklist.push_back(r);
    }
  }
  if (!att.pv || chain.empty() || !isHeadParallel(att.pv, att.heads) ||
      chain.contains(att.pv.getDpsInputs()[1].getDefiningOp()))
    return std::nullopt;
  for (Operation *op : chain)
    att.softmax.push_back(cast<linalg::LinalgOp>(op));
  llvm::sort(att.softmax, [](linalg::LinalgOp a, linalg::LinalgOp b) {
    return a->isBeforeInBlock(b);
  });
  // Everything the stages read must exist where they are emitted: just
  // before PV.
  DominanceInfo dom(qk->getParentOp());
  for (linalg::LinalgOp op : att.softmax)
    for (Value v : op->getOperands())
      if (!chain.contains(v.getDefiningOp()) && v != qk->getResult(0) &&
          !dom.properlyDominates(v, att.pv))
        return std::nullopt;
  return att;
}

/// The tokens per call of `func`: its own `smepilot.chunk`, else the one
/// every phase calling it agrees on; nothing when unknown.
std::optional<int64_t> chunkOf(func::FuncOp func, ModuleOp module) {
  if (auto chunk = func->getAttrOfType<IntegerAttr>(kChunkAttr))
    return chunk.getInt();
  std::optional<int64_t> result;
  std::optional<SymbolTable::UseRange> uses =
      SymbolTable::getSymbolUses(func, module);
  if (!uses)
    return std::nullopt;
  for (const SymbolTable::SymbolUse &use : *uses) {
    auto caller = use.getUser()->getParentOfType<func::FuncOp>();
    auto chunk =
        caller ? caller->getAttrOfType<IntegerAttr>(kChunkAttr) : IntegerAttr();
    if (!chunk || (result && *result != chunk.getInt()))
      return std::nullopt;
    result = chunk.getInt();
  }
  return result;
}

DecisionAttr getDecision(Operation *op) {
  return op->getAttrOfType<DecisionAttr>(DecisionAttr::kAttrName);
}

/// Whether the decisions ask for the pipeline (see the file comment).
bool wantsPipeline(const Attention &att, std::optional<int64_t> chunk) {
  for (linalg::LinalgOp op : {att.qk, att.pv}) {
    DecisionAttr d = getDecision(op);
    if (!d)
      continue;
    if (d.getMode() == ExecMode::sme)
      return true;
    if (d.getMode() == ExecMode::collab && chunk && *chunk > 1)
      return true;
  }
  return false;
}

/// `d` for one of `heads` equal parts, in `mode`.
DecisionAttr splitDecision(DecisionAttr d, int64_t heads, ExecMode mode) {
  if (!d)
    return d;
  auto part = [&](double us) { return us < 0 ? us : us / double(heads); };
  StringRef reason = mode == d.getMode() ? d.getReason() : "forced";
  return DecisionAttr::get(
      d.getContext(), d.getKind(), d.getShapeClass(), d.getElem(), mode,
      d.getFlops() / heads, d.getWeightBytes() / heads, d.getActBytes() / heads,
      d.getIntensity(), part(d.getCpuUs()), part(d.getSmeUs()),
      part(d.getCollabUs()), mode == ExecMode::sme ? 1.0 : 0.0, d.getBound(),
      d.getVectorization(), reason, d.getAssumed());
}

/// Emits the stages of every head in place of `att`.
class HeadPipeliner {
public:
  HeadPipeliner(RewriterBase &rewriter, Attention att)
      : rewriter(rewriter), att(att), loc(att.pv.getLoc()) {}

  void run() {
    rewriter.setInsertionPoint(att.pv);
    // Each head's PV accumulates into a buffer of its own, copied into the
    // output: PV into slices of one output buffer would make every PV
    // dispatch wait for the previous one (whole-buffer hazards).
    Value init = att.pv.getDpsInits()[0];
    Value out = init;
    if (isFreshInit(init)) {
      out = tensor::EmptyOp::create(rewriter, loc,
                                    tensor::getMixedSizes(rewriter, loc, init),
                                    getElementTypeOrSelf(init.getType()));
    }
    for (int64_t h = 0; h < att.heads; ++h) {
      head = h;
      perHead.clear();
      std::string suffix = ".h" + std::to_string(h);
      StringAttr qk = rewriter.getStringAttr("attn.qk" + suffix);
      StringAttr softmax = rewriter.getStringAttr("attn.softmax" + suffix);
      StringAttr pv = rewriter.getStringAttr("attn.pv" + suffix);
      perHead[att.qk->getResult(0)] =
          emitContraction(att.qk, att.qkDims, qk, qk);
      stage = softmax;
      for (linalg::LinalgOp op : att.softmax)
        emitHeadParallel(op);
      // The softmax writes probs in the K-major layout PV reads (the fuse
      // stage folds the transpose into its last op): part of its stage.
      Value result = emitContraction(att.pv, att.pvDims, softmax, pv);
      out = tensor::InsertSliceOp::create(rewriter, loc, result, out,
                                          headOffsets(out), headSizes(out),
                                          unitStrides(out));
    }
    SmallVector<linalg::LinalgOp> old(att.softmax);
    old.append({att.qk, att.pv});
    llvm::SetVector<Operation *> inits;
    for (linalg::LinalgOp op : old)
      for (Value init : op.getDpsInits())
        if (Operation *def = init.getDefiningOp())
          inits.insert(def);
    rewriter.replaceOp(att.pv, out);
    for (linalg::LinalgOp op : llvm::reverse(att.softmax))
      rewriter.eraseOp(op);
    rewriter.eraseOp(att.qk);
    // The fills and empty tensors of the old inits, once unused.
    for (unsigned i = 0; i < inits.size(); ++i) {
      Operation *def = inits[i];
      if (auto fill = dyn_cast<linalg::FillOp>(def))
        if (Operation *empty = fill.getOutputs()[0].getDefiningOp())
          inits.insert(empty);
    }
    SmallVector<Operation *> dead = inits.takeVector();
    bool erased = true;
    while (erased) {
      erased = false;
      for (Operation *&def : dead)
        if (def && def->use_empty() &&
            isa<linalg::FillOp, tensor::EmptyOp>(def)) {
          rewriter.eraseOp(def);
          def = nullptr;
          erased = true;
        }
    }
  }

private:
  SmallVector<OpFoldResult> headOffsets(Value v) {
    auto type = cast<RankedTensorType>(v.getType());
    SmallVector<OpFoldResult> offsets(type.getRank(), rewriter.getIndexAttr(0));
    offsets[0] = rewriter.getIndexAttr(head);
    return offsets;
  }
  SmallVector<OpFoldResult> headSizes(Value v) {
    SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(rewriter, loc, v);
    sizes[0] = rewriter.getIndexAttr(1);
    return sizes;
  }
  SmallVector<OpFoldResult> unitStrides(Value v) {
    return SmallVector<OpFoldResult>(
        cast<RankedTensorType>(v.getType()).getRank(),
        rewriter.getIndexAttr(1));
  }

  /// Head `head` of `v` ([1, ...]): its per-head value when a stage made
  /// one, else a slice.
  Value slice(Value v) {
    if (Value mapped = perHead.lookup(v))
      return mapped;
    return tensor::ExtractSliceOp::create(rewriter, loc, v, headOffsets(v),
                                          headSizes(v), unitStrides(v));
  }

  Operation *tag(Operation *op) {
    op->setAttr(kStageAttr, stage);
    return op;
  }

  /// Gives `head`, one head of `op`, its share of op's decision, as an
  /// attribute and in its location's provenance record (Provenance.h): the
  /// heads' dispatches then add up to the op.
  static void setHeadDecision(Operation *head, Operation *op,
                              DecisionAttr part) {
    head->setAttr(DecisionAttr::kAttrName, part);
    head->setLoc(withPartRecord(op->getLoc(), part, recordLoopsOf(head)));
  }

  /// The tensor.empty `init` is or fills, if its head dimension is static.
  static tensor::EmptyOp getFreshEmpty(Value init) {
    auto fill = init.getDefiningOp<linalg::FillOp>();
    auto empty = fill ? fill.getOutputs()[0].getDefiningOp<tensor::EmptyOp>()
                      : init.getDefiningOp<tensor::EmptyOp>();
    return empty && !empty.getType().isDynamicDim(0) ? empty
                                                     : tensor::EmptyOp();
  }
  static bool isFreshInit(Value init) { return bool(getFreshEmpty(init)); }

  /// A fresh per-head init for `init`: a tensor.empty of its own (filled
  /// again when `init` was a fill of an empty tensor), else a slice.
  Value freshInit(Value init) {
    auto fill = init.getDefiningOp<linalg::FillOp>();
    tensor::EmptyOp empty = getFreshEmpty(init);
    if (!empty)
      return slice(init);
    SmallVector<int64_t> shape(empty.getType().getShape());
    shape[0] = 1;
    Value own = tag(tensor::EmptyOp::create(rewriter, loc, shape,
                                            empty.getType().getElementType(),
                                            empty.getDynamicSizes()))
                    ->getResult(0);
    if (!fill)
      return own;
    auto newFill =
        linalg::FillOp::create(rewriter, loc, fill.getInputs()[0], own);
    tag(newFill);
    if (DecisionAttr d = getDecision(fill))
      setHeadDecision(newFill, fill,
                      splitDecision(d, att.heads, ExecMode::cpu));
    return newFill.getResult(0);
  }

  /// `v` ([1, a, b], read through `map` as (b, x, k) in any order) as
  /// [1, k, x]: itself if already so, else a per-head transpose.
  Value kMajor(Value v, AffineMap map, unsigned x, unsigned k) {
    SmallVector<int64_t> perm = operandPermutation(map, {0u, k, x});
    if (perm == SmallVector<int64_t>{0, 1, 2})
      return v;
    Operation *copy = nullptr;
    Value kMajor = permuteDims(rewriter, loc, v, perm, "k-major", &copy);
    if (copy) {
      tag(copy);
      if (Operation *init = copy->getOperand(1).getDefiningOp())
        tag(init);
    }
    return kMajor;
  }

  /// Head `head` of contraction `op` on K-major operands (A's copy in
  /// `aStage`), into a fresh init, in `opStage`.
  Value emitContraction(linalg::LinalgOp op, const HeadContraction &dims,
                        StringAttr aStage, StringAttr opStage) {
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    stage = aStage;
    Value a = kMajor(slice(op.getDpsInputs()[0]), maps[0], dims.m, dims.k);
    stage = opStage;
    Value b = kMajor(slice(op.getDpsInputs()[1]), maps[1], dims.n, dims.k);
    Value c = freshInit(op.getDpsInits()[0]);
    MLIRContext *ctx = rewriter.getContext();
    AffineExpr db = getAffineDimExpr(0, ctx), dm = getAffineDimExpr(1, ctx),
               dn = getAffineDimExpr(2, ctx), dk = getAffineDimExpr(3, ctx);
    SmallVector<AffineMap> kMajorMaps{AffineMap::get(4, 0, {db, dk, dm}, ctx),
                                      AffineMap::get(4, 0, {db, dk, dn}, ctx),
                                      AffineMap::get(4, 0, {db, dm, dn}, ctx)};
    NamedAttribute mapsAttr(rewriter.getStringAttr("indexing_maps"),
                            rewriter.getAffineMapArrayAttr(kMajorMaps));
    auto matmul = linalg::BatchMatmulOp::create(
        rewriter, loc, TypeRange{c.getType()}, ValueRange{a, b}, ValueRange{c},
        ArrayRef<NamedAttribute>{mapsAttr});
    tag(matmul);
    if (DecisionAttr d = getDecision(op))
      setHeadDecision(matmul, op, splitDecision(d, att.heads, ExecMode::sme));
    return matmul->getResult(0);
  }

  /// Head `head` of the head-parallel op `op`.
  void emitHeadParallel(linalg::LinalgOp op) {
    SmallVector<Value> operands;
    SmallVector<Type> resultTypes;
    for (OpOperand &operand : op->getOpOperands()) {
      Value v = operand.get();
      if (op.isDpsInit(&operand)) {
        Value init = freshInit(v);
        operands.push_back(init);
        resultTypes.push_back(init.getType());
      } else if (op.getMatchingIndexingMap(&operand).isFunctionOfDim(0)) {
        operands.push_back(slice(v));
      } else {
        operands.push_back(v);
      }
    }
    Operation *clone = mlir::clone(rewriter, op, resultTypes, operands);
    tag(clone);
    if (DecisionAttr d = getDecision(op))
      setHeadDecision(clone, op, splitDecision(d, att.heads, ExecMode::cpu));
    // The head loop has one iteration now: its index is `head`.
    SmallVector<linalg::IndexOp> indices;
    clone->walk([&](linalg::IndexOp index) {
      if (index.getDim() == 0)
        indices.push_back(index);
    });
    for (linalg::IndexOp index : indices) {
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPoint(index);
      rewriter.replaceOpWithNewOp<arith::ConstantIndexOp>(index, head);
    }
    for (auto [from, to] : llvm::zip(op->getResults(), clone->getResults()))
      perHead[from] = to;
  }

  RewriterBase &rewriter;
  Attention att;
  Location loc;
  int64_t head = 0;
  StringAttr stage;
  DenseMap<Value, Value> perHead;
};

struct PipelineAttentionPass
    : public smepilot::impl::PipelineAttentionBase<PipelineAttentionPass> {
  using PipelineAttentionBase::PipelineAttentionBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    IRRewriter rewriter(&getContext());
    for (auto func : module.getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      std::optional<int64_t> chunk = chunkOf(func, module);
      SmallVector<linalg::LinalgOp> candidates;
      func.walk([&](linalg::LinalgOp op) {
        if (matchHeadContraction(op))
          candidates.push_back(op);
      });
      llvm::SmallPtrSet<Operation *, 8> erased;
      for (linalg::LinalgOp qk : candidates) {
        if (erased.contains(qk))
          continue;
        std::optional<Attention> att = matchAttention(qk);
        if (!att || (!force && !wantsPipeline(*att, chunk)))
          continue;
        erased.insert(att->qk);
        erased.insert(att->pv);
        HeadPipeliner(rewriter, *att).run();
      }
    }
  }
};

} // namespace
