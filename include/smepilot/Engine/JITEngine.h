//===- JITEngine.h - a GGUF model compiled for the runtime -------*- C++
//-*-===//
//
// Where the compiler and the runtime meet. For a model file this builds the
// linalg graph from its GGUF metadata (lib/ModelBuilder), runs a registered
// pipeline (lib/Pipelines) and hands the result on (lib/Codegen): JIT-compiled
// for the host, as an engine whose dispatch tables the runtime's compiled
// engine (smepilot_rt/compiled_engine.h) runs on its thread pool on
// runtime-owned buffers (for the machine it runs on: HostTarget.h chooses
// the pipeline, the profile and the CPU); or, compiled for an aarch64 SME
// target, as an object holding the kernels, the tables and
// `smepilot_compiled_model` (abi.h).
//
// The API is the runtime's (rt::status, rt::engine, snake_case): its callers
// are runtime-side programs (smepilot-run, the JIT engine tests). The runtime
// itself never links this library. Error messages name smepilot-run's flags
// (--emit-object, --target, --dump-mlir), which these options mirror.
//
//===----------------------------------------------------------------------===//

#ifndef SMEPILOT_ENGINE_JITENGINE_H
#define SMEPILOT_ENGINE_JITENGINE_H

#include "smepilot/Engine/HostTarget.h"

#include "smepilot_rt/engine.h"
#include "smepilot_rt/gguf.h"

#include <functional>
#include <memory>
#include <string>

namespace smepilot::engine {

struct jit_engine_options {
  /// Write the module before and after every pipeline stage here ("" = no).
  std::string dump_mlir_dir;
  /// Print compile times to stderr.
  bool verbose = false;
  /// Called as each compile stage starts, for a progress display (the
  /// engine itself prints nothing): the stage's name ("graph", each pipeline
  /// stage, "LLVM"), its number from 1, and how many there are.
  std::function<void(const std::string &stage, int index, int count)> on_stage;
  /// Use the object cache (ObjectCache.h): load the object compiled by an
  /// earlier run with the same key instead of compiling, and store the
  /// object after compiling. A dump_mlir_dir implies compiling (no read).
  /// Off by default: a program opts in (smepilot-run does, unless
  /// --no-cache), so that tests and benchmarks never touch a user's cache.
  bool use_cache = false;
  /// The cache's directory; "" = $XDG_CACHE_HOME/smepilot or
  /// $HOME/.cache/smepilot.
  std::string cache_dir;
  /// Pass every weight to the compiled code as an F32 copy (the engine
  /// dequantizes at load), not in its own GGUF type: the slow, memory-hungry
  /// way, kept for comparison (smepilot-run --f32-weights).
  bool f32_weights = false;
  /// Products of int8 factors (Q8_0/Q4_0 weights by activations rounded to
  /// Q8_0, rt::engine_options::f32_activations) use AVX512-VNNI int8 dot
  /// products where the CPU has them (the host pipeline's int8-dot); off:
  /// f32 FMAs on the same integers, for comparison (the same logits up to
  /// the summation order).
  bool int8_dot = true;
  /// When set, receives the compiled model's explanation: the JSON document
  /// smepilot-export-explain put into the object (`smepilot_explain`,
  /// Explain.h renders it); "" when the object has none.
  std::string *explain = nullptr;
  /// The Roofline profile (--profile: a built-in name or a .json path);
  /// "" = chosen for this machine (HostTarget.h).
  std::string profile;
  /// Where `--calibrate` keeps measured profiles (the cache directory,
  /// HostTarget.h's calibrated_profile_path); "" = do not look for one.
  /// Off by default for the same reason as use_cache.
  std::string calibration_dir;
  /// The machine to compile for instead of this one's (tests inject feature
  /// sets); the profile and calibration_dir above are then ignored in favour
  /// of its own.
  const host_target_inputs *host = nullptr;
};

/// What, besides the model file and the engine options, the JIT's object
/// cache key covers: the machine and the compiler that produced the object.
struct jit_cache_environment {
  /// What the code is compiled for (select_host_target); its profile and
  /// vector width are part of the pipeline the key hashes.
  host_target target;
  std::string cpu_name;     ///< LLVM's CPU name the code is generated for
  std::string cpu_features; ///< and its LLVM feature string
  std::string runtime_cpu;  ///< rt::describe(rt::detect_cpu_features())
  std::string llvm_version; ///< LLVM_VERSION_STRING
  std::string build_id;     ///< getCompilerBuildId() (ObjectCache.h)
  /// This process on this machine, the target chosen with no --profile and
  /// no calibrated profile.
  static jit_cache_environment detect();
  /// This process, compiling for `target`.
  static jit_cache_environment for_target(host_target target);
};

/// The object cache key (64 hex digits) of `file`'s model compiled by the
/// JIT engine with `options` in `env`: a SHA-256 over a key format version,
/// SMEPILOT_RT_ABI_VERSION, the GGUF metadata (but the tokenizer's), every
/// tensor's name, type and shape, the resolved context and prompt chunk,
/// the host pipeline's options and profile, `f32_weights`
/// (jit_engine_options) and `env`. Fails as the engine would on a model it
/// cannot compile (bad config, missing tensor).
rt::result<std::string> jit_cache_key(const rt::gguf_file &file,
                                      const rt::engine_options &options,
                                      const jit_cache_environment &env,
                                      bool f32_weights = false);

/// What emit_aot_object compiles for and where the object goes.
struct aot_object_options {
  std::string target;            ///< sme-sve, sme2-nosve
  std::string object_path;       ///< where the object goes ("": none)
  std::string profile;           ///< Roofline profile choosing the SME ops
  bool sme_all = false;          ///< every contraction on SME instead
  std::string sme_type = "auto"; ///< auto, f32, bf16, f16
  /// Split every SME-capable contraction between both units with this SME
  /// share (parts per 65536); -1: the profile's collab decisions.
  int64_t force_share = -1;
  /// Pipeline prefill attention whatever the decisions say.
  bool pipeline_attention = false;
  /// Write the module before and after every pipeline stage here ("" = no).
  std::string dump_mlir_dir;
  /// Print compile times and the object's size to stderr.
  bool verbose = false;
  /// When set, receives the compiled model's explanation (the
  /// `smepilot_explain` global's JSON, as in jit_engine_options). With no
  /// object_path, compiling stops there: no object is generated.
  std::string *explain = nullptr;
};

/// The front half of both paths, without codegen: checks the model the way
/// every engine does (its config, then every tensor's presence, shape and
/// type) and builds and verifies its linalg graph for options.n_ctx
/// positions and chunks of options.n_batch. No pipeline, no LLVM: what the
/// jit_model fuzz target drives with hostile files.
rt::status check_model_graph(const rt::gguf_file &file,
                             const rt::engine_options &options);

/// Compiles `file`'s model for an aarch64 SME target into an object holding
/// its kernels, dispatch tables and `smepilot_compiled_model` (abi.h), for
/// options.n_ctx positions and prompt chunks of options.n_batch (at most 64).
rt::status emit_aot_object(const rt::gguf_file &file,
                           const rt::engine_options &options,
                           const aot_object_options &aot);

/// Compiles `file`'s model for the host. The file must outlive the engine.
rt::result<std::unique_ptr<rt::engine>>
load_jit_engine(const rt::gguf_file &file, const rt::engine_options &options,
                const jit_engine_options &jit_options);

} // namespace smepilot::engine

#endif // SMEPILOT_ENGINE_JITENGINE_H
