// SMEPilot runtime: internals shared by tokenizer.cpp (common parts),
// tokenizer_spm.cpp and tokenizer_bpe.cpp. Not installed.
#pragma once

#include "smepilot_rt/tokenizer.h"
#include "smepilot_rt/utf8.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace smepilot::rt::detail {

// ---- UTF-8 ------------------------------------------------------------------

// utf8_sequence_length: smepilot_rt/utf8.h.

/// Appends the UTF-8 encoding of code point `cp` (< 0x110000) to `out`.
void append_utf8(std::string &out, uint32_t cp);

/// Decodes the well-formed sequence of `len` bytes at s[pos].
uint32_t decode_utf8(std::string_view s, size_t pos, size_t len);

// ---- greedy pair merging -------------------------------------------------------

/// The merge loop of the SPM and BPE encoders. `sym` is a doubly linked list
/// of symbols over its indices (members `prev` and `next`, -1 at the ends)
/// that starts as the sequence 0..n-1. `find_pair(left, right)` returns the
/// candidate merge of two adjacent symbols, a `Pair` with members `left` and
/// `right`, or nothing; `Order` puts the pair to merge first on top of a
/// priority queue. `merge(pair)` merges the pair's right symbol into its left
/// one and returns true, or returns false when the pair is stale (a side has
/// changed since it was queued). After a merge the right symbol is unlinked and
/// the new symbol's pairs with its neighbours are queued, until no pair is left.
template <class Pair, class Order, class Symbol, class FindPair, class Merge>
void merge_pairs(std::vector<Symbol> &sym, FindPair find_pair, Merge merge) {
  std::priority_queue<Pair, std::vector<Pair>, Order> queue;
  auto try_add = [&](int64_t left, int64_t right) {
    if (left < 0 || right < 0)
      return;
    if (std::optional<Pair> p = find_pair(left, right))
      queue.push(*p);
  };
  for (int64_t i = 1; i < static_cast<int64_t>(sym.size()); ++i)
    try_add(i - 1, i);

  while (!queue.empty()) {
    const Pair p = queue.top();
    queue.pop();
    if (!merge(p))
      continue;
    Symbol &l = sym[p.left];
    const int64_t next = sym[p.right].next;
    l.next = next;
    if (next >= 0)
      sym[next].prev = p.left;
    try_add(l.prev, p.left);
    try_add(p.left, next);
  }
}

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
