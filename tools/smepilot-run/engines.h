// smepilot-run: engine selection (--engine).
#pragma once

#include "smepilot_rt/engine.h"
#include "smepilot_rt/gguf.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace smepilot::run {

/// Ok when `name` is an engine this build can create; otherwise the error
/// create_engine would give (checked before a model is loaded).
rt::status check_engine(const std::string &name);

/// Options of --emit-object (ahead-of-time compilation). The CLI's own copy
/// of lib/Engine's aot_object_options: this header is also built without the
/// compiler.
struct emit_object_options {
  std::string target;              ///< sme-sve, sme2-nosve
  std::string object_path;         ///< where the object goes
  std::string profile;             ///< Roofline profile choosing the SME ops
  bool sme_all = false;            ///< every contraction on SME instead
  std::string sme_type = "auto";   ///< auto, f32, bf16, f16 (--sme-type)
  int64_t force_share = -1;        ///< --force-share (-1: the profile's)
  bool pipeline_attention = false; ///< --pipeline-attention
  std::string dump_mlir_dir;
  bool verbose = false;
  /// When set, receives the model's explanation (--explain); with no
  /// object_path nothing else is produced.
  std::string *explain = nullptr;
};

/// Compiles the model ahead of time (needs the compiler build).
rt::status emit_object(const rt::gguf_file &file,
                       const rt::engine_options &options,
                       const emit_object_options &aot);

/// "reference" always; "jit" when the build includes the compiler
/// (SMEPILOT_RUN_WITH_JIT), else an error saying so.
/// `dump_mlir_dir` (jit only): where to write the IR of each compiler stage.
/// `on_stage` (jit only): told of each compile stage as it starts (name,
/// number from 1, count), for a progress display.
/// `use_cache` (jit only): load and store compiled objects in the object
/// cache (JITEngine.h, jit_engine_options::use_cache).
/// `f32_weights` (jit only): pass every weight as an F32 copy, not in its
/// own GGUF type (jit_engine_options::f32_weights).
/// `explain` (jit, aot): when set, receives the compiled model's
/// explanation (the `smepilot_explain` JSON; "" when it has none).
/// `profile` (jit only): the Roofline profile (--profile); "" = the one
/// chosen for this machine, a calibrated one first (--calibrate).
using compile_stage_callback =
    std::function<void(const std::string &stage, int index, int count)>;
rt::result<std::unique_ptr<rt::engine>>
create_engine(const std::string &name, const rt::gguf_file &file,
              const rt::engine_options &options,
              const std::string &dump_mlir_dir = "", bool verbose = false,
              const compile_stage_callback &on_stage = {},
              bool use_cache = false, bool f32_weights = false,
              std::string *explain = nullptr, const std::string &profile = "");

/// --calibrate: measures this machine on `threads` threads
/// (smepilot_rt/calibrate.h), prints what it measured to stdout, and keeps
/// it as the profile later jit runs use on this CPU when `threads` CPUs are
/// usable (rt::default_thread_count(); in the cache directory). Measurements
/// under an emulator are printed, never kept (an error). Writing the profile
/// needs the compiler build.
rt::status calibrate_machine(int threads);

/// Renders a compiled model's explanation for --explain ("text" or "json"),
/// with `measured` beside the predictions (smepilot/Engine/Explain.h). Needs
/// the compiler build (an error otherwise).
rt::result<std::string>
render_explain(const std::string &document, const std::string &format,
               const std::vector<rt::engine::phase_profile> &measured);

} // namespace smepilot::run
