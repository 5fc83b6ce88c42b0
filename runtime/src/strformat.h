// SMEPilot runtime (internal): printf-style formatting into std::string, for
// error messages.
#pragma once

#include <string>

namespace smepilot::rt {
/// Formats like printf; the result has any length.
std::string strformat(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
} // namespace smepilot::rt
