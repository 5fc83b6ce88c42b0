//===- FuseElementwise.cpp - elementwise fusion that spares contractions --===//
//
// The host pipeline's `fuse` stage (see Passes.td): the usual elementwise
// fusion of single-use producers into consumers, except that a producer
// computing something costly is kept out of a consumer with reduction loops,
// where its body would run once per use of each element instead of once.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::smepilot {
#define GEN_PASS_DEF_FUSEELEMENTWISE
#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h.inc"
} // namespace mlir::smepilot

using namespace mlir;

namespace {

/// Whether evaluating `op`'s body once per element is costly: a
/// transcendental or other `math` op, a division or a remainder.
bool hasCostlyBody(linalg::LinalgOp op) {
  bool costly = false;
  op.getBlock()->walk([&](Operation *inner) {
    if (isa<math::MathDialect>(inner->getDialect()) ||
        isa<arith::DivFOp, arith::RemFOp, arith::DivSIOp, arith::DivUIOp,
            arith::RemSIOp, arith::RemUIOp>(inner))
      costly = true;
  });
  return costly;
}

/// Fuse a single-use producer, but not into an op that reduces if the
/// producer is costly, or if its body depends on the position (linalg.index,
/// RoPE's choice between the halves of a rotated pair): fused into a
/// contraction, RoPE's rotation of Q would be recomputed for every key, and
/// the contraction would lose the dot-product form (smepilot-tile-cpu
/// evaluates factors lane-wise on k vectors, without positions) and run as
/// scalar loops.
bool shouldFuse(OpOperand *fused) {
  Operation *producer = fused->get().getDefiningOp();
  if (!producer || !producer->hasOneUse())
    return false;
  auto consumer = dyn_cast<linalg::LinalgOp>(fused->getOwner());
  auto producerOp = dyn_cast<linalg::LinalgOp>(producer);
  if (consumer && producerOp && consumer.getNumReductionLoops() > 0 &&
      (hasCostlyBody(producerOp) || producerOp.hasIndexSemantics()))
    return false;
  return true;
}

/// Upstream's elementwise fusion of a generic's producers (the same checks,
/// the same rewrite), except for the fused op's location: upstream keeps the
/// consumer's, which drops the producer's provenance record
/// (Provenance.h), so a norm fused into the k-pair pack of its output would
/// be explained as a bare layout change. Here the fused op carries both.
struct FuseKeepingBothLocations : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp consumer,
                                PatternRewriter &rewriter) const override {
    for (OpOperand &operand : consumer->getOpOperands()) {
      if (!linalg::areElementwiseOpsFusable(&operand) || !shouldFuse(&operand))
        continue;
      Operation *producer = operand.get().getDefiningOp();
      Location both =
          rewriter.getFusedLoc({consumer.getLoc(), producer->getLoc()});
      FailureOr<linalg::ElementwiseOpFusionResult> fused =
          linalg::fuseElementwiseOps(rewriter, &operand);
      if (failed(fused))
        return rewriter.notifyMatchFailure(consumer, "fusion failed");
      fused->fusedOp->setLoc(both);
      // The consumer's results are replaced; the producer, whose only use
      // was the consumer, dies with it.
      for (auto [original, replacement] : fused->replacements)
        if (original.getDefiningOp() == consumer.getOperation())
          rewriter.replaceAllUsesWith(original, replacement);
      rewriter.eraseOp(consumer);
      return success();
    }
    return failure();
  }
};

/// Reshapes fold into single-use producers as upstream's pass does.
bool singleUse(OpOperand *fused) {
  Operation *producer = fused->get().getDefiningOp();
  return producer && producer->hasOneUse();
}

struct FuseElementwisePass
    : public smepilot::impl::FuseElementwiseBase<FuseElementwisePass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    patterns.add<FuseKeepingBothLocations>(ctx, /*benefit=*/2);
    linalg::populateElementwiseOpsFusionPatterns(patterns, shouldFuse);
    linalg::populateFoldReshapeOpsByExpansionPatterns(patterns, singleUse);
    tensor::populateBubbleUpExpandShapePatterns(patterns);
    affine::AffineApplyOp::getCanonicalizationPatterns(patterns, ctx);
    linalg::GenericOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::ExpandShapeOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::CollapseShapeOp::getCanonicalizationPatterns(patterns, ctx);
    ctx->getLoadedDialect<linalg::LinalgDialect>()->getCanonicalizationPatterns(
        patterns);
    linalg::populateConstantFoldLinalgOperations(patterns, singleUse);
    if (failed(applyPatternsGreedily(
            getOperation(), std::move(patterns),
            GreedyRewriteConfig().setUseTopDownTraversal())))
      return signalPassFailure();
  }
};

} // namespace
