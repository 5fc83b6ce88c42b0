// SMEPilot runtime: version information.
#pragma once

namespace smepilot::rt {
/// The project version, "MAJOR.MINOR.PATCH".
const char *version_string();
} // namespace smepilot::rt
