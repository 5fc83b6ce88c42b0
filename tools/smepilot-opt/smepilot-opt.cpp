//===- smepilot-opt.cpp - mlir-opt with SMEPilot's passes -----------------===//
//
// An mlir-opt style driver: the upstream dialects and passes SMEPilot's
// pipelines use, plus the smepilot dialect and passes. Flags and behaviour
// are mlir-opt's, except for the output (docs/tools.md, "Output files"):
// `-o FILE` is an OutputFile (never onto the input, only a regular file,
// written to a temporary and renamed when the whole run succeeded), and a
// failing standard output is an error, not LLVM's "IO failure" abort.
// `-o /dev/null` keeps its mlir-opt meaning: the output is discarded (the
// device is never opened, let alone replaced).
//
//===----------------------------------------------------------------------===//

#include "smepilot/Dialect/SMEPilot/IR/SMEPilot.h"
#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h"
#include "smepilot/Pipelines/Pipelines.h"
#include "smepilot/Support/OutputFile.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/WithColor.h"

using namespace mlir;

static int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "smepilot-opt") << message << "\n";
  return 1;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  registerAllPasses();
  smepilot::registerSMEPilotPasses();
  smepilot::registerHostPipeline();
  smepilot::registerSMEPipeline();

  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registry.insert<smepilot::SMEPilotDialect>();

  auto [inputPath, outputPath] = registerAndParseCLIOptions(
      argc, argv, "SMEPilot optimizer driver\n", registry);
  MlirOptMainConfig config = MlirOptMainConfig::createFromCLOptions();
  if (config.shouldShowDialects() || config.shouldListPasses())
    return asMainReturnCode(
        MlirOptMain(argc, argv, inputPath, outputPath, registry));

  // The output is checked, and its temporary created, before any work, as
  // in smepilot-compile.
  const bool discard = outputPath == "/dev/null";
  std::unique_ptr<smepilot::OutputFile> output;
  if (outputPath != "-" && !discard) {
    auto created = smepilot::OutputFile::create(outputPath, {inputPath});
    if (!created)
      return fail(llvm::toString(created.takeError()));
    output = std::move(*created);
  }
  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> input = openInputFile(inputPath, &error);
  if (!input)
    return fail(error);
  llvm::raw_ostream &os = discard  ? llvm::nulls()
                          : output ? output->os()
                                   : llvm::outs();
  if (failed(MlirOptMain(os, std::move(input), registry, config)))
    return 1;
  if (discard)
    return 0;
  if (llvm::Error err = output ? output->commit() : smepilot::flushStdout())
    return fail(llvm::toString(std::move(err)));
  return 0;
}
