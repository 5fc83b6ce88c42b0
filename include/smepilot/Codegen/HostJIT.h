//===- HostJIT.h - JIT-compile and call lowered modules on the host -*- C++
//-*-===//
//
// Compiles a module lowered by smepilot-host-pipeline (LLVM dialect) with
// mlir::ExecutionEngine for the host CPU and calls its functions through the
// C interface (`llvm.emit_c_interface` -> `_mlir_ciface_<name>`), with memref
// descriptors built over caller-owned buffers.
//
// Calling convention (docs/compiled-model.md, "JIT"): after the host
// pipeline a function takes its original arguments in order (tensor ->
// memref descriptor, index -> int64), followed by one out-param memref per
// tensor result that is not an in-place update of an argument. The caller
// allocates every buffer; nothing is returned and nothing needs freeing.
//
//===----------------------------------------------------------------------===//

#ifndef SMEPILOT_CODEGEN_HOSTJIT_H
#define SMEPILOT_CODEGEN_HOSTJIT_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <memory>
#include <string>

namespace mlir {
class ExecutionEngine;
} // namespace mlir

namespace mlir::smepilot {

/// One argument of a JIT call: a row-major (identity layout) buffer owned by
/// the caller, or an index scalar.
class JITArg {
public:
  /// A memref over `data` (elements of the function's element type) with
  /// `sizes` (outermost first); strides are the row-major ones.
  static JITArg memref(void *data, ArrayRef<int64_t> sizes) {
    JITArg arg;
    arg.data = data;
    arg.sizes.assign(sizes.begin(), sizes.end());
    arg.isMemRef = true;
    return arg;
  }
  /// An `index` (or i64) scalar.
  static JITArg index(int64_t value) {
    JITArg arg;
    arg.scalar = value;
    return arg;
  }

  bool isMemRef = false;
  void *data = nullptr;
  SmallVector<int64_t, 4> sizes;
  int64_t scalar = 0;
};

struct HostJITOptions {
  /// LLVM optimization level of the IR optimizer and code generator (0..3).
  unsigned optLevel = 3;
  /// Keep the object code so that dumpObject() can write it.
  bool keepObject = false;
};

class HostJIT {
public:
  ~HostJIT();
  HostJIT(const HostJIT &) = delete;
  HostJIT &operator=(const HostJIT &) = delete;

  /// Translates `module` (LLVM dialect only, as left by the host pipeline) to
  /// LLVM IR, optimizes it for the host CPU (its features included) and
  /// compiles it. Registers the LLVM IR translations on the module's
  /// context. Errors are emitted on the module.
  static FailureOr<std::unique_ptr<HostJIT>>
  compile(ModuleOp module, const HostJITOptions &options = {});

  /// Calls `_mlir_ciface_<function>` with `args`, checking their number and
  /// kinds (memref or scalar) against the compiled signature; ranks and
  /// sizes are the caller's responsibility. On failure `error` (if given)
  /// says why.
  LogicalResult invoke(StringRef function, ArrayRef<JITArg> args,
                       std::string *error = nullptr);

  /// The address of the dispatch table of `phase` (the global
  /// `smepilot_table_<phase>` that smepilot-emit-dispatch-tables made: a
  /// `smepilot_rt_dispatch_table`, runtime/include/smepilot_rt/abi.h), or
  /// failure with `error` saying why.
  FailureOr<void *> lookupDispatchTable(StringRef phase,
                                        std::string *error = nullptr);

  /// The address of `smepilot_compiled_model` (a
  /// `smepilot_rt_compiled_model`, abi.h: every table of the module).
  FailureOr<void *> lookupCompiledModel(std::string *error = nullptr);

  /// Wall time of compile(): translation, optimization and code generation.
  double getCompileMillis() const { return compileMillis; }

  /// Writes the object code (needs HostJITOptions::keepObject).
  void dumpObject(StringRef path);

private:
  HostJIT() = default;
  FailureOr<void *> lookupData(StringRef name, std::string *error);

  /// Argument kinds of each C-interface function: true = memref descriptor.
  llvm::StringMap<SmallVector<bool>> signatures;
  /// Addresses of the dispatch tables, by symbol name.
  llvm::StringMap<void *> symbols;
  std::unique_ptr<ExecutionEngine> engine;
  double compileMillis = 0;
};

} // namespace mlir::smepilot

#endif // SMEPILOT_CODEGEN_HOSTJIT_H
