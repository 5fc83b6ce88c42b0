//===- DispatchUtils.cpp - helpers of the dispatch-table passes -----------===//
//
// Shared by smepilot-form-dispatches and smepilot-hoist-load-time
// (DispatchFormation.h): inlining a phase's calls, the walk over an op's
// memory accesses that binding accesses come from, and the dependency rule
// of a dispatch table.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Dialect/SMEPilot/Transforms/DispatchFormation.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;
using namespace mlir::smepilot;

LogicalResult mlir::smepilot::inlinePhaseCalls(func::FuncOp phase,
                                               SymbolTable &symbols) {
  bool changed = true;
  while (changed) {
    changed = false;
    SmallVector<func::CallOp> calls;
    phase.walk([&](func::CallOp call) { calls.push_back(call); });
    for (func::CallOp call : calls) {
      auto callee = symbols.lookup<func::FuncOp>(call.getCallee());
      // An SME kernel keeps its own function: it enters streaming mode and
      // enables ZA inside itself (smepilot-tile-sme).
      if (callee && (callee->hasAttr(kSMEKernelAttr) ||
                     callee->hasAttr(kCollabKernelAttr)))
        continue;
      if (!callee || callee.isExternal())
        return call.emitError("smepilot-form-dispatches: cannot inline a call "
                              "to an external function into a phase");
      if (!callee.getBody().hasOneBlock())
        return call.emitError("smepilot-form-dispatches: the callee has "
                              "several blocks; only single-block functions "
                              "are inlined");
      Block &body = callee.getBody().front();
      IRMapping map;
      map.map(body.getArguments(), call.getOperands());
      OpBuilder b(call);
      for (Operation &op : body.without_terminator())
        b.clone(op, map);
      auto ret = cast<func::ReturnOp>(body.getTerminator());
      for (auto [result, value] :
           llvm::zip(call.getResults(), ret.getOperands()))
        result.replaceAllUsesWith(map.lookupOrDefault(value));
      call.erase();
      changed = true;
    }
  }
  return success();
}

/// The memref a view (subview, reinterpret_cast, ...) is ultimately taken
/// of.
static Value viewRoot(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    if (auto view = dyn_cast<ViewLikeOpInterface>(def))
      v = view.getViewSource();
    else if (auto meta = dyn_cast<memref::ExtractStridedMetadataOp>(def))
      v = meta.getSource();
    else
      break;
  }
  return v;
}

// A call reports what its callee does to the call's operands (the SME
// kernels of smepilot-tile-sme read A and B and read-write C: knowing so lets
// a caller's dispatch bind the K-major weight copy read-only).
static bool forEachAccessAt(Operation *root,
                            function_ref<void(Value, Access)> mark,
                            unsigned depth) {
  WalkResult walk = root->walk([&](Operation *op) {
    if (auto call = dyn_cast<func::CallOp>(op)) {
      auto callee = SymbolTable::lookupNearestSymbolFrom<func::FuncOp>(
          call, call.getCalleeAttr());
      // Single-block callees only: a value reaching another block through a
      // block argument would not be traced back to the call's operands.
      if (!callee || callee.isExternal() || !callee.getBody().hasOneBlock() ||
          depth > 4)
        return WalkResult::interrupt();
      Block &body = callee.getBody().front();
      auto markArgument = [&](Value v, Access access) {
        if (auto arg = dyn_cast<BlockArgument>(viewRoot(v));
            arg && arg.getOwner() == &body)
          mark(call.getOperand(arg.getArgNumber()), access);
      };
      for (Operation &inner : body)
        if (!forEachAccessAt(&inner, markArgument, depth + 1))
          return WalkResult::interrupt();
      return WalkResult::advance();
    }
    // An op may have both effects of its own (linalg on buffers) and those
    // of its body; the walk visits the body's ops too.
    auto iface = dyn_cast<MemoryEffectOpInterface>(op);
    if (!iface)
      return op->hasTrait<OpTrait::HasRecursiveMemoryEffects>()
                 ? WalkResult::advance()
                 : WalkResult::interrupt();
    SmallVector<MemoryEffects::EffectInstance> effects;
    iface.getEffects(effects);
    for (const MemoryEffects::EffectInstance &e : effects) {
      bool read = isa<MemoryEffects::Read>(e.getEffect());
      bool write = isa<MemoryEffects::Write>(e.getEffect());
      if (!read && !write)
        continue;
      if (!e.getValue()) {
        // Memory no value names: any buffer (a stack slot is no buffer).
        if (isa<SideEffects::AutomaticAllocationScopeResource>(e.getResource()))
          continue;
        return WalkResult::interrupt();
      }
      mark(e.getValue(), (read ? Access::read : Access::none) |
                             (write ? Access::write : Access::none));
    }
    return WalkResult::advance();
  });
  return !walk.wasInterrupted();
}

bool mlir::smepilot::forEachAccess(Operation *root,
                                   function_ref<void(Value, Access)> mark) {
  return forEachAccessAt(root, mark, /*depth=*/0);
}

SmallVector<int64_t>
HazardTracker::addDispatch(ArrayRef<std::pair<unsigned, Access>> bindings) {
  const int64_t self = nDispatches++;
  llvm::SetVector<int64_t> deps;
  for (auto [buffer, access] : bindings) {
    if (auto it = lastWriter.find(buffer); it != lastWriter.end())
      deps.insert(it->second);
    if (writes(access))
      for (int64_t r : readersSince[buffer])
        deps.insert(r);
  }
  for (auto [buffer, access] : bindings) {
    if (writes(access)) {
      lastWriter[buffer] = self;
      readersSince[buffer].clear();
    } else {
      readersSince[buffer].push_back(self);
    }
  }
  SmallVector<int64_t> sorted(deps.begin(), deps.end());
  llvm::sort(sorted);
  return sorted;
}
