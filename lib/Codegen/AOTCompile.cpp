//===- AOTCompile.cpp - Emit aarch64 objects from LLVM-dialect modules
//------===//
//
// The SME path's code generator (docs/sme-path.md). The AArch64 backend is
// part of libLLVM.so; it is initialized on first use, independent of the
// host. The module is translated with the LLVM, ArmSME and ArmSVE dialect
// translations (the SME intrinsics), optimized with the O3 pipeline tuned for
// the TargetMachine, and emitted as an ELF object into memory. The function
// attributes the SME lowering wrote (aarch64_pstate_sm_body,
// aarch64_new_za) make the backend insert smstart/smstop and the lazy ZA
// save (a call of __arm_tpidr2_save) in each kernel's prologue.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Codegen/AOTCompile.h"

#include "smepilot/Pipelines/Pipelines.h"

#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Dialect/ArmSME/ArmSMEToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/ArmSVE/ArmSVEToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/CodeGen.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Triple.h"

#include <memory>
#include <mutex>

extern "C" {
void LLVMInitializeAArch64TargetInfo();
void LLVMInitializeAArch64Target();
void LLVMInitializeAArch64TargetMC();
void LLVMInitializeAArch64AsmPrinter();
}

using namespace mlir;
using namespace mlir::smepilot;

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

llvm::Expected<std::string>
mlir::smepilot::getSMETargetFeatures(StringRef target) {
  if (target == "sme-sve")
    return std::string("+sve,+sme,+bf16");
  // Apple M4: SME2 without plain SVE. -sve makes sure no SVE-only
  // instruction (nor the cntd vscale query, llvm #204853) is emitted
  // outside streaming mode.
  if (target == "sme2-nosve")
    return std::string("+sme2,+bf16,-sve");
  return makeError("unknown SME target '" + target +
                   "' (targets: sme-sve, sme2-nosve)");
}

llvm::Expected<llvm::SmallVector<char, 0>>
mlir::smepilot::emitAArch64Object(ModuleOp module, const AOTOptions &options) {
  static std::once_flag initialized;
  std::call_once(initialized, [] {
    LLVMInitializeAArch64TargetInfo();
    LLVMInitializeAArch64Target();
    LLVMInitializeAArch64TargetMC();
    LLVMInitializeAArch64AsmPrinter();
  });
  if (options.optLevel > 3)
    return makeError("optLevel must be 0..3");

  std::string target = options.target;
  if (target.empty()) {
    auto attr = module->getAttrOfType<StringAttr>(kSMETargetAttrName);
    if (!attr)
      return makeError(Twine("no SME target given and the module has no '") +
                       kSMETargetAttrName + "' attribute");
    target = attr.str();
  }
  llvm::Expected<std::string> features = getSMETargetFeatures(target);
  if (!features)
    return features.takeError();

  llvm::Triple triple(kAArch64Triple);
  std::string lookupError;
  const llvm::Target *llvmTarget =
      llvm::TargetRegistry::lookupTarget(triple, lookupError);
  if (!llvmTarget)
    return makeError("AArch64 backend unavailable: " + lookupError);
  static constexpr llvm::CodeGenOptLevel levels[] = {
      llvm::CodeGenOptLevel::None, llvm::CodeGenOptLevel::Less,
      llvm::CodeGenOptLevel::Default, llvm::CodeGenOptLevel::Aggressive};
  std::unique_ptr<llvm::TargetMachine> machine(llvmTarget->createTargetMachine(
      triple, "generic", *features, llvm::TargetOptions(), llvm::Reloc::PIC_,
      std::nullopt, levels[options.optLevel]));
  if (!machine)
    return makeError("cannot create an AArch64 TargetMachine for '" +
                     *features + "'");

  DialectRegistry registry;
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerArmSMEDialectTranslation(registry);
  registerArmSVEDialectTranslation(registry);
  module->getContext()->appendDialectRegistry(registry);

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext);
  if (!llvmModule)
    return makeError("translation to LLVM IR failed");
  llvmModule->setTargetTriple(triple);
  llvmModule->setDataLayout(machine->createDataLayout());

  auto optimize = makeOptimizingTransformer(options.optLevel,
                                            /*sizeLevel=*/0, machine.get());
  if (llvm::Error error = optimize(llvmModule.get()))
    return std::move(error);

  llvm::SmallVector<char, 0> object;
  llvm::raw_svector_ostream stream(object);
  llvm::legacy::PassManager codegen;
  if (machine->addPassesToEmitFile(codegen, stream, nullptr,
                                   llvm::CodeGenFileType::ObjectFile))
    return makeError("the AArch64 TargetMachine cannot emit objects");
  codegen.run(*llvmModule);
  return object;
}
