#include "smepilot_rt/version.h"

namespace smepilot::rt {
const char *version_string() { return "0.1.0"; }
} // namespace smepilot::rt
