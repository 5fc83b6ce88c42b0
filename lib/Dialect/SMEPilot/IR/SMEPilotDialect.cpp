//===- SMEPilotDialect.cpp - the smepilot dialect --------------------------===//

#include "smepilot/Dialect/SMEPilot/IR/SMEPilot.h"

using namespace mlir;
using namespace mlir::smepilot;

#include "smepilot/Dialect/SMEPilot/IR/SMEPilotOpsDialect.cpp.inc"

void SMEPilotDialect::initialize() { registerAttributes(); }
