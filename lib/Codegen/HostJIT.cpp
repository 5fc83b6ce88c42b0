//===- HostJIT.cpp - JIT-compile and call lowered modules on the host
//-------===//
//
// LLVM IR translation, the O3 optimizer and code generator of our own
// llvm::TargetMachine for the requested CPU (the detected host by default,
// with its features, so AVX-512 code on an AVX-512 machine), an ELF object
// in memory, and ORC's LLJIT to link it into the process. Calls go through
// packed wrappers this file adds to the LLVM module (one per C-interface
// function: `void _smepilot_packed_<f>(void **args)`), with rank-generic
// memref descriptors built over caller-owned buffers.
//
// Why not mlir::ExecutionEngine: it compiles inside ORC and has no way to
// load an object compiled by an earlier process; the JIT engine's object
// cache needs exactly that, and needs the object to be compiled for a CPU
// it chose (and recorded in the cache key), not one ORC detects on its own.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Codegen/HostJIT.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Dialect/ArmNeon/ArmNeonToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/ArmSME/ArmSMEToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/ArmSVE/ArmSVEToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/Bitcode/BitcodeWriter.h"
#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/Object/ELFObjectFile.h"
#include "llvm/Object/ObjectFile.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/Transforms/Utils/SplitModule.h"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <thread>

using namespace mlir;
using namespace mlir::smepilot;

static constexpr StringLiteral kCInterfacePrefix = "_mlir_ciface_";
/// The wrapper this file adds for each C-interface function f.
static constexpr StringLiteral kPackedPrefix = "_smepilot_packed_";
/// smepilot-emit-dispatch-tables names the table of phase P smepilot_table_P.
static constexpr StringLiteral kDispatchTablePrefix = "smepilot_table_";
/// ... and the list of them all (abi.h, smepilot_rt_compiled_model).
static constexpr StringLiteral kCompiledModelName = "smepilot_compiled_model";
/// abi.h's optional explanation (smepilot-export-explain).
static constexpr StringLiteral kExplainName = "smepilot_explain";

