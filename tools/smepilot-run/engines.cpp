// smepilot-run: engine selection. The JIT engine (lib/Engine) is linked in
// when the compiler is built (SMEPILOT_RUN_WITH_JIT; not in the runtime-only
// aarch64 build).
// The aot engine runs a model compiled ahead of time (smepilot-run
// --emit-object) and linked into the program: the object defines
// `smepilot_compiled_model` (abi.h), which this file references weakly, so
// the same CLI objects link with or without one.
#include "engines.h"

#include "smepilot_rt/compiled_engine.h"
#include "smepilot_rt/cpu_features.h"
#include "smepilot_rt/reference_executor.h"

#include <cstring>

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

rt::result<std::unique_ptr<rt::engine>>
create_engine(const std::string &name, const rt::gguf_file &file,
              const rt::engine_options &options,
              const std::string &dump_mlir_dir, bool verbose,
              const compile_stage_callback &on_stage, bool use_cache,
              bool f32_weights, std::string *explain) {
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
  return rt::load_reference_engine(file, options);
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
