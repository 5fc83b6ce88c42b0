//===- SMEPilotDialect.cpp - the smepilot dialect
//--------------------------===//

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

LogicalResult DispatchTableOp::verify() {
  const int64_t nKernels = getKernels().size();
  const int64_t nBuffers = getBuffers().size();
  const int64_t nConstants = getNConstants(), nArguments = getNArguments();
  if (nConstants < 0 || nArguments < 0 || nArguments > nBuffers)
    return emitOpError() << "n_arguments = " << getNArguments()
                         << " and n_constants = " << getNConstants()
                         << " must be non-negative, n_arguments <= " << nBuffers
                         << " buffers";
  // The load table (abi.h) runs once, before any phase: no constants, no
  // chunk, and every buffer a fixed size.
  if (isLoadTable() && (nConstants != 0 || getChunk() || getLastRowOnly()))
    return emitOpError() << "the load table (" << kLoadTableAttr
                         << ") takes no constants and has no chunk or "
                            "last_row_only";
  if (auto chunk = getChunk(); chunk && *chunk < 1)
    return emitOpError() << "chunk " << *chunk << " must be >= 1";
  auto checkExtent = [&](ExtentAttr e, StringRef what,
                         size_t i) -> LogicalResult {
    if (e.getConstant() >= nConstants)
      return emitOpError() << what << " " << i << ": constant index "
                           << e.getConstant() << " out of range";
    return success();
  };
  for (auto [i, buffer] : llvm::enumerate(getBufferList()))
    if (failed(checkExtent(buffer.getSize(), "buffer", i)))
      return failure();
  for (auto [i, dispatch] : llvm::enumerate(getDispatchList())) {
    if (dispatch.getKernel() >= nKernels || dispatch.getSmeKernel() >= nKernels)
      return emitOpError() << "dispatch " << i
                           << ": its kernels must index the kernels";
    if (failed(checkExtent(dispatch.getTiles(), "dispatch", i)))
      return failure();
    for (auto [b, binding] : llvm::enumerate(dispatch.getBindings()))
      if (binding.getBuffer() >= nBuffers)
        return emitOpError()
               << "dispatch " << i << ": binding " << b << " names no buffer";
    for (int64_t d : dispatch.getDeps())
      if (d >= int64_t(i))
        return emitOpError() << "dispatch " << i << ": dependency " << d
                             << " is not an earlier dispatch";
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Dot4U8S8Op
//===----------------------------------------------------------------------===//

LogicalResult Dot4U8S8Op::verify() {
  int64_t lanes = getAcc().getType().getNumElements();
  int64_t bytes = getLhs().getType().getNumElements();
  if (bytes != 4 * lanes)
    return emitOpError() << "needs 4 bytes per i32 lane: " << bytes
                         << " bytes for " << lanes << " lanes";
  if (lanes != 4 && lanes != 8 && lanes != 16)
    return emitOpError() << "has " << lanes
                         << " i32 lanes; vpdpbusd has 4, 8 or 16";
  return success();
}

#define GET_OP_CLASSES
#include "smepilot/Dialect/SMEPilot/IR/SMEPilotOps.cpp.inc"
