//===- HostJIT.h - JIT-compile and call lowered modules on the host -*- C++
//-*-===//
//
// Compiles a module lowered by smepilot-host-pipeline (LLVM dialect) into a
// host object with our own llvm::TargetMachine (the CPU and features are an
// input, by default the host's as LLVM detects it), loads the object with
// ORC's LLJIT (process symbols such as libm's sinf/cosf resolvable) and
// calls its functions through the C interface (`llvm.emit_c_interface` ->
// `_mlir_ciface_<name>`), with memref descriptors built over caller-owned
// buffers. Because the object is ours, it can be kept and loaded again
// later without the module (HostJIT::load): the JIT engine's object cache
// (ObjectCache.h) is built on that.
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
#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace llvm::orc {
class LLJIT;
} // namespace llvm::orc

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

/// The machine code is generated for: an LLVM CPU name and a feature
/// string ("+avx512f,-amx-tile,..."), on the host's triple.
struct HostCPU {
  std::string name;
  std::string features;
};

/// The host CPU as LLVM detects it (llvm::sys::getHostCPUName and
/// getHostCPUFeatures), features sorted: what HostJIT compiles for when
/// HostJITOptions leaves the CPU empty (compiler tests). The JIT engine
/// never does: it passes the CPU HostTarget.h derives from the runtime's
/// feature detection, since LLVM reads /proc/cpuinfo on aarch64, which
/// under qemu-user describes the x86 host.
HostCPU detectHostCPU();

/// One object file's bytes.
using ObjectCode = llvm::SmallVector<char, 0>;

struct HostJITOptions {
  /// LLVM optimization level of the IR optimizer and code generator (0..3).
  unsigned optLevel = 3;
  /// Unused: the object code is always kept (getObjects). Kept so that
  /// callers written for the ExecutionEngine-based JIT compile.
  bool keepObject = false;
  /// Threads that optimize and generate code. With more than one, the LLVM
  /// module is split by function (llvm::SplitModule) into that many parts,
  /// each optimized and compiled on its own thread into its own object:
  /// the same functions, compiled apart (no inlining across parts, which
  /// the kernels, called through tables, never had). Not part of what the
  /// code computes, so not part of a cache key.
  unsigned compileThreads = 1;
  /// CPU to generate code for; an empty name means detectHostCPU(). A
  /// caller that records what the code was compiled for (a cache key)
  /// passes the CPU it recorded, so that the two always agree.
  HostCPU cpu;
  /// Functions the code may call that the process does not export by name,
  /// by symbol name: a statically linked program's runtime routines (the
  /// SME ABI's __arm_tpidr2_save and friends, which SME kernels call).
  /// Resolved before the process's own symbols.
  std::vector<std::pair<std::string, void *>> extraSymbols;
};

class HostJIT {
public:
  ~HostJIT();
  HostJIT(const HostJIT &) = delete;
  HostJIT &operator=(const HostJIT &) = delete;

  /// Translates `module` (LLVM dialect only, as left by the host pipeline) to
  /// LLVM IR, optimizes it for options.cpu (the host by default, its
  /// features included), emits an object and loads it (see load()).
  /// Registers the LLVM IR translations on the module's context. Errors are
  /// emitted on the module.
  static FailureOr<std::unique_ptr<HostJIT>>
  compile(ModuleOp module, const HostJITOptions &options = {});

  /// Loads the objects that compile() emitted (getObjects()) for this
  /// host: links them with LLJIT, resolves their undefined symbols in each
  /// other and in the process (libm, libc) and materializes
  /// `smepilot_compiled_model` and the dispatch tables if they have them.
  /// No module: invoke() knows no functions. A malformed object is an
  /// error, never a crash.
  static llvm::Expected<std::unique_ptr<HostJIT>>
  load(llvm::ArrayRef<ObjectCode> objects, const HostJITOptions &options = {});
  /// load() of a single object.
  static llvm::Expected<std::unique_ptr<HostJIT>>
  load(llvm::ArrayRef<char> object, const HostJITOptions &options = {});

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

  /// The compiled model's explanation (`smepilot_explain`, abi.h: a
  /// NUL-terminated JSON document), or null when the object has none.
  const char *lookupExplain();

  /// Wall time of compile() (translation, optimization, code generation
  /// and loading) or load().
  double getCompileMillis() const { return compileMillis; }

  /// Where compile()'s time went (milliseconds; load() sets only `link`).
  /// With several parts, `optimize` and `codegen` add up every part's
  /// (thread time), `backend` is the wall time they took together.
  struct Times {
    double translate = 0; ///< MLIR LLVM dialect -> LLVM IR
    double split = 0;     ///< splitting the module into parts (bitcode)
    double optimize = 0;  ///< the O3 IR pipeline
    double codegen = 0;   ///< instruction selection to the object
    double backend = 0;   ///< optimize + codegen, wall
    double link = 0;      ///< LLJIT: linking and looking up the symbols
    unsigned parts = 1;   ///< objects compiled (compileThreads, at most)
  };
  const Times &getTimes() const { return times; }

  /// The object code: ELF relocatable objects for the host, one per part
  /// the module was compiled in (HostJITOptions::compileThreads).
  llvm::ArrayRef<ObjectCode> getObjects() const { return objects; }
  /// Their total size in bytes.
  size_t getObjectBytes() const;

private:
  HostJIT();
  FailureOr<void *> lookupData(StringRef name, std::string *error);
  /// Loads `objects` into a new LLJIT.
  llvm::Error link(const HostJITOptions &options);
  /// " (<what the JIT session reported>)", or "" when it reported nothing.
  std::string describeSessionErrors() const;

  /// Argument kinds of each C-interface function: true = memref descriptor.
  llvm::StringMap<SmallVector<bool>> signatures;
  /// Addresses of the dispatch tables, the compiled model and the packed
  /// wrappers, by symbol name.
  llvm::StringMap<void *> symbols;
  llvm::SmallVector<ObjectCode, 1> objects;
  /// What the JIT session reported while linking (undefined symbols...).
  /// Declared before `jit`, whose reporter writes here, so it outlives it.
  std::string sessionErrors;
  std::unique_ptr<llvm::orc::LLJIT> jit;
  double compileMillis = 0;
  Times times;
};

} // namespace mlir::smepilot

#endif // SMEPILOT_CODEGEN_HOSTJIT_H
