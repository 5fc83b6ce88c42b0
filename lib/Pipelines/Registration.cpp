//===- Registration.cpp - Dialects the host pipeline needs
//------------------===//
//
// The host pipeline's input (linalg on tensors from lib/ModelBuilder) and its
// intermediate IR touch most upstream dialects plus their external interface
// models (bufferization, tiling, subset hoisting, value bounds, LLVM
// conversion). Registering them all is the robust choice; it lives in its own
// file because including InitAll* is expensive to compile.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Pipelines/Pipelines.h"

#include "smepilot/Dialect/SMEPilot/IR/SMEPilot.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"

void mlir::smepilot::registerHostPipelineDialects(DialectRegistry &registry) {
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registry.insert<SMEPilotDialect>();
}
