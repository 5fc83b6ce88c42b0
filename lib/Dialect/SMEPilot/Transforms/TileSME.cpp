//===- TileSME.cpp - Tile contractions for the Arm SME matrix unit
//----------===//
//
// The matrix-unit schedule. Every contraction C[m, n] += A * B (optionally
// batched over one dimension, as attention's Q K^T and P V are) that the
// Roofline model assigned to SME (`smepilot.decision` mode = sme; with
// `all-contractions` every contraction) is rewritten in three steps, all on
// tensors:
//
// 1. Operand layout. An SME outer product at reduction step k reads the
//    column A[:, k] and the row B[k, :] as two contiguous vectors. A matmul
//    with A[m, k] and GGUF-style [out, in] weights W[n, k] has neither
//    contiguous, so both are transposed into K-major layouts At[k, m] and
//    Bt[k, n] (a batch dimension stays in front) by linalg.transpose in
//    front of the contraction. A transpose of
//    a function argument that is a weight (the B operand) is marked
//    `smepilot.pack_at_load`: work on a weight alone, which
//    smepilot-form-dispatch-regions gives a buffer of its own and
//    smepilot-form-dispatches moves into the load table, run once by the
//    runtime (packed once at load). The widening
//    types need K to be a multiple of the widening factor (2 for bf16/f16,
//    4 for i8); an odd static K is padded with zeros (tensor.pad on the
//    K-major operands), a dynamic K is refused.
//
// 2. Outlining. The contraction, now `linalg.matmul` with maps
//    [(k, m), (k, n), (m, n)], moves into a private function
//    `@<caller>_sme<i>` (attribute `smepilot.sme_kernel`) and is replaced by
//    a call (a batch dimension becomes a loop over rank-reduced 2-D slices
//    around it). The kernel holds nothing but the tile loops, so the streaming
//    mode and ZA that the lowering enables (enable-arm-streaming, if
//    required by ops) stay on it: the transposes, allocations and whatever
//    else the caller does run in normal mode and no call leaves streaming
//    code.
//
// 3. Tiling. In the kernel, m and n are tiled by [8] x [8] scalable elements
//    (2 x 2 ZA tiles of [4] x [4] 32-bit elements: all four ZA tiles of the
//    32-bit accumulator type), k by the widening factor. The tile is
//    vectorized with scalable vector sizes (masked at the m/n edges), the
//    vector.contract becomes vector.outerproduct (bf16/f16/i8 extensions are
//    folded into it first so that arm-sme-outer-product-fusion can form the
//    2-way and 4-way widening outer products), and the loop-invariant C
//    tile is hoisted out of the k loop (licm + subset hoisting, before
//    bufferization): the accumulators are the k loop's iter_args and stay in
//    ZA across K.
//
// The result is still on tensors; smepilot-sme-pipeline lowers it to the
// arm_sme dialect and LLVM.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Dialect/SMEPilot/IR/Provenance.h"
#include "smepilot/Dialect/SMEPilot/Transforms/Layouts.h"
#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h"

#include "smepilot/Analysis/Roofline.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ArmSME/IR/ArmSME.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/UB/IR/UBOps.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/LoopLikeInterface.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/LoopInvariantCodeMotionUtils.h"
#include "llvm/ADT/STLExtras.h"

namespace mlir::smepilot {
#define GEN_PASS_DEF_TILESME
#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h.inc"
} // namespace mlir::smepilot

using namespace mlir;
using namespace mlir::smepilot;

