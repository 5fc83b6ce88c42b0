// SMEPilot runtime: where the tools find a model when none is given (-m).
#pragma once

#include "smepilot_rt/status.h"

#include <string>

namespace smepilot::rt {

/// $SMEPILOT_MODEL, else stories260K.gguf in share/smepilot/models beside the
/// running executable's bin/ directory (where `cmake --install` puts it; the
/// build tree mirrors that layout with a link to the test model), else an
/// error saying to pass -m. Never a path of the machine that built the
/// binary.
result<std::string> default_model_path();

} // namespace smepilot::rt
