//===- PartitionCollab.cpp - smepilot-partition-collab
//---------------------===//
//
// Both units on one operator. A contraction the Roofline model decided
// `collab` (or, with `force-share`, every contraction the matrix unit can
// run) gets one tile space over its output features n, shared by two
// variants that the runtime runs at the same time (abi.h, mode collab):
//
//   tiles [0, split)           the SME variant, one call for the whole range;
//   tiles [split, tile count)  the vector-core variant, split over the
//                              vector-core workers;
//
// with split = floor(tiles * sme_share / 65536) rounded down to a multiple of
// tile_granule, computed by the runtime. The SME variant always gets the
// leading, regular region; the vector cores get the irregular tail (a partial
// last tile, or tiles short of a granule) plus their balancing share.
//
// The tile space. Tiles are `T` output features wide, T a multiple of 8 (the
// vector cores' register block along n) chosen for about `max-tiles` tiles.
// The granule is the number of tiles one SME block covers at the profile's
// streaming vector length: a block is 2 ZA tiles of SVL/32 32-bit
// accumulators, SVL/16 columns (32 at 512 bits), so granule =
// ceil(SVL/16 / T). The SME kernel itself is predicated along n, so the same
// object stays correct at any run-time SVL; the granule only keeps its
// blocks full at the profile's.
//
// The share. sme_share = the Roofline split's `sme_fraction` of the
// decision, in parts per 65536 (`force-share` overrides it for tests).
//
// Near the boundary. With `adaptive-margin` F, a contraction decided cpu or
// sme whose other unit the model predicts within F times its own is split
// too, with the share its decision implies (0 or 65536): it runs as
// decided, but has both variants, so the runtime's adaptation (adaptive.h)
// can give tiles to the other unit when measured times disagree with the
// model. The variants' decisions say reason "near-boundary". What cannot
// be split keeps its decision, as with force-share.
//
// The rewrite, on tensors, for C[m, n] += A[m, k] W[n, k] (any operand
// layout with one m, n and k dimension and no batch dimension, f32):
//
//   %at = linalg.transpose %A            // K-major, unless it already is
//   %wt = linalg.transpose %W {smepilot.pack_at_load}   // a weight: once
//   %s  = call @<caller>_collab<i>(%at, %wt, %C, %c0, %c0)
//   %r  = scf.forall (%t) in (tiles) shared_outs(%o = %s) {
//           C[:, t*T : t*T+T] = A W[t*T : t*T+T, :]^T    // decision cpu
//         } {smepilot.collab}
//
// `@<caller>_collab<i>(%at, %wt, %c, %tile_begin, %tile_end)` (attribute
// `smepilot.collab` with the share, granule, tile size and tile count)
// computes the columns of tiles [tile_begin, tile_end) with a K-major
// contraction decided `sme`, which smepilot-tile-sme then outlines into a
// streaming kernel. As written, the call computes the empty range [0, 0)
// and the forall every tile: the program is the vector cores' alone, and
// correct as it stands (both variants accumulate into C, so a tile must
// never be computed twice). smepilot-form-dispatches, after bufferization,
// makes the call and the forall right after it one dispatch of mode collab
// whose SME kernel is the call with [tile_begin, tile_end) taken from the
// kernel's own tile range and whose CPU kernel is the forall's body: every
// tile is computed exactly once, by one of the two variants.
//
// The SME variant's layout. With `weight-type=bf16` (f16), as smepilot-
// tile-sme does for the ops decided `sme`, the variant of a product with a
// weight computes in that type: %at and %wt are rounded and packed in k
// pairs ([K/2, X, 2] collapsed to [K/2, 2X], Layouts.h; the weight's pack
// at load, half the bytes of the f32 K-major copy) and the variant's loops
// are built here, marked `smepilot.collab_packed`: 2-way widening outer
// products with no pairing in registers, or, for a decode matvec (M = 1),
// streaming-SVE FMLA on the pairs (an outer product would fill one row of a
// ZA tile). The vector cores' variant keeps the stored f32 weight (so a
// collab op holds both units' layouts of its weight, each made once) and
// reads the activation rounded to the same type and widened back: every tile
// computes the same products, llama.cpp's for BF16/F16 weights, whichever
// unit runs it.
//
// What is not partitioned. Only ops at the top level of a function become
// dispatches of their own, so ops nested in loops or conditionals (the MoE
// experts' projections, per selected expert) are left alone, as are batched
// contractions (attention's QK^T and PV, whose n is the dynamic key length or
// whose work is split per head by smepilot-pipeline-attention) keep their
// decision: a collab one still runs whole on the faster unit (getSingleUnit).
// With `force-share`, ops that cannot be split (no SME variant, dynamic n,
// fewer tiles than a granule) are left to the vector cores' variant alone. A
// `collab` decision that cannot be honoured (other element types than f32, a
// dynamic n, fewer tiles than a granule, no streaming vector length to compute
// the granule for) is an error naming the op.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Dialect/SMEPilot/Transforms/Layouts.h"
#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h"

