// smepilot-run: engine selection. The JIT engine is built in when the
// compiler is (SMEPILOT_RUN_WITH_JIT; not in the runtime-only aarch64 build).
#include "engines.h"

#include "smepilot_rt/reference_executor.h"

#ifdef SMEPILOT_RUN_WITH_JIT
#include "jit_engine.h"
#endif

namespace smepilot::run {

rt::status check_engine(const std::string &name) {
  if (name == "reference")
    return rt::status::ok();
  if (name == "jit") {
#ifdef SMEPILOT_RUN_WITH_JIT
    return rt::status::ok();
#else
    return rt::status::error("engine 'jit' is not available in this build (it needs the "
                             "compiler; use --engine reference)");
#endif
  }
  return rt::status::error("unknown engine '" + name + "' (expected reference or jit)");
}

rt::result<std::unique_ptr<rt::engine>> create_engine(const std::string &name,
                                                      const rt::gguf_file &file,
                                                      const rt::engine_options &options,
                                                      const std::string &dump_mlir_dir,
                                                      bool verbose) {
  SMEPILOT_RT_RETURN_IF_ERROR(check_engine(name));
#ifdef SMEPILOT_RUN_WITH_JIT
  if (name == "jit")
    return load_jit_engine(file, options, {dump_mlir_dir, verbose});
#endif
  (void)dump_mlir_dir;
  (void)verbose;
  return rt::load_reference_engine(file, options);
}

} // namespace smepilot::run