static llvm::Error makeError(const Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

static void initializeNativeTarget() {
  static std::once_flag targetsInitialized;
  std::call_once(targetsInitialized, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
}

HostCPU mlir::smepilot::detectHostCPU() {
  HostCPU cpu;
  cpu.name = llvm::sys::getHostCPUName().str();
  SmallVector<std::string> features;
  for (const auto &feature : llvm::sys::getHostCPUFeatures())
    features.push_back((feature.second ? "+" : "-") + feature.first().str());
  llvm::sort(features);
  cpu.features = llvm::join(features, ",");
  return cpu;
}

/// A target machine builder for the host triple and `cpu` (the host's when
/// its name is empty).
static llvm::orc::JITTargetMachineBuilder
makeTargetMachineBuilder(const HostJITOptions &options) {
  HostCPU cpu = options.cpu.name.empty() ? detectHostCPU() : options.cpu;
  llvm::Triple triple(llvm::sys::getProcessTriple());
  llvm::orc::JITTargetMachineBuilder builder(triple);
  builder.setCPU(cpu.name);
  SmallVector<StringRef> features;
  StringRef(cpu.features).split(features, ',', -1, /*KeepEmpty=*/false);
  for (StringRef feature : features)
    builder.getFeatures().AddFeature(feature);
  builder.setCodeGenOptLevel(llvm::CodeGenOpt::getLevel(options.optLevel)
                                 .value_or(llvm::CodeGenOptLevel::Aggressive));
  // Position-independent code: the object lands wherever JITLink puts it,
  // and reaches libm through the GOT.
  builder.setRelocationModel(llvm::Reloc::PIC_);
  return builder;
}

/// Adds `void _smepilot_packed_<f>(void **args)` for each function `f` of
/// `names`: args[i] points to f's i-th argument (a memref descriptor
/// pointer or an i64).
static void addPackedWrappers(llvm::Module &module,
                              ArrayRef<std::string> names) {
  llvm::LLVMContext &ctx = module.getContext();
  auto *ptrType = llvm::PointerType::getUnqual(ctx);
  auto *wrapperType =
      llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {ptrType}, false);
  for (const std::string &name : names) {
    llvm::Function *callee = module.getFunction(name);
    if (!callee || callee->isDeclaration())
      continue;
    auto *wrapper = llvm::Function::Create(
        wrapperType, llvm::GlobalValue::ExternalLinkage,
        kPackedPrefix + name.substr(kCInterfacePrefix.size()), module);
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", wrapper));
    SmallVector<llvm::Value *> args;
    for (llvm::Argument &param : callee->args()) {
      llvm::Value *slot =
          b.CreateConstGEP1_64(ptrType, wrapper->getArg(0), param.getArgNo());
      llvm::Value *address = b.CreateLoad(ptrType, slot);
      args.push_back(b.CreateLoad(param.getType(), address));
    }
    b.CreateCall(callee, args);
    b.CreateRetVoid();
  }
}

HostJIT::HostJIT() = default;
HostJIT::~HostJIT() = default;

std::string HostJIT::describeSessionErrors() const {
  return sessionErrors.empty() ? "" : " (" + sessionErrors + ")";
}

llvm::Error HostJIT::link(const HostJITOptions &options) {
  // Refuse what is not an x86-64 (or whatever this process is) relocatable
  // ELF object before ORC sees it: a truncated or foreign file is an error
  // here, not a failure deep inside the linker.
  if (objects.empty())
    return makeError("no object to load");
  llvm::Triple host(llvm::sys::getProcessTriple());
  for (const ObjectCode &object : objects) {
    llvm::MemoryBufferRef ref(StringRef(object.data(), object.size()),
                              "smepilot-object");
    llvm::Expected<std::unique_ptr<llvm::object::ObjectFile>> parsed =
        llvm::object::ObjectFile::createObjectFile(ref);
    if (!parsed)
      return makeError("not an object file: " +
                       llvm::toString(parsed.takeError()));
    if (!(*parsed)->isELF() || !(*parsed)->isRelocatableObject() ||
        (*parsed)->getArch() != host.getArch())
      return makeError("not a relocatable ELF object for " + host.str());
  }

  llvm::Expected<std::unique_ptr<llvm::orc::LLJIT>> created =
      llvm::orc::LLJITBuilder()
          .setJITTargetMachineBuilder(makeTargetMachineBuilder(options))
          .create();
  if (!created)
    return created.takeError();
  jit = std::move(*created);
  // libm (sinf, cosf), libc (memcpy, memset, malloc, free): the process's.
  llvm::Expected<std::unique_ptr<llvm::orc::DynamicLibrarySearchGenerator>>
      generator =
          llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
              jit->getDataLayout().getGlobalPrefix());
  if (!generator)
    return generator.takeError();
  jit->getMainJITDylib().addGenerator(std::move(*generator));
  // Functions the object may call that the process does not export by name
  // (a statically linked program's runtime routines): defined first, so
  // they win over any process symbol of the same name.
  if (!options.extraSymbols.empty()) {
    llvm::orc::SymbolMap extra;
    for (const auto &[name, address] : options.extraSymbols)
      extra[jit->mangleAndIntern(name)] = {
          llvm::orc::ExecutorAddr::fromPtr(address),
          llvm::JITSymbolFlags::Exported | llvm::JITSymbolFlags::Callable};
    if (llvm::Error err = jit->getMainJITDylib().define(
            llvm::orc::absoluteSymbols(std::move(extra))))
      return err;
  }
  // What went wrong while linking (an undefined symbol, say) is reported to
  // the session, not in the lookup's error: keep it for the messages.
  jit->getExecutionSession().setErrorReporter([this](llvm::Error err) {
    if (!sessionErrors.empty())
      sessionErrors += "; ";
    sessionErrors += llvm::toString(std::move(err));
  });
  for (const ObjectCode &object : objects)
    if (llvm::Error err =
            jit->addObjectFile(llvm::MemoryBuffer::getMemBufferCopy(
                StringRef(object.data(), object.size()), "smepilot-object")))
      return err;
  return llvm::Error::success();
}

