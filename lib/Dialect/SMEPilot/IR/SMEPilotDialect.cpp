//===- SMEPilotDialect.cpp - the smepilot dialect --------------------------===//

#include "smepilot/Dialect/SMEPilot/IR/SMEPilot.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace mlir::smepilot;

#include "smepilot/Dialect/SMEPilot/IR/SMEPilotOpsDialect.cpp.inc"

void SMEPilotDialect::initialize() {
  registerAttributes();
  addOperations<
#define GET_OP_LIST
#include "smepilot/Dialect/SMEPilot/IR/SMEPilotOps.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// DispatchTableOp
//===----------------------------------------------------------------------===//

namespace {
/// `dict[name]` as an i64 array of `size` entries (any size when size < 0).
FailureOr<ArrayRef<int64_t>> getI64Array(Operation *op, DictionaryAttr dict,
                                         StringRef name, int64_t size,
                                         StringRef what, size_t index) {
  auto array = dict.getAs<DenseI64ArrayAttr>(name);
  if (!array || (size >= 0 && int64_t(array.size()) != size))
    return op->emitOpError() << what << " " << index << ": '" << name
                             << "' must be an i64 array"
                             << (size >= 0 ? " of " + std::to_string(size) +
                                                 " values"
                                           : std::string());
  return array.asArrayRef();
}
} // namespace

LogicalResult DispatchTableOp::verify() {
  const int64_t nKernels = getKernels().size();
  const int64_t nBuffers = getBuffers().size();
  const int64_t nConstants = getNConstants(), nArguments = getNArguments();
  if (nConstants < 0 || nArguments < 0 || nArguments > nBuffers)
    return emitOpError() << "n_arguments = " << getNArguments()
                         << " and n_constants = " << getNConstants()
                         << " must be non-negative, n_arguments <= "
                         << nBuffers << " buffers";
  // The load table (abi.h) runs once, before any phase: no constants, no
  // chunk, and every buffer a fixed size.
  const bool isLoad = (*this)->hasAttr(kLoadTableAttr);
  if (isLoad && (nConstants != 0 || (*this)->hasAttr("chunk") ||
                 (*this)->hasAttr("last_row_only")))
    return emitOpError() << "the load table (" << kLoadTableAttr
                         << ") takes no constants and has no chunk or "
                            "last_row_only";
  auto checkExtent = [&](ArrayRef<int64_t> e, StringRef what,
                         size_t i) -> LogicalResult {
    if (e[2] < -1 || e[2] >= nConstants)
      return emitOpError() << what << " " << i << ": constant index " << e[2]
                           << " out of range";
    return success();
  };
  for (auto [i, attr] : llvm::enumerate(getBuffers())) {
    auto dict = cast<DictionaryAttr>(attr);
    FailureOr<ArrayRef<int64_t>> size =
        getI64Array(*this, dict, "size", 3, "buffer", i);
    if (failed(size) || failed(checkExtent(*size, "buffer", i)))
      return failure();
  }
  for (auto [i, attr] : llvm::enumerate(getDispatches())) {
    auto dict = cast<DictionaryAttr>(attr);
    auto kernel = dict.getAs<IntegerAttr>("kernel");
    if (!kernel || kernel.getInt() < 0 || kernel.getInt() >= nKernels)
      return emitOpError() << "dispatch " << i
                           << ": 'kernel' must index the kernels";
    FailureOr<ArrayRef<int64_t>> tiles =
        getI64Array(*this, dict, "tiles", 3, "dispatch", i);
    if (failed(tiles) || failed(checkExtent(*tiles, "dispatch", i)))
      return failure();
    FailureOr<ArrayRef<int64_t>> bindings =
        getI64Array(*this, dict, "bindings", -1, "dispatch", i);
    if (failed(bindings))
      return failure();
    if (bindings->size() % 2 != 0)
      return emitOpError() << "dispatch " << i
                           << ": 'bindings' must be (buffer, access) pairs";
    for (size_t b = 0; b < bindings->size(); b += 2)
      if ((*bindings)[b] < 0 || (*bindings)[b] >= nBuffers ||
          (*bindings)[b + 1] < 1 || (*bindings)[b + 1] > 3)
        return emitOpError() << "dispatch " << i << ": binding " << b / 2
                             << " names no buffer or has no access";
    FailureOr<ArrayRef<int64_t>> deps =
        getI64Array(*this, dict, "deps", -1, "dispatch", i);
    if (failed(deps))
      return failure();
    for (int64_t d : *deps)
      if (d < 0 || d >= int64_t(i))
        return emitOpError() << "dispatch " << i << ": dependency " << d
                             << " is not an earlier dispatch";
  }
  return success();
}

#define GET_OP_CLASSES
#include "smepilot/Dialect/SMEPilot/IR/SMEPilotOps.cpp.inc"
