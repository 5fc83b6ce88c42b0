//===- HostJIT.cpp - JIT-compile and call lowered modules on the host
//-------===//
//
// A thin layer over mlir::ExecutionEngine: LLVM IR translation, the O3
// optimizer and code generator for the host CPU (detected, with its
// features, so AVX-512 code on an AVX-512 machine), and calls through the
// packed wrappers of the C-interface functions with rank-generic memref
// descriptors built over caller-owned buffers.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Codegen/HostJIT.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"

#include <chrono>
#include <mutex>

using namespace mlir;
using namespace mlir::smepilot;

static constexpr StringLiteral kCInterfacePrefix = "_mlir_ciface_";
/// smepilot-emit-dispatch-tables names the table of phase P smepilot_table_P.
static constexpr StringLiteral kDispatchTablePrefix = "smepilot_table_";
/// ... and the list of them all (abi.h, smepilot_rt_compiled_model).
static constexpr StringLiteral kCompiledModelName = "smepilot_compiled_model";

HostJIT::~HostJIT() = default;

FailureOr<std::unique_ptr<HostJIT>>
HostJIT::compile(ModuleOp module, const HostJITOptions &options) {
  auto start = std::chrono::steady_clock::now();
  static std::once_flag targetsInitialized;
  std::call_once(targetsInitialized, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
  registerBuiltinDialectTranslation(*module->getContext());
  registerLLVMDialectTranslation(*module->getContext());

  if (options.optLevel > 3) {
    module.emitError("HostJIT: optLevel must be 0..3");
    return failure();
  }

  // Signatures of the C-interface entry points, for checking calls.
  std::unique_ptr<HostJIT> jit(new HostJIT());
  for (auto func : module.getOps<LLVM::LLVMFuncOp>()) {
    if (!func.getName().starts_with(kCInterfacePrefix) || func.isExternal())
      continue;
    if (!isa<LLVM::LLVMVoidType>(func.getFunctionType().getReturnType()))
      continue; // results are returned through out-params; others unsupported
    SmallVector<bool> kinds;
    for (Type type : func.getFunctionType().getParams())
      kinds.push_back(isa<LLVM::LLVMPointerType>(type));
    jit->signatures[func.getName().drop_front(kCInterfacePrefix.size())] =
        std::move(kinds);
  }

  llvm::Expected<llvm::orc::JITTargetMachineBuilder> builder =
      llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder) {
    module.emitError("HostJIT: cannot detect the host: ")
        << llvm::toString(builder.takeError());
    return failure();
  }
  llvm::CodeGenOptLevel codeGenLevel =
      llvm::CodeGenOpt::getLevel(options.optLevel)
          .value_or(llvm::CodeGenOptLevel::Aggressive);
  builder->setCodeGenOptLevel(codeGenLevel);
  llvm::Expected<std::unique_ptr<llvm::TargetMachine>> targetMachine =
      builder->createTargetMachine();
  if (!targetMachine) {
    module.emitError("HostJIT: cannot create a target machine: ")
        << llvm::toString(targetMachine.takeError());
    return failure();
  }

  auto transformer =
      makeOptimizingTransformer(options.optLevel,
                                /*sizeLevel=*/0, targetMachine->get());
  ExecutionEngineOptions engineOptions;
  engineOptions.transformer = transformer;
  engineOptions.jitCodeGenOptLevel = codeGenLevel;
  engineOptions.enableObjectDump = options.keepObject;
  llvm::Expected<std::unique_ptr<ExecutionEngine>> engine =
      ExecutionEngine::create(module, engineOptions, std::move(*targetMachine));
  if (!engine) {
    module.emitError("HostJIT: compilation failed: ")
        << llvm::toString(engine.takeError());
    return failure();
  }
  jit->engine = std::move(*engine);
  // ORC generates code on the first lookup: do it here, so that compile()
  // pays for it (not the first call) and a missing symbol fails here.
  for (const auto &entry : jit->signatures) {
    std::string name = (kCInterfacePrefix + entry.getKey()).str();
    if (auto fn = jit->engine->lookupPacked(name); !fn) {
      module.emitError("HostJIT: cannot materialize '")
          << name << "': " << llvm::toString(fn.takeError());
      return failure();
    }
  }
  // Dispatch tables (smepilot-emit-dispatch-tables): materialized here too,
  // with the kernels they point to.
  for (auto global : module.getOps<LLVM::GlobalOp>()) {
    StringRef name = global.getSymName();
    if (!name.starts_with(kDispatchTablePrefix) && name != kCompiledModelName)
      continue;
    llvm::Expected<void *> address = jit->engine->lookup(name);
    if (!address) {
      module.emitError("HostJIT: cannot materialize '")
          << name << "': " << llvm::toString(address.takeError());
      return failure();
    }
    jit->symbols[name] = *address;
  }
  jit->engine->initialize();
  jit->compileMillis = std::chrono::duration<double, std::milli>(
                           std::chrono::steady_clock::now() - start)
                           .count();
  return jit;
}

