#include "strformat.h"

#include <cstdarg>
#include <cstdio>

namespace smepilot::rt {

std::string strformat(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char small[256];
  int n = std::vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0)
    return fmt;
  if (size_t(n) < sizeof small)
    return std::string(small, size_t(n));
  std::string out(size_t(n), '\0');
  va_start(ap, fmt);
  std::vsnprintf(out.data(), out.size() + 1, fmt, ap);
  va_end(ap);
  return out;
}

} // namespace smepilot::rt