namespace {

/// Scalable elements per m and n tile step: 2 ZA tiles of [4] x [4] 32-bit
/// accumulators in each direction, i.e. all four 32-bit ZA tiles.
constexpr int64_t kScalableTile = 8;

/// Returns `v` in the K-major layout [batch..., k, x] (`order` lists those
/// loop dimensions) with elements of `elementType`: itself if its map
/// already reads them in that order and the type is its own, else a
/// linalg.transpose of it, or, when the type changes, one linalg.generic
/// that permutes and rounds (arith.truncf).
Value toKMajor(OpBuilder &b, Location loc, Value v, AffineMap map,
               ArrayRef<unsigned> order, bool isWeight, Type elementType) {
  SmallVector<int64_t> perm = operandPermutation(map, order);
  auto type = cast<RankedTensorType>(v.getType());
  const bool convert = elementType != type.getElementType();
  if (!convert && llvm::equal(perm, llvm::seq<int64_t>(0, perm.size())))
    return v;
  if (!convert) {
    Operation *copy = nullptr;
    Value permuted = permuteDims(b, loc, v, perm, "k-major", &copy);
    if (copy && isWeight && isa<BlockArgument>(v))
      copy->setAttr("smepilot.pack_at_load", b.getUnitAttr());
    return permuted;
  }
  Value init = tensor::EmptyOp::create(b, loc, permutedSizes(b, loc, v, perm),
                                       elementType);
  Operation *pack;
  {
    // out[i_0, ..., i_r] = trunc(in[j]) with j[perm[d]] = i_d.
    MLIRContext *ctx = b.getContext();
    SmallVector<AffineExpr> inExprs(perm.size());
    for (auto [d, p] : llvm::enumerate(perm))
      inExprs[p] = getAffineDimExpr(d, ctx);
    unsigned rank = perm.size();
    SmallVector<AffineMap> maps{AffineMap::get(rank, 0, inExprs, ctx),
                                AffineMap::getMultiDimIdentityMap(rank, ctx)};
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::parallel);
    pack = linalg::GenericOp::create(
        b, loc, TypeRange{init.getType()}, ValueRange{v}, ValueRange{init},
        maps, iterators, [&](OpBuilder &nb, Location nloc, ValueRange args) {
          Value r = arith::TruncFOp::create(nb, nloc, elementType, args[0]);
          linalg::YieldOp::create(nb, nloc, r);
        });
  }
  std::string layout = "k-major ";
  llvm::raw_string_ostream(layout) << elementType;
  pack->setLoc(withLayoutChange(loc, layout));
  if (isWeight && isa<BlockArgument>(v))
    pack->setAttr("smepilot.pack_at_load", b.getUnitAttr());
  return pack->getResult(0);
}

} // namespace

/// An outlined contraction: its kernel, and the kernel's f32 matmul.
struct OutlinedContraction {
  func::FuncOp kernel;
  linalg::MatmulOp matmul;
};

