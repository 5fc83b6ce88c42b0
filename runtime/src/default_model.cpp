// SMEPilot runtime: the default model's location. See default_model.h.
#include "smepilot_rt/default_model.h"

#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace smepilot::rt {

result<std::string> default_model_path() {
  if (const char *env = std::getenv("SMEPILOT_MODEL"); env && *env)
    return std::string(env);
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec || exe.empty())
    return status::error("no model: pass -m FILE or set SMEPILOT_MODEL (the location of this "
                         "executable, where the default model is looked for, is unknown)");
  const std::filesystem::path model =
      exe.parent_path().parent_path() / "share/smepilot/models/stories260K.gguf";
  if (!std::filesystem::exists(model, ec))
    return status::error("no model: pass -m FILE or set SMEPILOT_MODEL (the default model " +
                         model.string() + " does not exist)");
  return model.string();
}

} // namespace smepilot::rt