#include "smepilot/Dialect/SMEPilot/IR/SMEPilot.h"

#include "smepilot/Analysis/Roofline.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ArmSME/IR/ArmSME.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>

namespace mlir::smepilot {
#define GEN_PASS_DEF_PARTITIONCOLLAB
#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h.inc"
} // namespace mlir::smepilot

using namespace mlir;
using namespace mlir::smepilot;

namespace {

/// Output features per tile are a multiple of this (the vector cores'
/// register block along n).
constexpr int64_t kTileBlock = 8;

/// A contraction that can be split: its loop dimensions and the split.
struct CollabPlan {
  unsigned m, n, k;
  int64_t nSize;
  int64_t tileSize, tiles, granule, share;
  /// The variants' decisions' reason when the Roofline model did not
  /// decide collab: "forced" (force-share) or "near-boundary"
  /// (adaptive-margin); empty: the decision's own.
  StringRef reason;
  /// The SME variant's operands rounded to this type and packed in k pairs
  /// (null: f32, K-major).
  Type packedType;
};

bool hasMulAddBody(linalg::LinalgOp op) {
  return llvm::all_of(op.getBlock()->without_terminator(), [](Operation &o) {
    return isa<arith::MulFOp, arith::AddFOp>(o);
  });
}

/// Why `op` has no collab variant, or "" when it has one: a 2-D f32
/// contraction C[m, n] += A(m, k) B(n, k), operands in any order, with a
/// static n.
std::string whyNotSplittable(linalg::LinalgOp op, CollabPlan &plan) {
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::isaContractionOpInterface(op)
          ? linalg::inferContractionDims(op)
          : FailureOr<linalg::ContractionDimensions>(failure());
  if (failed(dims) || op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      !op.hasPureTensorSemantics() || !hasMulAddBody(op))
    return "it is not a matmul-like contraction on tensors";
  if (!dims->batch.empty() || dims->m.size() != 1 || dims->n.size() != 1 ||
      dims->k.size() != 1 || op.getNumLoops() != 3)
    return "only 2-D contractions (one m, n and k dimension, no batch "
           "dimension) are partitioned";
  plan.m = dims->m[0];
  plan.n = dims->n[0];
  plan.k = dims->k[0];
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  auto reads = [&](AffineMap map, unsigned x) {
    return map.getNumResults() == 2 && map.isProjectedPermutation() &&
           resultPos(map, x) >= 0 && resultPos(map, plan.k) >= 0;
  };
  if (!reads(maps[0], plan.m) || !reads(maps[1], plan.n) ||
      resultPos(maps[2], plan.m) != 0 || resultPos(maps[2], plan.n) != 1)
    return "operands must be A(m, k), B(n, k) in any order and C[m, n]";
  for (Value v : op->getOperands())
    if (!getElementTypeOrSelf(v.getType()).isF32())
      return "only f32 contractions are partitioned";
  plan.nSize = op.getStaticLoopRanges()[plan.n];
  if (ShapedType::isDynamic(plan.nSize))
    return "its output features (n) are dynamic: the tile count must be "
           "fixed";
  return "";
}

/// `v` in the K-major layout [k, x] (`map` reads it): itself, a view of it
/// when only a unit dimension moves (a decode step's [1, K]), or a
/// linalg.transpose of it, marked to be packed at load when it reads a
/// weight argument alone.
Value toKMajor(OpBuilder &b, Location loc, Value v, AffineMap map, unsigned k) {
  if (resultPos(map, k) == 0)
    return v;
  Operation *copy = nullptr;
  Value kMajor = permuteDims(b, loc, v, {1, 0}, "k-major", &copy);
  if (copy && isa<BlockArgument>(v) && isWeight(v))
    copy->setAttr("smepilot.pack_at_load", b.getUnitAttr());
  return kMajor;
}

/// `decision` for one variant, cpu or sme: the share that mode implies (0 or
/// 1), and `reason` (the plan's) when not the Roofline model's collab
/// decision split the op. Valid for the attribute's verifier, so dumps parse
/// back.
DecisionAttr withMode(DecisionAttr d, ExecMode mode, StringRef reason) {
  return DecisionAttr::get(
      d.getContext(), d.getKind(), d.getShapeClass(), d.getElem(), mode,
      d.getFlops(), d.getWeightBytes(), d.getActBytes(), d.getIntensity(),
      d.getCpuUs(), d.getSmeUs(), d.getCollabUs(),
      mode == ExecMode::sme ? 1.0 : 0.0, d.getBound(), d.getVectorization(),
      reason.empty() ? d.getReason() : reason, d.getAssumed());
}

/// The SME variant: `@<caller>_collab<index>(at[K, M], wt[K, N], c[M, N],
/// tile_begin, tile_end) -> c` computing the columns of tiles
/// [tile_begin, tile_end). With packed operands (`at` [K/2, 2M], `wt`
/// [K/2, 2N]) the columns of `wt` are 2 per output feature and the loops are
/// built here: widening outer products, or the FMLA matvec for M = 1.
func::FuncOp buildSMEVariant(RewriterBase &rewriter, func::FuncOp caller,
                             SymbolTable &symbols, unsigned index,
                             linalg::LinalgOp op, Value at, Value wt,
                             const CollabPlan &plan) {
  MLIRContext *ctx = rewriter.getContext();
  Location loc = op.getLoc();
  Value c = op.getDpsInitOperand(0)->get();
  Type indexType = rewriter.getIndexType();
  auto fnType = rewriter.getFunctionType(
      {at.getType(), wt.getType(), c.getType(), indexType, indexType},
      {c.getType()});
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(caller);
  auto fn = func::FuncOp::create(
      rewriter, loc, (caller.getSymName() + "_collab" + Twine(index)).str(),
      fnType);
  fn.setPrivate();
  fn->setAttr(kCollabKernelAttr,
              rewriter.getDictionaryAttr({
                  rewriter.getNamedAttr("sme_share",
                                        rewriter.getI64IntegerAttr(plan.share)),
                  rewriter.getNamedAttr(
                      "tile_granule", rewriter.getI64IntegerAttr(plan.granule)),
                  rewriter.getNamedAttr(
                      "tile_size", rewriter.getI64IntegerAttr(plan.tileSize)),
                  rewriter.getNamedAttr("tiles",
                                        rewriter.getI64IntegerAttr(plan.tiles)),
              }));
  symbols.insert(fn);
  Block *body = fn.addEntryBlock();
  rewriter.setInsertionPointToStart(body);
  Value fat = body->getArgument(0), fwt = body->getArgument(1),
        fc = body->getArgument(2);
  Value begin = body->getArgument(3), end = body->getArgument(4);

  // Columns [begin * T, min(end * T, N)).
  AffineExpr d0 = getAffineDimExpr(0, ctx);
  OpFoldResult first = affine::makeComposedFoldedAffineApply(
      rewriter, loc, d0 * plan.tileSize, {OpFoldResult(begin)});
  OpFoldResult last = affine::makeComposedFoldedAffineMin(
      rewriter, loc,
      AffineMap::get(
          1, 0, {d0 * plan.tileSize, getAffineConstantExpr(plan.nSize, ctx)},
          ctx),
      {OpFoldResult(end)});
  AffineExpr d1 = getAffineDimExpr(1, ctx);
  OpFoldResult width = affine::makeComposedFoldedAffineApply(
      rewriter, loc, d1 - d0, {first, last});
  OpFoldResult zero = rewriter.getIndexAttr(0);
  OpFoldResult one = rewriter.getIndexAttr(1);
  SmallVector<OpFoldResult> wtSizes = tensor::getMixedSizes(rewriter, loc, fwt);
  SmallVector<OpFoldResult> cSizes = tensor::getMixedSizes(rewriter, loc, fc);
  // Packed in k pairs, the weight has 2 columns per output feature.
  OpFoldResult wtFirst = first, wtWidth = width;
  if (plan.packedType) {
    wtFirst =
        affine::makeComposedFoldedAffineApply(rewriter, loc, d0 * 2, {first});
    wtWidth =
        affine::makeComposedFoldedAffineApply(rewriter, loc, d0 * 2, {width});
  }
  Value wtSlice = tensor::ExtractSliceOp::create(
      rewriter, loc, fwt, ArrayRef<OpFoldResult>{zero, wtFirst},
      ArrayRef<OpFoldResult>{wtSizes[0], wtWidth},
      ArrayRef<OpFoldResult>{one, one});
  Value cSlice = tensor::ExtractSliceOp::create(
      rewriter, loc, fc, ArrayRef<OpFoldResult>{zero, first},
      ArrayRef<OpFoldResult>{cSizes[0], width},
      ArrayRef<OpFoldResult>{one, one});

  Value result;
  if (plan.packedType) {
    fn->setAttr(kCollabPackedAttr, rewriter.getUnitAttr());
    if (op.getStaticLoopRanges()[plan.m] == 1) {
      result =
          buildMatvecLoops(rewriter, loc, fat, wtSlice, cSlice, /*kStep=*/2);
      fn->setAttr("arm_locally_streaming", rewriter.getUnitAttr());
    } else {
      result = buildWideningKernelLoops(rewriter, loc, fat, wtSlice, cSlice,
                                        /*kStep=*/2);
    }
  } else {
    auto matmul = createKMajorMatmul(rewriter, loc, fat, wtSlice, cSlice);
    if (auto d = op->getAttrOfType<DecisionAttr>(DecisionAttr::kAttrName))
      matmul->setAttr(DecisionAttr::kAttrName,
                      withMode(d, ExecMode::sme, plan.reason));
    else
      matmul->setAttr("smepilot.collab_part", rewriter.getStringAttr("sme"));
    result = matmul->getResult(0);
  }
  Value updated = tensor::InsertSliceOp::create(
      rewriter, loc, result, fc, ArrayRef<OpFoldResult>{zero, first},
      ArrayRef<OpFoldResult>{cSizes[0], width},
      ArrayRef<OpFoldResult>{one, one});
  func::ReturnOp::create(rewriter, loc, updated);
  return fn;
}

struct PartitionCollabPass
    : public smepilot::impl::PartitionCollabBase<PartitionCollabPass> {
  using PartitionCollabBase::PartitionCollabBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (forceShare < -1 || forceShare > int64_t(SMEShareOne)) {
      module.emitError("smepilot-partition-collab: force-share ")
          << int64_t(forceShare)
          << " is out of range (0..65536 parts per 65536, or -1)";
      return signalPassFailure();
    }
    if (adaptiveMargin != 0 && !(adaptiveMargin >= 1 && adaptiveMargin < 1e6)) {
      module.emitError("smepilot-partition-collab: adaptive-margin ")
          << double(adaptiveMargin) << " is not a factor >= 1 (or 0: none)";
      return signalPassFailure();
    }
    if (maxTiles < 1) {
      module.emitError("smepilot-partition-collab: max-tiles must be >= 1");
      return signalPassFailure();
    }
    TargetAttr target = TargetAttr::lookup(module);
    int64_t svl = svlBits;
    if (svl == 0 && target && target.hasMatrixUnit())
      svl = target.getSvlBits();
    if (svlBits < 0 || (svlBits > 0 && (svlBits % 128 != 0))) {
      module.emitError("smepilot-partition-collab: svl-bits ")
          << int64_t(svlBits) << " is not a positive multiple of 128";
      return signalPassFailure();
    }

    Type narrow;
    if (weightType == SMEWeightType::bf16)
      narrow = BFloat16Type::get(&getContext());
    else if (weightType == SMEWeightType::f16)
      narrow = Float16Type::get(&getContext());

    SymbolTable symbols(module);
    IRRewriter rewriter(&getContext());
    bool failedAny = false;
    for (func::FuncOp fn : llvm::to_vector(module.getOps<func::FuncOp>())) {
      if (fn.isExternal() || fn->hasAttr(kSMEKernelAttr) ||
          fn->hasAttr(kCollabKernelAttr))
        continue;
      SmallVector<linalg::LinalgOp> candidates;
      fn.walk([&](linalg::LinalgOp op) {
        // Only top-level ops become dispatches; nested ones (in loops or
        // conditionals) run inside another dispatch's kernel.
        if (op->getParentOp() != fn.getOperation())
          return;
        auto d = op->getAttrOfType<DecisionAttr>(DecisionAttr::kAttrName);
        bool collab = d && d.getMode() == ExecMode::collab;
        if (collab || ((forceShare >= 0 || nearBoundary(d)) &&
                       linalg::isaContractionOpInterface(op)))
          candidates.push_back(op);
      });
      unsigned index = 0;
      for (linalg::LinalgOp op : candidates) {
        auto d = op->getAttrOfType<DecisionAttr>(DecisionAttr::kAttrName);
        const bool decided = d && d.getMode() == ExecMode::collab;
        CollabPlan plan;
        std::string why = whyNotSplittable(op, plan);
        if (why.empty() && svl == 0)
          why = "no streaming vector length to compute the tile granule for "
                "(the module's profile has no matrix unit; set svl-bits)";
        if (why.empty()) {
          plan.tileSize = std::max<int64_t>(
              kTileBlock, llvm::alignTo(llvm::divideCeil(plan.nSize, maxTiles),
                                        kTileBlock));
          plan.tiles = llvm::divideCeil(plan.nSize, plan.tileSize);
          plan.granule = llvm::divideCeil(svl / 16, plan.tileSize);
          if (plan.granule > plan.tiles)
            why = "its " + std::to_string(plan.tiles) + " tiles of " +
                  std::to_string(plan.tileSize) +
                  " output features are fewer than one SME granule (" +
                  std::to_string(plan.granule) + " tiles at " +
                  std::to_string(svl) + "-bit SVL)";
        }
        if (!why.empty()) {
          // A batched contraction keeps its decision (getSingleUnit);
          // forced partitioning skips what it cannot split.
          if (!decided || op.getNumLoops() > 3)
            continue;
          op->emitOpError("smepilot-partition-collab: cannot split this "
                          "collab op between the units: ")
              << why;
          failedAny = true;
          continue;
        }
        // Packed in k pairs when the weight's type is narrower (a static K
        // to pad to even).
        if (narrow && isWeight(op.getDpsInputOperand(1)->get()) &&
            !ShapedType::isDynamic(op.getStaticLoopRanges()[plan.k]))
          plan.packedType = narrow;
        if (forceShare >= 0) {
          plan.reason = "forced";
          plan.share = forceShare;
        } else if (!decided) {
          // Near the boundary: as decided, with both variants.
          plan.reason = "near-boundary";
          plan.share = d.getMode() == ExecMode::sme ? SMEShareOne : 0;
        } else {
          plan.share = std::clamp<int64_t>(
              int64_t(std::llround(d.getSmeFraction() * SMEShareOne)), 0,
              SMEShareOne);
        }
        partition(rewriter, fn, symbols, index++, op, plan);
      }
    }
    if (failedAny)
      signalPassFailure();
  }

