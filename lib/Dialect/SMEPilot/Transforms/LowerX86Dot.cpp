//===- LowerX86Dot.cpp - x86 dot products to their intrinsics -------------===//
//
// See Passes.td. Two ops, one intrinsic per op and width; pattern-free
// walks, since nothing else changes.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Dialect/SMEPilot/IR/SMEPilot.h"
#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/X86Vector/X86VectorDialect.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::smepilot {
#define GEN_PASS_DEF_LOWERX86DOT
#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h.inc"
} // namespace mlir::smepilot

using namespace mlir;
using namespace mlir::smepilot;

namespace {

struct LowerX86DotPass
    : public smepilot::impl::LowerX86DotBase<LowerX86DotPass> {
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    getOperation()->walk([&](Dot4U8S8Op op) {
      int64_t lanes = op.getAcc().getType().getNumElements();
      StringRef name = lanes == 16  ? "llvm.x86.avx512.vpdpbusd.512"
                       : lanes == 8 ? "llvm.x86.avx512.vpdpbusd.256"
                                    : "llvm.x86.avx512.vpdpbusd.128";
      rewriter.setInsertionPoint(op);
      rewriter.replaceOpWithNewOp<LLVM::CallIntrinsicOp>(
          op, op.getType(), rewriter.getStringAttr(name),
          ValueRange{op.getAcc(), op.getLhs(), op.getRhs()});
    });
    getOperation()->walk([&](x86vector::DotBF16Op op) {
      rewriter.setInsertionPoint(op);
      rewriter.replaceOpWithNewOp<LLVM::CallIntrinsicOp>(
          op, op.getType(), rewriter.getStringAttr(op.getIntrinsicName()),
          ValueRange{op.getSrc(), op.getA(), op.getB()});
    });
  }
};

} // namespace
