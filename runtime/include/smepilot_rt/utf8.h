// SMEPilot runtime: UTF-8 well-formedness, as the tokenizers see it. Also
// used by tools that print token text and must not cut a character in two.
#pragma once

#include <cstddef>
#include <string_view>

namespace smepilot::rt {

/// Length of the well-formed UTF-8 sequence starting at s[pos] (1..4), or 0
/// if the bytes there are not one (stray continuation byte, overlong form,
/// surrogate, > U+10FFFF, or truncated) or pos is at or past the end.
size_t utf8_sequence_length(std::string_view s, size_t pos);

} // namespace smepilot::rt