  static constexpr int64_t SMEShareOne = 65536;

  /// Whether `d` decided one unit with the other predicted within
  /// adaptive-margin of it (both times known).
  bool nearBoundary(DecisionAttr d) const {
    if (!d || adaptiveMargin < 1 || d.getMode() == ExecMode::collab)
      return false;
    double cpu = d.getCpuUs(), sme = d.getSmeUs();
    if (!(cpu > 0) || !(sme > 0))
      return false;
    return std::max(cpu, sme) <= adaptiveMargin * std::min(cpu, sme);
  }

  void partition(RewriterBase &rewriter, func::FuncOp fn, SymbolTable &symbols,
                 unsigned index, linalg::LinalgOp op, const CollabPlan &plan) {
    Location loc = op.getLoc();
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    rewriter.setInsertionPoint(op);
    Value a = op.getDpsInputOperand(0)->get();
    Value w = op.getDpsInputOperand(1)->get();
    // With packed operands the SME variant reads the activation rounded to
    // the weights' type; the vector cores read it rounded alike (and widened
    // back: their kernels are f32), so every tile computes the same products
    // whichever unit runs it, as llama.cpp computes BF16/F16 products. The
    // pack writes both (one use of the activation, for its producer to fuse).
    Value at, wt, rounded = a;
    if (plan.packedType) {
      int64_t paddedK =
          llvm::alignTo(op.getStaticLoopRanges()[plan.k], /*Align=*/2);
      at = packForWideningOuterProduct(rewriter, loc, a, maps[0],
                                       {plan.k, plan.m}, /*isWeight=*/false,
                                       plan.packedType, 2, paddedK, &rounded);
      wt = packForWideningOuterProduct(rewriter, loc, w, maps[1],
                                       {plan.k, plan.n}, /*isWeight=*/true,
                                       plan.packedType, 2, paddedK);
    } else {
      at = toKMajor(rewriter, loc, a, maps[0], plan.k);
      wt = toKMajor(rewriter, loc, w, maps[1], plan.k);
    }
    func::FuncOp variant =
        buildSMEVariant(rewriter, fn, symbols, index, op, at, wt, plan);
    rewriter.setInsertionPoint(op);
    // The empty range: as written, the vector cores compute every tile
    // (dispatch formation gives each variant its share).
    Value none = arith::ConstantIndexOp::create(rewriter, loc, 0);
    auto call = func::CallOp::create(
        rewriter, loc, variant,
        ValueRange{at, wt, op.getDpsInitOperand(0)->get(), none, none});

    // The vector-core variant: the op itself on the call's result, tiled.
    rewriter.modifyOpInPlace(op, [&] {
      op.getDpsInputOperand(0)->set(rounded);
      op.getDpsInitsMutable()[0].set(call.getResult(0));
      if (auto d = op->getAttrOfType<DecisionAttr>(DecisionAttr::kAttrName))
        op->setAttr(DecisionAttr::kAttrName,
                    withMode(d, ExecMode::cpu, plan.reason));
      op->setAttr("smepilot.collab_part", rewriter.getStringAttr("cpu"));
    });
    SmallVector<OpFoldResult> sizes(op.getNumLoops(), rewriter.getIndexAttr(0));
    sizes[plan.n] = rewriter.getIndexAttr(plan.tileSize);
    scf::SCFTilingOptions options;
    options.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp);
    options.setTileSizes(sizes);
    FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
        rewriter, cast<TilingInterface>(op.getOperation()), options);
    if (failed(tiled) || tiled->loops.size() != 1) {
      op->emitOpError("smepilot-partition-collab: cannot tile n by ")
          << plan.tileSize;
      return signalPassFailure();
    }
    rewriter.replaceOp(op, tiled->replacements);
    Operation *forall = tiled->loops.front().getOperation();
    forall->setAttr(kCollabKernelAttr, variant->getAttr(kCollabKernelAttr));
  }
};

} // namespace
