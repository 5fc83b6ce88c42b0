//===- ApproximateMath.cpp - Polynomial approximations of math functions
//----===//
//
// Kernels must not call libm: calls are slow in vector code (the backend
// scalarizes them) and impossible in SME streaming code. This pass expands
// composite math ops (sinh, tan, powf, ...) into primitive ones and replaces
// the primitives by MLIR's polynomial approximations (arith ops only, on
// scalars and vectors alike). f16/bf16 math is computed in f32.
//
// Not approximated: math.sqrt / math.rsqrt (the LLVM lowering emits the sqrt
// instruction, not a call), and by default math.sin / math.cos: their range
// reduction in f32 loses accuracy for the large angles RoPE produces at long
// positions, so they stay sinf/cosf calls unless `sin-cos` is set.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/StringSet.h"

namespace mlir::smepilot {
#define GEN_PASS_DEF_APPROXIMATEMATH
#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h.inc"
} // namespace mlir::smepilot

using namespace mlir;

namespace {

struct ApproximateMathPass
    : public smepilot::impl::ApproximateMathBase<ApproximateMathPass> {
  using Base::Base;

  void runOnOperation() override {
    // Functions with a polynomial approximation in MLIR 22 (the predicate
    // sees full operation names).
    llvm::StringSet<> approximated = {
        "math.atan",  "math.atan2", "math.tanh", "math.log",  "math.log2",
        "math.log1p", "math.erf",   "math.erfc", "math.asin", "math.acos",
        "math.exp",   "math.expm1", "math.cbrt"};
    if (sinCos) {
      approximated.insert("math.sin");
      approximated.insert("math.cos");
    }
    auto shouldApproximate = [&](StringRef name) {
      return approximated.contains(name);
    };
    SmallVector<StringRef> expanded = {"sinh",  "cosh",  "tan",
                                       "asinh", "acosh", "atanh",
                                       "powf",  "fpowi", "exp2"};

    // The patterns build scalar or vector constants: on tensors they would
    // produce IR that does not verify.
    WalkResult onTensors = getOperation().walk([&](Operation *op) {
      if (!isa<math::MathDialect>(op->getDialect()))
        return WalkResult::advance();
      StringRef name = op->getName().stripDialect();
      if (!shouldApproximate(op->getName().getStringRef()) &&
          !llvm::is_contained(expanded, name))
        return WalkResult::advance();
      if (llvm::none_of(op->getOperandTypes(), llvm::IsaPred<TensorType>))
        return WalkResult::advance();
      op->emitError("smepilot-approximate-math: math on tensors is not "
                    "supported (only scalars and vectors: apply it in a "
                    "linalg op's body)");
      return WalkResult::interrupt();
    });
    if (onTensors.wasInterrupted())
      return signalPassFailure();

    // Composite functions first, in terms of the approximated primitives.
    RewritePatternSet expansions(&getContext());
    math::populateExpansionPatterns(expansions, expanded);
    if (failed(applyPatternsGreedily(getOperation(), std::move(expansions))))
      return signalPassFailure();

    RewritePatternSet patterns(&getContext());
    populateMathF32ExpansionPatterns(patterns, shouldApproximate);
    populateMathPolynomialApproximationPatterns(patterns, shouldApproximate);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
