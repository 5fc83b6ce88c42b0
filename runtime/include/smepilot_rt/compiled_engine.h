// SMEPilot runtime: the engine that runs a compiled model.
//
// A compiled model (abi.h, smepilot_rt_compiled_model) is a set of phases,
// each a dispatch table computing the forward pass of a fixed number of
// tokens. This engine binds one to a GGUF file and runs it on the thread
// pool; it is the same code whether the tables came from the host JIT (the
// `jit` engine of smepilot-run) or from an ahead-of-time object linked into
// the program (the aarch64 + SME build under QEMU).
//
// Binding. Every phase's argument buffers are bound by name (abi.h):
// "tokens", the GGUF tensors by their names (dequantized to F32 once, on the
// pool, and shared by every phase and by tied names), "k_cache" and
// "v_cache" (reserved once for the compiled context, backed as positions are
// written, shared), "logits". Sizes are checked against the
// model file and between phases, so a model compiled for another file, shape
// or context is an error at load, never a wrong read.
//
// The load table (abi.h), when the model has one, is bound first: its
// written arguments are packed buffers the engine allocates once; it runs
// once, after the weights are loaded, and the phases then read the packed
// buffers by name. A weight that only the load table reads is dropped once
// it has run (the SME path keeps only the K-major copies of its weights).
//
// Evaluation. A request of n tokens runs the largest prompt chunk C > 1 the
// model has for as many whole chunks as fit, then the one-token phase for
// the rest; a chunk whose other rows nobody reads runs the chunk's
// last-row-only phase when there is one. Each phase runs with constants
// {pos}. Results do not depend on the thread count (abi.h: no kernel reduces
// across tiles).
//
// Scheduling. Every table runs on the engine's pool as dispatch.h says (by
// deps, SME ranges on matrix-unit workers). engine_options.sme_workers picks
// how many of the n_threads are matrix-unit workers; by default one when
// some table has an sme or collab dispatch and detect_cpu_features() finds
// SME, else none (on the host, the SME variants are stand-ins any worker
// may run). schedule_report() gives the -v lines (per table: dispatches by
// mode, the worker split); with engine_options.trace every kernel call of
// every table, the load table's included, is recorded for write_trace().
#pragma once

#include "smepilot_rt/abi.h"
#include "smepilot_rt/engine.h"
#include "smepilot_rt/gguf.h"
#include "smepilot_rt/status.h"

#include <memory>
#include <string>

namespace smepilot::rt {

/// Loads `model` for `file`. `name` is what engine::name() returns ("jit",
/// "aot"); `keep_alive` is held as long as the engine lives (the JIT that owns
/// the tables' memory). options.n_ctx, when set, must not exceed the context
/// the model was compiled for; options.n_batch caps the prompt chunk used.
result<std::unique_ptr<engine>> load_compiled_engine(const gguf_file &file,
                                                     const engine_options &options,
                                                     const smepilot_rt_compiled_model *model,
                                                     std::string name,
                                                     std::shared_ptr<void> keep_alive = {});

/// One line per phase: name, chunk, dispatches, kernels, temporaries (for -v).
std::string describe_compiled_model(const smepilot_rt_compiled_model &model);

} // namespace smepilot::rt