/// One part of a module compiled on its own thread (HostJIT::compile).
struct BackendPart {
  /// Either the module itself (one part), or its part as bitcode.
  std::unique_ptr<llvm::Module> module;
  std::unique_ptr<llvm::TargetMachine> targetMachine;
  SmallString<0> bitcode;
  ObjectCode object;
  double optimizeMillis = 0, codegenMillis = 0;
  std::string error;
};

static double millisSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now() - t0)
      .count();
}

/// Optimizes `part` (parsed from its bitcode into a context of its own
/// first, unless it holds its module) and emits its object. Errors go to
/// part.error.
static void compileBackendPart(BackendPart &part,
                               const HostJITOptions &options) {
  llvm::LLVMContext context;
  if (!part.module) {
    llvm::Expected<std::unique_ptr<llvm::Module>> parsed =
        llvm::parseBitcodeFile(
            llvm::MemoryBufferRef(part.bitcode.str(), "smepilot-part"),
            context);
    if (!parsed) {
      part.error = "cannot read a part of the split module: " +
                   llvm::toString(parsed.takeError());
      return;
    }
    part.module = std::move(*parsed);
    part.bitcode.clear();
    llvm::Expected<std::unique_ptr<llvm::TargetMachine>> tm =
        makeTargetMachineBuilder(options).createTargetMachine();
    if (!tm) {
      part.error =
          "cannot create a target machine: " + llvm::toString(tm.takeError());
      return;
    }
    part.targetMachine = std::move(*tm);
  }
  auto t0 = std::chrono::steady_clock::now();
  auto optimize = makeOptimizingTransformer(options.optLevel, /*sizeLevel=*/0,
                                            part.targetMachine.get());
  if (llvm::Error err = optimize(part.module.get())) {
    part.error = "optimization failed: " + llvm::toString(std::move(err));
    return;
  }
  part.optimizeMillis = millisSince(t0);
  t0 = std::chrono::steady_clock::now();
  {
    llvm::raw_svector_ostream stream(part.object);
    llvm::legacy::PassManager codegen;
    if (part.targetMachine->addPassesToEmitFile(
            codegen, stream, nullptr, llvm::CodeGenFileType::ObjectFile)) {
      part.error = "the target machine cannot emit objects";
      return;
    }
    codegen.run(*part.module);
  }
  part.codegenMillis = millisSince(t0);
  part.module.reset(); // before its context goes
}

