//===- DropInPlaceResults.cpp - Drop results that return an argument ------===//
//
// The compiled model's entry points update the KV caches in place and, in
// tensor form, return them. After bufferization such a result is the
// argument's own memref; returning it would make the JIT caller receive (or,
// with out-params, copy) the whole cache. This pass removes every memref
// result that is an entry-block argument returned as is, from public and
// private functions alike (upstream drop-equivalent-buffer-results skips
// public ones), and makes call sites use the argument instead.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/BitVector.h"

namespace mlir::smepilot {
#define GEN_PASS_DEF_DROPINPLACERESULTS
#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h.inc"
} // namespace mlir::smepilot

using namespace mlir;

namespace {

struct DropInPlaceResultsPass
    : public smepilot::impl::DropInPlaceResultsBase<DropInPlaceResultsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTableCollection symbolTables;
    SymbolUserMap users(symbolTables, module);

    for (auto func : module.getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      // Only functions with a single return: the result must be the same
      // argument on every path.
      SmallVector<func::ReturnOp> returns;
      func.walk([&](func::ReturnOp op) { returns.push_back(op); });
      if (returns.size() != 1)
        continue;
      func::ReturnOp ret = returns.front();

      // result index -> argument index
      llvm::BitVector drop(func.getNumResults());
      SmallVector<int64_t> argOf(func.getNumResults(), -1);
      for (auto [i, value] : llvm::enumerate(ret.getOperands())) {
        auto arg = dyn_cast<BlockArgument>(value);
        if (!arg || arg.getOwner() != &func.getBody().front() ||
            !isa<BaseMemRefType>(value.getType()))
          continue;
        drop.set(i);
        argOf[i] = arg.getArgNumber();
      }
      if (drop.none())
        continue;

      // Call sites: uses of a dropped result become uses of the operand.
      for (Operation *user : users.getUsers(func)) {
        auto call = dyn_cast<func::CallOp>(user);
        if (!call) {
          user->emitError("smepilot-drop-inplace-results: unsupported use of @")
              << func.getSymName();
          return signalPassFailure();
        }
        OpBuilder builder(call);
        SmallVector<Type> kept;
        for (auto [i, type] : llvm::enumerate(call.getResultTypes()))
          if (!drop.test(i))
            kept.push_back(type);
        auto newCall =
            func::CallOp::create(builder, call.getLoc(), call.getCalleeAttr(),
                                 kept, call.getOperands());
        unsigned next = 0;
        for (auto [i, result] : llvm::enumerate(call.getResults())) {
          if (drop.test(i))
            result.replaceAllUsesWith(call.getOperand(argOf[i]));
          else
            result.replaceAllUsesWith(newCall.getResult(next++));
        }
        call.erase();
      }

      ret->eraseOperands(drop);
      if (failed(func.eraseResults(drop))) {
        func.emitError("smepilot-drop-inplace-results: cannot erase results");
        return signalPassFailure();
      }
    }
  }
};

} // namespace
