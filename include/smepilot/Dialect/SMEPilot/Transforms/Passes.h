//===- Passes.h - smepilot passes -------------------------------*- C++ -*-===//

#ifndef SMEPILOT_DIALECT_SMEPILOT_TRANSFORMS_PASSES_H
#define SMEPILOT_DIALECT_SMEPILOT_TRANSFORMS_PASSES_H

#include "smepilot/Dialect/SMEPilot/IR/SMEPilot.h"
#include "smepilot/Dialect/SMEPilot/Transforms/PassEnums.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::smepilot {

#define GEN_PASS_DECL
#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h.inc"

} // namespace mlir::smepilot

#endif // SMEPILOT_DIALECT_SMEPILOT_TRANSFORMS_PASSES_H
