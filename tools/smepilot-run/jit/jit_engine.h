// smepilot-run: the JIT engine (--engine jit).
//
// Builds the model's linalg graph from its GGUF metadata (lib/Model), runs
// the registered host pipeline (lib/Pipelines), JIT-compiles the result
// (lib/JIT) and evaluates tokens by running its dispatch tables on
// runtime-owned buffers. This is where the compiler and the runtime meet: the
// runtime itself never links the compiler.
//
// Every phase (a prompt chunk, a decode step) becomes a dispatch table that
// the runtime's compiled engine (compiled_engine.h) runs on its thread pool;
// weights are dequantized to F32 at load. The same module, compiled for an
// aarch64 SME target instead, is written as an object (emit_aot_object).
#pragma once

#include "engines.h"

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

/// Compiles `file`'s model for an aarch64 SME target into an object holding
/// its kernels, dispatch tables and `smepilot_compiled_model` (abi.h), for
/// options.n_ctx positions and prompt chunks of options.n_batch (at most 64).
rt::status emit_aot_object(const rt::gguf_file &file, const rt::engine_options &options,
                           const emit_object_options &aot);

/// Compiles `file`'s model for the host. The file must outlive the engine.
rt::result<std::unique_ptr<rt::engine>> load_jit_engine(const rt::gguf_file &file,
                                                        const rt::engine_options &options,
                                                        const jit_engine_options &jit_options);

} // namespace smepilot::run