/// Rewrites `op` into K-major operands and a call of a new SME kernel
/// function. An f32 contraction's kernel holds a `linalg.matmul` with maps
/// [(k,m), (k,n), (m,n)], returned for tileAndVectorizeForSME; a widening
/// one (kStep > 1) reads packed operands (packForWideningOuterProduct) and
/// gets its tile loops here: no matmul (null). Those are outer products
/// (buildWideningKernelLoops), or for a 2-way matrix-vector product (M = 1,
/// decode) the streaming-SVE FMLA loops of buildMatvecLoops in a
/// function marked `arm_locally_streaming`.
static FailureOr<OutlinedContraction>
outlineSMEContraction(RewriterBase &rewriter, linalg::LinalgOp op,
                      const SMEContraction &contraction, func::FuncOp caller,
                      SymbolTable &symbols, unsigned index) {
  const SMEKind &kind = contraction.kind;
  int64_t kSize = op.getStaticLoopRanges()[contraction.k];
  if (kind.kStep > 1 && ShapedType::isDynamic(kSize))
    return op->emitOpError("smepilot-tile-sme: a ")
           << kind.inputType << " contraction needs a static K (the "
           << kind.kStep << "-way widening outer product cannot be masked "
           << "along K)";

  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  SmallVector<unsigned> aOrder(contraction.batch.begin(),
                               contraction.batch.end());
  SmallVector<unsigned> bOrder(aOrder);
  aOrder.append({contraction.k, contraction.m});
  bOrder.append({contraction.k, contraction.n});
  const bool widening = kind.kStep > 1;
  Value a, b;
  if (widening) {
    int64_t paddedK = llvm::alignTo(kSize, kind.kStep);
    a = packForWideningOuterProduct(
        rewriter, loc, op.getDpsInputOperand(0)->get(), maps[0], aOrder,
        /*isWeight=*/false, kind.inputType, kind.kStep, paddedK);
    b = packForWideningOuterProduct(
        rewriter, loc, op.getDpsInputOperand(1)->get(), maps[1], bOrder,
        /*isWeight=*/true, kind.inputType, kind.kStep, paddedK);
  } else {
    a = toKMajor(rewriter, loc, op.getDpsInputOperand(0)->get(), maps[0],
                 aOrder, /*isWeight=*/false, kind.inputType);
    b = toKMajor(rewriter, loc, op.getDpsInputOperand(1)->get(), maps[1],
                 bOrder, /*isWeight=*/true, kind.inputType);
  }
  Value c = op.getDpsInitOperand(0)->get();

  // The kernel function, just before its caller.
  auto fnType = rewriter.getFunctionType(
      {a.getType(), b.getType(), c.getType()}, {c.getType()});
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(caller);
  auto kernel = func::FuncOp::create(
      rewriter, loc, (caller.getSymName() + "_sme" + Twine(index)).str(),
      fnType);
  kernel.setPrivate();
  kernel->setAttr(kSMEKernelAttr, rewriter.getUnitAttr());
  symbols.insert(kernel);
  Block *body = kernel.addEntryBlock();
  rewriter.setInsertionPointToStart(body);
  Value at = body->getArgument(0), bt = body->getArgument(1),
        acc = body->getArgument(2);

  // A batch dimension becomes a loop over 2-D slices.
  scf::ForOp batchLoop;
  SmallVector<OpFoldResult> cOffsets, cSizes;
  if (!contraction.batch.empty()) {
    Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
    Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
    Value count = tensor::DimOp::create(rewriter, loc, acc, 0);
    batchLoop = scf::ForOp::create(rewriter, loc, zero, count, one, acc);
    rewriter.setInsertionPointToStart(batchLoop.getBody());
    Value iv = batchLoop.getInductionVar();
    auto slice2D = [&](Value v, SmallVector<OpFoldResult> *offsetsOut,
                       SmallVector<OpFoldResult> *sizesOut) -> Value {
      auto type = cast<RankedTensorType>(v.getType());
      SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(rewriter, loc, v);
      sizes[0] = rewriter.getIndexAttr(1);
      SmallVector<OpFoldResult> offsets{iv, rewriter.getIndexAttr(0),
                                        rewriter.getIndexAttr(0)};
      SmallVector<OpFoldResult> strides(3, rewriter.getIndexAttr(1));
      auto sliceType = RankedTensorType::get(type.getShape().drop_front(),
                                             type.getElementType());
      if (offsetsOut) {
        *offsetsOut = offsets;
        *sizesOut = sizes;
      }
      return tensor::ExtractSliceOp::create(rewriter, loc, sliceType, v,
                                            offsets, sizes, strides);
    };
    at = slice2D(at, nullptr, nullptr);
    bt = slice2D(bt, nullptr, nullptr);
    acc = slice2D(batchLoop.getRegionIterArgs()[0], &cOffsets, &cSizes);
  }

  linalg::MatmulOp matmul;
  Value result;
  if (widening && kind.kStep == 2 && contraction.batch.empty() &&
      op.getStaticLoopRanges()[contraction.m] == 1) {
    result = buildMatvecLoops(rewriter, loc, at, bt, acc, kind.kStep);
    kernel->setAttr("arm_locally_streaming", rewriter.getUnitAttr());
  } else if (widening) {
    result = buildWideningKernelLoops(rewriter, loc, at, bt, acc, kind.kStep);
  } else {
    matmul = createKMajorMatmul(rewriter, loc, at, bt, acc);
    if (Attribute decision = op->getAttr(DecisionAttr::kAttrName))
      matmul->setAttr(DecisionAttr::kAttrName, decision);
    result = matmul->getResult(0);
  }
  if (batchLoop) {
    SmallVector<OpFoldResult> strides(3, rewriter.getIndexAttr(1));
    Value updated = tensor::InsertSliceOp::create(
        rewriter, loc, result, batchLoop.getRegionIterArgs()[0], cOffsets,
        cSizes, strides);
    scf::YieldOp::create(rewriter, loc, updated);
    rewriter.setInsertionPointAfter(batchLoop);
    result = batchLoop.getResult(0);
  }
  func::ReturnOp::create(rewriter, loc, result);

  rewriter.setInsertionPoint(op);
  auto call = func::CallOp::create(rewriter, loc, kernel, ValueRange{a, b, c});
  rewriter.replaceOp(op, call.getResults());
  return OutlinedContraction{kernel, matmul};
}

