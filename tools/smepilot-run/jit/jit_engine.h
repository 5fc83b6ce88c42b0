// smepilot-run: the JIT engine (--engine jit).
//
// Builds the model's linalg graph from its GGUF metadata (lib/Model), runs
// the registered host pipeline (lib/Pipelines), JIT-compiles the result
// (lib/JIT) and evaluates tokens by calling the compiled forward functions on
// runtime-owned buffers. This is where the compiler and the runtime meet: the
// runtime itself never links the compiler.
//
// Stage 1 of issue 5 (docs/compiled-model.md): one compiled function per
// chunk size, called on the calling thread; weights are dequantized to F32 at
// load. Dispatches over tile ranges on the thread pool come next.
#pragma once

#include "smepilot_rt/engine.h"
#include "smepilot_rt/gguf.h"

#include <memory>
#include <string>

namespace smepilot::run {

struct jit_engine_options {
  /// Write the module before and after every pipeline stage here ("" = no).
  std::string dump_mlir_dir;
  /// Print compile times to stderr.
  bool verbose = false;
};

/// Compiles `file`'s model for the host. The file must outlive the engine.
rt::result<std::unique_ptr<rt::engine>> load_jit_engine(const rt::gguf_file &file,
                                                        const rt::engine_options &options,
                                                        const jit_engine_options &jit_options);

} // namespace smepilot::run
