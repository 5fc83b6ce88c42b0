//===- ExpandBF16Conversions.cpp - f32 <-> bf16 without libcalls ----------===//
//
// Without a bf16 conversion instruction LLVM lowers f32 -> bf16 truncation to
// `__truncsfbf2` calls, which the JIT cannot resolve (GCC 12's libgcc lacks
// the function) and which would run once per lane. Upstream's bf16 expansion
// patterns (arith::populateExpandBFloat16Patterns) turn both directions into
// integer operations on the bits; applied here alone, without the rest of
// arith-expand.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::smepilot {
#define GEN_PASS_DEF_EXPANDBF16CONVERSIONS
#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h.inc"
} // namespace mlir::smepilot

using namespace mlir;

namespace {

struct ExpandBF16ConversionsPass
    : public mlir::smepilot::impl::ExpandBF16ConversionsBase<
          ExpandBF16ConversionsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    arith::populateExpandBFloat16Patterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