/// Every op's canonicalization patterns on `kernel`, to a fixed point.
static LogicalResult canonicalizeKernel(func::FuncOp kernel) {
  MLIRContext *ctx = kernel.getContext();
  RewritePatternSet patterns(ctx);
  for (RegisteredOperationName op : ctx->getRegisteredOperations())
    op.getCanonicalizationPatterns(patterns, ctx);
  if (failed(applyPatternsGreedily(kernel, std::move(patterns))))
    return kernel.emitError("smepilot-tile-sme: clean-up did not converge");
  return success();
}

/// Whether `matmul` (K-major operands) is a matrix-vector product, m == 1.
static bool isMatvec(linalg::MatmulOp matmul) {
  return matmul.getStaticLoopRanges()[0] == 1;
}

/// The decode matvec y[1, n] += x[k] * Wt[k, n] as a streaming-SVE FMLA
/// kernel: n tiled by [16] scalable lanes, k by 1; each step loads the
/// contiguous row Wt[k, n : n + 16 x vscale], broadcasts x[k] and
/// accumulates with FMLA in vector registers (the k loop's iter_args: C is
/// read and written once per n tile). An outer product with M = 1 would
/// fill one row of a ZA tile (1/16 of it at 512 bits); the FMLA kernel uses
/// the whole streaming vector. The function is marked streaming itself
/// (`arm_locally_streaming`): it holds no arm_sme op for
/// enable-arm-streaming to find. The loops are Layouts' buildMatvecLoops.
static LogicalResult tileAndVectorizeMatvecForSSVE(RewriterBase &rewriter,
                                                   linalg::MatmulOp matmul) {
  auto kernel = matmul->getParentOfType<func::FuncOp>();
  rewriter.setInsertionPoint(matmul);
  Value result = buildMatvecLoops(
      rewriter, matmul.getLoc(), matmul.getDpsInputOperand(0)->get(),
      matmul.getDpsInputOperand(1)->get(), matmul.getDpsInitOperand(0)->get(),
      /*kStep=*/1);
  rewriter.replaceOp(matmul, result);
  kernel->setAttr("arm_locally_streaming", rewriter.getUnitAttr());
  return canonicalizeKernel(kernel);
}

/// Tiles `matmul` (K-major operands) by [8] x [8] x kStep, vectorizes the
/// tile with scalable sizes and turns it into outer products accumulated in
/// loop-carried vectors.
static LogicalResult tileAndVectorizeForSME(RewriterBase &rewriter,
                                            linalg::MatmulOp matmul,
                                            int64_t kStep) {
  Location loc = matmul.getLoc();
  rewriter.setInsertionPoint(matmul);
  Value vscale = vector::VectorScaleOp::create(rewriter, loc);
  Value tile = arith::MulIOp::create(
      rewriter, loc, vscale,
      arith::ConstantIndexOp::create(rewriter, loc, kScalableTile));
  scf::SCFTilingOptions options;
  options.setLoopType(scf::SCFTilingOptions::LoopType::ForOp);
  options.setTileSizes(
      {OpFoldResult(tile), OpFoldResult(tile), rewriter.getIndexAttr(kStep)});
  FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
      rewriter, cast<TilingInterface>(matmul.getOperation()), options);
  if (failed(tiled))
    return matmul->emitOpError("smepilot-tile-sme: tiling failed");
  rewriter.replaceOp(matmul, tiled->replacements);
  for (Operation *tiledOp : tiled->tiledOps) {
    rewriter.setInsertionPoint(tiledOp);
    FailureOr<linalg::VectorizationResult> vectorized = linalg::vectorize(
        rewriter, tiledOp, {kScalableTile, kScalableTile, kStep},
        {true, true, false});
    if (failed(vectorized))
      return tiledOp->emitOpError("smepilot-tile-sme: vectorization failed");
    rewriter.replaceOp(tiledOp, vectorized->replacements);
  }
  return success();
}

