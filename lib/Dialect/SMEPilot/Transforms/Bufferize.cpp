//===- Bufferize.cpp - One-Shot bufferization, strided kernel arguments ---===//
//
// One-Shot Module Bufferization with identity layouts at function
// boundaries, except for the matrix-unit kernels: their tensor arguments and
// results become memrefs with a dynamic offset, dynamic outer strides and a
// unit innermost stride, so that the slices the callers pass (a head's rows,
// a head's output columns, a cache's rows) are views instead of copies made
// at every call. The upstream pass takes its layout choice as a string
// option for all functions alike; the choice per function needs the
// bufferization options' type converter, hence this pass.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h"

#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/Transforms/OneShotAnalysis.h"
#include "mlir/Dialect/Bufferization/Transforms/OneShotModuleBufferize.h"
#include "mlir/Dialect/Bufferization/Transforms/Transforms.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"

namespace mlir::smepilot {
#define GEN_PASS_DEF_BUFFERIZE
#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h.inc"
} // namespace mlir::smepilot

using namespace mlir;
using namespace mlir::bufferization;

namespace {

/// memref<shape, strided<[?, ..., ?, 1], offset: ?>>: any view whose
/// innermost dimension is contiguous casts to it.
BaseMemRefType getUnitInnerStrideType(TensorType tensorType,
                                      Attribute memorySpace) {
  auto ranked = dyn_cast<RankedTensorType>(tensorType);
  if (!ranked || ranked.getRank() == 0)
    return getMemRefTypeWithFullyDynamicLayout(tensorType, memorySpace);
  SmallVector<int64_t> strides(ranked.getRank(), ShapedType::kDynamic);
  strides.back() = 1;
  auto layout = StridedLayoutAttr::get(tensorType.getContext(),
                                       ShapedType::kDynamic, strides);
  return MemRefType::get(ranked.getShape(), ranked.getElementType(), layout,
                         memorySpace);
}

/// The matrix-unit kernel `call` calls, or null.
func::FuncOp kernelCallee(func::CallOp call) {
  auto callee = SymbolTable::lookupNearestSymbolFrom<func::FuncOp>(
      call, call.getCalleeAttr());
  return callee && callee->hasAttr(smepilot::kSMEKernelAttr) ? callee : nullptr;
}

bool isKernelCall(Value value) {
  auto call = value.getDefiningOp<func::CallOp>();
  return call && kernelCallee(call);
}

/// What a buffer carried by tile loops is: a loop result whose body yields
/// its own iteration argument (tensor iter_args bufferized in place) is the
/// loop's init.
Value throughCarryingLoops(Value value) {
  while (auto loop = value.getDefiningOp<scf::ForOp>()) {
    unsigned index = cast<OpResult>(value).getResultNumber();
    if (throughCarryingLoops(loop.getYieldedValues()[index]) !=
        loop.getRegionIterArg(index))
      break;
    value = loop.getInitArgs()[index];
  }
  return value;
}

/// The block argument a function returns as its result `index` on its only
/// return, if any.
std::optional<unsigned> returnedArgument(func::FuncOp func, unsigned index) {
  if (func.isExternal() || !func.getBody().hasOneBlock())
    return std::nullopt;
  auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
  auto arg =
      dyn_cast<BlockArgument>(throughCarryingLoops(ret.getOperand(index)));
  if (!arg || arg.getOwner() != &func.getBody().front())
    return std::nullopt;
  return arg.getArgNumber();
}

/// Whether every use of `buffer` and of the views of it is in an op that
/// comes before `point` in point's block (or is `point` itself).
bool onlyUsedBefore(Value buffer, Operation *point) {
  for (OpOperand &use : buffer.getUses()) {
    Operation *user = point->getBlock()->findAncestorOpInBlock(*use.getOwner());
    if (!user || (user != point && !user->isBeforeInBlock(point)))
      return false;
    if (isa<ViewLikeOpInterface, memref::CastOp>(use.getOwner()))
      for (Value view : use.getOwner()->getResults())
        if (!onlyUsedBefore(view, point))
          return false;
  }
  return true;
}

/// Whether nothing between `copy` and the return that ends its block can
/// write memory other than fresh buffers (the other results' copies).
bool onlyFreshWritesUntilReturn(memref::CopyOp copy) {
  Operation *next = copy->getNextNode();
  for (; next && !isa<func::ReturnOp>(next); next = next->getNextNode()) {
    auto other = dyn_cast<memref::CopyOp>(next);
    bool writesFresh =
        other && other.getTarget().getDefiningOp<memref::AllocOp>();
    if (!writesFresh && !isa<memref::AllocOp>(next) &&
        !isMemoryEffectFree(next))
      return false;
  }
  return next != nullptr;
}

/// `%t = alloc; copy (cast %x), %t` -> uses of %t become uses of %x, when %x
/// already has %t's type: the copy bufferization makes where a kernel's
/// strided result meets an op that needs an identity layout (a function
/// result, a collapse_shape), for a buffer that had that layout all along.
/// Safe when %t is only read back by the function's return and nothing
/// writes %x before it, or when %x (an allocation) is dead after the copy.
void forwardRetypedCopy(memref::CopyOp copy) {
  auto cast = copy.getSource().getDefiningOp<memref::CastOp>();
  auto target = copy.getTarget().getDefiningOp<memref::AllocOp>();
  if (!cast || !target || cast.getSource().getType() != target.getType() ||
      target->getBlock() != copy->getBlock())
    return;
  Value source = cast.getSource();
  bool intoReturn = onlyFreshWritesUntilReturn(copy) &&
                    llvm::all_of(target->getUsers(), [&](Operation *user) {
                      return user == copy || isa<func::ReturnOp>(user);
                    });
  bool deadSource =
      source.getDefiningOp<memref::AllocOp>() && onlyUsedBefore(source, copy);
  if (!intoReturn && !deadSource)
    return;
  copy.erase();
  target.getResult().replaceAllUsesWith(source);
  target.erase();
}

/// Whether the buffer of `value` may have a non-unit innermost stride: a
/// slice with a step in its last dimension or that drops the source's last
/// dimension, or a reshape or slice of such a buffer. Everything else
/// bufferizes to an identity buffer, or a view of one that keeps its rows.
bool mayHaveStridedRows(Value value) {
  while (Operation *producer = value.getDefiningOp()) {
    if (auto slice = dyn_cast<tensor::ExtractSliceOp>(producer)) {
      int64_t last = slice.getSourceType().getRank() - 1;
      if (slice.getDroppedDims().test(last) ||
          getConstantIntValue(slice.getMixedStrides()[last]) != 1)
        return true;
      value = slice.getSource();
      continue;
    }
    if (isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(producer)) {
      value = producer->getOperand(0);
      continue;
    }
    return false;
  }
  return false;
}

/// Whether `op` computes its tensor result from constants alone: a fill or
/// a (vectorized) fill loop into a tensor.empty that reads no other tensor.
/// Cloning such an op is as cheap as running it.
bool computesFromConstants(Operation *op) {
  if (!op || op->getNumResults() != 1 ||
      !isa<linalg::FillOp, scf::ForallOp>(op))
    return false;
  for (Value operand : op->getOperands())
    if (isa<TensorType>(operand.getType()) &&
        !operand.getDefiningOp<tensor::EmptyOp>())
      return false;
  for (Region &region : op->getRegions()) {
    llvm::SetVector<Value> above;
    getUsedValuesDefinedAbove(region, above);
    for (Value value : above)
      if (isa<TensorType, BaseMemRefType>(value.getType()))
        return false;
  }
  return true;
}

struct BufferizePass : public smepilot::impl::BufferizeBase<BufferizePass> {
  using Base::Base;