FailureOr<std::unique_ptr<HostJIT>>
HostJIT::compile(ModuleOp module, const HostJITOptions &options) {
  auto start = std::chrono::steady_clock::now();
  initializeNativeTarget();
  registerBuiltinDialectTranslation(*module->getContext());
  registerLLVMDialectTranslation(*module->getContext());
  // What the pipelines for an aarch64 host leave beside the LLVM dialect: the
  // SME path's arm_sme / arm_sve intrinsics (an SME host), NEON's.
  registerArmNeonDialectTranslation(*module->getContext());
  registerArmSMEDialectTranslation(*module->getContext());
  registerArmSVEDialectTranslation(*module->getContext());

  if (options.optLevel > 3) {
    module.emitError("HostJIT: optLevel must be 0..3");
    return failure();
  }

  // Signatures of the C-interface entry points, for checking calls.
  std::unique_ptr<HostJIT> jit(new HostJIT());
  SmallVector<std::string> cInterfaceNames;
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
    cInterfaceNames.push_back(func.getName().str());
  }

  llvm::Expected<std::unique_ptr<llvm::TargetMachine>> targetMachine =
      makeTargetMachineBuilder(options).createTargetMachine();
  if (!targetMachine) {
    module.emitError("HostJIT: cannot create a target machine: ")
        << llvm::toString(targetMachine.takeError());
    return failure();
  }

  auto t0 = std::chrono::steady_clock::now();
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext);
  if (!llvmModule) {
    module.emitError("HostJIT: translation to LLVM IR failed");
    return failure();
  }
  llvmModule->setTargetTriple((*targetMachine)->getTargetTriple());
  llvmModule->setDataLayout((*targetMachine)->createDataLayout());
  addPackedWrappers(*llvmModule, cInterfaceNames);
  jit->times.translate = millisSince(t0);
  t0 = std::chrono::steady_clock::now();

  // One part: optimize and compile the module here. Several: split it by
  // function, each part as bitcode, and give each part a thread with its
  // own LLVMContext and target machine (neither is shared across threads).
  unsigned nDefined =
      llvm::count_if(llvmModule->functions(),
                     [](llvm::Function &f) { return !f.isDeclaration(); });
  unsigned nParts =
      std::clamp(options.compileThreads, 1u, std::max(nDefined, 1u));
  SmallVector<BackendPart> parts;
  if (nParts == 1) {
    parts.emplace_back();
    parts[0].module = std::move(llvmModule);
    parts[0].targetMachine = std::move(*targetMachine);
  } else {
    // Local constant data (the masks and tables kernels load) is copied
    // into every part that uses it: split off into one part and declared in
    // the others, its loads could not be folded into the code that reads it
    // (a Q4_0 prefill kernel lost its GFNI nibble shifts: 12% slower). Only
    // plain data: an initializer naming other globals (the tables' arrays
    // of kernels) names the whole module's.
    llvm::StringMap<llvm::Constant *> localConstants;
    for (llvm::GlobalVariable &global : llvmModule->globals())
      if (global.hasLocalLinkage() && global.isConstant() &&
          global.hasDefinitiveInitializer() && global.hasName() &&
          isa<llvm::ConstantData>(global.getInitializer()))
        localConstants[global.getName()] = global.getInitializer();
    llvm::SplitModule(
        *llvmModule, nParts,
        [&](std::unique_ptr<llvm::Module> part) {
          if (llvm::none_of(part->global_values(), [](llvm::GlobalValue &v) {
                return !v.isDeclaration();
              }))
            return; // nothing to compile
          for (llvm::GlobalVariable &global : part->globals()) {
            auto it = localConstants.find(global.getName());
            if (it == localConstants.end())
              continue;
            global.setInitializer(it->second);
            global.setConstant(true);
            global.setVisibility(llvm::GlobalValue::DefaultVisibility);
            global.setLinkage(llvm::GlobalValue::PrivateLinkage);
          }
          BackendPart &p = parts.emplace_back();
          llvm::raw_svector_ostream os(p.bitcode);
          llvm::WriteBitcodeToFile(*part, os);
        },
        /*PreserveLocals=*/false, /*RoundRobin=*/false);
    llvmModule.reset();
  }
  jit->times.split = millisSince(t0);
  t0 = std::chrono::steady_clock::now();
  {
    std::vector<std::thread> threads;
    for (size_t i = 1; i < parts.size(); ++i)
      threads.emplace_back(compileBackendPart, std::ref(parts[i]),
                           std::cref(options));
    compileBackendPart(parts[0], options);
    for (std::thread &thread : threads)
      thread.join();
  }
  jit->times.backend = millisSince(t0);
  jit->times.parts = parts.size();
  for (BackendPart &part : parts) {
    if (!part.error.empty()) {
      module.emitError("HostJIT: ") << part.error;
      return failure();
    }
    jit->times.optimize += part.optimizeMillis;
    jit->times.codegen += part.codegenMillis;
    jit->objects.push_back(std::move(part.object));
  }
  t0 = std::chrono::steady_clock::now();

  if (llvm::Error err = jit->link(options)) {
    module.emitError("HostJIT: cannot load the object: ")
        << llvm::toString(std::move(err));
    return failure();
  }
  // Linking happens on the first lookup: do it here, so that compile() pays
  // for it (not the first call) and a missing symbol fails here.
  for (const auto &entry : jit->signatures) {
    std::string name = (kPackedPrefix + entry.getKey()).str();
    llvm::Expected<llvm::orc::ExecutorAddr> address = jit->jit->lookup(name);
    if (!address) {
      module.emitError("HostJIT: cannot materialize '")
          << name << "': " << llvm::toString(address.takeError())
          << jit->describeSessionErrors();
      return failure();
    }
    jit->symbols[name] = address->toPtr<void *>();
  }
  // Dispatch tables (smepilot-emit-dispatch-tables), with the kernels they
  // point to.
  for (auto global : module.getOps<LLVM::GlobalOp>()) {
    StringRef name = global.getSymName();
    if (!name.starts_with(kDispatchTablePrefix) && name != kCompiledModelName)
      continue;
    llvm::Expected<llvm::orc::ExecutorAddr> address = jit->jit->lookup(name);
    if (!address) {
      module.emitError("HostJIT: cannot materialize '")
          << name << "': " << llvm::toString(address.takeError())
          << jit->describeSessionErrors();
      return failure();
    }
    jit->symbols[name] = address->toPtr<void *>();
  }
  if (llvm::Error err = jit->jit->initialize(jit->jit->getMainJITDylib())) {
    module.emitError("HostJIT: initialization failed: ")
        << llvm::toString(std::move(err));
    return failure();
  }
  jit->times.link = millisSince(t0);
  jit->compileMillis = std::chrono::duration<double, std::milli>(
                           std::chrono::steady_clock::now() - start)
                           .count();
  return jit;
}

