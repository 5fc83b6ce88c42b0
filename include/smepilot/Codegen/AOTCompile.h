//===- AOTCompile.h - aarch64 objects from LLVM-dialect modules -*- C++ -*-===//
//
// Ahead-of-time object emission for the SME path: the LLVM-dialect module
// is translated to LLVM IR, optimized at O3 and compiled by an in-process
// AArch64 TargetMachine into an ELF relocatable object. The CPU features
// come from the SME target name (the module's `smepilot.sme_target`, or the
// caller's), never from the host.
//
//===----------------------------------------------------------------------===//

#ifndef SMEPILOT_CODEGEN_AOTCOMPILE_H
#define SMEPILOT_CODEGEN_AOTCOMPILE_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Error.h"

#include <string>

namespace mlir::smepilot {

/// The LLVM target triple of the emitted objects.
inline constexpr llvm::StringLiteral kAArch64Triple =
    "aarch64-unknown-linux-gnu";

/// The LLVM feature string of an SME target: "sme-sve" -> "+sve,+sme,+bf16"
/// (runs under QEMU), "sme2-nosve" -> "+sme2,+bf16,-sve" (Apple M4 style).
/// An error for other names.
llvm::Expected<std::string> getSMETargetFeatures(StringRef target);

/// Options of emitAArch64Object.
struct AOTOptions {
  /// SME target name; empty: the module's `smepilot.sme_target`.
  std::string target;
  /// LLVM optimization level, 0..3.
  unsigned optLevel = 3;
};

/// Translates `module` (LLVM dialect) and returns an aarch64 ELF object.
llvm::Expected<llvm::SmallVector<char, 0>>
emitAArch64Object(ModuleOp module, const AOTOptions &options);

} // namespace mlir::smepilot

#endif // SMEPILOT_CODEGEN_AOTCOMPILE_H