static LogicalResult hoistLoopInvariants(func::FuncOp kernel);

/// The vector-level clean-up of a tiled kernel: contraction -> outer
/// products, with the C tile hoisted out of the k loop.
static LogicalResult lowerToOuterProducts(func::FuncOp kernel) {
  MLIRContext *ctx = kernel.getContext();
  {
    // Extensions first, so that broadcasts and transposes fold into the
    // contraction's maps and the bf16/i8 operands reach the outer products
    // unextended.
    RewritePatternSet patterns(ctx);
    vector::populateFoldArithExtensionPatterns(patterns);
    vector::populateSinkVectorOpsPatterns(patterns);
    vector::populateVectorReductionToContractPatterns(patterns);
    vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
    vector::populateVectorMaskLoweringPatternsForSideEffectingOps(patterns);
    if (failed(applyPatternsGreedily(kernel, std::move(patterns))))
      return kernel.emitError(
          "smepilot-tile-sme: contraction patterns did not converge");
  }
  {
    RewritePatternSet patterns(ctx);
    vector::populateVectorContractLoweringPatterns(
        patterns, vector::VectorContractLowering::OuterProduct);
    vector::populateVectorMaskOpLoweringPatterns(patterns);
    for (RegisteredOperationName op : ctx->getRegisteredOperations())
      op.getCanonicalizationPatterns(patterns, ctx);
    if (failed(applyPatternsGreedily(kernel, std::move(patterns))))
      return kernel.emitError(
          "smepilot-tile-sme: outer product lowering did not converge");
  }
  return hoistLoopInvariants(kernel);
}

/// Loop-invariant code and subsets out of `kernel`'s loops, then clean-up.
static LogicalResult hoistLoopInvariants(func::FuncOp kernel) {
  // Innermost loops first: the C tile leaves the k loop, then the reads
  // that do not depend on the n loop leave it.
  IRRewriter rewriter(kernel.getContext());
  SmallVector<LoopLikeOpInterface> loops;
  kernel.walk([&](LoopLikeOpInterface loop) { loops.push_back(loop); });
  for (LoopLikeOpInterface loop : loops) {
    moveLoopInvariantCode(loop);
    hoistLoopInvariantSubsets(rewriter, loop);
  }
  // Drops the tensor iter_args the hoisting leaves yielded unchanged.
  return canonicalizeKernel(kernel);
}

