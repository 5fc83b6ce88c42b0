// smepilot-run: engine selection. The JIT engine joins here (behind
// SMEPILOT_RUN_WITH_JIT) once the compiler provides it.
#include "engines.h"

#include "smepilot_rt/reference_executor.h"

namespace smepilot::run {

rt::status check_engine(const std::string &name) {
  if (name == "reference")
    return rt::status::ok();
  if (name == "jit")
    return rt::status::error("engine 'jit' is not available in this build (it needs the "
                             "compiler; use --engine reference)");
  return rt::status::error("unknown engine '" + name + "' (expected reference or jit)");
}

rt::result<std::unique_ptr<rt::engine>> create_engine(const std::string &name,
                                                      const rt::gguf_file &file,
                                                      const rt::engine_options &options) {
  SMEPILOT_RT_RETURN_IF_ERROR(check_engine(name));
  return rt::load_reference_engine(file, options);
}

} // namespace smepilot::run
