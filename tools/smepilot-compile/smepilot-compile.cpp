//===- smepilot-compile.cpp - Compile a .mlir module to an aarch64 object
//---===//
//
// smepilot-compile in.mlir --target=sme-sve -o out.o
//
// Runs smepilot-sme-pipeline (linalg on tensors -> LLVM dialect with SME
// kernels) and emits an aarch64-linux-gnu ELF object (lib/Codegen/AOTCompile).
// `--emit=llvm-mlir` writes the LLVM-dialect module instead. Used by the
// tests to build kernels for the QEMU harness and for disassembly checks.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Codegen/AOTCompile.h"
#include "smepilot/Pipelines/Pipelines.h"
#include "smepilot/Support/OutputFile.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/WithColor.h"

using namespace mlir;
using namespace mlir::smepilot;

static llvm::cl::opt<std::string> inputPath(llvm::cl::Positional,
                                            llvm::cl::desc("<input .mlir>"),
                                            llvm::cl::Required);
static llvm::cl::opt<std::string>
    outputPath("o", llvm::cl::desc("Output file ('-' for stdout)"),
               llvm::cl::Required);
static llvm::cl::opt<std::string>
    pipeline("pipeline", llvm::cl::desc("Pipeline: sme (the only one)"),
             llvm::cl::init("sme"));
static llvm::cl::opt<SMETarget>
    target("target", llvm::cl::desc("SME target"),
           llvm::cl::init(SMETarget::sme_sve),
           llvm::cl::values(clEnumValN(SMETarget::sme_sve, "sme-sve",
                                       "+sve,+sme,+bf16 (runs under QEMU)"),
                            clEnumValN(SMETarget::sme2_nosve, "sme2-nosve",
                                       "+sme2 without +sve (Apple M4 style)")));
static llvm::cl::opt<bool> allContractions(
    "all-contractions",
    llvm::cl::desc("Put every contraction on SME, whatever its decision"),
    llvm::cl::init(false));
static llvm::cl::opt<SMEWeightType> weightType(
    "weight-type",
    llvm::cl::desc("What f32 contractions with a weight compute in on SME"),
    llvm::cl::init(SMEWeightType::f32),
    llvm::cl::values(
        clEnumValN(SMEWeightType::f32, "f32", "f32 outer products (default)"),
        clEnumValN(SMEWeightType::bf16, "bf16", "bf16 widening outer products"),
        clEnumValN(SMEWeightType::f16, "f16", "f16 widening outer products")));
static llvm::cl::opt<std::string>
    emit("emit", llvm::cl::desc("obj (default) or llvm-mlir"),
         llvm::cl::init("obj"));

static int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "smepilot-compile") << message << "\n";
  return 1;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  llvm::cl::ParseCommandLineOptions(argc, argv, "SMEPilot AOT compiler\n");
  if (pipeline != "sme")
    return fail("unknown pipeline '" + pipeline + "' (pipelines: sme)");
  if (emit != "obj" && emit != "llvm-mlir")
    return fail("--emit must be obj or llvm-mlir, got '" + emit + "'");

  // The output is checked, and its temporary created, before any work: a
  // bad path (the input itself, a directory, a device) fails at once, and a
  // failure later leaves the previous file alone (docs/tools.md).
  std::unique_ptr<OutputFile> output;
  if (outputPath != "-") {
    auto created = OutputFile::create(outputPath, {inputPath});
    if (!created)
      return fail(llvm::toString(created.takeError()));
    output = std::move(*created);
  }
  llvm::raw_ostream &os = output ? output->os() : llvm::outs();

  DialectRegistry registry;
  registerHostPipelineDialects(registry);
  MLIRContext context(registry);
  llvm::SourceMgr sourceMgr;
  std::string error;
  auto file = openInputFile(inputPath, &error);
  if (!file)
    return fail(error);
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return 1;

  SMEPipelineOptions options;
  options.target = target;
  options.allContractions = allContractions;
  options.weightType = weightType;
  PassManager pm(&context);
  std::string message;
  if (failed(buildSMEPipeline(pm, options,
                              [&](const Twine &m) { message = m.str(); })))
    return fail(message);
  if (failed(pm.run(*module)))
    return 1;

  if (emit == "llvm-mlir") {
    module->print(os);
  } else {
    llvm::Expected<llvm::SmallVector<char, 0>> object = emitAArch64Object(
        *module, AOTOptions{stringifySMETarget(target).str(), 3});
    if (!object)
      return fail(llvm::toString(object.takeError()));
    os.write(object->data(), object->size());
  }
  if (llvm::Error err = output ? output->commit() : flushStdout())
    return fail(llvm::toString(std::move(err)));
  return 0;
}
