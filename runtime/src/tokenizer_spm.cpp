// SMEPilot runtime: the SentencePiece-style tokenizer (tokenizer.ggml.model =
// "llama").
//
// The text arrives with its spaces already replaced by U+2581 and the space
// prefix added (tokenizer.cpp). It is split into UTF-8 characters, and then
// adjacent symbols are merged greedily: of all adjacent pairs whose
// concatenation is a vocabulary token, the one whose token has the highest
// score is merged first (ties: the leftmost pair), until no pair forms a
// token. This is the BPE-with-scores algorithm of SentencePiece's BPE models
// and of llama.cpp's SPM tokenizer, and reproduces their ids exactly.
//
// Symbols that are not tokens (characters missing from the vocabulary) fall
// back to one token per byte: "<0xNN>", else the byte itself if it is a
// token, else the unknown token. A byte that is not part of a well-formed
// UTF-8 sequence is a symbol of its own, so invalid input is encoded byte by
// byte and never fails.
#include "tokenizer_internal.h"

namespace smepilot::rt::detail {
namespace {

// 64-bit indices and offsets: no text is too long to encode.
struct symbol {
  int64_t prev;
  int64_t next;
  size_t off; ///< Byte offset in the text.
  size_t n;   ///< Byte length; 0 once merged into its left neighbour.
};

struct bigram {
  int64_t left;
  int64_t right;
  float score;
  size_t size;
};

// Highest score on top; among equal scores the leftmost pair.
struct bigram_order {
  bool operator()(const bigram &a, const bigram &b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

} // namespace

void spm_encode(const tokenizer::state &s, std::string_view text, std::vector<int32_t> &out) {
  std::vector<symbol> sym;
  sym.reserve(text.size());
  for (size_t off = 0; off < text.size();) {
    size_t len = utf8_sequence_length(text, off);
    if (len == 0)
      len = 1;
    const auto idx = static_cast<int64_t>(sym.size());
    sym.push_back({idx - 1, off + len < text.size() ? idx + 1 : -1, off, len});
    off += len;
  }
  if (sym.empty())
    return;

  merge_pairs<bigram, bigram_order>(
      sym,
      [&](int64_t left, int64_t right) -> std::optional<bigram> {
        const size_t size = sym[left].n + sym[right].n;
        const int32_t id = s.find(text.substr(sym[left].off, size));
        if (id < 0)
          return std::nullopt;
        return bigram{left, right, s.score[id], size};
      },
      [&](const bigram &b) {
        symbol &l = sym[b.left];
        symbol &r = sym[b.right];
        // Stale: one side has been merged since the pair was queued.
        if (l.n == 0 || r.n == 0 || l.n + r.n != b.size)
          return false;
        l.n += r.n;
        r.n = 0;
        return true;
      });

  for (int64_t i = 0; i != -1; i = sym[i].next) {
    const std::string_view piece = text.substr(sym[i].off, sym[i].n);
    const int32_t id = s.find(piece);
    if (id >= 0) {
      out.push_back(id);
      continue;
    }
    for (char c : piece) {
      const int32_t bt = s.byte_token[static_cast<unsigned char>(c)];
      if (bt >= 0)
        out.push_back(bt);
    }
  }
}

} // namespace smepilot::rt::detail
