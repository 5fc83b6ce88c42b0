// SMEPilot runtime: internals shared by tokenizer.cpp (common parts),
// tokenizer_spm.cpp and tokenizer_bpe.cpp. Not installed.
#pragma once

#include "smepilot_rt/tokenizer.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace smepilot::rt::detail {

// ---- UTF-8 ------------------------------------------------------------------

/// Length of the well-formed UTF-8 sequence starting at s[pos] (1..4), or 0
/// if the bytes there are not one (stray continuation byte, overlong form,
/// surrogate, > U+10FFFF, or truncated).
size_t utf8_sequence_length(std::string_view s, size_t pos);

/// Appends the UTF-8 encoding of code point `cp` (< 0x110000) to `out`.
void append_utf8(std::string &out, uint32_t cp);

/// Decodes the well-formed sequence of `len` bytes at s[pos].
uint32_t decode_utf8(std::string_view s, size_t pos, size_t len);

// ---- vocabulary lookups -------------------------------------------------------

struct string_hash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using token_index = std::unordered_map<std::string, int32_t, string_hash, std::equal_to<>>;

class bpe_model; // tokenizer_bpe.cpp
void destroy_bpe_model(bpe_model *m);
struct bpe_model_deleter {
  void operator()(bpe_model *m) const { destroy_bpe_model(m); }
};
using bpe_model_ptr = std::unique_ptr<bpe_model, bpe_model_deleter>;

/// Creates the BPE state (merge table, compiled pre-tokenizer) for `s`.
/// Also sets s.pre to the canonical pre-tokenizer name and s.ignore_merges.
result<bpe_model_ptr> make_bpe_model(tokenizer::state &s, const std::vector<std::string> &merges);

/// Appends the tokens of one text fragment (no special tokens in it).
void spm_encode(const tokenizer::state &s, std::string_view text, std::vector<int32_t> &out);
void bpe_encode(const tokenizer::state &s, std::string_view text, std::vector<int32_t> &out);

/// Byte-level BPE token text -> bytes (GPT-2 bytes_to_unicode inverse).
/// Characters outside the table are copied unchanged.
std::string bpe_decode_text(std::string_view text);

} // namespace smepilot::rt::detail

namespace smepilot::rt {

struct tokenizer::state {
  std::string name;
  tokenizer_model model = tokenizer_model::spm;
  std::string pre;
  bool ignore_merges = false;
  std::vector<std::string> text;
  std::vector<float> score;
  std::vector<token_type> type;
  detail::token_index index;
  int32_t bos = -1, eos = -1, unk = -1, eot = -1, eom = -1;
  bool add_bos = false, add_eos = false, add_space_prefix = false;
  /// Control, unknown and user-defined tokens, longest text first.
  std::vector<int32_t> specials;
  std::vector<int32_t> eog;     // ascending
  std::vector<uint8_t> eog_set; // per id
  /// SPM byte fallback: the token of each byte ("<0xNN>", else the byte
  /// itself as a token, else unknown, else -1).
  std::vector<int32_t> byte_token;
  detail::bpe_model_ptr bpe;

  int32_t find(std::string_view t) const {
    auto it = index.find(t);
    return it == index.end() ? -1 : it->second;
  }
};

} // namespace smepilot::rt
