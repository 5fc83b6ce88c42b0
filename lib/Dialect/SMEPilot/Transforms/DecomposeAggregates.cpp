//===- DecomposeAggregates.cpp - Decompose aggregated linalg ops
//------------===//
//
// linalg.softmax is not a structured op: it cannot be tiled with the other
// ops' schedule nor vectorized. It implements linalg's AggregatedOpInterface,
// whose decomposition yields structured ops (two reductions and two
// elementwise generics), which the host tiling handles like any other op.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::smepilot {
#define GEN_PASS_DEF_DECOMPOSEAGGREGATES
#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h.inc"
} // namespace mlir::smepilot

using namespace mlir;

namespace {

struct DecomposeAggregatesPass
    : public smepilot::impl::DecomposeAggregatesBase<DecomposeAggregatesPass> {
  void runOnOperation() override {
    SmallVector<linalg::AggregatedOpInterface> ops;
    getOperation().walk(
        [&](linalg::AggregatedOpInterface op) { ops.push_back(op); });
    IRRewriter rewriter(&getContext());
    for (linalg::AggregatedOpInterface op : ops) {
      // The decompositions build tensors: on buffers they would produce IR
      // that does not verify.
      if (llvm::any_of(op->getOperandTypes(), llvm::IsaPred<BaseMemRefType>)) {
        op->emitError("smepilot-decompose-aggregates: cannot decompose an op "
                      "on buffers (the decomposition is on tensors: run the "
                      "pass before bufferization)");
        return signalPassFailure();
      }
      rewriter.setInsertionPoint(op);
      FailureOr<SmallVector<Value>> values = op.decomposeOperation(rewriter);
      if (failed(values))
        continue;
      rewriter.replaceOp(op, *values);
    }
  }
};

} // namespace
