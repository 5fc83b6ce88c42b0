//===- DispatchFormation.h - shared by the dispatch-table passes -*- C++
//-*-===//
//
// What smepilot-form-dispatches (phases -> kernels + tables) and
// smepilot-hoist-load-time (phase tables -> load table) share: the
// classification of a phase's values (PhaseClassification.cpp), the inlining
// of a phase's calls and the walk over an op's memory accesses
// (DispatchUtils.cpp), and the dependency rule of a dispatch table
// (HazardTracker).
//
//===----------------------------------------------------------------------===//

#ifndef SMEPILOT_DIALECT_SMEPILOT_TRANSFORMS_DISPATCHFORMATION_H
#define SMEPILOT_DIALECT_SMEPILOT_TRANSFORMS_DISPATCHFORMATION_H

#include "smepilot/Dialect/SMEPilot/IR/SMEPilot.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SmallVector.h"

#include <optional>
#include <utility>

namespace mlir::smepilot {

/// base + scale * constants[constant]; constant -1: base alone. What an
/// ExtentAttr holds, as arithmetic.
struct Extent {
  int64_t base = 0, scale = 0, constant = -1;

  ExtentAttr toAttr(MLIRContext *ctx) const {
    return ExtentAttr::get(ctx, base, scale, constant);
  }
};

/// A phase function's body sorted into the four kinds dispatch formation
/// knows (FormDispatches.cpp's header comment):
///   roots  memref arguments (argument buffers), index and integer arguments
///          (constants), top-level memref.alloc with a size fixed or linear
///          in one constant (temporaries);
///   free   ops without memory effects or regions over roots and free values,
///          and memref.get_global: re-materialized in every kernel;
///   drop   memref.dealloc of a temporary;
///   work   everything else, in order.
class PhaseClassification {
public:
  /// Classifies `phase` (one block); emits an error on the op that does not
  /// fit.
  static FailureOr<PhaseClassification> classify(func::FuncOp phase);

  /// Whether `v` is a root or the result of a free op.
  bool isFree(Value v) const;
  /// `v` as an extent of the constants, if it is one (constants, integer
  /// constants, casts, +, -, * by a fixed number, dims of views).
  std::optional<Extent> linearize(Value v) const;
  /// The root buffer (argument or temporary) a memref view is taken of.
  std::optional<unsigned> rootBuffer(Value v) const;

  /// The table's buffers: arguments (in order), then temporaries.
  SmallVector<BufferAttr> buffers;
  unsigned nArguments = 0, nConstants = 0;
  /// Buffer index of each root memref value.
  llvm::DenseMap<Value, unsigned> bufferOf;
  /// Constant index of each index/integer argument.
  llvm::DenseMap<Value, unsigned> constantOf;
  llvm::DenseSet<Operation *> freeOps;
  /// The work ops, in block order.
  SmallVector<Operation *> work;

private:
  LogicalResult run(func::FuncOp phase);
  std::optional<Extent> bufferBytes(memref::AllocOp alloc) const;
};

/// The value a dynamic dimension of a view or allocation was made with
/// (alloc operands, expand_shape output shapes, subview sizes), if it is one.
std::optional<Value> dynamicSizeOf(memref::DimOp dim);

/// Inlines a phase's calls to single-block functions, innermost first; calls
/// to SME kernels (smepilot-tile-sme) stay calls. Fails with an error on a
/// call it cannot inline.
LogicalResult inlinePhaseCalls(func::FuncOp phase, SymbolTable &symbols);

/// Reports to `mark` every memory read and write of `root` and the ops in
/// it, by the value accessed. A call reports what its callee does to the
/// call's operands. Returns false as soon as some access is unknown (an op
/// without memory-effect information, a call to an external function, an
/// effect on memory no value names).
bool forEachAccess(Operation *root, function_ref<void(Value, Access)> mark);

/// Whether `access` includes writing.
inline bool writes(Access access) {
  return bitEnumContainsAll(access, Access::write);
}

/// The dependency rule of a dispatch table (abi.h): a dispatch depends on the
/// last earlier writer of every buffer it binds and, when it writes a buffer,
/// on every reader of it since that writer. Fed the dispatches in table
/// order.
class HazardTracker {
public:
  /// The dependencies of the next dispatch, which binds `bindings`
  /// (buffer, access), in increasing order; records its accesses.
  SmallVector<int64_t>
  addDispatch(ArrayRef<std::pair<unsigned, Access>> bindings);

private:
  int64_t nDispatches = 0;
  llvm::DenseMap<unsigned, int64_t> lastWriter;
  llvm::DenseMap<unsigned, SmallVector<int64_t>> readersSince;
};

} // namespace mlir::smepilot

#endif // SMEPILOT_DIALECT_SMEPILOT_TRANSFORMS_DISPATCHFORMATION_H