namespace {

/// True if the contraction was assigned to the matrix unit (a collab one
/// whose SME time alone beats the vector cores' included, until collab
/// partitioning exists: getSingleUnit, which smepilot-tile-cpu uses too).
bool isForSME(Operation *op) {
  auto decision = op->getAttrOfType<DecisionAttr>(DecisionAttr::kAttrName);
  return getSingleUnit(decision) == ExecMode::sme;
}

/// Tiles the K-major f32 contraction of a collab op's SME variant in place
/// and marks the function an SME kernel. A variant on operands packed in k
/// pairs has its loops already (smepilot-partition-collab with weight-type
/// bf16/f16): it only gets its loop invariants hoisted.
LogicalResult tileCollabVariant(RewriterBase &rewriter, func::FuncOp fn) {
  SmallVector<linalg::MatmulOp> matmuls;
  fn.walk([&](linalg::MatmulOp op) { matmuls.push_back(op); });
  if (matmuls.empty() && fn->hasAttr(kCollabPackedAttr)) {
    fn->setAttr(kSMEKernelAttr, rewriter.getUnitAttr());
    return hoistLoopInvariants(fn);
  }
  if (matmuls.size() != 1)
    return fn.emitError("smepilot-tile-sme: the SME variant of a collab op "
                        "must hold exactly one linalg.matmul");
  std::string why;
  FailureOr<SMEContraction> contraction = matchSMEContraction(matmuls[0], why);
  if (failed(contraction))
    return matmuls[0]->emitOpError("smepilot-tile-sme: ") << why;
  if (contraction->kind.kStep != 1 || !contraction->batch.empty())
    return matmuls[0]->emitOpError(
        "smepilot-tile-sme: the SME variant of a collab op must be a 2-D f32 "
        "contraction");
  fn->setAttr(kSMEKernelAttr, rewriter.getUnitAttr());
  if (isMatvec(matmuls[0]))
    return tileAndVectorizeMatvecForSSVE(rewriter, matmuls[0]);
  if (failed(tileAndVectorizeForSME(rewriter, matmuls[0], 1)))
    return failure();
  return lowerToOuterProducts(fn);
}

struct TileSMEPass : public smepilot::impl::TileSMEBase<TileSMEPass> {
  using TileSMEBase::TileSMEBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    Type narrow;
    if (weightType == SMEWeightType::bf16)
      narrow = BFloat16Type::get(&getContext());
    else if (weightType == SMEWeightType::f16)
      narrow = Float16Type::get(&getContext());
    SymbolTable symbols(module);
    IRRewriter rewriter(&getContext());
    bool failedAny = false;
    for (func::FuncOp fn : llvm::to_vector(module.getOps<func::FuncOp>())) {
      if (fn.isExternal() || fn->hasAttr(kSMEKernelAttr))
        continue;
      if (fn->hasAttr(kCollabKernelAttr)) {
        // The SME variant of a collab op (smepilot-partition-collab): its
        // contraction is already K-major on slices of the function's
        // arguments, so it is tiled in place and the function itself
        // becomes the streaming kernel (no copies of the slices at a call
        // boundary).
        if (failed(tileCollabVariant(rewriter, fn)))
          failedAny = true;
        continue;
      }
      SmallVector<linalg::LinalgOp> selected;
      // Every op decided sme (an error if it is not a contraction the
      // matrix unit can run); with all-contractions, every contraction.
      fn.walk([&](linalg::LinalgOp op) {
        if (isForSME(op) ||
            (allContractions && linalg::isaContractionOpInterface(op) &&
             !op->hasAttr("smepilot.collab_part")))
          selected.push_back(op);
      });
      unsigned index = 0;
      for (linalg::LinalgOp op : selected) {
        std::string why;
        FailureOr<SMEContraction> contraction = matchSMEContraction(op, why);
        if (failed(contraction)) {
          if (!isForSME(op))
            continue; // all-contractions: the rest stays on the vector cores
          op->emitOpError("smepilot-tile-sme: ") << why;
          failedAny = true;
          continue;
        }
        // An f32 product with a weight, in the weights' narrower type.
        if (narrow && contraction->kind.inputType.isF32() &&
            isWeight(op.getDpsInputOperand(1)->get()))
          contraction->kind = SMEKind{narrow, 2};
        FailureOr<OutlinedContraction> outlined = outlineSMEContraction(
            rewriter, op, *contraction, fn, symbols, index++);
        if (failed(outlined)) {
          failedAny = true;
          continue;
        }
        func::FuncOp kernel = outlined->kernel;
        linalg::MatmulOp matmul = outlined->matmul;
        if (!matmul) { // a widening kernel: its loops are built
          if (failed(hoistLoopInvariants(kernel)))
            failedAny = true;
          continue;
        }
        // An f32 matvec (decode): the streaming-SVE FMLA kernel.
        if (contraction->kind.kStep == 1 && contraction->batch.empty() &&
            isMatvec(matmul)) {
          if (failed(tileAndVectorizeMatvecForSSVE(rewriter, matmul)))
            failedAny = true;
          continue;
        }
        if (failed(tileAndVectorizeForSME(rewriter, matmul,
                                          contraction->kind.kStep)) ||
            failed(lowerToOuterProducts(kernel)))
          failedAny = true;
      }
    }
    if (failedAny)
      signalPassFailure();
  }
};

} // namespace