  /// A kernel's output initialised from constants (a zero fill) and shared
  /// with other writers (CSE merges equal fills: the Q and O projections'
  /// zero [tokens, 2048]) is copied before the writes the analysis puts out
  /// of place (read-after-write conflicts); such a kernel call gets its own
  /// clone of the initialising op instead: a fill instead of a copy of
  /// zeros.
  LogicalResult
  unshareKernelOutputs(const OneShotBufferizationOptions &options) {
    ModuleOp module = getOperation();
    OneShotAnalysisState analysis(module, options);
    if (failed(analyzeModuleOp(module, analysis)))
      return failure();
    SmallVector<OpOperand *> shared;
    module.walk([&](func::CallOp call) {
      if (!kernelCallee(call))
        return;
      for (OpOperand &operand : call->getOpOperands())
        if (isa<TensorType>(operand.get().getType()) &&
            !analysis.isInPlace(operand) &&
            computesFromConstants(operand.get().getDefiningOp()))
          shared.push_back(&operand);
    });
    for (OpOperand *operand : shared) {
      Operation *init = operand->get().getDefiningOp();
      OpBuilder builder(operand->getOwner());
      IRMapping mapping;
      for (Value empty : init->getOperands())
        if (Operation *op = empty.getDefiningOp<tensor::EmptyOp>())
          mapping.map(empty, builder.clone(*op)->getResult(0));
      operand->set(builder.clone(*init, mapping)->getResult(0));
    }
    return success();
  }

