// SMEPilot runtime (internal): printf-style formatting into std::string, for
// error messages.
#pragma once

#include <string>
#include <string_view>

namespace smepilot::rt {
/// Formats like printf; the result has any length.
std::string strformat(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/// A key, tensor or other name from a file, for messages: in single quotes,
/// printable ASCII kept, every other byte (a NUL, an escape sequence) as
/// \xNN, names over 120 bytes shortened.
std::string quoted(std::string_view s);
} // namespace smepilot::rt
