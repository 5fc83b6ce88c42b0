//===- AOTCompileTest.cpp - SME pipeline + aarch64 object emission
//---------===//
//
// Parses a projection, lowers it with smepilot-sme-pipeline and emits
// objects for both SME targets; checks the ELF header, the symbols (kernel,
// its caller, the C interface, the SME ABI routine it needs) and the
// errors for bad targets. The numbers are checked under QEMU by
// test/Pipelines/sme-numerics.mlir.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Codegen/AOTCompile.h"
#include "smepilot/Pipelines/Pipelines.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/BinaryFormat/ELF.h"
#include "llvm/Object/ELFObjectFile.h"
#include "llvm/Object/ObjectFile.h"
#include "llvm/Support/MemoryBuffer.h"

#include <gtest/gtest.h>

#include <chrono>

using namespace mlir;
using namespace mlir::smepilot;

namespace {

constexpr const char *kProjection = R"mlir(
func.func @proj(%a: tensor<?x?xf32>, %w: tensor<?x?xf32>, %c: tensor<?x?xf32>) -> tensor<?x?xf32>
    attributes {llvm.emit_c_interface} {
  %r = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         ins(%a, %w : tensor<?x?xf32>, tensor<?x?xf32>) outs(%c : tensor<?x?xf32>) -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}
)mlir";

class AOTCompileTest : public ::testing::Test {
protected:
  AOTCompileTest() {
    DialectRegistry registry;
    registerHostPipelineDialects(registry);
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
  }

  /// Parses kProjection and lowers it for `target`.
  OwningOpRef<ModuleOp> lower(StringRef target) {
    OwningOpRef<ModuleOp> module =
        parseSourceString<ModuleOp>(kProjection, &context);
    if (!module) {
      ADD_FAILURE() << "parse failed";
      return nullptr;
    }
    SMEPipelineOptions options;
    options.target = *symbolizeSMETarget(target);
    options.allContractions = true;
    PassManager pm(&context);
    std::string error;
    if (failed(buildSMEPipeline(pm, options,
                                [&](const Twine &m) { error = m.str(); })) ||
        failed(pm.run(*module))) {
      ADD_FAILURE() << "SME pipeline failed: " << error;
      return nullptr;
    }
    return module;
  }

  /// The defined and undefined symbol names of an ELF object; checks that
  /// it is a relocatable aarch64 ELF64 object.
  llvm::StringSet<> symbolsOf(const llvm::SmallVector<char, 0> &object,
                              llvm::StringSet<> &undefined) {
    llvm::StringSet<> defined;
    auto buffer = llvm::MemoryBuffer::getMemBuffer(
        llvm::StringRef(object.data(), object.size()), "object",
        /*RequiresNullTerminator=*/false);
    auto file = llvm::object::ObjectFile::createObjectFile(*buffer);
    if (!file) {
      ADD_FAILURE() << llvm::toString(file.takeError());
      return defined;
    }
    auto *elf = dyn_cast<llvm::object::ELF64LEObjectFile>(file->get());
    if (!elf) {
      ADD_FAILURE() << "not a little-endian ELF64 object";
      return defined;
    }
    EXPECT_EQ(elf->getELFFile().getHeader().e_machine, llvm::ELF::EM_AARCH64);
    EXPECT_EQ(elf->getELFFile().getHeader().e_type, llvm::ELF::ET_REL);
    for (const llvm::object::SymbolRef &symbol : elf->symbols()) {
      llvm::Expected<llvm::StringRef> name = symbol.getName();
      llvm::Expected<uint32_t> flags = symbol.getFlags();
      if (!name || !flags || name->empty()) {
        if (!name)
          llvm::consumeError(name.takeError());
        if (!flags)
          llvm::consumeError(flags.takeError());
        continue;
      }
      if (*flags & llvm::object::SymbolRef::SF_Undefined)
        undefined.insert(*name);
      else
        defined.insert(*name);
    }
    return defined;
  }

  MLIRContext context;
};

TEST_F(AOTCompileTest, EmitsAArch64ObjectForBothTargets) {
  for (StringRef target : {"sme-sve", "sme2-nosve"}) {
    SCOPED_TRACE(target.str());
    OwningOpRef<ModuleOp> module = lower(target);
    ASSERT_TRUE(module);
    auto start = std::chrono::steady_clock::now();
    // The target comes from the module's smepilot.sme_target.
    llvm::Expected<llvm::SmallVector<char, 0>> object =
        emitAArch64Object(*module, AOTOptions{});
    double ms = std::chrono::duration<double, std::milli>(
                    std::chrono::steady_clock::now() - start)
                    .count();
    ASSERT_TRUE(static_cast<bool>(object))
        << llvm::toString(object.takeError());
    RecordProperty("emit_ms_" + target.str(), std::to_string(ms));
    llvm::StringSet<> undefined;
    llvm::StringSet<> defined = symbolsOf(*object, undefined);
    EXPECT_TRUE(defined.contains("proj"));
    EXPECT_TRUE(defined.contains("proj_sme0"));
    EXPECT_TRUE(defined.contains("_mlir_ciface_proj"));
    // The kernel's lazy-save check; malloc/free come from the caller's
    // transposes.
    EXPECT_TRUE(undefined.contains("__arm_tpidr2_save"));
    EXPECT_TRUE(undefined.contains("malloc"));
    for (const auto &name : undefined)
      EXPECT_TRUE(name.getKey() == "__arm_tpidr2_save" ||
                  name.getKey() == "malloc" || name.getKey() == "free")
          << "unexpected external symbol " << name.getKey().str();
  }
}

TEST_F(AOTCompileTest, RejectsUnknownTargetAndMissingTarget) {
  OwningOpRef<ModuleOp> module = lower("sme-sve");
  ASSERT_TRUE(module);
  llvm::Expected<llvm::SmallVector<char, 0>> bad =
      emitAArch64Object(*module, AOTOptions{"sme4", 3});
  ASSERT_FALSE(static_cast<bool>(bad));
  EXPECT_EQ(llvm::toString(bad.takeError()),
            "unknown SME target 'sme4' (targets: sme-sve, sme2-nosve)");

  (*module)->removeAttr(kSMETargetAttrName);
  llvm::Expected<llvm::SmallVector<char, 0>> missing =
      emitAArch64Object(*module, AOTOptions{});
  ASSERT_FALSE(static_cast<bool>(missing));
  EXPECT_NE(llvm::toString(missing.takeError()).find("no SME target given"),
            std::string::npos);

  llvm::Expected<llvm::SmallVector<char, 0>> badLevel =
      emitAArch64Object(*module, AOTOptions{"sme-sve", 4});
  ASSERT_FALSE(static_cast<bool>(badLevel));
  llvm::consumeError(badLevel.takeError());
}

TEST(SMETargetFeatures, ByName) {
  llvm::Expected<std::string> sve = getSMETargetFeatures("sme-sve");
  ASSERT_TRUE(static_cast<bool>(sve));
  EXPECT_EQ(*sve, "+sve,+sme,+bf16");
  llvm::Expected<std::string> nosve = getSMETargetFeatures("sme2-nosve");
  ASSERT_TRUE(static_cast<bool>(nosve));
  EXPECT_EQ(*nosve, "+sme2,+bf16,-sve");
  llvm::Expected<std::string> bad = getSMETargetFeatures("");
  EXPECT_FALSE(static_cast<bool>(bad));
  llvm::consumeError(bad.takeError());
}

} // namespace