  /// A kernel operand whose buffer may not have contiguous rows is copied
  /// into a fresh tensor before the call (upstream's cast-or-copy at the
  /// call cannot allocate a buffer of the kernels' strided type).
  void copyStridedRowsForKernels() {
    getOperation().walk([&](func::CallOp call) {
      if (!kernelCallee(call))
        return;
      OpBuilder builder(call);
      for (OpOperand &operand : call->getOpOperands()) {
        auto type = dyn_cast<RankedTensorType>(operand.get().getType());
        if (!type || !mayHaveStridedRows(operand.get()))
          continue;
        // With a copy source, alloc_tensor takes its sizes from it.
        operand.set(AllocTensorOp::create(builder, call.getLoc(), type,
                                          /*dynamicSizes=*/ValueRange(),
                                          /*copy=*/operand.get()));
      }
    });
  }

  /// A kernel returns the buffers it updates (its arguments); uses of a
  /// call's result become uses of the operand passed for that argument, as
  /// they were with identity layouts (where the result had the caller's
  /// type). Without this, a caller that returns a kernel's result would copy
  /// the strided result into a buffer of its own result type.
  void forwardKernelResults() {
    ModuleOp module = getOperation();
    SmallVector<memref::CopyOp> copies;
    module.walk([&](func::CallOp call) {
      func::FuncOp callee = kernelCallee(call);
      if (!callee)
        return;
      for (OpResult result : call->getResults()) {
        std::optional<unsigned> arg =
            returnedArgument(callee, result.getResultNumber());
        if (!arg || call.getOperand(*arg).getType() != result.getType())
          continue;
        for (Operation *user : result.getUsers())
          if (auto copy = dyn_cast<memref::CopyOp>(user))
            copies.push_back(copy);
        result.replaceAllUsesWith(call.getOperand(*arg));
      }
    });
    for (memref::CopyOp copy : copies)
      forwardRetypedCopy(copy);
  }

  /// A kernel's output that starts as a tensor.empty and ends inserted into
  /// a bigger tensor (a head's PV result into the assembled heads) is made
  /// a slice of that tensor up front (upstream empty-tensor elimination,
  /// restricted to insertions of a kernel's result), so the kernel writes
  /// its part in place instead of into a buffer copied afterwards. With
  /// identity kernel arguments the slice could not be passed without a
  /// copy anyway, hence only with strided ones.
  LogicalResult
  writeKernelResultsInPlace(const OneShotBufferizationOptions &options) {
    ModuleOp module = getOperation();
    OneShotAnalysisState analysis(module, options);
    if (failed(analyzeModuleOp(module, analysis)))
      return failure();
    IRRewriter rewriter(module.getContext());
    auto onlyKernelResults =
        [](RewriterBase &rewriter, SubsetInsertionOpInterface insertion,
           tensor::EmptyOp empty, Operation *user) -> Value {
      if (!isKernelCall(insertion.getSourceOperand().get()))
        return Value();
      return buildSubsetExtraction(rewriter, insertion, empty, user);
    };
    return eliminateEmptyTensors(rewriter, module, analysis, onlyKernelResults);
  }

  void runOnOperation() override {
    OneShotBufferizationOptions options;
    options.bufferizeFunctionBoundaries = true;
    options.setFunctionBoundaryTypeConversion(
        LayoutMapOption::IdentityLayoutMap);
    if (stridedKernelArgs) {
      options.functionArgTypeConverterFn =
          [](TensorLikeType type, Attribute memorySpace, func::FuncOp func,
             const BufferizationOptions &) -> BufferLikeType {
        auto tensorType = cast<TensorType>(type);
        if (func->hasAttr(smepilot::kSMEKernelAttr))
          return cast<BufferLikeType>(
              getUnitInnerStrideType(tensorType, memorySpace));
        return cast<BufferLikeType>(
            getMemRefTypeWithStaticIdentityLayout(tensorType, memorySpace));
      };
    }
    // The steps around the kernels analyse the whole module: none of them
    // when there is no kernel (the host pipeline), which keeps its compile
    // time that of upstream's pass.
    bool hasKernels =
        llvm::any_of(getOperation().getOps<func::FuncOp>(), [](func::FuncOp f) {
          return f->hasAttr(smepilot::kSMEKernelAttr);
        });
    if (hasKernels && failed(unshareKernelOutputs(options))) {
      signalPassFailure();
      return;
    }
    if (hasKernels && stridedKernelArgs)
      copyStridedRowsForKernels();
    if (hasKernels && stridedKernelArgs &&
        failed(writeKernelResultsInPlace(options))) {
      signalPassFailure();
      return;
    }
    BufferizationState state;
    if (failed(runOneShotModuleBufferize(getOperation(), options, state))) {
      signalPassFailure();
      return;
    }
    if (hasKernels && stridedKernelArgs)
      forwardKernelResults();
  }
};

} // namespace