llvm::Expected<std::unique_ptr<HostJIT>>
HostJIT::load(llvm::ArrayRef<char> object, const HostJITOptions &options) {
  ObjectCode copy(object.begin(), object.end());
  return load(llvm::ArrayRef<ObjectCode>(copy), options);
}

llvm::Expected<std::unique_ptr<HostJIT>>
HostJIT::load(llvm::ArrayRef<ObjectCode> objects,
              const HostJITOptions &options) {
  auto start = std::chrono::steady_clock::now();
  initializeNativeTarget();
  std::unique_ptr<HostJIT> jit(new HostJIT());
  jit->objects.assign(objects.begin(), objects.end());
  if (llvm::Error err = jit->link(options))
    return std::move(err);
  // The compiled model points to every table and kernel: looking it up
  // links the whole object.
  llvm::Expected<llvm::orc::ExecutorAddr> address =
      jit->jit->lookup(kCompiledModelName);
  if (!address)
    return makeError(Twine("the object has no usable '") + kCompiledModelName +
                     "': " + llvm::toString(address.takeError()) +
                     jit->describeSessionErrors());
  jit->symbols[kCompiledModelName] = address->toPtr<void *>();
  if (llvm::Error err = jit->jit->initialize(jit->jit->getMainJITDylib()))
    return std::move(err);
  jit->compileMillis = std::chrono::duration<double, std::milli>(
                           std::chrono::steady_clock::now() - start)
                           .count();
  jit->times.link = jit->compileMillis;
  return std::move(jit);
}

FailureOr<void *> HostJIT::lookupDispatchTable(StringRef phase,
                                               std::string *error) {
  return lookupData((kDispatchTablePrefix + phase).str(), error);
}

FailureOr<void *> HostJIT::lookupCompiledModel(std::string *error) {
  return lookupData(kCompiledModelName, error);
}

const char *HostJIT::lookupExplain() {
  llvm::Expected<llvm::orc::ExecutorAddr> address = jit->lookup(kExplainName);
  if (!address) {
    llvm::consumeError(address.takeError());
    return nullptr;
  }
  return address->toPtr<const char *>();
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

  auto wrapper = symbols.find((kPackedPrefix + function).str());
  if (wrapper == symbols.end())
    return fail("the compiled object has no wrapper for it");
  reinterpret_cast<void (*)(void **)>(wrapper->second)(packed.data());
  return success();
}

size_t HostJIT::getObjectBytes() const {
  size_t bytes = 0;
  for (const ObjectCode &object : objects)
    bytes += object.size();
  return bytes;
}
