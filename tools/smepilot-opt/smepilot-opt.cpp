//===- smepilot-opt.cpp - mlir-opt with SMEPilot's passes
//-------------------===//
//
// An mlir-opt style driver: the upstream dialects and passes SMEPilot's
// pipelines use, plus the smepilot dialect and passes.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Dialect/SMEPilot/IR/SMEPilot.h"
#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h"
#include "smepilot/Pipelines/Pipelines.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  mlir::smepilot::registerSMEPilotPasses();
  mlir::smepilot::registerHostPipeline();
  mlir::smepilot::registerSMEPipeline();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  registry.insert<mlir::smepilot::SMEPilotDialect>();

  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "SMEPilot optimizer driver\n", registry));
}