FailureOr<void *> HostJIT::lookupDispatchTable(StringRef phase,
                                               std::string *error) {
  return lookupData((kDispatchTablePrefix + phase).str(), error);
}

FailureOr<void *> HostJIT::lookupCompiledModel(std::string *error) {
  return lookupData(kCompiledModelName, error);
}

FailureOr<void *> HostJIT::lookupData(StringRef name, std::string *error) {
  auto it = symbols.find(name);
  if (it == symbols.end()) {
    if (error)
      *error = ("the compiled module has no '" + name + "'").str();
    return failure();
  }
  return it->second;
}

LogicalResult HostJIT::invoke(StringRef function, ArrayRef<JITArg> args,
                              std::string *error) {
  auto fail = [&](const Twine &message) {
    if (error)
      *error = ("HostJIT::invoke(" + function + "): " + message).str();
    return failure();
  };
  auto it = signatures.find(function);
  if (it == signatures.end())
    return fail("no C-interface function of that name with out-param "
                "results (missing llvm.emit_c_interface?)");
  ArrayRef<bool> kinds = it->second;
  if (kinds.size() != args.size())
    return fail("expects " + Twine(kinds.size()) + " arguments, got " +
                Twine(args.size()));

  // Rank-generic descriptors {allocated, aligned, offset, sizes[r],
  // strides[r]}: all fields are 64-bit on the supported hosts.
  static_assert(sizeof(void *) == sizeof(int64_t), "64-bit hosts only");
  SmallVector<SmallVector<int64_t, 11>> descriptors(args.size());
  SmallVector<void *> descriptorPointers(args.size());
  SmallVector<int64_t> scalars(args.size());
  SmallVector<void *> packed(args.size());
  for (auto [i, arg] : llvm::enumerate(args)) {
    if (arg.isMemRef != kinds[i])
      return fail("argument " + Twine(i) + " must be " +
                  (kinds[i] ? "a memref" : "a scalar"));
    if (!arg.isMemRef) {
      scalars[i] = arg.scalar;
      packed[i] = &scalars[i];
      continue;
    }
    int64_t rank = arg.sizes.size();
    SmallVector<int64_t, 11> &desc = descriptors[i];
    desc.resize(3 + 2 * rank);
    desc[0] = reinterpret_cast<int64_t>(arg.data);
    desc[1] = reinterpret_cast<int64_t>(arg.data);
    desc[2] = 0;
    int64_t stride = 1;
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (arg.sizes[d] < 0)
        return fail("argument " + Twine(i) + " has a negative size");
      desc[3 + d] = arg.sizes[d];
      desc[3 + rank + d] = stride;
      stride *= arg.sizes[d];
    }
    descriptorPointers[i] = desc.data();
    packed[i] = &descriptorPointers[i];
  }

  if (llvm::Error err =
          engine->invokePacked((kCInterfacePrefix + function).str(), packed))
    return fail(llvm::toString(std::move(err)));
  return success();
}

void HostJIT::dumpObject(StringRef path) { engine->dumpToObjectFile(path); }
