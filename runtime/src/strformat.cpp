#include "strformat.h"

#include <algorithm>
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

std::string quoted(std::string_view s) {
  std::string out = "'";
  size_t n = std::min<size_t>(s.size(), 120);
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'')
      out += char(c);
    else
      out += strformat("\\x%02x", c);
  }
  if (n < s.size())
    out += strformat("...' (%zu bytes)", s.size());
  else
    out += "'";
  return out;
}

} // namespace smepilot::rt
