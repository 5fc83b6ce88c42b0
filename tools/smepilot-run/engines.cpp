// smepilot-run: engine selection. The JIT engine (lib/Engine) is linked in
// when the compiler is built (SMEPILOT_RUN_WITH_JIT; not in the runtime-only
// aarch64 build).
// The aot engine runs a model compiled ahead of time (smepilot-run
// --emit-object) and linked into the program: the object defines
// `smepilot_compiled_model` (abi.h), which this file references weakly, so
// the same CLI objects link with or without one.
#include "engines.h"

#include "smepilot_rt/calibrate.h"
#include "smepilot_rt/compiled_engine.h"
#include "smepilot_rt/cpu_features.h"
#include "smepilot_rt/reference_executor.h"

#include <cstdio>
#include <cstring>
#include <ctime>

extern "C" {
extern const smepilot_rt_compiled_model smepilot_compiled_model
    __attribute__((weak));
/// The linked model's explanation (abi.h), when it carries one.
extern const char smepilot_explain[] __attribute__((weak));
}

#ifdef SMEPILOT_RUN_WITH_JIT
#include "smepilot/Engine/Explain.h"
#include "smepilot/Engine/JITEngine.h"
#endif

namespace smepilot::run {

namespace {

const smepilot_rt_compiled_model *linked_model() {
  return &smepilot_compiled_model;
}

/// The aot engine: the linked model, if the CPU can run what it was compiled
/// for.
rt::status check_aot() {
  const smepilot_rt_compiled_model *model = linked_model();
  if (!model)
    return rt::status::error("engine 'aot': no compiled model is linked into "
                             "this binary (compile one with "
                             "smepilot-run --target sme-sve --emit-object "
                             "model.o and link it with the runtime; "
                             "docs/sme-path.md)");
  if (model->target && std::strncmp(model->target, "sme", 3) == 0)
    return rt::require_sme(rt::detect_cpu_features());
  return rt::status::ok();
}

} // namespace

rt::status check_engine(const std::string &name) {
  if (name == "reference")
    return rt::status::ok();
  if (name == "aot")
    return check_aot();
  if (name == "jit") {
#ifdef SMEPILOT_RUN_WITH_JIT
    return rt::status::ok();
#else
    return rt::status::error(
        "engine 'jit' is not available in this build (it needs the "
        "compiler; use --engine reference)");
#endif
  }
  return rt::status::error("unknown engine '" + name +
                           "' (expected reference, jit or aot)");
}

rt::result<std::unique_ptr<rt::engine>> create_engine(
    const std::string &name, const rt::gguf_file &file,
    const rt::engine_options &options, const std::string &dump_mlir_dir,
    bool verbose, const compile_stage_callback &on_stage, bool use_cache,
    bool f32_weights, std::string *explain, const std::string &profile) {
  SMEPILOT_RT_RETURN_IF_ERROR(check_engine(name));
#ifdef SMEPILOT_RUN_WITH_JIT
  if (name == "jit") {
    engine::jit_engine_options jit;
    jit.dump_mlir_dir = dump_mlir_dir;
    jit.verbose = verbose;
    jit.on_stage = on_stage;
    jit.use_cache = use_cache;
    jit.f32_weights = f32_weights;
    jit.explain = explain;
    jit.profile = profile;
    jit.calibration_dir = engine::default_cache_dir();
    return engine::load_jit_engine(file, options, jit);
  }
#endif
  if (name == "aot") {
    if (explain)
      *explain = &smepilot_explain ? smepilot_explain : "";
    if (verbose)
      std::fprintf(stderr, "smepilot-run: aot: %s\n",
                   rt::describe_compiled_model(*linked_model()).c_str());
    return rt::load_compiled_engine(file, options, linked_model(), "aot");
  }
  (void)dump_mlir_dir;
  (void)on_stage;
  (void)use_cache;
  (void)f32_weights;
  (void)profile;
  return rt::load_reference_engine(file, options);
}

rt::status calibrate_machine(int threads) {
  const rt::cpu_features cpu = rt::detect_cpu_features();
  std::printf("smepilot-run --calibrate: %s, %d thread%s\n",
              rt::describe(cpu).c_str(), threads, threads > 1 ? "s" : "");
  std::fflush(stdout);
  rt::calibrate_options options;
  options.threads = threads;
  const rt::calibration c = rt::calibrate(cpu, options);
  std::fputs(rt::describe(c).c_str(), stdout);
  if (cpu.emulated)
    std::printf("  (under an emulator: /proc/cpuinfo describes another CPU, "
                "so these are the emulator's speeds)\n");
  std::fflush(stdout); // before any error on stderr
#ifdef SMEPILOT_RUN_WITH_JIT
  engine::host_target_inputs inputs = engine::detect_host_target_inputs("", "");
  inputs.cores = threads;
  rt::result<engine::host_target> target = engine::select_host_target(inputs);
  if (!target)
    return target.take_error();
  char date[16];
  const std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof date, "%Y-%m-%d", std::gmtime(&now));
  rt::result<std::string> path = engine::write_calibrated_profile(
      c, *target, threads, date, engine::default_cache_dir());
  if (!path)
    return rt::status::error("--calibrate: " + path.error().message());
  std::printf("smepilot-run --calibrate: wrote %s; jit runs on this CPU "
              "with %d usable CPU%s use it (-v names the profile)\n",
              path->c_str(), threads, threads > 1 ? "s" : "");
  return rt::status::ok();
#else
  if (cpu.emulated)
    return rt::status::error(
        "--calibrate: not written: this process runs under an emulator");
  return rt::status::error(
      "--calibrate: writing the profile needs the compiler, which this build "
      "does not have");
#endif
}

rt::status emit_object(const rt::gguf_file &file,
                       const rt::engine_options &options,
                       const emit_object_options &aot) {
#ifdef SMEPILOT_RUN_WITH_JIT
  engine::aot_object_options o;
  o.target = aot.target;
  o.object_path = aot.object_path;
  o.profile = aot.profile;
  o.sme_all = aot.sme_all;
  o.sme_type = aot.sme_type;
  o.force_share = aot.force_share;
  o.pipeline_attention = aot.pipeline_attention;
  o.dump_mlir_dir = aot.dump_mlir_dir;
  o.verbose = aot.verbose;
  o.explain = aot.explain;
  return engine::emit_aot_object(file, options, o);
#else
  (void)file;
  (void)options;
  (void)aot;
  return rt::status::error(
      "--emit-object needs the compiler, which this build does not "
      "have");
#endif
}

rt::result<std::string>
render_explain(const std::string &document, const std::string &format,
               const std::vector<rt::engine::phase_profile> &measured) {
#ifdef SMEPILOT_RUN_WITH_JIT
  return engine::render_explain(document,
                                format == "json" ? engine::explain_format::json
                                                 : engine::explain_format::text,
                                measured);
#else
  (void)document;
  (void)format;
  (void)measured;
  return rt::status::error(
      "--explain needs the compiler build (it reads the model's explanation "
      "with LLVM's JSON parser)");
#endif
}

} // namespace smepilot::run
