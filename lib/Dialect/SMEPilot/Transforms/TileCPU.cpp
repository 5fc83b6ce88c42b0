//===- TileCPU.cpp - Tile and vectorize linalg ops for the vector cores -----===//
//
// The host (and the CPU side of collab) schedule: every linalg op on tensors
// is tiled with scf.for and each tile is vectorized by linalg's vectorizer
// with the tile sizes as vector sizes, so partial and dynamic tiles become
// masked transfers (AVX-512 masked loads/stores after lowering).
//
// Tile sizes come from the op's shape, not from its name:
//  - a contraction (linalg::inferContractionDims: matmul with any operand
//    transposition, batch matmul, matvec, generic contractions) gets
//    `contraction-tile-sizes` on its innermost m, n and k dimension and 1 on
//    the others (batch, outer m/n/k);
//  - any other op gets `vector-width` lanes on its innermost loop and 1 on the
//    other loops (elementwise ops, reductions, RoPE-like generics, gathers).
// A static dimension no larger than its tile is left untiled.
//
// A tile the vectorizer rejects stays a scalar linalg op; it is lowered to
// loops after bufferization. The pass never fails on such an op: the slow
// path is correct, and `report` says which ops took it.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/UB/IR/UBOps.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/STLExtras.h"

namespace mlir::smepilot {
#define GEN_PASS_DEF_TILECPU
#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h.inc"
} // namespace mlir::smepilot

using namespace mlir;
using namespace mlir::smepilot;

namespace {

/// True if the op was assigned to another unit by the Roofline decision.
bool isForOtherUnit(Operation *op) {
  auto decision = op->getAttrOfType<DecisionAttr>(DecisionAttr::kAttrName);
  return decision && decision.getMode() != ExecMode::cpu;
}

/// The desired tile (= vector) size per loop of `op`, before clamping.
SmallVector<int64_t> desiredTileSizes(linalg::LinalgOp op,
                                      ArrayRef<int64_t> contractionTiles,
                                      int64_t vectorWidth) {
  unsigned numLoops = op.getNumLoops();
  SmallVector<int64_t> tiles(numLoops, 1);
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(op);
  if (succeeded(dims) && !dims->m.empty() && !dims->n.empty() &&
      !dims->k.empty()) {
    // The innermost dimension of each group is the last one in loop order.
    tiles[*llvm::max_element(dims->m)] = contractionTiles[0];
    tiles[*llvm::max_element(dims->n)] = contractionTiles[1];
    tiles[*llvm::max_element(dims->k)] = contractionTiles[2];
    return tiles;
  }
  if (numLoops > 0)
    tiles.back() = vectorWidth;
  return tiles;
}

struct TileCPUPass : public smepilot::impl::TileCPUBase<TileCPUPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<int64_t> contractionTiles(contractionTileSizes.begin(),
                                          contractionTileSizes.end());
    if (contractionTiles.empty())
      contractionTiles = {16, 16, 1};
    if (contractionTiles.size() != 3 ||
        llvm::any_of(contractionTiles, [](int64_t t) { return t <= 0; }) ||
        vectorWidth <= 0) {
      getOperation().emitError("smepilot-tile-cpu: contraction-tile-sizes "
                               "needs three positive sizes (m,n,k) and "
                               "vector-width must be positive");
      return signalPassFailure();
    }

    SmallVector<linalg::LinalgOp> ops;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (op.hasPureTensorSemantics() && op.getNumLoops() > 0 &&
          !isForOtherUnit(op))
        ops.push_back(op);
    });

    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : ops) {
      SmallVector<int64_t> ranges = op.getStaticLoopRanges();
      SmallVector<int64_t> tiles =
          desiredTileSizes(op, contractionTiles, vectorWidth);
      SmallVector<int64_t> vectorSizes(tiles.size());
      for (auto [tile, vecSize, range] :
           llvm::zip_equal(tiles, vectorSizes, ranges)) {
        if (!ShapedType::isDynamic(range) && range <= tile) {
          vecSize = range; // fits in one tile: leave it untiled
          tile = 0;
        } else {
          vecSize = tile;
        }
      }

      SmallVector<Operation *> tiledOps{op};
      if (llvm::any_of(tiles, [](int64_t t) { return t != 0; })) {
        rewriter.setInsertionPoint(op);
        scf::SCFTilingOptions options;
        options.setLoopType(scf::SCFTilingOptions::LoopType::ForOp);
        options.setTileSizes(getAsIndexOpFoldResult(&getContext(), tiles));
        FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
            rewriter, cast<TilingInterface>(op.getOperation()), options);
        if (failed(tiled)) {
          if (report)
            op->emitRemark("smepilot-tile-cpu: not tiled, lowered to loops");
          continue;
        }
        rewriter.replaceOp(op, tiled->replacements);
        tiledOps = tiled->tiledOps;
      }

      bool vectorized = true;
      SmallVector<bool> scalableDims(vectorSizes.size(), false);
      for (Operation *tiledOp : tiledOps) {
        rewriter.setInsertionPoint(tiledOp);
        // Explicit non-scalable flags: an empty list makes the LLVM 22
        // vectorizer build reduction types of the wrong rank.
        // Contractions become vector.contract (lowered to outer products
        // later), not mulf + multi_reduction over a unit k dimension, which
        // would unroll to scalar multiplies.
        FailureOr<linalg::VectorizationResult> result = linalg::vectorize(
            rewriter, tiledOp, vectorSizes, scalableDims,
            /*vectorizeNDExtract=*/true, /*flatten1DDepthwiseConv=*/false,
            /*assumeDynamicDimsMatchVecSizes=*/false,
            /*createNamedContraction=*/true);
        if (failed(result)) {
          vectorized = false;
          continue;
        }
        rewriter.replaceOp(tiledOp, result->replacements);
      }
      if (report) {
        InFlightDiagnostic diag = mlir::emitRemark(
            tiledOps.empty() ? getOperation().getLoc() : tiledOps[0]->getLoc());
        diag << "smepilot-tile-cpu: tiles [";
        llvm::interleaveComma(tiles, diag);
        diag << "] vector sizes [";
        llvm::interleaveComma(vectorSizes, diag);
        diag << "] " << (vectorized ? "vectorized" : "scalar fallback");
      }
    }

    // Generic contractions vectorize to mulf + multi_reduction over k; with
    // k tiles of 1 that would unroll into scalar multiplies. Fold them into
    // vector.contract (lowered to outer products = FMAs of 16-lane rows).
    RewritePatternSet patterns(&getContext());
    vector::populateVectorReductionToContractPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
